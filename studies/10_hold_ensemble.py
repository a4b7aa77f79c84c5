"""Study 10: is the default cell's hold a number the model determines, read from replicas of its holds?

Question: study 09 found that the sweep's hold and the hold window's static hold move with the Newton
tolerance and the largest time step: near its hold the ON state ruptures and re-forms under a constant bias,
and which of these flickers a run takes is set by the last bits of its state.  That is a chaotic trajectory,
and for one the statistics converge, not the trajectory.  Do they here?

Steps
-----
1. The filament stage's DC sweep and its hold-window study with ``sweep_hold_replicas`` R (``--replicas``,
   default 6): from the sweep's state where its falling ramp passes each of ``--biases``, R holds of
   ``relax_duration`` (100 us), the first from that state as it is, the others from copies with their metal
   moved by about an atom per node (standard deviation one Ag atom, total conserved; the continuum state stands
   for a discrete one known to about an atom).  The default cell on the fast preset (``--full``: the full
   preset's finer mesh), once per largest time step in ``--steps`` (fractions of the sweep; default the fast
   preset's 1/80 and 1/400), each in its own process, ``--jobs`` at a time.
2. Per step: the mean share of the holds spent ON against the bias, with its standard error; the hold
   ``hold_voltage_ensemble`` (the source voltage where that mean falls through 1/2 coming down in bias) with
   its bootstrap standard deviation; beside them the unperturbed runs' window edge and static hold (study 09's).
3. Check (exit status 1 when it fails): the ensemble holds of the steps agree within twice their combined
   bootstrap standard deviation (a 2-sigma test of one number against its own stated uncertainty; the linear
   interpolation between biases is not in that uncertainty, so the bias spacing is printed beside it).

Outputs (``--out``, default results/study10): ``hold_<step>.npz`` per step (written atomically; ``--resume`` keeps
them), ``hold_ensemble.csv`` (per step and bias: runs, mean ON share, its standard error, share of the runs held
without a rupture, median cell voltage while ON), ``summary.csv`` and ``10_hold_ensemble.png``.

Usage: python studies/10_hold_ensemble.py [--full] [--coupling-tolerance X] [--neck-drive threshold] [--steps 0.0125 0.0025] [--biases B ...] [--replicas 6] [--jobs 2]
       [--resume] [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

BIASES = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45)  # [V] source voltages held (the default cell's hold: 0.2-0.45 V)
SIGMAS = 2.0  # the check: agreement within this many combined bootstrap standard deviations


def spec_for(step: float, biases, replicas: int, full: bool = False, coupling: float | None = None,
             neck: str = "smooth"):
    """The default FilamentSpec (fast preset unless ``full``) with largest step ``step`` (a fraction of the sweep),
    the hold-window study at ``biases`` [V] with ``replicas`` holds per bias, no field snapshots; ``coupling`` is its
    ``coupling_tolerance`` (None: the preset's, not checked), ``neck`` its ``neck_drive``."""
    from devicephys.filament.spec import FilamentSpec

    base = (FilamentSpec() if full else FilamentSpec.fast()).model_dump()
    return FilamentSpec(**{**base, "max_step_fraction": step, "sweep_hold_biases": sorted(float(b) for b in biases),
                           "sweep_hold_replicas": replicas, "field_snapshots": 0, "coupling_tolerance": coupling,
                           "neck_drive": neck})


def _npz(out: Path, step: float) -> Path:
    return out / f"hold_{step:.6g}.npz"


def run_one(step: float, biases, replicas: int, out: Path, progress: bool = False, full: bool = False,
            coupling: float | None = None, neck: str = "smooth") -> Path:
    """The sweep and its replicated hold window at ``step``, written atomically to ``out/hold_<step>.npz``."""
    import dolfinx_solver  # noqa: F401  (MPI before DOLFINx)

    from devicephys.filament import simulate as sim
    from devicephys.filament.stage import sweep_hold_window
    from devicephys.io import write_npz

    spec = spec_for(step, biases, replicas, full, coupling, neck)
    model = sim.CellModel(spec)
    start = time.perf_counter()
    _, runs, scalars = sweep_hold_window(model, spec, progress)
    meta = {"step": step, "full": full, "coupling": coupling, "neck": neck, "biases": list(spec.sweep_hold_biases), "replicas": replicas,
            "scalars": {k: list(v) for k, v in scalars.items()}, "wall_s": time.perf_counter() - start}
    return write_npz(_npz(out, step), meta, runs)


def run_all(steps, biases, replicas: int, jobs: int, out: Path, resume: bool, full: bool = False,
            coupling: float | None = None, neck: str = "smooth") -> None:
    """Each step's run in its own process (``jobs`` at a time); ``resume`` keeps those already written."""
    from devicephys.workers import run_missing

    commands = {}
    for s in steps:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--one", repr(s), "--out", str(out),
               "--replicas", str(replicas), "--biases", *map(repr, biases)] + (["--full"] if full else [])
        cmd += ([] if coupling is None else ["--coupling-tolerance", repr(coupling)]) + ["--neck-drive", neck]
        commands[s] = cmd + (["--progress"] if jobs == 1 else [])
    run_missing(commands, lambda s: _npz(out, s), jobs, resume, lambda s: f"step {s:g}")


def load(out: Path, step: float, biases, replicas: int, full: bool = False,
         coupling: float | None = None, neck: str = "smooth") -> tuple[dict[str, np.ndarray], dict]:
    """(runs, meta) of one step; refuses a file written with another preset, other biases or replicas."""
    from devicephys.io import read_npz

    path = _npz(out, step)
    runs, meta = read_npz(path)
    if (meta["biases"] != sorted(float(b) for b in biases) or meta["replicas"] != replicas
            or meta.get("full", False) != full or meta.get("coupling") != coupling
            or meta.get("neck", "threshold") != neck):
        raise SystemExit(f"{path}: written with biases {meta['biases']}, {meta['replicas']} replicas and the "
                         f"{'full' if meta.get('full') else 'fast'} preset, not {sorted(biases)}, {replicas} and the "
                         f"{'full' if full else 'fast'} (coupling_tolerance {meta.get('coupling')}, not {coupling}; neck_drive "
                         f"{meta.get('neck', 'threshold')}, not {neck}); run without "
                         "--resume or with another --out")
    return runs, meta


def per_bias(runs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per bias over the runs: mean ON share, its standard error, share held (starts ON, no rupture), cell voltage."""
    share = runs["replica_on_fraction"]
    held = (runs["replica_start_on"] > 0) & (runs["replica_ruptures"] == 0)
    volts = runs["replica_on_voltage"]
    cell = np.array([np.nanmedian(row) if np.isfinite(row).any() else math.nan for row in volts])
    return {"mean": share.mean(axis=1), "sem": share.std(axis=1, ddof=1) / math.sqrt(share.shape[1]),
            "held": held.mean(axis=1), "cell": cell}


def agreement(holds: dict[float, tuple[float, float]]) -> tuple[float, float, bool]:
    """(largest difference [V], allowed [V], passed) of the steps' ensemble holds (value, bootstrap sd).

    Allowed: :data:`SIGMAS` times the root sum of squares of the two standard deviations of the pair that
    differs most.  Not passed when a hold is NaN (none found in the biases) or has no spread.
    """
    items = sorted(holds.items())
    worst = (0.0, math.inf, True)
    for i, (_, (a, sa)) in enumerate(items):
        for _, (b, sb) in items[i + 1:]:
            if not all(math.isfinite(x) for x in (a, b, sa, sb)):
                return math.nan, math.nan, False
            diff, allowed = abs(a - b), SIGMAS * math.hypot(sa, sb)
            if diff - allowed > worst[0] - worst[1]:
                worst = (diff, allowed, diff <= allowed)
    return worst


def figure(biases, rows: dict[float, dict[str, np.ndarray]], holds: dict[float, tuple[float, float]], path: Path,
           setting: str = ""):
    """The mean ON share per bias and step, with each step's hold; ``setting`` (e.g. the neck drive) ends the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from devicephys.io import save_figure

    fig, ax = plt.subplots(figsize=(6.5, 4.4))
    b = np.asarray(biases, float)
    for k, (step, row) in enumerate(sorted(rows.items(), reverse=True)):
        v50, s50 = holds[step]
        ax.errorbar(b, row["mean"], yerr=row["sem"], fmt="o-", ms=4, lw=0.9, capsize=2, color=f"C{k}",
                    label=f"largest step {step:g} of the sweep: hold {v50:.3f} ± {s50:.3f} V")
        if math.isfinite(v50):
            ax.axvspan(v50 - s50, v50 + s50, color=f"C{k}", alpha=0.15)
    ax.axhline(0.5, color="0.5", lw=0.8, ls=":")
    ax.set(xlabel="source voltage held after the sweep's falling ramp [V]",
           ylabel="mean share of the holds ON [1] (± s.e.)", ylim=(-0.05, 1.05),
           title="hold from replicas perturbed by an atom per node" + (f" ({setting})" if setting else ""))
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return save_figure(fig, path, close=True)


def main(argv: list[str] | None = None) -> int:
    from devicephys.io import atomic_write_text, writable_folder

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help="the full preset (default: fast)")
    p.add_argument("--coupling-tolerance", type=float, default=None,
                   help="coupling_tolerance of every run (the splitting error's limit per step; default: unchecked)")
    p.add_argument("--neck-drive", choices=("threshold", "smooth"), default="smooth",
                   help="neck_drive of every run (default: smooth, the spec's default; the first table of "
                        "docs/filament.md's 'Replicas of the holds' was measured with threshold)")
    p.add_argument("--steps", type=float, nargs="+", default=[0.0125, 0.0025],
                   help="largest time steps as fractions of the sweep (at least two, each in (0, 0.5])")
    p.add_argument("--biases", type=float, nargs="+", default=list(BIASES),
                   help="source voltages [V] held from the sweep's falling ramp (at least two, each in [0, sweep_voltage))")
    p.add_argument("--replicas", type=int, default=6, help="holds per bias (at least 2; the first unperturbed)")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="steps run at once (default: 2); with 1, each shows its progress bars")
    p.add_argument("--resume", action="store_true", help="keep the runs already written to --out")
    p.add_argument("--one", type=float, default=None, help=argparse.SUPPRESS)  # one step, in a worker process
    p.add_argument("--progress", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", default="results/study10", help="output folder")
    args = p.parse_args(argv)
    from devicephys.filament.spec import FilamentSpec

    top = (FilamentSpec() if args.full else FilamentSpec.fast()).sweep_voltage
    steps = sorted(set(args.steps), reverse=True)
    if args.one is None and (len(steps) < 2 or any(not (0 < s <= 0.5) for s in steps)):
        p.error(f"--steps {args.steps}: give at least two different values, each in (0, 0.5], e.g. 0.0125 0.0025")
    if len(set(args.biases)) < 2 or any(not (0 <= b < top) for b in args.biases):
        p.error(f"--biases {args.biases}: give at least two, each in [0, {top:g}) V (the sweep's falling ramp), "
                "e.g. 0.2 0.3 0.4")
    if not 2 <= args.replicas <= 64:
        p.error(f"--replicas {args.replicas}: must be in [2, 64] (the first run is the unperturbed one), e.g. 6")
    if args.jobs < 1:
        p.error(f"--jobs {args.jobs}: must be at least 1")
    if args.coupling_tolerance is not None and not 0 < args.coupling_tolerance <= 0.5:
        p.error(f"--coupling-tolerance {args.coupling_tolerance}: must be in (0, 0.5], e.g. 0.01")
    biases = sorted(set(args.biases))
    out = writable_folder(args.out)
    if args.one is not None:
        run_one(args.one, biases, args.replicas, out, args.progress, args.full, args.coupling_tolerance, args.neck_drive)
        return 0
    run_all(steps, biases, args.replicas, args.jobs, out, args.resume, args.full, args.coupling_tolerance,
            args.neck_drive)
    rows, holds, lines, summary = {}, {}, [], []
    lines.append("step,bias [V],runs,mean ON share [1],standard error [1],held share [1],cell voltage while ON [V]")
    summary.append("step,hold_voltage_ensemble [V],bootstrap sd [V],hold_voltage_ensemble_cell [V],"
                   "hold_window_low (unperturbed) [V],hold_voltage_static (unperturbed) [V],wall_s")
    for step in steps:
        runs, meta = load(out, step, biases, args.replicas, args.full, args.coupling_tolerance, args.neck_drive)
        row = rows[step] = per_bias(runs)
        sc = meta["scalars"]
        holds[step] = (sc["hold_voltage_ensemble"][0], sc["hold_voltage_ensemble"][1])
        for k, b in enumerate(biases):
            lines.append(f"{step:g},{b:g},{args.replicas},{row['mean'][k]:.6g},{row['sem'][k]:.4g},"
                         f"{row['held'][k]:.4g},{row['cell'][k]:.6g}")
        summary.append(f"{step:g},{holds[step][0]:.6g},{holds[step][1]:.4g},{sc['hold_voltage_ensemble_cell'][0]:.6g},"
                       f"{sc['hold_window_low'][0]:.6g},{sc['hold_voltage_static'][0]:.6g},{meta['wall_s']:.1f}")
        print(f"largest step {step:g} of the sweep ({args.replicas} holds per bias, {meta['wall_s']:.0f} s):")
        print("  bias [V]: mean ON share ± s.e. (held share): "
              + "; ".join(f"{b:g}: {row['mean'][k]:.2f} ± {row['sem'][k]:.2f} ({row['held'][k]:.2f})"
                          for k, b in enumerate(biases)))
        from devicephys.filament.extract import share_crossing_spread

        found = share_crossing_spread(biases, runs["replica_on_fraction"])[1]
        if found < 0.95:
            print(f"  only {found:.0%} of the bootstrap resamples cross 1/2 within the biases: the hold lies near an "
                  "end of them and its spread is a lower bound (add biases beyond it)")
        print(f"  hold_voltage_ensemble {holds[step][0]:.4g} ± {holds[step][1]:.2g} V (cell "
              f"{sc['hold_voltage_ensemble_cell'][0]:.4g} V); unperturbed: hold_window_low {sc['hold_window_low'][0]:.4g} V, "
              f"hold_voltage_static {sc['hold_voltage_static'][0]:.4g} V")
    atomic_write_text(out / "hold_ensemble.csv", "\n".join(lines) + "\n")
    atomic_write_text(out / "summary.csv", "\n".join(summary) + "\n")
    setting = ", ".join(([f"coupling_tolerance {args.coupling_tolerance:g}"] if args.coupling_tolerance is not None else [])
                        + ([f"neck_drive {args.neck_drive}"] if args.neck_drive != "smooth" else []))
    figure(biases, rows, holds, out / "10_hold_ensemble.png", setting)
    diff, allowed, passed = agreement(holds)
    spacing = float(np.min(np.diff(biases)))
    print(f"check hold_voltage_ensemble_agrees_across_steps: largest difference {diff:.4g} V, allowed {allowed:.4g} V "
          f"({SIGMAS:g} combined bootstrap sd; bias spacing {spacing:g} V) -> {'ok' if passed else 'FAILED'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
