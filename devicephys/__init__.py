"""devicephys: multiscale modelling of light-emitting memristive neurons linked by photons.

Stages (each importable on its own; heavy engines load only when a stage runs):

* :mod:`devicephys.filament` — FEM electrothermal model of Ag-filament formation (DOLFINx)
* :mod:`devicephys.emission` — FDTD plasmonic gap emission (MEEP) and emission physics
* :mod:`devicephys.compact` — compact model, DeviceCard, SPICE and Verilog-A export
* :mod:`devicephys.array` — array-level spiking simulator with optical coupling

All quantities are SI floats; see :mod:`devicephys.units`.
"""

# h5py must initialise its HDF5 library before PETSc (loaded by DOLFINx) does:
# otherwise a later h5py import fails with "Not a datatype" and no NetCDF file
# can be written in that process.  Importing it here puts it first in every
# process that uses devicephys.
import h5py  # noqa: F401,E402

from devicephys.errors import ConvergenceError, SpecError


def __getattr__(name: str):
    # Result and Spec pull in xarray and pydantic: load them on first use only.
    if name == "Result":
        from devicephys.result import Result
        return Result
    if name == "Spec":
        from devicephys.spec import Spec
        return Spec
    raise AttributeError(f"module 'devicephys' has no attribute {name!r}")


__version__ = "0.1.0"
__all__ = ["ConvergenceError", "Result", "Spec", "SpecError", "__version__"]
