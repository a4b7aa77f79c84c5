"""COBA benchmark: this simulator versus Brian2 (runtime target and cpp_standalone, one thread).

Same network (the same wiring and initial state handed to Brian2), dt = 0.1 ms,
1 s of biological time, exponential-Euler membrane update on both sides.
Prints wall time per biological second, synaptic events per second and the
ratios, medians of repeated runs measured side by side in this one run.

    .venv/bin/python benchmarks/bench_array_coba.py [--repeats 3] [--duration 1.0]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "array"))

from brian2_peer import brian2_coba  # noqa: E402

from devicephys.array import reference as ref  # noqa: E402
from devicephys.array.simulate import simulate  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--duration", type=float, default=1.0, help="biological seconds per run")
    args = p.parse_args(argv)
    wiring = ref.coba(4000, seed=0)
    dur, dt = args.duration, 1e-4
    simulate(wiring.network, 0.01, dt, progress=False)  # compile (cached on disk afterwards)
    rows = {}
    ours = [simulate(wiring.network, dur, dt, progress=False) for _ in range(args.repeats)]
    events = ours[0].synaptic_events
    rows["devicephys (numba, 1 thread)"] = (statistics.median(r.wall_time for r in ours), events)
    brian2_coba(wiring, 0.01, dt, target="cython")  # compile the Cython code once
    runtime = [brian2_coba(wiring, dur, dt, target="cython") for _ in range(args.repeats)]
    rows["Brian2 runtime (Cython)"] = (statistics.median(r[2] for r in runtime), _events(wiring, runtime[0]))
    standalone = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            standalone.append(brian2_coba(wiring, dur, dt, standalone_dir=tmp))
    rows["Brian2 cpp_standalone (1 thread)"] = (statistics.median(r[2] for r in standalone),
                                               _events(wiring, standalone[0]))
    ours_t = rows["devicephys (numba, 1 thread)"][0]
    print(f"COBA 4000 neurons, {wiring.network.n_synapses} synapses, dt 0.1 ms, {dur} s, median of {args.repeats}")
    print(f"{'simulator':<34}{'wall s / bio s':>16}{'events / s':>14}{'rate Hz':>9}{'time / ours':>13}")
    rates = {"devicephys (numba, 1 thread)": ours[0].spike_index.size / 4000 / dur,
             "Brian2 runtime (Cython)": runtime[0][1].size / 4000 / dur,
             "Brian2 cpp_standalone (1 thread)": standalone[0][1].size / 4000 / dur}
    for name, (wall, ev) in rows.items():
        print(f"{name:<34}{wall / dur:>16.4f}{ev / wall:>14.3e}{rates[name]:>9.2f}{wall / ours_t:>13.2f}")
    return 0


def _events(wiring, run) -> int:
    degree = np.bincount(wiring.pre, minlength=4000)
    return int(np.dot(np.bincount(run[1], minlength=4000), degree))


if __name__ == "__main__":
    sys.exit(main())
