"""Inelastic-tunnelling emission physics (no MEEP)."""

from __future__ import annotations

import numpy as np
import pytest

from devicephys import units
from devicephys.emission import spectra


def _energies(bias, n=400, lo=0.3, hi=1.5):
    return np.linspace(lo, hi, n) * units.e * bias


def test_cutoff_at_zero_temperature_and_linear_rise():
    bias = 2.0
    energy = _energies(bias)
    lam = units.h * units.c0 / energy
    r_rad = np.full_like(lam, 0.7)  # flat optical response [Ohm]
    s = spectra.inelastic_spectrum(lam, bias, r_rad, temperature=0.0)
    above = energy > units.e * bias
    assert np.all(s[above] == 0.0)
    # undo the smooth factors: per-Hz rate * h nu / (2 e^2 R) must be (1 - h nu / eV)
    per_hz = s * lam**2 / units.c0
    shape = per_hz * energy / (2 * units.e**2 * 0.7)
    np.testing.assert_allclose(shape[~above], 1 - energy[~above] / (units.e * bias), rtol=1e-12, atol=1e-15)


def test_finite_temperature_tail_has_width_kT():
    bias, temp = 1.5, 300.0
    energy = units.e * bias + np.linspace(3, 12, 50) * units.k_B * temp
    f = spectra.noise_factor(energy, bias, temp)
    slope = np.polyfit(energy, np.log(f / (energy - units.e * bias)), 1)[0]
    assert -1 / slope == pytest.approx(units.k_B * temp, rel=0.02)
    # and it approaches the T = 0 law far below the cutoff
    low = np.array([0.5]) * units.e * bias
    assert spectra.noise_factor(low, bias, temp)[0] == pytest.approx(0.5 * units.e * bias, rel=1e-9)


def test_noise_factor_is_continuous_at_cutoff():
    bias, temp = 1.0, 300.0
    e_c = units.e * bias
    values = spectra.noise_factor(np.array([e_c - 1e-30, e_c, e_c + 1e-30]), bias, temp)
    np.testing.assert_allclose(values, units.k_B * temp, rtol=1e-6)


def test_hot_electrons_emit_above_the_cutoff():
    bias = 1.5
    lam = units.h * units.c0 / (np.array([1.2, 2.0]) * units.e * bias)
    r_rad = np.ones(2)
    cold = spectra.inelastic_spectrum(lam, bias, r_rad, 0.0)
    hot = spectra.hot_electron_spectrum(lam, bias, r_rad, 3000.0, 0.1)
    assert cold[0] == 0 and hot[0] > 0 and hot[0] > hot[1]


def test_defect_band_holds_its_efficiency():
    lam = np.linspace(300e-9, 3000e-9, 20000)
    band = spectra.defect_band_spectrum(lam, 1.8 * units.e, 0.3 * units.e, 1e-4)
    assert spectra.quantum_efficiency(lam, band) == pytest.approx(1e-4, rel=1e-3)


def test_radiation_resistance_is_larmor():
    # R = 2 P / I^2 with P the Larmor power of a dipole p = I d / w
    lam, d, n = 700e-9, 2e-9, 1.5
    w = 2 * np.pi * units.c0 / lam
    from devicephys.emission.analytic import dipole_power_homogeneous

    power = dipole_power_homogeneous(1.0 * d / w, w, n)
    assert spectra.radiation_resistance(lam, d, n, 1.0, 1.0) == pytest.approx(2 * power, rel=1e-9)


def test_photons_per_spike_counts_charge():
    t = np.linspace(0, 1e-6, 1001)
    current = np.full_like(t, 1e-6)  # 1 uA for 1 us: 1 pC = 6.24e6 electrons
    assert spectra.photons_per_spike(t, current, 1e-5) == pytest.approx(1e-12 / units.e * 1e-5, rel=1e-9)


def test_peak_wavelength_refines_between_samples():
    lam = np.linspace(500e-9, 700e-9, 21)
    y = np.exp(-((lam - 603.3e-9) / 30e-9) ** 2)
    assert spectra.peak_wavelength(lam, y) == pytest.approx(603.3e-9, abs=0.3e-9)
