"""Clock-driven simulation with event-driven spike delivery through sparse matrices.

:func:`simulate` turns a :class:`~devicephys.array.network.Network` into flat
arrays (one global CSR matrix), checks that they fit in memory, seeds the
random generator (same seed, same spikes) and runs the compiled step loop of
:mod:`devicephys.array.kernels` in chunks (with a progress bar).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numba as nb
import numpy as np

from devicephys import io
from devicephys.array import kernels
from devicephys.array.network import CHANNELS, Network
from devicephys.array.plasticity import incoming
from devicephys.errors import SpecError

#: Bytes per synapse in the simulator: index int32, weight float32, delay uint16, channel uint8.
BYTES_PER_SYNAPSE = 4 + 4 + 2 + 1
#: Extra bytes per optical synapse (mean photons, float32).
BYTES_PER_OPTICAL_SYNAPSE = 4


@dataclass
class SimulationResult:
    """Spikes, photon counts and traces of one run (SI units).

    Attributes
    ----------
    spike_times : ndarray [s]
    spike_index : ndarray of int
        Global neuron index of each spike (population order of the network).
    n_neurons : int
    duration, dt : float [s]
    emitted_photons : ndarray [1]
        Expected photons emitted per neuron (spikes x photons per spike).
    detected_photons : ndarray [1]
        Photoelectrons (Poisson draws) received by each neuron's detectors.
    trace_time : ndarray [s]; trace_v : ndarray [V]; trace_x : ndarray [1]; trace_index : ndarray
    synaptic_events : int
        Spike deliveries through synapses (spikes x out-degree).
    synapses : dict
        When some synapses are plastic: global ``pre``, ``post`` and final ``weight`` of every synapse.
    wall_time : float [s]
        Time spent in the step loop (the numba compilation of the loop excluded).
    """

    spike_times: np.ndarray
    spike_index: np.ndarray
    n_neurons: int
    duration: float
    dt: float
    emitted_photons: np.ndarray
    detected_photons: np.ndarray
    trace_time: np.ndarray
    trace_v: np.ndarray
    trace_x: np.ndarray
    trace_index: np.ndarray
    synaptic_events: int
    wall_time: float
    offsets: dict = field(default_factory=dict)
    synapses: dict = field(default_factory=dict)

    def rates(self) -> np.ndarray:
        """Firing rate of each neuron [Hz]."""
        return np.bincount(self.spike_index, minlength=self.n_neurons) / self.duration

    def spikes_of(self, name: str, network: Network) -> tuple[np.ndarray, np.ndarray]:
        """``(times, local indices)`` of the spikes of population ``name``."""
        off = network.offsets()[name]
        size = next(p.size for p in network.populations if p.name == name)
        sel = (self.spike_index >= off) & (self.spike_index < off + size)
        return self.spike_times[sel], self.spike_index[sel] - off


def estimate_memory(n_neurons: int, n_synapses: int, *, n_slots: int = 1, optical: bool = False,
                    spike_capacity: int = 0, n_trace: int = 0, largest_projection: int = 0) -> int:
    """Bytes the simulator allocates for a network of this size.

    Counts the global CSR (indptr int64, per-synapse arrays), the neuron
    state (v_rest, g_e, g_i, v, x, last spike, detected photons, counters:
    9 x 8 B), the delay ring buffer (slots x 3 channels x float32), the spike
    record (int64 + int32 per spike), the traces (2 x float32) and the
    temporaries of :func:`flatten` (position, delay in steps and target
    index of each synapse of the largest projection: 24 B).
    """
    syn = n_synapses * (BYTES_PER_SYNAPSE + (BYTES_PER_OPTICAL_SYNAPSE if optical else 0))
    syn += 24 * largest_projection
    neurons = 8 * (n_neurons + 1) + 9 * 8 * n_neurons
    ring = (n_slots * 3 * 4 * n_neurons) if n_slots > 1 else 0
    return int(syn + neurons + ring + 12 * spike_capacity + 8 * n_trace)


#: The spec fields that set an array's size, named by a memory refusal.
ARRAY_SIZE_FIX = ("reduce ArraySpec.nx, ny or layers (neurons), coupling_radius or raise pitch (links per neuron), "
                  "or n_traces (recording); ArraySpec.memory_limit sets the bytes allowed")


def check_memory(need: int, what: str, limit: int | None = None, fix: str = ARRAY_SIZE_FIX) -> None:
    """Raise SpecError with the estimate and ``fix`` (the fields to change) when ``need`` bytes exceed the memory."""
    have = io.available_memory() if limit is None else int(limit)
    if need > have:
        raise SpecError(f"{what} needs about {need / 2**30:.2f} GiB but only {have / 2**30:.2f} GiB is available; "
                        f"{fix}", field="memory_limit")


def _coefficients(network: Network, dt: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    bounds = np.zeros(len(network.populations) + 1, dtype=np.int64)
    kinds = np.zeros(len(network.populations), dtype=np.int64)
    coef = np.zeros((len(network.populations), len(kernels.COEF)))
    for k, pop in enumerate(network.populations):
        bounds[k + 1] = bounds[k] + pop.size
        kinds[k] = kernels.KIND[pop.model]
        prm = dict(zip(("tau_m", "v_th", "v_reset", "t_ref", "tau_e", "tau_i", "E_e", "E_i", "method", "tau0", "V0",
                        "tau_r"), pop.param_row(dt)))
        em = math.exp(-dt / prm["tau_m"])
        row = {"em": em, "ee": math.exp(-dt / prm["tau_e"]), "ei": math.exp(-dt / prm["tau_i"]),
               "ae": _exp_synapse_gain(dt, prm["tau_m"], prm["tau_e"]),
               "ai": _exp_synapse_gain(dt, prm["tau_m"], prm["tau_i"]),
               "er": math.exp(-dt / prm["tau_r"]), "tref": prm["t_ref"], "vth": prm["v_th"],
               "vreset": prm["v_reset"], "tau_m": prm["tau_m"], "E_e": prm["E_e"], "E_i": prm["E_i"],
               "method": prm["method"], "tau0": prm["tau0"], "V0": prm["V0"], "tau_r": prm["tau_r"]}
        coef[k] = [row[name] for name in kernels.COEF]
    return bounds, kinds, coef


def _exp_synapse_gain(dt: float, tau_m: float, tau_s: float) -> float:
    """Exact response after ``dt`` of v to a unit exponential synaptic input g (dv/dt = (g - v)/tau_m)."""
    if abs(tau_s - tau_m) < 1e-12 * tau_m:
        return dt / tau_m * math.exp(-dt / tau_m)
    return tau_s / (tau_s - tau_m) * (math.exp(-dt / tau_s) - math.exp(-dt / tau_m))


@nb.njit(cache=True, error_model="numpy")
def _positions(dst_ptr, cursor, row_off, ptr):
    """Global CSR position of each synapse of one projection (rows appended in projection order)."""
    dest = np.empty(ptr[-1], dtype=np.int64)
    for r in range(ptr.size - 1):
        g = row_off + r
        for s in range(ptr[r], ptr[r + 1]):
            dest[s] = dst_ptr[g] + cursor[g]
            cursor[g] += 1
    return dest


def flatten(network: Network, dt: float) -> dict:
    """One global CSR matrix (and per-synapse arrays) for all projections of ``network``."""
    n, offsets = network.n_neurons, network.offsets()
    optical = any(p.mean_photons is not None for p in network.projections)
    plastic = any(p.plastic for p in network.projections)
    counts = np.zeros(n, dtype=np.int64)
    for p in network.projections:
        counts[offsets[p.pre]:offsets[p.pre] + p.n_pre] += np.diff(p.indptr)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    m = int(indptr[-1])
    out = {"indptr": indptr, "indices": np.empty(m, np.int32), "weights": np.empty(m, np.float32),
           "dsteps": np.empty(m, np.uint16), "chan": np.empty(m, np.uint8),
           "mu": np.full(m if optical else 0, -1.0, np.float32), "plastic": np.zeros(m if plastic else 0, np.uint8)}
    cursor = np.zeros(n, dtype=np.int64)
    for p in network.projections:
        steps = np.rint(p.delay / dt)
        if steps.size and steps.max() > 65534:
            raise SpecError(f"Projection {p.pre}->{p.post}: delay {p.delay.max()} s is over 65534 time steps; "
                            f"increase dt or shorten the delay")
        dest = _positions(indptr, cursor, offsets[p.pre], p.indptr)
        out["indices"][dest] = p.indices + offsets[p.post]
        out["weights"][dest] = p.weights
        out["dsteps"][dest] = steps
        out["chan"][dest] = CHANNELS.index(p.channel)
        if p.mean_photons is not None:
            out["mu"][dest] = p.mean_photons
        if p.plastic:
            out["plastic"][dest] = 1
        del dest
    return out


def _initial_state(network: Network) -> tuple[np.ndarray, np.ndarray]:
    n = network.n_neurons
    v_rest = np.empty(n)
    state = np.empty((3, n))
    start = 0
    for pop in network.populations:
        sl = slice(start, start + pop.size)
        v_rest[sl] = pop.v_rest
        state[0, sl], state[1, sl], state[2, sl] = pop.g_e_init, pop.g_i_init, pop.v_init
        start += pop.size
    return v_rest, state


def simulate(network: Network, duration: float, dt: float, *, seed: int = 0, record: np.ndarray | None = None,
             record_every: int = 1, progress: bool = True, memory_limit: int | None = None) -> SimulationResult:
    """Run ``network`` for ``duration`` [s] with time step ``dt`` [s].

    Parameters
    ----------
    record : array of int, optional
        Global indices of neurons whose v and x are recorded every ``record_every`` steps.
    seed : int
        Seed of the Poisson photon draws; the same seed gives the same spikes.
    memory_limit : int, optional
        Bytes allowed (default: the memory available now).

    Raises
    ------
    SpecError
        Non-physical ``duration``/``dt``, or a network that does not fit in memory (with the estimate).
    """
    if not (math.isfinite(dt) and dt > 0):
        raise SpecError(f"simulate: dt must be > 0 s, got {dt!r}")
    if not (math.isfinite(duration) and duration >= dt):
        raise SpecError(f"simulate: duration must be >= dt = {dt} s, got {duration!r}")
    nsteps = int(round(duration / dt))
    record = np.zeros(0, np.int64) if record is None else np.asarray(record, dtype=np.int64)
    if record.size and (record.min() < 0 or record.max() >= network.n_neurons):
        raise SpecError(f"simulate: record indices must lie in [0, {network.n_neurons})")
    n_trace = (nsteps // max(1, record_every) + 1) * record.size if record.size else 0
    cap = max(4 * network.n_neurons, 1 << 16)
    max_delay = max((float(np.max(p.delay)) for p in network.projections if p.n_synapses), default=0.0)
    n_slots = int(round(max_delay / dt)) + 1
    optical = any(p.mean_photons is not None for p in network.projections)
    largest = max((p.n_synapses for p in network.projections), default=0)
    need = estimate_memory(network.n_neurons, network.n_synapses, n_slots=n_slots, optical=optical,
                           spike_capacity=cap, n_trace=n_trace, largest_projection=largest)
    check_memory(need, f"simulating {network.n_neurons} neurons and {network.n_synapses} synapses", memory_limit)
    flat = flatten(network, dt)
    return _run(network, flat, nsteps, dt, seed, record, max(1, record_every), n_slots, cap, progress)


def _run(network, flat, nsteps, dt, seed, record, record_every, n_slots, cap, progress) -> SimulationResult:
    n = network.n_neurons
    bounds, kinds, coef = _coefficients(network, dt)
    v_rest, state = _initial_state(network)
    x = np.zeros(n)
    lastspike = np.full(n, -(1 << 40), dtype=np.int64)
    buf = np.zeros((n_slots if n_slots > 1 else 1, 3, n if n_slots > 1 else 1), dtype=np.float32)
    detected = np.zeros(n)
    spk_t, spk_i, n_spk = np.empty(cap, np.int64), np.empty(cap, np.int32), np.zeros(1, np.int64)
    n_rows = nsteps // record_every + 1 if record.size else 0
    rec_v, rec_x = np.zeros((n_rows, record.size), np.float32), np.zeros((n_rows, record.size), np.float32)
    n_rec = np.zeros(1, np.int64)
    plast = _plasticity_arrays(network, flat, dt)
    kernels.seed_rng(int(seed) % (2**32))
    chunk = max(1, nsteps // 100)
    a = kernels.StepArrays(
        dt=float(dt), bounds=bounds, kinds=kinds, coef=coef, v_rest=v_rest, state=state, x=x, lastspike=lastspike,
        indptr=flat["indptr"], indices=flat["indices"], weights=flat["weights"], dsteps=flat["dsteps"],
        chan=flat["chan"], mu=flat["mu"], buf=buf, detected=detected, spk_t=spk_t, spk_i=spk_i, n_spk=n_spk,
        rec_idx=record, rec_v=rec_v, rec_x=rec_x, rec_every=int(record_every), n_rec=n_rec, **plast)
    kernels.run_steps(0, 0, a)  # zero steps: compiles (numba JIT) outside the clock and the bar
    bar = _bar(nsteps, progress)
    t0, done = time.perf_counter(), 0
    while done < nsteps:
        k = kernels.run_steps(done, min(chunk, nsteps - done), a)
        done += k
        if bar is not None:
            bar.update(k)
        if n_spk[0] + n > a.spk_t.size:
            a = a._replace(spk_t=np.concatenate([a.spk_t, np.empty_like(a.spk_t)]),
                           spk_i=np.concatenate([a.spk_i, np.empty_like(a.spk_i)]))
    wall = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    return _collect(network, flat, a.spk_t[:n_spk[0]], a.spk_i[:n_spk[0]], nsteps, dt, detected, record,
                    rec_v[:n_rec[0]], rec_x[:n_rec[0]], record_every, wall)


def _plasticity_arrays(network: Network, flat: dict, dt: float) -> dict:
    """The STDP fields of :class:`~devicephys.array.kernels.StepArrays` (empty arrays when no synapse is plastic)."""
    n = network.n_neurons
    if flat["plastic"].size == 0:
        empty = np.zeros(0, np.int64)
        return {"plastic": flat["plastic"], "in_ptr": empty, "in_syn": empty, "syn_pre": empty,
                "stdp_par": np.zeros(5), "a_pre": np.zeros(0), "a_post": np.zeros(0)}
    if network.stdp is None:
        raise SpecError("a projection is plastic but the network has no STDP rule; set network.stdp = STDP(...)")
    in_ptr, in_syn = incoming(flat["indices"], flat["plastic"], n)
    syn_pre = np.repeat(np.arange(n, dtype=np.int64), np.diff(flat["indptr"]))
    return {"plastic": flat["plastic"], "in_ptr": in_ptr, "in_syn": in_syn, "syn_pre": syn_pre,
            "stdp_par": network.stdp.table(dt), "a_pre": np.zeros(n), "a_post": np.zeros(n)}


def _bar(total: int, progress: bool):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="array: steps", unit="step")


def _collect(network, flat, spk_t, spk_i, nsteps, dt, detected, record, rec_v, rec_x, every, wall):
    n = network.n_neurons
    per_spike = np.zeros(n)
    start = 0
    for pop in network.populations:
        per_spike[start:start + pop.size] = pop.photons_per_spike
        start += pop.size
    count = np.bincount(spk_i, minlength=n)
    degree = np.diff(flat["indptr"])
    return SimulationResult(
        spike_times=spk_t * dt, spike_index=spk_i.astype(np.int64), n_neurons=n, duration=nsteps * dt, dt=dt,
        emitted_photons=count * per_spike, detected_photons=detected, trace_time=np.arange(rec_v.shape[0]) * every * dt,
        trace_v=rec_v, trace_x=rec_x, trace_index=record, synaptic_events=int(np.dot(count, degree)),
        wall_time=wall, offsets=network.offsets(), synapses=_final_synapses(flat))


def _final_synapses(flat: dict) -> dict:
    if flat["plastic"].size == 0:
        return {}
    pre = np.repeat(np.arange(flat["indptr"].size - 1), np.diff(flat["indptr"]))
    return {"pre": pre, "post": flat["indices"].astype(np.int64), "weight": flat["weights"].astype(float),
            "plastic": flat["plastic"].astype(bool)}
