"""The field's return of dissolved silver (``return_rate``) against its closed forms, ngspice and OpenVAF.

While bridged, the oldest stretch's dissolved fraction ``q = 1 - m`` obeys
``dq/dt = k_d - lam q`` with ``lam = k_f h(V) F(T) beta(d)``: it settles at
``q* = k_d/lam``.  The bridge is held where ``q*`` stays below ``1 - c_p``
(at and above the return hold ``lam (1 - c_p) = k_d``); below it,
``q(t) = (k_d/lam)(1 - exp(-lam t))`` reaches ``1 - c_p`` at
``t = -ln(1 - lam (1 - c_p)/k_d)/lam`` and the bridge breaks, once.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from devicephys.compact import export_veriloga, integrate, measured_release, model, ngspice, va_check
from devicephys.compact.card import DeviceCard
from devicephys.compact.export_spice import subcircuit_names, subcircuit_text
from devicephys.compact.verify import TARGET

from tests.compact.test_compact_dissolution import K_D, P as P0, T_R, _card

#: The isothermal reference with dissolution, its return hold at half its static threshold.
V_HOLD = 0.5 * model.static_threshold(P0)
P = dataclasses.replace(P0, return_rate=measured_release.start_rate(P0, V_HOLD))


def _lam(v: float) -> float:
    return float(model.field_return(P, P.gap_min, v, P.ambient_temperature))


def _bridged(v: float, t_end: float):
    """The fresh bridge (gap_min, m = 1, intact) at constant cell voltage ``v`` [V]; stops where the gap opens."""
    f = integrate._rhs(P, 0.0, 0.0, v, 0.0)
    mid = 0.5 * (P.gap_min + P.gap_max)

    def opened(t, y):
        return y[0] - mid
    opened.terminal = True
    return solve_ivp(f, (0.0, t_end), np.array([P.gap_min, 0.0, 1.0, 0.0]), method="Radau", rtol=1e-9,
                     atol=model.state_tolerances(P), events=opened)


def test_return_hold_is_the_closed_form_and_the_start_rate_inverts_it():
    eps = model.SMOOTH_ABS
    beta = float(model.bridged_fraction(P, P.gap_min))
    h = K_D / (P.return_rate * beta * (1 - P.percolation_fraction))  # 2 sinh(y), y the smoothed |V|/V0
    y = math.asinh(0.5 * h) + eps
    assert model.return_hold(P) == pytest.approx(P.set_time_v0 * math.sqrt(y * y - eps * eps), rel=1e-12)
    assert model.return_hold(P) == pytest.approx(V_HOLD, rel=1e-12)
    # the static hold is the lower of the return's and the regrowth's (the latter: a hot bridge re-growing
    # within t_r, which needs the threshold in this isothermal card)
    assert model.static_hold(P) == pytest.approx(V_HOLD, rel=1e-12)
    assert model.static_hold(P0) == pytest.approx(model.static_threshold(P0), rel=1e-12)


@pytest.mark.parametrize("factor", [0.3, 0.7, 0.9])
def test_a_bridge_below_its_return_hold_breaks_once_at_the_closed_form_time(factor):
    v = factor * V_HOLD
    lam = _lam(v)
    assert lam * (1 - P.percolation_fraction) < K_D
    t_break = -math.log(1 - lam * (1 - P.percolation_fraction) / K_D) / lam
    sol = _bridged(v, 5 * T_R)
    # the flag turns on as m falls through c_p +- w_p/2, at the net dissolution rate there
    slack = 0.5 * P.percolation_width / (K_D - lam * (1 - P.percolation_fraction))
    t_open = float(sol.t_events[0][0])
    assert t_break - slack < t_open < t_break + slack + 20 * P.rupture_time
    assert t_break > T_R  # the return slows the break


@pytest.mark.parametrize("factor", [1.1, 1.5, 3.0])
def test_a_bridge_at_or_above_its_return_hold_is_held_at_the_closed_form_metal_fraction(factor):
    v = factor * V_HOLD
    sol = _bridged(v, 20 * T_R)
    assert len(sol.t_events[0]) == 0  # held, no self-rupture
    assert sol.y[2, -1] == pytest.approx(1 - K_D / _lam(v), rel=1e-6)
    assert sol.y[3, -1] < 1e-6


def test_without_return_the_bridge_still_breaks_at_t_r_under_the_same_bias():
    f = integrate._rhs(P0, 0.0, 0.0, 1.5 * V_HOLD, 0.0)
    sol = solve_ivp(f, (0.0, 2 * T_R), np.array([P0.gap_min, 0.0, 1.0, 0.0]), method="Radau", rtol=1e-9,
                    atol=model.state_tolerances(P0))
    assert sol.y[0, -1] > 0.5 * (P0.gap_min + P0.gap_max)  # broken (and retracted) within 2 t_r


def _return_card() -> DeviceCard:
    card = _card()
    values = {**card.values(), "return_rate": P.return_rate, "hold_voltage": V_HOLD}
    return DeviceCard.from_values("returning", values, {k: "test" for k in values})


def test_verilog_a_equations_equal_numpy_with_the_return(tmp_path):
    card = _return_card()
    assert card.model_params().return_rate == P.return_rate
    path = export_veriloga.write(card, tmp_path / "returning.va")
    err = va_check.check(card, path, samples=100)
    assert max(err.values()) < 1e-12, err


def test_a_triangle_behind_a_resistor_sets_holds_and_releases_once_and_ngspice_agrees():
    card = _return_card()
    v_th = model.static_threshold(P)
    # up to 1.3 V_th, held there for 3 t_r (no self-rupture under the return), then down to 0 over 2 t_r
    t1, t2, t3 = 2 * T_R, 5 * T_R, 7 * T_R
    tp, vp, r_s = [0.0, t1, t2, t3], [0.0, 1.3 * v_th, 1.3 * v_th, 0.0], 2e3
    ref = integrate.simulate_series(P, tp, vp, r_s, samples_per_segment=20000)
    on = ref.gap < P.contact_gap
    edges = ref.time[np.flatnonzero(np.diff(on.astype(int))) + 1]
    assert len(edges) == 2, edges  # one set, one release: no relaxation oscillation while the bias holds it
    assert edges[1] > t2  # released on the way down ...
    # ... once the bias has fallen below the return hold (the cell takes nearly all of the source: R_s << R_on)
    assert np.interp(edges[1], tp, vp) < V_HOLD
    name, _ = subcircuit_names(card)
    run = ngspice.run(ngspice.series_netlist(subcircuit_text(card), name, tp, vp, r_s, t3, t3 / 20000),
                      ["i(vsense)", "v(xdev.nx)"])
    gap = P.gap_max - 1e-9 * run.vectors["v(xdev.nx)"]
    on_sp = gap < P.contact_gap
    edges_sp = run.time[np.flatnonzero(np.diff(on_sp.astype(int))) + 1]
    assert len(edges_sp) == 2
    assert np.max(np.abs(edges_sp - edges) / edges) < TARGET
