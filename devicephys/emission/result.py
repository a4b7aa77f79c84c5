"""EmissionResult: optical response and emission spectra versus gap, bias and wavelength.

Variables (all with ``units``): ``purcell`` and ``radiative_efficiency``
(gap, wavelength) [1]; ``spectrum`` (gap, bias, wavelength) [1/m] photons per
tunnelling electron per unit wavelength; ``quantum_efficiency`` (gap, bias) [1];
``peak_wavelength`` (gap) [m]; ``spectral_width`` (gap) [m]; ``far_field``
(gap, angle) [1/sr]; 0-d ``tip_radius`` [m] and ``insulator_index`` [1].
The FDTD data behind the fast model sit on the dimension ``fdtd_gap``
(``purcell_fdtd``, ``purcell_flux_fdtd``, ``radiative_efficiency_fdtd``,
``far_field_fdtd``, ``peak_wavelength_fdtd``, ``fdtd_seconds``).  A result of the
FEM engine (attribute ``solver_engine = "fem"``) has no FDTD variables; its
``far_field`` is each gap's own pattern at its peak; it adds ``absorbed_gap_fraction``
(gap, wavelength) [1], ``far_field_power_error`` [1], ``fem_seconds``, ``fem_unknowns``
and ``fem_meshes`` (gap), and, on the device's stack, the
attribute ``device_geometry`` (JSON) with 0-d ``insulator_thickness`` and
``footprint_radius`` [m].
"""

from __future__ import annotations

from devicephys.emission.spec import EmissionSpec
from devicephys.result import Result


class EmissionResult(Result):
    """Result of the emission stage (file ``emission.nc``)."""

    kind = "emission"
    spec_class = EmissionSpec
