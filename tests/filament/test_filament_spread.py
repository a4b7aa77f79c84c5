"""The dissolved Ag's (r, z) spread through the matrix (devicephys.filament.spread) against closed forms.

* Radial diffusion in an annulus with no flux at both walls: the Ag in the shell by the wall against the Bessel
  series of the annulus (eigenfunctions J0(λr) Y1(λa) − Y0(λr) J1(λa)), converging under refinement.
* Axial diffusion: a cos(πz/L) mode decays at the discrete eigenvalue of the two-point fluxes, exactly per step.
* The wall's return in the well-mixed limit: the Ag leaves at 2 |v| r_ch / (R² − r_ch²), backward Euler exactly.
* Through the channel's transport: the dissolved Ag enters the wall's shell, Ag is conserved to rounding, and what
  finds no free site in the channel stays at the wall.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import j0, j1, y0, y1

from devicephys.errors import SpecError
from devicephys.filament import kinetics
from devicephys.filament.spec import FilamentSpec
from devicephys.filament.spread import MatrixSpread
from devicephys.units import e, eV, k_B

A, B, W, D = 2e-9, 20e-9, 0.5e-9, 1e-13  # inner and outer radius, the first shell's width [m], D [m²/s]


def _annulus_first_shell(t: float, terms: int = 60) -> float:
    """Fraction of the Ag, started uniform in a < r < a + w, that is in a < r < a + w at time t: Bessel series of
    the annulus a < r < b with no flux at both walls."""
    def cross(lam):  # the eigenvalue condition C'(b) = 0
        return j1(lam * B) * y1(lam * A) - y1(lam * B) * j1(lam * A)

    def mode(r, lam):
        return j0(lam * r) * y1(lam * A) - y0(lam * r) * j1(lam * A)

    grid = np.linspace(1e3, 40.0 / A, 400_000)  # brackets the first roots (spacing ~ π / (b − a))
    values = cross(grid)
    roots = [brentq(cross, grid[i], grid[i + 1]) for i in np.flatnonzero(np.sign(values[:-1]) != np.sign(values[1:]))]
    roots = roots[:terms]
    area = np.pi * (B**2 - A**2)
    start = np.pi * ((A + W) ** 2 - A**2)  # the Ag's first area; u0 = 1 there
    fraction = start / area  # the mean mode
    for lam in roots:
        norm = quad(lambda r: mode(r, lam) ** 2 * r, A, B, limit=400)[0]
        proj = quad(lambda r: mode(r, lam) * r, A, A + W, limit=200)[0]  # ∫ u0 C r dr and the shell's ∫ C r dr
        fraction += (proj / norm) * proj * 2 * np.pi * np.exp(-D * lam**2 * t) / start
    return float(fraction)


def _radial_run(m: int, t: float, steps: int) -> float:
    """The discrete fraction in a < r < a + w at time t, uniform shells of width w / m, ``steps`` steps."""
    spread = MatrixSpread(np.full(3, 1e-9), np.full(2, 1e-9), A, B, W / m, growth=1.0)
    assert spread.faces[m] == pytest.approx(A + W, rel=1e-12)
    pool = spread.empty()
    pool[:, :m] = spread.alpha[:m]  # u = 1 in the first m shells, equal on every node (no axial flux)
    start = pool[0].sum()
    zero, D3 = np.zeros(3), np.full(3, D)
    for _ in range(steps):
        back, pool = spread.step(pool, zero, D3, D3[:2], t / steps)
        assert np.all(back == 0.0)
    np.testing.assert_allclose(pool.sum(axis=1), start, rtol=1e-12)  # no flux at either wall: nothing leaves
    return float(pool[0, :m].sum() / start)


def test_radial_spread_converges_to_the_bessel_series_of_the_annulus():
    t = 20e-6  # half the 2 nm diffusion time: the Ag has left the first shell, not yet reached the outer wall
    exact = _annulus_first_shell(t)
    assert 0.05 < exact < 0.5
    errors = [abs(_radial_run(m, t, 100 * m * m) - exact) for m in (1, 2, 4)]
    print(f"first shell's share at 20 us: exact {exact:.5f}; errors {[f'{x:.2e}' for x in errors]}")
    assert errors[-1] < 0.01 * exact
    assert errors[0] / errors[1] > 3.5 and errors[1] / errors[2] > 3.5  # second order in h (dt ~ h^2)


def test_axial_mode_decays_at_the_discrete_eigenvalue():
    """u = cos(π z / L) in every shell, uniform nodes: the two-point fluxes make it an eigenvector, factor
    1 / (1 + dt D (2 − 2 cos(π h / L)) / h²) per step (interior and no-flux end nodes alike)."""
    n, h, dt = 21, 0.5e-9, 1e-6
    L = (n - 1) * h
    z = np.arange(n) * h
    volume = np.full(n, h)
    volume[[0, -1]] = h / 2
    spread = MatrixSpread(volume, np.full(n - 1, h), A, B, W)
    pool = np.cos(np.pi * z / L)[:, None] * spread.alpha[None, :] + 2 * spread.alpha[None, :]  # kept positive
    _, new = spread.step(pool, np.zeros(n), np.full(n, D), np.full(n - 1, D), dt)
    factor = 1 / (1 + dt * D * (2 - 2 * np.cos(np.pi * h / L)) / h**2)
    expected = (factor * np.cos(np.pi * z / L)[:, None] + 2) * spread.alpha[None, :]
    np.testing.assert_allclose(new, expected, rtol=1e-12)


def test_wall_return_in_the_well_mixed_limit():
    """With diffusion far faster than the return the matrix stays uniform and leaves at k = 2 |v| r_ch / (R² −
    r_ch²): backward Euler (1 + k dt)^-n, to the mixing's O(k R² / D) = 4e-5.  The Ag returned and the Ag left add
    up to the start to the solve's rounding (the matrix's condition number here ~1e9)."""
    spread = MatrixSpread(np.full(3, 1e-9), np.full(2, 1e-9), A, B, W)
    v, dt, n, D_fast = 1e-2, 1e-6, 20, 1e-6
    k = 2 * v * A / (B**2 - A**2)
    assert k * dt * n == pytest.approx(2.0, rel=0.02)
    pool = np.tile(spread.alpha, (3, 1))
    total0, returned = pool.sum(), 0.0
    for _ in range(n):
        back, pool = spread.step(pool, np.full(3, v), np.full(3, D_fast), np.full(2, D_fast), dt)
        returned += back.sum()
    assert pool.sum() / total0 == pytest.approx((1 + k * dt) ** -n, rel=1e-3)
    assert (pool.sum() + returned) / total0 == pytest.approx(1.0, rel=1e-9)
    assert spread.at_wall(pool)[0] == pytest.approx(2 * pool[0, 0] / spread.alpha[0], rel=1e-15)


def _transport(**spread):
    law = kinetics.HoppingLaw(0.5e-9, 1e13, 0.44 * eV, 1e13, 0.52 * eV, reduction_rate=1e7, return_length=2e-9)
    z = np.linspace(0, 10e-9, 21)
    return kinetics.ChannelTransport(z, law, source=None, threshold=0.3, exclusion=True,
                                     spread=dict(channel_radius=2e-9, outer_radius=113e-9, first_width=0.5e-9,
                                                 **spread))


def test_the_channel_dissolves_into_the_wall_shell_and_conserves_silver():
    tr = _transport()
    z = tr.z
    c_m = np.where(z > 6e-9, 0.6, 0.0)  # a stub on the counter electrode, dissolving
    c_i, c_s = np.zeros(z.size), tr.empty_pool()
    assert c_s.shape == tr.spread.shape and c_s.shape[1] > 10
    mass0 = tr.mass(c_i, c_m, c_s)
    E, T = np.full(z.size - 1, 2e8), np.full(z.size, 300.0)
    for _ in range(200):
        c_i, c_m, c_s = tr.step(c_i, c_m, c_s, E, T, 2e-7, tr.reduction_weight(c_m, 0.3))
    assert tr.mass(c_i, c_m, c_s) == pytest.approx(mass0, rel=1e-12, abs=0)
    assert c_s[:, 0].sum() > 0 and c_s[:, 1:].sum() > 0  # dissolved at the wall, spread outwards
    assert np.all(c_s >= 0) and np.all(c_i + c_m <= 1 + 1e-12)


def test_the_counter_electrode_plates_its_node_at_the_reduction_rate():
    """Without transport (D = 0, no return) every shell of the counter electrode's node loses its Ag at the plating
    rate k, (1 + k dt)^-n after n backward-Euler steps; the first shell's Ag is returned (onto the filament's root),
    the outer shells' is kept in the plated column; the other nodes keep theirs; Ag is conserved to rounding."""
    spread = MatrixSpread(np.full(3, 1e-9), np.full(2, 1e-9), A, B, W, plating=True)
    nr = spread.alpha.size
    assert spread.shape == (3, nr + 1)
    pool = spread.empty()
    pool[:, :nr] = 0.01 * spread.alpha
    start = pool.copy()
    k, dt, n = 1e7, 2e-8, 10
    plate, zero = np.array([0.0, 0.0, k]), np.zeros(3)
    returned = np.zeros(3)
    for _ in range(n):
        back, pool = spread.step(pool, zero, zero, zero[:2], dt, plate=plate)
        returned += back
    decay = (1 + k * dt) ** -n
    np.testing.assert_allclose(pool[:2], start[:2], rtol=1e-15)
    np.testing.assert_allclose(pool[2, :nr], decay * start[2, :nr], rtol=1e-12)
    assert returned[:2].sum() == 0.0
    assert returned[2] == pytest.approx((1 - decay) * start[2, 0], rel=1e-12)
    assert spread.plated(pool)[2] == pytest.approx((1 - decay) * start[2, 1:nr].sum(), rel=1e-12)
    assert spread.total(pool)[2] == pytest.approx(decay * start[2].sum(), rel=1e-12)
    assert pool.sum() + returned.sum() == pytest.approx(start.sum(), rel=1e-13)


def test_the_drift_plates_onto_the_counter_electrode_instead_of_piling_up():
    """A uniform field towards the counter electrode: with the electrode's plane a wall the matrix's Ag piles up
    against it (the Boltzmann ratio e^P between the last two nodes); with the plating it leaves the matrix there,
    the first shell's part into the channel's root (its ions, which reduce there), the rest onto the electrode;
    the cell's Ag (channel, matrix and plated) is conserved to the solves' rounding."""
    E, dt = 1e8, 1e-6  # q E h / k_B T = 1.9 between nodes
    results = {}
    for plating in (False, True):
        tr = _transport(plating=plating)
        z = tr.z
        phi = np.repeat((-E * z)[:, None], tr.spread.radius.size, axis=1)
        matrix = _matrix(tr, phi, phi[:, 0] + 0.1, phi[:, 0])  # an outward field at the wall: no return there
        c_s = tr.empty_pool()
        c_s[:, :4] = 0.01
        c_i, c_m = np.zeros(z.size), np.zeros(z.size)
        mass0 = tr.mass(c_i, c_m, c_s)
        w = np.zeros(z.size)
        w[-1] = 1.0  # the cathode's node takes ions (the channel's weight there)
        for _ in range(50):
            c_i, c_s = tr._return(c_i, c_m, c_s, np.zeros(z.size - 1), np.full(z.size, 300.0), dt, matrix, w)
        assert tr.mass(c_i, c_m, c_s) == pytest.approx(mass0, rel=1e-9, abs=0)
        results[plating] = (c_i, tr.pool_total(c_s), tr.plated(c_s), mass0)
    c_i, pool, plated, mass0 = results[False]
    assert not c_i.any() and not plated.any()
    assert tr.volume[-1] * pool[-1] > 0.6 * mass0  # most of it beside the last node
    c_i, pool, plated, mass0 = results[True]
    assert c_i[:-1].sum() == 0.0 and c_i[-1] > 0.0 and plated[-1] > 0.0 and not plated[:-1].any()
    assert np.dot(tr.volume, pool) < 0.1 * mass0  # it left the matrix at the electrode
    assert tr.volume[-1] * (c_i[-1] + plated[-1]) > 0.9 * mass0


def test_the_plating_needs_the_spread():
    with pytest.raises(SpecError, match="counter_plating"):
        FilamentSpec(counter_plating=True)
    from pathlib import Path

    spec = FilamentSpec.from_file(Path(__file__).resolve().parents[2] / "examples" / "counter_plating.yaml")
    assert spec.counter_plating and spec.spread_drift and spec.dissolved_spread
    spec = FilamentSpec.from_file(Path(__file__).resolve().parents[2] / "examples" / "bridged_supply.yaml")
    assert spec.bridged_supply and spec.counter_plating and spec.spread_drift


def test_the_bridged_transfer_needs_the_drift_and_replaces_the_supply():
    from pathlib import Path

    with pytest.raises(SpecError, match="bridged_transfer = true needs spread_drift"):
        FilamentSpec(bridged_transfer=True)
    with pytest.raises(SpecError, match="set bridged_supply: false"):
        FilamentSpec(dissolved_spread=True, spread_drift=True, channel_edge="cut", bridged_transfer=True,
                     bridged_supply=True)
    spec = FilamentSpec.from_file(Path(__file__).resolve().parents[2] / "examples" / "bridged_transfer.yaml")
    assert spec.bridged_transfer and not spec.bridged_supply and spec.spread_drift


def test_what_finds_no_free_site_stays_at_the_wall():
    tr = _transport()
    n = tr.z.size
    c_m = np.full(n, 0.9)
    c_i = np.full(n, 0.09)  # 0.01 free per site
    c_s = tr.empty_pool()
    c_s[:, 0] = 0.2
    mass0 = tr.mass(c_i, c_m, c_s)
    c_i2, c_s2 = tr._return(c_i, c_m, c_s, np.full(n - 1, 3e8), np.full(n, 300.0), 1e-6)
    np.testing.assert_allclose(c_i2 + c_m, 1.0, rtol=1e-12)  # the free sites fill, no more
    assert tr.mass(c_i2, c_m, c_s2) == pytest.approx(mass0, rel=1e-13, abs=0)


def test_the_spread_needs_the_return_and_excludes_the_escape():
    with pytest.raises(SpecError, match="dissolved_spread"):
        FilamentSpec(dissolved_spread=True, dissolved_escape=True)
    with pytest.raises(SpecError, match="dissolved_spread"):
        FilamentSpec(dissolved_spread=True, dissolved_return=False, site_exclusion=True)
    assert FilamentSpec(dissolved_spread=True).dissolved_spread


def test_the_spread_example_is_a_valid_spec():
    from pathlib import Path

    spec = FilamentSpec.from_file(Path(__file__).resolve().parents[2] / "examples" / "dissolved_spread.yaml")
    assert spec.dissolved_spread and spec.dissolved_return and not spec.dissolved_escape


def test_shells_reach_the_cell_radius():
    spread = MatrixSpread(np.full(3, 1e-9), np.full(2, 1e-9), 2e-9, 113e-9, 0.5e-9)
    assert spread.faces[0] == 2e-9 and spread.faces[-1] == 113e-9 and spread.faces[1] == pytest.approx(2.5e-9)
    widths = np.diff(spread.faces)
    assert np.all(widths[1:-1] / widths[:-2] == pytest.approx(1.25))
    assert widths[-1] >= 0.5 * widths[-2]
    assert spread.alpha.sum() == pytest.approx((113**2 - 2**2) / 2**2, rel=1e-12)


def test_a_first_shell_wider_than_the_matrix_is_refused():
    with pytest.raises(SpecError, match="spread_first_width"):
        FilamentSpec(dissolved_spread=True, spread_first_width=1e-6)


@pytest.mark.fem
def test_the_fem_cell_sets_with_the_spread_under_the_local_error_control():
    """On the real FEM (fast preset, 2.5 V from the pristine cell, the local-error estimate on, which joins the
    shells' fractions to the channel's): the cell sets, the dissolved Ag has spread beyond the wall's shell, and a
    restored state carries the shells."""
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import simulate as sim
    from devicephys.filament import stage

    spec = FilamentSpec(**{**FilamentSpec.fast().model_dump(), "dissolved_spread": True, "field_snapshots": 0,
                           "step_error_tolerance": 0.01})
    model = sim.CellModel(spec)
    pristine = model.state()
    assert model.c_s.shape == model.transport.spread.shape
    trace = stage._constant_set(model, spec, 2.5, "set", False)
    gap = trace.array("gap")
    assert gap[-1] < spec.gap_on and trace.array("time")[-1] < 0.5 * spec.set_time_limit
    assert np.all(model.c_s >= 0) and model.c_s[:, 0].sum() > 0 and model.c_s[:, 2:].sum() > 0
    assert model.step_error > 0  # the last step was estimated (the shells joined to the channel's fractions)
    bridged = model.state()
    model.restore(pristine)
    assert not model.c_s.any()
    model.restore(bridged)
    np.testing.assert_array_equal(model.c_s, bridged[2])


# -- the drift in the matrix's own field (spread_drift) ---------------------------------------------------------------

def _matrix(tr, phi_shells, phi_wall, phi_hop, T=300.0):
    """(φ, T) at the transport's matrix radii: the wall, one hop out, the shells."""
    nz = tr.z.size
    phi = np.column_stack([phi_wall, phi_hop, phi_shells])
    assert phi.shape == (nz, tr.matrix_radii().size)
    return phi, np.full(phi.shape, T)


def _settle(tr, phi):
    """The matrix's Ag after long backward-Euler steps in the potential ``phi`` [V] at the shells (the wall 50 mV
    above the hop: an outward field, no return), and the Ag's mass before and after."""
    matrix = _matrix(tr, phi, phi[:, 0] + 0.05, phi[:, 0])
    c_s = tr.empty_pool()
    c_s[:, 0] = 0.01
    c_i, c_m = np.zeros(tr.z.size), np.zeros(tr.z.size)
    mass0 = tr.mass(c_i, c_m, c_s)
    for _ in range(30):  # 1 s steps against the slowest mode's D / R² ≈ 8 /s
        c_i, c_s = tr._return(c_i, c_m, c_s, np.zeros(tr.z.size - 1), np.full(tr.z.size, 300.0), 1.0, matrix)
    assert not c_i.any()
    return c_s / tr.spread.alpha[None, :], mass0, tr.mass(c_i, c_m, c_s), matrix


def test_the_matrix_drift_settles_to_boltzmann_and_conserves_silver():
    """Diffusion and Mott–Gurney drift with Scharfetter–Gummel fluxes between the shells and the nodes.  At zero
    flux each pair of neighbours holds u_q / u_p = exp(P), P = v Δ / D (the scheme's discrete equilibrium, in any
    field); in weak fields that is the Boltzmann distribution u ∝ exp(−qφ/k_BT) of the matrix's potential (the
    Mott–Gurney sinh departs from the linear drift by (qaE/2k_BT)²/6, here below 1e-5); Ag is conserved; an outward
    field at the wall returns none."""
    from devicephys.units import e, k_B

    tr = _transport()
    rho, z = tr.spread.radius, tr.z
    vt = k_B * 300.0 / e
    shape = np.log(rho / rho[0])[None, :] + 2.0 * (z / z[-1])[:, None]
    # strong: one and two k_BT/q across r and z (qaE/2k_BT up to 0.1 at the wall): the discrete equilibrium
    u, mass0, mass, matrix = _settle(tr, vt * shape)
    assert mass == pytest.approx(mass0, rel=1e-9, abs=0)  # the solves' rounding at a condition number of ~1e5
    _, _, _, (P_r, P_z) = tr.matrix_drift(*matrix)
    np.testing.assert_allclose(u[:, 1:] / u[:, :-1], np.exp(P_r), rtol=1e-9)
    np.testing.assert_allclose(u[1:] / u[:-1], np.exp(P_z), rtol=1e-9)
    # weak: a tenth of that: Boltzmann's
    phi = 0.1 * vt * shape
    u, mass0, mass, _ = _settle(tr, phi)
    boltzmann = u * np.exp(phi / vt)
    assert np.ptp(boltzmann) / boltzmann.mean() < 1e-5
    assert np.ptp(u) / u.mean() > 0.1  # the potential shapes the distribution


def test_the_matrix_drift_moves_the_silver_at_the_mott_gurney_speed():
    """In a uniform axial field the mean height of the matrix's Ag moves by v_MG(E) dt per backward-Euler step, in the
    field's direction (the two-point fluxes sum to v times the Ag while none reaches an electrode: the implicit steps'
    tails there stay below 1e-9 of it)."""
    tr = _transport()
    z = tr.z
    E = 1e8  # [V/m] towards the counter electrode: q a E / 2 k_B T ≈ 1
    phi = np.repeat((-E * z)[:, None], tr.spread.radius.size, axis=1)
    matrix = _matrix(tr, phi, phi[:, 0] + 0.1, phi[:, 0])
    c_s = tr.empty_pool()
    c_s[9, :3] = 0.01  # away from the ends
    c_i, c_m = np.zeros(z.size), np.zeros(z.size)
    dt = 1e-7
    v = tr.law.drift_velocity(E, 300.0)
    volume = tr.volume[:, None]
    for _ in range(3):
        before = (c_s * volume * z[:, None]).sum() / (c_s * volume).sum()
        c_i, c_s = tr._return(c_i, c_m, c_s, np.zeros(z.size - 1), np.full(z.size, 300.0), dt, matrix)
        after = (c_s * volume * z[:, None]).sum() / (c_s * volume).sum()
        assert after - before == pytest.approx(v * dt, rel=1e-8, abs=0)
    assert v * dt > 4e-11  # a tenth of a hop per step: the test sees the speed, not rounding


def test_the_wall_returns_at_the_inward_hop_speed():
    """The wall's return speed is the Mott–Gurney speed of the hop from one hop out onto the wall, where the radial
    field drives the Ag⁺ inwards, and zero where it drives it outwards."""
    tr = _transport()
    nz = tr.z.size
    phi = np.zeros((nz, tr.spread.radius.size))
    drop = np.linspace(-0.05, 0.05, nz)  # φ(one hop out) − φ(wall) [V]
    speed, *_ = tr.matrix_drift(*_matrix(tr, phi, np.zeros(nz), drop))
    expected = np.maximum(tr.law.drift_velocity(drop / tr.law.hop_distance, 300.0), 0.0)
    np.testing.assert_allclose(speed, expected, rtol=1e-14, atol=0)
    assert speed[-1] > 0 and speed[0] == 0


def test_the_drift_needs_the_spread():
    with pytest.raises(SpecError, match="spread_drift"):
        FilamentSpec(spread_drift=True, channel_edge="cut")
    with pytest.raises(SpecError, match="channel_edge: cut"):
        FilamentSpec(dissolved_spread=True, spread_drift=True)
    from pathlib import Path

    spec = FilamentSpec.from_file(Path(__file__).resolve().parents[2] / "examples" / "spread_drift.yaml")
    assert spec.dissolved_spread and spec.spread_drift and spec.channel_edge == "cut"


@pytest.mark.fem
def test_the_fem_cell_sets_with_the_matrix_drift():
    """On the real FEM (fast preset, 2.5 V): the matrix's potential read beside the axis nodes is continuous with
    the axis's (r → 0 points equal the axis dofs), the cell sets, and the wall returned Ag in the radial field."""
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import simulate as sim
    from devicephys.filament import stage

    spec = FilamentSpec(**{**FilamentSpec.fast().model_dump(), "dissolved_spread": True, "spread_drift": True,
                           "channel_edge": "cut", "field_snapshots": 0})
    model = sim.CellModel(spec)
    model.try_step(1e-9, 1.0, frozen=True)
    z, phi_axis, T_axis = model.et.axis_values(model.z_lo, model.z_hi)
    phi, T = model.et.point_values(np.zeros_like(z), z)
    np.testing.assert_allclose(phi, phi_axis, atol=1e-12)
    np.testing.assert_allclose(T, T_axis, atol=1e-9)
    trace = stage._constant_set(model, spec, 2.5, "set", False)
    assert trace.array("gap")[-1] < spec.gap_on and trace.array("time")[-1] < 0.5 * spec.set_time_limit
    speed, *_ = model.transport.matrix_drift(*model.matrix_fields())
    assert speed.max() > 0 and np.all(model.c_s >= 0) and model.c_s[:, 2:].sum() > 0


@pytest.mark.fem
def test_the_fem_cells_root_is_rebuilt_by_the_counter_electrodes_plating():
    """On the real FEM (fast preset): the drift's cell set at 2.5 V and held 5 µs at 0.3 V, with the counter
    electrode a wall and with its plating.  The plating puts Ag onto the electrode and into the filament's root (the
    channel's node on the electrode holds more metal than with the wall), and less of the matrix's Ag stays beside
    that node than piles up there against the wall."""
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import simulate as sim
    from devicephys.filament import stage

    root = {}
    for plating in (False, True):
        spec = FilamentSpec(**{**FilamentSpec.fast().model_dump(), "dissolved_spread": True, "spread_drift": True,
                               "channel_edge": "cut", "counter_plating": plating, "field_snapshots": 0})
        model = sim.CellModel(spec)
        stage._constant_set(model, spec, 2.5, "set", False)
        sim.run_drive(model, lambda t: 0.3, 5e-6, dt_max=spec.hold_step)
        tr = model.transport
        root[plating] = (model.c[-1], tr.plated(model.c_s)[-1], tr.pool_total(model.c_s)[-1])
    assert root[False][1] == 0.0 and root[True][1] > 0.0
    assert root[True][0] > root[False][0]
    assert root[True][2] < root[False][2]  # the Ag beside the electrode's node: plated, not piled up


@pytest.mark.fem
def test_the_bridged_supply_holds_the_on_state_under_bias_and_not_at_zero():
    """On the real FEM (fast preset, the drift and the plating), the stage's ON-lifetime protocol from the cell set
    at 2.5 V: without ``bridged_supply`` the ON state ruptures within the 100 µs hold at 0.3 V as at 0 V (nothing
    resupplies the body on the active electrode's side of the neck); with it the ON state lives through the hold at
    0.3 V, and still self-ruptures at 0 V (no supply without bias: the switch stays volatile)."""
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import simulate as sim
    from devicephys.filament import stage

    lifetimes = {}
    for supply in (False, True):
        spec = FilamentSpec(**{**FilamentSpec.fast().model_dump(), "dissolved_spread": True, "spread_drift": True,
                               "channel_edge": "cut", "counter_plating": True, "bridged_supply": supply,
                               "field_snapshots": 0, "hold_biases": [0.0, 0.3]})
        model = sim.CellModel(spec)
        stage._constant_set(model, spec, 2.5, "set", False)
        runs = stage._lifetime_runs(model, spec, (2.5, model.state()), False)
        lifetimes[supply] = runs["on_lifetime"]
    assert np.all(np.isfinite(lifetimes[False])) and np.all(lifetimes[False] < 0.5 * spec.relax_duration)
    assert np.isfinite(lifetimes[True][0]) and lifetimes[True][0] < 0.5 * spec.relax_duration
    assert np.isnan(lifetimes[True][1])  # held through the 100 µs hold


@pytest.mark.fem
def test_the_bridged_transfer_holds_the_on_state_under_bias_and_not_at_zero():
    """On the real FEM (fast preset, the drift and the plating), the stage's ON-lifetime protocol from the cell set
    at 2.5 V, with the bridged filament's charge transfer derived (``bridged_transfer``) instead of premised: the ON
    state lives through the 100 µs hold at 0.3 V, where without it it ruptures (the test above), and still
    self-ruptures at 0 V; while it is held, the body's charge transfer is Butler–Volmer's at the overpotentials the
    FEM gives (weights between the neck rule's 0 and the premise's 1 on the active electrode's side)."""
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import simulate as sim
    from devicephys.filament import stage

    spec = FilamentSpec(**{**FilamentSpec.fast().model_dump(), "dissolved_spread": True, "spread_drift": True,
                           "channel_edge": "cut", "counter_plating": True, "bridged_transfer": True,
                           "field_snapshots": 0, "hold_biases": [0.0, 0.3]})
    model = sim.CellModel(spec)
    stage._constant_set(model, spec, 2.5, "set", False)
    bridged = (2.5, model.state())
    runs = stage._lifetime_runs(model, spec, bridged, False)
    lifetime = runs["on_lifetime"]
    assert np.isfinite(lifetime[0]) and lifetime[0] < 0.5 * spec.relax_duration
    assert np.isnan(lifetime[1])  # held through the 100 µs hold
    # the held state's rates while bridged: from the set state, 10 µs at 0.3 V
    model.restore(bridged[1])
    eta, weights = [], []

    def bridged_rates(m, sample):
        _, phi, T = m.et.axis_values(m.z_lo, m.z_hi)
        matrix = m.matrix_fields()
        w, f = m._rates(m.c, -np.diff(phi) / m.transport.h, phi, T, True, matrix)
        neck = int(np.argmin(m.c))  # the body on the active electrode's side of the neck: nodes below it
        if f is not None and neck > 0:  # bridged: the transfer's rates, not the neck's rule
            eta.append(np.median((phi - matrix[0][:, 1])[:neck]))
            weights.append(np.median(w[:neck]))

    sim.run_drive(model, lambda t: 0.3, 10e-6, dt_max=spec.hold_step, observer=bridged_rates)
    assert len(eta) > 10
    # anodic, as the drift found the matrix beside the body (so not the premise's w = 1), but by less than the
    # thermal voltage: the ions reduce there within e^α of k_r (not the neck rule's 0)
    assert 0.0 < np.median(eta) < k_B * 300.0 / e
    assert 0.0 < np.median(weights) < 1.0


def test_the_cut_edge_is_the_logistic_down_to_one_percent():
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament.fem.medium import EDGE_CUT, channel_edge_radius, channel_indicator

    r_ch = 2e-9
    r = np.linspace(0.0, 20e-9, 2001)
    x = np.vstack([r, np.zeros_like(r), np.zeros_like(r)])
    smooth, cut = channel_indicator(x, r_ch, 2), channel_indicator(x, r_ch, 2, cut=True)
    edge = channel_edge_radius(r_ch)
    assert edge == pytest.approx(2.919e-9, rel=1e-3)
    assert channel_indicator(np.array([[edge], [0.0], [0.0]]), r_ch, 2)[0] == pytest.approx(EDGE_CUT, rel=1e-12)
    np.testing.assert_array_equal(cut[r < edge * (1 - 1e-9)], smooth[r < edge * (1 - 1e-9)])
    assert not cut[r > edge * (1 + 1e-9)].any() and smooth[r > edge].min() > 0


@pytest.mark.fem
def test_the_matrix_beside_a_metal_rod_is_the_insulator_only_with_the_cut_edge():
    """A metallic rod on the active electrode (c = 1 from the seed to mid-gap) at 1 V: with the smooth edge's tail
    the matrix beside it conducts as metal and sits at the rod's potential 5 nm from the axis (within 1 mV); with
    the cut edge the potential falls away from the rod's (by more than 0.1 V there beside the rod's middle, more at
    8 nm), as beside a conductor in an insulator."""
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import simulate as sim

    drops = {}
    for edge in ("smooth", "cut"):
        spec = FilamentSpec(**{**FilamentSpec.fast().model_dump(), "channel_edge": edge, "field_snapshots": 0})
        model = sim.CellModel(spec)
        model.c = np.where(model.transport.z <= 5.5e-9, 1.0, 0.0)
        model._sync_concentration()
        model.try_step(1e-9, 1.0, frozen=True)
        z = np.full(3, 3e-9)
        phi, _ = model.et.point_values(np.array([0.0, 5e-9, 8e-9]), z)
        drops[edge] = phi[0] - phi[1:]
    assert abs(drops["smooth"][0]) < 1e-3  # measured 2.5e-6 V
    assert drops["cut"][0] > 0.1 and drops["cut"][1] > drops["cut"][0]  # measured 0.145, 0.251 V
