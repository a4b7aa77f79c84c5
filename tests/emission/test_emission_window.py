"""The emission window: a FEM band of extra wavelengths, the insulator's index range, meshes per wavelength band."""

from __future__ import annotations

import numpy as np
import pytest

from devicephys import units
from devicephys.compact.fit_emission import fwhm
from devicephys.emission import spectra
from devicephys.emission.fdtd_sweep import wavelengths
from devicephys.emission.fem_sweep import wavelength_bands
from devicephys.emission.spec import DEVICE_PRESET, EmissionSpec
from devicephys.errors import SpecError


def _fem(**kw) -> EmissionSpec:
    return EmissionSpec(**{"engine": "fem", "gap_min": 0.5e-9, **kw})


def test_band_merges_into_the_grid_sorted_and_once():
    spec = _fem(wavelength_min=500e-9, wavelength_max=1500e-9, wavelength_count=11,
                wavelength_band_min=1000e-9, wavelength_band_max=1500e-9, wavelength_band_count=11)
    lam = wavelengths(spec)
    even = np.linspace(500e-9, 1500e-9, 11)
    band = np.linspace(1000e-9, 1500e-9, 11)
    assert np.all(np.diff(lam) > 0)
    assert np.allclose(lam, np.unique(np.round(np.concatenate([even, band]) * 1e12)) / 1e12, rtol=1e-12, atol=0)
    assert len(lam) == 11 + 11 - 6  # 1000, 1100, ..., 1500 lie on both grids


def test_no_band_keeps_the_even_grid():
    spec = _fem(wavelength_min=500e-9, wavelength_max=1500e-9, wavelength_count=11)
    assert np.array_equal(wavelengths(spec), np.linspace(500e-9, 1500e-9, 11))


def test_band_refused_with_fdtd_and_outside_the_window():
    with pytest.raises(SpecError, match="wavelength_band_count"):
        EmissionSpec(wavelength_band_min=600e-9, wavelength_band_max=800e-9, wavelength_band_count=5)
    with pytest.raises(SpecError, match="wavelength_band_min"):
        _fem(wavelength_max=1000e-9, wavelength_band_min=900e-9, wavelength_band_max=1100e-9, wavelength_band_count=5)


def test_pmma_index_range_refuses_a_longer_window():
    _fem(wavelength_max=3.0e-6)
    with pytest.raises(SpecError, match="wavelength_max") as err:
        _fem(wavelength_max=3.5e-6)
    assert "C-H" in str(err.value)


@pytest.mark.parametrize("ratio", [1.0, 1.5, 2.0, 4.0, np.inf])
def test_wavelength_bands_cover_the_grid_within_the_ratio(ratio):
    lam = wavelengths(EmissionSpec.device())
    bands = wavelength_bands(lam, ratio)
    assert np.array_equal(np.concatenate(bands), np.arange(len(lam)))
    assert all(lam[b[-1]] <= ratio * lam[b[0]] * (1 + 1e-12) for b in bands)
    if ratio == np.inf:
        assert len(bands) == 1


def test_peak_of_a_parabola_on_an_uneven_grid_is_exact():
    lam = np.array([1.0e-6, 1.1e-6, 1.4e-6, 1.45e-6, 2.0e-6])
    assert spectra.peak_wavelength(lam, -(lam - 1.23e-6) ** 2) == pytest.approx(1.23e-6, rel=1e-12)


def _tail_spectrum(lam, bias, exponent):
    """Spectrum at ``bias`` [V] (T = 300 K, cut at eV) for R_rad [Ohm] falling as lambda^-exponent.

    Above the device's gap resonance the FEM's R_rad at the default device's emitting gap
    (0.655 nm) falls as lambda^-4.2 from 2 to 3 um, and more steeply below 2 um; 4 and 5 bracket it.
    """
    r = (lam / 2e-6) ** -exponent
    s = spectra.inelastic_spectrum(lam, bias, r, 300.0)
    return np.where(units.h * units.c0 / lam <= units.e * bias, s, 0.0)


@pytest.mark.parametrize("bias", [0.75, 0.78, 0.85])
@pytest.mark.parametrize("exponent", [4.0, 5.0])
def test_device_preset_resolves_the_threshold_spectrum(exponent, bias):
    """At a threshold bias of 0.75-0.85 V (cutoff 1653-1459 nm) the preset's grid holds the spectrum's FWHM; 450-2000 nm did not."""
    fine = np.linspace(1.0e-6, 3.0e-6, 20001)
    exact = fwhm(fine, _tail_spectrum(fine, bias, exponent))
    lam = wavelengths(EmissionSpec.device())
    s = _tail_spectrum(lam, bias, exponent)
    assert np.argmax(s) < len(s) - 1
    inside = np.count_nonzero(s >= 0.5 * s.max())
    assert inside >= 10
    # the cut edge is located to one grid step of the band: its error bounds the width's
    step = np.max(np.diff(lam[(lam > 1.4e-6) & (lam < 2.8e-6)]))
    assert abs(fwhm(lam, s) - exact) <= step
    old = np.linspace(450e-9, 2000e-9, 24)
    if bias < 0.8:
        with pytest.raises(Exception, match="not resolved"):
            fwhm(old, _tail_spectrum(old, bias, exponent))
    assert DEVICE_PRESET["engine"] == "fem"
