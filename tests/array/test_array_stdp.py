"""STDP: weights and spikes against Brian2's classic STDP synapse; bounds; bad input."""

from __future__ import annotations

import numpy as np
import pytest

from devicephys.array import network as nw
from devicephys.array.plasticity import STDP
from devicephys.array.simulate import simulate
from devicephys.errors import SpecError

DT = 1e-4


def _setup():
    n_in, n_out = 20, 2
    rng = np.random.default_rng(7)
    pre = np.repeat(np.arange(n_in), n_out)
    post = np.tile(np.arange(n_in, n_in + n_out), n_in)
    return dict(tau_m=10e-3, tau_e=5e-3, v_th=-50e-3, v_reset=-60e-3, t_ref=2e-3,
                v_rest=np.concatenate([rng.uniform(-49e-3, -40e-3, n_in), [-56e-3, -58e-3]]),
                v_init=np.concatenate([rng.uniform(-60e-3, -50e-3, n_in), [-60e-3, -60e-3]]),
                pre=pre, post=post, w_init=rng.uniform(0.5e-3, 2.5e-3, pre.size),
                tau_pre=20e-3, tau_post=20e-3, d_pre=0.2e-3, d_post=-0.21e-3, w_max=4e-3)


def _ours(d, duration):
    n = d["v_rest"].size
    net = nw.Network(stdp=STDP(d["tau_pre"], d["tau_post"], d["d_pre"], d["d_post"], d["w_max"]))
    net.add(nw.lif_cuba("all", n, tau_m=d["tau_m"], v_rest=d["v_rest"], v_th=d["v_th"], v_reset=d["v_reset"],
                        t_ref=d["t_ref"], tau_e=d["tau_e"], tau_i=d["tau_e"], v_init=d["v_init"]))
    indptr, indices, w = nw.csr_from_pairs(d["pre"], d["post"], n, d["w_init"])
    net.add(nw.Projection("all", "all", indptr, indices, w, 0.0, "e", plastic=True))
    return simulate(net, duration, DT, progress=False)


@pytest.mark.peer
def test_stdp_matches_brian2():
    pytest.importorskip("brian2")
    from brian2_peer import brian2_stdp

    d = _setup()
    t_b, i_b, w_b = brian2_stdp(d, 1.0, DT)
    ours = _ours(d, 1.0)
    syn = ours.synapses
    order = np.lexsort((syn["post"], syn["pre"]))
    w_o = syn["weight"][order]
    assert np.any(np.abs(w_b - d["w_init"][np.lexsort((d["post"], d["pre"]))]) > 1e-4)  # weights did move
    assert np.max(np.abs(w_o - w_b)) < 1e-6 * 4  # float32 weights: ~1e-7 relative per update
    for k in (20, 21):
        a, b = np.sort(t_b[i_b == k]), np.sort(ours.spike_times[ours.spike_index == k])
        assert a.size == b.size > 5
        assert np.max(np.abs(a - b)) <= DT * (1 + 1e-9)


def test_stdp_keeps_weights_within_bounds():
    d = _setup()
    d["d_pre"], d["d_post"] = 5e-3, -5e-3
    w = _ours(d, 0.3).synapses["weight"]
    assert w.min() >= 0.0 and w.max() <= d["w_max"] * (1 + 1e-7)
    assert np.any(w == 0.0) or np.any(np.isclose(w, d["w_max"]))


def test_plastic_synapses_need_no_delay_and_a_rule():
    with pytest.raises(SpecError, match="delay"):
        nw.Projection("a", "a", np.array([0, 1]), np.array([0]), 1.0, 1e-3, plastic=True)
    with pytest.raises(SpecError, match="tau_pre"):
        STDP(tau_pre=-1.0)
    net = nw.Network()
    net.add(nw.lif_cuba("a", 2, tau_m=1e-2, v_rest=0.0, v_th=1.0, v_reset=0.0, t_ref=0.0))
    net.add(nw.Projection("a", "a", np.array([0, 1, 1]), np.array([1]), 1.0, plastic=True))
    with pytest.raises(SpecError, match="STDP"):
        simulate(net, 1e-3, 1e-4, progress=False)
