"""The electrothermal solver against closed-form solutions (real DOLFINx, small meshes).

Every case uses the production weak form (r-weighted axisymmetric, Newton by
SNES) of :class:`devicephys.filament.fem.solve.ElectroThermal` with analytic
material laws.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("dolfinx_solver")
ufl = pytest.importorskip("ufl")

from devicephys.filament import analytic  # noqa: E402
from devicephys.filament.fem import solve  # noqa: E402
from devicephys.units import L0  # noqa: E402

pytestmark = pytest.mark.fem

RADIUS, LENGTH, T0 = 2e-9, 10e-9, 300.0
SIGMA_AG, ALPHA_AG = 1 / 1.587e-8, 3.8e-3


class WiedemannFranz:
    """σ(T) of a metal with κ = L₀ σ T."""

    def __init__(self, alpha: float = ALPHA_AG):
        self.alpha = alpha

    def sigma(self, T, c):
        return SIGMA_AG / (1 + self.alpha * (T - T0))

    def kappa(self, sigma, T):
        return L0 * sigma * T

    def rho_cp(self, c):
        return 2.5e6


class Constant:
    """Constant σ [S/m] and κ [W/(m K)]."""

    def __init__(self, sigma: float, kappa: float):
        self.s, self.k = sigma, kappa

    def sigma(self, T, c):
        return self.s + 0 * T

    def kappa(self, sigma, T):
        return self.k + 0 * T

    def rho_cp(self, c):
        return 2.5e6


def _rod(medium, nz=32, nr=2, degree=1, **kw):
    data = solve.rod_mesh(RADIUS, LENGTH, nr, nz)
    return solve.ElectroThermal(data, medium, ambient=T0, current_window=(0.0, LENGTH), degree=degree, **kw)


@pytest.mark.parametrize("voltage", [0.1, 0.5])
def test_wiedemann_franz_peak_temperature_within_1_percent(voltage):
    # σ(T) varies with T here: the peak is still sqrt(T0² + V²/(4 L0)).
    p = _rod(WiedemannFranz())
    assert p.steady(voltage)
    expected = analytic.wiedemann_franz_peak_temperature(voltage, T0)
    assert p.max_temperature() == pytest.approx(expected, rel=0.01)
    assert expected > T0 + 30  # a real rise, not the ambient


def test_constant_properties_peak_rise_within_1_percent():
    sigma, kappa, V = 1e5, 1.0, 0.2
    p = _rod(Constant(sigma, kappa))
    assert p.steady(V)
    rise = p.max_temperature() - T0
    assert rise == pytest.approx(analytic.constant_property_peak_rise(V, sigma, kappa), rel=0.01)


def test_cylinder_thermal_resistance():
    sigma, kappa, V = 1e5, 1.0, 0.2
    p = _rod(Constant(sigma, kappa))
    assert p.steady(V)
    r_th = (p.max_temperature() - T0) / p.joule_power()
    assert r_th == pytest.approx(analytic.cylinder_thermal_resistance(LENGTH, RADIUS, kappa), rel=0.01)
    # Joule power equals I V of the rod (σ π r² V² / t).
    assert p.joule_power() == pytest.approx(sigma * math.pi * RADIUS**2 * V**2 / LENGTH, rel=1e-6)


def test_radial_profile_needs_the_r_weight():
    # Current along z heats uniformly; the side wall is the heat sink: T = T0 + q (R² − r²) / (4κ).
    sigma, kappa, V = 1e5, 1.0, 0.05
    p = _rod(Constant(sigma, kappa), nz=4, nr=24, degree=2, heat_sinks=("side",))
    assert p.steady(V)
    q = sigma * (V / LENGTH) ** 2
    expected = analytic.heated_rod_radial_profile(0.0, RADIUS, q, kappa, T0)
    assert p.max_temperature() - T0 == pytest.approx(expected - T0, rel=0.01)
    # An unweighted (planar) form would give twice this rise: the check can tell them apart.
    assert abs((p.max_temperature() - T0) / (expected - T0) - 2.0) > 0.5


@pytest.mark.parametrize("h", [1e9, 1e10])
def test_a_sink_behind_a_boundary_conductance_adds_q_r_over_2h(h):
    # The side wall loses h (T − T0) (Robin): T(0) = T0 + q R / (2 h) + q R² / (4 κ); at h = 1e9 W/(m² K) the
    # interface's rise equals the rod's own (2 κ / (h R) = 1), so a sink held at T0 would be off by half.
    sigma, kappa, V = 1e5, 1.0, 0.05
    p = _rod(Constant(sigma, kappa), nz=4, nr=24, degree=2, heat_sinks=("side",), sink_conductance=h)
    assert p.steady(V)
    q = sigma * (V / LENGTH) ** 2
    expected = analytic.heated_rod_radial_profile_robin(0.0, RADIUS, q, kappa, T0, h)
    # P2 holds the quadratic profile exactly: only the Newton tolerance (1e-10) is left
    assert p.max_temperature() - T0 == pytest.approx(expected - T0, rel=1e-6)
    ideal = analytic.heated_rod_radial_profile(0.0, RADIUS, q, kappa, T0)
    assert abs((p.max_temperature() - T0) / (ideal - T0) - 1.0) > 0.05  # the check tells the two sinks apart
    # what the wall loses is the Joule heat (steady state)
    assert p.heat_outflow() == pytest.approx(p.joule_power(), rel=1e-6)


def test_a_sink_conductance_must_be_positive_and_finite():
    for bad in (0.0, -1.0, math.inf):
        with pytest.raises(ValueError, match="sink_conductance"):
            _rod(Constant(1e5, 1.0), nz=4, sink_conductance=bad)


def test_heat_leaving_equals_joule_heat():
    p = _rod(WiedemannFranz(), nz=32, degree=2)
    assert p.steady(0.1)
    assert p.ballistic_power() == 0.0
    assert p.heat_outflow() == pytest.approx(p.joule_power(), rel=0.01)
    assert p.joule_power() == pytest.approx(p.current() * 0.1, rel=1e-6)


@pytest.mark.parametrize("voltage", [0.1, 0.5])
def test_staggered_secant_reaches_the_same_fixed_point_in_fewer_sweeps(voltage):
    # The staggered φ–T fallback from the ambient to the Kohlrausch steady state, with and without the
    # secant (Anderson depth 1) start of each sweep.  Both stop when a sweep moves T by less than 1e-6 K;
    # a sweep contracting by q ≤ 0.99 then leaves them within 1e-6 q / (1 − q) < 1e-4 K of the fixed point.
    plain, secant = _rod(WiedemannFranz()), _rod(WiedemannFranz())
    for p, accelerate in ((plain, False), (secant, True)):
        p.v_src.value, p.inv_dt.value = voltage, 0.0
        assert p._staggered(max_sweeps=200, tol=1e-6, accelerate=accelerate)
    assert secant.max_temperature() == pytest.approx(plain.max_temperature(), abs=1e-4)
    assert secant.max_temperature() == pytest.approx(analytic.wiedemann_franz_peak_temperature(voltage, T0), rel=0.01)
    print(f"{voltage} V: sweeps {plain.stats['staggered_sweeps']} plain, {secant.stats['staggered_sweeps']} secant")
    assert secant.stats["staggered_sweeps"] < plain.stats["staggered_sweeps"]


@pytest.mark.parametrize("degree,expected_rate", [(1, 2.0), (2, 3.0)])
def test_mesh_convergence_rate_matches_element_order(degree, expected_rate):
    V = 0.1

    def exact(x):
        phi = V * x[1] / LENGTH
        return ufl.sqrt(T0**2 + phi * (V - phi) / L0)

    sizes, errors = [], []
    for nz in (4, 8, 16, 32):
        p = _rod(WiedemannFranz(alpha=0.0), nz=nz, degree=degree)
        assert p.steady(V)
        sizes.append(LENGTH / nz)
        errors.append(solve.l2_error(p, exact))
    rates = np.diff(np.log(errors)) / np.diff(np.log(sizes))
    print(f"degree {degree}: L2 errors {errors}, rates {rates}")
    assert rates[-1] == pytest.approx(expected_rate, abs=0.25)
    assert errors[-1] < errors[0]


def _channel_cell(fraction: float = 0.36, **kw):
    """The earlier default's compact neck behind 5 kOhm and 1 mA (fast mesh, 30 nm electrodes resolved): by default a
    bridged, just-percolated channel (Ag fraction c = 0.36: its point contact and thin wire), a hot, strongly driven
    cell; :func:`_set_channel` changes c."""
    from devicephys.filament.mesh import CellGeometry
    from devicephys.filament.spec import DILUTE_CELL, FilamentSpec

    spec = FilamentSpec.fast().model_copy(update={"far_mesh_size": 8e-9, **DILUTE_CELL})
    data = solve.cell_mesh(CellGeometry.from_spec(spec))
    p = solve.ElectroThermal(data, solve.CellMedium(data, spec), ambient=T0, series_resistance=spec.series_resistance,
                             compliance_current=spec.compliance_current, degree=2,
                             current_window=(spec.seed_height, spec.insulator_thickness), **kw)
    _set_channel(p, spec, fraction)
    return p, spec


def _set_channel(p, spec, fraction: float) -> None:
    from devicephys.filament.conduction import ChannelConduction

    z = np.linspace(spec.seed_height, spec.insulator_thickness, 50)
    c = np.full_like(z, fraction)
    p.medium.gap_conductivity.value = ChannelConduction.from_spec(spec, p.medium.channel_area).gap_conductivity(
        z, c, 0.0, 0.0)
    p.set_concentration(lambda x: np.full(x.shape[1], fraction))  # c(z); the medium confines it to r_ch


def test_energy_balance_on_the_cell_with_a_filament():
    # Default-device cell (fast mesh), a resistive Ag channel, series resistor: steady Joule heat released in
    # the cell = heat out, and Joule heat + ballistic power = I V_cell (the power the cell takes from the circuit).
    p, _ = _channel_cell()
    assert p.steady(2.0)
    assert p.max_temperature() > T0 + 10  # the channel (c = 0.36, a few 100 Ohm) is a real hot spot
    # the ballistic part (point contact) is handed to the sinks; the rest leaves as heat through the contacts
    assert 0 < p.ballistic_power() < p.joule_power()
    assert p.heat_outflow() == pytest.approx(p.joule_power() - p.ballistic_power(), rel=0.01)
    assert p.joule_power() == pytest.approx(p.current() * p.cell_voltage(), rel=0.01)


def test_a_sink_conductance_passes_all_the_cells_heat_ballistic_included():
    # Behind an interface of conductance h the two contacts lose h (T − T0): at steady state all the power the
    # cell takes, the field's Joule heat and the ballistic power released in the electrodes, crosses it.
    from dolfinx import fem
    from mpi4py import MPI

    h = 1e8
    (ideal, _), (p, _) = _channel_cell(), _channel_cell(sink_conductance=h)
    assert ideal.steady(2.0) and p.steady(2.0)
    w = p.weight
    sinks = p.ds(p.heat_sinks)
    lost = p.data.domain.comm.allreduce(fem.assemble_scalar(fem.form(h * (p.T - T0) * w * sinks)), op=MPI.SUM)
    area = p.data.domain.comm.allreduce(fem.assemble_scalar(fem.form(w * sinks)), op=MPI.SUM)
    assert 0 < p.ballistic_power() < p.joule_power()
    assert lost == pytest.approx(p.joule_power(), rel=1e-6)  # the steady fixed point of the ballistic source
    assert p.heat_outflow() == pytest.approx(p.joule_power() - p.ballistic_power(), rel=1e-6)
    # the contacts sit P / (h A) above the ambient on average (9.9 K here, the faces within 0.5 K of it), and the
    # hot spot with them, less what the hotter channel conducts better (Wiedemann-Franz, kappa = L0 sigma T: where
    # sigma falls more slowly than 1/T, kappa grows with T; here the hot spot's rise above the contacts falls from
    # 343 K to 339 K and T_max moves by 5.8 K)
    mean_rise = lost / (h * area)
    assert mean_rise > 1.0
    assert 0.3 * mean_rise < p.max_temperature() - ideal.max_temperature() < mean_rise


def test_the_sinks_ballistic_source_is_the_last_solved_states():
    # Across a set the channel's c changes before the step is solved, and the old potential on the new bridge
    # would put the whole bias on it: a spurious ballistic burst heating the sinks (a 28 K spike in a sweep). The
    # source is the last solved state's ballistic power instead, lagging one step. Here the potential is made
    # inconsistent with the state (tripled) before a step: the source stays the solved state's.
    p, _ = _channel_cell(sink_conductance=1e8)
    assert p.steady(2.0)
    solved = p.ballistic_power()
    p.phi.x.array[:] *= 3.0
    assert p.ballistic_power() > 5 * solved  # what a source read from the current fields would take
    assert p.solve(2.0, dt=1e-9)
    assert float(p._p_ballistic.value) == pytest.approx(solved, rel=1e-12)
    # a restored state is consistent: its own ballistic power is read
    p.forget_fallback()
    now = p.ballistic_power()
    assert p.solve(2.0, dt=1e-9)
    assert float(p._p_ballistic.value) == pytest.approx(now, rel=1e-12)


def test_competing_set_time_against_its_ode_and_limits():
    """t = τ_d ln(r/(r-1)) solves dℓ/dt = J - k_d ℓ from ℓ = 0 to L; no set at r <= 1; t -> L/J for r >> 1."""
    from scipy.integrate import solve_ivp

    from devicephys.filament.analytic import competing_set_time

    supply, v0, k_d, length = 3.4e-4, 0.93, 1 / 54.4e-6, 9e-9
    for v in (0.6, 1.0, 1.5, 3.0):
        j = supply * np.sinh(v / v0)
        reach = lambda t, y: y[0] - length  # noqa: E731
        reach.terminal = True
        sol = solve_ivp(lambda t, y: [j - k_d * y[0]], (0.0, 1.0), [0.0], events=reach, rtol=1e-12, atol=1e-24,
                        max_step=1e-7)
        t_ode = sol.t_events[0][0] if sol.t_events[0].size else np.inf
        assert competing_set_time(v, supply, v0, k_d, length) == pytest.approx(t_ode, rel=1e-6)
    threshold = v0 * np.arcsinh(k_d * length / supply)
    assert np.isinf(competing_set_time(threshold * (1 - 1e-9), supply, v0, k_d, length))
    far = competing_set_time(8.0, supply, v0, k_d, length)
    assert far == pytest.approx(length / (supply * np.sinh(8.0 / v0)), rel=1e-3)


def test_newton_rtol_sets_where_the_electrothermal_newton_stops():
    # newton_rtol (FilamentSpec.newton_rtol) reaches the solver: a looser tolerance stops on a residual reduced by it,
    # in fewer iterations than a tight one, on the same heated step of the Wiedemann-Franz rod
    runs = {}
    for rtol in (1e-3, 1e-9):
        p = _rod(WiedemannFranz(), newton_rtol=rtol)
        assert p.solve(0.5, 1e-9)
        runs[rtol] = (p.stats["newton_iterations"], p._norms[-1] / p._norms[0], p.max_temperature())
    assert runs[1e-3][1] <= 1e-3 and runs[1e-3][0] < runs[1e-9][0]
    assert runs[1e-9][2] > T0 + 1  # a heated step, not the ambient
