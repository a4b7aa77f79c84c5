"""Compiled (numba) kernels of the simulator: one time step loop and random wiring.

Order of operations in one step ``s`` (the same as Brian2's default schedule):

0. state monitor: the recorded variables at the start of the step (Brian2's ``when='start'``);
1. state update of every neuron from the values at the start of the step
   (``not_refractory = s - lastspike >= t_ref_steps``; v is frozen while refractory);
2. threshold: ``v > v_th`` (``x >= 1`` for the blinking neuron) and not refractory;
   spike sources emit (Poisson: ``u < dt * rate``; generators: their spikes of step s);
3. spike propagation: each spike adds its synapses' weights to the target
   channels (delay 0: now; delay d: into a ring buffer, applied at step s + d);
   optical synapses draw a Poisson number of photoelectrons first;
4. reset of the neurons that spiked (v = v_reset, x = 0, and the two-state blinking neuron's age = 0).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba as nb
import numpy as np


KIND = {"lif_cuba": 0, "lif_coba": 1, "blinking": 2, "poisson": 3, "spikegen": 4}
#: Columns of the per-population coefficient table (see ``simulate._coefficients``).
#: ``ee``/``ei`` are exp(-dt/tau) (exact decay), or -dt/tau for forward Euler (``method`` 1).
COEF = ("em", "ae", "ai", "ee", "ei", "er", "tref", "vth", "vreset", "tau_m", "E_e", "E_i", "method",
        "tau0", "V0", "tau_r", "t_rupture")
_C = {name: i for i, name in enumerate(COEF)}
EM, AE, AI, EE, EI, ER, TREF, VTH, VRESET, TAUM, E_E, E_I, METHOD, TAU0, V0, TAUR, TRUP = range(len(COEF))
#: Smoothing of |v|/V0 at 0 in the two-state blinking neuron's drive (the compact model's SMOOTH_ABS) [1].
SMOOTH_ABS = 1e-3


@nb.njit(cache=True, error_model="numpy")
def seed_rng(seed):
    """Seed numba's random generator (used by the kernels)."""
    np.random.seed(seed)


@nb.njit(cache=True, fastmath=True, error_model="numpy")
def _cuba_loop(em, ae, ai, ee, ei, tref, s, v_rest, v, ge, gi, lastspike):
    # called on C-contiguous slices and looped with range(size): the form LLVM vectorises
    for i in range(v.size):
        vr, g_e, g_i = v_rest[i], ge[i], gi[i]
        new = vr + (v[i] - vr) * em + g_e * ae + g_i * ai
        v[i] = new if (s - lastspike[i]) >= tref else v[i]
        ge[i] = g_e * ee
        gi[i] = g_i * ei


@nb.njit(cache=True, error_model="numpy")
def _euler_loop(coba, k, ce, ci, tref, e_e, e_i, s, v_rest, v, ge, gi, lastspike):
    """Forward Euler for v, g_e and g_i in the operation order of Brian2's ``method='euler'`` code.

    Compiled without fastmath (no reassociation, no fused multiply-add), so
    that each step rounds as Brian2's numpy target does.  ``k = dt/tau_m``,
    ``ce = -dt/tau_e``, ``ci = -dt/tau_i``.
    """
    for i in range(v.size):
        g_e, g_i, vi = ge[i], gi[i], v[i]
        if coba:
            new = k * ((v_rest[i] + (g_e * (e_e - vi) + g_i * (e_i - vi))) - vi) + vi
        else:
            new = k * (((g_e + g_i) + v_rest[i]) - vi) + vi
        v[i] = new if (s - lastspike[i]) >= tref else vi
        ge[i] = ce * g_e + g_e
        gi[i] = ci * g_i + g_i


@nb.njit(cache=True, error_model="numpy")
def _update_cuba(i0, i1, c, dt, s, v_rest, v, ge, gi, lastspike):
    if c[METHOD] != 0.0:
        _euler_loop(False, dt / c[TAUM], c[EE], c[EI], np.int64(c[TREF]), 0.0, 0.0, s, v_rest[i0:i1], v[i0:i1],
                    ge[i0:i1], gi[i0:i1], lastspike[i0:i1])
        return
    _cuba_loop(c[EM], c[AE], c[AI], c[EE], c[EI], np.int64(c[TREF]), s, v_rest[i0:i1], v[i0:i1], ge[i0:i1],
               gi[i0:i1], lastspike[i0:i1])


@nb.njit(cache=True, fastmath=True, error_model="numpy", inline="always")
def exp_neg(x):
    """exp(-x) for x >= 0 in plain arithmetic, so that the membrane loop vectorises.

    exp(-x) = (exp(-y))^1024 with y = min(x, 700) / 1024, exp(-y) by its Taylor
    polynomial of degree 8: absolute error below 1e-13 for every x >= 0
    (checked against math.exp in the tests).  Numba has no vector exp here.
    """
    y = -min(x, 700.0) * (1.0 / 1024.0)
    p = 1.0 + y * (1.0 + y * (0.5 + y * (1.0 / 6.0 + y * (1.0 / 24.0 + y * (1.0 / 120.0 + y * (
        1.0 / 720.0 + y * (1.0 / 5040.0 + y / 40320.0)))))))
    for _ in range(10):
        p = p * p
    return p


@nb.njit(cache=True, fastmath=True, error_model="numpy")
def _coba_loop(k, tref, e_e, e_i, ee, ei, s, v_rest, v, ge, gi, lastspike):
    for i in range(v.size):
        g_e, g_i, vi = ge[i], gi[i], v[i]
        gt = 1.0 + g_e + g_i
        vinf = (v_rest[i] + g_e * e_e + g_i * e_i) / gt
        new = vinf + (vi - vinf) * exp_neg(k * gt)
        v[i] = new if (s - lastspike[i]) >= tref else vi
        ge[i] = g_e * ee
        gi[i] = g_i * ei


@nb.njit(cache=True, error_model="numpy")
def _update_coba(i0, i1, c, dt, s, v_rest, v, ge, gi, lastspike):
    if c[METHOD] != 0.0:
        _euler_loop(True, dt / c[TAUM], c[EE], c[EI], np.int64(c[TREF]), c[E_E], c[E_I], s, v_rest[i0:i1], v[i0:i1],
                    ge[i0:i1], gi[i0:i1], lastspike[i0:i1])
        return
    _coba_loop(dt / c[TAUM], np.int64(c[TREF]), c[E_E], c[E_I], c[EE], c[EI], s, v_rest[i0:i1],
               v[i0:i1], ge[i0:i1], gi[i0:i1], lastspike[i0:i1])


@nb.njit(cache=True, error_model="numpy")
def _update_blinking(i0, i1, c, dt, s, v_rest, v, ge, gi, x, age, lastspike):
    em, ae, ai, ee, ei, er, tref, t_rup = c[EM], c[AE], c[AI], c[EE], c[EI], c[ER], c[TREF], c[TRUP]
    for i in range(i0, i1):
        if (s - lastspike[i]) >= tref:
            if t_rup > 0.0:
                # two slow states: growth alone, and the oldest stretch's age in self-rupture times; it
                # breaks (x = 0, no blink) when the age reaches 1
                y = v[i] / c[V0]
                x[i] += 2.0 * math.sinh(math.sqrt(y * y + SMOOTH_ABS * SMOOTH_ABS) - SMOOTH_ABS) / c[TAU0] * dt
                if x[i] > 0.0:
                    age[i] += dt / t_rup
                    if age[i] >= 1.0 and x[i] < 1.0:
                        x[i] = 0.0
                        age[i] = 0.0
            else:
                a_tr = 4.0 * math.sinh(0.5 * v[i] / c[V0]) ** 2 / c[TAU0] * c[TAUR]
                x[i] = a_tr + (x[i] - a_tr) * er
            vr = v_rest[i]
            v[i] = vr + (v[i] - vr) * em + ge[i] * ae + gi[i] * ai
        ge[i] *= ee
        gi[i] *= ei


@nb.njit(cache=True, error_model="numpy")
def _update(i0, i1, kind, c, dt, s, v_rest, v, ge, gi, x, age, lastspike, spk_t, spk_i, n):
    """State update of population [i0, i1) and threshold; returns the new spike count."""
    if kind == 0:
        _update_cuba(i0, i1, c, dt, s, v_rest, v, ge, gi, lastspike)
    elif kind == 1:
        _update_coba(i0, i1, c, dt, s, v_rest, v, ge, gi, lastspike)
    else:
        _update_blinking(i0, i1, c, dt, s, v_rest, v, ge, gi, x, age, lastspike)
    return _threshold(i0, i1, kind, c, s, v, x, lastspike, spk_t, spk_i, n)


@nb.njit(cache=True, error_model="numpy")
def _threshold(i0, i1, kind, c, s, v, x, lastspike, spk_t, spk_i, n):
    tref, vth = np.int64(c[TREF]), c[VTH]
    for i in range(i0, i1):
        fired = x[i] >= 1.0 if kind == 2 else v[i] > vth
        if fired and (s - lastspike[i]) >= tref:
            spk_t[n] = s
            spk_i[n] = i
            n += 1
            lastspike[i] = s
    return n


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@nb.njit(cache=True, error_model="numpy", inline="always")
def _mix(z):
    """SplitMix64 finaliser (a bijection of uint64 with full avalanche)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@nb.njit(cache=True, error_model="numpy")
def uniform(key, s, i):
    """Uniform number in [0, 1) from (key, step s, neuron i): counter-based, so independent of run chunking."""
    z = _mix(np.uint64(key) + np.uint64(s) * _GOLDEN)
    z = _mix(z ^ (np.uint64(i) * np.uint64(0xD1B54A32D192ED03)))
    return np.float64(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@nb.njit(cache=True, error_model="numpy")
def seed_key(seed):
    """Key of the Poisson sources' uniforms from a seed (an int64 >= 0)."""
    return np.int64(_mix(np.uint64(seed) + _GOLDEN) >> np.uint64(1))


@nb.njit(cache=True, error_model="numpy")
def _poisson(i0, i1, key, s, prob, lastspike, spk_t, spk_i, n):
    """Poisson sources [i0, i1): spike when u < prob = dt * rate (Brian2's PoissonGroup)."""
    for i in range(i0, i1):
        if uniform(key, s, i) < prob[i]:
            spk_t[n] = s
            spk_i[n] = i
            n += 1
            lastspike[i] = s
    return n


@nb.njit(cache=True, error_model="numpy")
def _generate(p, s, gen_step, gen_idx, gen_pos, gen_end, lastspike, spk_t, spk_i, n):
    """Spike generator population p: its scheduled spikes of step s (schedule sorted by step, index)."""
    k = gen_pos[p]
    while k < gen_end[p] and gen_step[k] < s:
        k += 1
    while k < gen_end[p] and gen_step[k] == s:
        i = gen_idx[k]
        spk_t[n] = s
        spk_i[n] = i
        n += 1
        lastspike[i] = s
        k += 1
    gen_pos[p] = k
    return n


@nb.njit(cache=True, error_model="numpy")
def _propagate_direct(n0, n1, spk_i, indptr, indices, weights, chan, ge, gi, v):
    """Delivery without delays or photon draws (electrical synapses): the common fast path."""
    for k in range(n0, n1):
        i = spk_i[k]
        for syn in range(indptr[i], indptr[i + 1]):
            j = indices[syn]
            c = chan[syn]
            if c == 0:
                ge[j] += weights[syn]
            elif c == 1:
                gi[j] += weights[syn]
            else:
                v[j] += weights[syn]


@nb.njit(cache=True, error_model="numpy")
def _propagate(s, n0, n1, spk_i, indptr, indices, weights, dsteps, chan, mu, state, buf, detected):
    n_slots = buf.shape[0]
    optical = mu.size > 0
    if n_slots == 1 and not optical:
        _propagate_direct(n0, n1, spk_i, indptr, indices, weights, chan, state[0], state[1], state[2])
        return
    for k in range(n0, n1):
        i = spk_i[k]
        for syn in range(indptr[i], indptr[i + 1]):
            w = weights[syn]
            j = indices[syn]
            if optical and mu[syn] >= 0.0:
                count = np.random.poisson(mu[syn])
                if count == 0:
                    continue
                detected[j] += count
                w = w * count
            d = dsteps[syn]
            if d == 0:
                state[chan[syn], j] += w
            else:
                buf[(s + d) % n_slots, chan[syn], j] += w


@nb.njit(cache=True, error_model="numpy")
def decay_traces(par, a_pre, a_post):
    for i in range(a_pre.size):
        a_pre[i] *= par[2]
        a_post[i] *= par[3]


@nb.njit(cache=True, error_model="numpy")
def apply_stdp(n0, n1, spk_i, indptr, indices, weights, plastic, in_ptr, in_syn, syn_pre, par, a_pre, a_post):
    """Weight updates for the spikes spk_i[n0:n1] of this step (after their transmission)."""
    w_max = par[4]
    for k in range(n0, n1):
        i = spk_i[k]
        for syn in range(indptr[i], indptr[i + 1]):
            if plastic[syn]:
                weights[syn] = min(max(weights[syn] + a_post[indices[syn]], 0.0), w_max)
        a_pre[i] += par[0]
    for k in range(n0, n1):
        j = spk_i[k]
        a_post[j] += par[1]
        for q in range(in_ptr[j], in_ptr[j + 1]):
            syn = in_syn[q]
            weights[syn] = min(max(weights[syn] + a_pre[syn_pre[syn]], 0.0), w_max)


class StepArrays(NamedTuple):
    """Everything :func:`run_steps` reads and writes, built by ``simulate._run`` (SI units).

    The arrays are updated in place; ``spk_t``/``spk_i`` are replaced (``_replace``)
    when the spike record is enlarged.
    """

    dt: float                 #: time step [s]
    bounds: np.ndarray        #: int64 (P+1,): population p holds neurons [bounds[p], bounds[p+1])
    kinds: np.ndarray         #: int64 (P,): neuron model of each population (:data:`KIND`)
    coef: np.ndarray          #: float64 (P, len(COEF)): per-population coefficients (:data:`COEF`, SI)
    v_rest: np.ndarray        #: float64 (N,): resting potential [V]; for Poisson sources dt * rate [1]
    state: np.ndarray         #: float64 (3, N): rows g_e, g_i [V for CUBA, 1 for COBA], v [V]
    x: np.ndarray             #: float64 (N,): filament state of the blinking neuron [1]
    age: np.ndarray           #: float64 (N,): two-state blinking neuron: oldest stretch's age / self-rupture time [1]
    lastspike: np.ndarray     #: int64 (N,): step of the last spike
    indptr: np.ndarray        #: int64 (N+1,): CSR row pointers of the synapses (by presynaptic neuron)
    indices: np.ndarray       #: int32 (M,): postsynaptic neuron of each synapse
    weights: np.ndarray       #: float32 (M,): weight [unit of the target channel]
    dsteps: np.ndarray        #: uint16 (M,): delay [steps]
    chan: np.ndarray          #: uint8 (M,): target channel (0 g_e, 1 g_i, 2 v)
    mu: np.ndarray            #: float32 (M,) or (0,): mean photoelectrons per spike [1], < 0 not optical
    buf: np.ndarray           #: float32 (slots, 3, N) delay ring buffer, (1, 3, 1) without delays
    detected: np.ndarray      #: float64 (N,): photoelectrons received [1]
    spk_t: np.ndarray         #: int64: spike record, step of each spike
    spk_i: np.ndarray         #: int32: spike record, neuron of each spike
    n_spk: np.ndarray         #: int64 (1,): spikes recorded
    rec_idx: np.ndarray       #: int64 (R,): neurons whose v and x are recorded
    rec_v: np.ndarray         #: float32 (rows, R): recorded v [V]
    rec_x: np.ndarray         #: float32 (rows, R): recorded x [1]
    rec_every: int            #: record every this many steps
    n_rec: np.ndarray         #: int64 (1,): rows recorded
    plastic: np.ndarray       #: uint8 (M,) or (0,): STDP synapses (empty: no plasticity)
    in_ptr: np.ndarray        #: int64: incoming plastic synapses of each neuron (CSR pointers)
    in_syn: np.ndarray        #: int64: incoming plastic synapses (CSR indices)
    syn_pre: np.ndarray       #: int64 (M,): presynaptic neuron of each synapse
    stdp_par: np.ndarray      #: float64 (5,): STDP table (see :mod:`devicephys.array.plasticity`)
    a_pre: np.ndarray         #: float64 (N,): presynaptic traces
    a_post: np.ndarray        #: float64 (N,): postsynaptic traces
    rng_key: int              #: key of the counter-based uniforms of the Poisson sources
    gen_step: np.ndarray      #: int64: spike generator schedule, step of each spike (sorted per population)
    gen_idx: np.ndarray       #: int64: spike generator schedule, global neuron of each spike
    gen_pos: np.ndarray       #: int64 (P,): next schedule entry of each population
    gen_end: np.ndarray       #: int64 (P,): end of each population's schedule entries
    mon_idx: np.ndarray       #: int64 (R,): neurons of the state monitor
    mon_var: np.ndarray       #: int64 (V,): monitored variables (0 g_e, 1 g_i, 2 v, 3 x)
    mon_every: int            #: monitor every this many steps
    mon_out: np.ndarray       #: float64 (rows, V, R): monitored values
    n_mon: np.ndarray         #: int64 (1,): rows monitored


@nb.njit(cache=True, error_model="numpy")
def run_steps(step0, nsteps, a):
    """Advance ``nsteps`` steps from global step ``step0``; return the steps done.

    ``a`` is a :class:`StepArrays`.  Stops early (at a step boundary) when the
    spike record could overflow; the caller enlarges it and resumes.
    """
    has_stdp = a.plastic.size > 0
    n_neurons = a.v_rest.size
    state, x, age, bounds, coef, spk_i, n_spk = a.state, a.x, a.age, a.bounds, a.coef, a.spk_i, a.n_spk
    ge, gi, v = state[0], state[1], state[2]
    buf = a.buf
    n_slots = buf.shape[0]
    for k in range(nsteps):
        s = step0 + k
        if n_spk[0] + n_neurons > a.spk_t.size:
            return k
        if has_stdp:
            decay_traces(a.stdp_par, a.a_pre, a.a_post)
        _monitor(a, s)
        n0 = n_spk[0]
        n = n0
        for p in range(a.kinds.size):
            kind = a.kinds[p]
            if kind <= 2:
                n = _update(bounds[p], bounds[p + 1], kind, coef[p], a.dt, s, a.v_rest, v, ge, gi, x, age, a.lastspike,
                            a.spk_t, spk_i, n)
            elif kind == 3:
                n = _poisson(bounds[p], bounds[p + 1], a.rng_key, s, a.v_rest, a.lastspike, a.spk_t, spk_i, n)
            else:
                n = _generate(p, s, a.gen_step, a.gen_idx, a.gen_pos, a.gen_end, a.lastspike, a.spk_t, spk_i, n)
        n_spk[0] = n
        _propagate(s, n0, n, spk_i, a.indptr, a.indices, a.weights, a.dsteps, a.chan, a.mu, state, buf, a.detected)
        if has_stdp:
            apply_stdp(n0, n, spk_i, a.indptr, a.indices, a.weights, a.plastic, a.in_ptr, a.in_syn, a.syn_pre,
                       a.stdp_par, a.a_pre, a.a_post)
        if n_slots > 1:
            slot = s % n_slots
            for c in range(3):
                row = buf[slot, c]
                for j in range(n_neurons):
                    if row[j] != 0.0:
                        state[c, j] += row[j]
                        row[j] = 0.0
        for q in range(n0, n):
            i = spk_i[q]
            p = 0
            while i >= bounds[p + 1]:
                p += 1
            v[i] = coef[p, VRESET]
            x[i] = 0.0
            age[i] = 0.0
        _record(a, s)
    return nsteps


@nb.njit(cache=True, error_model="numpy")
def _record(a, s):
    """Store v and x of the recorded neurons (``a.rec_idx``) every ``a.rec_every`` steps."""
    n_rec, rec_idx = a.n_rec, a.rec_idx
    if rec_idx.size > 0 and s % a.rec_every == 0 and n_rec[0] < a.rec_v.shape[0]:
        for r in range(rec_idx.size):
            a.rec_v[n_rec[0], r] = a.state[2, rec_idx[r]]
            a.rec_x[n_rec[0], r] = a.x[rec_idx[r]]
        n_rec[0] += 1


@nb.njit(cache=True, error_model="numpy")
def _monitor(a, s):
    """State monitor: the variables ``a.mon_var`` of ``a.mon_idx`` at the start of step s (s % every == 0)."""
    if a.mon_idx.size > 0 and s % a.mon_every == 0 and a.n_mon[0] < a.mon_out.shape[0]:
        row = a.n_mon[0]
        for q in range(a.mon_var.size):
            var = a.mon_var[q]
            for r in range(a.mon_idx.size):
                j = a.mon_idx[r]
                a.mon_out[row, q, r] = a.x[j] if var == 3 else a.state[var, j]
        a.n_mon[0] = row + 1


@nb.njit(cache=True, error_model="numpy")
def bernoulli_csr(n_pre, n_post, p, seed, capacity, exclude_self):
    """Random connectivity: each pair connected with probability ``p`` (no duplicates).

    Uses geometric skipping, so the cost is proportional to the number of
    synapses.  Returns ``(indptr, indices, ok)``; ``ok`` is False when more than
    ``capacity`` synapses were drawn (the caller raises).
    """
    np.random.seed(seed)
    indptr = np.zeros(n_pre + 1, dtype=np.int64)
    indices = np.empty(capacity, dtype=np.int32)
    n = 0
    if p <= 0.0:
        return indptr, indices[:0], True
    log_q = math.log1p(-p) if p < 1.0 else -np.inf
    for i in range(n_pre):
        j = -1
        while True:
            if p >= 1.0:
                j += 1
            else:
                u = 1.0 - np.random.random()
                j += 1 + int(math.floor(math.log(u) / log_q))
            if j >= n_post:
                break
            if exclude_self and j == i:
                continue
            if n >= capacity:
                return indptr, indices[:n], False
            indices[n] = j
            n += 1
        indptr[i + 1] = n
    return indptr, indices[:n], True
