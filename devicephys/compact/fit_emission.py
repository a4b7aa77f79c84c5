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
    basis = np.column_stack([np.ones_like(xs), xs, us, xs * xs, xs * us, us * us])
    coef, sigma, resid = _linear_fit(basis, np.log(qe[ok]), [f"eta_c{k}" for k in range(6)], "efficiency fit")
    values = {f"eta_c{k}": float(c) for k, c in enumerate(coef)}
    values.update(eta_gap_lo=float(ds["gap"].min()), eta_gap_hi=float(ds["gap"].max()),
                  eta_bias_lo=float(ys.min()), eta_bias_hi=float(ds["bias"].max()))
    quality = {"ln_eta_rms": float(np.sqrt(np.mean(resid ** 2))), "ln_eta_max": float(np.max(np.abs(resid))),
               "points": int(ok.sum()), "points_below_1pc_excluded": int((~ok).sum())}
    return values, {f"eta_c{k}": float(s) for k, s in enumerate(sigma)}, quality


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


def spectral_width_at(ds: xr.Dataset, gap: float, bias: float) -> float:
    """FWHM [m] of the spectrum at the grid point nearest to (``gap`` [m], ``bias`` [V])."""
    sel = ds["spectrum"].sel(gap=gap, bias=bias, method="nearest")
    return fwhm(ds["wavelength"].values, sel.transpose("wavelength").values)
