"""The DOLFINx electrothermal solver: potential φ and temperature T, coupled, by SNES Newton.

This module, with :mod:`~devicephys.filament.fem.medium` (the cell's material laws as
UFL expressions) and :mod:`~devicephys.filament.fem.fields` (field output and
post-processing), is the filament stage's DOLFINx engine: no other module of
devicephys imports DOLFINx.  It solves, on an
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

from devicephys.filament.mesh import BOUNDARY, GMSH_UNIT, REGION, CellGeometry

_SNES = {"snes_type": "newtonls", "snes_linesearch_type": "basic", "snes_rtol": 1e-6, "snes_atol": 1e-30,
         "snes_stol": 1e-10, "snes_max_it": 15, "ksp_type": "preonly", "pc_type": "lu",
         "pc_factor_zeropivot": 1e-300}
_COUNTER = [0]
#: [1] largest secant coefficient |γ| of the staggered solve's acceleration (beyond it the plain sweep is kept).
_SECANT_LIMIT = 10.0
#: [1] default relative residual tolerance of the monolithic Newton (``ElectroThermal(newton_rtol=...)``).  A staggered
#: sweep that moves φ by less than this fraction of the source voltage, and T by less than
#: :data:`_T_TOL_PER_RTOL` times it, ends the staggered solve.
_NEWTON_RTOL = 1e-6
#: [K] the staggered solve's temperature tolerance per unit of the Newton's relative tolerance: 1e-4 K at 1e-6.
_T_TOL_PER_RTOL = 100.0
#: [1] a full-step (undamped) Newton attempt that still has a residual above its start after this many iterations
#: is given up for the backtracking one (see :meth:`ElectroThermal._solve`).
_FULL_STEP_PATIENCE = 3
#: the staggered solve is given up as stalled when, after at least :data:`_STALL_AFTER` sweeps, its last two sweeps'
#: largest change (each field's change in units of its tolerance) is above :data:`_STALL_RATIO` [1] times that of the
#: two sweeps before: a contraction that slow (a rate above 0.95 per sweep) or a 2-cycle is left to the monolithic
#: retry instead of running to ``max_sweeps``.
_STALL_AFTER = 8
_STALL_RATIO = 0.9
#: C compiler flags of the forms that every Newton iteration assembles (DOLFINx's default is -O2).  Their kernels
#: evaluate the nested material laws at every quadrature point and set the cost of an assembly (the coupled Jacobian,
#: then a blocked form of four kernels, 4.4 ms at -O2, 3.5 ms at -O3, against 0.3 ms for a Laplacian on the same
#: mesh; one kernel on the two-component space since, 1.4 ms: :meth:`ElectroThermal._build`).  -O3 keeps IEEE arithmetic (no
#: reassociation, and no fused multiply-add on the baseline instruction set), so the fast preset's whole stage gave the
#: same filament.nc to the last bit at both levels, 5 % faster (medians of two alternating runs in one process: the
#: sweep 26.8 -> 25.5 s, the stage 43.8 -> 41.5 s).  No -march=native: a JIT cache shared
#: between machines of different processors would then hold code that one of them cannot run.
_JIT = {"cffi_extra_compile_args": ["-O3", "-g0"]}


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
    if "_blocks" not in fkargs and not isinstance(fkargs["residual"], (list, tuple)):
        assemble_residual, fkargs = _residual_lifting_when_needed(vec), {k: fkargs[k] for k in ("u", "residual",
                                                                                                 "jacobian", "bcs")}

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


def _residual_lifting_when_needed(vec):
    """SNES residual callback: DOLFINx's ``assemble_residual`` of one form, its lifting left out when ``x``
    already holds the Dirichlet values.

    The lifting adds −J(x)(g − x) over the cells that touch the Dirichlet dofs, a Jacobian kernel on those
    cells; where g − x is zero on every Dirichlet dof it adds zeros.  The cell's Dirichlet values (the grounded
    counter contact, the sinks' ambient temperature) are constants that every Newton iterate already holds, so
    on the fast preset's stage all 9664 residual assemblies lifted a zero (counted): the same residual, to the
    last bit, without it.  Any other g − x (a Dirichlet source moving with the drive) is lifted as before.  The
    test is collective (the largest |g − x| over every rank's owned dofs; the ghosts copy owned values).
    """
    from dolfinx.fem import petsc as fem_petsc
    from petsc4py import PETSc

    scratch = vec.duplicate()

    def residual(snes, x, b, u, residual, jacobian, bcs):
        x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        fem_petsc.assign(x, u)
        with b.localForm() as local:
            local.set(0.0)
        fem_petsc.assemble_vector(b, residual)
        if bcs:
            with scratch.localForm() as local:
                local.set(0.0)
            fem_petsc.set_bc(scratch, bcs, x0=x, alpha=1.0)
            if scratch.norm(PETSc.NormType.NORM_INFINITY) != 0.0:  # NaN lifts too
                fem_petsc.apply_lifting(b, [jacobian], bcs=[bcs], x0=[x], alpha=-1.0)
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        fem_petsc.set_bc(b, bcs, x0=x, alpha=-1.0)
        b.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)

    return residual


def _snes_solve(problem: NonlinearProblem) -> None:
    """``problem.solve()``; an interruption (Ctrl-C, or the command's SIGTERM) raised inside one of the
    Python callbacks that SNES calls comes back as itself.  petsc4py turns an exception in a callback into
    a PETSc error code, and the solve then fails with an unrelated PETSc error, which is not an interruption
    and would end the command with a traceback instead of keeping its finished outputs."""
    try:
        problem.solve()
    except Exception as exc:
        cause = exc.__cause__ or exc.__context__
        while cause is not None:
            if isinstance(cause, KeyboardInterrupt):
                raise cause from None
            cause = cause.__cause__ or cause.__context__
        raise


def stalled(changes: list[float]) -> bool:
    """Whether a fixed-point iteration whose sweeps changed its fields by ``changes`` (each in units of its
    tolerance, all above 1) has stalled: after :data:`_STALL_AFTER` sweeps, the last two sweeps' largest change
    is above :data:`_STALL_RATIO` times that of the two before (no contraction, or a 2-cycle)."""
    return len(changes) >= _STALL_AFTER and max(changes[-2:]) > _STALL_RATIO * max(changes[-4:-2])


def _next() -> int:
    _COUNTER[0] += 1
    return _COUNTER[0]


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
    sink_conductance
        Thermal boundary conductance h [W/(m² K)] between the heat sinks and the ambient: the sinks lose
        the heat flux h (T − ambient) (a Robin condition: an interface of conductance h, e.g. electrode to
        substrate, in series with a bath at the ambient).  None (default): the sinks are held at the
        ambient (h → ∞).
    newton_rtol
        Relative residual tolerance [1] of the monolithic Newton; the staggered fallback and the
        potential-only solves end on steps below it times the source voltage (φ) and below
        :data:`_T_TOL_PER_RTOL` times it (T, in K).
    """

    def __init__(self, data: MeshData, medium, *, ambient: float, series_resistance: float = 0.0,
                 compliance_current: float = math.inf, current_window: tuple[float, float], degree: int = 1,
                 heat_sinks: tuple[str, ...] = ("active_contact", "counter_contact"), newton_rtol: float = _NEWTON_RTOL,
                 sink_conductance: float | None = None):
        self.data, self.medium, self.ambient = data, medium, ambient
        if sink_conductance is not None and not (math.isfinite(sink_conductance) and sink_conductance > 0):
            raise ValueError(f"sink_conductance = {sink_conductance}: must be a positive finite W/(m^2 K), or None "
                             "for sinks held at the ambient")
        self.sink_conductance = sink_conductance
        self._p_last: float | None = None  # ballistic power [W] of the last solved state (None: read the current one)
        self.rtol = float(newton_rtol)
        dom = data.domain
        # The coupled Newton works on one two-component space (φ, T) node by node (:meth:`_build`); φ and T are its
        # components collapsed to spaces of their own, which the single-field solves and everything else use.
        self.M = fem.functionspace(dom, ("Lagrange", degree, (2,)))
        self.V, self._dofs_phi = self.M.sub(0).collapse()
        self.W, self._dofs_T = self.M.sub(1).collapse()
        self.u = fem.Function(self.M)  # (φ, T) of the coupled Newton: copied from φ and T before, back after
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

    def _window_cells(self, dx) -> ufl.Measure:
        """``dx`` restricted to the cells on which the window χ varies: elsewhere ∇χ is zero and the current's
        integrand adds zeros.  Exact for P1, whose gradient of a constant is zero to the bit (the reference
        gradients are −1, 0, 1), so the current is the same to the last bit (checked on the fast preset's stage);
        for higher degrees the cells with constant χ are kept.  The fast preset's window holds 595 of the 997
        cells: 0.25 ms per current against 0.41 ms (``benchmarks/bench_filament.py --assembly``)."""
        dom = self.data.domain
        tdim = dom.topology.dim
        values = self._chi.x.array[self.V.dofmap.list]  # every local cell's χ dofs, ghosts included
        varies = values.max(axis=1) != values.min(axis=1)
        if self.V.element.basix_element.degree != 1:
            varies |= values.max(axis=1) != 0.0
        cells = np.flatnonzero(varies).astype(np.int32)
        tags = mesh.meshtags(dom, tdim, cells, np.ones(cells.size, dtype=np.int32))
        return dx(1, subdomain_data=tags)

    def _inflow(self, phi):
        """Current density [A/m²] entering the active contact from the source."""
        area = fem.assemble_scalar(fem.form(self.weight * self.ds(BOUNDARY["active_contact"])))
        self.contact_area = self.data.domain.comm.allreduce(area, op=MPI.SUM)
        if math.isinf(self.I_cc):
            return (self.v_src - phi) / (self.R_s * self.contact_area)
        x = (self.v_src - phi) / (self.I_cc * self.R_s)
        return self.I_cc / self.contact_area * x / ufl.sqrt(1 + x * x)

    def _equations(self, phi, T, q, v, dx) -> tuple:
        """(F_φ, F_T, σ, σ_J, κ, the heat-sink flux) of the fields ``phi``, ``T`` with test functions ``q``, ``v``."""
        med, w = self.medium, self.weight
        sigma = med.sigma(T, self.c)
        heating = med.local_heating(sigma, self.c) if hasattr(med, "local_heating") else sigma
        kappa = med.kappa(sigma, T)
        F_phi = sigma * ufl.inner(ufl.grad(phi), ufl.grad(q)) * w * dx
        F_T = (med.rho_cp(self.c) * (T - self.T_old) * self.inv_dt * v * w * dx
               + kappa * ufl.inner(ufl.grad(T), ufl.grad(v)) * w * dx
               - heating * ufl.inner(ufl.grad(phi), ufl.grad(phi)) * v * w * dx)
        sinks = self.ds(self.heat_sinks)
        if self.sink_conductance is not None:
            # Robin: the sinks lose h (T − ambient), and the ballistic power, released in the electrodes, crosses
            # the same interface: spread evenly over the sinks (silver holds the electrodes within a kelvin at these
            # powers), a source taken from the last state (:meth:`solve`)
            loss = self._h * (T - self._t_amb) - self._p_ballistic / self._sink_area
            F_T += loss * v * w * sinks
            heat_out = loss * w * sinks
        else:
            heat_out = -kappa * ufl.inner(ufl.grad(T), ufl.FacetNormal(self.data.domain)) * w * sinks
        if self.R_s > 0:
            F_phi -= self._inflow(phi) * q * w * self.ds(BOUNDARY["active_contact"])
        return F_phi, F_T, sigma, heating, kappa, heat_out

    def _build(self, degree: int) -> None:
        med, w = self.medium, self.weight
        extra = getattr(med, "quadrature_extra", None)  # see CellMedium.quadrature_extra
        dx = self.dx if extra is None else self.dx(metadata={"quadrature_degree": 2 * degree + 1 + extra})
        phi, T = self.phi, self.T
        dom = self.data.domain
        if self.sink_conductance is not None:
            self._h, self._t_amb = fem.Constant(dom, self.sink_conductance), fem.Constant(dom, self.ambient)
            self._sink_area = dom.comm.allreduce(fem.assemble_scalar(fem.form(w * self.ds(self.heat_sinks))),
                                                 op=MPI.SUM)
            self._p_ballistic = fem.Constant(dom, 0.0)  # [W]
        q, v = ufl.TestFunction(self.V), ufl.TestFunction(self.W)
        F_phi, F_T, sigma, heating, kappa, heat_out = self._equations(phi, T, q, v, dx)
        if self.R_s <= 0:
            self.contact_area = 1.0
        phi_bcs, t_bcs = self._dirichlet()
        options = snes_options(dom.comm)
        F_ohmic = None
        if self.R_s > 0 and not math.isinf(self.I_cc):  # the same cell behind the bare resistor: see _circuit_start
            F_ohmic = (sigma * ufl.inner(ufl.grad(phi), ufl.grad(q)) * w * dx
                       - (self.v_src - phi) / (self.R_s * self.contact_area) * q * w * self.ds(BOUNDARY["active_contact"]))
        # The coupled Newton: both equations as one form on the two-component space, so that one kernel evaluates the
        # material laws (nested in σ(c, T)) once per quadrature point for all four blocks of the Jacobian, where the
        # blocked form [F_φ, F_T] on two spaces compiled a kernel per block, each evaluating them again: the Jacobian
        # assembles in 1.4 ms instead of 3.6 ms on the fast preset's mesh, the residual in 0.6 ms instead of 1.2 ms.
        test = ufl.TestFunction(self.M)
        F_u = self._equations(self.u[0], self.u[1], test[0], test[1], dx)
        self.problem = NonlinearProblem(F_u[0] + F_u[1], self.u, bcs=self._dirichlet(coupled=True), jit_options=_JIT,
                                        petsc_options_prefix=f"dp_et{_next()}_", petsc_options=options)
        self._norms: list[float] = []
        #: Solver statistics (counts over every solve; identical on every rank): see :meth:`solve`.
        self.stats = {"newton_solves": 0, "newton_iterations": 0, "newton_iterations_failed": 0,
                      "line_search_fallbacks": 0, "unconverged_accepted": 0, "staggered_fallbacks": 0,
                      "staggered_first": 0, "staggered_sweeps": 0, "staggered_stalled": 0, "failed_solves": 0, "circuit_starts": 0}
        self._updates: list[float] = []

        self._full_step = [False]  # the running attempt takes full Newton steps (line search "basic")
        self._divtol = self.problem.solver.getDivergenceTolerance()

        # the monitor holds the lists it fills, not self: PETSc keeps its callbacks where Python's garbage
        # collector cannot see them, so a callback holding self would keep the whole model (its mesh, and the MPI
        # communicators DOLFINx made for it) alive for ever after its last use
        norms, updates, full_step = self._norms, self._updates, self._full_step

        def monitor(snes, it, norm):
            norms.append(float(norm))
            if it > 0:
                updates.append(float(snes.getSolutionUpdate().norm(3)))  # max |Δφ|, |ΔT|
            if full_step[0] and it == _FULL_STEP_PATIENCE - 1:
                # from the next iteration on, SNES's own divergence test ends the attempt at a residual above
                # its start (SNES_DIVERGED_DTOL)
                snes.setDivergenceTolerance(1.0)

        self.problem.solver.setMonitor(monitor)
        self._bad_jacobian = [False]
        self._staggered_next = False  # the last solve needed the staggered fallback: try it first
        # Fallback: the same two equations solved one after the other (:meth:`_staggered`), one Newton step
        # per field and sweep (SNES "ksponly": F, J, one LU, no second residual); the sweeps iterate to the
        # joint fixed point, so the fields' own Newton iterations need not converge inside each.
        single = {**{k: v for k, v in options.items() if not k.startswith("snes_linesearch")}, "snes_type": "ksponly"}
        self.problem_phi = NonlinearProblem(F_phi, phi, bcs=phi_bcs, petsc_options_prefix=f"dp_ep{_next()}_",
                                            petsc_options=single, jit_options=_JIT)
        self.problem_T = NonlinearProblem(F_T, T, bcs=t_bcs, petsc_options_prefix=f"dp_et{_next()}_",
                                          petsc_options=single, jit_options=_JIT)
        self.problem_ohmic = (None if F_ohmic is None else
                              NonlinearProblem(F_ohmic, phi, bcs=phi_bcs, petsc_options_prefix=f"dp_eo{_next()}_",
                                               petsc_options=single, jit_options=_JIT))
        for prob in (self.problem, self.problem_phi, self.problem_T, self.problem_ohmic):
            if prob is not None:
                _guard_jacobian(prob, self._bad_jacobian)
        zaxis = self.data.domain.geometry.dim - 1
        self._forms = {
            "current": fem.form(-sigma * phi.dx(zaxis) * self._chi.dx(zaxis) * w * self._window_cells(dx)),
            "joule": fem.form(sigma * ufl.inner(ufl.grad(phi), ufl.grad(phi)) * w * dx),
            "ballistic": fem.form((sigma - heating) * ufl.inner(ufl.grad(phi), ufl.grad(phi)) * w * dx),
            "heat_out": fem.form(heat_out),
            "v_contact": fem.form(phi * w * self.ds(BOUNDARY["active_contact"])),
            "area": fem.form(w * self.ds(BOUNDARY["active_contact"])),
        }

    def _dirichlet(self, coupled: bool = False):
        """(conditions on φ, conditions on T); ``coupled``: both, as one list on the two-component space."""
        fdim = self.data.domain.topology.dim - 1
        tags = self.data.facets
        top_facets = tags.indices[tags.values == BOUNDARY["counter_contact"]]
        bottom_facets = tags.indices[tags.values == BOUNDARY["active_contact"]]
        sink_facets = tags.indices[np.isin(tags.values, self.heat_sinks)]
        V, W = (self.M.sub(0), self.M.sub(1)) if coupled else (self.V, self.W)
        phi_bcs = [fem.dirichletbc(0.0, fem.locate_dofs_topological(V, fdim, top_facets), V)]
        if self.R_s == 0:
            phi_bcs.append(fem.dirichletbc(self.v_src, fem.locate_dofs_topological(V, fdim, bottom_facets), V))
        t_bcs = ([] if self.sink_conductance is not None
                 else [fem.dirichletbc(self.ambient, fem.locate_dofs_topological(W, fdim, sink_facets), W)])
        return phi_bcs + t_bcs if coupled else (phi_bcs, t_bcs)

    def _to_coupled(self) -> None:
        """φ and T into the coupled Newton's (φ, T) (owned and ghost entries alike: no communication)."""
        self.u.x.array[self._dofs_phi] = self.phi.x.array
        self.u.x.array[self._dofs_T] = self.T.x.array

    def _from_coupled(self) -> None:
        self.phi.x.array[:] = self.u.x.array[self._dofs_phi]
        self.T.x.array[:] = self.u.x.array[self._dofs_T]

    # -- solving ----------------------------------------------------------------
    def solve(self, source_voltage: float, dt: float | None = None, rtol: float | None = None) -> bool:
        """One implicit (backward Euler) step of length ``dt`` [s], or the steady state if ``dt`` is None.

        ``rtol`` is the monolithic Newton's relative residual tolerance (default: ``newton_rtol``); the
        staggered fallback (:meth:`_staggered`) ends on its own, a sweep moving T by less than
        :data:`_T_TOL_PER_RTOL` × ``newton_rtol`` K (1e-4 K at the default) and φ by less than ``newton_rtol``
        of the source.  Returns True when a solve converged; on failure φ and T are restored.

        With a ``sink_conductance`` the ballistic power heating the sinks is that of the last solved state (first
        order in the step, as backward Euler; read from φ, T and c together, not from the old φ on a new c, which
        across a set would put the whole bias on the new bridge); a steady solve repeats until it moves by less
        than ``rtol`` of itself (at most 30 solves).
        """
        if self.sink_conductance is None:
            return self._solve(source_voltage, dt, rtol)
        if self._p_last is None:  # a fresh or restored state: φ, T and c belong together
            self._p_last = self.ballistic_power()
        self._p_ballistic.value = self._p_last
        ok = self._solve(source_voltage, dt, rtol)
        tol = self.rtol if rtol is None else rtol
        for _ in range(29 if dt is None else 0):
            power = self.ballistic_power()
            if not ok or abs(power - float(self._p_ballistic.value)) <= tol * abs(power):
                break
            self._p_ballistic.value = power
            ok = self._solve(source_voltage, dt, rtol)
        if ok:
            self._p_last = self.ballistic_power()
        return ok

    def _solve(self, source_voltage: float, dt: float | None, rtol: float | None) -> bool:
        rtol = self.rtol if rtol is None else rtol
        self.problem.solver.setTolerances(rtol=rtol)  # the staggered sweeps take single Newton steps
        self.v_src.value = source_voltage
        self.inv_dt.value = 0.0 if dt is None else 1.0 / dt
        saved = self.phi.x.array.copy(), self.T.x.array.copy()
        if self._staggered_next:
            # The last solve needed the staggered fallback: the monolithic Newton failed there, and one
            # time step later it mostly fails again, after up to 2 x snes_max_it wasted iterations.  So
            # the staggered solve goes first while it succeeds: the same equations, and over the 416
            # steps of the fast preset's sweep where both converge from the same start they agree to
            # 0.026 K and, in its 185 heated states, 1.0e-7 of the current.  On its failure the
            # monolithic path runs as usual.
            if self._staggered():
                self.stats["staggered_first"] += 1
                return True
            self.phi.x.array[:], self.T.x.array[:] = saved
            self._staggered_next = False
        search = self.problem.solver.getLineSearch()
        # Full Newton steps first; backtracking if they fail.  A full-step attempt whose residual is still above
        # its start after _FULL_STEP_PATIENCE iterations is given up at once: on the fast preset's sweep none of
        # the 673 converged attempts was above its start after 2 iterations (9 were after the first), while 134
        # of the failing ones ran all snes_max_it = 15 iterations (2010 of the 5524 Newton iterations), their
        # residual 1e2-1e4 times its start or stalled above it.  Those then converge with backtracking.
        for kind in ("basic", "bt"):
            search.setType(kind)
            self._full_step[0] = kind == "basic"
            self.problem.solver.setDivergenceTolerance(self._divtol)
            self._norms.clear()
            self._updates.clear()
            self._bad_jacobian[0] = False
            self._to_coupled()
            try:
                _snes_solve(self.problem)
            finally:
                self._from_coupled()
            # The residual mixes metal and insulator rows 20 decades apart and may stagnate at the
            # metal rows' round-off: a 1e-6 reduction, or Newton updates below 1 µV / 1 µK, also count.
            reduced = ((len(self._norms) > 1 and self._norms[-1] <= rtol * self._norms[0])
                       or (len(self._updates) > 1 and max(self._updates[-2:]) < 1e-6))
            converged = self.problem.solver.getConvergedReason() > 0
            ok = (converged or reduced) and not self._bad_jacobian[0] and self._temperature_valid()
            self.stats["newton_solves"] += 1
            self.stats["newton_iterations"] += max(len(self._norms) - 1, 0)
            self.stats["newton_iterations_failed"] += 0 if ok else max(len(self._norms) - 1, 0)
            if ok:
                self.stats["line_search_fallbacks"] += kind == "bt"
                self.stats["unconverged_accepted"] += not converged  # accepted on stagnation at round-off
                break
            self.phi.x.array[:], self.T.x.array[:] = saved
        search.setType("basic")
        self._full_step[0] = False
        self.problem.solver.setDivergenceTolerance(self._divtol)
        if not ok:
            ok = self._staggered()
            if not ok:
                self.phi.x.array[:], self.T.x.array[:] = saved
                ok = self._circuit_start(source_voltage) and self._staggered()
                self.stats["circuit_starts"] += ok
            self.stats["staggered_fallbacks" if ok else "failed_solves"] += 1
            self._staggered_next = bool(ok)
            if not ok:
                self.phi.x.array[:], self.T.x.array[:] = saved
        return bool(ok)

    def _staggered(self, max_sweeps: int = 60, tol: float | None = None, accelerate: bool = True) -> bool:
        """φ then T, repeated until a sweep moves T by less than ``tol`` [K] (default :data:`_T_TOL_PER_RTOL`
        × ``newton_rtol``) and φ by less than ``newton_rtol`` of the source voltage (at least of 1 mV): for
        states where the monolithic Newton
        (metal and insulator 20 decades apart) fails.

        A sweep is one Newton step for φ at the current T, then one for T with that φ (each an
        assembly of F and J and one LU).  Its fixed point is the solution of both equations, and a
        sweep that moves neither field is a converged Newton step of each: the same acceptance as a
        Newton solve per field to a step below those tolerances, without the extra residual and
        Jacobian of iterating each field to convergence between sweeps.  From the second sweep on,
        the next sweep starts from the secant (Anderson, depth 1) mix of the last two sweeps' T
        instead of the last one (``accelerate=False``: plain sweeps).  On the fast preset's sweep this
        takes 3.4 sweeps of one step per field per staggered solve, where the earlier scheme (each
        field iterated to convergence, plain sweeps) took 3.3 sweeps of 1.5 + 2.1 Newton iterations
        and 1.3x the time.  ``stats["staggered_sweeps"]`` counts the sweeps.

        A solve whose changes stop shrinking (:func:`stalled`) is given up before ``max_sweeps``
        (``stats["staggered_stalled"]``): on the fast preset's sweep the 536 staggered solves that converged
        took at most 7 sweeps, and the 34 that failed had fallen into a 2-cycle (T's change alternating
        between two values) and ran all 60, 2040 of the 3301 sweeps; they now end after 8.  The
        sweep's result is the same bit for bit (a solve that fails either way is retried the same way).
        """
        tol = _T_TOL_PER_RTOL * self.rtol if tol is None else tol
        phi_tol = self.rtol * max(abs(float(self.v_src.value)), 1e-3)
        previous = None  # (start, G(start)) of the last sweep
        self.sweep_changes = []  # [1] each sweep's larger change, T's in units of tol, φ's in units of phi_tol
        for _ in range(max_sweeps):
            self.stats["staggered_sweeps"] += 1
            before, phi_before = self.T.x.array.copy(), self.phi.x.array.copy()
            for prob in (self.problem_phi, self.problem_T):
                self._bad_jacobian[0] = False
                _snes_solve(prob)
                if self._bad_jacobian[0] or prob.solver.getConvergedReason() <= 0:
                    return False
            if not self._temperature_valid():
                return False
            phi_step = self.data.domain.comm.allreduce(float(np.max(np.abs(self.phi.x.array - phi_before),
                                                                    initial=0.0)), op=MPI.MAX)
            t_step = self.temperature_change(before)
            if t_step < tol and phi_step < phi_tol:
                return True
            self.sweep_changes.append(max(t_step / tol, phi_step / phi_tol))
            if stalled(self.sweep_changes):
                self.stats["staggered_stalled"] += 1
                return False
            mapped = self.T.x.array.copy()
            if previous is not None and accelerate:
                self._secant_start(previous, (before, mapped))
            previous = (before, mapped)
        return False

    def _secant_start(self, last: tuple[np.ndarray, np.ndarray], now: tuple[np.ndarray, np.ndarray]) -> None:
        """Set T to the depth-1 Anderson mix of two sweeps ``(start, G(start))`` (collective).

        With residuals F = G(x) − x: x_next = G_now − γ (G_now − G_last), γ = ⟨ΔF, F_now⟩ / ⟨ΔF, ΔF⟩,
        the step that zeroes the residual of the secant model through the two sweeps.  Skipped
        (T stays G_now, the plain sweep) when γ is not finite or beyond ±``_SECANT_LIMIT``, or
        when the mixed T is not positive everywhere.
        """
        owned = self.W.dofmap.index_map.size_local * self.W.dofmap.index_map_bs
        f_now = now[1] - now[0]
        d_f = f_now - (last[1] - last[0])
        sums = np.array([np.dot(d_f[:owned], f_now[:owned]), np.dot(d_f[:owned], d_f[:owned])])
        num, den = self.data.domain.comm.allreduce(sums, op=MPI.SUM)
        gamma = num / den if den > 0 else math.nan
        if not (math.isfinite(gamma) and abs(gamma) <= _SECANT_LIMIT):
            return
        mixed = now[1] - gamma * (now[1] - last[1])
        if not self.data.domain.comm.allreduce(bool(np.isfinite(mixed).all() and mixed.min(initial=1.0) > 0),
                                               op=MPI.LAND):
            return
        self.T.x.array[:] = mixed
        self.T.x.scatter_forward()

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

    def solve_potential(self, source_voltage: float, max_steps: int = 20) -> bool:
        """φ at ``source_voltage`` [V] with T held (the field is quasi-static: it follows the bias at once).

        Newton steps of the potential equation alone (one assembly and LU each) until a step moves φ
        by less than ``newton_rtol`` of the source (at least of 1 mV).  Returns True when converged; on
        failure φ is restored.  T, and with it T_old, are not touched.
        """
        self.v_src.value = source_voltage
        saved = self.phi.x.array.copy()
        if self._newton_potential(source_voltage, max_steps):
            return True
        self.phi.x.array[:] = saved
        self.phi.x.scatter_forward()
        if self._circuit_start(source_voltage) and self._newton_potential(source_voltage, max_steps):
            self.stats["circuit_starts"] += 1
            return True
        self.phi.x.array[:] = saved
        self.phi.x.scatter_forward()
        return False

    def _newton_potential(self, source_voltage: float, max_steps: int) -> bool:
        """Newton steps of the potential equation from the current φ, T held: True once a step moves φ by
        less than ``newton_rtol`` of the source (at least of 1 mV)."""
        scale = self.rtol * max(abs(float(source_voltage)), 1e-3)
        for _ in range(max_steps):
            before = self.phi.x.array.copy()
            self._bad_jacobian[0] = False
            _snes_solve(self.problem_phi)
            if self._bad_jacobian[0] or self.problem_phi.solver.getConvergedReason() <= 0:
                return False
            step = self.data.domain.comm.allreduce(float(np.max(np.abs(self.phi.x.array - before), initial=0.0)),
                                                   op=MPI.MAX)
            if step < scale:
                return True
        return False

    def _circuit_start(self, source_voltage: float) -> bool:
        """Put φ at the source circuit's operating point, T held: a start for Newton behind a sharp compliance.

        The compliance I_cc x/√(1 + x²), x = (V_src − V)/(I_cc R_s), bends over I_cc R_s of contact
        voltage.  Where that is small against the source (10 µA behind 100 Ω: 1 mV at 3 V), Newton from
        the last drive's φ starts on the flat part, where the law's slope is (1 + x²)^(-3/2) of 1/R_s,
        and its first step overshoots by orders of magnitude; no time step is short enough to help,
        since the jump is in the source.  At fixed σ and T the cell is linear in φ, so one linear solve
        behind the bare resistor gives the potential's shape and the cell's conductance G; the contact
        voltage V_c where I_cc x/√(1 + x²) = G V_c (a scalar root, unique: the left side falls and the
        right side rises with V_c) scales that shape into a start on the law's own operating point.
        At a zero source the operating point is φ = 0 (no current flows), and that is the start.
        Returns False (φ unchanged) without a finite compliance or a conducting cell.
        """
        if self.problem_ohmic is None:
            return False
        if source_voltage == 0.0:  # a removed bias: from the last drive's φ Newton starts 3000 knees out
            self.v_src.value = 0.0
            self.phi.x.array[:] = 0.0
            self.phi.x.scatter_forward()
            return True
        saved = self.phi.x.array.copy()
        self.v_src.value = source_voltage
        self._bad_jacobian[0] = False
        _snes_solve(self.problem_ohmic)  # linear: one step from any start
        v_c = self._integral("v_contact") / self._integral("area")
        # G from the cell's own current, not from the resistor's drop (V_src - v_c)/R_s: across a cell
        # of 1e14 Ohm behind 100 Ohm that drop is 1e-12 of the source, below the LU's round-off on v_c,
        # and its sign then depended on the factorisation (2 MPI ranks read a negative G and failed)
        g = self._integral("current") / v_c if v_c != 0.0 else math.nan
        if (self._bad_jacobian[0] or self.problem_ohmic.solver.getConvergedReason() <= 0
                or not (math.isfinite(g) and g > 0.0)):
            self.phi.x.array[:] = saved
            self.phi.x.scatter_forward()
            return False
        sign, v = math.copysign(1.0, source_voltage), abs(source_voltage)
        knee = self.I_cc * self.R_s
        lo, hi = 0.0, v  # f(u) = I_cc x/sqrt(1+x^2) - G u falls from f(0) > 0 to f(v) < 0
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            x = (v - mid) / knee
            if self.I_cc * x / math.sqrt(1.0 + x * x) > g * mid:
                lo = mid
            else:
                hi = mid
            if hi - lo <= 1e-15 * v:
                break
        self.phi.x.array[:] *= sign * 0.5 * (lo + hi) / v_c
        self.phi.x.scatter_forward()
        return True

    def steady(self, source_voltage: float) -> bool:
        """Steady state at ``source_voltage`` [V], by voltage continuation if a direct Newton solve fails."""
        if self.solve(source_voltage, rtol=1e-10):
            return True
        start = float(self.v_src.value)
        for n in (4, 16, 64):
            if all(self.solve(start + (source_voltage - start) * k / n, rtol=1e-10) for k in range(1, n + 1)):
                return True
        return False

    def forget_fallback(self) -> None:
        """Start the next solve on the monolithic Newton path (after a restart from a stored state), its ballistic
        sink source (with a ``sink_conductance``) read from the restored state."""
        self._staggered_next = False
        self._p_last = None

    def accept(self) -> None:
        """Make the current temperature the start of the next time step."""
        self.T_old.x.array[:] = self.T.x.array

    def reset_temperature(self) -> None:
        """Uniform ambient temperature and zero potential."""
        for f in (self.T, self.T_old):
            f.x.array[:] = self.ambient
        self.phi.x.array[:] = 0.0
        self._p_last = None

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
        the electrodes and handed to the heat sinks, not to the field T (0 for media without such parts); with a
        ``sink_conductance`` it crosses the sinks' interface with the field's heat."""
        return self._integral("ballistic")

    def heat_outflow(self) -> float:
        """Heat [W] the field T hands to the heat sinks (−∫κ ∂T/∂n dA; with a sink conductance h,
        ∫h (T − ambient) dA less the ballistic power the sinks take as well); steady: joule − ballistic power."""
        return self._integral("heat_out")

    def cell_voltage(self) -> float:
        """Mean potential [V] of the active contact (the counter contact is at 0 V)."""
        if getattr(self, "_contact_area", None) is None:  # the mesh is fixed: its area once
            self._contact_area = self._integral("area")
        return self._integral("v_contact") / self._contact_area

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

    def point_values(self, r: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(φ [V], T [K]) at the points (r, z) [m] (arrays of one shape), on every rank.

        The points' cells are located once per set of points (the mesh does not move): among the owned cells whose
        bounding boxes hold a point, the one that holds it, by its barycentric coordinates on the (affine) triangle
        (DOLFINx's own collision test takes an absolute tolerance of 1e-10, a fifth of an element on this mesh in
        metres, and would evaluate a neighbour's polynomial outside it).  A point on a boundary between ranks is
        found by both and averaged (the fields are continuous).  A point outside the mesh raises.
        """
        from dolfinx import geometry

        domain = self.data.domain
        if domain.topology.dim != 2 or domain.geometry.cmaps[0].degree != 1:
            raise NotImplementedError("point_values reads the axisymmetric (r, z) cell's mesh of affine triangles only")
        r, z = np.asarray(r, dtype=float), np.asarray(z, dtype=float)
        key = (r.tobytes(), z.tobytes())
        if getattr(self, "_points_key", None) != key:
            points = np.zeros((r.size, 3))
            points[:, 0], points[:, 1] = r.ravel(), z.ravel()
            tdim = domain.topology.dim
            boxes = geometry.compute_collisions_points(geometry.bb_tree(domain, tdim), points)
            owned = domain.topology.index_map(tdim).size_local
            x, dofs = domain.geometry.x[:, :2], domain.geometry.dofmaps[0]
            cells = np.full(r.size, -1, dtype=np.int32)
            for i in range(r.size):
                best = -np.inf
                for c in boxes.links(i):
                    if c >= owned:
                        continue
                    a, b, d = x[dofs[c, 0]], x[dofs[c, 1]], x[dofs[c, 2]]
                    lam = np.linalg.solve(np.column_stack((b - a, d - a)), points[i, :2] - a)
                    inside = min(lam[0], lam[1], 1.0 - lam[0] - lam[1])  # >= 0 inside the triangle
                    if inside > best:
                        best, cells[i] = inside, c
                if best < -1e-9:  # not inside any owned cell (another rank's, or outside the mesh)
                    cells[i] = -1
            self._points, self._points_cells, self._points_key = points, cells, key
        points, cells = self._points, self._points_cells
        mine = cells >= 0
        local = np.zeros((cells.size, 3))
        if np.any(mine):
            local[mine, 0] = self.phi.eval(points[mine], cells[mine])[:, 0]
            local[mine, 1] = self.T.eval(points[mine], cells[mine])[:, 0]
            local[mine, 2] = 1.0
        total = self.data.domain.comm.allreduce(local, op=MPI.SUM)
        if np.any(total[:, 2] == 0):
            raise ValueError("point_values: a point lies outside the cell's mesh")
        values = total[:, :2] / total[:, 2:3]
        return values[:, 0].reshape(r.shape), values[:, 1].reshape(r.shape)

    def set_concentration(self, func) -> None:
        """Set the Ag fraction c from ``func(points) -> values`` (points: array (3, n) in metres)."""
        self.c.interpolate(func)
        self.c.x.scatter_forward()


# The cell's laws and the field output live in their own modules; their names stay importable from here.
from devicephys.filament.fem.fields import FieldWriter, l2_error, temperature_map  # noqa: E402
from devicephys.filament.fem.medium import CellMedium, channel_indicator, region_field, region_indicator  # noqa: E402

__all__ = ["MeshData", "cell_mesh", "rod_mesh", "snes_options", "ElectroThermal", "CellMedium", "channel_indicator",
           "region_field", "region_indicator", "FieldWriter", "temperature_map", "l2_error"]
