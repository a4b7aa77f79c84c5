"""Fast gap-plasmon model for dense gap sweeps, calibrated on a few FDTD runs.

Resonance.  Under a rounded tip of radius R the gap plasmon is a
metal–insulator–metal (MIM) mode confined to a patch of radius a ~ sqrt(2 R d)
(where the local gap has grown to about twice its minimum d).  Its lowest
axisymmetric resonance is a standing wave of the MIM mode on that patch:

    Re[n_MIM(lambda, d)] * (2 pi / lambda) * xi * sqrt(2 R d) = j_01 = 2.405,

with n_MIM the exact MIM effective index (analytic.mim_gap_mode_index) and one
geometric constant xi fitted to the FDTD peak wavelengths.  Because n_MIM
grows as 1/d at small d, the model carries the physics of the red shift to
gaps that FDTD cannot reach here; xi absorbs the tip shape and reflection phase.

Strength.  The Purcell factor at the peak scales as Q/V with V ~ a^2 d ~ d^2,
so log F is fitted linearly in log d (slope -2 when only one FDTD gap is
given); the radiative efficiency at the peak is fitted linearly in
logit(eta) versus log d (bounded to 0..1; constant with one gap).  The line
shape is a Lorentzian in photon energy with the mean FDTD width; the
efficiency is taken flat across the band.

Where it is expected to fail: far below the calibrated gaps (extrapolation),
off resonance (it has no non-resonant background, which FDTD shows at long
wavelengths), and for higher-order gap modes.  tests/emission compares it with
FDTD and records both agreement and disagreement.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize

from devicephys import units
from devicephys.emission import analytic, metals, spectra

_J01 = 2.404825557695773
_GRID = np.geomspace(380e-9, 3000e-9, 240)


@dataclass(frozen=True)
class GapPlasmonModel:
    """Calibrated fast model; lengths [m], energies [J]; see the module docstring."""

    tip_radius: float
    index: float
    metal: str
    xi: float
    gap_ref: float
    purcell_ref: float
    purcell_exponent: float
    logit_eta_ref: float
    logit_eta_slope: float
    linewidth: float

    def to_dict(self) -> dict:
        return asdict(self)

    def peak_wavelength(self, gaps) -> np.ndarray:
        """Resonance (vacuum) wavelength [m] at each gap [m]; NaN where it leaves 380-3000 nm."""
        return np.array([_resonance(float(d), self.tip_radius, self.index, self.metal, self.xi) for d in np.atleast_1d(gaps)])

    def peak_purcell(self, gaps) -> np.ndarray:
        """Purcell factor at the resonance [1]."""
        return self.purcell_ref * (np.atleast_1d(gaps) / self.gap_ref) ** (-self.purcell_exponent)

    def peak_efficiency(self, gaps) -> np.ndarray:
        """Radiative efficiency at the resonance [1], in (0, 1)."""
        z = self.logit_eta_ref + self.logit_eta_slope * np.log(np.atleast_1d(gaps) / self.gap_ref)
        return 1.0 / (1.0 + np.exp(-z))

    def purcell(self, gaps, wavelengths) -> np.ndarray:
        """(gap, wavelength) Purcell factor [1]: 1 + (F_peak - 1) x Lorentzian in photon energy."""
        lam_p = self.peak_wavelength(gaps)[:, None]
        energy = units.h * units.c0 / np.asarray(wavelengths, dtype=float)[None, :]
        e_p = units.h * units.c0 / lam_p
        shape = (0.5 * self.linewidth) ** 2 / ((energy - e_p) ** 2 + (0.5 * self.linewidth) ** 2)
        shape = np.where(np.isfinite(shape), shape, 0.0)
        return 1.0 + (self.peak_purcell(gaps)[:, None] - 1.0) * shape

    def radiative_efficiency(self, gaps, wavelengths) -> np.ndarray:
        """(gap, wavelength) radiative efficiency [1], flat across the band."""
        return np.repeat(self.peak_efficiency(gaps)[:, None], len(np.atleast_1d(wavelengths)), axis=1)


def _resonance(gap: float, radius: float, index: float, metal: str, xi: float) -> float:
    n_eff = _mim_index(gap, index, metal)
    ok = np.isfinite(n_eff)  # no bound gap mode near the surface-plasmon frequency: skipped
    lam = _GRID[ok]
    g = n_eff[ok] * 2 * np.pi / lam * xi * np.sqrt(2 * radius * gap) - _J01
    change = np.nonzero((g[:-1] > 0) & (g[1:] <= 0))[0]
    if len(change) == 0:
        return float("nan")
    i = change[0]
    return float(lam[i] + (lam[i + 1] - lam[i]) * g[i] / (g[i] - g[i + 1]))


def _mim_index(gap: float, index: float, metal: str) -> np.ndarray:
    """Re n_MIM on the internal wavelength grid (NaN where no root was found)."""
    eps_m = metals.get(metal).permittivity(_GRID)
    with np.errstate(all="ignore"):
        return analytic.mim_gap_mode_index_array(_GRID, gap, index**2, eps_m, strict=False).real


def peak_features(wavelengths, purcell, efficiency) -> tuple[float, float, float, float]:
    """Peak wavelength [m], Purcell [1], efficiency [1] and FWHM [J] of the radiative LDOS purcell*eta."""
    lam = np.asarray(wavelengths, dtype=float)
    rad = np.asarray(purcell) * np.asarray(efficiency)
    lam_p = spectra.peak_wavelength(lam, rad)
    i = int(np.argmax(rad))
    energy = units.h * units.c0 / lam
    half = rad[i] / 2
    lo = next((j for j in range(i, -1, -1) if rad[j] < half), None)
    hi = next((j for j in range(i, len(rad)) if rad[j] < half), None)
    if lo is not None and hi is not None:
        width = abs(energy[lo] - energy[hi])
    else:  # half maximum not reached on one side: twice the half width on the other
        j = lo if lo is not None else hi
        width = 2 * abs(energy[i] - energy[j]) if j is not None else 0.5 * units.eV
    return lam_p, float(np.interp(lam_p, lam, purcell)), float(np.interp(lam_p, lam, efficiency)), float(width)


def calibrate(gaps, wavelengths, purcell, efficiency, *, tip_radius: float, index: float, metal: str) -> GapPlasmonModel:
    """Fit the fast model to FDTD spectra.

    Parameters
    ----------
    gaps
        FDTD gaps [m].
    wavelengths
        Vacuum wavelengths [m] of the spectra.
    purcell, efficiency
        (gap, wavelength) Purcell factor [1] and radiative efficiency [1] from FDTD.
    tip_radius, index, metal
        Tip radius [m], insulator index [1], electrode metal.
    """
    gaps = np.asarray(gaps, dtype=float)
    feats = np.array([peak_features(wavelengths, p, e) for p, e in zip(purcell, efficiency)])
    lam_p, f_p, eta_p, width = feats.T

    def cost(xi):
        model = [_resonance(d, tip_radius, index, metal, xi) for d in gaps]
        return sum(((m - t) / t) ** 2 if np.isfinite(m) else 1.0 for m, t in zip(model, lam_p))

    xi = optimize.minimize_scalar(cost, bounds=(0.2, 30.0), method="bounded", options={"xatol": 1e-6}).x
    ref = float(np.exp(np.mean(np.log(gaps))))
    x = np.log(gaps / ref)
    logit = np.log(eta_p / (1 - eta_p))
    if len(gaps) >= 2:
        slope_f, icpt_f = np.polyfit(x, np.log(f_p), 1)
        slope_e, icpt_e = np.polyfit(x, logit, 1)
    else:
        slope_f, icpt_f, slope_e, icpt_e = -2.0, float(np.log(f_p[0])), 0.0, float(logit[0])
    return GapPlasmonModel(tip_radius=tip_radius, index=index, metal=metal, xi=float(xi), gap_ref=ref,
                           purcell_ref=float(np.exp(icpt_f)), purcell_exponent=float(-slope_f),
                           logit_eta_ref=float(icpt_e), logit_eta_slope=float(slope_e), linewidth=float(np.mean(width)))
