"""Turn FDTD spectra and the calibrated fast model into the EmissionResult dataset."""

from __future__ import annotations

import numpy as np
import xarray as xr

from devicephys import units
from devicephys.emission import fastmodel, spectra
from devicephys.emission.fdtd_sweep import GapSpectra, angles, wavelengths
from devicephys.emission.spec import EmissionSpec
from devicephys.result import scalar_var


def _var(dims, values, unit: str, name: str, **attrs) -> xr.DataArray:
    return xr.DataArray(np.asarray(values, dtype=float), dims=dims, attrs={"units": unit, "long_name": name, **attrs})


def emission_spectra(spec: EmissionSpec, gaps, lam, purcell, efficiency) -> np.ndarray:
    """(gap, bias, wavelength) photons per electron per unit wavelength [1/m]."""
    biases = np.linspace(spec.bias_min, spec.bias_max, spec.bias_count)
    out = np.empty((len(gaps), len(biases), len(lam)))
    for i, gap in enumerate(gaps):
        r_rad = spectra.radiation_resistance(lam, gap, spec.insulator_index, purcell[i], efficiency[i])
        for j, bias in enumerate(biases):
            s = spectra.inelastic_spectrum(lam, bias, r_rad, spec.temperature)
            if spec.hot_electron_weight > 0:
                s = s + spectra.hot_electron_spectrum(lam, bias, r_rad, spec.hot_electron_temperature, spec.hot_electron_weight)
            if spec.defect_band_efficiency > 0:
                s = s + spectra.defect_band_spectrum(lam, spec.defect_band_energy, spec.defect_band_width,
                                                     spec.defect_band_efficiency)
            out[i, j] = s
    return out


def _nearest_far_field(runs: list[GapSpectra], gaps, lam, peaks) -> np.ndarray:
    """Far-field pattern at each gap: the nearest FDTD gap's pattern at the resonance wavelength."""
    fdtd_gaps = np.array([r.gap for r in runs])
    rows = []
    for gap, lam_p in zip(gaps, peaks):
        run = runs[int(np.argmin(np.abs(np.log(fdtd_gaps / gap))))]
        k = int(np.argmin(np.abs(lam - (lam_p if np.isfinite(lam_p) else lam[-1]))))
        rows.append(run.far_field[:, k])
    return np.array(rows)


def build_dataset(spec: EmissionSpec, runs: list[GapSpectra], model: fastmodel.GapPlasmonModel, tip_radius: float,
                  operating_gap: float | None = None) -> xr.Dataset:
    """The EmissionResult dataset (see devicephys.emission.result)."""
    lam, ang = wavelengths(spec), angles(spec)
    gaps = np.linspace(spec.gap_min, spec.gap_max, spec.gap_count)
    biases = np.linspace(spec.bias_min, spec.bias_max, spec.bias_count)
    purcell = model.purcell(gaps, lam)
    eta = model.radiative_efficiency(gaps, lam)
    spec_arr = emission_spectra(spec, gaps, lam, purcell, eta)
    peaks = model.peak_wavelength(gaps)
    width = peaks**2 * model.linewidth / (units.h * units.c0)
    fdtd = np.array([r.gap for r in runs])
    ds = xr.Dataset(coords={
        "gap": _var("gap", gaps, "m", "tip-to-electrode gap"),
        "bias": _var("bias", biases, "V", "junction bias"),
        "wavelength": _var("wavelength", lam, "m", "vacuum wavelength"),
        "angle": _var("angle", ang, "rad", "polar angle from the tip axis"),
        "fdtd_gap": _var("fdtd_gap", fdtd, "m", "gaps simulated with FDTD"),
    })
    fast = "fast gap-plasmon model calibrated on the FDTD gaps (devicephys.emission.fastmodel)"
    ds["purcell"] = _var(("gap", "wavelength"), purcell, "1", "LDOS enhancement over the homogeneous insulator", method=fast)
    ds["radiative_efficiency"] = _var(("gap", "wavelength"), eta, "1", "radiated / total dipole power", method=fast)
    ds["spectrum"] = _var(("gap", "bias", "wavelength"), spec_arr, "1/m", "photons per tunnelling electron per unit wavelength")
    ds["quantum_efficiency"] = _var(("gap", "bias"), spectra.quantum_efficiency(lam, spec_arr), "1",
                                    "photons per electron (integral of the spectrum over the wavelength window)")
    ds["peak_wavelength"] = _var("gap", peaks, "m", "gap-plasmon resonance wavelength", method=fast)
    ds["spectral_width"] = _var("gap", width, "m", "FWHM of the gap-plasmon resonance", method=fast)
    ds["far_field"] = _var(("gap", "angle"), _nearest_far_field(runs, gaps, lam, peaks), "1/sr",
                           "radiation pattern at the resonance (nearest FDTD gap), normalised over the sphere")
    _add_fdtd(ds, runs, lam)
    ds["tip_radius"] = scalar_var(tip_radius, "m", "tip apex radius")
    ds["insulator_index"] = scalar_var(spec.insulator_index, "1", f"refractive index of {spec.insulator}")
    for name, value, unit in [("fastmodel_xi", model.xi, "1"), ("fastmodel_purcell_exponent", model.purcell_exponent, "1"),
                              ("fastmodel_linewidth", model.linewidth, "J")]:
        ds[name] = scalar_var(value, unit, f"fast-model parameter {name[10:]}", method="fitted to the FDTD gaps")
    if operating_gap is not None:
        ds["operating_gap"] = scalar_var(operating_gap, "m", "minimum gap of the filament result")
    return ds


def _add_fdtd(ds: xr.Dataset, runs: list[GapSpectra], lam) -> None:
    how = "MEEP FDTD, cylindrical m = 0, on-axis vertical dipole at mid-gap"
    ds["purcell_fdtd"] = _var(("fdtd_gap", "wavelength"), [r.purcell for r in runs], "1", "Purcell factor from the LDOS", method=how)
    ds["purcell_flux_fdtd"] = _var(("fdtd_gap", "wavelength"), [r.purcell_flux for r in runs], "1",
                                   "Purcell factor from the flux box around the dipole", method=how)
    ds["radiative_efficiency_fdtd"] = _var(("fdtd_gap", "wavelength"), [r.radiative_efficiency for r in runs], "1",
                                           "radiated / total power", method=how)
    ds["far_field_fdtd"] = _var(("fdtd_gap", "angle", "wavelength"), [r.far_field for r in runs], "1/sr",
                                "radiation pattern (near-to-far field), normalised over the sphere", method=how)
    ds["peak_wavelength_fdtd"] = _var("fdtd_gap", [fastmodel.peak_features(lam, r.purcell, r.radiative_efficiency)[0]
                                                   for r in runs], "m", "peak of Purcell x efficiency", method=how)
    ds["fdtd_seconds"] = _var("fdtd_gap", [r.seconds for r in runs], "s", "wall time of the FDTD run")
    ds["fdtd_grid_step"] = _var("fdtd_gap", [r.grid_step for r in runs], "m", "grid step of the FDTD run")
    ds["fdtd_simulated_time"] = _var("fdtd_gap", [r.simulated_time for r in runs], "s", "simulated time of the FDTD run")
    ds["fdtd_time_steps"] = _var("fdtd_gap", [r.time_steps for r in runs], "1", "FDTD time steps of the run")
    ds["fdtd_decay_reached"] = _var("fdtd_gap", [r.decay_reached for r in runs], "1",
                                    "field decay reached at the stop probe, |Ez|^2 over its maximum (target: field_decay)")
    ds.attrs["solver_fdtd_runs"] = len(runs)
    ds.attrs["solver_fdtd_seconds"] = float(sum(r.seconds for r in runs))
    ds.attrs["solver_fdtd_worst_decay"] = float(max(r.decay_reached for r in runs))
