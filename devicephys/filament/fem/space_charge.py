"""The mobile Ag⁺ ions' own electrostatic potential: Poisson's equation on the cell's mesh, conductors grounded.

The channel transport drifts its ions in the applied bias's field alone: the potential equation the electrothermal
solve holds is current continuity, ∇·(σ∇φ) = 0, and carries no charge. That is valid while the potential the ions'
own charge makes is small against the voltage their drift crosses. This module computes that potential, ψ [V]:

    −∇·(ε₀ ε_r ∇ψ) = ρ,    ρ = (e / Ω) c_i(z) S(r)   in the channel (between the seed's tip and the counter electrode),

with Ω the Ag atom's volume (a site holds one atom, as the transport counts it: c_i of a node is its ions per site),
S(r) the channel's radial profile that confines c in the FEM (so ∫ρ dA = e c_i A_ψ / Ω, the transport's own count),
ε_r the insulator's relative permittivity, and ψ = 0 on every conductor: the electrode regions, their outer
contacts, and the filament's metal (axis nodes with c ≥ the percolation threshold, r ≤ r_ch) in the runs of metallic
nodes that touch an electrode's end of the axis (a metallic island touching neither is left as insulator: as a
floating conductor it would hold a potential of its own); ∂ψ/∂n = 0 on the cell's outer side. ψ ∝ 1/ε_r. By
superposition the cell's full potential is φ + ψ, φ the applied bias's, which the electrothermal solve already has;
ψ is what the ions add. The ions are taken uncompensated (no counter-charge in the matrix), as the transport has
them: ψ is then an upper bound of their effect wherever charge of the other sign sits beside them. P1, axisymmetric
(r-weighted) or 3-D.
"""

from __future__ import annotations

import math

import dolfinx_solver  # noqa: F401  (loads MPI before dolfinx and petsc4py)
import numpy as np
import ufl
from dolfinx import fem
from dolfinx.fem import petsc as fem_petsc
from mpi4py import MPI
from petsc4py import PETSc

from devicephys.filament.mesh import BOUNDARY, REGION
from devicephys.units import e, eps0

#: [F/m] vacuum permittivity; [C] elementary charge (the project's SI constants)
EPSILON_0, ELEMENTARY_CHARGE = eps0, e
#: the regions that are metal (grounded) in the cell's mesh
METAL_REGIONS = ("active_electrode", "counter_electrode", "seed")


class IonPotential:
    """ψ [V] of a charge density held in the channel, all conductors at 0 V.

    Parameters
    ----------
    data
        The cell's :class:`~devicephys.filament.fem.solve.MeshData`.
    relative_permittivity
        ε_r [1] of the insulator (the whole cell is taken at it: the conductors are grounded, so their own ε
        does not enter).
    channel
        S(r, z) [1] as a P1 function on the mesh (1 inside the channel above the seed, 0 outside): the
        medium's ``in_channel``.
    z_range
        (z_lo, z_hi) [m]: the channel's axis, from the seed's tip to the counter electrode.
    channel_radius
        r_ch [m]: the filament's metal is grounded on the axis nodes' segment within it.
    grounded_facets
        boundary tags held at 0 V besides the metal regions (default: both contacts).
    """

    def __init__(self, data, relative_permittivity: float, channel: fem.Function, z_range: tuple[float, float],
                 channel_radius: float,
                 grounded_facets: tuple[int, ...] = (BOUNDARY["active_contact"], BOUNDARY["counter_contact"])):
        if not (math.isfinite(relative_permittivity) and relative_permittivity > 0):
            raise ValueError(f"relative_permittivity = {relative_permittivity}: must be a positive finite number")
        self.data = data
        dom = data.domain
        self.dim = dom.geometry.dim
        self.V = fem.functionspace(dom, ("Lagrange", 1))
        self.z_lo, self.z_hi = z_range
        self.channel_radius = channel_radius
        self.charge = fem.Function(self.V)  # ρ [C/m³]
        self.psi = fem.Function(self.V)
        u, v = ufl.TrialFunction(self.V), ufl.TestFunction(self.V)
        x = ufl.SpatialCoordinate(dom)
        # divided by ε and by a length (the channel's): the operator's entries of order one, like the Dirichlet
        # rows' 1 (in metres and farads they are 1e-20 and PETSc's LU takes them for zero pivots)
        scale = self.z_hi - self.z_lo
        w = (2 * math.pi * x[0] if data.axisymmetric else 1.0) / scale
        inv_eps = fem.Constant(dom, 1.0 / (EPSILON_0 * relative_permittivity))
        self._a = fem.form(ufl.inner(ufl.grad(u), ufl.grad(v)) * w * ufl.dx)
        self._L = fem.form(inv_eps * self.charge * channel * v * w * ufl.dx)
        tdim, fdim = dom.topology.dim, dom.topology.dim - 1
        dom.topology.create_connectivity(fdim, tdim)
        metal_cells = data.cells.indices[np.isin(data.cells.values, [REGION[n] for n in METAL_REGIONS])]
        facets = data.facets.indices[np.isin(data.facets.values, list(grounded_facets))]
        self._fixed = np.union1d(self.V.dofmap.list[metal_cells].ravel(),
                                 fem.locate_dofs_topological(self.V, fdim, facets)).astype(np.int32)
        xs = self.V.tabulate_dof_coordinates()
        self._r = np.abs(xs[:, 0]) if self.dim == 2 else np.hypot(xs[:, 0], xs[:, 1])
        self._z = xs[:, self.dim - 1]
        owned = self.V.dofmap.index_map.size_local
        tol = 1e-6 * (self.z_hi - self.z_lo)
        self._axis = np.flatnonzero((self._r[:owned] < tol) & (self._z[:owned] > self.z_lo - tol)
                                    & (self._z[:owned] < self.z_hi + tol))
        self._in_range = (self._z >= self.z_lo - tol) & (self._z <= self.z_hi + tol)
        self._solver = PETSc.KSP().create(dom.comm)
        self._solver.setType("preonly")
        self._solver.getPC().setType("lu")
        self._solver.getPC().setFactorSolverType("petsc" if dom.comm.size == 1 else "superlu_dist")
        self._solver.getPC().setFactorPivot(zeropivot=1e-300)
        self._grounded_key: bytes | None = None
        self._A = None
        self._b = fem_petsc.create_vector(self.V)

    def _grounded(self, z: np.ndarray, metal: np.ndarray) -> np.ndarray:
        """The fixed dofs plus the channel's dofs (r <= r_ch) on the metallic runs that touch an end of the axis."""
        runs = []
        n = len(z)
        lo = 0
        while lo < n and metal[lo]:
            lo += 1
        if lo > 0:
            runs.append((z[0], z[lo - 1]))
        hi = n - 1
        while hi >= lo and metal[hi]:
            hi -= 1
        if hi < n - 1:
            runs.append((z[hi + 1], z[-1]))
        tol = 1e-6 * (self.z_hi - self.z_lo)
        inside = (self._r <= self.channel_radius) & self._in_range
        extra = np.zeros(self._r.size, dtype=bool)
        for a, b in runs:
            extra |= inside & (self._z >= a - tol) & (self._z <= b + tol)
        return np.union1d(self._fixed, np.flatnonzero(extra)).astype(np.int32)

    def solve(self, z: np.ndarray, c_ion: np.ndarray, atomic_volume: float,
              metal: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """ψ along the channel's axis for the ions ``c_ion`` [1] (per site) at the axis nodes ``z`` [m].

        ``atomic_volume`` Ω [m³] converts sites to volume; ``metal`` (bool per node) marks the filament's metallic
        nodes, grounded where they touch an electrode's end of the axis.  Returns (z [m], ψ [V]) at the axis dofs,
        sorted by z, on every rank.
        """
        z = np.asarray(z, float)
        c_ion = np.asarray(c_ion, float)
        metal = np.zeros(z.size, dtype=bool) if metal is None else np.asarray(metal, bool)
        # c_i is a fraction of sites, >= 0: the transport projects its Newton onto [0, free sites], so a negative
        # value is that solve's round-off (a charge of the wrong sign), not a state outside a computed range
        density = ELEMENTARY_CHARGE / atomic_volume * np.interp(self._z, z, np.clip(c_ion, 0.0, None))
        self.charge.x.array[:] = np.where(self._in_range, density, 0.0)
        grounded = self._grounded(z, metal)
        bc = fem.dirichletbc(0.0, grounded, self.V)
        key = grounded.tobytes()
        # the conductors moved (on any rank: the assembly is collective): the operator with them
        if self.data.domain.comm.allreduce(key != self._grounded_key, op=MPI.LOR):
            if self._A is not None:
                self._A.destroy()
            self._A = fem_petsc.assemble_matrix(self._a, bcs=[bc])
            self._A.assemble()
            self._solver.setOperators(self._A)
            self._grounded_key = key
        b = self._b
        with b.localForm() as local:
            local.set(0.0)
        fem_petsc.assemble_vector(b, self._L)
        fem_petsc.apply_lifting(b, [self._a], bcs=[[bc]])
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        fem_petsc.set_bc(b, [bc])
        self._solver.solve(b, self.psi.x.petsc_vec)
        self.psi.x.scatter_forward()
        rows = np.column_stack([self._z[self._axis], self.psi.x.array[self._axis]])
        rows = np.concatenate(self.data.domain.comm.allgather(rows))
        rows = rows[np.argsort(rows[:, 0])]
        return rows[:, 0], rows[:, 1]


__all__ = ["IonPotential", "EPSILON_0", "ELEMENTARY_CHARGE", "METAL_REGIONS"]
