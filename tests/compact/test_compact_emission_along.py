"""Spectra along a waveform, computed a chunk of biases at a time, equal the one-bias spectra to the last bit.

The card's photons per spike integrate the efficiency over every sample of the reference spike's waveform;
:func:`emission_point.efficiency_along` and :func:`emission_point.spectra_along` compute the spectra of many
biases as one array. Element-wise arithmetic does not depend on the array's shape, and the window's trapezoid
sums each row as it sums one spectrum, so nothing may move: the tests compare bit for bit against the one-bias
spelling of the spectra physics, written out here.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from devicephys import units
from devicephys.compact import emission_point, synthetic
from devicephys.emission import spectra
from devicephys.errors import SpecError


def _one_bias(k: emission_point.OpticalKernel, gap: float, bias: float, thermal_tail: bool = False) -> np.ndarray:
    """The spectrum [1/m] of one bias, on scalars: the formula of the module's docstring, spelled per bias."""
    v = abs(float(bias))
    if v == 0:
        return np.zeros_like(k.wavelength)
    r = emission_point._r_at(k, gap)
    s = spectra.inelastic_spectrum(k.wavelength, v, r, k.temperature)
    if not thermal_tail:
        s = np.where(units.h * units.c0 / k.wavelength <= units.e * v, s, 0.0)
    if k.hot_weight > 0:
        s = s + spectra.hot_electron_spectrum(k.wavelength, v, r, k.hot_temperature, k.hot_weight)
    return s


def _kernels() -> dict[str, emission_point.OpticalKernel]:
    """A read-back kernel (T = 0) and the optical-data kernel at 0 K, at 300 K and with a hot-electron channel."""
    ds = synthetic.emission_dataset()
    out = {"read-back": emission_point.optical_kernel(ds)}
    for name, temperature, weight in (("0 K", 0.0, 0.0), ("300 K", 300.0, 0.0), ("hot", 300.0, 0.05)):
        d = ds.copy()
        d.attrs["spec"] = json.dumps({"temperature": temperature, "hot_electron_weight": weight,
                                      "hot_electron_temperature": 2500.0, "defect_band_efficiency": 0.0})
        if {"purcell", "radiative_efficiency", "insulator_index"} <= set(d.variables):
            out[name] = emission_point.optical_kernel(d)
    return out


def _biases(k: emission_point.OpticalKernel, n: int, seed: int) -> np.ndarray:
    """Biases [V] around the window's cutoff and up to the kernel's top, both signs, zeros and exact edges."""
    rng = np.random.default_rng(seed)
    top = min(k.bias_max, 3.0)
    edge = units.h * units.c0 / (units.e * k.wavelength)  # each wavelength's cutoff bias
    v = rng.uniform(0.0, top, n) * rng.choice([-1.0, 1.0], n)
    return np.concatenate([v, [0.0, -0.0, top, -top], edge[edge <= top][:50]])


@pytest.mark.parametrize("name", ["read-back", "0 K", "300 K", "hot"])
def test_spectra_and_efficiency_along_equal_the_one_bias_spelling(name):
    kernels = _kernels()
    if name not in kernels:
        pytest.skip("the synthetic emission result carries no optical data")
    k = kernels[name]
    gap = float(k.gap.min() + 0.37 * (k.gap.max() - k.gap.min()))
    bias = _biases(k, 3000, seed=len(name))
    one = np.array([_one_bias(k, gap, b) for b in bias])
    assert np.array_equal(emission_point.spectra_along(k, gap, bias), one)
    tail = np.array([_one_bias(k, gap, b, thermal_tail=True) for b in bias])
    assert np.array_equal(emission_point.spectra_along(k, gap, bias, thermal_tail=True), tail)
    assert np.array_equal(emission_point.spectrum_at(k, gap, bias[5]), one[5])
    eta = np.array([float(spectra.quantum_efficiency(k.wavelength, row)) for row in one])
    along = emission_point.efficiency_along(k, np.full_like(bias, gap), bias)
    assert np.array_equal(along, eta)
    assert np.count_nonzero(along) > len(along) // 2  # the comparison is not between zeros


def test_efficiency_along_several_gaps_and_chunks(monkeypatch):
    k = _kernels()["read-back"]
    rng = np.random.default_rng(7)
    gaps = rng.choice(np.linspace(k.gap.min(), k.gap.max(), 5), 900)
    bias = _biases(k, 900, seed=3)[:900]
    monkeypatch.setattr(emission_point, "ALONG_CHUNK", 64)  # many chunks per gap
    along = emission_point.efficiency_along(k, gaps.reshape(30, 30), bias.reshape(30, 30))
    ref = np.array([float(spectra.quantum_efficiency(k.wavelength, _one_bias(k, g, b))) for g, b in zip(gaps, bias)])
    assert along.shape == (30, 30)
    assert np.array_equal(along.ravel(), ref)


def test_spike_spectrum_is_the_trapezoid_of_the_one_bias_spectra():
    k = _kernels()["read-back"]
    gap = float(k.gap.mean())
    t = np.linspace(0.0, 1e-9, 400)
    v = 0.2 + min(k.bias_max, 3.0) * np.exp(-t / 3e-10) * 0.9
    current = 1e-5 * v
    one = np.array([_one_bias(k, gap, b) for b in v])
    ref = np.trapezoid(one * (np.abs(current) / units.e)[:, None], t, axis=0)
    assert np.array_equal(emission_point.spike_spectrum(k, gap, t, v, current), ref)


def test_along_refuses_what_one_bias_refuses():
    k = _kernels()["read-back"]
    lo, hi = float(k.gap.min()), float(k.gap.max())
    with pytest.raises(SpecError, match="bias_max"):
        emission_point.efficiency_along(k, np.full(3, lo), np.array([0.5, 2 * k.bias_max, 0.5]))
    with pytest.raises(SpecError, match="gap_min/gap_max"):
        emission_point.efficiency_along(k, np.array([lo, 2 * hi]), np.array([0.5, 0.5]))
    with pytest.raises(SpecError, match="gap_min/gap_max"):
        emission_point.efficiency_along(k, np.array([lo, np.nan, np.nan]), np.array([0.5, 0.5, 0.0]))
    # a zero bias emits nothing at any gap, as one bias does
    assert np.array_equal(emission_point.efficiency_along(k, np.array([2 * hi, np.nan]), np.zeros(2)), np.zeros(2))
