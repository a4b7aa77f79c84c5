"""The card carries the spectrum of its reference spike, and a detector sees that spectrum.

The spectrum is the emission stage's spectra physics at the emitting gap and the spike's bias V(t),
times its electron rate, integrated over the spike (times the one-channel Fano factor), the same
computation as the card's photons per spike: its integral is ``photons_per_spike`` and, without a
hot-electron channel, nothing lies above the photon energy e V_th.  A card whose spectrum breaks
either rule is refused; the array's detector efficiency is the receiver's quantum efficiency
averaged over it.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from devicephys import units
from devicephys.array.budget import link_budget
from devicephys.array.card import neuron_from_card
from devicephys.array.classify import Hardware
from devicephys.array.receiver import GERMANIUM, Receiver, refined_spectrum
from devicephys.compact import emission_point
from devicephys.compact.card import DeviceCard
from devicephys.errors import SpecError


def test_fitted_card_spectrum_is_the_spike_spectrum(card, emission_ds):
    lam, dens = card.spectrum_arrays()
    v = card.values()
    k = emission_point.optical_kernel(emission_ds)
    assert np.array_equal(lam, k.wavelength)
    # the photons per spike, integrated in the other order (efficiency at each instant, then over time)
    assert np.trapezoid(dens, lam) == pytest.approx(v["photons_per_spike"], rel=1e-9)
    assert np.all(dens[lam < units.h * units.c0 / (units.e * v["threshold_voltage"])] == 0)
    # the spike discharges below V_th, so its light is redder than the threshold's spectrum
    at_th = emission_point.operating_point(k, v["emission_gap"], v["threshold_voltage"])["spectrum"]
    energy = units.h * units.c0 / lam
    mean = [np.trapezoid(w * energy, lam) / np.trapezoid(w, lam) for w in (dens, at_th)]
    assert mean[0] < mean[1]


def test_spectrum_round_trips_and_a_foreign_one_is_refused(card, tmp_path):
    back = DeviceCard.load(card.save(tmp_path / "card.json"))
    assert back.spectrum["wavelength"] == card.spectrum["wavelength"]
    assert back.spectrum["photons_per_spike_per_m"] == card.spectrum["photons_per_spike_per_m"]
    data = json.loads((tmp_path / "card.json").read_text())
    twice = json.loads(json.dumps(data))
    twice["spectrum"]["photons_per_spike_per_m"] = [2 * x for x in data["spectrum"]["photons_per_spike_per_m"]]
    with pytest.raises(SpecError, match="integrates to"):
        DeviceCard.from_dict(twice)
    # the same spectrum on a card whose threshold is half as large: it would emit above e V_th
    low = json.loads(json.dumps(data))
    low["parameters"]["threshold_voltage"]["value"] = 0.5 * data["parameters"]["threshold_voltage"]["value"]
    low["parameters"]["hold_voltage"]["value"] = 0.25 * data["parameters"]["threshold_voltage"]["value"]
    with pytest.raises(SpecError, match="another operating point"):
        DeviceCard.from_dict(low)


def test_detector_sees_the_card_spectrum(card):
    neuron = neuron_from_card(card)
    lam, dens = refined_spectrum(*neuron.spectrum, units.h * units.c0 / (units.e * neuron.threshold_voltage))
    rec = Receiver("photodiode", GERMANIUM, 2.5e-13, 1e-6)
    ref = np.trapezoid(dens * rec.quantum_efficiency(lam), lam) / np.trapezoid(dens, lam)
    assert rec.efficiency_for(neuron) == pytest.approx(ref, rel=1e-12)
    b = link_budget(neuron, rec, distance=1e-6, photons_per_spike=10.0, bias_voltage=0.1, fire_voltage=0.2, tau=1e-8)
    assert b.spectral_efficiency == pytest.approx(ref, rel=1e-12)
    hw = Hardware()
    cell = hw.receiver()
    assert hw.efficiency(neuron) == pytest.approx(
        np.trapezoid(dens * cell.quantum_efficiency(lam), lam) / np.trapezoid(dens, lam), rel=1e-12)
    # without its spectrum the neuron falls back on the Gaussian of peak and width, cut at h c/(e V_th)
    bare = dataclasses.replace(neuron, spectrum=None)
    assert rec.efficiency_for(bare) == pytest.approx(
        rec.spectral_efficiency(neuron.peak_wavelength, neuron.spectral_width, neuron.threshold_voltage), rel=1e-12)


def test_width_cut_by_the_window_is_a_lower_bound_of_that_spectrum():
    from devicephys.compact.fit_emission import fwhm_in_window

    lam = np.linspace(1e-6, 3e-6, 2001)
    peak, sigma = 2.6e-6, 0.5e-6  # half maximum at 3.19 um on the long side, beyond the window
    s = np.exp(-0.5 * ((lam - peak) / sigma) ** 2)
    width, cut = fwhm_in_window(lam, s)
    half_left = peak - sigma * np.sqrt(2 * np.log(2))
    assert width == pytest.approx(3e-6 - half_left, rel=1e-5) and "long edge" in cut
    full, none = fwhm_in_window(lam, np.exp(-0.5 * ((lam - 2e-6) / sigma) ** 2))
    assert full == pytest.approx(2 * sigma * np.sqrt(2 * np.log(2)), rel=1e-5) and none == ""


def test_refined_spectrum_keeps_the_quantum_edge_sharp():
    """A spectrum linear above its cutoff, zero below, sampled coarsely: the refined one integrates exactly."""
    lam = np.linspace(1.0e-6, 3.0e-6, 11)  # 0.2 um steps; the cutoff at 1.65 um falls inside one
    cut = 1.65e-6
    dens = np.where(lam >= cut, 3.0 - 1e6 * lam, 0.0)  # positive above the cutoff
    fine, out = refined_spectrum(lam, dens, cut)
    exact = (3.0 * (3e-6 - 1.8e-6) - 0.5e6 * (3e-6**2 - 1.8e-6**2)) + (3.0 - 1.8) * (1.8e-6 - cut)
    assert np.trapezoid(out, fine) == pytest.approx(exact, rel=1e-12)  # linear above 1.8 um, flat from the cut
    assert np.all(out[fine < cut] == 0) and abs(np.trapezoid(dens, lam) / exact - 1) > 0.05  # the coarse grid smears it
    hot = dens + 0.01  # photons below the cutoff (a hot-electron channel): interpolated only
    fine_h, out_h = refined_spectrum(lam, hot, cut)
    assert np.trapezoid(out_h, fine_h) == pytest.approx(np.trapezoid(hot, lam), rel=1e-12)
