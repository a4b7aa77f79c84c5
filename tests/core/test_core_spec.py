"""Spec base: units, validation messages, JSON/YAML round trips (property-based).

Subnormal floats are excluded from the strategies: MEEP and PETSc are built with
flush-to-zero, which hypothesis detects once they are loaded in the process.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devicephys import stages
from devicephys.errors import SpecError
from devicephys.spec import Spec, option, quantity


class CellSpec(Spec):
    kind = "cell"
    thickness: float = quantity(5e-9, "m", "insulator thickness", gt=0)
    temperature: float = quantity(300.0, "K", "ambient temperature", gt=0)
    bias: float = quantity(1.0, "V", "applied bias")
    cells: int = option(3, "number of cells", ge=1)
    name: str = option("Ag/PMMA/Ag", "label")


def test_defaults_and_units():
    spec = CellSpec()
    assert spec.thickness == 5e-9
    assert spec.units() == {"thickness": "m", "temperature": "K", "bias": "V"}


@pytest.mark.parametrize("text, value", [("1.5 nm", 1.5e-9), ("300 K", 300.0), ("2 V", 2.0),
                                         ("250 mV", 0.25), ("1.5e-9 m", 1.5e-9), ("20 µm", 2e-5)])
def test_strings_with_units_become_si(text, value):
    field = {"nm": "thickness", "K": "temperature", "V": "bias", "mV": "bias", "m": "thickness", "µm": "thickness"}
    name = field[text.split()[-1]]
    assert getattr(CellSpec(**{name: text}), name) == pytest.approx(value)


def test_frozen():
    spec = CellSpec()
    with pytest.raises(Exception):
        spec.thickness = 1.0  # type: ignore[misc]


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.floats(max_value=0.0, allow_subnormal=False), st.just(math.nan), st.just(math.inf), st.just(-math.inf)))
def test_nonpositive_or_nonfinite_thickness_names_field(bad):
    with pytest.raises(SpecError) as info:
        CellSpec(thickness=bad)
    msg = str(info.value)
    assert "CellSpec.thickness" in msg and "\n" not in msg


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["1 K", "2 V", "3 s", "4 kg", "5 nm/s", "abc", "1.5 parsec/s", "1.5 bogounit"]))
def test_wrong_units_name_field(text):
    with pytest.raises(SpecError) as info:
        CellSpec(thickness=text)
    assert "CellSpec.thickness" in str(info.value)


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).filter(
    lambda s: s not in CellSpec.model_fields))
def test_unknown_field_names_field(name):
    with pytest.raises(SpecError) as info:
        CellSpec(**{name: 1.0})
    assert name in str(info.value) and "unknown field" in str(info.value)


@settings(max_examples=30, deadline=None)
@given(st.one_of(st.lists(st.floats(allow_subnormal=False)), st.dictionaries(st.text(), st.integers()), st.none(), st.booleans()))
def test_wrong_types_name_field(bad):
    with pytest.raises(SpecError) as info:
        CellSpec(temperature=bad)
    assert "CellSpec.temperature" in str(info.value)


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=1e-12, max_value=1e-3, allow_subnormal=False), st.floats(min_value=1.0, max_value=2000.0, allow_subnormal=False),
       st.floats(min_value=-100, max_value=100, allow_subnormal=False), st.integers(min_value=1, max_value=10**6))
def test_json_and_yaml_round_trip(thickness, temperature, bias, cells):
    spec = CellSpec(thickness=thickness, temperature=temperature, bias=bias, cells=cells)
    assert CellSpec.from_json(spec.to_json()) == spec
    assert CellSpec.from_yaml(spec.to_yaml()) == spec


def test_file_round_trip(tmp_path):
    spec = CellSpec(thickness="2 nm")
    for suffix in (".yaml", ".json"):
        path = spec.save(tmp_path / f"cell{suffix}")
        assert CellSpec.from_file(path) == spec


def test_missing_file_is_spec_error(tmp_path):
    with pytest.raises(SpecError, match="does not exist"):
        CellSpec.from_file(tmp_path / "nope.yaml")


def _positive_quantity_fields(cls):
    for name, info in cls.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if "unit" in extra and any(type(m).__name__ in ("Gt", "Ge") and getattr(m, "gt", getattr(m, "ge", None)) == 0
                                   for m in info.metadata):
            yield name


@pytest.mark.parametrize("stage", stages.names())
def test_real_stage_specs_reject_bad_values(stage):
    entry = stages.get(stage)
    if not entry.available():
        pytest.skip(f"stage {stage} not installed")
    cls = entry.spec_class()
    cls()  # the default device validates
    cls.fast()
    fields = list(_positive_quantity_fields(cls))
    assert fields, f"{cls.__name__} declares no positive quantity fields"
    for name in fields:
        for bad in (-1.0, math.nan, math.inf):
            with pytest.raises(SpecError) as info:
                cls(**{name: bad})
            assert name in str(info.value)
    with pytest.raises(SpecError, match="unknown field"):
        cls(not_a_field=1)
    assert cls.from_json(cls().to_json()) == cls()
