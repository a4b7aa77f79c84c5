"""Fit the optical part of the compact model to an emission result (``emission.nc``).

The photon yield is fitted as ``eta(d, V) = (1 - V_c/|V|)^2 exp(P(x, u))``
with ``P`` linear in ``1, x, u, x^2, x u, u^2`` (``x = d/1 nm``,
``u = 1 V/|V|``) and ``V_c = h c/(e lambda_max)`` the bias below which
inelastic tunnelling emits no photon in the wavelength window: the spectrum
rises as ``(1 - h nu/(e V))`` below each photon's cutoff, so its integral
starts as ``(1 - V_c/V)^2``.  Every point above ``V_c`` is used (none is
dropped); below the lowest stored bias the yield is recomputed from the
result's own spectra physics (:mod:`devicephys.compact.emission_point`).  The
peak wavelength of the gap resonance is a quadratic in ``x``.  The FWHM comes
from the spectrum itself.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from devicephys.compact import emission_point
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


def fit_efficiency(ds: xr.Dataset, extension_points: int = 6):
    """Coefficients of the law ``eta = (1 - V_c/|V|)^2 exp(P)`` with 1-sigma, its range, and residual statistics.

    Least squares on ``ln eta``, each point weighted by its yield relative to
    the largest at its gap (the law is for counting photons).

    ``V_c = h c / (e lambda_max)`` is the bias below which inelastic tunnelling
    emits nothing in the wavelength window; the law is exactly zero there.  All
    (gap, bias) points of the emission result above ``V_c`` enter the fit, and
    ``extension_points`` biases between ``V_c`` and the lowest stored bias are
    recomputed from the result's own spectra physics
    (:mod:`devicephys.compact.emission_point`), so the law's range reaches
    down to ``V_c``; stored points at or below ``V_c`` are kept as checks of
    the law's exact zero (their largest yield is reported).  With a hot-electron channel there is no cutoff (``V_c = 0``)
    and the range starts at the lowest stored bias.
    """
    require(ds, EMISSION_VARIABLES, "emission result")
    kernel = emission_point.optical_kernel(ds)
    stored = np.sort(ds["bias"].values.astype(float))
    v_c = kernel.cutoff_bias if kernel.hot_weight == 0 else 0.0
    first = stored[stored > v_c].min() if (stored > v_c).any() else v_c
    extra = np.linspace(v_c, first, extension_points + 2)[1:-1] if v_c > 0 and first > v_c else np.array([])
    biases = np.concatenate([extra, stored])
    qe = emission_point.efficiency_table(kernel, biases)
    stored_qe = ds["quantum_efficiency"].transpose("gap", "bias").sel(bias=stored).values
    x, y = np.meshgrid(kernel.gap / _NM, biases, indexing="ij")
    above = y > v_c
    ok = above & np.isfinite(qe) & (qe > 0)
    if (above & ~(qe > 0)).any():
        b = float(y[above & ~(qe > 0)].max())
        raise ConvergenceError(f"emission fit: zero emission at {b:.4g} V, above the window's cutoff {v_c:.4g} V; the "
                               "optical data vanish at the window's long end: narrow wavelength_max")
    if ok.sum() < 7:
        raise ConvergenceError("emission fit: fewer than 7 (gap, bias) points above the photon cutoff; "
                               "the emission result needs more gaps and biases above the photon cutoff")
    xs, ys = x[ok], y[ok]
    us = 1.0 / ys
    columns = [np.ones_like(xs), xs, us, xs * xs, xs * us, us * us]
    used = _usable_terms(len(np.unique(xs)), len(np.unique(ys)))
    basis = np.column_stack([columns[k] for k in used])
    target = np.log(qe[ok]) - 2.0 * np.log1p(-v_c / ys)
    # photon-weighted: each point weighs as its yield relative to the largest at its gap, so the law is
    # accurate where the photons are (the deep tail near the cutoff holds ln eta far below, and few photons)
    weight = np.sqrt(qe[ok] / np.max(np.where(ok, qe, 0.0), axis=1, keepdims=True).repeat(qe.shape[1], 1)[ok])
    coef, sigma, _ = _linear_fit(basis * weight[:, None], target * weight, [f"eta_c{k}" for k in used],
                                 "efficiency fit")
    resid = basis @ coef - target
    wrms = float(np.sqrt(np.sum(weight**2 * resid**2) / np.sum(weight**2)))
    values = {f"eta_c{k}": 0.0 for k in range(6)}
    sigmas = dict.fromkeys(values, 0.0)
    for k, c, e in zip(used, coef, sigma):
        values[f"eta_c{k}"], sigmas[f"eta_c{k}"] = float(c), float(e)
    values.update(eta_gap_lo=float(kernel.gap.min()), eta_gap_hi=float(kernel.gap.max()),
                  eta_bias_lo=float(v_c if len(extra) else first if v_c > 0 else stored[0]), eta_bias_hi=float(stored[-1]),
                  eta_bias_cut=float(v_c))
    below = qe[~above]
    quality = {"ln_eta_rms": float(np.sqrt(np.mean(resid ** 2))), "ln_eta_max": float(np.max(np.abs(resid))),
               "ln_eta_rms_photon_weighted": wrms,
               "ln_eta_max_above_10pc": float(np.max(np.abs(resid[weight**2 > 0.1]))),
               "points": int(ok.sum()), "points_recomputed_below_stored_biases": int(len(extra) * len(kernel.gap)),
               "points_at_or_below_cutoff": int(below.size),
               "eta_at_or_below_cutoff_max": float(below.max()) if below.size else 0.0,
               "recomputed_versus_stored_max_relative": _recompute_check(
                   emission_point.efficiency_table(kernel, stored, thermal_tail=True), stored_qe),
               "stored_thermal_tail_above_eV_max": float(np.max(stored_qe - qe[:, len(extra):])),
               "kernel": kernel.source, "terms_fixed_at_zero": [f"eta_c{k}" for k in range(6) if k not in used]}
    return values, sigmas, quality


def _recompute_check(recomputed: np.ndarray, stored: np.ndarray) -> float:
    """Largest relative difference between recomputed and stored photons per electron (where stored > 0)."""
    pos = stored > 0
    if not pos.any():
        return 0.0
    return float(np.max(np.abs(recomputed[pos] - stored[pos]) / stored[pos]))


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


def fwhm_in_window(wavelength, spectrum) -> tuple[float, str]:
    """FWHM [m] of a single-peaked spectrum, or its lower bound where the window cuts the half maximum.

    Returns the width and "" when both half-maximum crossings lie inside the window; else the width
    from the crossing inside it to the window's edge, and a phrase naming the edge that cuts it.
    """
    w, s = np.asarray(wavelength, float), np.asarray(spectrum, float)
    try:
        return fwhm(w, s), ""
    except ConvergenceError:
        k = int(np.argmax(s))
        if s[k] <= 0:
            raise
    half = s[k] / 2
    left, right = np.nonzero(s[:k] < half)[0], np.nonzero(s[k:] < half)[0]
    if len(left):
        i = left[-1]
        lo = w[i] + (half - s[i]) / (s[i + 1] - s[i]) * (w[i + 1] - w[i])
    else:
        lo = w[0]
    if len(right):
        j = k + right[0]
        hi = w[j - 1] + (half - s[j - 1]) / (s[j] - s[j - 1]) * (w[j] - w[j - 1])
    else:
        hi = w[-1]
    edges = [f"short edge {w[0]:.4g} m"] * (len(left) == 0) + [f"long edge {w[-1]:.4g} m"] * (len(right) == 0)
    return float(hi - lo), "a lower bound: the window's " + " and ".join(edges) + " cuts the half maximum"


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
