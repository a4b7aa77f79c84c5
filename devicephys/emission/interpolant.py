"""Smooth, physically constrained interpolant of the emission result for the compact model.

Versus gap d (and bias V): resonance wavelength (monotone cubic in log d),
Purcell factor at the resonance (monotone cubic of log F in log d: positive),
radiative efficiency at the resonance (cubic of logit(eta): stays in 0..1) and
photons per electron (bicubic/bilinear of log QE in (log d, V): positive).
Outside the swept ranges it refuses to extrapolate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.interpolate import PchipInterpolator, RegularGridInterpolator

from devicephys.errors import SpecError


@dataclass
class EmissionInterpolant:
    """Callables of gap [m] (and bias [V]); build with :meth:`from_dataset`."""

    gaps: np.ndarray
    biases: np.ndarray
    _lam: PchipInterpolator
    _logf: PchipInterpolator
    _logit: PchipInterpolator
    _logqe: RegularGridInterpolator

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> "EmissionInterpolant":
        """Build from an EmissionResult dataset (``EmissionResult.data``)."""
        gaps = ds["gap"].values
        x = np.log(gaps)
        lam_p = ds["peak_wavelength"].values
        f_p = np.array([np.interp(lp, ds["wavelength"].values, row) for lp, row in zip(lam_p, ds["purcell"].values)])
        eta = np.array([np.interp(lp, ds["wavelength"].values, row)
                        for lp, row in zip(lam_p, ds["radiative_efficiency"].values)])
        eta = np.clip(eta, 1e-12, 1 - 1e-12)
        qe = np.maximum(ds["quantum_efficiency"].values, 1e-300)
        biases = ds["bias"].values
        method = "cubic" if len(gaps) >= 4 and len(biases) >= 4 else "linear"
        grid_y = biases if len(biases) > 1 else np.array([biases[0], biases[0] + 1e-9])
        values = np.log(qe) if len(biases) > 1 else np.repeat(np.log(qe), 2, axis=1)
        return cls(gaps, biases, PchipInterpolator(x, lam_p), PchipInterpolator(x, np.log(f_p)),
                   PchipInterpolator(x, np.log(eta / (1 - eta))),
                   RegularGridInterpolator((x, grid_y), values, method=method))

    def _x(self, gap) -> np.ndarray:
        g = np.asarray(gap, dtype=float)
        if np.any(g < self.gaps[0] * (1 - 1e-9)) or np.any(g > self.gaps[-1] * (1 + 1e-9)):
            raise SpecError(f"gap {g} m is outside the emission sweep {self.gaps[0]:.3g}-{self.gaps[-1]:.3g} m; "
                            "widen gap_min/gap_max of the emission spec")
        return np.log(np.clip(g, self.gaps[0], self.gaps[-1]))

    def peak_wavelength(self, gap) -> np.ndarray:
        """Resonance wavelength [m]."""
        return self._lam(self._x(gap))

    def purcell(self, gap) -> np.ndarray:
        """Purcell factor at the resonance [1] (> 0)."""
        return np.exp(self._logf(self._x(gap)))

    def radiative_efficiency(self, gap) -> np.ndarray:
        """Radiative efficiency at the resonance [1] (in 0..1)."""
        return 1.0 / (1.0 + np.exp(-self._logit(self._x(gap))))

    def quantum_efficiency(self, gap, bias) -> np.ndarray:
        """Photons per electron [1] (> 0) at ``gap`` [m] and ``bias`` [V]."""
        v = np.asarray(bias, dtype=float)
        if len(self.biases) > 1 and (np.any(v < self.biases[0] - 1e-12) or np.any(v > self.biases[-1] + 1e-12)):
            raise SpecError(f"bias {v} V is outside the emission sweep {self.biases[0]}-{self.biases[-1]} V; "
                            "widen bias_min/bias_max of the emission spec")
        x, v = np.broadcast_arrays(self._x(gap), v if len(self.biases) > 1 else np.full_like(v, self.biases[0]))
        return np.exp(self._logqe(np.stack([x, v], axis=-1)))
