"""The pipeline spec's stage blocks are typed by the stages' own specs: schema, validation, round trip."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from devicephys import cli, pipeline, stages
from devicephys.errors import SpecError

STAGES = ["filament", "emission", "compact", "array"]


def _schema() -> dict:
    return pipeline.PipelineSpec.model_json_schema()


def _block(schema: dict, stage: str) -> dict:
    ref = schema["properties"][stage]["$ref"].rsplit("/", 1)[-1]
    return schema["$defs"][ref]


@pytest.mark.parametrize("stage", STAGES)
def test_schema_describes_every_field_of_the_stage(stage):
    block = _block(_schema(), stage)
    stage_schema = stages.get(stage).spec_class().model_json_schema()
    assert set(block["properties"]) == set(stage_schema["properties"])
    assert block["additionalProperties"] is False
    for name, prop in stage_schema["properties"].items():
        assert block["properties"][name]["description"] == prop["description"]
        assert block["properties"][name].get("unit") == prop.get("unit"), name


def test_schema_keeps_the_stage_limits_and_choices():
    schema = _schema()
    thickness = _block(schema, "filament")["properties"]["insulator_thickness"]
    assert {"type": "number", "exclusiveMinimum": 0} in thickness["anyOf"]
    membrane = _block(schema, "array")["properties"]["membrane"]
    assert any(set(alt.get("enum", [])) == {"card", "relaxation"} for alt in membrane["anyOf"])


def test_cli_schema_pipeline_describes_the_blocks(capsys):
    assert cli.main(["schema", "pipeline"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "insulator_thickness" in _block(schema, "filament")["properties"]
    assert "fdtd_gaps" in _block(schema, "emission")["properties"]


@pytest.mark.parametrize("stage, field, value, words", [
    ("filament", "insulator_thicknes", 1e-8, ["PipelineSpec.filament.insulator_thicknes", "unknown field",
                                              "insulator_thickness"]),
    ("filament", "insulator_thickness", -2e-9, ["PipelineSpec.filament.insulator_thickness", "> 0", "-2e-09",
                                               "give a value"]),
    ("filament", "insulator_thickness", "3 K", ["PipelineSpec.filament.insulator_thickness", "'3 K'", "nm"]),
    ("filament", "insulator_thickness", True, ["PipelineSpec.filament.insulator_thickness", "True", "give a number"]),
    ("emission", "fdtd_gaps", ["5 nm", "x"], ["PipelineSpec.emission.fdtd_gaps", "'x'", "1.5 nm"]),
    ("array", "membrane", "nope", ["PipelineSpec.array.membrane", "'nope'", "'card' or 'relaxation'"]),
    ("compact", "measured", {"sweep": "no-such-file.csv"}, ["PipelineSpec.compact.measured.sweep",
                                                            "no-such-file.csv", "give the path"]),
])
def test_bad_override_is_one_line_naming_stage_field_value_and_fix(stage, field, value, words):
    with pytest.raises(SpecError) as info:
        pipeline.PipelineSpec.from_dict({stage: {field: value}})
    msg = str(info.value)
    assert "\n" not in msg
    for word in words:
        assert word in msg, msg


def test_block_that_is_not_a_mapping():
    with pytest.raises(SpecError, match=r"PipelineSpec\.filament = 5: expected a mapping"):
        pipeline.PipelineSpec.from_dict({"filament": 5})


def test_cli_validate_refuses_a_bad_block_with_exit_2(tmp_path, capsys):
    path = tmp_path / "pipe.yaml"
    path.write_text("filament:\n  insulator_thickness: -3 nm\n")
    assert cli.main(["validate", str(path)]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "PipelineSpec.filament.insulator_thickness" in err


def test_blocks_hold_only_what_was_set_in_si_and_round_trip():
    spec = pipeline.PipelineSpec(filament={"insulator_thickness": "12 nm"}, array={"membrane": "card"},
                                 emission={"fdtd_gaps": "12 nm"})  # a scalar gap, as EmissionSpec accepts it
    data = spec.to_dict()
    assert data["filament"] == {"insulator_thickness": pytest.approx(12e-9)}
    assert data["array"] == {"membrane": "card"} and data["compact"] == {}
    assert pipeline.PipelineSpec.from_dict(data) == spec
    assert spec.stage_spec("filament").insulator_thickness == pytest.approx(12e-9)
    assert spec.stage_spec("emission").fdtd_gaps == pytest.approx((12e-9,))
    assert spec.stage_spec("array").membrane == "card"
    unset = pipeline.PipelineSpec().stage_spec("filament")
    assert unset == stages.get("filament").spec_class().fast()


def test_rules_across_fields_are_checked_on_the_stage_spec():
    # each value is valid alone; the gap is too narrow for the fast preset's FDTD grid
    with pytest.raises(SpecError, match=r"PipelineSpec\.emission: EmissionSpec\.fdtd_gaps"):
        pipeline.PipelineSpec(emission={"fdtd_gaps": ["5 nm"]})


def test_importing_the_pipeline_does_not_build_the_blocks():
    # the blocks' models are built on first use of the pipeline spec, so the array package (numba, xarray)
    # and the others are not loaded by commands that only need the pipeline's lock or cache
    code = ("import sys, devicephys.pipeline; "
            "print(sorted(m for m in sys.modules if m.split('.')[:2] in (['devicephys', 'array'], "
            "['devicephys', 'compact'], ['devicephys', 'filament'])))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
