"""The measured card in a pipeline: spec, cache key from the files' contents, report beside the FEM card."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from devicephys import pipeline, report

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "measured"


def test_pipeline_spec_carries_the_measurements_and_their_contents_key_the_cache(tmp_path):
    sweep = tmp_path / "sweep.csv"
    shutil.copy(EXAMPLES / "sweep.csv", sweep)
    spec = pipeline.PipelineSpec.from_dict({"compact": {"measured": {"sweep": str(sweep)}}})
    compact = spec.stage_spec("compact")
    assert compact.measured.sweep == str(sweep) and compact.input_files() == [str(sweep)]
    key = pipeline._key(compact, [], "compact")
    lines = sweep.read_text().splitlines()
    lines[-1] = lines[-1].replace(",0", ",1e-3", 1)  # same path, one value edited
    sweep.write_text("\n".join(lines) + "\n")
    assert pipeline._key(compact, [], "compact") != key


def _card(params: dict, provenance: dict) -> dict:
    base = json.loads((ROOT / "examples/measured/device_card.json").read_text())
    for k, v in params.items():
        base["parameters"][k]["value"] = v
    base["provenance"] = provenance
    return base


def test_report_puts_measured_and_fem_cards_side_by_side(tmp_path):
    folder = tmp_path / "compact"
    folder.mkdir()
    fem = _card({}, {"filament_result": {}})
    measured = _card({"resistance_on": 2 * fem["parameters"]["resistance_on"]["value"]},
                     {"measurements": ["sweep.csv"], "base_card": "fem"})
    (folder / "device_card.json").write_text(json.dumps(measured))
    (folder / "base_device_card.json").write_text(json.dumps(fem))
    html = report._measured_vs_fem(folder / "device_card.json", folder / "base_device_card.json")
    assert "Measured card versus the first-principles" in html and "sweep.csv" in html
    assert "<td>resistance_on</td>" in html and "-50.0 %" in html  # FEM R_on half the measured one
    # beside the median's σ, whether the FEM card's R_on lies within the measured ON state's own spread
    r_fem = fem["parameters"]["resistance_on"]["value"]
    for (q1, q3), said in (((0.4 * r_fem, 4 * r_fem), "inside"), ((1.5 * r_fem, 4 * r_fem), "outside")):
        measured["fit_quality"] = {"measured": {"resistance_on_lower_quartile": q1, "resistance_on_upper_quartile": q3}}
        (folder / "device_card.json").write_text(json.dumps(measured))
        html = report._measured_vs_fem(folder / "device_card.json", folder / "base_device_card.json")
        assert f"{said} the measured ON samples' quartiles" in html
    (folder / "base_device_card.json").write_text(json.dumps(_card({}, {"origin": "built-in illustrative card"})))
    assert report._measured_vs_fem(folder / "device_card.json", folder / "base_device_card.json") == ""


def test_pipeline_spec_takes_the_compliance_with_units_and_refuses_it_without_the_series_resistance():
    import pytest

    from devicephys.errors import SpecError

    folder = ROOT / "examples" / "measured_volatile"
    spec = pipeline.PipelineSpec.from_dict({"compact": {"measured": {
        "sweep": str(folder / "sweep.csv"), "pulses": str(folder / "pulses.csv"),
        "compliance_current": "10 uA", "series_resistance": "100 Ohm"}}})
    m = spec.stage_spec("compact").measured
    assert m.compliance_current == pytest.approx(1e-5, rel=1e-12) and m.series_resistance == 100.0
    with pytest.raises(SpecError, match="series_resistance"):
        pipeline.PipelineSpec.from_dict({"compact": {"measured": {"sweep": str(folder / "sweep.csv"),
                                                                  "compliance_current": "10 uA"}}})


def test_report_compares_the_return_rates_where_both_cards_carry_one(tmp_path):
    folder = tmp_path / "compact"
    folder.mkdir()

    def two_state(k_f: float, provenance: dict) -> dict:
        card = _card({}, provenance)
        for name, value in (("dissolution_rate", 1.84e4), ("return_rate", k_f)):
            card["parameters"][name] = {"value": value, "unit": "1/s", "description": name, "source": "test"}
        return card

    (folder / "device_card.json").write_text(json.dumps(two_state(5e4, {"measurements": ["sweep.csv"]})))
    (folder / "base_device_card.json").write_text(json.dumps(two_state(1e5, {"filament_result": {}})))
    html = report._measured_vs_fem(folder / "device_card.json", folder / "base_device_card.json")
    assert "<td>return_rate</td>" in html and "+100.0 %" in html  # the FEM's return twice the measured one
    # a FEM card without the return (dissolved_return false: k_f = 0) has nothing to compare
    (folder / "base_device_card.json").write_text(json.dumps(two_state(0.0, {"filament_result": {}})))
    html = report._measured_vs_fem(folder / "device_card.json", folder / "base_device_card.json")
    assert "<td>return_rate</td>" not in html and "<td>dissolution_rate</td>" in html


def test_report_shows_the_measured_drive_replayed_on_the_card(tmp_path):
    card = _card({}, {"measurements": ["sweep.csv"]})
    card["fit_quality"] = {"replay": {
        "series_resistance": 100.0, "compliance_current": 1e-5, "cell_capacitance": 9.39e-17,
        "measured": {"threshold_voltage": 1.379, "hold_voltage": 0.1445},
        "numpy": {"threshold_voltage": 1.3563, "hold_voltage": 0.14426, "threshold_voltage_relative": -0.0164,
                  "hold_voltage_relative": -0.0014},
        "ngspice": {"threshold_voltage": 1.3563, "hold_voltage": None, "threshold_voltage_relative": -0.0164,
                    "hold_voltage_relative": None, "hold_note": "the model does not switch off",
                    "maximum_step": 1e-9, "stopped_at": ["ngspice stopped at t = 4.5e-05 s"]}}}
    path = tmp_path / "device_card.json"
    path.write_text(json.dumps(card))
    html = report._measured_replay(path)
    assert "The measured drive replayed on the card" in html and "compliance 1e-05 A" in html
    assert "1.356 V (-1.6 %)" in html and "0.1443 V (-0.1 %)" in html
    assert "the model does not switch off" in html  # no hold: the note instead
    assert "maximum step 1e-09 s, after stopping at 1 larger one(s); 9.39e-17 F across the cell" in html
    card["fit_quality"]["replay"]["ngspice"] = {"error": "ngspice stopped at t = 4.5e-05 s"}
    card["fit_quality"]["replay"]["cell_capacitance"] = 0.0
    path.write_text(json.dumps(card))
    assert "<td colspan=3>ngspice stopped at t = 4.5e-05 s</td>" in report._measured_replay(path)
    card["fit_quality"] = {"replay": {"skipped": "the sweep has no source_voltage column"}}
    path.write_text(json.dumps(card))
    assert report._measured_replay(path) == ""
