"""The DOLFINx electrothermal solver: potential φ and temperature T, coupled, by SNES Newton.

This is the only module of devicephys that imports DOLFINx.  It solves, on an
axisymmetric (r, z) mesh (weak forms weighted by 2πr) or a 3-D mesh,

    ∇·(σ(c, T) ∇φ) = 0,
    ρc_p ∂T/∂t = ∇·(κ(σ, T) ∇T) + σ_J |∇φ|²,

with the source connected to the active-electrode contact through a series
resistor R_s and a smooth current compliance I_cc: the inflowing current
density there is (I_cc / A) x / √(1 + x²) with x = (V_src − φ) / (I_cc R_s),
which is Ohm's law through R_s for small currents and saturates at I_cc
(algebraically, which Newton handles better than a tanh).  The counter contact is
grounded; both contacts are heat sinks at the ambient temperature; the side
wall is adiabatic (a neighbouring cell is at the same temperature).  The Ag
volume fraction c enters through σ(c, T) and ρc_p(c); it is set from outside
(see :mod:`devicephys.filament.kinetics`).  σ_J ≤ σ is the part of the
conduction that heats where it flows: in the cell's channel the ballistic parts
(point contact, tunnelling gap; :class:`CellMedium`) release their power in the
electrodes; it is counted (:meth:`ElectroThermal.ballistic_power`) and handed
to the heat sinks.  Metals' resistivities are referenced to the temperature of
their data (293 K).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import dolfinx_solver  # noqa: F401  (loads MPI before dolfinx and petsc4py)
import numpy as np
import ufl
from dolfinx import fem, io, mesh
from dolfinx.fem.petsc import NonlinearProblem
from mpi4py import MPI

from devicephys.filament import properties as law
from devicephys.filament.mesh import BOUNDARY, GMSH_UNIT, REGION, CellGeometry

_SNES = {"snes_type": "newtonls", "snes_linesearch_type": "basic", "snes_rtol": 1e-6, "snes_atol": 1e-30,
         "snes_stol": 1e-10, "snes_max_it": 15, "ksp_type": "preonly", "pc_type": "lu",
         "pc_factor_zeropivot": 1e-300}
_COUNTER = [0]


@dataclass
class MeshData:
    """A DOLFINx mesh with its region (cell) and boundary (facet) tags."""

    domain: mesh.Mesh
    cells: mesh.MeshTags
    facets: mesh.MeshTags
    axisymmetric: bool


def cell_mesh(geo: CellGeometry, *, dim: int = 2, comm=MPI.COMM_WORLD) -> MeshData:
    """Mesh the cell with gmsh (on rank 0) and distribute it; coordinates in metres."""
    import gmsh

    from devicephys.filament.mesh import build_3d, build_axisymmetric

    if not gmsh.isInitialized():
        gmsh.initialize(interruptible=False)
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.model.add(f"cell{_next()}")
    if comm.rank == 0:
        (build_axisymmetric if dim == 2 else build_3d)(gmsh, geo)
    data = io.gmsh.model_to_mesh(gmsh.model, comm, 0, gdim=dim)
    gmsh.model.remove()
    data.mesh.geometry.x[:] *= GMSH_UNIT
    return MeshData(data.mesh, data.cell_tags, data.facet_tags, dim == 2)


def rod_mesh(radius: float, length: float, nr: int, nz: int, *, comm=MPI.COMM_WORLD) -> MeshData:
    """(r, z) rectangle [0, radius] x [0, length] with contacts at z = 0 (active) and z = length."""
    domain = mesh.create_rectangle(comm, [[0.0, 0.0], [radius, length]], [nr, nz], diagonal=mesh.DiagonalType.crossed)
    tdim = domain.topology.dim
    domain.topology.create_connectivity(tdim - 1, tdim)
    tol = 1e-6 * min(radius, length)
    marks = [(BOUNDARY["active_contact"], lambda x: np.abs(x[1]) < tol),
             (BOUNDARY["counter_contact"], lambda x: np.abs(x[1] - length) < tol),
             (BOUNDARY["side"], lambda x: np.abs(x[0] - radius) < tol)]
    idx, val = [], []
    for tag, where in marks:
        found = mesh.locate_entities_boundary(domain, tdim - 1, where)
        idx.append(found)
        val.append(np.full(found.size, tag, dtype=np.int32))
    order = np.argsort(np.concatenate(idx))
    facets = mesh.meshtags(domain, tdim - 1, np.concatenate(idx)[order], np.concatenate(val)[order])
    ncell = domain.topology.index_map(tdim).size_local + domain.topology.index_map(tdim).num_ghosts
    cells = mesh.meshtags(domain, tdim, np.arange(ncell, dtype=np.int32), np.full(ncell, REGION["insulator"], np.int32))
    return MeshData(domain, cells, facets, True)


def snes_options(comm) -> dict:
    """PETSc options of the Newton solves on ``comm``.

    PETSc's own LU in serial (MUMPS fails on these 20-decade contrasts); SuperLU_dist, a
    parallel LU, when the mesh is distributed.  ``DEVICEPHYS_LU`` overrides the choice.
    """
    default = "petsc" if comm.size == 1 else "superlu_dist"
    return {**_SNES, "pc_factor_mat_solver_type": os.environ.get("DEVICEPHYS_LU", default)}


def _guard_jacobian(problem: NonlinearProblem, failed: list[bool]) -> None:
    """Stop Newton, as a failure, at a Jacobian holding NaN or Inf, before it is factored.

    A wild Newton iterate can make the derivatives of σ(c, T) overflow while the
    residual is still finite.  PETSc's serial LU then returns a NaN step and SNES
    diverges; SuperLU_dist under MPI instead crashes (segmentation fault) on such a
    matrix.  So the assembled Jacobian's norm (collective) is checked: when it is not
    finite, ``failed[0]`` is set, the matrix is replaced by the identity (harmless to
    factor) and every later residual of this solve is NaN, so that SNES ends with a
    NaN-residual failure on every rank alike.  The caller clears ``failed`` per solve.
    """
    snes = problem.solver
    _, _, (assemble_jacobian, jargs, jkargs) = snes.getJacobian()
    vec, (assemble_residual, fargs, fkargs) = snes.getFunction()

    def jacobian(snes, x, J, P, *args, **kargs):
        assemble_jacobian(snes, x, J, P, *args, **kargs)
        if not math.isfinite(J.norm()):
            failed[0] = True
            for mat in (J,) if P is None or P.handle == J.handle else (J, P):
                mat.zeroEntries()
                mat.shift(1.0)

    def residual(snes, x, b, *args, **kargs):
        assemble_residual(snes, x, b, *args, **kargs)
        if failed[0]:
            b.set(math.nan)

    snes.setJacobian(jacobian, problem.A, problem.P_mat, args=jargs, kargs=jkargs)
    snes.setFunction(residual, vec, args=fargs, kargs=fkargs)


def _next() -> int:
    _COUNTER[0] += 1
    return _COUNTER[0]


def region_indicator(data: MeshData, names: list[str]) -> fem.Function:
    """DG0 function equal to 1 on cells of the named regions, 0 elsewhere."""
    V0 = fem.functionspace(data.domain, ("DG", 0))
    f = fem.Function(V0)
    tags = [REGION[n] for n in names]
    f.x.array[data.cells.indices[np.isin(data.cells.values, tags)]] = 1.0
    f.x.scatter_forward()
    return f


def region_field(data: MeshData, values: dict[str, float]) -> fem.Function:
    """DG0 function taking ``values[name]`` on the cells of each named region (0 elsewhere)."""
    V0 = fem.functionspace(data.domain, ("DG", 0))
    f = fem.Function(V0)
    for name, value in values.items():
        f.x.array[data.cells.indices[data.cells.values == REGION[name]]] = value
    f.x.scatter_forward()
    return f


class ElectroThermal:
    """Coupled φ–T problem on one mesh, solved by Newton (PETSc SNES, LU).

    Parameters
    ----------
    data
        Mesh and tags (contacts tagged ``active_contact`` and ``counter_contact``).
    medium
        Object with UFL-returning methods ``sigma(T, c)`` [S/m], ``kappa(sigma, T)``
        [W/(m K)] and ``rho_cp(c)`` [J/(m³ K)].
    ambient
        Contact (heat-sink) temperature [K].
    series_resistance, compliance_current
        External circuit [Ω], [A]; ``series_resistance = 0`` applies V_src directly.
    current_window
        (z_a, z_b) [m]: the current is measured as the flux through this slab.
    degree
        Lagrange degree of φ and T.
    heat_sinks
        Boundaries held at ``ambient`` (names in :data:`~devicephys.filament.mesh.BOUNDARY`);
        the others are adiabatic.
    """

    def __init__(self, data: MeshData, medium, *, ambient: float, series_resistance: float = 0.0,
                 compliance_current: float = math.inf, current_window: tuple[float, float], degree: int = 1,
                 heat_sinks: tuple[str, ...] = ("active_contact", "counter_contact")):
        self.data, self.medium, self.ambient = data, medium, ambient
        dom = data.domain
        # Separate (identical) spaces so that Dirichlet conditions attach to one block each.
        self.V = fem.functionspace(dom, ("Lagrange", degree))
        self.W = fem.functionspace(dom, ("Lagrange", degree))
        self.phi, self.T, self.T_old = fem.Function(self.V), fem.Function(self.W), fem.Function(self.W)
        self.c = fem.Function(fem.functionspace(dom, ("Lagrange", 1)))
        for f in (self.T, self.T_old):
            f.x.array[:] = ambient
        self.v_src = fem.Constant(dom, 0.0)
        self.inv_dt = fem.Constant(dom, 0.0)
        x = ufl.SpatialCoordinate(dom)
        self.weight = 2 * math.pi * x[0] if data.axisymmetric else 1.0
        self.ds = ufl.Measure("ds", domain=dom, subdomain_data=data.facets)
        self.dx = ufl.Measure("dx", domain=dom)
        self.R_s, self.I_cc = series_resistance, compliance_current
        self.heat_sinks = tuple(BOUNDARY[name] for name in heat_sinks)
        self._chi = self._window(current_window)
        self._build(degree)

    # -- forms ----------------------------------------------------------------
    def _window(self, window: tuple[float, float]) -> fem.Function:
        za, zb = window
        chi = fem.Function(self.V)
        zaxis = self.data.domain.geometry.dim - 1
        chi.interpolate(lambda x: np.clip((x[zaxis] - za) / (zb - za), 0.0, 1.0))
        return chi

    def _inflow(self, phi):
        """Current density [A/m²] entering the active contact from the source."""
        area = fem.assemble_scalar(fem.form(self.weight * self.ds(BOUNDARY["active_contact"])))
        self.contact_area = self.data.domain.comm.allreduce(area, op=MPI.SUM)
        if math.isinf(self.I_cc):
            return (self.v_src - phi) / (self.R_s * self.contact_area)
        x = (self.v_src - phi) / (self.I_cc * self.R_s)
        return self.I_cc / self.contact_area * x / ufl.sqrt(1 + x * x)

    def _build(self, degree: int) -> None:
        med, w = self.medium, self.weight
        extra = getattr(med, "quadrature_extra", None)  # see CellMedium.quadrature_extra
        dx = self.dx if extra is None else self.dx(metadata={"quadrature_degree": 2 * degree + 1 + extra})
        phi, T = self.phi, self.T
        q, v = ufl.TestFunction(self.V), ufl.TestFunction(self.W)
        sigma = med.sigma(T, self.c)
        heating = med.local_heating(sigma, self.c) if hasattr(med, "local_heating") else sigma
        kappa = med.kappa(sigma, T)
        F_phi = sigma * ufl.inner(ufl.grad(phi), ufl.grad(q)) * w * dx
        F_T = (med.rho_cp(self.c) * (T - self.T_old) * self.inv_dt * v * w * dx
               + kappa * ufl.inner(ufl.grad(T), ufl.grad(v)) * w * dx
               - heating * ufl.inner(ufl.grad(phi), ufl.grad(phi)) * v * w * dx)
        phi_bcs, t_bcs = self._dirichlet()
        options = snes_options(self.data.domain.comm)
        bcs = phi_bcs + t_bcs
        if self.R_s > 0:
            F_phi -= self._inflow(phi) * q * w * self.ds(BOUNDARY["active_contact"])
        else:
            self.contact_area = 1.0
        self.problem = NonlinearProblem([F_phi, F_T], [phi, T], bcs=bcs, kind="mpi",
                                        petsc_options_prefix=f"dp_et{_next()}_", petsc_options=options)
        self._norms: list[float] = []
        #: Solver statistics (counts over every solve; identical on every rank): see :meth:`solve`.
        self.stats = {"newton_solves": 0, "newton_iterations": 0, "line_search_fallbacks": 0,
                      "unconverged_accepted": 0, "staggered_fallbacks": 0, "failed_solves": 0}
        self._updates: list[float] = []

        def monitor(snes, it, norm):
            self._norms.append(float(norm))
            if it > 0:
                self._updates.append(float(snes.getSolutionUpdate().norm(3)))  # max |Δφ|, |ΔT|

        self.problem.solver.setMonitor(monitor)
        self._bad_jacobian = [False]
        # Fallback: the same two equations solved one after the other (each by SNES Newton).
        self.problem_phi = NonlinearProblem(F_phi, phi, bcs=phi_bcs, petsc_options_prefix=f"dp_ep{_next()}_",
                                            petsc_options=options)
        self.problem_T = NonlinearProblem(F_T, T, bcs=t_bcs, petsc_options_prefix=f"dp_et{_next()}_",
                                          petsc_options=options)
        for prob in (self.problem, self.problem_phi, self.problem_T):
            _guard_jacobian(prob, self._bad_jacobian)
        n = ufl.FacetNormal(self.data.domain)
        zaxis = self.data.domain.geometry.dim - 1
        self._forms = {
            "current": fem.form(-sigma * phi.dx(zaxis) * self._chi.dx(zaxis) * w * dx),
            "joule": fem.form(sigma * ufl.inner(ufl.grad(phi), ufl.grad(phi)) * w * dx),
            "ballistic": fem.form((sigma - heating) * ufl.inner(ufl.grad(phi), ufl.grad(phi)) * w * dx),
            "heat_out": fem.form(-kappa * ufl.inner(ufl.grad(T), n) * w * self.ds(self.heat_sinks)),
            "v_contact": fem.form(phi * w * self.ds(BOUNDARY["active_contact"])),
            "area": fem.form(w * self.ds(BOUNDARY["active_contact"])),
        }

    def _dirichlet(self) -> tuple[list, list]:
        """(conditions on φ, conditions on T)."""
        fdim = self.data.domain.topology.dim - 1
        tags = self.data.facets
        top_facets = tags.indices[tags.values == BOUNDARY["counter_contact"]]
        bottom_facets = tags.indices[tags.values == BOUNDARY["active_contact"]]
        top = fem.locate_dofs_topological(self.V, fdim, top_facets)
        bottom = fem.locate_dofs_topological(self.V, fdim, bottom_facets)
        sink = fem.locate_dofs_topological(self.W, fdim, tags.indices[np.isin(tags.values, self.heat_sinks)])
        phi_bcs = [fem.dirichletbc(0.0, top, self.V)]
        if self.R_s == 0:
            phi_bcs.append(fem.dirichletbc(self.v_src, bottom, self.V))
        return phi_bcs, [fem.dirichletbc(self.ambient, sink, self.W)]

    # -- solving ----------------------------------------------------------------
    def solve(self, source_voltage: float, dt: float | None = None, rtol: float = 1e-6) -> bool:
        """One implicit (backward Euler) step of length ``dt`` [s], or the steady state if ``dt`` is None.

        ``rtol`` is Newton's relative residual tolerance.  Returns True when
        Newton converged; on failure φ and T are restored.
        """
        for prob in (self.problem, self.problem_phi, self.problem_T):
            prob.solver.setTolerances(rtol=rtol)
        self.v_src.value = source_voltage
        self.inv_dt.value = 0.0 if dt is None else 1.0 / dt
        saved = self.phi.x.array.copy(), self.T.x.array.copy()
        search = self.problem.solver.getLineSearch()
        for kind in ("basic", "bt"):  # full Newton steps first; backtracking if they fail
            search.setType(kind)
            self._norms.clear()
            self._updates.clear()
            self._bad_jacobian[0] = False
            self.problem.solve()
            # The residual mixes metal and insulator rows 20 decades apart and may stagnate at the
            # metal rows' round-off: a 1e-6 reduction, or Newton updates below 1 µV / 1 µK, also count.
            reduced = ((len(self._norms) > 1 and self._norms[-1] <= rtol * self._norms[0])
                       or (len(self._updates) > 1 and max(self._updates[-2:]) < 1e-6))
            converged = self.problem.solver.getConvergedReason() > 0
            ok = (converged or reduced) and not self._bad_jacobian[0] and self._temperature_valid()
            self.stats["newton_solves"] += 1
            self.stats["newton_iterations"] += max(len(self._norms) - 1, 0)
            if ok:
                self.stats["line_search_fallbacks"] += kind == "bt"
                self.stats["unconverged_accepted"] += not converged  # accepted on stagnation at round-off
                break
            self.phi.x.array[:], self.T.x.array[:] = saved
        search.setType("basic")
        if not ok:
            ok = self._staggered()
            self.stats["staggered_fallbacks" if ok else "failed_solves"] += 1
            if not ok:
                self.phi.x.array[:], self.T.x.array[:] = saved
        return bool(ok)

    def _staggered(self, max_sweeps: int = 30, tol: float = 1e-4) -> bool:
        """φ then T, repeated until T changes by less than ``tol`` [K]: for states where the
        monolithic Jacobian (metal and insulator 20 decades apart) defeats the direct solver."""
        for _ in range(max_sweeps):
            before = self.T.x.array.copy()
            for prob in (self.problem_phi, self.problem_T):
                self._bad_jacobian[0] = False
                prob.solve()
                reason = prob.solver.getConvergedReason()
                if self._bad_jacobian[0] or (reason <= 0 and reason != -5):
                    return False
            if not self._temperature_valid():
                return False
            if self.temperature_change(before) < tol:
                return True
        return False

    # Under MPI every rank holds only its part of T: each decision taken from T is reduced over
    # the ranks first, so that all of them take the same branch (and the same collective calls).
    def _temperature_valid(self) -> bool:
        """T finite and above 0 K on every rank (collective)."""
        T = self.T.x.array
        local = bool(np.isfinite(T).all() and np.min(T, initial=np.inf) > 0)
        return bool(self.data.domain.comm.allreduce(local, op=MPI.LAND))

    def temperature_change(self, before: np.ndarray) -> float:
        """Largest |T − before| [K] over all ranks (collective); ``before`` is a copy of ``T.x.array``."""
        local = float(np.max(np.abs(self.T.x.array - before), initial=0.0))
        return float(self.data.domain.comm.allreduce(local, op=MPI.MAX))

    def steady(self, source_voltage: float) -> bool:
        """Steady state at ``source_voltage`` [V], by voltage continuation if a direct Newton solve fails."""
        if self.solve(source_voltage, rtol=1e-10):
            return True
        start = float(self.v_src.value)
        for n in (4, 16, 64):
            if all(self.solve(start + (source_voltage - start) * k / n, rtol=1e-10) for k in range(1, n + 1)):
                return True
        return False

    def accept(self) -> None:
        """Make the current temperature the start of the next time step."""
        self.T_old.x.array[:] = self.T.x.array

    def reset_temperature(self) -> None:
        """Uniform ambient temperature and zero potential."""
        for f in (self.T, self.T_old):
            f.x.array[:] = self.ambient
        self.phi.x.array[:] = 0.0

    def newton_iterations(self) -> int:
        return int(self.problem.solver.getIterationNumber())

    def _integral(self, name: str) -> float:
        return self.data.domain.comm.allreduce(fem.assemble_scalar(self._forms[name]), op=MPI.SUM)

    def current(self) -> float:
        """Current [A] through the measuring slab (positive from active to counter electrode)."""
        return self._integral("current")

    def joule_power(self) -> float:
        """Electrical power dissipated by the cell, ∫σ|∇φ|² dV [W] (= I V_cell)."""
        return self._integral("joule")

    def ballistic_power(self) -> float:
        """Part [W] of :meth:`joule_power` in ballistic conduction (point contact, tunnelling gap), released in
        the electrodes and handed to the heat sinks, not to the field T (0 for media without such parts)."""
        return self._integral("ballistic")

    def heat_outflow(self) -> float:
        """Heat [W] leaving through the two contacts (−∫κ ∂T/∂n dA); steady: joule − ballistic power."""
        return self._integral("heat_out")

    def cell_voltage(self) -> float:
        """Mean potential [V] of the active contact (the counter contact is at 0 V)."""
        return self._integral("v_contact") / self._integral("area")

    def max_temperature(self) -> float:
        """Largest nodal temperature [K]."""
        return self.data.domain.comm.allreduce(float(np.max(self.T.x.array, initial=-np.inf)), op=MPI.MAX)

    def axis_values(self, z_lo: float, z_hi: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(z, φ, T) at the dofs on the axis with z_lo <= z <= z_hi, sorted by z, on every rank."""
        key = (z_lo, z_hi)
        if getattr(self, "_axis_key", None) != key:
            xs = self.V.tabulate_dof_coordinates()
            owned = self.V.dofmap.index_map.size_local
            tol = 1e-6 * (z_hi - z_lo)
            self._axis_sel = np.flatnonzero((np.abs(xs[:owned, 0]) < tol) & (xs[:owned, 1] > z_lo - tol)
                                            & (xs[:owned, 1] < z_hi + tol))
            self._axis_z, self._axis_key = xs[self._axis_sel, 1], key
        sel = self._axis_sel
        local = np.column_stack([self._axis_z, self.phi.x.array[sel], self.T.x.array[sel]])
        rows = np.concatenate(self.data.domain.comm.allgather(local))
        rows = rows[np.argsort(rows[:, 0])]
        return rows[:, 0], rows[:, 1], rows[:, 2]

    def set_concentration(self, func) -> None:
        """Set the Ag fraction c from ``func(points) -> values`` (points: array (3, n) in metres)."""
        self.c.interpolate(func)
        self.c.x.scatter_forward()


class CellMedium:
    """σ(c, T), κ and ρc_p of the cell: metals by region, the insulator's channel by c.

    Metals follow σ_ref / (1 + α (T − T_ref)) with T_ref the temperature of their
    resistivity data (293 K), not the ambient.  The channel is the filament of
    :func:`~devicephys.filament.properties.filament_conductivity`: a size-effect
    wire where c is above the percolation threshold, in series with the
    insulating phase, which carries the matrix leakage σ_ins plus ``gap_conductivity``
    σ_t [S/m].  The caller sets c(z) along the axis; ψ(r) (1 inside the channel above the
    seed, 0 outside, :func:`channel_indicator`) confines it: σ = (1 − ψ) σ_ins + ψ σ_ch,
    so every cross-section carries the channel law on the same area A_ψ.

    σ_t is one number per time step, set by the caller from the filament's
    shape (:class:`~devicephys.filament.conduction.ChannelConduction`): the
    tunnelling conductance of the gap in series with the Landauer contact of
    the narrowest cross-section, G_gap, spread as σ_t = G_gap d_eff / A_ψ with
    d_eff = ∫(1 − S) dz along the axis and A_ψ = ∫ψ dA, so that the insulating
    phase integrates to exactly 1/G_gap along the channel.  These two ballistic
    resistances are lumped elements: a field law for them (σ_t as a function
    of the local voltage, gap and radius inside the forms) would make every
    Newton iteration evaluate the Simmons integral and the mode count at each
    quadrature point, for a quantity that is one number per filament.  Their
    power is not heat in the gap: it is released in the electrodes
    (:meth:`local_heating`).  Spread as a conductivity, they would heat the gap
    by Wiedemann–Franz to the Kohlrausch bound T² − T₀² = V²/(4 L₀), thousands
    of K at volts across a tunnelling gap.
    κ = κ_lattice + L₀ σ T everywhere (κ_lattice is the insulator's in the
    insulator and 0 in metals: pure Wiedemann–Franz).
    """

    #: Quadrature degree of the forms above the 2k + 1 that integrates every term's polynomial part (elements
    #: of degree k, the 2πr weight) exactly: the laws nest exponentials and quotients of c and T, whose
    #: degree UFL estimates at 12 to 29 (five times the cost per Newton iteration), yet they vary smoothly
    #: over one element except at the filament's tip, which the lumped gap carries.  The conduction checks
    #: (tests/filament/test_filament_conduction_fem.py) hold at this degree.
    quadrature_extra = 3

    def __init__(self, data: MeshData, spec):
        from devicephys import materials

        act, cnt, ins = (materials.get(getattr(spec, n)) for n in ("active_electrode", "counter_electrode", "insulator"))
        metal_regions = {"active_electrode": act, "counter_electrode": cnt, "seed": act}
        self.is_metal = region_indicator(data, list(metal_regions))
        self.sigma_ref = region_field(data, {k: m["electrical_conductivity"] for k, m in metal_regions.items()})
        self.alpha = region_field(data, {k: m["temperature_coefficient"] for k, m in metal_regions.items()})
        self.T_ref = region_field(data, {k: m["reference_temperature"] for k, m in metal_regions.items()})
        self.rho_cp_metal = region_field(data, {k: m["density"] * m["specific_heat"] for k, m in metal_regions.items()})
        self.kappa_lattice = region_field(data, {"insulator": ins["thermal_conductivity"]})
        self.channel_metal = act
        self.insulator = ins
        self.spec = spec
        #: σ_t [S/m]: the lumped gap and contact conductance spread over the channel's insulating phase.
        self.gap_conductivity = fem.Constant(data.domain, 0.0)
        self.in_channel = fem.Function(fem.functionspace(data.domain, ("Lagrange", 1)))
        dim = data.domain.geometry.dim
        self.in_channel.interpolate(lambda x: np.where(x[dim - 1] >= spec.seed_height * (1 - 1e-9),
                                                       channel_indicator(x, spec.channel_radius, dim), 0.0))
        self.channel_area = self._channel_area(data, spec)

    def _channel_area(self, data: MeshData, spec) -> float:
        """A_ψ = ∫ψ dA [m²] over a cross-section of the channel above the seed (ψ ≈ 0 beside the wider seed)."""
        x = ufl.SpatialCoordinate(data.domain)
        weight = 2 * math.pi * x[0] if data.axisymmetric else 1.0
        dx = ufl.Measure("dx", domain=data.domain, subdomain_data=data.cells)(REGION["insulator"])
        volume = fem.assemble_scalar(fem.form(self.in_channel * weight * dx))
        return data.domain.comm.allreduce(volume, op=MPI.SUM) / (spec.insulator_thickness - spec.seed_height)

    def _channel(self, T, c):
        """(σ_ch [S/m] of the channel's filament law, its insulating phase's σ_gap [S/m], weight S [1])."""
        s, ag = self.spec, self.channel_metal
        key = (id(T), id(c))
        if getattr(self, "_cached", (None,))[0] != key:  # one expression per (T, c): the forms share its nodes
            surface = 3.0 * ag["mean_free_path"] / (8.0 * s.channel_radius * ag["electrical_conductivity"])
            gap = self.insulator["electrical_conductivity"] + self.gap_conductivity
            channel = law.filament_conductivity(c, T, gap, ag["electrical_conductivity"],
                                                ag["temperature_coefficient"], ag["reference_temperature"], surface,
                                                s.percolation_threshold, s.percolation_width, ufl)
            weight = law.percolation_weight(c, s.percolation_threshold, s.percolation_width, ufl)
            self._cached = (key, (channel, gap, weight))
        return self._cached[1]

    def sigma(self, T, c):
        """σ [S/m]; ``c`` is the channel's metal fraction c(z), confined here to the channel by ψ(r)."""
        metal = law.metal_conductivity(T, self.sigma_ref, self.alpha, self.T_ref)
        channel, _, _ = self._channel(T, c)
        psi = self.in_channel
        matrix = (1 - psi) * self.insulator["electrical_conductivity"] + psi * channel
        self._heating_args = (T, c)
        return self.is_metal * metal + (1 - self.is_metal) * matrix

    def local_heating(self, sigma, c):
        """σ_J [S/m] with σ_J |∇φ|² the Joule heat released where the current flows.

        σ_J = σ − ψ σ_ch² ρ_b, with ρ_b = (1 − S)/σ_gap the insulating phase's share of
        the channel's resistivity (the lumped contact and gap; the matrix's own leakage
        there, 10⁻¹³ S/m, below 10⁻¹² W, is counted with it): ψ ρ_b |J_ch|² is the power
        those elements take.  Electrons cross a point contact or a tunnelling gap without
        scattering and release that energy in the electrode they enter, over the inelastic
        length (tens of nm, longer than the filament); silver conducts it to the contact
        with a rise P / (2π κ_Ag λ_in) below 1 K at the powers here, so it is handed to the
        heat sinks (and counted by ``ElectroThermal.ballistic_power``).  Written on the
        nodes of σ's own expression (``sigma`` from :meth:`sigma` with the same c), this
        adds a product to the forms, not a second copy of the law.
        """
        channel, gap, weight = self._channel(*self._heating_args)
        return sigma - (1 - self.is_metal) * self.in_channel * channel * channel * (1.0 - weight) / gap

    def silver_fraction(self, c):
        """Ag volume fraction [1] in the cell: the channel's c(z) times ψ(r)."""
        return c * self.in_channel

    def kappa(self, sigma, T):
        return law.thermal_conductivity(sigma, T, self.kappa_lattice)

    def rho_cp(self, c):
        ins = self.insulator["density"] * self.insulator["specific_heat"]
        ag = self.channel_metal["density"] * self.channel_metal["specific_heat"]
        return (self.is_metal * self.rho_cp_metal
                + (1 - self.is_metal) * law.heat_capacity(self.silver_fraction(c), ins, ag))


def channel_indicator(x: np.ndarray, channel_radius: float, dim: int) -> np.ndarray:
    """ψ(r) [1] at points ``x`` (3, n) [m]: 1 inside the channel radius, 0 outside, over a tenth of r_ch.

    The same edge confines c to the channel (:meth:`~devicephys.filament.simulate.CellModel`).
    """
    r = np.abs(x[0]) if dim == 2 else np.hypot(x[0], x[1])
    return 1.0 / (1.0 + np.exp(np.clip((r - channel_radius) / (0.1 * channel_radius), -50, 50)))


class FieldWriter:
    """φ, T and c at chosen times, written to one XDMF file (with its HDF5 data) for ParaView.

    The files are written under temporary ``.<stem>.partial`` names and only
    get their final names in :meth:`close` with ``complete=True``: an
    interrupted run never leaves a half-written ``fields.xdmf``.
    """

    def __init__(self, problem: ElectroThermal, path: str):
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


def temperature_map(problem: ElectroThermal) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def l2_error(problem: ElectroThermal, exact) -> float:
    """‖T − T_exact‖ / ‖T_exact − T_ambient‖ (weighted L2) for ``exact(x)`` a UFL expression builder."""
    x = ufl.SpatialCoordinate(problem.data.domain)
    w, dx = problem.weight, problem.dx
    te = exact(x)
    comm = problem.data.domain.comm
    num = comm.allreduce(fem.assemble_scalar(fem.form((problem.T - te) ** 2 * w * dx)), op=MPI.SUM)
    den = comm.allreduce(fem.assemble_scalar(fem.form((te - problem.ambient) ** 2 * w * dx)), op=MPI.SUM)
    return math.sqrt(num / den)
