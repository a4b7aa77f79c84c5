"""Study 17: does the sweep's threshold fall onto the static threshold as the sweep slows?

Question: the fast preset's sweep (0 -> 3 V -> 0 in 200 us, a ramp of 3e4 V/s) sets the default cell at 1.38 V,
above the published 0.2-1 V, while the lowest constant source voltage that sets the pristine cell within 1 ms (the
static threshold) is 0.16 V, below it.  A set-time law t_set = tau0 exp(-V/V0) with V0 near 0.8 V moves a ramp's
threshold by V0 ln 10 per decade of ramp rate, and published thresholds are read from DC sweeps, orders of magnitude
slower than 3e4 V/s.  So: what does the same cell's rising ramp give at ramp rates down to 3 V/s, and does it
approach the static threshold?  And is that a number of the model or of the time step: an implicit (backward-Euler)
step longer than the growth's own time stabilises the runaway that the set is, and delays it.

Steps
-----
1. For each sweep time of ``--sweep-times`` (the whole triangle, up and down; the rising ramp's rate is
   sweep_voltage / (sweep_time / 2)) and each step control: the default cell's rising ramp from the pristine cell to
   its first set (``stage.rising_ramp_threshold``, the fast preset, the step floor at ``min_step_fraction`` of the
   elapsed time), each in its own process, ``--jobs`` at a time.  The step controls: the fast preset's (the largest
   step 1/80 of the sweep, the Ag fraction's change per step 0.05) and the levels k of ``--levels``, which halve
   both k times from the largest step :data:`BASE_STEP` (or the preset's, if shorter) and the change 0.05.
2. ``--static``: the stage's static threshold on the same cell (the bisection of constant-voltage runs from the
   pristine cell, each up to ``set_time_limit``, 1 ms; ``static_threshold_tolerance``), for the slow limit.
3. Per sweep time, the threshold (the cell voltage before the first set) at the finest largest step, and its step
   error: the difference from the next finest.  Check (exit status 1 when it fails): at every sweep time the two
   finest controls agree within :data:`STEP_TARGET` of the threshold (the result is the model's, not the
   step's).  How the threshold moves with the rate, and where it lies against the static threshold and the
   published range, is the result, not a check.

Outputs (``--out``, default results/study17): ``ramp_<sweep time>_<control>.npz`` per run (written atomically;
``--resume`` keeps them), ``static.npz``, ``summary.json``, ``sweep_rate.csv`` and ``17_sweep_rate.png`` (the
threshold against the ramp rate per step control, with the static threshold and the published range).

Usage: python studies/17_sweep_rate.py [--sweep-times 2e-4 2e-3 2e-2 0.2 2] [--levels 0 1 2] [--static] [--jobs 2]
       [--resume] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

#: [s] whole sweep times (up and down): ramp rates of 3e4 to 3 V/s at the default 3 V peak.
SWEEP_TIMES = (2e-4, 2e-3, 2e-2, 0.2, 2.0)
#: [s] the largest step of level 0 (halved per level; the preset's 1/80 of the sweep where that is shorter).
BASE_STEP = 25e-6
#: [1] the Ag fraction's change per step of level 0 (the fast preset's; halved per level).
BASE_CHANGE = 0.05
LEVELS = (0, 1, 2)
#: relative: the two finest controls' thresholds agree within this
STEP_TARGET = 0.02
#: the published threshold range of volatile Ag threshold switches [V] (Wang et al., Nat. Mater. 16, 101 (2017))
PUBLISHED = (0.2, 1.0)


def spec_for(sweep_time: float, level: int | None):
    """The default FilamentSpec (fast preset, no snapshots) with ``sweep_time`` [s], under step control ``level``
    (None: the preset's; k: the largest step min(:data:`BASE_STEP`, the preset's) / 2^k and the change per step
    :data:`BASE_CHANGE` / 2^k)."""
    from devicephys.filament.spec import FilamentSpec

    spec = FilamentSpec.fast().model_copy(update={"field_snapshots": 0, "sweep_time": sweep_time})
    if level is None:
        return spec
    step = min(BASE_STEP, sweep_time * spec.max_step_fraction) / 2 ** level
    return spec.model_copy(update={"max_step_fraction": step / sweep_time,
                                   "max_concentration_change": BASE_CHANGE / 2 ** level})


def control_of(sweep_time: float, level: int | None) -> tuple[float, float]:
    """(largest step [s], change per step [1]) of the run (``sweep_time``, ``level``)."""
    spec = spec_for(sweep_time, level)
    return spec.sweep_time * spec.max_step_fraction, spec.max_concentration_change


def _name(run) -> str:
    if run == "static":
        return "static.npz"
    sweep_time, level = run
    return f"ramp_{sweep_time:.4g}_{'preset' if level is None else f'level{level}'}.npz"


def measure(run) -> dict[str, np.ndarray]:
    """One run: ``"static"`` (the static threshold and its half-width [V], the probes) or (sweep time [s], level or
    None): the rising ramp's threshold (cell voltage [V]), the source voltage at the set [V], the steps taken, the
    step control (largest step [s], change per step) and the wall time [s]."""
    import dolfinx_solver  # noqa: F401  (MPI before DOLFINx)

    from devicephys.filament import extract, stage
    from devicephys.filament import simulate as sim

    t0 = time.perf_counter()
    if run == "static":
        spec = spec_for(SWEEP_TIMES[0], None)
        model = sim.CellModel(spec)
        pristine = model.state()
        lowest = min(spec.set_voltages)
        trace = stage._constant_set(model, spec, lowest, "set", False)
        i = extract.set_index(trace.array("gap"), spec.gap_on)
        if i is None:
            raise SystemExit(f"the pristine cell does not set at {lowest:g} V within set_time_limit: no bracket for "
                             "the static threshold")
        probes: list = []
        one = spec.model_copy(update={"set_voltages": [lowest]})
        model.restore(pristine)
        value, half = stage._static_threshold(model, one, pristine, np.array([trace.array("time")[i]]), False, probes)
        return {"static_threshold": np.array(value), "half_width": np.array(half),
                "probes": np.array(probes, float).reshape(-1, 2), "wall_s": np.array(time.perf_counter() - t0)}
    ramp = stage.rising_ramp_threshold(spec_for(*run))
    return {"threshold": np.array(ramp["threshold"]), "source": np.array(ramp["source"]),
            "steps": np.array(ramp["steps"]), "control": np.array(control_of(*run)),
            "wall_s": np.array(time.perf_counter() - t0)}


def run_one(run, out: Path) -> Path:
    from devicephys.io import write_npz

    return write_npz(out / _name(run), {"run": "static" if run == "static" else list(run)}, measure(run))


def load(out: Path, run) -> dict[str, np.ndarray]:
    from devicephys.io import read_npz

    return read_npz(out / _name(run))[0]


def _argument(run) -> str:
    return "static" if run == "static" else f"{run[0]!r},{'preset' if run[1] is None else run[1]}"


def _parse(text: str):
    if text == "static":
        return "static"
    a, b = text.split(",")
    return float(a), None if b == "preset" else int(b)


def runs_for(sweep_times, levels) -> list:
    """Every (sweep time, level) run, coarse to fine: the preset's, then each level."""
    return [(st, level) for st in sweep_times for level in [None, *sorted(set(levels))]]


def run_all(runs: list, jobs: int, out: Path, resume: bool) -> None:
    from devicephys.workers import run_missing

    commands = {r: [sys.executable, str(Path(__file__).resolve()), "--one", _argument(r), "--out", str(out)]
                for r in runs}

    def label(r) -> str:
        if r == "static":
            return "static threshold"
        step, change = control_of(*r)
        return f"ramp of {r[0]:g} s, largest step {step:.3g} s, change {change:g}"

    run_missing(commands, lambda r: out / _name(r), jobs, resume, label)


def analyse(sweep_times, rows: dict, sweep_voltage: float) -> list[dict]:
    """Per sweep time [s]: the ramp rate [V/s], each control's threshold [V], coarse to fine, the finest's threshold
    and its step error (the difference from the next finest [V]; NaN with one control), and whether that meets
    :data:`STEP_TARGET`.  ``rows`` maps (sweep time, level or None) to ((largest step [s], change), threshold [V];
    NaN: no set)."""
    result = []
    for st in sweep_times:
        mine = [(level, *rows[(t, level)]) for (t, level) in rows if t == st]
        mine.sort(key=lambda x: -1 if x[0] is None else x[0])
        values = [v for _, _, v in mine]
        finest = values[-1]
        error = abs(values[-1] - values[-2]) if len(values) > 1 else math.nan
        result.append({"sweep_time_s": st, "rate_V_per_s": sweep_voltage / (st / 2),
                       "levels": [level for level, _, _ in mine],
                       "controls": [[float(c[0]), float(c[1])] for _, c, _ in mine], "thresholds_V": values,
                       "threshold_V": finest, "step_error_V": error,
                       "converged": bool(math.isfinite(error) and math.isfinite(finest)
                                         and error <= STEP_TARGET * abs(finest))})
    return result


def csv_text(result: list[dict]) -> str:
    lines = ["sweep_time_s,rate_V_per_s,level,largest_step_s,concentration_change,threshold_V,finest"]
    for r in result:
        for k, (level, (step, change), v) in enumerate(zip(r["levels"], r["controls"], r["thresholds_V"])):
            lines.append(f"{r['sweep_time_s']:.6g},{r['rate_V_per_s']:.6g},{'preset' if level is None else level},"
                         f"{step:.6g},{change:.6g},{v:.6g},{int(k == len(r['levels']) - 1)}")
    return "\n".join(lines) + "\n"


def figure(result: list[dict], static: tuple[float, float] | None, path: Path):
    """The threshold against the ramp rate: the preset's control and the finest (with its step error), the static
    threshold and the published range."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from devicephys.io import save_figure

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.axhspan(*PUBLISHED, color="C2", alpha=0.12, label=f"published {PUBLISHED[0]:g}-{PUBLISHED[1]:g} V "
                                                           "(Wang et al. 2017)")
    rate = np.array([r["rate_V_per_s"] for r in result])
    preset = np.array([r["thresholds_V"][0] for r in result])
    ax.semilogx(rate, preset, "o--", color="0.5", ms=4, label="the fast preset's step control")
    finest = np.array([r["threshold_V"] for r in result])
    err = np.array([r["step_error_V"] for r in result])
    ax.errorbar(rate, finest, yerr=np.where(np.isfinite(err), err, 0.0), fmt="o-", color="C0", ms=5, capsize=3,
                label="the finest control (error bar: its difference from the next)")
    if static is not None and math.isfinite(static[0]):
        ax.axhline(static[0], color="C3", lw=1.0,
                   label=f"static threshold (sets within 1 ms), {static[0]:.3f} ± {static[1]:.3f} V")
        ax.axhspan(static[0] - static[1], static[0] + static[1], color="C3", alpha=0.1)
    ax.set(xlabel="ramp rate [V/s]", ylabel="threshold (cell voltage before the set) [V]",
           title="the default cell's threshold against the sweep rate", ylim=(0, None))
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path, close=True)


def main(argv: list[str] | None = None) -> int:
    from devicephys.io import atomic_write_text, writable_folder

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sweep-times", type=float, nargs="+", default=list(SWEEP_TIMES),
                   help="whole sweep times (up and down) [s]")
    p.add_argument("--levels", type=int, nargs="*", default=list(LEVELS),
                   help="step control levels besides the fast preset's: level k halves the largest step (25 us, or "
                        "the preset's if shorter) and the change per step (0.05) k times")
    p.add_argument("--static", action="store_true", help="also bisect the static threshold (about 40 s)")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="runs at once (default: 2)")
    p.add_argument("--resume", action="store_true", help="keep the runs already written to --out")
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)  # one run, in a worker process
    p.add_argument("--out", default="results/study17", help="output folder")
    args = p.parse_args(argv)
    if not args.sweep_times or not all(math.isfinite(t) and t > 0 for t in args.sweep_times):
        p.error(f"--sweep-times {args.sweep_times}: give positive sweep times [s], e.g. 2e-4 2e-3 2e-2")
    if not all(0 <= k <= 10 for k in args.levels):
        p.error(f"--levels {args.levels}: give levels from 0 to 10, e.g. 0 1 2")
    if args.jobs < 1:
        p.error(f"--jobs {args.jobs}: must be at least 1")
    out = writable_folder(args.out)
    if args.one is not None:
        run_one(_parse(args.one), out)
        return 0
    sweep_times = sorted(set(args.sweep_times))
    runs = runs_for(sweep_times, args.levels)
    run_all(runs + (["static"] if args.static else []), args.jobs, out, args.resume)
    rows = {r: (control_of(*r), float(load(out, r)["threshold"])) for r in runs}
    spec = spec_for(sweep_times[0], None)
    result = analyse(sweep_times, rows, spec.sweep_voltage)
    static = None
    if args.static:
        s = load(out, "static")
        static = (float(s["static_threshold"]), float(s["half_width"]))
    summary = {"sweep_voltage_V": spec.sweep_voltage, "rows": result, "step_target": STEP_TARGET,
               "published_V": list(PUBLISHED),
               "static_threshold_V": None if static is None else {"value": static[0], "half_width": static[1]},
               "wall_s": {_name(r): float(load(out, r)["wall_s"]) for r in runs}}
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1, default=float) + "\n")
    atomic_write_text(out / "sweep_rate.csv", csv_text(result))
    figure(result, static, out / "17_sweep_rate.png")
    print("sweep time [s], ramp rate [V/s]: threshold [V] (largest step [s], change per step), coarse to fine")
    for r in result:
        parts = ", ".join(f"{v:.4f} ({c[0]:.3g}, {c[1]:g})" for c, v in zip(r["controls"], r["thresholds_V"]))
        print(f"  {r['sweep_time_s']:g} s, {r['rate_V_per_s']:.3g} V/s: {parts}")
    if static is not None:
        print(f"static threshold (lowest constant source voltage that sets within set_time_limit): "
              f"{static[0]:.4f} +- {static[1]:.4f} V")
    passed = True
    for r in result:
        ok = r["converged"]
        print(f"check the two finest controls agree at {r['sweep_time_s']:g} s: "
              f"{r['step_error_V'] / abs(r['threshold_V']) if math.isfinite(r['step_error_V']) else math.nan:.3g} "
              f"against {STEP_TARGET:g} -> {'ok' if ok else 'FAILED'}")
        passed = passed and ok
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
