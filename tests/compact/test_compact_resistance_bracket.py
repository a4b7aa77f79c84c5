"""The spread of the filament's ON resistance carried to the card's switch and light.

A finite-element filament's R_on is the median V/I over a flickering ON state whose samples spread as widely as
their median.  The card's optics follow the contact non-linearly (the emitting gap, its transmission T and the
Fano factor 1 - T), so the fit refits the card at the lower and upper quartile of those samples
(``fit_quality.resistance_on_bracket``) and takes the optics' uncertainty from that bracket.  Checked on the stored
fast-preset FEM result.
"""

from __future__ import annotations

import copy
import math
from dataclasses import replace

import numpy as np
import pytest

from devicephys.compact import build, model, synthetic
from devicephys.compact.spec import CompactSpec
from devicephys.filament import extract
from tests.fem_fixtures import load_fem_result


def test_contact_conductance_gives_the_cell_its_resistance():
    p = synthetic.REFERENCE
    for r_on in (2e3, 12.9e3, 60e3, 1e6):
        g_c = build.contact_conductance_for(r_on, p.leakage_resistance, p.filament_resistance, p.decay_constant,
                                            p.gap_min, p.contact_gap)
        q = replace(p, contact_conductance=g_c)
        assert 1.0 / float(model.cell_conductance(q, q.gap_min)) == pytest.approx(r_on, rel=1e-12)
    # below the body's resistance no positive contact gives it
    assert math.isnan(build.contact_conductance_for(0.5 * p.filament_resistance, p.leakage_resistance,
                                                    p.filament_resistance, p.decay_constant, p.gap_min, p.contact_gap))


def test_on_quartiles_are_those_of_the_on_samples_only():
    rng = np.random.default_rng(1)
    r = rng.lognormal(np.log(40e3), 1.0, 401)
    v = np.full(r.size, 0.5)
    gap = np.full(r.size, 0.1e-9)
    # OFF samples (gap above gap_on) and a near-zero-bias sample must not enter
    v = np.concatenate((v, [0.5, 0.5, 1e-4]))
    r_all = np.concatenate((r, [1e12, 1e13, 1.0]))
    gap = np.concatenate((gap, [2e-9, 3e-9, 0.1e-9]))
    q1, q3 = extract.on_resistance_quartiles(v, v / r_all, gap, 0.25e-9)
    assert (q1, q3) == pytest.approx(tuple(np.percentile(r, [25, 75])), rel=1e-12)
    assert math.isnan(extract.on_resistance_quartiles(v, v / r_all, gap, 0.01e-9)[0])


@pytest.fixture(scope="module")
def fem_card():
    ds = load_fem_result()
    # the FEM card fires below 1 V: its light (photon energy < 1 eV) lies in the infrared
    emission = synthetic.emission_dataset(wavelengths=np.linspace(2e-6, 10e-6, 241), band_scale=9.0)
    return ds, emission, build.fit_device(ds, emission, CompactSpec(verify=False))


def test_bracket_ends_are_the_on_quartiles_and_refit_to_them(fem_card):
    ds, _, card = fem_card
    spec = build.fem_spec(ds)
    bracket = card.fit_quality["resistance_on_bracket"]
    q1, q3 = extract.on_resistance_quartiles(ds["voltage"].values, ds["current"].values, ds["gap"].values,
                                             spec["gap_on"])
    assert q1 < card.value("resistance_on") < q3
    assert "quartile" in bracket["ends"]
    # each end's refitted card has exactly that end's R_on (the contact conductance solved for it)
    for side, q in (("low", q1), ("high", q3)):
        assert "note" not in bracket[side], bracket[side]
        assert bracket[side]["resistance_on"] == pytest.approx(q, rel=1e-9)


def test_optics_uncertainty_is_the_brackets_larger_change(fem_card):
    _, _, card = fem_card
    bracket, v, u = card.fit_quality["resistance_on_bracket"], card.values(), card.uncertainties
    for name in build.BRACKET_OPTICS:
        change = max(abs(bracket[s][name] - v[name]) for s in ("low", "high"))
        if change > 0:
            assert u[name] == pytest.approx(change, rel=1e-12), name
            assert "resistance_on_bracket" in card.parameters[name]["source"], name
        else:
            assert name not in u, name
    # the light moves with the contact: a wider ON spread is a real uncertainty on the photons per spike
    assert u["photons_per_spike"] > 0


def test_holding_the_rest_of_the_fit_is_within_a_percent_of_a_whole_refit(fem_card):
    """The bracket refits the contact alone; a card fitted whole to a result whose R_on is the bracket's end
    (the set-time law's refit, whose heating follows the ON state, included) differs by well under a percent."""
    ds, emission, card = fem_card
    end = card.fit_quality["resistance_on_bracket"]["high"]
    shifted = ds.copy()
    shifted["resistance_on"] = ((), end["resistance_on"], dict(ds["resistance_on"].attrs))
    p, _, _, _ = build._filament_params(shifted, CompactSpec(verify=False))
    neuron, _ = build.neuron_parameters(p, CompactSpec(verify=False))
    whole = {**neuron, **build._optics(p, emission, neuron)[0]}
    assert whole["resistance_on"] == pytest.approx(end["resistance_on"], rel=1e-9)
    assert p.set_time_tau0 != card.value("set_time_tau0")  # the whole refit did move the set-time law
    for name in build.BRACKET_OUTPUTS:
        assert whole[name] == pytest.approx(end[name], rel=0.01), name


def test_a_spread_reaching_below_the_body_is_recorded_not_refitted():
    p = synthetic.REFERENCE
    values = {"resistance_on": 1 / float(model.cell_conductance(p, p.gap_min))}
    refit = build.refit_at_resistance_on(p)
    optics = build.emission_optics(synthetic.emission_dataset())
    rows, sig = build.resistance_on_bracket(refit, CompactSpec(verify=False), optics, values,
                                            (-1.0, 0.5 * p.filament_resistance, "test ends"))
    assert rows["low"]["note"].startswith("not defined") and rows["high"]["note"].startswith("not defined")
    assert sig == {}
    assert build.resistance_on_bracket(refit, CompactSpec(), optics, values, None) == ({}, {})


def test_a_curve_fitted_card_brackets_its_own_uncertainty(card):
    """A result without a FilamentSpec: the ends are R_on -+ its propagated 1-sigma, the contact refitted."""
    bracket = card.fit_quality["resistance_on_bracket"]
    r_on, s_on = card.value("resistance_on"), card.uncertainties["resistance_on"]
    assert "1-sigma" in bracket["ends"]
    assert bracket["low"]["resistance_on"] == pytest.approx(r_on - s_on, rel=1e-9)
    assert bracket["high"]["resistance_on"] == pytest.approx(r_on + s_on, rel=1e-9)


def test_stated_uncertainties_cross_into_the_card():
    """The filament's stated uncertainties of R_on and tau_th reach the card: the contact conductance's propagates
    back to R_on's exactly (linear, one parameter), the thermal capacitance's is tau_th's relative one."""
    ds = load_fem_result()
    s_on = 0.3 * float(ds["resistance_on"])
    ds["resistance_on"].attrs.update(uncertainty=s_on, uncertainty_method="test")
    for name in ("thermal_time_constant", "thermal_time_constant_mean"):
        if name in ds:
            ds[name].attrs.update(uncertainty=0.1 * float(ds[name]), uncertainty_method="test")
    emission = synthetic.emission_dataset(wavelengths=np.linspace(2e-6, 10e-6, 241), band_scale=9.0)
    card = build.fit_device(ds, emission, CompactSpec(verify=False))
    u = card.uncertainties
    assert u["resistance_on"] == pytest.approx(s_on, rel=1e-4)
    assert "FilamentResult.resistance_on's" in card.parameters["contact_conductance"]["source"]
    assert u["thermal_capacitance"] == pytest.approx(0.1 * card.value("thermal_capacitance"), rel=1e-9)
    # a result that states none gives none (the stored result keeps no uncertainty attributes)
    plain = build.fit_device(load_fem_result(), emission, CompactSpec(verify=False))
    assert "contact_conductance" not in plain.uncertainties and "thermal_capacitance" not in plain.uncertainties


def test_figure_of_the_light_over_the_on_spread(fem_card, card, filament_ds, emission_ds, tmp_path):
    from PIL import Image

    from devicephys.compact import plot

    ds, emission, fem = fem_card
    path = plot.resistance_on_panel(fem, ds, emission, CompactSpec(verify=False), tmp_path / "spread.png", points=3)
    said = Image.open(path).info["Description"]
    on = extract.on_samples(ds["voltage"].values, ds["current"].values, ds["gap"].values, build.fem_spec(ds)["gap_on"])
    r = ds["voltage"].values[on] / ds["current"].values[on]
    low = float(np.percentile(r[r > 0], 5))
    row = build.card_at_resistance_on(build.refit_at_resistance_on(fem.model_params()), CompactSpec(verify=False),
                                      build.emission_optics(emission), low)
    k, unit = (1e-3, "kOhm") if fem.value("resistance_on") >= 1e3 else (1.0, "Ohm")
    assert f"{row['photons_per_spike']:.3g} at {low * k:.3g} {unit}" in said
    assert f"the card's {fem.value('photons_per_spike'):.3g} at the median" in said
    # a card fitted curve by curve has no ON samples of a finite-element result to show
    assert plot.resistance_on_panel(card, filament_ds, emission_ds, CompactSpec(), tmp_path / "none.png") is None


def test_cards_at_both_ends_are_exported_and_run_in_ngspice(fem_card, tmp_path):
    """The card at each end of its R_on bracket, written as SPICE and Verilog-A beside the card's own: its contact
    gives the cell the end's R_on, its reference neuron is the bracket's, and ngspice runs its LIF neuron as NumPy
    does; the three libraries load into one netlist (their subcircuits have their own names)."""
    from devicephys.compact import corners, export_spice, ngspice, verify

    _, _, card = fem_card
    spec = CompactSpec(verify=False)
    files = corners.write_ends(card, spec, tmp_path)
    assert sorted(files) == ["spice_ron_high", "spice_ron_low", "veriloga_ron_high", "veriloga_ron_low"]
    bracket = card.fit_quality["resistance_on_bracket"]
    for side in ("low", "high"):
        end, row = corners.end_card(card, side, spec), bracket[side]
        back = export_spice.read_parameters(files[f"spice_ron_{side}"].read_text())
        q = replace(card.model_params(), **{k: back[k] for k in ("contact_conductance", "filament_resistance",
                                                                 "leakage_resistance", "decay_constant")})
        assert 1 / float(model.cell_conductance(q, q.gap_min)) == pytest.approx(row["resistance_on"], rel=1e-12)
        for name in ("resistance_on", "threshold_voltage", "hold_voltage", "photons_per_spike"):
            assert end.value(name) == pytest.approx(row[name], rel=1e-12), (side, name)
        assert back["set_time_tau0"] == card.value("set_time_tau0")  # the rest is the card's
        assert f"ron_{side}" in files[f"veriloga_ron_{side}"].read_text().split("module ", 1)[1].split("(", 1)[0]
        assert verify.lif(end, 3)["metrics"]["verdict"].startswith("passed"), side
    lib = export_spice.write(card, tmp_path / "card.lib")
    names = [export_spice.subcircuit_names(c)[1] for c in (card, *(corners.end_card(card, s, spec)
                                                                   for s in ("low", "high")))]
    deck = "\n".join(["* the card and its two ends in one netlist", f".include {lib}",
                      *(f".include {files[f'spice_ron_{s}']}" for s in ("low", "high")), "V1 in 0 DC 0.1",
                      *(f"R{k} in n{k} 1meg\nX{k} n{k} 0 {n}" for k, n in enumerate(names)),
                      ".tran 1n 10n"])
    run = ngspice.run(deck, ["v(n0)", "v(n1)", "v(n2)"])
    off = [float(run.vectors[f"v(n{k})"][-1]) for k in range(3)]
    # all three OFF at 0.1 V (below the threshold), the same leakage; to ngspice's voltage tolerance (vntol, 1 uV)
    assert off == pytest.approx([0.1 * card.value("resistance_off") / (card.value("resistance_off") + 1e6)] * 3,
                                abs=1e-6)


def test_an_end_without_a_card_is_not_written(fem_card, tmp_path):
    from devicephys.compact import corners

    _, _, card = fem_card
    bare = copy.deepcopy(card)  # the module's fitted card stays as it is
    bare.fit_quality["resistance_on_bracket"]["low"] = {"resistance_on": 1.0, "note": "not defined: test"}
    assert corners.end_card(bare, "low", CompactSpec(verify=False)) is None
    assert sorted(corners.write_ends(bare, CompactSpec(verify=False), tmp_path)) == ["spice_ron_high",
                                                                                     "veriloga_ron_high"]
    bare.fit_quality.pop("resistance_on_bracket")
    assert corners.write_ends(bare, CompactSpec(verify=False), tmp_path / "none") == {}
