"""Study 16: the gap the default cell keeps after a millisecond at zero bias, with the return's diffusion.

Question: with the dissolved Ag's return as the drift-diffusion of its hopping (``dissolved_return_diffusion``; the
drift alone leaves the pool in place at zero field and the channel empties in 39 us), where does the dissolution
stop, is that a number of the model or of the time step, and does the gap it leaves hold the OFF state (a gap that
tunnels at 1e11-1e14 Ohm: 1.5-2 nm on the default cell, docs/filament.md "The OFF state as the gap opens")?

Steps
-----
1. Per step control (``--controls``, each in its own process, ``--jobs`` at a time): the default cell (fast
   preset's mesh) with ``dissolved_return_diffusion``, set at 2.5 V (stopped at the set), held at 2.5 V for
   ``relax_hold`` (2 us), then relaxed at zero bias for ``--duration`` (1 ms); the gap against time, the fractions
   on the axis at the end (metal c_m, ions c_i, pool c_s) and the relaxed cell read at ``read_voltage`` with its
   silver frozen.  Controls: (the Ag fraction's largest change per step, the largest step as a fraction of each
   drive) ``preset`` (0.05, 1/80), ``fine`` (0.01, 1/400), ``finer`` (0.0025, 1/2000) and, with ``--controls``,
   ``finest`` (0.000625, 1/10000).
2. Per control: the residual gap, the median of the gap over the relaxation's last fifth, and its range there.
3. Checks on the two finest controls run (exit status 1 when one fails):

   * step: their residual gaps agree within one axial element of the mesh (the gap is read on the axis nodes,
     so it resolves no finer; :data:`GAP_TARGET_ELEMENTS`);
   * settled: on the finest, the gap over the last fifth stays within one axial element;
   * balance: on the finest, each metallic node's pool against the zero-field balance of its return and its
     dissolution, c_s = (k_d / k_0) c_m / (c_m + eps) (1 + k_0 dt), k_0 = D / l^2, dt the last step (the split
     step's fixed point, tests/filament/test_filament_return_diffusion.py): within :data:`BALANCE_TARGET`.

With ``--electrode-equilibrium`` every run has ``active_electrode_equilibrium`` too: the active electrode at rest
holds the flat metal's equilibrium ion fraction instead of none (its files carry ``_rest``); over ``--duration 0.1``
this asks whether the stump's drain onto the active electrode is an artefact of an electrode that holds no ions.

Outputs (``--out``, default results/study16): ``residual_<control>.npz`` per control (written atomically;
``--resume`` keeps them), ``residual.csv`` (with the time from which each run's channel stays empty) and
``16_residual_gap.png`` (with the other electrode premise's runs dashed where ``--out`` holds them for the same
controls and duration).

Usage: python studies/16_residual_gap.py [--duration 1e-3] [--controls preset fine finer] [--jobs 2] [--resume]
       [--electrode-equilibrium] [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

#: Step controls: (max_concentration_change, max_step_fraction) of every drive.
CONTROLS = {"preset": (0.05, 0.0125), "fine": (0.01, 0.0025), "finer": (0.0025, 0.0005), "finest": (0.000625, 0.0001)}
GAP_TARGET_ELEMENTS = 1.0  # [axial elements] agreement of the two finest controls' residual gaps, and the settling
BALANCE_TARGET = 0.05  # relative: the stump's pool against its zero-field balance (its net dissolution < 5 % of k_d)
SET_VOLTAGE = 2.5  # [V]
LAST = 0.2  # the relaxation's last fifth


def spec_for(control: str, rest: bool = False):
    """The default FilamentSpec (fast preset) with the return's diffusion in ``control``'s step control; ``rest``:
    with ``active_electrode_equilibrium`` too."""
    from devicephys.filament.spec import FilamentSpec

    change, step = CONTROLS[control]
    return FilamentSpec(**{**FilamentSpec.fast().model_dump(), "dissolved_return_diffusion": True,
                           "active_electrode_equilibrium": rest,
                           "max_concentration_change": change, "max_step_fraction": step, "field_snapshots": 0})


def _npz(out: Path, control: str, rest: bool = False) -> Path:
    return out / f"residual_{control}{'_rest' if rest else ''}.npz"


def run_one(control: str, duration: float, out: Path, progress: bool = False, rest: bool = False) -> Path:
    """One control's set, hold and relaxation, written atomically to ``out/residual_<control>[_rest].npz``."""
    import dolfinx_solver  # noqa: F401  (MPI before DOLFINx)

    from devicephys.filament import simulate as sim
    from devicephys.filament import stage
    from devicephys.io import write_npz

    start = time.perf_counter()
    spec = spec_for(control, rest)
    model = sim.CellModel(spec)
    stage._constant_set(model, spec, SET_VOLTAGE, f"{control}: set at {SET_VOLTAGE:g} V", progress)
    if model.gap() >= spec.gap_on:
        raise SystemExit(f"control {control}: the cell did not set at {SET_VOLTAGE:g} V within set_time_limit")
    sim.run_drive(model, lambda t: SET_VOLTAGE, spec.relax_hold, dt_max=spec.relax_hold * spec.max_step_fraction)
    bar = stage._bar(progress, duration, f"{control}: relaxation")
    try:
        relax = sim.run_drive(model, lambda t: 0.0, duration, dt_max=duration * spec.max_step_fraction,
                              dt_first=1e-12, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    t = relax.array("time")
    voltage, current = stage._read(model, spec) if model.gap() > spec.gap_rupture else (math.nan, math.nan)
    law = model.transport.law
    pool = model.c_s if model.c_s.ndim == 1 else model.c_s.sum(axis=1)
    meta = {"control": control, "duration": duration, "settings": CONTROLS[control], "electrode_equilibrium": rest,
            "wall_s": time.perf_counter() - start}
    arrays = dict(time=t - t[0], gap=relax.array("gap"), z=model.transport.z, metal=model.c, ions=model.c_i,
                  pool=pool, last_step=t[-1] - t[-2],
                  dissolution_rate=float(law.dissolution_rate(spec.ambient_temperature)),
                  return_rate=float(law.return_rate(np.zeros(1), spec.ambient_temperature)[0]),
                  read_voltage=voltage, read_current=current)
    return write_npz(_npz(out, control, rest), meta, arrays)


def run_all(controls, duration: float, jobs: int, out: Path, resume: bool, rest: bool = False) -> None:
    """Each control in its own process (``jobs`` at a time); ``resume`` keeps those already written."""
    from devicephys.workers import run_missing

    commands = {c: [sys.executable, str(Path(__file__).resolve()), "--one", c, "--out", str(out),
                    "--duration", repr(duration)] + (["--progress"] if jobs == 1 else [])
                + (["--electrode-equilibrium"] if rest else []) for c in controls}
    run_missing(commands, lambda c: _npz(out, c, rest), jobs, resume, lambda c: f"control {c}")


def load(out: Path, control: str, duration: float, rest: bool = False) -> dict:
    """One control's run; refuses a file written with another duration or settings."""
    from devicephys.io import read_npz

    path = _npz(out, control, rest)
    data, meta = read_npz(path)
    if meta["duration"] != duration or list(meta["settings"]) != list(CONTROLS[control]):
        raise SystemExit(f"{path}: written with duration {meta['duration']} s and settings {meta['settings']}, "
                         f"not {duration} s and {CONTROLS[control]}; run without --resume or with another --out")
    return data


def emptied(row: dict, length: float) -> float:
    """Time [s] after the bias is removed from which the gap spans the whole channel ``length`` [m] for good (to a
    thousandth of it; a stump that regrows after a first emptying counts; NaN if the channel holds metal at the
    end)."""
    t, gap = np.asarray(row["time"], float), np.asarray(row["gap"], float)
    short = np.flatnonzero(gap < length * (1.0 - 1e-3))
    if short.size and short[-1] == t.size - 1:
        return math.nan
    return float(t[short[-1] + 1]) if short.size else float(t[0])


def _empty(row: dict, length: float) -> str:
    """The legend's note of when the channel emptied for good ('' while it holds metal)."""
    t = emptied(row, length)
    return f", empty from {t * 1e3:.3g} ms" if math.isfinite(t) else ""


def residual(row: dict) -> tuple[float, float, float]:
    """(median, min, max) [m] of the gap over the relaxation's last fifth."""
    t, gap = np.asarray(row["time"], float), np.asarray(row["gap"], float)
    last = gap[t >= (1.0 - LAST) * t[-1]]
    return float(np.median(last)), float(last.min()), float(last.max())


def balance(row: dict, c_p: float) -> np.ndarray:
    """Each metallic node's pool over its zero-field balance (k_d/k_0) c_m/(c_m + eps) (1 + k_0 dt), minus 1."""
    from devicephys.filament import kinetics

    metal, pool = np.asarray(row["metal"], float), np.asarray(row["pool"], float)
    k_d, k_0, dt = float(row["dissolution_rate"]), float(row["return_rate"]), float(row["last_step"])
    on = metal >= c_p
    expected = k_d / k_0 * metal[on] / (metal[on] + kinetics._EPS) * (1.0 + k_0 * dt)
    return pool[on] / expected - 1.0


def element(row: dict) -> float:
    """The axial element [m] of the channel's nodes (their largest spacing)."""
    return float(np.max(np.diff(np.asarray(row["z"], float))))


def checks(rows: dict[str, dict], c_p: float) -> dict[str, tuple[float, float, bool]]:
    """{name: (value, allowed, passed)} on the two finest controls in ``rows`` (ordered coarse to fine)."""
    coarse, finest = list(rows)[-2:]
    h = element(rows[finest])
    step = abs(residual(rows[coarse])[0] - residual(rows[finest])[0]) / h
    _, low, high = residual(rows[finest])
    settled = (high - low) / h
    off = balance(rows[finest], c_p)
    worst = float(np.max(np.abs(off))) if off.size else math.nan
    return {"step": (step, GAP_TARGET_ELEMENTS, bool(step <= GAP_TARGET_ELEMENTS)),
            "settled": (settled, GAP_TARGET_ELEMENTS, bool(settled <= GAP_TARGET_ELEMENTS)),
            "balance": (worst, BALANCE_TARGET, bool(math.isfinite(worst) and worst <= BALANCE_TARGET))}


def figure(rows: dict[str, dict], c_p: float, thickness: float, path: Path, reference: dict[str, dict] | None = None,
           rest: bool = False):
    """The gap against time after the bias is removed, per control; the fractions on the axis at the end.
    ``reference``: the other electrode premise's runs of the same controls, drawn dashed; ``rest``: ``rows`` are the
    runs with the active electrode at rest (``--electrode-equilibrium``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from devicephys.io import save_figure

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4.2))
    # a run of 10 ms or more is about the drain: linear time in ms; a shorter one about the rupture: log time in us
    long = max(float(np.asarray(row["time"], float)[-1]) for row in rows.values()) >= 1e-2
    plot, scale, unit = (ax.plot, 1e3, "ms") if long else (ax.semilogx, 1e6, "µs")
    for k, (control, row) in enumerate(rows.items()):
        t, gap = np.asarray(row["time"], float), np.asarray(row["gap"], float)
        ok = t > 0
        median = residual(row)[0]
        premise = " (electrode at rest)" if rest else ""
        plot(t[ok] * scale, gap[ok] * 1e9, "-", color=f"C{k}", lw=1,
             label=f"{control} {CONTROLS[control]}{premise}: {median * 1e9:.2f} nm{_empty(row, thickness)}")
        if reference and control in reference:
            t, gap = np.asarray(reference[control]["time"], float), np.asarray(reference[control]["gap"], float)
            ok = t > 0
            other = "takes every ion" if rest else "at rest"
            plot(t[ok] * scale, gap[ok] * 1e9, "--", color=f"C{k}", lw=1,
                 label=f"{control}, the electrode {other}{_empty(reference[control], thickness)}")
    ax.axhline(thickness * 1e9, color="0.5", ls=":", lw=1)
    ax.axhspan(1.5, 2.0, color="C2", alpha=0.15, label="gap of the published OFF range")
    ax.set(xlabel=f"time after the bias is removed [{unit}]", ylabel="gap [nm]",
           title=f"set at {SET_VOLTAGE:g} V, 2 µs hold, then 0 V\n(dissolved Ag returns by drift-diffusion)")
    ax.legend(fontsize=7)
    finest = rows[list(rows)[-1]]
    z = np.asarray(finest["z"], float) * 1e9
    bx.plot(z, finest["metal"], "o-", label="metal c_m")
    bx.plot(z, finest["pool"], "s-", label="pool beside the channel c_s")
    bx.plot(z, np.asarray(finest["ions"], float) * 100, "^-", label="ions c_i x 100")
    bx.axhline(c_p, color="0.4", ls="--", lw=1, label="percolation threshold")
    bx.axhline(float(finest["dissolution_rate"]) / float(finest["return_rate"]), color="C1", ls=":", lw=1,
               label="k_d / k_0 (the pool's balance)")
    bx.set(xlabel="z from the active electrode [nm]", ylabel="fraction of the channel [1]",
           title=f"the axis at the end ({list(rows)[-1]})")
    bx.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path, close=True)


def main(argv: list[str] | None = None) -> int:
    from devicephys.io import atomic_write_text, writable_folder
    from devicephys.workers import report_checks

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=1e-3, help="time at zero bias [s] (> 0; default 1 ms)")
    p.add_argument("--controls", nargs="+", default=["preset", "fine", "finer"], choices=list(CONTROLS),
                   help="step controls to run (the checks compare the two finest given)")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="controls run at once (default: 2); with 1, each shows its progress bars")
    p.add_argument("--resume", action="store_true", help="keep the runs already written to --out")
    p.add_argument("--electrode-equilibrium", action="store_true",
                   help="the active electrode at rest holds its equilibrium ion fraction "
                        "(active_electrode_equilibrium; files residual_<control>_rest.npz)")
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)  # one control, in a worker process
    p.add_argument("--progress", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", default="results/study16", help="output folder")
    args = p.parse_args(argv)
    if not (math.isfinite(args.duration) and args.duration > 0):
        p.error(f"--duration {args.duration}: give a time at zero bias > 0 s, e.g. 1e-3")
    if args.jobs < 1:
        p.error(f"--jobs {args.jobs}: must be at least 1")
    out = writable_folder(args.out)
    if args.one is not None:
        run_one(args.one, args.duration, out, args.progress, args.electrode_equilibrium)
        return 0
    rest = args.electrode_equilibrium
    controls = [c for c in CONTROLS if c in args.controls]  # coarse to fine
    run_all(controls, args.duration, args.jobs, out, args.resume, rest)
    rows = {c: load(out, c, args.duration, rest) for c in controls}
    spec = spec_for(controls[0], rest)
    length = spec.insulator_thickness - spec.seed_height
    tag = "_rest" if rest else ""
    lines = ["control,residual gap [m],min over the last fifth [m],max [m],stump nodes,stump metal [1],"
             "stump pool [1],k_d/k_0 [1],last step [s],read resistance [Ohm],channel empty from [s]"]
    for c, row in rows.items():
        median, low, high = residual(row)
        on = np.asarray(row["metal"], float) >= spec.percolation_threshold
        metal = float(np.mean(row["metal"][on])) if on.any() else math.nan
        pool = float(np.mean(row["pool"][on])) if on.any() else math.nan
        ratio = float(row["dissolution_rate"]) / float(row["return_rate"])
        r = abs(float(row["read_voltage"]) / float(row["read_current"]))
        lines.append(f"{c},{median:.6g},{low:.6g},{high:.6g},{int(on.sum())},{metal:.6g},{pool:.6g},{ratio:.6g},"
                     f"{float(row['last_step']):.6g},{r:.6g},{emptied(row, length):.6g}")
        print(f"{c}: residual gap {median * 1e9:.3f} nm ({low * 1e9:.3f}-{high * 1e9:.3f} over the last fifth), "
              f"{int(on.sum())} metallic nodes (metal {metal:.3f}, pool {pool:.3f}; k_d/k_0 {ratio:.3f}), "
              f"read {r:.3g} Ohm, channel empty from {emptied(row, length):.3g} s", flush=True)
    atomic_write_text(out / f"residual{tag}.csv", "\n".join(lines) + "\n")
    other = {}  # the other premise's runs of the same controls, drawn dashed where written with this duration
    for c in controls:
        if _npz(out, c, not rest).is_file():
            try:
                other[c] = load(out, c, args.duration, not rest)
            except SystemExit:
                print(f"{_npz(out, c, not rest)}: another duration or step control, not drawn")
    figure(rows, spec.percolation_threshold, length, out / f"16_residual_gap{tag}.png", other, rest)
    if len(rows) < 2:
        print("the checks need two controls (--controls fine finer)")
        return 0
    return report_checks(checks(rows, spec.percolation_threshold), f"{list(rows)[-2]} and {list(rows)[-1]}")


if __name__ == "__main__":
    sys.exit(main())
