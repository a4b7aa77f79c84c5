"""The LIF neuron (threshold switch across a capacitor) against its closed-form theory."""

from __future__ import annotations

import math

import numpy as np
import pytest

from devicephys.compact.neuron import LatchParams, latch_folds, lif_analytic, simulate_lif

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
def test_latch_folds_lie_at_threshold_and_hold_voltage(width):
    """V(s) = A - B s + w ln(s/(1-s)) turns at s = (1 -+ r)/2, r = sqrt(1 - 4w/B): there V = V_th and V_h."""
    p = LatchParams(threshold_voltage=1.0, hold_voltage=0.4, resistance_on=1e3, resistance_off=1e12,
                    switching_time=1e-11, width=width)
    a, b = latch_folds(p)
    r = math.sqrt(1.0 - 4.0 * width / b)
    for s, v_fold in (((1.0 - r) / 2, 1.0), ((1.0 + r) / 2, 0.4)):
        assert width / (s * (1.0 - s)) == pytest.approx(b, rel=1e-12)  # dV/ds = 0
        assert a - b * s + width * math.log(s / (1.0 - s)) == pytest.approx(v_fold, abs=1e-12)  # round-off of B
