"""Frequency-domain FEM (DOLFINx) of a vertical dipole in an axisymmetric metal gap.

``spec`` (GapGeometry), ``fields`` (PML stretch, analytic dipole field,
classical and quantum-corrected permittivities, NumPy only), ``mesh`` (gmsh
model) and ``solve`` (the only emission module importing DOLFINx).
:func:`purcell_spectrum` loads the solver on first use.
"""

from devicephys.emission.fem.spec import GapGeometry


def purcell_spectrum(geometry, wavelengths, **kwargs):
    """Purcell factor and power split per wavelength; see :func:`devicephys.emission.fem.solve.purcell_spectrum`."""
    from devicephys.emission.fem.solve import purcell_spectrum as run

    return run(geometry, wavelengths, **kwargs)


__all__ = ["GapGeometry", "purcell_spectrum"]
