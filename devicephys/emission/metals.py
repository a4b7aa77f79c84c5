"""Drude–Lorentz permittivities of the electrode metals, independent of MEEP.

The parameters are the Drude–Lorentz fits of A. D. Rakić et al., "Optical
properties of metallic films for vertical-cavity optoelectronic devices",
Appl. Opt. 37, 5271 (1998), Table 1 (energies in eV).  The same numbers are
shipped in ``meep.materials``; the tests compare the two.  Each fit is valid
only inside its stated wavelength range, which :func:`check_range` enforces.

Convention: fields vary as exp(-i w t), so Im(eps) > 0 means loss::

    eps(w) = 1 - f0 wp^2 / (w (w + i G0)) + sum_j f_j wp^2 / (w_j^2 - w^2 - i w G_j)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from devicephys import units
from devicephys.errors import SpecError


@dataclass(frozen=True)
class DrudeLorentz:
    """One metal's Drude–Lorentz fit.

    Attributes
    ----------
    name
        Metal name (``"Ag"``, ``"Au"``, ``"Pt"``).
    plasma_energy
        hbar * w_p [J].
    drude
        (f0, hbar*G0 [J]) of the free-electron term.
    lorentz
        Tuples (f_j, hbar*w_j [J], hbar*G_j [J]) of the bound-electron terms.
    wavelength_range
        (min, max) vacuum wavelength [m] inside which the fit is valid.
    source
        Where the numbers come from.
    """

    name: str
    plasma_energy: float
    drude: tuple[float, float]
    lorentz: tuple[tuple[float, float, float], ...]
    wavelength_range: tuple[float, float]
    source: str

    def permittivity(self, wavelength) -> np.ndarray:
        """Complex relative permittivity at vacuum ``wavelength`` [m] (array or float)."""
        energy = units.h * units.c0 / np.asarray(wavelength, dtype=float)
        wp2 = self.plasma_energy**2
        f0, g0 = self.drude
        eps = 1.0 - f0 * wp2 / (energy * (energy + 1j * g0))
        for fj, wj, gj in self.lorentz:
            eps = eps + fj * wp2 / (wj**2 - energy**2 - 1j * energy * gj)
        return eps


_EV = units.eV
_RAKIC = "Rakic1998 Drude-Lorentz fit (Appl. Opt. 37, 5271), as in meep.materials"


def _fit(name, wp, f0, g0, terms, lam_min, lam_max) -> DrudeLorentz:
    lorentz = tuple((f, w * _EV, g * _EV) for f, w, g in terms)
    return DrudeLorentz(name, wp * _EV, (f0, g0 * _EV), lorentz, (lam_min, lam_max), _RAKIC)


METALS: dict[str, DrudeLorentz] = {
    "Ag": _fit("Ag", 9.01, 0.845, 0.048,
               [(0.065, 0.816, 3.886), (0.124, 4.481, 0.452), (0.011, 8.185, 0.065),
                (0.840, 9.083, 0.916), (5.646, 20.29, 2.419)], 0.24797e-6, 12.398e-6),
    "Au": _fit("Au", 9.03, 0.760, 0.053,
               [(0.024, 0.415, 0.241), (0.010, 0.830, 0.345), (0.071, 2.969, 0.870),
                (0.601, 4.304, 2.494), (4.384, 13.32, 2.214)], 0.24797e-6, 6.1992e-6),
    "Pt": _fit("Pt", 9.59, 0.333, 0.080,
               [(0.191, 0.780, 0.517), (0.659, 1.314, 1.838), (0.547, 3.141, 3.668),
                (3.576, 9.249, 8.517)], 0.24797e-6, 12.398e-6),
}


def get(name: str) -> DrudeLorentz:
    """The Drude–Lorentz fit of metal ``name``."""
    try:
        return METALS[name]
    except KeyError:
        raise SpecError(f"metal '{name}' has no optical fit; choose one of {sorted(METALS)}",
                        field="metal") from None


def check_range(name: str, wavelength_min: float, wavelength_max: float, field: str = "wavelength") -> None:
    """Raise SpecError if [wavelength_min, wavelength_max] [m] leaves the fit's valid range."""
    lo, hi = get(name).wavelength_range
    if wavelength_min < lo * (1 - 1e-9) or wavelength_max > hi * (1 + 1e-9):
        raise SpecError(
            f"EmissionSpec.{field}: {wavelength_min * 1e9:.0f}-{wavelength_max * 1e9:.0f} nm leaves the validity range "
            f"of the {name} optical fit ({lo * 1e9:.0f}-{hi * 1e9:.0f} nm, Rakic1998); choose wavelengths inside it",
            field=field)
