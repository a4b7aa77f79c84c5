"""Study 11: the default cell's static hold from the ON state's lifetime, converged in the holds' time step.

Question: a volatile cell's hold is the lowest bias under which its ON state lasts.  Below it the neck thins until
the bridge ruptures, after a lifetime that grows with the bias; the hold is where that lifetime passes the time
the bias is held.  Does the model determine it, or does it move with the time step, as the holds read from the
sweep's falling ramp do (study 10)?

Steps
-----
1. Per largest time step in ``--steps`` (fractions of the 100 us hold, ``relax_duration``; default 1/80, 1/400,
   1/2000 and 1/6000), each in its own process, ``--jobs`` at a time: the default cell (fast preset) set at
   2.5 V from the pristine cell (the stage's set-time run at its highest voltage, under the 10 uA compliance),
   then, from that bridged state, each of ``--biases`` held until the bridge ruptures (gap > gap_rupture) or for
   the whole ``relax_duration``.  The set run and the holds take the same largest step (``max_step_fraction``
   and ``hold_step_fraction``).
2. Per step: the lifetime (time to the first rupture; its uncertainty the step in which the crossing lies) and
   the cell voltage while ON, per bias; the hold (the lowest bias held through the hold, bracketed by the bias
   below it), as the stage's ``hold_voltage_lifetime``.
3. Checks (exit status 1 when one fails), on the two finest steps:

   * the lifetimes at the biases where both rupture agree within :data:`LIFETIME_TARGET` (relative): at first
     order in the step their difference is 2/3 of the error of the coarser at 1/2000 against 1/6000;
   * their holds agree within their bracket (the bias spacing at the edge): the 100 us edge is resolved to it.

Outputs (``--out``, default results/study11): ``lifetime_<step>.npz`` per step (written atomically; ``--resume``
keeps them), ``lifetime.csv`` (per step and bias), ``summary.csv`` (per step: the hold, its bracket, wall time) and
``11_hold_lifetime.png``.

``--max-change`` runs every step with another ``max_concentration_change`` (the Ag fraction's largest change per
time step, 0.05 on the preset), the step control's other half.

Usage: python studies/11_hold_lifetime.py [--steps 0.0125 0.0025 0.0005 0.000166667] [--biases B ...]
       [--max-change X] [--jobs 2] [--resume] [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

STEPS = (0.0125, 0.0025, 0.0005, 0.000166667)  # largest steps [1] of the 100 us hold
BIASES = (0.0, 0.1, 0.15, 0.18, 0.19, 0.2, 0.21, 0.25)  # [V] source voltages held (the hold: near 0.2 V)
SET_VOLTAGE = 2.5  # [V] the stage's highest set voltage, whose bridged state the holds start from
LIFETIME_TARGET = 0.05  # relative agreement of the two finest steps' lifetimes below the hold


def spec_for(step: float, max_change: float | None = None):
    """The default FilamentSpec (fast preset) with the set run at :data:`SET_VOLTAGE` and largest step ``step`` of
    each drive, the holds' too; ``max_change`` its ``max_concentration_change`` (None: the preset's); no field
    snapshots."""
    from devicephys.filament.spec import FilamentSpec

    base = FilamentSpec.fast().model_dump()
    if max_change is not None:
        base["max_concentration_change"] = max_change
    return FilamentSpec(**{**base, "set_voltages": [SET_VOLTAGE - 0.5, SET_VOLTAGE], "max_step_fraction": step,
                           "hold_step_fraction": step, "field_snapshots": 0})


def _npz(out: Path, step: float) -> Path:
    return out / f"lifetime_{step:.6g}.npz"


def lifetimes(step: float, biases, progress: bool = False, max_change: float | None = None) -> dict[str, np.ndarray]:
    """Per bias: lifetime [s] (NaN: held through ``relax_duration``), its uncertainty [s], median cell voltage while
    ON [V], steps taken; plus the set time [s] and the bridged filament's radius [m]."""
    import dolfinx_solver  # noqa: F401  (MPI before DOLFINx)

    from devicephys.filament import extract
    from devicephys.filament import simulate as sim
    from devicephys.filament import stage

    spec = spec_for(step, max_change)
    model = sim.CellModel(spec)
    set_times, bridged, *_ = stage._set_runs(model, spec, model.state(), False)
    if bridged is None or bridged[0] != SET_VOLTAGE:
        raise SystemExit(f"the cell did not set at {SET_VOLTAGE:g} V within set_time_limit at step {step:g}")
    out = {name: np.full(len(biases), np.nan) for name in ("lifetime", "lifetime_uncertainty", "on_voltage", "steps")}
    for k, v in enumerate(biases):
        model.restore(bridged[1])
        bar = stage._bar(progress, spec.relax_duration, f"hold at {v:g} V, step {step:g}")
        try:
            trace = sim.run_drive(model, lambda t, v=v: v, spec.relax_duration, dt_max=spec.hold_step,
                                  dt_first=1e-12, progress=bar, stop=lambda s: s["gap"] > spec.gap_rupture)
        finally:
            if bar is not None:
                bar.close()
        t, g, volts = trace.array("time"), trace.array("gap"), trace.array("voltage")
        out["lifetime"][k] = extract.crossing_time(t, g, spec.gap_rupture)
        out["lifetime_uncertainty"][k] = extract.crossing_resolution(t, g, spec.gap_rupture)
        on = g < spec.gap_on
        out["on_voltage"][k] = float(np.median(np.abs(volts[on]))) if on.any() else math.nan
        out["steps"][k] = len(t) - 1
    out["set_time"] = np.array(set_times[-1])
    out["radius"] = np.array(bridged[2])
    return out


def run_one(step: float, biases, out: Path, progress: bool = False, max_change: float | None = None) -> Path:
    """One step's set run and holds, written atomically to ``out/lifetime_<step>.npz``."""
    from devicephys.io import write_npz

    start = time.perf_counter()
    data = lifetimes(step, biases, progress, max_change)
    meta = {"step": step, "biases": [float(b) for b in biases], "max_change": spec_for(step, max_change).max_concentration_change,
            "wall_s": time.perf_counter() - start}
    return write_npz(_npz(out, step), meta, data)


def run_all(steps, biases, jobs: int, out: Path, resume: bool, max_change: float | None = None) -> None:
    """Each step in its own process (``jobs`` at a time); ``resume`` keeps those already written."""
    from devicephys.workers import run_missing

    commands = {s: [sys.executable, str(Path(__file__).resolve()), "--one", repr(s), "--out", str(out),
                    "--biases", *map(repr, biases)] + (["--progress"] if jobs == 1 else [])
                + ([] if max_change is None else ["--max-change", repr(max_change)]) for s in steps}
    run_missing(commands, lambda s: _npz(out, s), jobs, resume, lambda s: f"step {s:g}")


def load(out: Path, step: float, biases, max_change: float | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """(data, meta) of one step; refuses a file written with other biases or another max_concentration_change."""
    from devicephys.io import read_npz

    path = _npz(out, step)
    data, meta = read_npz(path)
    want = spec_for(step, max_change).max_concentration_change
    if meta["biases"] != [float(b) for b in biases] or meta.get("max_change") != want:
        raise SystemExit(f"{path}: written with biases {meta['biases']} and max_concentration_change "
                         f"{meta.get('max_change')}, not {list(biases)} and {want:g}; run without --resume or with "
                         "another --out")
    return data, meta


def hold(biases, lifetime) -> tuple[float, float]:
    """(hold [V], bias tried below it [V]) of one step: the lowest bias held through the hold (lifetime NaN), and
    the next lower bias (where the ON state ruptured).  NaN where none is held or the lowest bias tried holds."""
    from devicephys.filament.extract import hold_window

    b = np.asarray(biases, float)
    low, _, below = hold_window(b, np.ones_like(b), np.isfinite(np.asarray(lifetime, float)).astype(int))
    if math.isfinite(low) and not math.isfinite(below):
        return math.nan, math.nan
    return low, below


def checks(biases, fine: dict[str, np.ndarray], finer: dict[str, np.ndarray]) -> dict[str, tuple[float, float, bool]]:
    """The two finest steps' checks: {name: (value, allowed, passed)}."""
    a, b = np.asarray(fine["lifetime"], float), np.asarray(finer["lifetime"], float)
    both = np.isfinite(a) & np.isfinite(b)
    rel = float(np.max(np.abs(a[both] - b[both]) / b[both])) if both.any() else math.nan
    (h1, lo1), (h2, lo2) = hold(biases, a), hold(biases, b)
    found = all(math.isfinite(x) for x in (h1, lo1, h2, lo2))
    diff, bracket = (abs(h1 - h2), max(h1 - lo1, h2 - lo2)) if found else (math.nan, math.nan)
    return {"lifetime_agrees": (rel, LIFETIME_TARGET, bool(math.isfinite(rel) and rel <= LIFETIME_TARGET)),
            "hold_agrees": (diff, bracket, bool(found and diff <= bracket * (1 + 1e-9)))}


def figure(biases, rows: dict[float, dict[str, np.ndarray]], duration: float, path: Path):
    """Lifetime against bias per step; biases held through the hold drawn as triangles at its end."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from devicephys.io import save_figure

    fig, ax = plt.subplots(figsize=(6.5, 4.4))
    b = np.asarray(biases, float)
    for k, (step, row) in enumerate(sorted(rows.items(), reverse=True)):
        life = np.asarray(row["lifetime"], float)
        h, lo = hold(biases, life)
        label = f"largest step {step:g} of the hold" + (f": hold {lo:g}-{h:g} V" if math.isfinite(h + lo) else "")
        ax.plot(b, life * 1e6, "o-", ms=4, lw=0.9, color=f"C{k}", label=label)
        held = ~np.isfinite(life)
        ax.plot(b[held], np.full(held.sum(), duration * 1e6 * (1 + 0.02 * k)), "^", ms=7, color=f"C{k}")  # apart
    ax.axhline(duration * 1e6, color="0.5", lw=0.8, ls=":")
    ax.set(xlabel="source voltage held on the filament bridged at 2.5 V [V]",
           ylabel="ON lifetime (first rupture) [µs]", ylim=(0, duration * 1e6 * (1.04 + 0.02 * len(rows))),
           title=f"ON lifetime under bias (^: held for all {duration * 1e6:.3g} µs)")
    ax.legend(fontsize=8, loc="center left")
    fig.tight_layout()
    return save_figure(fig, path, close=True)


def main(argv: list[str] | None = None) -> int:
    from devicephys.io import atomic_write_text, writable_folder
    from devicephys.workers import report_checks

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=float, nargs="+", default=list(STEPS),
                   help="largest time steps as fractions of the 100 us hold (at least two, each in (0, 0.5])")
    p.add_argument("--biases", type=float, nargs="+", default=list(BIASES),
                   help=f"source voltages [V] held (at least two, each in [0, {SET_VOLTAGE:g}))")
    p.add_argument("--max-change", type=float, default=None,
                   help="max_concentration_change of every run (the Ag fraction's largest change per step; default: "
                        "the preset's 0.05)")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="steps run at once (default: 2); with 1, each shows its progress bars")
    p.add_argument("--resume", action="store_true", help="keep the runs already written to --out")
    p.add_argument("--one", type=float, default=None, help=argparse.SUPPRESS)  # one step, in a worker process
    p.add_argument("--progress", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", default="results/study11", help="output folder")
    args = p.parse_args(argv)
    steps = sorted(set(args.steps), reverse=True)
    if args.one is None and (len(steps) < 2 or any(not (0 < s <= 0.5) for s in steps)):
        p.error(f"--steps {args.steps}: give at least two different values, each in (0, 0.5], e.g. 0.0005 0.000166667")
    if len(set(args.biases)) < 2 or any(not (0 <= b < SET_VOLTAGE) for b in args.biases):
        p.error(f"--biases {args.biases}: give at least two, each in [0, {SET_VOLTAGE:g}) V, e.g. 0.15 0.2 0.25")
    if args.jobs < 1:
        p.error(f"--jobs {args.jobs}: must be at least 1")
    if args.max_change is not None and not 0 < args.max_change <= 0.5:
        p.error(f"--max-change {args.max_change}: must be in (0, 0.5], e.g. 0.01")
    biases = sorted(set(args.biases))
    out = writable_folder(args.out)
    if args.one is not None:
        run_one(args.one, biases, out, args.progress, args.max_change)
        return 0
    run_all(steps, biases, args.jobs, out, args.resume, args.max_change)
    rows, lines, summary = {}, [], []
    lines.append("step,bias [V],lifetime [s],lifetime uncertainty [s],cell voltage while ON [V],steps")
    summary.append("step,hold [V],bias below it [V],set time [s],bridged radius [m],wall_s")
    duration = spec_for(steps[0]).relax_duration
    for step in steps:
        data, meta = load(out, step, biases, args.max_change)
        rows[step] = data
        h, lo = hold(biases, data["lifetime"])
        for k, b in enumerate(biases):
            lines.append(f"{step:g},{b:g},{data['lifetime'][k]:.6g},{data['lifetime_uncertainty'][k]:.3g},"
                         f"{data['on_voltage'][k]:.6g},{int(data['steps'][k])}")
        summary.append(f"{step:g},{h:.6g},{lo:.6g},{float(data['set_time']):.6g},{float(data['radius']):.6g},"
                       f"{meta['wall_s']:.1f}")
        print(f"largest step {step:g} of the hold ({meta['wall_s']:.0f} s): lifetimes [us] "
              + "; ".join(f"{b:g} V: " + (f"{t * 1e6:.3g}" if math.isfinite(t) else "held")
                          for b, t in zip(biases, data["lifetime"]))
              + (f"; hold between {lo:g} and {h:g} V" if math.isfinite(h + lo) else "; hold not bracketed"))
    atomic_write_text(out / "lifetime.csv", "\n".join(lines) + "\n")
    atomic_write_text(out / "summary.csv", "\n".join(summary) + "\n")
    figure(biases, rows, duration, out / "11_hold_lifetime.png")
    return report_checks(checks(biases, rows[steps[-2]], rows[steps[-1]]), f"steps {steps[-2]:g} and {steps[-1]:g}")


if __name__ == "__main__":
    sys.exit(main())
