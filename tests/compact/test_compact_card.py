"""DeviceCard: exact JSON round trip and clear refusals of bad cards."""

from __future__ import annotations

import json

import pytest

from devicephys.compact.card import PARAMETERS, DeviceCard
from devicephys.errors import SpecError

ARRAY_NEEDS = ["threshold_voltage", "hold_voltage", "resistance_on", "resistance_off", "thermal_resistance",
               "thermal_capacitance", "relaxation_time", "set_time_tau0", "set_time_v0", "photons_per_electron",
               "photons_per_spike", "peak_wavelength", "spectral_width", "neuron_capacitance",
               "series_resistance", "spike_charge"]


def test_card_has_the_parameters_the_array_needs(card):
    assert set(ARRAY_NEEDS) <= set(card.parameters)
    for name, entry in card.parameters.items():
        assert entry["unit"] == PARAMETERS[name][0] and entry["description"] and entry["source"], name


def test_round_trip_is_exact(card, tmp_path):
    path = card.save(tmp_path / "device_card.json")
    back = DeviceCard.load(path)
    assert back.values() == card.values()
    assert back.to_dict() == json.loads(card.to_json())


def _mutated(card, **changes):
    data = json.loads(card.to_json())
    for name, value in changes.items():
        if value is None:
            del data["parameters"][name]
        else:
            data["parameters"][name]["value"] = value
    return data


def test_missing_parameter_is_named(card):
    with pytest.raises(SpecError, match="spike_charge"):
        DeviceCard.from_dict(_mutated(card, spike_charge=None))


@pytest.mark.parametrize("name,value,rule", [("resistance_on", -5.0, "> 0"), ("relaxation_time", float("nan"), "finite"),
                                             ("hold_voltage", 10.0, "hold_voltage"), ("gap_min", 1.0, "gap_min")])
def test_non_physical_values_are_refused(card, name, value, rule):
    data = _mutated(card, **{name: value})
    with pytest.raises(SpecError, match=rule):
        DeviceCard.from_dict(data)


def test_wrong_unit_and_wrong_format_are_refused(card, tmp_path):
    data = json.loads(card.to_json())
    data["parameters"]["gap_min"]["unit"] = "nm"
    with pytest.raises(SpecError, match="SI"):
        DeviceCard.from_dict(data)
    with pytest.raises(SpecError, match="not a DeviceCard"):
        DeviceCard.from_dict({"parameters": {}})
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SpecError, match="not valid JSON"):
        DeviceCard.load(bad)
    with pytest.raises(SpecError, match="does not exist"):
        DeviceCard.load(tmp_path / "none.json")


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(scale=st.floats(min_value=1e-3, max_value=1e3, allow_nan=False), name=st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,12}", fullmatch=True))
def test_round_trip_is_exact_for_any_rescaled_card(card, tmp_path_factory, scale, name):
    values = card.values()
    values["spike_charge"] *= scale
    values["neuron_capacitance"] *= scale
    new = DeviceCard.from_values(name, values, {k: "test" for k in values})
    path = new.save(tmp_path_factory.mktemp("rt") / "c.json")
    assert DeviceCard.load(path).values() == values
