"""Frequency-domain Maxwell solver for the axisymmetric (m = 0) dipole problem, on DOLFINx.

This is the only emission module that imports DOLFINx.  A vertical dipole on
the axis excites only the TM field H = H_phi(r, z) phi^, so the unknown is the
scalar h (H_phi = (-i w p / 4 pi) h), in P2 Lagrange, with exp(-i w t) and

    a(h, v) = int (1/eps) [(s_r r~ / s_z) d_z h d_z v + (s_z / (s_r r~)) D(h) D(v)]
              - k0^2 r~ s_r s_z h v  dr dz,          D(u) = s_r u + r~ d_r u,

(the 2 pi r-weighted curl-curl form with the PML's complex coordinates r~, z~).
The total field is h_inc + h_s, h_inc the analytic dipole field in the
dielectric (eps_b); the scattered field solves a(h_s, v) = -b(h_inc, v) with
b the same form restricted to the scatterers (metal, gap layer) and 1/eps
replaced by 1/eps - 1/eps_b, so no singular self-field enters.  The real build
of DOLFINx carries the complex h as two real fields (Re, Im) in a blocked space.

Per wavelength (c = 3 eps_b / (4 k^3), k = n k0): the Purcell factor by
reciprocity over the scatterers, F = 1 - c Im b(h_inc, h_inc + h_s), and the
power absorbed in a region, P / P0 = -c Im a_region(h, conj h) with h the
total field (the metal's ohmic loss; in a PML, the power flowing into it).
With finite electrodes, the far field follows from the total field on a closed
contour in the dielectric around the structure (:func:`fields.far_field_amplitude`):
the dipole alone gives |F| = 4 pi sin(theta), so dP/dOmega / P0 = (3 / 8 pi) |F / 4 pi|^2.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import dolfinx_solver  # noqa: F401  (loads MPI before dolfinx and petsc4py)
import basix
import basix.ufl
import numpy as np
import ufl
from dolfinx import fem
from dolfinx import geometry as dgeometry
from dolfinx.fem.petsc import LinearProblem
from mpi4py import MPI

from devicephys.emission.fem import fields
from devicephys.emission.fem.mesh import REGION, UNIT, Layout, build
from devicephys.emission.fem.spec import FemGeometry
from devicephys.errors import SpecError

_LU = {"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"}
_COUNTER = [0]
#: Quadrature degree of the system matrix: P2 gradients with the (polynomial) r and PML weights.
_A_DEGREE = 4


class Cx:
    """A complex UFL expression as a pair of real ones (the build's scalars are real)."""

    def __init__(self, re, im=0.0):
        self.re, self.im = re, im

    def __add__(self, o):
        o = _cx(o)
        return Cx(self.re + o.re, self.im + o.im)

    def __sub__(self, o):
        o = _cx(o)
        return Cx(self.re - o.re, self.im - o.im)

    def __mul__(self, o):
        o = _cx(o)
        return Cx(self.re * o.re - self.im * o.im, self.re * o.im + self.im * o.re)

    __rmul__ = __mul__

    def __truediv__(self, o):
        o = _cx(o)
        norm = o.re * o.re + o.im * o.im
        return Cx((self.re * o.re + self.im * o.im) / norm, (self.im * o.re - self.re * o.im) / norm)

    def conj(self) -> "Cx":
        return Cx(self.re, -self.im)


def _cx(value) -> Cx:
    return value if isinstance(value, Cx) else Cx(value, 0.0)


@dataclass
class _Jet:
    """A complex field with its real-coordinate derivatives (value, d/dr, d/dz)."""

    val: Cx
    dr: Cx
    dz: Cx

    def __add__(self, o: "_Jet") -> "_Jet":
        return _Jet(self.val + o.val, self.dr + o.dr, self.dz + o.dz)

    def conj(self) -> "_Jet":
        return _Jet(self.val.conj(), self.dr.conj(), self.dz.conj())


class _Model:
    """Mesh, spaces, coefficients and compiled forms of one geometry (reused across wavelengths)."""

    def __init__(self, geo: FemGeometry, wavelengths: np.ndarray, comm):
        self.geo, self.comm = geo, comm
        self.layout = Layout.from_geometry(geo, float(wavelengths.max()))
        far = float(wavelengths.min()) / geo.index / geo.points_per_wavelength / UNIT
        self.domain, self.tags = _mesh(self.layout, geo.gap_mesh_size / UNIT, far, geo.mesh_growth, comm)
        self.V = fem.functionspace(self.domain, ("Lagrange", 2, (2,)))
        self.dx = ufl.Measure("dx", self.domain, subdomain_data=self.tags,
                              metadata={"quadrature_degree": geo.quadrature_degree, "quadrature_rule": "default"})
        self.dx_a = ufl.Measure("dx", self.domain, metadata={"quadrature_degree": _A_DEGREE})
        self._coefficients()
        self._forms()

    def _coefficients(self) -> None:
        dom, deg = self.domain, self.geo.quadrature_degree
        self.k0sq = fem.Constant(dom, 0.0)
        self.pml_c = fem.Constant(dom, 0.0)
        self.pml_faces = [fem.Constant(dom, v) for v in (self.layout.r_phys, self.layout.z_top, self.layout.z_bottom)]
        dg0 = fem.functionspace(dom, ("DG", 0))
        self.inv_eps = [fem.Function(dg0) for _ in range(2)]
        self.delta = [fem.Function(dg0) for _ in range(2)]
        qel = basix.ufl.quadrature_element(dom.basix_cell(), value_shape=(), scheme="default", degree=deg)
        vq = fem.functionspace(dom, qel)
        self.inc = [fem.Function(vq) for _ in range(6)]  # Re/Im of h, dh/dr, dh/dz
        points, _ = basix.make_quadrature(basix.CellType.triangle, deg)
        tdim = dom.topology.dim
        ncell = dom.topology.index_map(tdim).size_local + dom.topology.index_map(tdim).num_ghosts
        cells = np.arange(ncell, dtype=np.int32)
        xq = fem.Expression(ufl.SpatialCoordinate(dom), points).eval(dom, cells).reshape(ncell, -1, 2)
        region = np.zeros(ncell, dtype=np.int32)
        region[self.tags.indices] = self.tags.values
        self.region = region
        self.dg0_dofs = dg0.dofmap.list[:, 0]
        need = np.isin(region, [REGION["metal"], REGION["metal_pml"], REGION["dielectric_pml"], REGION["gap"]])
        self.q_dofs = vq.dofmap.list[need]
        self.xq = xq[need]
        self.cell_mid_r = fem.Expression(ufl.SpatialCoordinate(dom), np.array([[1 / 3, 1 / 3]])).eval(dom, cells).reshape(ncell, -1)[:, 0]

    def _stretch(self):
        x = ufl.SpatialCoordinate(self.domain)
        c, (r_phys, z_top, z_bottom) = self.pml_c, self.pml_faces
        xr = ufl.max_value(x[0] - r_phys, 0.0)
        xt = ufl.max_value(x[1] - z_top, 0.0)
        xb = ufl.max_value(z_bottom - x[1], 0.0)
        return Cx(x[0], c * xr**3 / 3), Cx(1.0, c * xr**2), Cx(1.0, c * (xt**2 + xb**2))

    def _stiff(self, inv_eps: Cx, h: _Jet, v: _Jet) -> Cx:
        """Curl-curl integrand of a(h, v) with the given 1/eps (complex bilinear, no conjugation)."""
        rt, sr, sz = self.stretch
        dh = sr * h.val + rt * h.dr
        dv = sr * v.val + rt * v.dr
        return inv_eps * ((sr * rt / sz) * h.dz * v.dz + (sz / (sr * rt)) * dh * dv)

    def _a(self, inv_eps: Cx, h: _Jet, v: _Jet) -> Cx:
        """Integrand of a(h, v)."""
        rt, sr, sz = self.stretch
        return self._stiff(inv_eps, h, v) - self.k0sq * (rt * sr * sz * h.val * v.val)

    def _forms(self) -> None:
        self.stretch = self._stretch()
        u, w = ufl.TrialFunction(self.V), ufl.TestFunction(self.V)
        trial = _Jet(Cx(u[0], u[1]), Cx(u[0].dx(0), u[1].dx(0)), Cx(u[0].dx(1), u[1].dx(1)))
        tests = [_Jet(Cx(w[i]), Cx(w[i].dx(0)), Cx(w[i].dx(1))) for i in range(2)]
        ie, de = Cx(*self.inv_eps), Cx(*self.delta)
        q = self.inc
        inc = _Jet(Cx(q[0], q[1]), Cx(q[2], q[3]), Cx(q[4], q[5]))
        a = (self._a(ie, trial, tests[0]).re + self._a(ie, trial, tests[1]).im) * self.dx_a
        rhs = -(self._stiff(de, inc, tests[0]).re + self._stiff(de, inc, tests[1]).im) * self.dx
        self.hs = fem.Function(self.V)
        self.problem = LinearProblem(a, rhs, bcs=[self._boundary()], u=self.hs,
                                     petsc_options_prefix=f"fem_purcell{_next()}_", petsc_options=_LU)
        hs = self.hs
        scat = _Jet(Cx(hs[0], hs[1]), Cx(hs[0].dx(0), hs[1].dx(0)), Cx(hs[0].dx(1), hs[1].dx(1)))
        self.reciprocity = fem.form(self._stiff(de, inc, inc + scat).im * self.dx)
        total = inc + scat
        loss = self._a(ie, total, total.conj()).im
        self.loss = {name: fem.form(loss * self.dx(REGION[name])) for name in ("metal", "gap", "dielectric_pml", "metal_pml")}

    def _boundary(self):
        lay, tdim = self.layout, self.domain.topology.dim
        r_out, z_hi, z_lo = lay.r_phys + lay.pml, lay.z_top + lay.pml, lay.z_bottom - lay.pml
        tol = 1e-6 * r_out

        def where(x):
            return (x[0] < tol) | (x[0] > r_out - tol) | (x[1] > z_hi - tol) | (x[1] < z_lo + tol)

        from dolfinx import mesh as dmesh

        self.domain.topology.create_connectivity(tdim - 1, tdim)
        facets = dmesh.locate_entities_boundary(self.domain, tdim - 1, where)
        dofs = fem.locate_dofs_topological(self.V, tdim - 1, facets)
        return fem.dirichletbc(np.zeros(2), dofs, self.V)

    def set_wavelength(self, wavelength: float) -> float:
        """Update every coefficient for vacuum ``wavelength`` [m]; return k = n k0 [1/nm]."""
        geo, lay = self.geo, self.layout
        k0 = 2 * np.pi / (wavelength / UNIT)
        k = geo.index * k0
        eps_b = geo.index**2
        pml = fields.Pml.for_wavenumber(lay.r_phys, lay.z_top, lay.z_bottom, lay.pml, k, geo.pml_strength)
        self._pml, self._k = pml, k
        self.k0sq.value = k0**2
        self.pml_c.value = pml.coefficient
        inv = np.full(self.region.size, 1 / eps_b, dtype=complex)
        inv[np.isin(self.region, [REGION["metal"], REGION["metal_pml"]])] = 1 / fields.metal_permittivity(geo.metal, wavelength)
        if geo.quantum_corrected:
            gap_cells = self.region == REGION["gap"]
            local = fields.tip_local_gap(self.cell_mid_r[gap_cells] * UNIT, geo.gap, geo.tip_radius)
            inv[gap_cells] = 1 / fields.qcm_permittivity(local, wavelength, geo.metal, eps_b, geo.work_function)
        for f, part in zip(self.inv_eps + self.delta, (inv.real, inv.imag, inv.real - 1 / eps_b, inv.imag)):
            f.x.array[self.dg0_dofs] = part
        h, dr, dz = fields.dipole_field(self.xq[..., 0], self.xq[..., 1], lay.dipole_z, k, pml)
        for f, part in zip(self.inc, (h.real, h.imag, dr.real, dr.imag, dz.real, dz.imag)):
            f.x.array[self.q_dofs] = part
        return k

    def solve(self, wavelength: float) -> dict[str, float]:
        """Purcell factor and power split [1] at vacuum ``wavelength`` [m]."""
        k = self.set_wavelength(wavelength)
        self.problem.solve()
        scale = 3 * self.geo.index**2 / (4 * k**3)
        out = {"purcell": 1.0 - scale * self._sum(self.reciprocity)}
        for name, form in self.loss.items():
            out[name] = -scale * self._sum(form)
        return out

    def _sum(self, form) -> float:
        return self.comm.allreduce(fem.assemble_scalar(form), op=MPI.SUM)

    def _locate(self, r: np.ndarray, z: np.ndarray):
        """(points, cells): the (r, z) points [nm] as 3-D coordinates and the owned cell holding each (-1: another rank's)."""
        points = np.zeros((r.size, 3))
        points[:, 0], points[:, 1] = r, z
        tdim = self.domain.topology.dim
        hits = dgeometry.compute_colliding_cells(
            self.domain, dgeometry.compute_collisions_points(dgeometry.bb_tree(self.domain, tdim), points), points)
        owned = self.domain.topology.index_map(tdim).size_local
        cells = np.array([next((c for c in hits.links(i) if c < owned), -1) for i in range(r.size)], dtype=np.int32)
        return points, cells

    def total_field(self, points: np.ndarray, cells: np.ndarray, r, z, derivatives: bool = True):
        """Total h = h_inc + h_s (and dh/dr, dh/dz) at located points of the physical region, on every rank.

        Call after :meth:`solve`.  A point on a boundary between ranks is found by both and averaged.
        """
        if derivatives:
            if not hasattr(self, "_grad"):
                W = fem.functionspace(self.domain, ("DG", 2, (2, 2)))
                self._grad = fem.Function(W)
                self._grad_expr = fem.Expression(ufl.grad(self.hs), W.element.interpolation_points)
            self._grad.interpolate(self._grad_expr)
        mine = cells >= 0
        local = np.zeros((len(cells), 7))
        if np.any(mine):
            local[mine, :2] = self.hs.eval(points[mine], cells[mine])
            if derivatives:
                local[mine, 2:6] = self._grad.eval(points[mine], cells[mine])
            local[mine, 6] = 1.0
        total = self.comm.allreduce(local, op=MPI.SUM)
        if np.any(total[:, 6] == 0):
            raise RuntimeError("FEM field: an evaluation point lies outside the mesh")
        v = total[:, :6] / total[:, 6:7]
        h, dr, dz = fields.dipole_field(r, z, self.layout.dipole_z, self._k, self._pml)
        return h + v[:, 0] + 1j * v[:, 1], dr + v[:, 2] + 1j * v[:, 4], dz + v[:, 3] + 1j * v[:, 5]

    def far_field(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """dP/dOmega / P0 [1/sr] at polar angles ``theta`` [rad], and the power through the contour / P0 [1].

        The contour lies halfway between the structure and the PML.  Call after :meth:`solve`;
        the angular integral uses 48 Gauss–Legendre nodes in cos(theta).
        """
        if not hasattr(self, "_contour"):
            geo, lay = self.geo, self.layout
            extent = max(geo.tip_top_radius / UNIT, lay.disc_radius, lay.plate_radius)
            top = lay.gap + lay.tip_length + lay.plate_thickness
            r, z, dl, n_r, n_z = fields.contour(0.5 * (extent + lay.r_phys), 0.5 * (-lay.disc_thickness + lay.z_bottom),
                                                0.5 * (top + lay.z_top))
            self._contour = (r, z, dl, n_r, n_z, *self._locate(r, z))
        r, z, dl, n_r, n_z, points, cells = self._contour
        h, dr, dz = self.total_field(points, cells, r, z)
        x, w = np.polynomial.legendre.leggauss(48)
        amp = fields.far_field_amplitude(np.concatenate([np.asarray(theta, float), np.arccos(x)]), self._k,
                                         r, z, dl, n_r, n_z, h, dr, dz)
        radiance = 3 / (8 * np.pi) * np.abs(amp / (4 * np.pi)) ** 2
        n = len(theta)
        return radiance[:n], float(2 * np.pi * np.sum(w * radiance[n:]))

    @property
    def unknowns(self) -> int:
        """Number of real unknowns."""
        return self.V.dofmap.index_map.size_global * 2


def _mesh(lay: Layout, gap_size: float, far_size: float, growth: float, comm):
    import gmsh

    from dolfinx.io import gmsh as dgmsh

    if not gmsh.isInitialized():
        gmsh.initialize(interruptible=False)
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.model.add(f"gap{_next()}")
    if comm.rank == 0:
        build(gmsh, lay, gap_size, far_size, growth)
    data = dgmsh.model_to_mesh(gmsh.model, comm, 0, gdim=2)
    gmsh.model.remove()
    return data.mesh, data.cell_tags


def _next() -> int:
    _COUNTER[0] += 1
    return _COUNTER[0]


def purcell_spectrum(geometry: FemGeometry, wavelengths, *, comm=MPI.COMM_WORLD, angles=None):
    """Purcell factor and power split of the dipole at each vacuum wavelength [m].

    Returns an xarray Dataset over ``wavelength`` [m] with ``purcell`` (total power over
    the power in the homogeneous dielectric), ``absorbed_metal`` and ``absorbed_gap``
    (ohmic loss in the metal and in the quantum-corrected gap layer inside the physical
    region), ``outgoing_dielectric`` (power into the dielectric's PML: far field, plus the
    dielectric tail of surface plasmons) and ``outgoing_metal`` (power into the metal's
    PML), all [1] in units of the dipole's power in the dielectric.  With ``angles`` (polar
    angles [rad] from the axis, the dipole's direction; finite electrodes only) also
    ``far_field`` (angle, wavelength): radiated power per steradian over that power [1/sr], and
    ``far_field_power``: its integral over the sphere [1], equal to ``outgoing_dielectric``.
    """
    import xarray as xr

    from devicephys.emission.fem import check_wavelengths

    lam = check_wavelengths(geometry, wavelengths)
    if angles is not None and (geometry.shape != "tip" or geometry.counter != "disc"):
        raise SpecError("FemGeometry.counter: the far field needs finite electrodes (a metal half-space extends into "
                        "the PML); set shape 'tip' and counter 'disc', or ask for no angles", field="counter")
    start = time.perf_counter()
    model = _Model(geometry, lam, comm)
    setup = time.perf_counter() - start
    rows, far = [], []
    for w in lam:
        rows.append(model.solve(float(w)))
        if angles is not None:
            far.append(model.far_field(np.asarray(angles, float)))
    names = {"purcell": "total power over the power in the homogeneous dielectric",
             "metal": "ohmic loss in the metal (physical region)", "gap": "ohmic loss in the gap layer",
             "dielectric_pml": "power into the dielectric PML (far field and plasmon tails)",
             "metal_pml": "power into the metal PML (guided by the metal)"}
    keys = {"purcell": "purcell", "metal": "absorbed_metal", "gap": "absorbed_gap",
            "dielectric_pml": "outgoing_dielectric", "metal_pml": "outgoing_metal"}
    data = {keys[n]: ("wavelength", np.array([r[n] for r in rows]), {"units": "1", "long_name": names[n]}) for n in keys}
    coords = {"wavelength": ("wavelength", lam, {"units": "m"})}
    if angles is not None:
        coords["angle"] = ("angle", np.asarray(angles, float), {"units": "rad", "long_name": "polar angle from the axis"})
        data["far_field"] = (("angle", "wavelength"), np.array([f[0] for f in far]).T,
                             {"units": "1/sr", "long_name": "radiated power per steradian over the dipole's power in the dielectric"})
        data["far_field_power"] = ("wavelength", np.array([f[1] for f in far]),
                                   {"units": "1", "long_name": "far field integrated over the sphere (= outgoing_dielectric)"})
    return xr.Dataset(data, coords=coords,
                      attrs={"solver": "DOLFINx frequency-domain FEM, P2, axisymmetric m = 0",
                             "geometry": geometry.to_json(), "unknowns": model.unknowns,
                             "setup_seconds": setup, "solve_seconds": time.perf_counter() - start - setup})


def mim_mode_index(geometry: FemGeometry, wavelength: float, *, start: float = 0.25, points: int = 200,
                   comm=MPI.COMM_WORLD) -> dict:
    """Complex effective index of the gap plasmon of a ``shape="mim"`` geometry, read off the FEM field [1].

    The dipole at mid-slab launches the slab's TM0 mode radially; on the mid-plane, from ``start``
    times the physical radius out to its edge (away from the source's evanescent field and the PML),
    the total field is fitted by A H1(beta r) (:func:`fields.fit_cylindrical_wave`).  Returns
    ``index`` = beta / k0, the fit's relative residual ``residual`` and the real ``unknowns``.
    """
    from devicephys.emission.fem import check_wavelengths

    if geometry.shape != "mim":
        raise SpecError(f"FemGeometry.shape: the gap-plasmon index needs shape 'mim', not {geometry.shape!r}", field="shape")
    lam = float(check_wavelengths(geometry, [wavelength])[0])
    model = _Model(geometry, np.array([lam]), comm)
    model.solve(lam)
    lay = model.layout
    r = np.linspace(start * lay.r_phys, lay.r_phys, points)
    z = np.full_like(r, 0.5 * lay.gap)
    h = model.total_field(*model._locate(r, z), r, z, derivatives=False)[0]
    k0 = 2 * np.pi / (lam / UNIT)
    eps_m = complex(fields.metal_permittivity(geometry.metal, lam))
    from devicephys.emission.analytic import mim_gap_mode_index

    guess = mim_gap_mode_index(lam, geometry.gap, geometry.index**2, eps_m)
    beta, residual = fields.fit_cylindrical_wave(r, h, guess * k0)
    return {"index": beta / k0, "residual": residual, "unknowns": model.unknowns}
