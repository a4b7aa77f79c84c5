"""Study 09: which of the sweep's extracted numbers are converged in the Newton tolerance.

Question: the default cell's sweep is converged in its step floor (2e-5 of the drive gives the same samples
as 2e-6).  Is it also converged in the tolerance of the electrothermal Newton solves
(``newton_rtol``, 1e-6 by default)?  A number that is converged moves by less than its own stated
uncertainty when the tolerance is lowered a hundredfold; one that moves by more is set by the path the
solver's round-off takes, and its stated uncertainty must say so.

Steps
-----
1. The filament stage's DC sweep (the default cell, fast preset unless ``--full``: the triangle of
   ``sweep_voltage`` over ``sweep_time`` behind the 10 uA compliance, with the stage's own step control) at
   each of ``--tolerances`` (default 1e-6, 1e-7, 1e-8), each in its own process, ``--jobs`` at a time.
2. The numbers the stage extracts from a sweep (``devicephys.filament.extract``, the same functions), side by
   side: threshold and hold voltages with their sampling steps, R_on and R_off with their spreads, the peak
   temperature, the changes between ON and OFF.
3. Each number's spread across the tolerances against the uncertainty the stage states for it.  Checks
   (exit status 1 when one fails), the numbers claimed converged (:data:`CHECKED`):

   * the threshold moves by less than its sampling step (``threshold_resolution``: the switch lies in it);
   * R_on moves by less than its spread (half the interquartile range of V/I over the ON samples).

   The hold voltage, R_off, the peak temperature and the number of changes are reported with their spread
   and whether it is within their stated uncertainty, not checked: the trajectories part where the compliance
   regulates the neck, and the hold is read at a release that flickers (see docs/filament.md).

``--hold-biases B ...`` adds the stage's hold-window study (``sweep_hold_biases``) to each run: from the sweep's state
where its falling ramp passes each source voltage B [V], B held for ``relax_duration`` (100 us).  Its low edge
``hold_window_low`` (the lowest bias that holds the ON state, stated to the distance to the bias tried below it) and
the static hold voltage ``hold_voltage_static`` (the cell voltage held there) are compared as above; the low edge
is then checked too (across the tolerances; the held cell voltage, 0.20-0.30 V over three tolerances, three
largest steps and both presets' meshes, is steadier than the sweep's hold but not converged in the step: see docs/filament.md).

``--max-step-fraction`` runs every sweep with another largest step (a fraction of the sweep; the fast preset's is
1/80), to see whether a finer sampling of the drive makes the release converge in the tolerance (at 1/400 it does,
and the sweep no longer releases before its end: the release moves with the step too, see docs/filament.md).

``--neck-drive threshold`` runs the cell with the neck's former all-or-nothing drive (the documentation's figures of this
study were measured with it; the default is the smooth drive).

Usage: python studies/09_solver_tolerance.py [--full] [--tolerances 1e-6 1e-7 1e-8] [--max-step-fraction F]
       [--hold-biases B ...] [--neck-drive {threshold,smooth}] [--jobs 2] [--resume] [--out DIR]
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

#: The numbers compared, with their unit and the key of their stated uncertainty (None: reported only).
NUMBERS = (("threshold_voltage", "V", "threshold_resolution"), ("hold_voltage", "V", "hold_resolution"),
           ("resistance_on", "Ohm", "resistance_on_spread"), ("resistance_off", "Ohm", "resistance_off_spread"),
           ("temperature_peak", "K", None), ("changes", "1", None), ("changes_after_peak", "1", None))
#: The numbers the stage's uncertainties claim converged in the tolerance: the set of the pristine cell and the ON
#: state's resistance under the compliance.  The others are reported with their spread.
CHECKED = ("threshold_voltage", "resistance_on")
#: With ``--hold-biases``: the hold window's numbers (value [V], stated uncertainty key).  Its low edge is checked.
HOLD_NUMBERS = (("hold_window_low", "V", "hold_window_low_resolution"), ("hold_voltage_static", "V", None))


def spec_for(full: bool, rtol: float, max_step_fraction: float | None = None, hold_biases: list[float] = (),
             neck: str | None = None):
    """The default FilamentSpec (fast preset unless ``full``) at Newton tolerance ``rtol``, no field snapshots;
    ``max_step_fraction`` replaces the preset's largest step (a fraction of the sweep) when given,
    ``hold_biases`` [V] are its ``sweep_hold_biases`` and ``neck`` its ``neck_drive`` (None: the default's)."""
    from devicephys.filament.spec import FilamentSpec

    base = (FilamentSpec() if full else FilamentSpec.fast()).model_dump()
    if max_step_fraction is not None:
        base["max_step_fraction"] = max_step_fraction
    base["sweep_hold_biases"] = sorted(float(b) for b in hold_biases)
    if neck is not None:
        base["neck_drive"] = neck
    return FilamentSpec(**{**base, "newton_rtol": rtol, "field_snapshots": 0})


def sweep(spec, progress: bool = False) -> tuple[dict[str, np.ndarray], dict]:
    """The stage's main drive (``drive: sweep``) on a fresh cell, and its hold-window study when the spec has
    ``sweep_hold_biases``: (trace arrays, with the study's per-bias runs as ``hold_<name>``; solver statistics,
    with the study's scalars under ``hold``).  ``progress``: a progress bar per drive (the sweep, each hold)."""
    import dolfinx_solver  # noqa: F401  (MPI before DOLFINx)

    from devicephys.filament import simulate as sim
    from devicephys.filament.stage import sweep_hold_window

    if spec.drive != "sweep" or spec.resolve_set:
        raise SystemExit("study 09 compares the stage's plain sweep (drive: sweep, resolve_set: false)")
    model = sim.CellModel(spec)
    start = time.perf_counter()
    hold = {}
    if spec.sweep_hold_biases:
        trace, runs, scalars = sweep_hold_window(model, spec, progress)
        hold = {"biases": list(spec.sweep_hold_biases), **{k: list(v) for k, v in scalars.items()}}
        extra = {f"hold_{name}": values for name, values in runs.items()}
    else:
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=spec.sweep_time, desc=f"sweep at newton_rtol {spec.newton_rtol:g}", unit="s",
                       unit_scale=True, bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}")
        try:
            trace, extra = sim.run_sweep(model, progress=bar), {}
        finally:
            if bar is not None:
                bar.close()
    stats = {**model.et.stats, "rejected_steps": model.rejected_steps, "forced_steps": model.forced_steps,
             "wall_s": time.perf_counter() - start, "hold": hold, "neck": spec.neck_drive}
    return {**{name: trace.array(name) for name in trace.data}, **extra}, stats


def numbers(spec, tr: dict[str, np.ndarray], hold: dict | None = None) -> dict[str, float]:
    """The sweep's extracted numbers (the stage's functions) with their stated uncertainties; with ``hold`` (the
    hold-window scalars of :func:`sweep`) the hold window's too."""
    from devicephys.filament import extract

    v, i, g, src = tr["voltage"], tr["current"], tr["gap"], tr["source_voltage"]
    on_a, off_a = spec.gap_on, spec.gap_rupture
    r_on, r_off = extract.on_off_resistance(v, i, g, on_a, off_a)
    s_on, s_off = extract.on_off_spread(v, i, g, on_a, off_a)
    on = g < on_a
    peak = int(np.argmax(src))
    window = {}
    if hold:
        low, bracket = hold["hold_window_low"]
        window = {"hold_window_low": low, "hold_window_low_resolution": bracket,
                  "hold_voltage_static": hold["hold_voltage_static"][0]}
    return {**window, "threshold_voltage": extract.threshold_voltage(v, g, on_a),
            "threshold_resolution": extract.threshold_resolution(src, g, on_a),
            "hold_voltage": extract.hold_voltage(v, g, src, on_a, off_a),
            "hold_resolution": extract.hold_resolution(src, g, on_a, off_a),
            "resistance_on": r_on, "resistance_on_spread": s_on,
            "resistance_off": r_off, "resistance_off_spread": s_off,
            "temperature_peak": float(np.max(tr["temperature_max"])),
            "changes": float(np.count_nonzero(np.diff(on.astype(int)))),
            "changes_after_peak": float(np.count_nonzero(np.diff(on[peak:].astype(int))))}


def _npz(out: Path, rtol: float, hold_biases) -> Path:
    return out / (f"sweep_{rtol:.0e}" + ("_hold" if hold_biases else "") + ".npz")


def run_one(full: bool, rtol: float, out: Path, max_step_fraction: float | None = None, hold_biases=(),
            progress: bool = False, neck: str | None = None) -> Path:
    """One sweep at ``rtol`` (and its hold window at ``hold_biases``), written atomically to ``out/sweep_<rtol>.npz``
    (``sweep_<rtol>_hold.npz`` with a hold window) with its statistics (JSON inside)."""
    from devicephys.io import atomic_write_bytes

    spec = spec_for(full, rtol, max_step_fraction, hold_biases, neck)
    tr, stats = sweep(spec, progress)
    import io

    buf = io.BytesIO()
    np.savez(buf, stats=json.dumps(stats), **tr)
    path = _npz(out, rtol, hold_biases)
    atomic_write_bytes(path, buf.getvalue())
    return path


def run_all(full: bool, tolerances: list[float], jobs: int, out: Path, resume: bool = False,
            max_step_fraction: float | None = None, hold_biases=(), neck: str | None = None) -> dict[float, Path]:
    """Each tolerance's sweep in its own process (``jobs`` at a time); {rtol: npz path}.

    ``resume``: a sweep already written to ``out`` (by an interrupted or earlier run) is kept, not run again.
    """
    from devicephys.workers import run_processes

    done = {t: _npz(out, t, hold_biases) for t in tolerances if resume and _npz(out, t, hold_biases).is_file()}
    for rtol in done:
        print(f"sweep at newton_rtol {rtol:g}: kept from {done[rtol].name}", flush=True)
    extra = ((["--full"] if full else []) + ([] if max_step_fraction is None
                                              else ["--max-step-fraction", repr(max_step_fraction)])
             + (["--hold-biases", *map(repr, hold_biases)] if hold_biases else [])
             + ([] if neck is None else ["--neck-drive", neck])
             # one run at a time: its progress bars (two processes' bars would overwrite each other)
             + (["--progress"] if jobs == 1 else []))
    commands = {t: [sys.executable, str(Path(__file__).resolve()), "--one", repr(t), "--out", str(out), *extra]
                for t in tolerances if t not in done}
    run_processes(commands, jobs, lambda t: f"the sweep at newton_rtol {t:g}")
    return {t: _npz(out, t, hold_biases) for t in tolerances}


def spreads(rows: dict[float, dict[str, float]]) -> dict[str, tuple[float, float, bool]]:
    """(spread across the tolerances, stated uncertainty at the loosest, spread within it) of each number.

    The spread is max − min over the tolerances (NaN if a value is not finite); the stated uncertainty is the
    one the stage gives the number (NaN for those without one: the peak temperature, the counts).  A spread of
    zero (the same value at every tolerance) is within any.
    """
    loosest = rows[max(rows)]
    out = {}
    for name, _, err in NUMBERS + (HOLD_NUMBERS if "hold_window_low" in loosest else ()):
        values = np.array([r[name] for r in rows.values()])
        spread = float(np.max(values) - np.min(values)) if np.all(np.isfinite(values)) else math.nan
        stated = loosest[err] if err is not None else math.nan
        out[name] = (spread, stated, bool(spread == 0.0 or (math.isfinite(spread) and spread <= stated)))
    return out


def analyse(rows: dict[float, dict[str, float]]) -> dict[str, tuple[float, float, bool]]:
    """The checks: (spread, allowed, passed) of the numbers claimed converged in the tolerance (:data:`CHECKED`)."""
    found = spreads(rows)
    checked = CHECKED + (("hold_window_low",) if "hold_window_low" in found else ())
    return {f"{name}_within_its_stated_uncertainty": found[name] for name in checked}


def hold_table(spec, tols: list[float], traces: dict[float, dict[str, np.ndarray]], path: Path) -> None:
    """Per tolerance and bias, the hold-window study's runs: printed and written atomically to ``path`` (CSV)."""
    from devicephys.io import atomic_write_text

    cols = (("start_on", "1"), ("ruptures", "1"), ("rupture_time", "s"), ("on_fraction", "1"), ("on_voltage", "V"))
    lines = ["newton_rtol,bias [V]," + ",".join(f"{c} [{u}]" for c, u in cols)]
    print("hold window (from the sweep's falling ramp, each bias held "
          f"{spec.relax_duration:g} s): bias [V]: ON at the start, ruptures, share of the hold ON")
    for rtol in tols:
        tr = traces[rtol]
        cells = []
        for k, bias in enumerate(spec.sweep_hold_biases):
            lines.append(f"{rtol:g},{bias:g}," + ",".join(f"{tr['hold_' + c][k]:.6g}" for c, _ in cols))
            cells.append(f"{bias:g}: {int(tr['hold_start_on'][k])}, {int(tr['hold_ruptures'][k])}, "
                         f"{tr['hold_on_fraction'][k]:.2f}")
        print(f"  newton_rtol {rtol:g}: " + "; ".join(cells))
    atomic_write_text(path, "\n".join(lines) + "\n")


def figure(spec, traces: dict[float, dict[str, np.ndarray]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from devicephys.io import save_figure

    hold = bool(spec.sweep_hold_biases)
    fig, axes = plt.subplots(1, 3 if hold else 2, figsize=(17 if hold else 12, 4.4))
    a, b = axes[:2]
    for k, (rtol, tr) in enumerate(sorted(traces.items(), reverse=True)):
        v, i, src, g = tr["voltage"], np.abs(tr["current"]), tr["source_voltage"], tr["gap"]
        a.semilogy(v, np.maximum(i, 1e-22), ".", ms=2, color=f"C{k}", label=f"newton_rtol {rtol:g}")
        falling = np.arange(src.size) > int(np.argmax(src))
        b.plot(src[falling], g[falling] * 1e9, ".-", ms=3, lw=0.6, color=f"C{k}", label=f"newton_rtol {rtol:g}")
    a.axhline(spec.compliance_current, color="0.6", lw=0.8, ls="--", label="compliance")
    a.set(xlabel="cell voltage [V]", ylabel="|current| [A]", title="I–V at each Newton tolerance")
    a.legend(fontsize=8)
    b.axhline(spec.gap_on * 1e9, color="0.6", lw=0.8, ls="--", label="gap_on")
    b.axhline(spec.gap_rupture * 1e9, color="0.3", lw=0.8, ls=":", label="gap_rupture")
    b.set(xlim=(0.0, 0.5), ylim=(-0.2, 8.0), xlabel="source voltage, falling ramp [V]", ylabel="gap [nm]",
          title="the release")
    b.legend(fontsize=8)
    if hold:
        c = axes[2]
        biases = np.asarray(spec.sweep_hold_biases, float)
        for k, (rtol, tr) in enumerate(sorted(traces.items(), reverse=True)):
            held = (tr["hold_start_on"] > 0) & (tr["hold_ruptures"] == 0)
            c.plot(biases, tr["hold_on_fraction"], "o-", ms=4, lw=0.8, color=f"C{k}", label=f"newton_rtol {rtol:g}")
            c.plot(biases[held], tr["hold_on_voltage"][held], "s", ms=6, mfc="none", color=f"C{k}")
        c.set(xlabel="source voltage held [V]", ylabel="share of the hold ON [1]; squares: cell voltage [V]",
              title=f"hold window ({spec.relax_duration * 1e6:g} µs each)", ylim=(-0.05, 1.05))
        c.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    from devicephys.io import atomic_write_text, writable_folder

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help="the full preset (default: fast)")
    p.add_argument("--tolerances", type=float, nargs="+", default=[1e-6, 1e-7, 1e-8],
                   help="Newton relative tolerances to compare (at least two, each in (0, 1e-3])")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="sweeps run at once (default: 2); with 1, each shows its progress bars")
    p.add_argument("--max-step-fraction", type=float, default=None,
                   help="largest time step as a fraction of the sweep, for every run (default: the preset's)")
    p.add_argument("--hold-biases", type=float, nargs="+", default=[],
                   help="source voltages [V] of the hold-window study added to each run (each in [0, sweep_voltage))")
    p.add_argument("--neck-drive", choices=("threshold", "smooth"), default=None,
                   help="the filament's neck_drive (default: the default cell's, smooth)")
    p.add_argument("--resume", action="store_true",
                   help="keep the sweeps already written to --out (same preset and --max-step-fraction)")
    p.add_argument("--one", type=float, default=None, help=argparse.SUPPRESS)  # one sweep, in a worker process
    p.add_argument("--progress", action="store_true", help=argparse.SUPPRESS)  # the worker's progress bars
    p.add_argument("--out", default="results/study09", help="output folder")
    args = p.parse_args(argv)
    tols = sorted(set(args.tolerances), reverse=True)
    if len(tols) < 2 or any(not (0 < x <= 1e-3) for x in tols):
        p.error(f"--tolerances {args.tolerances}: give at least two different values, each in (0, 1e-3], e.g. 1e-6 1e-8")
    if args.max_step_fraction is not None and not (0 < args.max_step_fraction <= 0.5):
        p.error(f"--max-step-fraction {args.max_step_fraction}: must be in (0, 0.5], e.g. 0.0025")
    if args.jobs < 1:
        p.error(f"--jobs {args.jobs}: must be at least 1")
    from devicephys.filament.spec import FilamentSpec

    top = (FilamentSpec() if args.full else FilamentSpec.fast()).sweep_voltage
    if any(not (0 <= b < top) for b in args.hold_biases):
        p.error(f"--hold-biases {args.hold_biases}: each must lie in [0, {top:g}) V (the sweep's falling ramp), "
                "e.g. 0.2 0.3 0.4 0.5")
    out = writable_folder(args.out)
    if args.one is not None:
        run_one(args.full, args.one, out, args.max_step_fraction, args.hold_biases, args.progress, args.neck_drive)
        return 0
    paths = run_all(args.full, tols, args.jobs, out, args.resume, args.max_step_fraction, args.hold_biases,
                    args.neck_drive)
    spec = spec_for(args.full, tols[0], args.max_step_fraction, args.hold_biases, args.neck_drive)
    print(f"largest step {spec.max_step_fraction:g} of the sweep ({spec.max_step_fraction * spec.sweep_time:.3g} s)")
    traces, stats, rows = {}, {}, {}
    for rtol in tols:
        with np.load(paths[rtol]) as data:
            traces[rtol] = {k: data[k] for k in data.files if k != "stats"}
            stats[rtol] = json.loads(str(data["stats"]))
        hold = stats[rtol].get("hold") or {}
        if sorted(hold.get("biases", [])) != spec.sweep_hold_biases:
            raise SystemExit(f"{paths[rtol]}: its hold biases {hold.get('biases', [])} are not --hold-biases "
                             f"{spec.sweep_hold_biases}; run without --resume or with another --out")
        if stats[rtol].get("neck", "threshold") != spec.neck_drive:
            raise SystemExit(f"{paths[rtol]}: written with neck_drive {stats[rtol].get('neck', 'threshold')}, not "
                             f"{spec.neck_drive}; run without --resume or with another --out")
        rows[rtol] = numbers(spec, traces[rtol], hold)
    listed = NUMBERS + (HOLD_NUMBERS if spec.sweep_hold_biases else ())
    names = [n for n, _, _ in listed]
    lines = ["newton_rtol," + ",".join(f"{n} [{u}]" for n, u, _ in listed)
             + ",threshold_resolution [V],hold_resolution [V],resistance_on_spread [Ohm],newton_iterations,"
               "newton_iterations_failed,wall_s"]
    for rtol in tols:
        r, s = rows[rtol], stats[rtol]
        lines.append(f"{rtol:g}," + ",".join(f"{r[n]:.6g}" for n in names)
                     + f",{r['threshold_resolution']:.3g},{r['hold_resolution']:.3g},{r['resistance_on_spread']:.4g},"
                       f"{s['newton_iterations']},{s.get('newton_iterations_failed', '')},{s['wall_s']:.1f}")
    atomic_write_text(out / "solver_tolerance.csv", "\n".join(lines) + "\n")
    if spec.sweep_hold_biases:
        hold_table(spec, tols, traces, out / "hold_window.csv")
    found = spreads(rows)
    for name, unit, err in listed:
        spread, stated, within = found[name]
        verdict = "" if err is None else (f"; stated uncertainty {stated:.3g} {unit}: "
                                          + ("within it" if within else "NOT within it"))
        print(f"{name} [{unit}]: " + ", ".join(f"{rows[t][name]:.6g}" for t in tols) + f" (spread {spread:.3g}{verdict})")
    figure(spec, traces, out / "09_solver_tolerance.png")
    ok = True
    for name, (spread, limit, passed) in analyse(rows).items():
        ok &= passed
        print(f"check {name}: spread {spread:.4g}, allowed {limit:.4g} -> {'ok' if passed else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
