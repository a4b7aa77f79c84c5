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
from devicephys.units import eV

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
    assert tr.mass(c_i, c_m, c_s) == pytest.approx(mass0, rel=1e-12)
    assert c_s[:, 0].sum() > 0 and c_s[:, 1:].sum() > 0  # dissolved at the wall, spread outwards
    assert np.all(c_s >= 0) and np.all(c_i + c_m <= 1 + 1e-12)


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
    assert tr.mass(c_i2, c_m, c_s2) == pytest.approx(mass0, rel=1e-13)


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
