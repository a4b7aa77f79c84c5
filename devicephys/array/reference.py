"""Reference networks used to validate the simulator against Brian2 and to benchmark it.

:func:`coba` is the Vogels–Abbott conductance-based benchmark network of
Brette et al. (2007), benchmark 1: 4000 LIF neurons (80 % excitatory), random
connectivity p = 0.02, tau_m = 20 ms, E_L = -60 mV, V_th = -50 mV,
V_reset = -60 mV, refractory 5 ms, E_e = 0 mV, E_i = -80 mV, tau_e = 5 ms,
tau_i = 10 ms, conductance jumps 0.6 and 6.7 times the leak (6 nS and 67 nS on
10 nS).  As in Brian2's COBA benchmark a constant drive of 20 mV
(v_rest = E_L + 20 mV) sustains the activity (~20 Hz).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from devicephys.array import kernels
from devicephys.array import network as nw
from devicephys.array.simulate import check_memory, estimate_memory

#: COBA parameters (SI).
COBA = dict(tau_m=20e-3, v_rest=-60e-3 + 20e-3, v_th=-50e-3, v_reset=-60e-3, t_ref=5e-3, tau_e=5e-3,
            tau_i=10e-3, E_e=0.0, E_i=-80e-3, w_e=0.6, w_i=6.7, p=0.02, excitatory_fraction=0.8)


@dataclass
class Wiring:
    """A network with its explicit synapse lists (to hand the same wiring to a peer)."""

    network: nw.Network
    pre: np.ndarray
    post: np.ndarray
    n_excitatory: int
    v_init: np.ndarray


def random_wiring(n_pre: int, n_post: int, p: float, seed: int, *, memory_limit: int | None = None):
    """Bernoulli(p) connectivity as CSR ``(indptr, indices)``, checking memory first."""
    mean = n_pre * n_post * p
    capacity = int(mean + 8 * np.sqrt(mean) + 64)
    check_memory(estimate_memory(n_pre, capacity), f"wiring {n_pre} x {n_post} neurons with p = {p}", memory_limit,
                 fix="lower the number of neurons or the connection probability p")
    indptr, indices, ok = kernels.bernoulli_csr(n_pre, n_post, p, seed, capacity, False)
    if not ok:  # pragma: no cover - more than 8 sigma above the mean
        raise RuntimeError("random wiring exceeded its capacity; rerun with another seed")
    return indptr, indices


def coba(n: int = 4000, seed: int = 0, *, method: str = "exponential_euler", memory_limit: int | None = None,
         out_degree: float | None = None, keep_pairs: bool = True) -> Wiring:
    """The COBA benchmark network with ``n`` neurons (random wiring and initial v from ``seed``).

    ``out_degree`` (default p n = 80 at n = 4000) sets p = out_degree / n; the
    weights are scaled by 80 / out_degree so every neuron gets the same mean
    input as in the benchmark (used for scaling runs).  ``keep_pairs`` False
    skips the explicit synapse lists (saves 8 B per synapse).
    """
    c = COBA
    p = c["p"] if out_degree is None else out_degree / n
    scale = 1.0 if out_degree is None else c["p"] * 4000 / out_degree
    n_exc = int(round(c["excitatory_fraction"] * n))
    rng = np.random.default_rng(seed)
    v_init = c["v_reset"] + rng.random(n) * (c["v_th"] - c["v_reset"])
    net = nw.Network()
    net.add(nw.lif_coba("coba", n, tau_m=c["tau_m"], v_rest=c["v_rest"], v_th=c["v_th"], v_reset=c["v_reset"],
                        t_ref=c["t_ref"], tau_e=c["tau_e"], tau_i=c["tau_i"], E_e=c["E_e"], E_i=c["E_i"],
                        method=method, v_init=v_init))
    indptr, indices = random_wiring(n, n, p, seed + 1, memory_limit=memory_limit)
    exc_rows = np.zeros(n + 1, dtype=np.int64)
    exc_rows[: n_exc + 1] = indptr[: n_exc + 1]
    exc_rows[n_exc + 1:] = indptr[n_exc]
    inh_rows = np.zeros(n + 1, dtype=np.int64)
    inh_rows[n_exc + 1:] = indptr[n_exc + 1:] - indptr[n_exc]
    split = indptr[n_exc]
    net.add(nw.Projection("coba", "coba", exc_rows, indices[:split], c["w_e"] * scale, 0.0, "e"))
    net.add(nw.Projection("coba", "coba", inh_rows, indices[split:], c["w_i"] * scale, 0.0, "i"))
    if not keep_pairs:
        return Wiring(net, np.zeros(0, np.int64), np.zeros(0, np.int64), n_exc, v_init)
    pre = np.repeat(np.arange(n), np.diff(indptr))
    return Wiring(net, pre, indices.astype(np.int64), n_exc, v_init)


def small_deterministic() -> dict:
    """A 5-neuron current-based network with delays: its parameters and synapses (SI).

    Neurons 0, 1 and 4 are driven above threshold; 0 and 1 excite 2 (delays
    1 and 1.5 ms), 2 excites 3 (2 ms), 3 inhibits 4 (0.5 ms) and 4 excites 0 (0 ms).
    """
    return dict(
        tau_m=20e-3, v_th=-50e-3, v_reset=-60e-3, t_ref=2e-3, tau_e=5e-3, tau_i=10e-3,
        v_rest=np.array([-45e-3, -48e-3, -54e-3, -55e-3, -44e-3]),
        v_init=np.array([-60e-3, -55e-3, -60e-3, -58e-3, -52e-3]),
        pre=np.array([0, 1, 2, 3, 4]), post=np.array([2, 2, 3, 4, 0]),
        weight=np.array([14e-3, 12e-3, 30e-3, -20e-3, 2e-3]), delay=np.array([1e-3, 1.5e-3, 2e-3, 0.5e-3, 0.0]),
        channel=np.array(["e", "e", "e", "i", "e"]))


def small_network(d: dict | None = None) -> nw.Network:
    """:func:`small_deterministic` as a :class:`Network` of ``lif_cuba`` neurons."""
    d = small_deterministic() if d is None else d
    net = nw.Network()
    net.add(nw.lif_cuba("small", 5, tau_m=d["tau_m"], v_rest=d["v_rest"], v_th=d["v_th"], v_reset=d["v_reset"],
                        t_ref=d["t_ref"], tau_e=d["tau_e"], tau_i=d["tau_i"], v_init=d["v_init"]))
    for ch in ("e", "i"):
        sel = d["channel"] == ch
        indptr, indices, w, dl = nw.csr_from_pairs(d["pre"][sel], d["post"][sel], 5, d["weight"][sel], d["delay"][sel])
        net.add(nw.Projection("small", "small", indptr, indices, w, dl, ch))
    return net
