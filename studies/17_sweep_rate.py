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
2. The stage's static threshold on the same cell (the bisection of constant-voltage runs from the
   pristine cell, each up to ``set_time_limit``, 1 ms; ``static_threshold_tolerance``; ``--no-static`` leaves it
   out), for the slow limit; and ``--constants``: constant source voltages below it, each from the pristine cell
   for up to ``--window`` (the
   set-time study's protocol with the window as its time limit, under level 0's control), to see whether the cell
   sets there when given longer than 1 ms, and the set time's local exponent -d ln t_set / d ln V between them; a
   power law t_set = A V^-n fitted over those runs, and each ramp's set predicted from it as a memoryless rate
   integral from 0 V, (rate A (n + 1))^(1/(n + 1)), beside the ramp's (a result, not a check: study 13 asks the
   same of the fast ramp).
3. Per sweep time, the threshold (the cell voltage before the first set) at the finest largest step, and its step
   error: the difference from the next finest.  Check (exit status 1 when it fails): at every sweep time the two
   finest controls agree within :data:`STEP_TARGET` of the threshold (the result is the model's, not the
   step's).  How the threshold moves with the rate, and where it lies against the static threshold and the
   published range, is the result, not a check.

Outputs (``--out``, default results/study17): ``ramp_<sweep time>_<control>.npz`` per run (written atomically;
``--resume`` keeps them), ``static.npz``, ``constant_<V>.npz``, ``summary.json``, ``sweep_rate.csv`` and
``17_sweep_rate.png`` (the threshold against the ramp rate per step control, with the static threshold and the
published range; the set time against the constant voltage, log-log, with ``--constants``).

Usage: python studies/17_sweep_rate.py [--sweep-times 2e-4 2e-3 2e-2 0.2 2] [--levels 0 1 2] [--no-static]
       [--constants 0.1 0.075 0.05] [--window 0.1] [--jobs 2] [--resume] [--anode-nernst [layer|hopping]]
       [--out DIR]

``--anode-nernst`` runs every step on the cell with the anode's Nernst bound (``anode_nernst``, with
``active_electrode_equilibrium``; ``--anode-nernst hopping``: its other limit, ``anode_nernst_split: hopping``, the
layer holding none of the gap voltage): give each its own ``--out``.  The ``hopping`` limit's supply is the
electrode's rest, 1430 times below c_src: its ramps at 3e3 V/s and faster do not set below the sweep's 3 V (their
thresholds NaN, the step check then not met), and it does not set within the preset's 1 ms at 1 V, so the static
bisection has no bracket (it stops with that line): run it with ``--no-static`` and the slow sweeps.
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
#: [V] constant source voltages below the static threshold, each run from the pristine cell for up to WINDOW [s]
CONSTANTS = (0.1, 0.075, 0.05)
WINDOW = 0.1
#: relative: the two finest controls' thresholds agree within this: a tenth of the threshold's change per decade of
#: ramp rate that the study resolves (it falls by half or more per decade over 3e4-3 V/s)
STEP_TARGET = 0.05
#: the published threshold range of volatile Ag threshold switches [V] (Wang et al., Nat. Mater. 16, 101 (2017))
PUBLISHED = (0.2, 1.0)
#: the cell's options besides the default's (``--anode-nernst``: the anode's Nernst layer at most at the gap voltage,
#: with the electrode's rest it refers to)
CELL: dict = {}
ANODE_NERNST = {"active_electrode_equilibrium": True, "anode_nernst": True}
#: ``--anode-nernst hopping``: the bound's other limit, the layer holding none of the gap voltage
ANODE_HOPPING = {**ANODE_NERNST, "anode_nernst_split": "hopping"}


def spec_for(sweep_time: float, level: int | None):
    """The default FilamentSpec (fast preset, no snapshots) with ``sweep_time`` [s], under step control ``level``
    (None: the preset's; k: the largest step min(:data:`BASE_STEP`, the preset's) / 2^k and the change per step
    :data:`BASE_CHANGE` / 2^k)."""
    from devicephys.filament.spec import FilamentSpec

    spec = FilamentSpec.fast().model_copy(update={"field_snapshots": 0, "sweep_time": sweep_time, **CELL})
    if level is None:
        return spec
    step = min(BASE_STEP, sweep_time * spec.max_step_fraction) / 2 ** level
    return spec.model_copy(update={"max_step_fraction": step / sweep_time,
                                   "max_concentration_change": BASE_CHANGE / 2 ** level})


def control_of(sweep_time: float, level: int | None) -> tuple[float, float]:
    """(largest step [s], change per step [1]) of the run (``sweep_time``, ``level``)."""
    spec = spec_for(sweep_time, level)
    return spec.sweep_time * spec.max_step_fraction, spec.max_concentration_change


def constant_spec(window: float):
    """The default FilamentSpec (fast preset, no snapshots) for a constant-voltage run of up to ``window`` [s] (its
    ``set_time_limit``), under level 0's control (largest step :data:`BASE_STEP`, change :data:`BASE_CHANGE`), with
    the step floor at ``min_step_fraction`` of the elapsed time (``resolve_set``, as the ramps), not of the window: a
    floor of 2e-5 of a 0.5 s window (10 us) delayed the set at 0.05 V from 25.5 to 33.2 ms."""
    from devicephys.filament.spec import FilamentSpec

    return FilamentSpec.fast().model_copy(update={
        **CELL, "field_snapshots": 0, "set_time_limit": window, "max_concentration_change": BASE_CHANGE,
        "max_step_fraction": min(BASE_STEP / window, 1 / 80), "resolve_set": True})


def _name(run) -> str:
    if run == "static":
        return "static.npz"
    if run[0] == "constant":
        return f"constant_{run[1]:.4g}.npz"
    sweep_time, level = run
    return f"ramp_{sweep_time:.4g}_{'preset' if level is None else f'level{level}'}.npz"


def measure(run) -> dict[str, np.ndarray]:
    """One run: ``"static"`` (the static threshold and its half-width [V], the probes (source voltage [V], set time
    [s] or NaN)); ``("constant", V, window)`` (the set time [s] at a constant source V [V] from the pristine cell, NaN
    without a set within ``window`` [s]); or (sweep time [s], level or None): the rising ramp's threshold (cell
    voltage [V]), the source voltage at the set [V], the steps taken, the step control (largest step [s], change per
    step).  Each with its wall time [s]."""
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
    if run[0] == "constant":
        _, voltage, window = run
        spec = constant_spec(window)
        trace = stage._constant_set(sim.CellModel(spec), spec, voltage, "set", False)
        i = extract.set_index(trace.array("gap"), spec.gap_on)
        return {"set_time": np.array(math.nan if i is None else trace.array("time")[i]), "window": np.array(window),
                "steps": np.array(len(trace) - 1.0), "wall_s": np.array(time.perf_counter() - t0)}
    ramp = stage.rising_ramp_threshold(spec_for(*run))
    return {"threshold": np.array(ramp["threshold"]), "source": np.array(ramp["source"]),
            "steps": np.array(ramp["steps"]), "control": np.array(control_of(*run)),
            "wall_s": np.array(time.perf_counter() - t0)}


def run_one(run, out: Path) -> Path:
    from devicephys.io import write_npz

    return write_npz(out / _name(run), {"run": run if isinstance(run, str) else list(run), "cell": dict(CELL)},
                     measure(run))


def check_cell(out: Path, runs: list) -> None:
    """Exit with one line where a run in ``out`` was made on another cell than :data:`CELL` (a ``--resume`` into
    the other cell's folder); a run written without the record is the default cell's."""
    from devicephys.io import read_npz

    for run in runs:
        cell = read_npz(out / _name(run))[1].get("cell", {})
        if cell != CELL:
            raise SystemExit(f"{out / _name(run)}: run on the cell {cell or 'default'}, not {CELL or 'default'}; "
                             "run without --resume or with another --out")


def load(out: Path, run) -> dict[str, np.ndarray]:
    from devicephys.io import read_npz

    return read_npz(out / _name(run))[0]


def _argument(run) -> str:
    if run == "static":
        return "static"
    if run[0] == "constant":
        return f"constant,{run[1]!r},{run[2]!r}"
    return f"{run[0]!r},{'preset' if run[1] is None else run[1]}"


def _parse(text: str):
    if text == "static":
        return "static"
    parts = text.split(",")
    if parts[0] == "constant":
        return "constant", float(parts[1]), float(parts[2])
    return float(parts[0]), None if parts[1] == "preset" else int(parts[1])


def runs_for(sweep_times, levels) -> list:
    """Every (sweep time, level) run, coarse to fine: the preset's, then each level whose control differs from the
    preset's (level 0 of a sweep whose preset step is at most :data:`BASE_STEP` is the preset's run)."""
    runs = []
    for st in sweep_times:
        preset = control_of(st, None)
        runs += [(st, None)] + [(st, k) for k in sorted(set(levels)) if control_of(st, k) != preset]
    return runs


def run_all(runs: list, jobs: int, out: Path, resume: bool) -> None:
    from devicephys.workers import run_missing

    cell = ["--anode-nernst", CELL.get("anode_nernst_split", "layer")] if CELL else []
    commands = {r: [sys.executable, str(Path(__file__).resolve()), "--one", _argument(r), "--out", str(out), *cell]
                for r in runs}

    def label(r) -> str:
        if r == "static":
            return "static threshold"
        if r[0] == "constant":
            return f"constant {r[1]:g} V for up to {r[2]:g} s"
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


def exponents(voltages, set_times) -> list[tuple[float, float, float]]:
    """(V_a, V_b, -d ln t_set / d ln V between them) for neighbouring voltages [V] that both set (the exponent n of a
    power law t_set ~ V^-n there)."""
    pairs = sorted((float(v), float(t)) for v, t in zip(voltages, set_times) if math.isfinite(t) and t > 0)
    return [(a, b, -math.log(tb / ta) / math.log(b / a)) for (a, ta), (b, tb) in zip(pairs[:-1], pairs[1:])]


def power_law(voltages, set_times) -> tuple[float, float]:
    """(A [s V^n], n [1]) of t_set = A V^-n fitted by least squares on ln t_set against ln V over the runs that set."""
    pairs = [(math.log(v), math.log(t)) for v, t in zip(voltages, set_times) if math.isfinite(t) and t > 0]
    if len(pairs) < 2:
        raise ValueError("a power law needs at least two voltages that set")
    x, y = (np.array(a) for a in zip(*pairs))
    slope, intercept = np.polyfit(x, y, 1)
    return float(math.exp(intercept)), float(-slope)


def exponential_fit(voltages, set_times) -> tuple[float, float, float]:
    """(tau0 [s], V0 [V], rms residual of ln t_set) of t_set = tau0 exp(-V/V0) fitted by least squares on ln t_set
    over the runs that set: what an exponential law would read from the same set times."""
    pairs = [(v, math.log(t)) for v, t in zip(voltages, set_times) if math.isfinite(t) and t > 0]
    if len(pairs) < 2:
        raise ValueError("an exponential law needs at least two voltages that set")
    x, y = (np.array(a, float) for a in zip(*pairs))
    slope, intercept = np.polyfit(x, y, 1)
    return float(math.exp(intercept)), float(-1.0 / slope), float(np.sqrt(np.mean((y - (slope * x + intercept)) ** 2)))


def ramp_threshold_power_law(a: float, n: float, rate: float) -> float:
    """The source voltage [V] at which a ramp V = rate t from 0 V uses up a memoryless set of time t_set = A V^-n:
    the integral of (rate t)^n / A dt reaches 1 at V = (rate A (n + 1))^(1 / (n + 1))."""
    return (rate * a * (n + 1.0)) ** (1.0 / (n + 1.0))


def figure(result: list[dict], static: tuple[float, float] | None, path: Path, constants=None, window: float = 1.0,
           law: tuple[float, float] | None = None):
    """The threshold against the ramp rate: the preset's control and the finest (with its step error), the static
    threshold and the published range; with ``constants`` ((voltage [V], set time [s]) of the long constant-voltage
    runs of up to ``window`` [s], with the static bisection's probes that set), the set time against the voltage."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from devicephys.io import save_figure

    if constants:
        fig, (ax, bx) = plt.subplots(1, 2, figsize=(11.5, 4.2))
        v, t = (np.array(x, float) for x in zip(*sorted(constants)))
        sets = np.isfinite(t)
        bx.loglog(v[sets], t[sets] * 1e3, "o-", ms=4, label="set time from the pristine cell")
        if (~sets).any():
            bx.plot(v[~sets], np.full((~sets).sum(), window * 1e3), "x", color="C3", label="no set within the window")
        bx.axhline(1.0, color="C3", lw=0.8, ls=":", label="the static threshold's window (1 ms)")
        if law is not None:
            grid = np.geomspace(v[sets].min(), v[sets].max(), 50)
            bx.loglog(grid, law[0] * grid ** -law[1] * 1e3, "--", color="C1",
                      label=f"A V^-n fitted over the long runs, n = {law[1]:.2f}")
        bx.set(xlabel="constant source voltage [V]", ylabel="set time [ms]", title="set time at constant voltage")
        bx.legend(fontsize=7)
    else:
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
    if law is not None:
        grid = np.geomspace(rate.min(), rate.max(), 50)
        ax.semilogx(grid, [ramp_threshold_power_law(*law, g) for g in grid], ":", color="C1",
                    label="memoryless rate integral of the power law (source voltage)")
    ax.set(xlabel="ramp rate [V/s]", ylabel="threshold (cell voltage before the set) [V]",
           title=(f"the cell's threshold against the sweep rate (the anode's Nernst bound, "
                  f"split: {CELL.get('anode_nernst_split', 'layer')})" if CELL
                  else "the default cell's threshold against the sweep rate"), ylim=(0, None))
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
    p.add_argument("--no-static", dest="static", action="store_false",
                   help="leave out the static threshold's bisection (30 s)")
    p.add_argument("--constants", type=float, nargs="*", default=list(CONSTANTS),
                   help="constant source voltages [V] run from the pristine cell for up to --window (default: "
                        f"{' '.join(map(str, CONSTANTS))}; none: leave them out)")
    p.add_argument("--window", type=float, default=WINDOW, help=f"time limit of the --constants runs [s] "
                                                                 f"(default {WINDOW:g})")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="runs at once (default: 2)")
    p.add_argument("--resume", action="store_true", help="keep the runs already written to --out")
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)  # one run, in a worker process
    p.add_argument("--anode-nernst", nargs="?", const="layer", default=None, choices=("layer", "hopping"),
                   help="the cell with the anode's Nernst layer at most at the gap voltage (anode_nernst, with "
                        "active_electrode_equilibrium); 'hopping': its other limit, the layer holding none of the "
                        "gap voltage (anode_nernst_split: hopping); use another --out for each")
    p.add_argument("--out", default="results/study17", help="output folder")
    args = p.parse_args(argv)
    CELL.clear()
    CELL.update({None: {}, "layer": ANODE_NERNST, "hopping": ANODE_HOPPING}[args.anode_nernst])
    if not args.sweep_times or not all(math.isfinite(t) and t > 0 for t in args.sweep_times):
        p.error(f"--sweep-times {args.sweep_times}: give positive sweep times [s], e.g. 2e-4 2e-3 2e-2")
    if not all(0 <= k <= 10 for k in args.levels):
        p.error(f"--levels {args.levels}: give levels from 0 to 10, e.g. 0 1 2")
    if not all(math.isfinite(v) and v > 0 for v in args.constants):
        p.error(f"--constants {args.constants}: give positive source voltages [V], e.g. 0.1 0.05 0.025")
    if not (math.isfinite(args.window) and args.window > 0):
        p.error(f"--window {args.window}: give a positive time limit [s], e.g. 1.0")
    if args.jobs < 1:
        p.error(f"--jobs {args.jobs}: must be at least 1")
    out = writable_folder(args.out)
    if args.one is not None:
        run_one(_parse(args.one), out)
        return 0
    sweep_times = sorted(set(args.sweep_times))
    runs = runs_for(sweep_times, args.levels)
    constants = [("constant", v, args.window) for v in sorted(set(args.constants), reverse=True)]
    run_all(runs + (["static"] if args.static else []) + constants, args.jobs, out, args.resume)
    check_cell(out, runs + (["static"] if args.static else []) + constants)
    rows = {r: (control_of(*r), float(load(out, r)["threshold"])) for r in runs}
    spec = spec_for(sweep_times[0], None)
    result = analyse(sweep_times, rows, spec.sweep_voltage)
    static = None
    if args.static:
        s = load(out, "static")
        static = (float(s["static_threshold"]), float(s["half_width"]))
    held = []  # (voltage [V], set time [s]) of the constant-voltage runs, with the bisection's probes
    for run in constants:
        c = load(out, run)
        if float(c["window"]) != args.window:
            raise SystemExit(f"{out / _name(run)}: run with --window {float(c['window']):g}, not {args.window:g}; "
                             "run without --resume or with another --out")
        held.append((run[1], float(c["set_time"])))
    if held and args.static:
        held += [(float(v), float(t)) for v, t in load(out, "static")["probes"]
                 if math.isfinite(float(t)) and all(abs(float(v) - h) > 1e-12 for h, _ in held)]
    summary = {"cell_options": dict(CELL), "sweep_voltage_V": spec.sweep_voltage, "rows": result,
               "step_target": STEP_TARGET,
               "published_V": list(PUBLISHED),
               "static_threshold_V": None if static is None else {"value": static[0], "half_width": static[1]},
               "constant_window_s": args.window if constants else None,
               "constant_set_times_s": [[v, t] for v, t in sorted(held)],
               "set_time_exponents": [list(x) for x in exponents(*zip(*held))] if len(held) > 1 else [],
               "power_law": None,
               "wall_s": {_name(r): float(load(out, r)["wall_s"]) for r in runs}}
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1, default=float) + "\n")
    atomic_write_text(out / "sweep_rate.csv", csv_text(result))
    law = None
    long_runs = [(v, t) for v, t in held if any(abs(v - r[1]) < 1e-12 for r in constants)]
    if sum(math.isfinite(t) for _, t in long_runs) >= 2:
        law = power_law(*zip(*long_runs))
        lo, hi = min(v for v, t in long_runs if math.isfinite(t)), max(v for v, t in long_runs if math.isfinite(t))
        predicted = [ramp_threshold_power_law(*law, r["rate_V_per_s"]) for r in result]
        tau0, v0, rms = exponential_fit(*zip(*held))
        summary["exponential_fit"] = {"tau0_s": tau0, "v0_V": v0, "rms_ln_t": rms,
                                      "over_V": [min(v for v, t in held if math.isfinite(t)),
                                                 max(v for v, t in held if math.isfinite(t))]}
        summary["power_law"] = {"A_s_V^n": law[0], "n": law[1], "fitted_over_V": [lo, hi],
                                "ramp_threshold_predicted_V": predicted,
                                "inside_fitted_range": [bool(lo <= x <= hi) for x in predicted]}
        atomic_write_text(out / "summary.json", json.dumps(summary, indent=1, default=float) + "\n")
    figure(result, static, out / "17_sweep_rate.png", held, args.window, law)
    print("sweep time [s], ramp rate [V/s]: threshold [V] (largest step [s], change per step), coarse to fine")
    for r in result:
        parts = ", ".join(f"{v:.4f} ({c[0]:.3g}, {c[1]:g})" for c, v in zip(r["controls"], r["thresholds_V"]))
        print(f"  {r['sweep_time_s']:g} s, {r['rate_V_per_s']:.3g} V/s: {parts}")
    if static is not None:
        print(f"static threshold (lowest constant source voltage that sets within set_time_limit): "
              f"{static[0]:.4f} +- {static[1]:.4f} V")
    for v, t in sorted(held):
        print(f"set at constant {v:g} V: " + (f"{t * 1e3:.4g} ms" if math.isfinite(t) else "none within its window"))
    for a, b, n in summary["set_time_exponents"]:
        print(f"  -d ln t_set / d ln V over {a:g}-{b:g} V: {n:.3g}")
    if law is not None:
        pl = summary["power_law"]
        print(f"t_set = A V^-n over the long runs ({pl['fitted_over_V'][0]:g}-{pl['fitted_over_V'][1]:g} V): "
              f"A = {law[0]:.4g} s V^n, n = {law[1]:.4g}; a ramp's set as its memoryless rate integral "
              "(source voltage; * inside the fitted range):")
        ef = summary["exponential_fit"]
        print(f"an exponential t_set = tau0 exp(-V/V0) over every constant-voltage set time ({ef['over_V'][0]:g}-"
              f"{ef['over_V'][1]:g} V) instead: V0 = {ef['v0_V']:.4g} V, rms residual of ln t_set {ef['rms_ln_t']:.3g}")
        for r, x, inside in zip(result, pl["ramp_threshold_predicted_V"], pl["inside_fitted_range"]):
            print(f"  {r['rate_V_per_s']:.3g} V/s: {x:.4f} V{' *' if inside else ''} against the ramp's "
                  f"{r['threshold_V']:.4f} V ({x / r['threshold_V'] - 1:+.1%})")
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
