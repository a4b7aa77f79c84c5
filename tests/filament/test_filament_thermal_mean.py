"""The mean thermal time of the hot spot (``thermal_time_constant_mean``): the first moment of the step response.

For a rise Σ a_k (1 − e^(−t/τ_k)) the integral of 1 − ΔT/ΔT_end over the response is Σ a_k τ_k / Σ a_k (Elmore):
checked on one and two exponentials sampled as the stage samples its thermal step (16 per decade from 10 fs to
100 ns), within the stated uncertainty; on a two-node network stepped by backward Euler, whose right sums are its
first moment exactly (1e-9); against the 1 − 1/e crossing, which a slow component with a small share of the rise
does not move; and on the real FEM's thermal step of the default cell, against one steady linear solve of the heat
held at the end (3 %: the transient's nonlinearity).
"""

from __future__ import annotations

import numpy as np
import pytest

from devicephys.filament import extract

T0 = 300.0  # [K]


def _samples() -> np.ndarray:
    return np.geomspace(1e-14, 1e-7, 16 * 7 + 1)[1:]  # the stage's breakpoints and the step's end [s]


def _rise(t: np.ndarray, shares, taus) -> np.ndarray:
    return sum(a * (1.0 - np.exp(-t / tau)) for a, tau in zip(shares, taus))


@pytest.mark.parametrize("shares,taus", [((1.0,), (13e-12,)), ((0.73, 0.27), (13e-12, 0.74e-9)),
                                         ((0.96, 0.04), (13e-12, 0.74e-9))])
def test_the_mean_time_is_the_share_weighted_time_of_each_component(shares, taus):
    t = _samples()
    rise = 5.0 * _rise(t, shares, taus)  # [K]
    mean, sigma = extract.thermal_mean_time(t, T0 + rise, T0)
    # the response has settled by 100 ns (e^-135 of the slowest): the first moment of the infinite response
    expected = sum(a * tau for a, tau in zip(shares, taus)) / sum(shares)
    assert expected - sigma <= mean <= expected  # the right sum of a sampled decay: below, within the bound
    assert sigma <= 0.2 * expected  # 16 samples per decade: steps of 15.5 % of the time, the bound ~ 0.155 tau


def test_on_a_backward_euler_response_the_right_sums_are_the_exact_first_moment():
    # a fast node (the filament) coupled to a slow one (an electrode): C du/dt = -K u + p, stepped by backward Euler
    # on the stage's breakpoints from rest; its first moment at the hot node is [K^-1 C K^-1 p]_0 / [K^-1 p]_0
    C = np.diag([1e-21, 4e-19])  # [J/K]
    K = np.array([[1e-9 + 2e-10, -2e-10], [-2e-10, 2e-10 + 4e-10]])  # [W/K]
    p = np.array([1e-6, 0.0])  # [W]
    steady = np.linalg.solve(K, p)
    exact = np.linalg.solve(K, C @ steady)[0] / steady[0]
    t = _samples()
    u, rise = np.zeros(2), []
    for dt in np.diff(np.concatenate(([0.0], t))):
        u = np.linalg.solve(C / dt + K, C @ u / dt + p)
        rise.append(u[0])
    assert 1e-12 < exact < 1e-9  # picoseconds and a slower share: the case at hand
    settled = T0 + np.array(rise) * steady[0] / rise[-1]  # the rise's end taken as the steady one (settled by 100 ns)
    mean, sigma = extract.thermal_mean_time(t, settled, T0)
    assert mean == pytest.approx(exact, rel=1e-9)
    assert sigma > 1e-6 * exact  # the sampling bound, which this response does not need


def test_a_slow_component_with_a_small_share_moves_the_mean_but_not_the_crossing():
    t = _samples()
    fast = T0 + _rise(t, (1.0,), (13e-12,))
    both = T0 + _rise(t, (0.73, 0.27), (13e-12, 0.74e-9))
    power = np.ones_like(t)
    tau_fast, tau_both = extract.thermal_step(t, fast, power, T0)[1], extract.thermal_step(t, both, power, T0)[1]
    mean_fast, mean_both = extract.thermal_mean_time(t, fast, T0)[0], extract.thermal_mean_time(t, both, T0)[0]
    assert tau_both < 2.5 * tau_fast  # the crossing stays within a few of the fast time
    assert mean_both > 15 * mean_fast  # the mean carries the slow component's 27 % share of 0.74 ns
    assert np.isnan(extract.thermal_mean_time(t, np.full_like(t, T0), T0)[0])  # no rise: no time


@pytest.mark.fem
@pytest.mark.parametrize("sink", [None, 1e7])
def test_on_the_fem_the_mean_time_is_the_steady_solve_of_the_heat_held_at_the_end(sink):
    # Integrating rho c_p dT/dt = div(kappa grad T) + q over the step response: psi = int_0^inf (T_end - T) dt
    # solves the steady -div(kappa grad psi) = rho c_p (T_end - T_0), psi = 0 on the sinks, so the first moment at a
    # node is psi / (T_end - T_0) there: one linear solve against the whole transient.  Backward Euler keeps the
    # identity exactly in its right sums over the steps (C (u_N - u_0) = -K sum dt u_n+1), so what remains is the
    # transient's nonlinearity (sigma(T), kappa(T) over a rise of a few kelvin: alpha dT ~ 1e-2) and the response
    # not quite settled at 100 ns.  Behind an electrode/substrate interface (sink_conductance h) psi meets the same
    # Robin condition, kappa d(psi)/dn + h psi = 0, and the electrodes' slow heating (rho c_p t_e / h, ~7 ns at
    # 1e7 W/(m^2 K)) enters the moment with its share of the rise.
    pytest.importorskip("dolfinx_solver")
    import ufl
    from dolfinx import fem
    from dolfinx.fem.petsc import LinearProblem

    from devicephys.filament import simulate as sim
    from devicephys.filament import stage
    from devicephys.filament.spec import FilamentSpec

    spec = FilamentSpec.fast().model_copy(update={"sink_conductance": sink})
    model = sim.CellModel(spec)
    stage._constant_set(model, spec, 2.5, "set", False)
    model.et.reset_temperature()
    fields: list[np.ndarray] = []
    trace = sim.run_drive(model, lambda t: 2.5, 1e-7, dt_max=1e-8, dt_first=1e-14, frozen=True,
                          breakpoints=tuple(_samples()[:-1]),
                          observer=lambda m, s: fields.append(m.et.T.x.array.copy()))
    T0 = spec.ambient_temperature
    rises = np.array(fields) - T0
    hot = int(np.argmax(rises[-1]))
    steps = np.diff(trace.array("time"))
    right = float(np.dot(steps, 1.0 - rises[:, hot] / rises[-1, hot]))  # backward Euler's own first moment

    et = model.et
    W, med = et.W, et.medium
    extra = getattr(med, "quadrature_extra", None)
    dx = et.dx if extra is None else et.dx(metadata={"quadrature_degree": 3 + extra})
    held = fem.Function(W)
    held.x.array[:] = rises[-1]
    psi, v = ufl.TrialFunction(W), ufl.TestFunction(W)
    kappa = med.kappa(med.sigma(et.T, et.c), et.T)
    a = kappa * ufl.inner(ufl.grad(psi), ufl.grad(v)) * et.weight * dx
    L = med.rho_cp(et.c) * held * v * et.weight * dx
    fdim = et.data.domain.topology.dim - 1
    if sink is None:
        sinks = et.data.facets.indices[np.isin(et.data.facets.values, et.heat_sinks)]
        bcs = [fem.dirichletbc(0.0, fem.locate_dofs_topological(W, fdim, sinks), W)]
    else:
        a += sink * psi * v * et.weight * et.ds(et.heat_sinks)
        bcs = []
    solution = LinearProblem(a, L, bcs=bcs, petsc_options_prefix=f"dp_test_moment_{bool(sink):d}_",
                             petsc_options={"ksp_type": "preonly", "pc_type": "lu"}).solve()
    steady = float(solution.x.array[hot] / rises[-1, hot])

    mean, sigma = extract.thermal_mean_time(trace.array("time")[1:], trace.array("temperature_max")[1:], T0)
    print(f"sink {sink}: first moment: steady solve {steady:.4g} s, backward Euler's right sums {right:.4g} s, "
          f"the stage's right sums on T_max {mean:.4g} +- {sigma:.2g} s")
    assert right == pytest.approx(steady, rel=0.03)  # the nonlinearity's order, alpha dT
    assert mean == pytest.approx(steady, rel=0.03)  # the stage's extraction, on T_max, as well
    if sink is not None:  # the electrodes' heating moves the mean by two decades, into the published 0.1-10 ns
        assert 1e-10 < mean < 1e-8
