"""Benchmark of stage 1: one full set-and-rupture cycle of the default cell.

Measures, side by side in one run: the wall time and the number of unknowns of
a set (constant source voltage until the filament bridges) followed by the
self-rupture at zero bias, serially and under ``mpiexec -n 2`` (DOLFINx
distributes the mesh; the 1-D channel transport is replicated on each rank).
Reports medians of ``--repeat`` runs and the speed-up.  Target: a full cycle
on the default mesh in under 60 s on a 2-core machine.

    python benchmarks/bench_filament.py [--repeat 3] [--fast]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 60.0


def cycle(fast: bool) -> dict:
    """One set-and-rupture cycle in this process; returns timings and sizes (rank 0 prints)."""
    from mpi4py import MPI

    from devicephys.filament import simulate as sim
    from devicephys.filament.spec import FilamentSpec

    spec = FilamentSpec.fast() if fast else FilamentSpec()
    t0 = time.perf_counter()
    model = sim.CellModel(spec)
    built = time.perf_counter()
    v = max(spec.set_voltages)
    set_trace = sim.run_drive(model, lambda t: v, spec.set_time_limit, dt_max=spec.set_time_limit * spec.max_step_fraction,
                              stop=lambda s: s["gap"] < spec.gap_on)
    relax = sim.run_drive(model, lambda t: 0.0, spec.relax_duration,
                          dt_max=spec.relax_duration * spec.max_step_fraction, dt_first=1e-12,
                          stop=lambda s: s["gap"] > spec.gap_rupture)
    done = time.perf_counter()
    return {"ranks": MPI.COMM_WORLD.size, "unknowns": model.unknowns, "steps": len(set_trace) + len(relax),
            "mesh_s": built - t0, "cycle_s": done - built, "total_s": done - t0,
            "set_time_s": set_trace.array("time")[-1], "rupture_time_s": relax.array("time")[-1]}


def _run(ranks: int, fast: bool) -> dict:
    cmd = [sys.executable, __file__, "--child"] + (["--fast"] if fast else [])
    if ranks > 1:
        launcher = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")
        if launcher is None:
            raise RuntimeError("mpiexec not found")
        cmd = [launcher, "-n", str(ranks)] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("@@")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"{ranks}-rank run failed: {(out.stderr.strip().splitlines() or ['?'])[-1]}")
    return json.loads(line[2:])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--fast", action="store_true", help="the fast preset instead of the default cell")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        result = cycle(args.fast)
        from mpi4py import MPI

        if MPI.COMM_WORLD.rank == 0:
            print("@@" + json.dumps(result))
        return 0
    rows = {}
    for ranks in (1, 2):
        try:
            runs = [_run(ranks, args.fast) for _ in range(args.repeat)]
        except RuntimeError as exc:
            print(f"{ranks} rank(s): {exc}")
            continue
        rows[ranks] = {k: statistics.median(r[k] for r in runs) for k in ("total_s", "cycle_s", "mesh_s")}
        rows[ranks].update(unknowns=runs[0]["unknowns"], steps=runs[0]["steps"])
        print(f"{ranks} rank(s): median total {rows[ranks]['total_s']:.2f} s (cycle {rows[ranks]['cycle_s']:.2f} s, "
              f"mesh {rows[ranks]['mesh_s']:.2f} s), {rows[ranks]['unknowns']} unknowns, {rows[ranks]['steps']} steps")
    if 1 in rows and 2 in rows:
        print(f"speed-up of 2 ranks: {rows[1]['total_s'] / rows[2]['total_s']:.2f}x")
    if 1 in rows:
        print(f"target < {TARGET_S:.0f} s: {'met' if rows[1]['total_s'] < TARGET_S else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
