"""Clock-driven simulation with event-driven spike delivery through sparse matrices.

:func:`simulate` turns a :class:`~devicephys.array.network.Network` into flat
arrays (one global CSR matrix), checks that they fit in memory, seeds the
random generator (same seed, same spikes) and runs the compiled step loop of
:mod:`devicephys.array.kernels` in chunks (with a progress bar).  A run ends
with its :class:`~devicephys.array.monitors.FinalState`; ``simulate(...,
initial=result.final_state)`` continues it (times count from the first run).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numba as nb
import numpy as np

from devicephys import io
from devicephys.array import kernels
from devicephys.array.inputs import PoissonGroup, SpikeGeneratorGroup
from devicephys.array.monitors import VARIABLES, FinalState, StateMonitor, population_rate
from devicephys.array.network import CHANNELS, Network, Subgroup
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
    states : dict
        Variables of the :class:`~devicephys.array.monitors.StateMonitor`: name -> (rows, R) float64
        at times ``state_time`` [s] of neurons ``state_index``.
    final_state : FinalState or None
        The state after the last step (to continue the run).
    step0 : int
        First step of the run (0 unless continued); ``spike_times`` count from step 0.
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
    states: dict = field(default_factory=dict)
    state_time: np.ndarray = field(default_factory=lambda: np.zeros(0))
    state_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    final_state: FinalState | None = None
    step0: int = 0
    sizes: dict = field(default_factory=dict)

    def rates(self) -> np.ndarray:
        """Firing rate of each neuron [Hz]."""
        return np.bincount(self.spike_index, minlength=self.n_neurons) / self.duration

    def population_rate(self, group: str | Subgroup) -> tuple[np.ndarray, np.ndarray]:
        """``(t [s], rate [Hz])`` of a population or :class:`Subgroup`: spikes per step / (N dt).

        As Brian2's PopulationRateMonitor: one value per step of the run, at t = s dt.
        """
        name, lo, hi = (group.name, group.start, group.stop) if isinstance(group, Subgroup) else \
            (group, 0, self.sizes.get(group, 0))
        if name not in self.offsets or not 0 <= lo < hi <= self.sizes[name]:
            raise SpecError(f"population_rate: no population or slice {group!r} in this run")
        nsteps = int(round(self.duration / self.dt))
        steps = np.rint(self.spike_times / self.dt).astype(np.int64)
        off = self.offsets[name]
        return population_rate(steps, self.spike_index, off + lo, off + hi, self.step0, nsteps, self.dt)

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
                        "tau_r", "t_rupture"), pop.param_row(dt)))
        em = math.exp(-dt / prm["tau_m"])
        euler = prm["method"] != 0.0 and pop.model in ("lif_cuba", "lif_coba")
        if prm["method"] != 0.0 and not euler:
            raise SpecError(f"Population '{pop.name}'.method: forward Euler is for lif_cuba and lif_coba only")
        # exact decay factors, or Brian2's forward-Euler increments (-dt)/tau (g += (-dt/tau) g)
        ee, ei = ((-dt) / prm["tau_e"], (-dt) / prm["tau_i"]) if euler else \
            (math.exp(-dt / prm["tau_e"]), math.exp(-dt / prm["tau_i"]))
        row = {"em": em, "ee": ee, "ei": ei,
               "ae": _exp_synapse_gain(dt, prm["tau_m"], prm["tau_e"]),
               "ai": _exp_synapse_gain(dt, prm["tau_m"], prm["tau_i"]),
               "er": math.exp(-dt / prm["tau_r"]), "tref": prm["t_ref"], "vth": prm["v_th"],
               "vreset": prm["v_reset"], "tau_m": prm["tau_m"], "E_e": prm["E_e"], "E_i": prm["E_i"],
               "method": prm["method"], "tau0": prm["tau0"], "V0": prm["V0"], "tau_r": prm["tau_r"],
               "t_rupture": prm["t_rupture"]}
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
    sizes = network.sizes()
    row0 = [offsets[p.pre] + p.span("pre", sizes[p.pre])[0] for p in network.projections]
    col0 = [offsets[p.post] + p.span("post", sizes[p.post])[0] for p in network.projections]
    for p, r in zip(network.projections, row0):
        counts[r:r + p.n_pre] += np.diff(p.indptr)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    m = int(indptr[-1])
    out = {"indptr": indptr, "indices": np.empty(m, np.int32), "weights": np.empty(m, np.float32),
           "dsteps": np.empty(m, np.uint16), "chan": np.empty(m, np.uint8),
           "mu": np.full(m if optical else 0, -1.0, np.float32), "plastic": np.zeros(m if plastic else 0, np.uint8)}
    cursor = np.zeros(n, dtype=np.int64)
    for p, r, c in zip(network.projections, row0, col0):
        steps = np.rint(p.delay / dt)
        if steps.size and steps.max() > 65534:
            raise SpecError(f"Projection {p.pre}->{p.post}: delay {p.delay.max()} s is over 65534 time steps; "
                            f"increase dt or shorten the delay")
        dest = _positions(indptr, cursor, r, p.indptr)
        out["indices"][dest] = p.indices + c
        out["weights"][dest] = p.weights
        out["dsteps"][dest] = steps
        out["chan"][dest] = CHANNELS.index(p.channel)
        if p.mean_photons is not None:
            out["mu"][dest] = p.mean_photons
        if p.plastic:
            out["plastic"][dest] = 1
        del dest
    return out


def _initial_state(network: Network, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Resting potentials (Poisson sources: spike probability per step) and initial g_e, g_i, v."""
    n = network.n_neurons
    v_rest = np.empty(n)
    state = np.empty((3, n))
    start = 0
    for pop in network.populations:
        sl = slice(start, start + pop.size)
        _check_source(pop)
        v_rest[sl] = pop.probabilities(dt) if pop.model == "poisson" else pop.v_rest
        state[0, sl], state[1, sl], state[2, sl] = pop.g_e_init, pop.g_i_init, pop.v_init
        start += pop.size
    return v_rest, state


def _check_source(pop) -> None:
    cls = {"poisson": PoissonGroup, "spikegen": SpikeGeneratorGroup}.get(pop.model)
    if cls is not None and not isinstance(pop, cls):
        raise SpecError(f"Population '{pop.name}'.model = {pop.model!r}: make spike sources with "
                        f"inputs.poisson_input or inputs.spike_generator")


def _schedule(network: Network, dt: float, start: int, stop: int) -> dict:
    """The spike generators' spikes of steps [start, stop): concatenated per population, sorted by step, index."""
    offsets, steps, idx = network.offsets(), [], []
    pos = np.zeros(len(network.populations), np.int64)
    end = np.zeros(len(network.populations), np.int64)
    n = 0
    for k, pop in enumerate(network.populations):
        pos[k] = n
        if pop.model == "spikegen":
            _check_source(pop)
            st, ix = pop.schedule(dt, start, stop)
            steps.append(st)
            idx.append(ix + offsets[pop.name])
            n += st.size
        end[k] = n
    cat = (lambda parts: np.concatenate(parts).astype(np.int64)) if steps else (lambda _: np.zeros(0, np.int64))
    return {"gen_step": cat(steps), "gen_idx": cat(idx), "gen_pos": pos, "gen_end": end}


def _monitor_arrays(monitor: StateMonitor | None, n: int, step0: int, nsteps: int) -> dict:
    """The state monitor fields of :class:`~devicephys.array.kernels.StepArrays`."""
    if monitor is None or monitor.indices.size == 0:
        return {"mon_idx": np.zeros(0, np.int64), "mon_var": np.zeros(0, np.int64), "mon_every": 1,
                "mon_out": np.zeros((0, 0, 0)), "n_mon": np.zeros(1, np.int64)}
    if monitor.indices.min() < 0 or monitor.indices.max() >= n:
        raise SpecError(f"StateMonitor.indices must lie in [0, {n})")
    every = int(monitor.every)
    first = -(-step0 // every) * every
    rows = max(0, (step0 + nsteps - 1 - first) // every + 1)
    return {"mon_idx": monitor.indices, "mon_var": monitor.codes(), "mon_every": every,
            "mon_out": np.zeros((rows, len(monitor.variables), monitor.indices.size)), "n_mon": np.zeros(1, np.int64)}


def simulate(network: Network, duration: float, dt: float, *, seed: int = 0, record: np.ndarray | None = None,
             record_every: int = 1, progress: bool = True, memory_limit: int | None = None,
             monitor: StateMonitor | None = None, initial: FinalState | None = None) -> SimulationResult:
    """Run ``network`` for ``duration`` [s] with time step ``dt`` [s].

    Parameters
    ----------
    record : array of int, optional
        Global indices of neurons whose v and x are recorded every ``record_every`` steps (after the step).
    seed : int
        Seed of the Poisson photon draws and Poisson sources; the same seed gives the same spikes.
    memory_limit : int, optional
        Bytes allowed (default: the memory available now).
    monitor : StateMonitor, optional
        Variables (v, g_e, g_i, x) of chosen neurons, recorded as Brian2's StateMonitor (start of the step).
    initial : FinalState, optional
        Continue from ``previous.final_state`` (same network and dt): the run covers the
        ``duration`` after it, and two runs of T/2 give the spikes of one run of T
        (exactly, Poisson sources included; photon draws use a fresh stream per run).

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
    step0 = 0 if initial is None else int(initial.step)
    if initial is not None:
        initial.check_dt(dt)
    record = np.zeros(0, np.int64) if record is None else np.asarray(record, dtype=np.int64)
    if record.size and (record.min() < 0 or record.max() >= network.n_neurons):
        raise SpecError(f"simulate: record indices must lie in [0, {network.n_neurons})")
    n_trace = (nsteps // max(1, record_every) + 1) * record.size if record.size else 0
    mon = _monitor_arrays(monitor, network.n_neurons, step0, nsteps)
    sched = _schedule(network, dt, step0, step0 + nsteps)
    n_trace += mon["mon_out"].size + sched["gen_step"].size * 2
    cap = max(4 * network.n_neurons, 1 << 16)
    max_delay = max((float(np.max(p.delay)) for p in network.projections if p.n_synapses), default=0.0)
    n_slots = int(round(max_delay / dt)) + 1
    optical = any(p.mean_photons is not None for p in network.projections)
    largest = max((p.n_synapses for p in network.projections), default=0)
    need = estimate_memory(network.n_neurons, network.n_synapses, n_slots=n_slots, optical=optical,
                           spike_capacity=cap, n_trace=n_trace, largest_projection=largest)
    check_memory(need, f"simulating {network.n_neurons} neurons and {network.n_synapses} synapses", memory_limit)
    flat = flatten(network, dt)
    run = _Run(step0, nsteps, dt, seed, record, max(1, record_every), n_slots, cap, progress, mon, sched)
    return _run(network, flat, run, initial)


@dataclass
class _Run:
    step0: int
    nsteps: int
    dt: float
    seed: int
    record: np.ndarray
    record_every: int
    n_slots: int
    cap: int
    progress: bool
    mon: dict
    sched: dict


def _start_state(network: Network, flat: dict, run: _Run, initial: FinalState | None) -> dict:
    """The evolving arrays at the start of the run: the network's initial values or ``initial``."""
    n = network.n_neurons
    v_rest, state = _initial_state(network, run.dt)
    buf_shape = (run.n_slots if run.n_slots > 1 else 1, 3, n if run.n_slots > 1 else 1)
    plast = _plasticity_arrays(network, flat, run.dt)
    out = {"v_rest": v_rest, "state": state, "x": np.zeros(n), "age": np.zeros(n),
           "lastspike": np.full(n, -(1 << 40), dtype=np.int64),
           "buf": np.zeros(buf_shape, dtype=np.float32), **plast}
    if initial is None:
        return out
    initial.check(n, network.n_synapses, run.dt, buf_shape)
    out.update(state=initial.state.copy(), x=initial.x.copy(), lastspike=initial.lastspike.copy(),
               buf=initial.buf.copy(), age=np.zeros(n) if initial.age is None else initial.age.copy())
    if initial.weights is not None:
        flat["weights"][:] = initial.weights
    if plast["a_pre"].size:
        out.update(a_pre=initial.a_pre.copy(), a_post=initial.a_post.copy())
    return out


def _run(network: Network, flat: dict, run: _Run, initial: FinalState | None) -> SimulationResult:
    n, dt, record = network.n_neurons, run.dt, run.record
    bounds, kinds, coef = _coefficients(network, dt)
    st = _start_state(network, flat, run, initial)
    detected = np.zeros(n)
    spk_t, spk_i, n_spk = np.empty(run.cap, np.int64), np.empty(run.cap, np.int32), np.zeros(1, np.int64)
    n_rows = run.nsteps // run.record_every + 1 if record.size else 0
    rec_v, rec_x = np.zeros((n_rows, record.size), np.float32), np.zeros((n_rows, record.size), np.float32)
    n_rec = np.zeros(1, np.int64)
    # photon draws: the seed itself for a first run, a seed tied to the start step for a continuation
    kernels.seed_rng((int(run.seed) + 7919 * run.step0) % (2**32))
    a = kernels.StepArrays(
        dt=float(dt), bounds=bounds, kinds=kinds, coef=coef, indptr=flat["indptr"], indices=flat["indices"],
        weights=flat["weights"], dsteps=flat["dsteps"], chan=flat["chan"], mu=flat["mu"], detected=detected,
        spk_t=spk_t, spk_i=spk_i, n_spk=n_spk, rec_idx=record, rec_v=rec_v, rec_x=rec_x,
        rec_every=int(run.record_every), n_rec=n_rec, rng_key=kernels.seed_key(int(run.seed) % (2**63)), **st,
        **run.sched, **run.mon)
    kernels.run_steps(run.step0, 0, a)  # zero steps: compiles (numba JIT) outside the clock and the bar
    bar = _bar(run.nsteps, run.progress)
    chunk = max(1, run.nsteps // 100)
    t0, done = time.perf_counter(), 0
    while done < run.nsteps:
        k = kernels.run_steps(run.step0 + done, min(chunk, run.nsteps - done), a)
        done += k
        if bar is not None:
            bar.update(k)
        if n_spk[0] + n > a.spk_t.size:
            a = a._replace(spk_t=np.concatenate([a.spk_t, np.empty_like(a.spk_t)]),
                           spk_i=np.concatenate([a.spk_i, np.empty_like(a.spk_i)]))
    wall = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    return _collect(network, flat, a, run, wall)


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
    from devicephys.progress import bar

    return bar(total=total, desc="array: steps", unit="step")


def _collect(network: Network, flat: dict, a, run: _Run, wall: float) -> SimulationResult:
    n, dt = network.n_neurons, run.dt
    spk_t, spk_i = a.spk_t[:a.n_spk[0]], a.spk_i[:a.n_spk[0]]
    per_spike = np.zeros(n)
    start = 0
    for pop in network.populations:
        per_spike[start:start + pop.size] = pop.photons_per_spike
        start += pop.size
    count = np.bincount(spk_i, minlength=n)
    degree = np.diff(flat["indptr"])
    every, rows = run.record_every, a.n_rec[0]
    first = -(-run.step0 // every) * every
    mon_rows = a.n_mon[0]
    mon_first = -(-run.step0 // a.mon_every) * a.mon_every
    names = [k for code in a.mon_var for k, c in VARIABLES.items() if c == code]
    final = FinalState(step=run.step0 + run.nsteps, dt=dt, state=a.state, x=a.x, age=a.age, lastspike=a.lastspike, buf=a.buf,
                       n_synapses=int(flat["indices"].size), weights=flat["weights"] if flat["plastic"].size else None,
                       a_pre=a.a_pre, a_post=a.a_post)
    return SimulationResult(
        spike_times=spk_t * dt, spike_index=spk_i.astype(np.int64), n_neurons=n, duration=run.nsteps * dt, dt=dt,
        emitted_photons=count * per_spike, detected_photons=a.detected,
        trace_time=(first + np.arange(rows) * every) * dt, trace_v=a.rec_v[:rows], trace_x=a.rec_x[:rows],
        trace_index=run.record, synaptic_events=int(np.dot(count, degree)), wall_time=wall, offsets=network.offsets(),
        synapses=_final_synapses(flat), states={k: a.mon_out[:mon_rows, q] for q, k in enumerate(names)},
        state_time=(mon_first + np.arange(mon_rows) * a.mon_every) * dt, state_index=a.mon_idx, final_state=final,
        step0=run.step0, sizes=network.sizes())


def _final_synapses(flat: dict) -> dict:
    if flat["plastic"].size == 0:
        return {}
    pre = np.repeat(np.arange(flat["indptr"].size - 1), np.diff(flat["indptr"]))
    return {"pre": pre, "post": flat["indices"].astype(np.int64), "weight": flat["weights"].astype(float),
            "plastic": flat["plastic"].astype(bool)}
