"""The LIF neuron (threshold switch across a capacitor) against its closed-form theory."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from devicephys.compact.neuron import (LOGIT_LIMIT, LatchParams, latch_rate, latch_state, lif_analytic,
                                       simulate_lif)

LATCH = LatchParams(threshold_voltage=1.0, hold_voltage=0.4, resistance_on=1e3, resistance_off=1e12,
                    switching_time=1e-11, width=0.6e-3)
# the instant-switch period needs the latch much faster than the discharge: tau_s = 1e-3 R_on C here
C, R_S = 10e-12, 1e6


@pytest.mark.parametrize("v_in", [1.2, 2.0])
def test_interval_matches_charge_plus_discharge_time(v_in):
    theory = lif_analytic(LATCH, v_in, R_S, C)
    # R_off >> R_s: the exact charge time is the textbook R_s C ln((V_in - V_h)/(V_in - V_th))
    assert theory["charge_time"] == pytest.approx(theory["charge_time_ideal"], rel=1e-5)
    assert theory["charge_time"] == pytest.approx(R_S * C * math.log((v_in - 0.4) / (v_in - 1.0)), rel=1e-5)
    sim = simulate_lif(LATCH, v_in, R_S, C, 4.5 * theory["period"])
    intervals = np.diff(sim["spike_times"])
    assert len(intervals) >= 3
    np.testing.assert_allclose(intervals, theory["period"], rtol=0.01)


def test_charge_per_spike_is_c_times_hysteresis_window():
    v_in = 1.5
    theory = lif_analytic(LATCH, v_in, R_S, C)
    sim = simulate_lif(LATCH, v_in, R_S, C, 3.5 * theory["period"])
    t, i_sw, spikes = sim["time"], sim["current"], sim["spike_times"]
    # charge through the switch in a window around the second spike, minus what leaked while OFF
    window = (t > spikes[1] - 0.05 * theory["period"]) & (t < spikes[1] + 0.05 * theory["period"])
    q_switch = np.trapezoid(i_sw[window], t[window])
    q_input = np.trapezoid((v_in - sim["voltage"][window]) / R_S, t[window])
    v = sim["voltage"][window]
    # the latch needs a few switching times to open and close: the swing overshoots the window slightly
    assert v.max() == pytest.approx(1.0, rel=0.01) and v.min() == pytest.approx(0.4, rel=0.02)
    assert q_switch - q_input == pytest.approx(C * (v.max() - v.min()), rel=1e-3)  # charge conservation
    assert q_switch - q_input == pytest.approx(theory["spike_charge"], rel=0.02)
    assert theory["spike_charge"] == pytest.approx(C * 0.6)


@pytest.mark.parametrize("v_in", [0.5, 0.99, 0.998])
def test_no_firing_below_threshold(v_in):
    theory = lif_analytic(LATCH, v_in, R_S, C)
    assert math.isinf(theory["period"])
    sim = simulate_lif(LATCH, v_in, R_S, C, 30 * R_S * C, v_start=0.0)
    assert len(sim["spike_times"]) == 0
    assert sim["voltage"][-1] == pytest.approx(v_in, rel=1e-3)


@pytest.mark.parametrize("width", [0.6e-3, 6e-3, 30e-3])
def test_static_thresholds_are_v_th_and_v_h(width):
    """A slow triangle sweep switches ON within w above V_th and OFF within w below V_h."""
    p = LatchParams(threshold_voltage=1.0, hold_voltage=0.4, resistance_on=1e3, resistance_off=1e12,
                    switching_time=1e-9, width=width)
    t_sweep = 1e-3  # 1.2 V per ms, slow against tau_s: the quasi-static loop
    v_of_t = lambda t: 1.2 * (t / t_sweep if t < t_sweep else 2.0 - t / t_sweep)  # noqa: E731
    sol = solve_ivp(lambda t, q: latch_rate(p, v_of_t(t), q), (0.0, 2 * t_sweep), [0.0], method="LSODA",
                    rtol=1e-10, atol=1e-10, max_step=t_sweep / 20000, dense_output=True)
    t = np.linspace(0.0, 2 * t_sweep, 400001)
    s = latch_state(sol.sol(t)[0])
    on, off = t[np.argmax(s > 0.5)], t[len(s) - np.argmax(s[::-1] > 0.5)]
    assert 1.0 < v_of_t(on) < 1.0 + width and 0.4 - width < v_of_t(off) < 0.4
    assert s[t < 0.8 * t_sweep].max() < 1e-12 and s[(t > 1.2 * t_sweep) & (t < 1.6 * t_sweep)].min() > 1 - 1e-12


@pytest.mark.parametrize("steps", [1.0, 1e3, 1e9])  # implicit step length / tau_s
def test_an_implicit_step_cannot_release_inside_the_window(steps):
    """Backward Euler q = q_n + h dq/dt(v, q) from the ON state: inside (V_h, V_th) ON is the only root.

    This keeps a circuit simulator from releasing early when it retries a rejected step from an
    OFF iterate (the failure of a latch built on a bistable equilibrium).  From the OFF state the
    held state is a root too; an ON root also exists there (the switch, once started, completes),
    which a simulator reaches only by retrying a step that already crossed V_th.
    """
    h = steps * LATCH.switching_time
    q = np.linspace(-10.0, 2 * LOGIT_LIMIT + 10.0, 200001)
    for v in np.linspace(0.4 + 1e-6, 1.0 - 1e-6, 25):
        on = q - 2 * LOGIT_LIMIT - h * latch_rate(LATCH, v, q)
        roots = np.nonzero(np.sign(on[:-1]) != np.sign(on[1:]))[0]
        assert len(roots) == 1 and abs(q[roots[0]] - 2 * LOGIT_LIMIT) < 1e-3, (v, q[roots])
        assert latch_rate(LATCH, v, 0.0) == 0.0 and latch_rate(LATCH, v, 2 * LOGIT_LIMIT) == 0.0  # both held
