"""Forward Euler against Brian2 (numpy target, float64): identical spike trains and bit-identical traces.

The simulator's ``method="euler"`` evaluates v, g_e and g_i with the operation
order of the code Brian2 generates for ``method='euler'`` (checked against
Brian2's generated code: ``_v = dt/tau_m*((v_rest + (ge*(E_e - v) + gi*(E_i - v))) - v) + v``,
``_ge = (-dt/tau_e)*ge + ge``), counts the refractory period as
``timestep(t_ref, dt)`` and adds a step's inputs in the order Brian2 does (the
synapse groups are ordered to match).  The only parameter that differs in
representation is the weight: the simulator stores weights in float32, so
Brian2 is given the same float32 values as float64 numbers.
"""

from __future__ import annotations

import numpy as np
import pytest

from devicephys.array import network as nw
from devicephys.array import reference as ref
from devicephys.array.inputs import spike_generator
from devicephys.array.monitors import StateMonitor
from devicephys.array.simulate import simulate

pytest.importorskip("brian2")
from brian2_peer import brian2_coba_euler, brian2_refractory  # noqa: E402

pytestmark = pytest.mark.peer
DT = 1e-4


def _drive(n_src: int, duration: float, seed: int) -> dict:
    """Spike-generator drive: 400 spikes of ``n_src`` sources on the step grid, each source to 5 neurons."""
    rng = np.random.default_rng(seed)
    key = np.unique(rng.integers(0, int(round(duration / DT)), 400) * n_src + rng.integers(0, n_src, 400))
    pre = np.repeat(np.arange(n_src), 5)
    return dict(size=n_src, indices=key % n_src, times=(key // n_src) * DT, pre=pre,
                post=(np.arange(pre.size) * 7) % 300, weight=0.5)


def test_forward_euler_coba_is_identical_to_brian2():
    n, duration, n_src = 400, 0.2, 40
    wiring = ref.coba(n, seed=5, method="euler", out_degree=80)
    drive = _drive(n_src, duration, seed=9)
    net = wiring.network
    net.add(spike_generator("drive", n_src, drive["indices"], drive["times"]))
    indptr, indices = nw.csr_from_pairs(drive["pre"], drive["post"], n_src)
    net.add(nw.Projection("drive", net.populations[0][100:400], indptr, indices, drive["weight"], 0.0, "e"))
    traced = np.arange(0, n, 20)
    ours = simulate(net, duration, DT, progress=False, monitor=StateMonitor(traced, ("v", "g_e", "g_i")))
    w32 = {k: float(np.float32(ref.COBA[k])) for k in ("w_e", "w_i")}
    steps_b, idx_b, tr_b = brian2_coba_euler(wiring, {**drive, "post": drive["post"] + 100, **w32}, duration, DT,
                                             traced)
    cell = ours.spike_index < n
    steps_o = np.rint(ours.spike_times[cell] / DT).astype(np.int64)
    assert steps_b.size > 500, "the network should be active (about 12 Hz)"
    assert np.array_equal(steps_o, steps_b) and np.array_equal(ours.spike_index[cell], idx_b), \
        f"spike trains differ: {steps_o.size} vs {steps_b.size} spikes"
    for ours_name, b2_name in (("v", "v"), ("g_e", "ge"), ("g_i", "gi")):
        assert np.array_equal(ours.states[ours_name], tr_b[b2_name]), f"{ours_name} traces differ"


def test_refractory_period_in_whole_steps_as_brian2():
    d = dict(tau_m=20e-3, tau_e=5e-3, tau_i=10e-3, v_rest=-45e-3, v_th=-50e-3, v_reset=-60e-3)
    t_ref = np.array([0.0, 0.4, 2.5, 2.6, 2.9995, 3.0, 20.7]) * DT
    net = nw.Network()
    for k, tr in enumerate(t_ref):
        net.add(nw.lif_cuba(f"n{k}", 1, tau_m=d["tau_m"], v_rest=d["v_rest"], v_th=d["v_th"], v_reset=d["v_reset"],
                            t_ref=float(tr), tau_e=d["tau_e"], tau_i=d["tau_i"], v_init=d["v_reset"],
                            method="euler"))
    ours = simulate(net, 0.2, DT, progress=False)
    steps_b, idx_b = brian2_refractory(d, t_ref, 0.2, DT)
    steps_o = np.rint(ours.spike_times / DT).astype(np.int64)
    assert steps_b.size >= 7 * 8  # about 9 spikes per neuron (interval 22 ms)
    for k in range(t_ref.size):
        assert np.array_equal(steps_o[ours.spike_index == k], steps_b[idx_b == k]), f"t_ref = {t_ref[k]} s"
