"""The measured card's photons and spectrum belong to its own operating point, not the base card's.

The measured threshold moves the operating point (the emitting gap biased at V_th) away from the base
card's.  With the emission result the base card was fitted to, the yield and spectrum are recomputed from
its spectra physics at the fitted threshold; with a card alone, the yield comes from the card's emission
law inside its range, and a threshold outside that range is refused.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from devicephys.compact import emission_point, measured, measured_fit, measured_stage, model
from devicephys.compact.card import DeviceCard
from devicephys.compact.spec import CompactSpec
from devicephys.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples/measured"


@pytest.fixture(scope="module")
def data():
    return measured.read_sweep(EXAMPLE / "sweep.csv"), measured.read_pulses(EXAMPLE / "pulses.csv")


def test_example_folder_lends_the_emission_result_its_card_was_fitted_to(tmp_path):
    card, said, emission = measured_stage.base_card(CompactSpec(verify=False), {
        n: EXAMPLE for n in ("filament", "emission", "compact")}, tmp_path)
    assert emission is not None and "synthetic" in emission.attrs
    # a copy of the folder whose emission result is another one: the card's own is not there, so none is lent
    other = tmp_path / "other"
    shutil.copytree(EXAMPLE, other)
    em = emission.copy(deep=True)
    em["quantum_efficiency"] = em["quantum_efficiency"] * 2
    (other / "emission.nc").unlink()
    em.to_netcdf(other / "emission.nc", engine="h5netcdf")
    assert measured_stage.base_card(CompactSpec(verify=False), {n: other for n in ("filament", "emission", "compact")},
                                    tmp_path)[2] is None


@pytest.fixture(scope="module")
def fitted(data, tmp_path_factory):
    """The base card of the example folder, its emission result, and the card fitted on it (one fit)."""
    sweep, pulses = data
    base, _, emission = measured_stage.base_card(CompactSpec(verify=False), {
        n: EXAMPLE for n in ("filament", "emission", "compact")}, tmp_path_factory.mktemp("fit"))
    return base, emission, measured_fit.fit_card(sweep, pulses, base, CompactSpec(verify=False), emission)


def _neuron(card):
    return {k: card.values()[k] for k in ("threshold_voltage", "hold_voltage", "resistance_on", "series_resistance",
                                          "neuron_capacitance", "neuron_input_voltage")}


def test_yield_and_spectrum_recomputed_at_the_fitted_threshold(fitted):
    base, emission, card = fitted
    v = card.values()
    assert abs(v["threshold_voltage"] / base.values()["threshold_voltage"] - 1) > 0.05  # the point did move
    d_op, t_op, _ = emission_point.emitting_gap(card.model_params())
    op = emission_point.operating_point(emission_point.optical_kernel(emission), d_op, v["threshold_voltage"])
    assert v["emission_gap"] == pytest.approx(d_op, rel=1e-12)
    assert v["photons_per_electron"] == pytest.approx((1 - t_op) * op["photons_per_electron"], rel=1e-9)
    assert v["peak_wavelength"] == pytest.approx(op["peak_wavelength"], rel=1e-9)
    assert v["photons_per_electron"] != pytest.approx(base.values()["photons_per_electron"], rel=1e-3)
    assert f"bias {v['threshold_voltage']:.4g} V" in card.parameters["photons_per_electron"]["source"]


def test_card_alone_uses_its_emission_law_inside_its_range_and_refuses_outside(fitted):
    base, _, card = fitted
    p, v = card.model_params(), card.values()
    values, sources, spectrum = measured_fit.optics_at_operating_point(p, base, _neuron(card))
    assert spectrum is None  # the base card's spectrum belongs to its own bias
    d_op, t_op, _ = emission_point.emitting_gap(p)
    eta = (1 - t_op) * float(model.quantum_efficiency(p, d_op, v["threshold_voltage"]))
    assert values["photons_per_electron"] == pytest.approx(eta, rel=1e-12)
    assert values["peak_wavelength"] == base.values()["peak_wavelength"]  # kept, and the source says at which bias
    assert "operating bias" in sources["peak_wavelength"]
    # a base card whose emission law starts above the fitted threshold cannot give the yield there
    with pytest.raises(SpecError, match="outside its range"):
        measured_fit.optics_at_operating_point(dataclasses.replace(p, eta_bias_lo=1.5, eta_bias_cut=0.0), base,
                                               _neuron(card))
