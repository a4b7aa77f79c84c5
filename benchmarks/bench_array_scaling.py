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

With ``--brian2``, the same network (same seed: same wiring and initial v,
weights scaled the same way) also runs in Brian2 cpp_standalone, one thread,
at each of ``--brian2-sizes`` (default 10^5 and 10^6), each in a fresh process,
for the same biological time.  Printed side by side per size: wall time per
biological second of both (Brian2: its run loop, ``device._last_run_time``,
without code generation, compilation and synapse creation), the ratio
Brian2 / devicephys, synaptic events per second, both firing rates (the same
network, so they should agree within a few percent; not asserted) and peak
memory: of the devicephys process, and of the Brian2 process (Python: wiring
and code generation) and of its compiled binary.

    .venv/bin/python benchmarks/bench_array_scaling.py [--sizes 1000 10000 100000 1000000]
        [--duration S] [--brian2 [--brian2-sizes 100000 1000000]]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path


#: Time step of the scaling runs [s].
DT = 1e-4

#: Out-degree of the scaling networks (p = OUT_DEGREE / N).
OUT_DEGREE = 100


def default_duration(n: int, duration: float | None) -> float:
    """Biological seconds of a run at ``n`` neurons: ``duration`` if given, else 1 s (0.2 s at 10^6 and above)."""
    return duration or (0.2 if n >= 10**6 else 1.0)


def one(n: int, duration: float) -> dict:
    import resource
    import time

    from devicephys.array import reference as ref
    from devicephys.array.simulate import simulate

    t0 = time.perf_counter()
    wiring = ref.coba(n, seed=0, out_degree=OUT_DEGREE, keep_pairs=False)
    build = time.perf_counter() - t0
    simulate(wiring.network, 1e-3, DT, progress=False)  # compile / warm caches
    r = simulate(wiring.network, duration, DT, progress=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"n": n, "synapses": wiring.network.n_synapses, "build_s": build, "wall_s": r.wall_time,
            "duration": duration, "events": r.synaptic_events, "rate": r.spike_index.size / n / duration,
            "peak_bytes": peak}


#: Run as the Brian2 project's binary (``run_cmd_unix``): runs it, then writes its peak RSS [KiB] to main_maxrss.
_MAXRSS_WRAPPER = ("import resource, subprocess, sys; rc = subprocess.call(sys.argv[1:]); "
                   "open('main_maxrss', 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
                   "sys.exit(rc)")


def one_brian2(n: int, duration: float) -> dict:
    """The network of :func:`one` in Brian2 cpp_standalone (one thread): run-loop wall time, events, rate, memory."""
    import resource
    import tempfile
    import time

    import brian2 as b2
    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "array"))
    from brian2_peer import brian2_coba

    from devicephys.array import reference as ref

    wiring = ref.coba(n, seed=0, out_degree=OUT_DEGREE, keep_pairs=True)  # the same seed: same wiring, same v_init
    wiring.network = None  # Brian2 needs the pairs and v_init only
    scale = ref.COBA["p"] * 4000 / OUT_DEGREE  # the weight scale coba() applies for this out-degree
    b2.prefs.devices.cpp_standalone.run_cmd_unix = [sys.executable, "-c", _MAXRSS_WRAPPER, "./main"]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        _, idx, wall = brian2_coba(wiring, duration, DT, standalone_dir=tmp, weight_scale=scale)
        main_peak = int(Path(tmp, "main_maxrss").read_text()) * 1024
    total = time.perf_counter() - t0
    degree = np.bincount(wiring.pre, minlength=n)
    events = int(np.dot(np.bincount(idx, minlength=n).astype(np.int64), degree.astype(np.int64)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"n": n, "synapses": int(wiring.pre.size), "wall_s": wall, "duration": duration, "events": events,
            "rate": idx.size / n / duration, "total_s": total, "peak_bytes": peak, "main_peak_bytes": main_peak}


def _child(*args: str) -> dict:
    """Run this script with ``args`` in a fresh process; its last line of output, parsed."""
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise RuntimeError(f"child {' '.join(args)} failed with exit status {out.returncode}")
    return json.loads(out.stdout.strip().splitlines()[-1])


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
    p.add_argument("--brian2", action="store_true",
                   help="also run Brian2 cpp_standalone (one thread) at --brian2-sizes, side by side")
    p.add_argument("--brian2-sizes", type=int, nargs="+", default=[100000, 1000000])
    p.add_argument("--brian2-child", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(one(args.child, default_duration(args.child, args.duration))))
        return 0
    if args.brian2_child:
        print(json.dumps(one_brian2(args.brian2_child, default_duration(args.brian2_child, args.duration))))
        return 0
    ours = _scaling(args)
    if args.brian2:
        _side_by_side(args, ours)
    return 0


def _scaling(args) -> dict:
    """The scaling table and the roofline; returns the devicephys results by size."""
    ours = {}
    print(f"{'neurons':>9}{'synapses':>12}{'build s':>9}{'wall s/bio s':>14}{'events/s':>11}{'rate Hz':>9}"
          f"{'peak GiB':>10}{'ceiling/s':>11}{'share':>7}")
    last = None
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--child", str(n)] + (["--duration", str(args.duration)] if args.duration else [])
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        d = json.loads(out.stdout.strip().splitlines()[-1])
        ours[n] = d
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
        return ours
    bw = stream_bandwidth()
    steps = d["duration"] / DT
    per_step = d["events"] / steps
    t_update = d["n"] * STATE_BYTES / bw
    t_events = per_step / ceiling
    bound = per_step / (t_update + t_events)
    print(f"roofline at {d['n']} neurons: stream bandwidth {bw / 1e9:.1f} GB/s -> state update >= {t_update * 1e3:.2f} ms "
          f"per step; {per_step:.3g} events per step at the scatter ceiling -> >= {t_events * 1e3:.2f} ms; bound "
          f"{bound:.3g} events/s (measured {d['events'] / d['wall_s']:.3g}, {d['events'] / d['wall_s'] / bound:.2f} of it)")
    return ours


def _side_by_side(args, ours: dict) -> None:
    """Brian2 cpp_standalone (one thread) and devicephys at ``args.brian2_sizes``, one line per size."""
    extra = ["--duration", str(args.duration)] if args.duration else []
    print(f"\nBrian2 cpp_standalone (1 thread, run loop only) vs devicephys (1 thread): the same network, "
          f"dt {DT * 1e3:g} ms")
    print(f"{'neurons':>9}{'bio s':>7}{'devicephys s/bio s':>20}{'Brian2 s/bio s':>16}{'B2/dp':>7}"
          f"{'dp events/s':>13}{'B2 events/s':>13}{'dp Hz':>8}{'B2 Hz':>8}{'dp peak GiB':>13}"
          f"{'B2 peak GiB py/main':>21}")
    for n in args.brian2_sizes:
        d = ours.get(n) or _child("--child", str(n), *extra)
        b = _child("--brian2-child", str(n), *extra)
        assert b["duration"] == d["duration"] and b["synapses"] == d["synapses"]
        dp, b2 = d["wall_s"] / d["duration"], b["wall_s"] / b["duration"]
        print(f"{n:>9}{d['duration']:>7.2f}{dp:>20.3f}{b2:>16.3f}{b2 / dp:>7.2f}{d['events'] / d['wall_s']:>13.3e}"
              f"{b['events'] / b['wall_s']:>13.3e}{d['rate']:>8.2f}{b['rate']:>8.2f}{d['peak_bytes'] / 2**30:>13.2f}"
              f"{b['peak_bytes'] / 2**30:>13.2f}/{b['main_peak_bytes'] / 2**30:.2f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
