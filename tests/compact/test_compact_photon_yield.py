"""The photon yield conserves energy: quantum cutoff, no silent extrapolation, photons per spike as an integral."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.integrate import quad

from devicephys import audit, units
from devicephys.compact import build, emission_point, model, synthetic
from devicephys.compact.spec import CompactSpec
from devicephys.errors import ConvergenceError, SpecError


def _with_spec(ds, temperature=0.0, hot_weight=0.0, hot_temperature=2500.0):
    """The synthetic dataset as an emission result that carries its optical data and EmissionSpec."""
    out = ds.copy()
    out.attrs["spec"] = json.dumps({"temperature": temperature, "hot_electron_weight": hot_weight,
                                    "hot_electron_temperature": hot_temperature, "defect_band_efficiency": 0.0})
    return out


def _cutoff(ds) -> float:
    return units.h * units.c0 / (units.e * float(ds["wavelength"].max()))


@pytest.mark.parametrize("temperature", [None, 0.0, 300.0])  # None: optical factor read back from the spectrum
def test_no_photon_below_the_cutoff_of_every_window_wavelength(emission_ds, card, temperature):
    ds = emission_ds if temperature is None else _with_spec(emission_ds, temperature=temperature)
    k = emission_point.optical_kernel(ds)
    below = np.nextafter(_cutoff(ds), 0.0)
    for gap in (k.gap.min(), k.gap.mean(), k.gap.max()):
        assert emission_point.efficiency_at(k, gap, below) == 0.0
        assert emission_point.efficiency_at(k, gap, 0.5 * below) == 0.0
        assert emission_point.efficiency_at(k, gap, 1.01 * _cutoff(ds)) > 0.0
        lam = k.wavelength[emission_point.spectrum_at(k, gap, 2.0) > 0]
        assert np.all(units.h * units.c0 / lam <= units.e * 2.0)  # no inelastic photon above eV at any T
    p = card.model_params()
    assert p.eta_bias_cut == pytest.approx(_cutoff(emission_ds), rel=1e-12)
    gaps = np.linspace(p.eta_gap_lo, p.eta_gap_hi, 7)
    assert np.all(model.quantum_efficiency(p, gaps, below) == 0.0)
    assert np.all(model.quantum_efficiency(p, gaps, 0.0) == 0.0)


def test_hot_electron_channel_emits_above_eV_and_is_named_in_the_card(filament_ds, emission_ds):
    hot = _with_spec(emission_ds, hot_weight=0.05)
    k = emission_point.optical_kernel(hot)
    assert emission_point.efficiency_at(k, k.gap.mean(), 0.9 * _cutoff(hot)) > 0.0  # overbias light
    card = build.fit_device(filament_ds, hot, CompactSpec(verify=False))
    assert card.value("hot_electron_temperature") == 2500.0 and card.value("hot_electron_weight") == 0.05
    assert card.value("eta_bias_cut") == 0.0
    row = audit.photon_energy(card.to_dict())
    assert row.status == audit.PASS and "hot-electron" in row.detail


def test_recomputed_spectra_equal_the_stored_ones(card):
    assert card.fit_quality["efficiency"]["recomputed_versus_stored_max_relative"] < 1e-12


def test_card_operating_point_respects_the_cutoff(card):
    v = card.values()
    assert units.h * units.c0 / v["peak_wavelength"] <= units.e * v["threshold_voltage"]
    assert v["photons_per_electron"] > 0
    for row in (audit.photon_energy(card.to_dict()), audit.emission_law_range(card.to_dict())):
        assert row.status == audit.PASS, row
    assert "recomputed at gap" in card.parameters["photons_per_electron"]["source"]


def test_card_peak_is_the_maximum_of_the_toy_spectrum(card):
    v = card.values()
    lam = np.linspace(400e-9, 1000e-9, 60001)  # independent of the card: the toy spectrum on a fine grid
    s = synthetic._spectrum(v["emission_gap"], v["threshold_voltage"], lam)
    assert v["peak_wavelength"] == pytest.approx(lam[np.argmax(s)], abs=2.5e-9)  # one step of the emission grid


def test_operating_point_below_the_window_refuses(emission_ds):
    k = emission_point.optical_kernel(emission_ds)
    with pytest.raises(ConvergenceError, match="wavelength_max above 1.24e-06 m"):
        emission_point.operating_point(k, 1e-9, 1.0)


def test_model_refuses_outside_its_range(card):
    p = card.model_params()
    with pytest.raises(SpecError, match=r"gap 3e-09 m.*outside its range.*rerun the emission stage"):
        model.quantum_efficiency(p, 3e-9, 2.0)
    with pytest.raises(SpecError, match=r"bias 4 V.*outside its range"):
        model.quantum_efficiency(p, 1e-9, 4.0)
    with pytest.raises(SpecError, match="outside its range"):
        model.peak_wavelength(p, 0.5 * p.eta_gap_lo)
    gapped = replace(p, eta_bias_lo=p.eta_bias_cut + 0.2)  # a law whose data start above the cutoff
    with pytest.raises(SpecError, match="outside its range"):
        model.quantum_efficiency(gapped, 1e-9, p.eta_bias_cut + 0.1)
    assert np.isnan(model.optical_power(p, 3e-9, 2.0, out_of_range="nan"))
    assert np.isnan(model.optical_power(p, 3e-9, 0.0, out_of_range="nan"))  # out of range in gap: flagged
    with pytest.raises(SpecError):
        emission_point.efficiency_at(emission_point.optical_kernel(synthetic.emission_dataset()), 3e-9, 2.0)


def test_emitting_gap_is_where_the_junction_conducts_half_a_conductance_quantum(card):
    p = card.model_params()
    g0 = 2 * units.e**2 / units.h
    for contact in (p.contact_conductance, 100 * g0, 1e4 * g0):  # from one channel to a wide metallic contact
        q = replace(p, contact_conductance=contact)
        d, t, source = emission_point.emitting_gap(q)
        assert float(model.gap_conductance(q, d)) == pytest.approx(0.5 * g0, rel=1e-12) and t == 0.5
        assert d > q.gap_min and "G0/2" in source
    # the bridged cell conducts below G0/2: its own channel emits, with its own T
    for gap_min, where in ((p.contact_gap + 0.1e-9, "tunnel"), (0.0, "contact")):
        shut = replace(p, contact_conductance=0.2 * g0, gap_min=gap_min)
        d, t, source = emission_point.emitting_gap(shut)
        assert t == pytest.approx(float(model.gap_conductance(shut, shut.gap_min)) / g0) and t < 0.2
        if where == "tunnel":  # a tunnelling gap at closest approach: that gap
            assert d == shut.gap_min and "tunnel junction" in source
        else:  # a contact narrower than one channel (below the contact gap the law is flat): the contact gap's optics
            assert d == shut.contact_gap and "narrower than one open channel" in source
    # above G0/2 but below G0 the law passes G0/2 only below the contact gap (it is G_c/2 there): within the contact,
    # whose optics are the contact gap's, at T = 1/2; just above G0 the crossing lies just above the contact gap
    half = replace(p, contact_conductance=0.6 * g0, gap_min=0.0)
    d, t, source = emission_point.emitting_gap(half)
    assert float(model.gap_conductance(half, half.gap_min)) > 0.5 * g0  # not the branch of a channel below G0/2
    assert d == half.contact_gap and t == 0.5 and "only within the contact" in source
    d, t, _ = emission_point.emitting_gap(replace(p, contact_conductance=1.01 * g0, gap_min=0.0))
    assert p.contact_gap < d < p.contact_gap + 0.01e-9 and t == 0.5


def test_photons_per_spike_is_the_integral_over_a_known_waveform():
    tau, i0, eta0, t_end = 2e-9, 1e-4, 3e-6, 5e-9
    t = np.linspace(0.0, t_end, 4001)
    n = model.spike_photons(lambda d, v: np.full_like(v, eta0), t, np.full_like(t, 1e-9), np.ones_like(t),
                            i0 * np.exp(-t / tau))
    exact = eta0 * i0 * tau * (1 - math.exp(-t_end / tau)) / units.e
    # trapezoid error (h^2/12) |f'|/f ~ (t_end/4000/tau)^2 / 12
    assert n == pytest.approx(exact, rel=1e-6)


def test_card_photons_per_spike_is_the_integral_over_the_reference_discharge(card, emission_ds):
    v = card.values()
    r_on, r_s, c = v["resistance_on"], v["series_resistance"], v["neuron_capacitance"]
    v_on = v["neuron_input_voltage"] * r_on / (r_s + r_on)
    tau = c * r_s * r_on / (r_s + r_on)
    k = emission_point.optical_kernel(emission_ds)
    g_cell = float(model.cell_conductance(card.model_params(), v["gap_min"]))

    def per_volt(x):  # dN/dV along the discharge: eta I/e |dt/dV|, dt/dV = -tau/(V - V_on), at the emitting gap
        return emission_point.efficiency_at(k, v["emission_gap"], x) * g_cell * x / units.e * tau / (x - v_on)

    cut = _cutoff(emission_ds)
    fano = 1.0 - v["emission_transmission"]  # one channel's shot noise 2 e I (1 - T)
    exact = fano * quad(per_volt, max(v["hold_voltage"], cut), v["threshold_voltage"], limit=200)[0]
    assert v["hold_voltage"] < cut < v["threshold_voltage"]  # the spike crosses the cutoff: the integral matters
    assert v["photons_per_spike"] == pytest.approx(exact, rel=1e-3)  # trapezoid, 4000 steps, kink at the cutoff
    assert v["photons_per_spike"] < v["photons_per_electron"] * v["spike_charge"] / units.e


def test_photons_per_spike_at_the_cells_own_capacitance():
    # The cell's own capacitance is the parallel-plate value of its footprint across the insulator
    # (170 x 240 nm of PMMA, 10 nm: about 0.1 fF), and the reference spike's photons scale exactly with C.
    from devicephys.filament.spec import FilamentSpec

    fil, emission = synthetic.filament_dataset(), synthetic.emission_dataset()
    card = build.fit_device(fil, emission, CompactSpec())
    spike = card.fit_quality["spike"]
    assert "device_capacitance_F" not in spike and "not computed" in spike["device_capacitance_note"]
    fspec = FilamentSpec()
    fil.attrs.update(devicephys_kind="filament", spec=json.dumps(fspec.to_dict()))
    thickness = float(fil["insulator_thickness"])  # the result's own insulator (5 nm in this synthetic one)
    c_hand = units.eps0 * 2.6 * fspec.footprint_x * fspec.footprint_y / thickness
    own = build._own_capacitance_spike(fil, spike["photons_per_spike_per_farad"])
    assert own["device_capacitance_F"] == pytest.approx(c_hand, rel=1e-12)
    assert 0.05e-15 < c_hand * thickness / 10e-9 < 0.2e-15  # about 0.1 fF across the default 10 nm
    # the same spike recomputed with the cell's own capacitance as the neuron's capacitor
    p = card.model_params()
    neuron = {k: card.value(k) for k in ("resistance_on", "series_resistance", "threshold_voltage", "hold_voltage",
                                         "neuron_input_voltage")}
    kernel = emission_point.optical_kernel(emission)
    d_op, fano = card.value("emission_gap"), 1.0 - card.value("emission_transmission")
    wave = build.spike_waveform(p, {**neuron, "neuron_capacitance": c_hand})
    direct = fano * model.spike_photons(lambda d, v: emission_point.efficiency_along(kernel, np.full_like(d, d_op), v),
                                        wave["time"], wave["gap"], wave["voltage"], wave["current"])
    assert own["photons_per_spike_device_capacitance"] == pytest.approx(direct, rel=1e-9)
