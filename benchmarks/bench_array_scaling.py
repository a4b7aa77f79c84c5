"""Scaling of the simulator from 10^3 to 10^6 neurons (out-degree 100: 10^8 synapses at 10^6).

The COBA network with p = 100 / N and weights scaled by 80 / 100, so every
neuron gets the benchmark's mean input at every size (~20 Hz).  Each size runs
in a fresh process to measure its peak memory (ru_maxrss).  Prints build time,
wall time per biological second, synaptic events per second and peak memory,
and, as the machine's ceiling, the rate of bare random scatter-adds
(``v[j] += w`` at uniformly random j, compiled) into an array of the same
size, with the simulator's share of it.  Last, a roofline for the largest
network: the time one step needs at least to stream the neuron state once at
the machine's measured bandwidth (``STATE_BYTES`` per neuron) plus the time
its synaptic events need at the scatter ceiling, and the events per second
that this bound allows at the measured rate (only when its state is larger than
the L3 cache; smaller networks are not bandwidth bound).

    .venv/bin/python benchmarks/bench_array_scaling.py [--sizes 1000 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys


#: Time step of the scaling runs [s].
DT = 1e-4


def one(n: int, duration: float) -> dict:
    import resource
    import time

    from devicephys.array import reference as ref
    from devicephys.array.simulate import simulate

    t0 = time.perf_counter()
    wiring = ref.coba(n, seed=0, out_degree=100, keep_pairs=False)
    build = time.perf_counter() - t0
    simulate(wiring.network, 1e-3, DT, progress=False)  # compile / warm caches
    r = simulate(wiring.network, duration, DT, progress=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"n": n, "synapses": wiring.network.n_synapses, "build_s": build, "wall_s": r.wall_time,
            "duration": duration, "events": r.synaptic_events, "rate": r.spike_index.size / n / duration,
            "peak_bytes": peak}


def scatter_ceiling(n: int, count: int = 20_000_000) -> float:
    """Random scatter-adds per second into ``n`` float64 values (the memory-latency ceiling of delivery)."""
    import time

    import numba as nb
    import numpy as np

    @nb.njit
    def scatter(idx, w, v):
        for k in range(idx.size):
            v[idx[k]] += w[k]

    idx = np.random.default_rng(0).integers(0, n, count)
    w, v = np.ones(count), np.zeros(n)
    scatter(idx[:10], w[:10], v)
    t0 = time.perf_counter()
    scatter(idx, w, v)
    return count / (time.perf_counter() - t0)


#: Bytes moved per neuron per step by the COBA update and threshold (float64 v_rest, v, g_e, g_i and int64
#: last-spike read, v, g_e, g_i written, v and last-spike read again by the threshold).
STATE_BYTES = 5 * 8 + 3 * 8 + 2 * 8


def stream_bandwidth(n: int = 20_000_000, repeat: int = 5) -> float:
    """Bytes per second of a compiled triad a = b + s c over arrays far larger than the caches (median)."""
    import statistics
    import time

    import numba as nb
    import numpy as np

    @nb.njit(fastmath=True)
    def triad(a, b, c, s):
        for i in range(a.size):
            a[i] = b[i] + s * c[i]

    a, b, c = np.zeros(n), np.ones(n), np.ones(n)
    triad(a[:10], b[:10], c[:10], 0.5)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        triad(a, b, c, 0.5)
        times.append(time.perf_counter() - t0)
    return 3 * 8 * n / statistics.median(times)


def _l3_bytes() -> int:
    """Size of the L3 cache [bytes] as the OS reports it (32 MiB when it does not)."""
    import os

    try:
        size = os.sysconf("SC_LEVEL3_CACHE_SIZE")
    except (ValueError, OSError, AttributeError):
        size = 0
    return size if size > 0 else 32 * 2**20


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000, 1000000])
    p.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--duration", type=float, default=None, help="biological seconds (default: 1 s, 0.2 s at 10^6)")
    args = p.parse_args(argv)
    if args.child:
        dur = args.duration or (0.2 if args.child >= 10**6 else 1.0)
        print(json.dumps(one(args.child, dur)))
        return 0
    print(f"{'neurons':>9}{'synapses':>12}{'build s':>9}{'wall s/bio s':>14}{'events/s':>11}{'rate Hz':>9}"
          f"{'peak GiB':>10}{'ceiling/s':>11}{'share':>7}")
    last = None
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--child", str(n)] + (["--duration", str(args.duration)] if args.duration else [])
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        d = json.loads(out.stdout.strip().splitlines()[-1])
        ceiling = scatter_ceiling(n)
        rate = d['events'] / d['wall_s']
        print(f"{d['n']:>9}{d['synapses']:>12}{d['build_s']:>9.2f}{d['wall_s'] / d['duration']:>14.3f}"
              f"{rate:>11.3e}{d['rate']:>9.2f}{d['peak_bytes'] / 2**30:>10.2f}{ceiling:>11.3e}{rate / ceiling:>7.2f}")
        last = (d, ceiling)
    d, ceiling = last
    state = d["n"] * 5 * 8  # the arrays the update reads [bytes]
    l3 = _l3_bytes()
    if state <= l3:
        print(f"no roofline at {d['n']} neurons: its state ({state / 2**20:.1f} MiB) fits in the L3 cache "
              f"({l3 / 2**20:.0f} MiB), so memory bandwidth does not bound it")
        return 0
    bw = stream_bandwidth()
    steps = d["duration"] / DT
    per_step = d["events"] / steps
    t_update = d["n"] * STATE_BYTES / bw
    t_events = per_step / ceiling
    bound = per_step / (t_update + t_events)
    print(f"roofline at {d['n']} neurons: stream bandwidth {bw / 1e9:.1f} GB/s -> state update >= {t_update * 1e3:.2f} ms "
          f"per step; {per_step:.3g} events per step at the scatter ceiling -> >= {t_events * 1e3:.2f} ms; bound "
          f"{bound:.3g} events/s (measured {d['events'] / d['wall_s']:.3g}, {d['events'] / d['wall_s'] / bound:.2f} of it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
