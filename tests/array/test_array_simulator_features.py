"""Spike sources, subgroups, monitors, continuation and forward Euler of the array simulator (exact checks)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from devicephys.array import network as nw
from devicephys.array import reference as ref
from devicephys.array.inputs import poisson_input, spike_generator
from devicephys.array.monitors import StateMonitor
from devicephys.array.simulate import simulate
from devicephys.errors import SpecError

DT = 1e-4


def _quiet(name: str, size: int, **kw) -> nw.Population:
    """Current-based neurons at rest at 0 V that never fire (threshold 1 V): their v sums the kicks they get."""
    # tau_m = 1e20 s: exp(-dt/tau_m) is 1.0 in float64, so v holds its value exactly between kicks
    return nw.lif_cuba(name, size, tau_m=kw.pop("tau_m", 1e20), v_rest=0.0, v_th=1.0, v_reset=0.0, t_ref=0.0,
                       v_init=0.0, **kw)


def _steps(result, dt=DT):
    return np.rint(result.spike_times / dt).astype(np.int64)


# -- refractory period in whole steps (Brian2's timestep(t_ref, dt)) ---------------------------------------------

@pytest.mark.parametrize("t_ref_steps, expected", [(0.0, 0), (0.4, 0), (2.5, 2), (2.6, 2), (2.9995, 3), (3.0, 3)])
def test_refractory_period_is_truncated_to_whole_steps(t_ref_steps, expected):
    # driven far above threshold: the neuron fires on the first step it is not refractory
    assert nw.refractory_steps(t_ref_steps * DT, DT) == expected
    net = nw.Network()
    net.add(nw.lif_cuba("n", 1, tau_m=1e-3, v_rest=10.0, v_th=0.0, v_reset=-1.0, t_ref=t_ref_steps * DT, v_init=-1.0))
    steps = _steps(simulate(net, 100 * DT, DT, progress=False))
    assert np.all(np.diff(steps) == max(expected, 1))


# -- Poisson sources -----------------------------------------------------------------------------------------------

def test_poisson_counts_follow_the_binomial_law_of_rate_dt():
    n, rate, duration = 2000, 50.0, 1.0
    net = nw.Network()
    net.add(poisson_input("p", n, rate))
    r = simulate(net, duration, DT, seed=7, progress=False)
    counts = np.bincount(r.spike_index, minlength=n)
    steps = int(round(duration / DT))
    p = rate * DT
    mean, var = steps * p, steps * p * (1 - p)  # per source: Binomial(steps, p) ~ Poisson(rate T)
    # total count: within 4 standard deviations of n * mean (fixed seed; two-sided 4 sigma = 6e-5 chance to fail)
    assert abs(counts.sum() - n * mean) <= 4 * math.sqrt(n * var)
    # sample variance: standard error var sqrt(2/(n-1)) for a near-normal count
    assert abs(counts.var(ddof=1) - var) <= 4 * var * math.sqrt(2 / (n - 1))
    # no source spikes twice in a step, and the same seed gives the same trains, another seed others
    assert np.unique(np.stack([_steps(r), r.spike_index]), axis=1).shape[1] == r.spike_index.size
    again = simulate(net, duration, DT, seed=7, progress=False)
    other = simulate(net, duration, DT, seed=8, progress=False)
    assert np.array_equal(again.spike_index, r.spike_index) and np.array_equal(again.spike_times, r.spike_times)
    assert not np.array_equal(other.spike_index[:100], r.spike_index[:100])


def test_poisson_rates_are_per_source_and_refused_above_one_per_step():
    rates = np.array([0.0, 20.0, 200.0, 2000.0])
    net = nw.Network()
    net.add(poisson_input("p", 4, rates))
    r = simulate(net, 2.0, DT, seed=1, progress=False)
    counts = np.bincount(r.spike_index, minlength=4)
    expected = rates * 2.0
    assert counts[0] == 0
    assert np.all(np.abs(counts[1:] - expected[1:]) <= 4 * np.sqrt(expected[1:]))
    net = nw.Network()
    net.add(poisson_input("p", 2, 2e4))
    with pytest.raises(SpecError, match="lower the rate or dt"):
        simulate(net, 1e-3, DT, progress=False)
    with pytest.raises(SpecError, match="rates"):
        poisson_input("p", 3, [1.0, -1.0, 2.0])


# -- spike generator -----------------------------------------------------------------------------------------------

def test_spike_generator_delivers_at_brian2_snapped_steps():
    # times snapped with int((t + 1e-3 dt) / dt): 2.9995 dt -> 3, 2.998 dt -> 2, 0.3 dt -> 0
    times = np.array([2.9995, 2.998, 0.3, 7.0, 7.0]) * DT
    index = np.array([0, 1, 2, 0, 1])
    net = nw.Network()
    gen = net.add(spike_generator("g", 3, index, times))
    tgt = net.add(_quiet("t", 3))
    net.add(nw.Projection("g", "t", np.arange(4), np.arange(3), 1e-3, 0.0, "v"))
    r = simulate(net, 10 * DT, DT, progress=False, monitor=StateMonitor(np.arange(3, 6), ("v",)))
    assert np.array_equal(gen.steps(DT), [3, 2, 0, 7, 7])
    order = np.lexsort((r.spike_index, _steps(r)))
    assert np.array_equal(_steps(r)[order], [0, 2, 3, 7, 7]) and np.array_equal(r.spike_index[order], [2, 1, 0, 0, 1])
    # the kick lands in the spike's step: v at the start of step s counts the spikes of steps < s
    v = r.states["v"]
    for j, kick_steps in enumerate(([3, 7], [2, 7], [0])):
        want = np.array([sum(k < s for k in kick_steps) for s in range(10)]) * np.float32(1e-3)
        assert np.array_equal(v[:, j], want.astype(float)), (j, v[:, j])
    assert tgt.size == 3 and np.array_equal(r.state_time, np.arange(10) * DT)


@pytest.mark.parametrize("index, times, match", [
    ([0, 0], [1.0e-4, 1.0004e-4], "spikes twice in step 1"),
    ([1], [10e-4], "outside this run's steps"),
])
def test_spike_generator_refuses_duplicates_and_times_off_the_run(index, times, match):
    net = nw.Network()
    net.add(spike_generator("g", 2, index, times))
    with pytest.raises(SpecError, match=match):
        simulate(net, 10 * DT, DT, progress=False)


def test_spike_generator_refuses_negative_times():
    with pytest.raises(SpecError, match=r"times\[1\] = -0.001 s"):
        spike_generator("g", 2, [0, 1], [0.0, -1e-3])


# -- subgroups -----------------------------------------------------------------------------------------------------

def test_projection_between_subgroups_touches_only_its_slices():
    net = nw.Network()
    src = net.add(spike_generator("src", 10, np.arange(10), np.zeros(10)))
    dst = net.add(_quiet("dst", 20))
    # src[2:5] -> dst[10:15]: row r (source 2 + r) reaches dst 10 + r and 10 + r + 1
    pre, post = np.repeat(np.arange(3), 2), np.array([0, 1, 1, 2, 2, 3])
    indptr, indices = nw.csr_from_pairs(pre, post, 3)
    net.add(nw.Projection(src[2:5], dst[10:15], indptr, indices, 1e-3, 0.0, "v"))
    r = simulate(net, 3 * DT, DT, progress=False, monitor=StateMonitor(np.arange(10, 30), ("v",)))
    v_after = r.states["v"][-1] / np.float32(1e-3)
    want = np.zeros(20)
    want[10:14] = [1, 2, 2, 1]
    assert np.array_equal(v_after, want)
    with pytest.raises(SpecError, match=r"slice \[15:25\] is outside population 'dst'"):
        net.add(nw.Projection(src[2:5], nw.Subgroup("dst", 15, 25), indptr, indices, 1e-3))
    with pytest.raises(SpecError, match=r"indptr has 3 rows but 'src'\[0:4\] has 4 neurons"):
        net.add(nw.Projection(src[0:4], "dst", indptr, indices, 1e-3))
    with pytest.raises(SpecError, match="contiguous slice"):
        src[::2]


# -- monitors ------------------------------------------------------------------------------------------------------

def test_state_monitor_records_every_variable_at_the_start_of_each_step():
    tau_m, tau_e, tau_i, every = 20e-3, 5e-3, 10e-3, 3
    net = nw.Network()
    net.add(nw.lif_cuba("exact", 1, tau_m=tau_m, v_rest=-70e-3, v_th=0.0, v_reset=-70e-3, t_ref=0.0,
                        tau_e=tau_e, tau_i=tau_i, v_init=-60e-3))
    net.add(nw.lif_coba("euler", 1, tau_m=tau_m, v_rest=-70e-3, v_th=0.0, v_reset=-70e-3, t_ref=0.0, tau_e=tau_e,
                        tau_i=tau_i, E_e=0.0, E_i=-80e-3, method="euler", v_init=-60e-3, g_e_init=1.0, g_i_init=0.5))
    mon = StateMonitor([0, 1], ("v", "g_e", "g_i", "x"), every=every)
    r = simulate(net, 0.02, DT, progress=False, monitor=mon)
    s = np.arange(0, 200, every)
    assert np.array_equal(r.state_time, s * DT)
    # exact integration: the analytic free decay (no input on g)
    assert np.allclose(r.states["v"][:, 0], -70e-3 + 10e-3 * np.exp(-s * DT / tau_m), rtol=0, atol=1e-15)
    # forward Euler on g: g_{s+1} = (-dt/tau) g_s + g_s, exactly; v by the same recurrence as Brian2's code
    g_e, g_i, v = [1.0], [0.5], [-60e-3]
    k, ce, ci = DT / tau_m, (-DT) / tau_e, (-DT) / tau_i
    for _ in range(199):
        ge0, gi0, v0 = g_e[-1], g_i[-1], v[-1]
        v.append(k * ((-70e-3 + (ge0 * (0.0 - v0) + gi0 * (-80e-3 - v0))) - v0) + v0)
        g_e.append(ce * ge0 + ge0)
        g_i.append(ci * gi0 + gi0)
    assert np.array_equal(r.states["g_e"][:, 1], np.array(g_e)[s])
    assert np.array_equal(r.states["g_i"][:, 1], np.array(g_i)[s])
    assert np.array_equal(r.states["v"][:, 1], np.array(v)[s])
    assert np.all(r.states["x"] == 0.0)
    with pytest.raises(SpecError, match="unknown variable 'w'"):
        StateMonitor([0], ("w",))


def test_population_rate_counts_each_step_spikes_over_n_dt():
    net = nw.Network()
    net.add(poisson_input("p", 500, 80.0))
    r = simulate(net, 0.1, DT, seed=3, progress=False)
    t, rate = r.population_rate("p")
    assert np.array_equal(t, np.arange(1000) * DT)
    assert np.isclose(rate.sum() * 500 * DT, r.spike_index.size, rtol=1e-12)
    per_step = np.bincount(_steps(r), minlength=1000)
    assert np.allclose(rate, per_step / (500 * DT), rtol=1e-12)
    t, sub = r.population_rate(nw.Subgroup("p", 100, 200))
    in_sub = (r.spike_index >= 100) & (r.spike_index < 200)
    assert np.isclose(sub.sum() * 100 * DT, in_sub.sum(), rtol=1e-12)


# -- continuation --------------------------------------------------------------------------------------------------

def _mixed_network():
    """COBA neurons driven by Poisson sources and a spike generator through delayed synapses."""
    w = ref.coba(600, seed=2)
    net = w.network
    net.add(poisson_input("poisson", 100, 30.0))
    gen = net.add(spike_generator("gen", 5, [0, 1, 2, 3, 4, 0], [0.01, 0.02, 0.03, 0.07, 0.08, 0.09]))
    rng = np.random.default_rng(4)
    for name, n_pre, delay in (("poisson", 100, 1.5e-3), ("gen", 5, 0.7e-3)):
        pre = np.repeat(np.arange(n_pre), 20)
        indptr, indices, dl = nw.csr_from_pairs(pre, rng.integers(0, 600, pre.size), n_pre,
                                                rng.uniform(0, delay, pre.size))
        net.add(nw.Projection(name, "coba", indptr, indices, 0.3, dl, "e"))
    return net, gen


def test_two_half_runs_give_the_spikes_of_one_run():
    t_half = 0.05
    net, gen = _mixed_network()
    whole = simulate(net, 2 * t_half, DT, seed=11, progress=False, monitor=StateMonitor([0, 5], ("v", "g_e")))
    times, index = gen.times.copy(), gen.indices.copy()
    first = times < t_half
    gen.set_spikes(index[first], times[first])
    a = simulate(net, t_half, DT, seed=11, progress=False, monitor=StateMonitor([0, 5], ("v", "g_e")))
    gen.set_spikes(index[~first], times[~first])
    b = simulate(net, t_half, DT, seed=11, progress=False, monitor=StateMonitor([0, 5], ("v", "g_e")),
                 initial=a.final_state)
    assert whole.spike_index.size > 500 and b.step0 == 500
    assert np.array_equal(np.concatenate([_steps(a), _steps(b)]), _steps(whole))
    assert np.array_equal(np.concatenate([a.spike_index, b.spike_index]), whole.spike_index)
    for var in ("v", "g_e"):
        assert np.array_equal(np.concatenate([a.states[var], b.states[var]]), whole.states[var])
    assert np.array_equal(b.final_state.state, whole.final_state.state)
    assert np.array_equal(b.final_state.buf, whole.final_state.buf)
    assert np.array_equal(np.concatenate([a.state_time, b.state_time]), whole.state_time)
    # the generator's first-half spikes are off the second run
    gen.set_spikes(index, times)
    with pytest.raises(SpecError, match="outside this run's steps"):
        simulate(net, t_half, DT, progress=False, initial=a.final_state)
    gen.set_spikes(index[~first], times[~first])
    with pytest.raises(SpecError, match="same dt"):
        simulate(net, t_half, DT / 2, progress=False, initial=a.final_state)


def test_continuation_refuses_another_network():
    net, gen = _mixed_network()
    gen.set_spikes(np.zeros(0, int), np.zeros(0))
    short = simulate(net, 0.005, DT, progress=False)
    other = ref.coba(200, seed=2).network
    with pytest.raises(SpecError, match="continue the same network"):
        simulate(other, 0.005, DT, progress=False, initial=short.final_state)


def test_continuation_carries_plastic_weights_and_traces():
    from devicephys.array.plasticity import STDP

    n_in, n = 20, 22
    rng = np.random.default_rng(7)
    net = nw.Network(stdp=STDP(20e-3, 20e-3, 0.2e-3, -0.21e-3, 4e-3))
    net.add(nw.lif_cuba("all", n, tau_m=10e-3, v_rest=np.concatenate([rng.uniform(-49e-3, -40e-3, n_in),
                                                                        [-56e-3, -58e-3]]),
                        v_th=-50e-3, v_reset=-60e-3, t_ref=2e-3, v_init=-60e-3))
    pre = np.repeat(np.arange(n_in), 2)
    indptr, indices, w = nw.csr_from_pairs(pre, np.tile([n_in, n_in + 1], n_in), n,
                                           rng.uniform(0.5e-3, 2.5e-3, pre.size))
    net.add(nw.Projection("all", "all", indptr, indices, w, 0.0, "e", plastic=True))
    whole = simulate(net, 0.4, DT, progress=False)
    a = simulate(net, 0.2, DT, progress=False)
    b = simulate(net, 0.2, DT, progress=False, initial=a.final_state)
    assert not np.array_equal(a.synapses["weight"], whole.synapses["weight"])  # weights moved in the second half
    assert np.array_equal(b.synapses["weight"], whole.synapses["weight"])
    assert np.array_equal(np.concatenate([a.spike_index, b.spike_index]), whole.spike_index)
    assert np.array_equal(b.final_state.a_pre, whole.final_state.a_pre)
