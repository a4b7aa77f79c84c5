"""Field output and post-processing of the electrothermal solution (DOLFINx).

Part of the filament stage's DOLFINx engine (:mod:`devicephys.filament.fem.solve`):
φ, T and c written for ParaView, the temperature map for plots, the L2 error
against an exact solution for the convergence checks.
"""

from __future__ import annotations

import math

import dolfinx_solver  # noqa: F401  (loads MPI before dolfinx and petsc4py)
import numpy as np
import ufl
from dolfinx import fem, io
from mpi4py import MPI


class FieldWriter:
    """φ, T and c at chosen times, written to one XDMF file (with its HDF5 data) for ParaView.

    The files are written under temporary ``.<stem>.partial`` names and only
    get their final names in :meth:`close` with ``complete=True``: an
    interrupted run never leaves a half-written ``fields.xdmf``.
    """

    def __init__(self, problem, path: str):
        from pathlib import Path

        self.problem = problem
        self.path = Path(path)
        self.partial = self.path.with_name(f".{self.path.stem}.partial.xdmf")
        self.file = io.XDMFFile(problem.data.domain.comm, str(self.partial), "w")
        self.file.write_mesh(problem.data.domain)
        self.out = fem.functionspace(problem.data.domain, ("Lagrange", 1))
        self.fields = {name: fem.Function(self.out, name=name) for name in ("potential", "temperature", "silver")}
        fraction = getattr(problem.medium, "silver_fraction", None)
        self.silver = (problem.c if fraction is None
                       else fem.Expression(fraction(problem.c), self.out.element.interpolation_points))

    def write(self, t: float) -> None:
        """Append the fields at time ``t`` [s]."""
        p = self.problem
        for name, src in (("potential", p.phi), ("temperature", p.T), ("silver", self.silver)):
            self.fields[name].interpolate(src)
            self.file.write_function(self.fields[name], t)

    def close(self, complete: bool = True) -> None:
        """Close the file; when ``complete``, give the XDMF and HDF5 files their final names (rank 0)."""
        import os

        from devicephys.io import atomic_write_text

        self.file.close()
        comm = self.problem.data.domain.comm
        if complete and comm.rank == 0:
            h5_partial, h5_final = self.partial.with_suffix(".h5"), self.path.with_suffix(".h5")
            os.replace(h5_partial, h5_final)
            text = self.partial.read_text().replace(h5_partial.name, h5_final.name)
            atomic_write_text(self.path, text)
            self.partial.unlink()
        comm.barrier()


def temperature_map(problem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, z, T) at the owned P1 vertices, gathered on every rank (for plots)."""
    dom = problem.data.domain
    V1 = fem.functionspace(dom, ("Lagrange", 1))
    T1 = fem.Function(V1)
    T1.interpolate(problem.T)
    owned = V1.dofmap.index_map.size_local
    xs = V1.tabulate_dof_coordinates()[:owned]
    rows = np.concatenate(dom.comm.allgather(np.column_stack([xs[:, 0], xs[:, dom.geometry.dim - 1],
                                                              T1.x.array[:owned]])))
    return rows[:, 0], rows[:, 1], rows[:, 2]


def l2_error(problem, exact) -> float:
    """‖T − T_exact‖ / ‖T_exact − T_ambient‖ (weighted L2) for ``exact(x)`` a UFL expression builder."""
    x = ufl.SpatialCoordinate(problem.data.domain)
    w, dx = problem.weight, problem.dx
    te = exact(x)
    comm = problem.data.domain.comm
    num = comm.allreduce(fem.assemble_scalar(fem.form((problem.T - te) ** 2 * w * dx)), op=MPI.SUM)
    den = comm.allreduce(fem.assemble_scalar(fem.form((te - problem.ambient) ** 2 * w * dx)), op=MPI.SUM)
    return math.sqrt(num / den)
