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

import numpy as np
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


def test_measured_card_brackets_its_on_samples_quartiles(fitted, data):
    """The measured ON state's spread through the card's light: the card refitted at the quartiles of the sweep's
    ON samples (their V/I, R_on their median), each end's contact giving the cell that R_on by the measured path's
    own solution, its optics recomputed at the end's threshold, the optics' uncertainties the larger change."""
    from devicephys.compact import build

    base, emission, card = fitted
    sweep = data[0]
    m = measured.sweep_parameters(sweep)
    r = sweep["voltage"][m["on_rows"]] / sweep["current"][m["on_rows"]]
    assert card.value("resistance_on") == pytest.approx(float(np.median(r)), rel=1e-9)
    bracket = card.fit_quality["resistance_on_bracket"]
    assert "quartile of the measured sweep's ON samples" in bracket["ends"]
    p, spec = card.model_params(), CompactSpec(verify=False)
    for side, q in (("low", 25), ("high", 75)):
        end = bracket[side]
        assert end["resistance_on"] == pytest.approx(float(np.percentile(r, q)), rel=1e-12)
        # the same end by the measured fit's own contact solution, optics at that card's own threshold
        g_c = measured_fit.contact_conductance(p, end["resistance_on"], p.leakage_resistance)
        q_end = dataclasses.replace(p, contact_conductance=g_c)
        assert 1 / float(model.cell_conductance(q_end, q_end.gap_min)) == pytest.approx(end["resistance_on"], rel=1e-9)
        neuron, _ = build.neuron_parameters(q_end, spec)
        optics = measured_fit.optics_at_operating_point(q_end, base, neuron, emission)[0]
        for name in ("photons_per_spike", "emission_gap", "photons_per_electron"):
            assert end[name] == pytest.approx(optics[name], rel=1e-9), (side, name)
    for name in ("photons_per_spike", "emission_gap", "photons_per_electron"):
        change = max(abs(bracket[s][name] - card.value(name)) for s in ("low", "high"))
        assert card.uncertainties[name] == pytest.approx(change, rel=1e-12)
        assert card.parameters[name]["source"].endswith(build.BRACKET_NOTE)
    assert "on_rows" not in card.fit_quality["measured"]  # row indices are not numbers of the device
    # the median's standard error reaches the contact conductance, and back through it R_on's, exactly (linear)
    s_g, g_c = card.uncertainties["contact_conductance"], p.contact_conductance
    r_of = [1 / float(model.cell_conductance(dataclasses.replace(p, contact_conductance=g), p.gap_min))
            for g in (g_c * (1 - 1e-6), g_c * (1 + 1e-6))]
    assert abs(r_of[1] - r_of[0]) / (2e-6 * g_c) * s_g == pytest.approx(m["resistance_on_sigma"], rel=1e-4)
    assert "median's standard error" in card.parameters["contact_conductance"]["source"]
    said = measured_stage.summary(card)  # the stage's summary prints both ends
    low, high = bracket["low"], bracket["high"]
    assert (f"photons per spike: {card.value('photons_per_spike'):.3g} ({low['photons_per_spike']:.3g} at "
            f"{low['resistance_on']:.3g} Ohm, {high['photons_per_spike']:.3g} at "
            f"{high['resistance_on']:.3g} Ohm") in said


def test_measured_bracket_ends_without_a_spread():
    m = {"resistance_on": 100.0, "resistance_on_sigma": 2.0, "resistance_on_lower_quartile": 100.0,
         "resistance_on_upper_quartile": 100.0}
    assert measured_fit.resistance_on_ends(m)[:2] == (98.0, 102.0)
    assert measured_fit.resistance_on_ends({**m, "resistance_on_sigma": float("nan")}) is None


def test_measured_figure_of_the_light_over_the_on_spread(fitted, data, tmp_path):
    from PIL import Image

    from devicephys.compact import build

    base, emission, card = fitted
    sweep = data[0]
    path = measured_stage.resistance_on_figure(card, sweep, base, emission, CompactSpec(verify=False),
                                               tmp_path / "spread.png")
    said = Image.open(path).info["Description"]
    m = measured.sweep_parameters(sweep)
    r = sweep["voltage"][m["on_rows"]] / sweep["current"][m["on_rows"]]
    r = r[r > 0]  # the figure draws the positive samples (noise can flip a low-voltage sample's sign)
    low = float(np.percentile(r, 5))
    row = build.card_at_resistance_on(
        build.refit_at_resistance_on(card.model_params()), CompactSpec(verify=False),
        lambda q, n: measured_fit.optics_at_operating_point(q, base, n, emission)[0], low)
    assert f"{row['photons_per_spike']:.3g} at {low:.3g} Ohm" in said  # an Ohm-scale card is drawn in Ohm
    assert f"{r.size} measured ON samples" in said
