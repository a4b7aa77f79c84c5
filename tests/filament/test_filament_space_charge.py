"""The ions' own potential (Poisson, conductors grounded) against closed forms, and on the cell (real DOLFINx).

:class:`devicephys.filament.fem.space_charge.IonPotential`: a uniformly charged slab between grounded plates
(ψ = ρ z (L − z) / 2ε), a parabolic charge ρ₀ (1 − r²/R²) in a grounded cylinder (ψ(0) = 3 ρ₀ R² / 16 ε, the
r-weighted form), each converging at P1's second order; on the default cell, the filament's metal held at 0 V.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("dolfinx_solver")

from devicephys.filament.fem import solve  # noqa: E402  (loads MPI, then DOLFINx)
from devicephys.filament.fem import space_charge as sc  # noqa: E402
from devicephys.filament.mesh import BOUNDARY, REGION  # noqa: E402

import ufl  # noqa: E402
from dolfinx import fem  # noqa: E402

pytestmark = pytest.mark.fem

EPS_R, OMEGA, C0 = 2.6, 1.7e-29, 1e-4  # ε_r [1], Ω [m³], ion fraction [1]
RHO0 = sc.ELEMENTARY_CHARGE / OMEGA * C0  # [C/m³]
EPS = sc.EPSILON_0 * EPS_R


def _ones(data, profile=lambda x: np.ones(x.shape[1])):
    f = fem.Function(fem.functionspace(data.domain, ("Lagrange", 1)))
    f.interpolate(profile)
    return f


def _slab_error(n: int) -> float:
    """Relative L2 (r-weighted) error of ψ over the rod."""
    length = 10e-9
    data = solve.rod_mesh(2e-9, length, n, 5 * n)  # square elements, refined in r and z together
    ion = sc.IonPotential(data, EPS_R, _ones(data), (0.0, length), 2e-9)
    z = np.linspace(0.0, length, 11)
    ion.solve(z, np.full(z.size, C0), OMEGA)
    x = ufl.SpatialCoordinate(data.domain)
    exact = RHO0 * x[1] * (length - x[1]) / (2 * EPS)
    err = fem.assemble_scalar(fem.form((ion.psi - exact) ** 2 * x[0] * ufl.dx))
    ref = fem.assemble_scalar(fem.form(exact**2 * x[0] * ufl.dx))
    return math.sqrt(err / ref)


def _cylinder_error(nr: int) -> float:
    radius, length = 4e-9, 2e-9
    data = solve.rod_mesh(radius, length, nr, 2)
    profile = _ones(data, lambda x: 1.0 - (x[0] / radius) ** 2)
    ion = sc.IonPotential(data, EPS_R, profile, (0.0, length), radius, grounded_facets=(BOUNDARY["side"],))
    z = np.linspace(0.0, length, 3)
    _, psi = ion.solve(z, np.full(z.size, C0), OMEGA)
    exact = 3 * RHO0 * radius**2 / (16 * EPS)
    return float(np.max(np.abs(psi - exact)) / exact)


def test_uniform_slab_between_grounded_plates_converges_at_second_order():
    errors = [_slab_error(n) for n in (1, 2, 4, 8)]
    rates = [math.log2(a / b) for a, b in zip(errors, errors[1:])]
    assert min(rates[1:]) > 1.8, (errors, rates)  # P1 in L2: second order
    assert errors[-1] < 0.01, errors


def test_parabolic_charge_in_grounded_cylinder_converges_at_second_order():
    errors = [_cylinder_error(n) for n in (4, 8, 16, 32)]
    rates = [math.log2(a / b) for a, b in zip(errors, errors[1:])]
    assert min(rates[1:]) > 1.8, (errors, rates)
    assert errors[-1] < 0.01, errors


def _box_slab_error(n: int) -> float:
    """The slab in 3-D (a box, insulated sides, grounded ends): relative L2 error of ψ."""
    from dolfinx import mesh
    from mpi4py import MPI

    side, length = 2e-9, 10e-9
    dom = mesh.create_box(MPI.COMM_WORLD, [[0.0, 0.0, 0.0], [side, side, length]], [n, n, 5 * n],
                          mesh.CellType.tetrahedron)
    tdim = dom.topology.dim
    dom.topology.create_connectivity(tdim - 1, tdim)
    tol = 1e-6 * length
    lo = mesh.locate_entities_boundary(dom, tdim - 1, lambda x: np.abs(x[2]) < tol)
    hi = mesh.locate_entities_boundary(dom, tdim - 1, lambda x: np.abs(x[2] - length) < tol)
    idx = np.concatenate([lo, hi])
    val = np.concatenate([np.full(lo.size, BOUNDARY["active_contact"]), np.full(hi.size, BOUNDARY["counter_contact"])])
    order = np.argsort(idx)
    facets = mesh.meshtags(dom, tdim - 1, idx[order].astype(np.int32), val[order].astype(np.int32))
    ncell = dom.topology.index_map(tdim).size_local + dom.topology.index_map(tdim).num_ghosts
    cells = mesh.meshtags(dom, tdim, np.arange(ncell, dtype=np.int32), np.full(ncell, REGION["insulator"], np.int32))
    data = solve.MeshData(dom, cells, facets, False)
    ion = sc.IonPotential(data, EPS_R, _ones(data), (0.0, length), side)
    z = np.linspace(0.0, length, 11)
    ion.solve(z, np.full(z.size, C0), OMEGA)
    x = ufl.SpatialCoordinate(dom)
    exact = RHO0 * x[2] * (length - x[2]) / (2 * EPS)
    err = fem.assemble_scalar(fem.form((ion.psi - exact) ** 2 * ufl.dx))
    ref = fem.assemble_scalar(fem.form(exact**2 * ufl.dx))
    return math.sqrt(err / ref)


def test_uniform_slab_in_3d_converges_at_second_order():
    """The 3-D form (no r-weight; the channel's radius sqrt(x^2 + y^2)) on the same closed form."""
    errors = [_box_slab_error(n) for n in (1, 2, 4)]
    rates = [math.log2(a / b) for a, b in zip(errors, errors[1:])]
    assert rates[-1] > 1.8, (errors, rates)
    assert errors[-1] < 0.01, errors


def test_potential_is_linear_in_the_charge_and_refuses_a_bad_permittivity():
    data = solve.rod_mesh(2e-9, 10e-9, 2, 8)
    ion = sc.IonPotential(data, EPS_R, _ones(data), (0.0, 10e-9), 2e-9)
    z = np.linspace(0.0, 10e-9, 11)
    c = 1e-4 * (1 + np.sin(z / 3e-9))
    _, one = ion.solve(z, c, OMEGA)
    _, three = ion.solve(z, 3 * c, OMEGA)
    assert np.allclose(three, 3 * one, rtol=1e-10, atol=0)
    with pytest.raises(ValueError, match="relative_permittivity"):
        sc.IonPotential(data, 0.0, _ones(data), (0.0, 10e-9), 2e-9)


@pytest.fixture(scope="module")
def cell():
    from devicephys.filament import simulate as sim
    from devicephys.filament.spec import FilamentSpec

    return sim.CellModel(FilamentSpec.fast())


def test_cell_potential_holds_the_filaments_metal_at_zero(cell):
    """The metallic run from the seed's tip is a grounded conductor: ψ = 0 on it, and lower everywhere else."""
    m = cell
    m.c[:], m.c_i[:] = 0.0, 1e-4
    _, free = m.ion_potential()
    n = len(m.c) // 3
    m.c[:n] = 0.9
    z, held = m.ion_potential()
    m.c[:] = 0.0
    assert free.max() > 0
    assert np.all(held[z <= m.transport.z[n - 1] * (1 + 1e-9)] == 0.0)
    assert held.max() < free.max()


def test_ion_charge_peak_keeps_the_largest_ratio_and_skips_a_bridged_channel(cell):
    from devicephys.filament.ion_charge import IonChargePeak
    from devicephys.units import e, k_B

    m = cell
    m.c[:], m.c_i[:] = 0.0, 2e-4
    watch = IonChargePeak(m)
    watch(m, {"gap": 9e-9})
    first = watch.result
    thermal = k_B * m.spec.ambient_temperature / e  # the pristine cell at rest: no channel voltage, ambient T
    assert m.channel_voltage() == 0.0
    assert first.ratio == pytest.approx(first.potential / thermal, rel=1e-12)
    assert first.ion_fraction == pytest.approx(2e-4) and first.ratio_median == first.ratio
    m.c_i[:] = 1e-4
    watch(m, {"gap": 9e-9})
    assert (watch.result.potential, watch.result.ratio) == (first.potential, first.ratio)  # the largest is kept
    m.c_i[:] = 4e-4
    watch(m, {"gap": 9e-9})
    assert watch.result.potential == pytest.approx(2 * first.potential, rel=1e-9)  # linear in the charge
    m.c_i[:] = 1.0
    watch(m, {"gap": 0.0})  # bridged: not evaluated
    assert watch.result.potential == pytest.approx(2 * first.potential, rel=1e-9)
    m.c_i[:] = 0.0


def test_weighted_median_weights_each_value_by_its_step():
    from devicephys.filament.ion_charge import weighted_median

    assert weighted_median([5.0, 1.0, 100.0], [1.0, 1.0, 1.0]) == 5.0
    # a long step at a small ratio outweighs two short ones at large ratios (the last step before a set)
    assert weighted_median([0.1, 50.0, 70.0], [9e-3, 1e-6, 1e-6]) == 0.1
    assert weighted_median([3.0, 1.0], [0.0, 0.0]) == 1.0
    assert math.isnan(weighted_median([], []))


def test_warning_names_the_worst_run_only_beyond_the_limit():
    from devicephys.filament.ion_charge import IonCharge, warning

    def run(median, psi=1.0):
        return IonCharge(psi, 2 * median, 1e-6, 0.2, 1.0, median)

    assert warning([1.0, 2.0], [run(0.05), run(0.1)]) == ""  # within the limit
    assert warning([1.0], [IonCharge.missing()]) == "" and warning([], []) == ""
    text = warning([1.0, 1.5, 2.0], [run(192.0, 246.0), run(132.0), IonCharge.missing()])
    assert "192 times" in text and "at 1 V" in text and "246 V" in text and "compensates" in text
