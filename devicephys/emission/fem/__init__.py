"""Frequency-domain FEM (DOLFINx) of a vertical dipole in an axisymmetric metal gap.

``spec`` (FemGeometry), ``match`` (the FDTD stage's tip-over-disc geometry
as a FemGeometry), ``fields`` (PML stretch, analytic dipole field,
classical and quantum-corrected permittivities, NumPy only), ``mesh`` (gmsh
model) and ``solve`` (the only emission module importing DOLFINx).
:func:`purcell_spectrum` loads the solver on first use.
"""

import numpy as np

from devicephys.emission import metals
from devicephys.emission.fem.spec import FemGeometry
from devicephys.errors import SpecError


def check_wavelengths(geometry: FemGeometry, wavelengths) -> np.ndarray:
    """``wavelengths`` [m] as a 1-D array, or SpecError if empty, not finite, or outside the metal's fit."""
    lam = np.atleast_1d(np.asarray(wavelengths, dtype=float))
    if lam.ndim != 1 or lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise SpecError(f"wavelengths: need a non-empty list of positive vacuum wavelengths [m], got {wavelengths!r}",
                        field="wavelengths")
    lo, hi = metals.get(geometry.metal).wavelength_range
    if lam.min() < lo * (1 - 1e-9) or lam.max() > hi * (1 + 1e-9):
        raise SpecError(f"wavelengths: {lam.min() * 1e9:.0f}-{lam.max() * 1e9:.0f} nm leaves the {geometry.metal} optical "
                        f"fit's range {lo * 1e9:.0f}-{hi * 1e9:.0f} nm (Rakic1998); choose wavelengths inside it",
                        field="wavelengths")
    return lam


def purcell_spectrum(geometry: FemGeometry, wavelengths, **kwargs):
    """Purcell factor and power split per wavelength; see :func:`devicephys.emission.fem.solve.purcell_spectrum`."""
    lam = check_wavelengths(geometry, wavelengths)
    from devicephys.emission.fem.solve import purcell_spectrum as run

    return run(geometry, lam, **kwargs)


__all__ = ["FemGeometry", "check_wavelengths", "purcell_spectrum"]
