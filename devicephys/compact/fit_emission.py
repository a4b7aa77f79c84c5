"""Fit the optical part of the compact model to an emission result (``emission.nc``).

``ln eta(d, V)`` is fitted by linear least squares with the basis
``1, x, u, x^2, x u, u^2`` (``x = d/1 nm``, ``u = 1 V/|V|``) over the points
where ``eta`` exceeds 1e-2 of its maximum (near the quantum cutoff ``ln eta``
runs to minus infinity and no smooth form applies).  The powers of ``1/V``
follow the cutoff ``1 - h nu/(e V)`` better than powers of ``V``; the peak
wavelength by a quadratic in ``x``.  The FWHM comes from the spectrum itself.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from devicephys.compact.fit import require
from devicephys.errors import ConvergenceError

#: Variables of emission.nc the fit reads.
EMISSION_VARIABLES = ("quantum_efficiency", "peak_wavelength", "spectrum")
_NM = 1e-9


def _linear_fit(a: np.ndarray, b: np.ndarray, names: list[str], what: str):
    coef, _, rank, _ = np.linalg.lstsq(a, b, rcond=None)
    if rank < a.shape[1]:
        raise ConvergenceError(f"{what}: the data do not determine all of {names} (rank {rank} < {a.shape[1]}); "
                               "the emission result needs more gaps and biases")
    resid = a @ coef - b
    dof = max(len(b) - a.shape[1], 1)
    cov = np.linalg.inv(a.T @ a) * float(resid @ resid) / dof
    return coef, np.sqrt(np.diag(cov)), resid


def fit_efficiency(ds: xr.Dataset):
    """Coefficients of ``ln eta`` with 1-sigma, the fitted range, and residual statistics."""
    require(ds, EMISSION_VARIABLES, "emission result")
    qe = ds["quantum_efficiency"].transpose("gap", "bias").values
    x, y = np.meshgrid(ds["gap"].values / _NM, ds["bias"].values, indexing="ij")
    ok = np.isfinite(qe) & (qe > 1e-2 * np.nanmax(qe))
    if ok.sum() < 7:
        raise ConvergenceError("emission fit: fewer than 7 (gap, bias) points with non-negligible efficiency; "
                               "the emission result needs more gaps and biases above the photon cutoff")
    xs, ys = x[ok], y[ok]
    us = 1.0 / ys
    columns = [np.ones_like(xs), xs, us, xs * xs, xs * us, us * us]
    used = _usable_terms(len(np.unique(xs)), len(np.unique(ys)))
    basis = np.column_stack([columns[k] for k in used])
    coef, sigma, resid = _linear_fit(basis, np.log(qe[ok]), [f"eta_c{k}" for k in used], "efficiency fit")
    values = {f"eta_c{k}": 0.0 for k in range(6)}
    sigmas = dict.fromkeys(values, 0.0)
    for k, c, e in zip(used, coef, sigma):
        values[f"eta_c{k}"], sigmas[f"eta_c{k}"] = float(c), float(e)
    values.update(eta_gap_lo=float(ds["gap"].min()), eta_gap_hi=float(ds["gap"].max()),
                  eta_bias_lo=float(ys.min()), eta_bias_hi=float(ds["bias"].max()))
    quality = {"ln_eta_rms": float(np.sqrt(np.mean(resid ** 2))), "ln_eta_max": float(np.max(np.abs(resid))),
               "points": int(ok.sum()), "points_below_1pc_excluded": int((~ok).sum()),
               "terms_fixed_at_zero": [f"eta_c{k}" for k in range(6) if k not in used]}
    return values, sigmas, quality


def _usable_terms(n_gaps: int, n_biases: int) -> list[int]:
    """Basis terms a grid with ``n_gaps`` gaps and ``n_biases`` biases can determine (quadratic needs 3)."""
    used = [0]
    if n_gaps >= 2:
        used.append(1)
    if n_biases >= 2:
        used.append(2)
    if n_gaps >= 3:
        used.append(3)
    if n_gaps >= 2 and n_biases >= 2:
        used.append(4)
    if n_biases >= 3:
        used.append(5)
    return used


def fit_peak_wavelength(ds: xr.Dataset):
    """Coefficients [m] of the peak wavelength versus gap, with 1-sigma and residuals."""
    x = ds["gap"].values / _NM
    lam = ds["peak_wavelength"].values
    ok = np.isfinite(lam)
    basis = np.column_stack([np.ones(ok.sum()), x[ok], x[ok] ** 2])
    coef, sigma, resid = _linear_fit(basis, lam[ok], ["lambda_c0", "lambda_c1", "lambda_c2"], "peak wavelength fit")
    return ({f"lambda_c{k}": float(c) for k, c in enumerate(coef)},
            {f"lambda_c{k}": float(s) for k, s in enumerate(sigma)},
            {"rms_m": float(np.sqrt(np.mean(resid ** 2))), "max_m": float(np.max(np.abs(resid)))})


def fwhm(wavelength, spectrum) -> float:
    """Full width at half maximum [m] of a single-peaked spectrum (linear interpolation)."""
    w, s = np.asarray(wavelength, float), np.asarray(spectrum, float)
    k = int(np.argmax(s))
    half = s[k] / 2
    if s[k] <= 0:
        raise ConvergenceError("spectral width: the spectrum at the operating point is zero (bias below cutoff)")
    left = np.nonzero(s[:k] < half)[0]
    right = np.nonzero(s[k:] < half)[0]
    if len(left) == 0 or len(right) == 0:
        raise ConvergenceError("spectral width: the peak is not resolved inside the wavelength range; widen it")
    i, j = left[-1], k + right[0]
    lo = w[i] + (half - s[i]) / (s[i + 1] - s[i]) * (w[i + 1] - w[i])
    hi = w[j - 1] + (half - s[j - 1]) / (s[j] - s[j - 1]) * (w[j] - w[j - 1])
    return float(hi - lo)


def spectral_width_at(ds: xr.Dataset, gap: float, bias: float) -> tuple[float, str]:
    """FWHM [m] of the spectrum near (``gap`` [m], ``bias`` [V]) and how it was obtained.

    Uses the grid point nearest to the operating point; when the peak is not
    resolved there (cut by the quantum cutoff or the wavelength range), the
    highest bias at that gap, and then the result's own ``spectral_width``.
    """
    spec = ds["spectrum"].sel(gap=gap, method="nearest")
    g = float(spec["gap"])
    near = float(spec["bias"].sel(bias=bias, method="nearest"))
    for b in (near, float(ds["bias"].max())):
        try:
            width = fwhm(ds["wavelength"].values, spec.sel(bias=b).transpose("wavelength").values)
            return width, f"FWHM of EmissionResult.spectrum at gap {g:.3g} m, bias {b:.3g} V"
        except ConvergenceError:
            continue
    if "spectral_width" in ds.variables and ds["spectral_width"].dims == ("gap",):
        return float(ds["spectral_width"].sel(gap=g)), f"EmissionResult.spectral_width at gap {g:.3g} m"
    raise ConvergenceError("spectral width: the emission peak is not resolved inside the wavelength range at "
                           f"gap {g:.3g} m; widen the emission stage's wavelength range")
