"""Device neurons against their analytic firing laws."""

from __future__ import annotations

import math

import numpy as np
import pytest

from devicephys.array import network as nw
from devicephys.array.card import illustrative_card, neuron_from_card
from devicephys.array.simulate import simulate

NEURON = neuron_from_card(illustrative_card())
V_IN = 1.5 * NEURON.threshold_voltage


def _isi(model, drive, dt, duration=4e-6, v_init=None):
    net = nw.Network()
    net.add(model("n", 1, NEURON, drive, v_init=v_init))
    r = simulate(net, duration, dt, progress=False)
    return r.spike_times


def test_threshold_switch_interval_matches_tc_plus_td():
    v_in = V_IN
    t_c = NEURON.tau * math.log((v_in - NEURON.hold_voltage) / (v_in - NEURON.threshold_voltage))
    t_d = NEURON.discharge_time(v_in)
    errors = []
    # time steps resolving the discharge (the refractory period is counted in whole steps)
    for dt in t_d / np.array([2.0, 4.0, 8.0, 16.0]):
        t = _isi(nw.threshold_switch, v_in, dt, duration=30 * (t_c + t_d))
        isi = np.diff(t)[1:]
        assert isi.size > 5
        errors.append(abs(isi.mean() - (t_c + t_d)))
        assert errors[-1] <= 2 * dt
    # discretisation error falls with dt (first order on average)
    assert errors[-1] < errors[0]


@pytest.mark.parametrize("v_in", [NEURON.threshold_voltage, NEURON.threshold_voltage - 1e-3,
                                  0.2 * NEURON.threshold_voltage])
def test_threshold_switch_silent_at_or_below_threshold(v_in):
    assert _isi(nw.threshold_switch, v_in, 1e-9, duration=5e-6).size == 0


def test_blinking_first_spike_matches_filament_growth_law():
    v = 1.05 * NEURON.firing_voltage("blinking")
    a_tr = 4 * math.sinh(v / (2 * NEURON.set_time_v0)) ** 2 / NEURON.set_time_tau0 * NEURON.relaxation_time
    assert a_tr > 1
    t1 = -NEURON.relaxation_time * math.log(1 - 1 / a_tr)
    dt = 1e-10
    t = _isi(nw.blinking, v, dt, duration=3 * t1, v_init=v)
    assert abs(t[0] - t1) <= 2 * dt


def test_blinking_without_relaxation_fires_at_set_time():
    # tau_r >> t_set: the neuron fires at t_set = tau0 / (4 sinh^2(V/2V0)) (-> tau0 exp(-V/V0) for V >> V0)
    data = illustrative_card().to_dict()
    data["parameters"]["relaxation_time"]["value"] = 1.0
    slow = neuron_from_card(data)
    v = NEURON.threshold_voltage
    t_set = slow.set_time_tau0 / (4 * math.sinh(v / (2 * slow.set_time_v0)) ** 2)
    net = nw.Network()
    net.add(nw.blinking("n", 1, slow, v, v_init=v))
    t = simulate(net, 2 * t_set, 1e-10, progress=False).spike_times
    assert abs(t[0] - t_set) <= 2e-10 + 1e-6 * t_set


def test_blinking_silent_when_relaxation_wins():
    v = NEURON.firing_voltage("blinking") - 5e-3  # a tau_r < 1
    assert 4 * math.sinh(v / (2 * NEURON.set_time_v0)) ** 2 / NEURON.set_time_tau0 * NEURON.relaxation_time < 1
    assert _isi(nw.blinking, v, 1e-9, duration=2e-5, v_init=v).size == 0


def test_photons_emitted_are_spikes_times_card_budget():
    net = nw.Network()
    net.add(nw.threshold_switch("n", 3, NEURON, V_IN))
    r = simulate(net, 4e-6, 1e-9, progress=False)
    counts = np.bincount(r.spike_index, minlength=3)
    card = illustrative_card()
    assert counts.min() > 10
    assert np.allclose(r.emitted_photons, counts * card.value("photons_per_spike"))


def test_vectorisable_exp_matches_library_exp():
    from devicephys.array.kernels import exp_neg

    x = np.concatenate([np.linspace(0, 2, 20001), np.geomspace(2, 1e4, 2000)])
    approx = np.array([exp_neg(v) for v in x])
    assert np.max(np.abs(approx - np.exp(-x))) < 1e-13
    small = x <= 10
    assert np.max(np.abs(approx[small] / np.exp(-x[small]) - 1)) < 1e-11


def _two_state_neuron():
    """The illustrative card with a second slow state: the oldest stretch breaks t_r = relaxation_time after growth began."""
    data = illustrative_card().to_dict()
    t_r = data["parameters"]["relaxation_time"]["value"]
    for name, value in (("dissolution_rate", 0.7 / t_r), ("percolation_fraction", 0.3), ("percolation_width", 0.03),
                        ("rupture_time", 1e-4 * t_r)):
        data["parameters"][name] = {"value": value, "unit": {"dissolution_rate": "1/s", "rupture_time": "s"}.get(name, "1"),
                                    "description": name, "source": "test"}
    return neuron_from_card(data)


def test_two_state_blinking_fires_at_the_growth_time_within_the_rupture_time():
    two = _two_state_neuron()
    assert two.dissolution
    v = 1.05 * two.firing_voltage("blinking")
    y = v / two.set_time_v0
    t_set = two.set_time_tau0 / (2 * math.sinh(math.sqrt(y * y + 1e-6) - 1e-3))  # growth alone (smoothed |V|)
    assert t_set < two.relaxation_time and t_set == pytest.approx(two.blink_time(v), rel=1e-12)
    dt = 1e-10
    net = nw.Network()
    net.add(nw.blinking("n", 1, two, v, v_init=v))
    t = simulate(net, 2 * t_set, dt, progress=False).spike_times
    assert abs(t[0] - t_set) <= 2 * dt


def test_two_state_blinking_silent_when_the_oldest_stretch_breaks_first():
    two = _two_state_neuron()
    v = 0.98 * two.firing_voltage("blinking")  # the growth would take longer than t_r: it breaks and restarts
    assert two.blink_time(v) == math.inf
    net = nw.Network()
    net.add(nw.blinking("n", 1, two, v, v_init=v))
    r = simulate(net, 4.5 * two.relaxation_time, 1e-9, progress=False)
    assert r.spike_times.size == 0
    assert 0 < r.final_state.x[0] < 1 and 0 <= r.final_state.age[0] < 1  # growing again after the breaks
