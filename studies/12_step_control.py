"""Study 12: the set's step control, work against precision: the change limit and the local-error estimate.

Question: the presets hold each time step's change of the Ag fraction to ``max_concentration_change`` (0.05), and
that limit, not the largest step, sets the default cell's largest discretisation error (the sweep's threshold 4 %
high; study 11 for the ON lifetimes).  ``step_error_tolerance`` instead estimates each step's local truncation
error (``devicephys.filament.stepping``) and chooses the next step from it, while the channel has a gap
(``step_error_scope: growth``, the default).  How close does each control bring the filament's growth to the set to
the converged transient, and at what cost in steps?

Steps
-----
1. Per setting in ``--settings`` (``change:X``: the change limit X alone; ``error:X``: the local error held to X,
   relative to each node's Ag fraction down to one atom per node, within the preset's change limit), each in its
   own process, ``--jobs`` at a time, on the default cell (fast preset, largest step ``--step`` of each drive, the
   step floor at ``min_step_fraction`` of the time elapsed: ``resolve_set``):

   * the sweep's rising ramp (0 -> 3 V over 80 us at 1/80 of the sweep per step at most) from the pristine cell,
     stopped at the first bridge: the threshold, the source voltage at the set;
   * a constant 2.5 V from the pristine cell until the bridge (the set-time study's highest voltage): the set
     time.

2. Per setting and quantity: the value, the steps taken and the wall time; each value against the reference
   setting's (``--reference``, default the last of ``--settings``).
3. Checks (exit status 1 when one fails), on the two finest ``error:`` settings (the two smallest tolerances):
   the thresholds agree within :data:`THRESHOLD_TARGET` and the set times within :data:`TIME_TARGET` (relative
   to the finer): the control converges as its tolerance shrinks.

Outputs (``--out``, default results/study12): ``control_<setting>.npz`` per setting (written atomically;
``--resume`` keeps them), ``summary.csv`` (per setting and quantity: value, deviation from the reference, steps,
wall time) and ``12_step_control.png`` (deviation from the reference against steps).

Usage: python studies/12_step_control.py [--settings change:0.05 change:0.01 error:0.01 error:0.003 error:0.001]
       [--step 0.0125] [--reference SETTING] [--jobs 2] [--resume] [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

SETTINGS = ("change:0.05", "change:0.01", "error:0.01", "error:0.003", "error:0.001")
SET_VOLTAGE = 2.5  # [V] the constant set, the stage's highest set voltage
STEP = 1 / 80  # [1] largest step of each drive (the fast preset's)
THRESHOLD_TARGET = 0.01  # relative agreement of the two finest error tolerances' thresholds
TIME_TARGET = 0.02  # relative agreement of their set times


def parse_setting(text: str) -> tuple[str, float]:
    """``change:X`` or ``error:X`` -> (kind, X); ValueError naming the form otherwise."""
    kind, _, value = text.partition(":")
    try:
        x = float(value)
    except ValueError:
        x = math.nan
    if kind not in ("change", "error") or not 0 < x <= 0.5:
        raise ValueError(f"setting {text!r}: give change:X or error:X with X in (0, 0.5], e.g. error:0.003")
    return kind, x


def spec_for(setting: str, step: float = STEP):
    """The default FilamentSpec (fast preset) with the setting's step control and largest step ``step``, and
    ``resolve_set``: the step floor at ``min_step_fraction`` of the time elapsed, so that neither control is held
    at the drive's floor, where steps are taken whatever their change or error (the set-time run's floor, 20 ns,
    otherwise delays the set by more than either control's error)."""
    from devicephys.filament.spec import FilamentSpec

    kind, x = parse_setting(setting)
    base = FilamentSpec.fast().model_dump()
    control = {"max_concentration_change": x} if kind == "change" else {"step_error_tolerance": x}
    return FilamentSpec(**{**base, **control, "max_step_fraction": step, "resolve_set": True, "field_snapshots": 0})


def _npz(out: Path, setting: str) -> Path:
    return out / f"control_{setting.replace(':', '_')}.npz"


def measure(setting: str, step: float = STEP) -> dict[str, np.ndarray]:
    """Threshold [V] and set time [s] of one setting, each with its steps and wall time [s]."""
    import dolfinx_solver  # noqa: F401  (MPI before DOLFINx)

    from devicephys.filament import extract
    from devicephys.filament import simulate as sim
    from devicephys.filament import stage

    spec = spec_for(setting, step)
    out: dict[str, np.ndarray] = {}

    start = time.perf_counter()
    ramp = stage.rising_ramp_threshold(spec)  # the stage's step_check runs this under its own control
    out["threshold"] = np.array(ramp["source"])
    out["threshold_steps"], out["threshold_wall"] = np.array(ramp["steps"]), np.array(time.perf_counter() - start)

    start = time.perf_counter()
    trace = stage._constant_set(sim.CellModel(spec), spec, SET_VOLTAGE, "set", False)
    i = extract.set_index(trace.array("gap"), spec.gap_on)
    if i is None:
        raise SystemExit(f"{setting}: the cell did not set at {SET_VOLTAGE:g} V within set_time_limit")
    out["set_time"] = np.array(trace.array("time")[i])
    out["set_time_steps"], out["set_time_wall"] = np.array(len(trace) - 1), np.array(time.perf_counter() - start)
    return out


def run_one(setting: str, out: Path, step: float = STEP) -> Path:
    """One setting's runs, written atomically to ``out/control_<setting>.npz``."""
    from devicephys.io import write_npz

    data = measure(setting, step)
    meta = {"setting": setting, "step": step}
    return write_npz(_npz(out, setting), meta, data)


def run_all(settings, jobs: int, out: Path, resume: bool, step: float = STEP) -> None:
    """Each setting in its own process (``jobs`` at a time); ``resume`` keeps those already written."""
    from devicephys.workers import run_missing

    commands = {s: [sys.executable, str(Path(__file__).resolve()), "--one", s, "--out", str(out), "--step", repr(step)]
                for s in settings}
    run_missing(commands, lambda s: _npz(out, s), jobs, resume, lambda s: s)


def load(out: Path, setting: str, step: float = STEP) -> dict[str, np.ndarray]:
    """One setting's data; refuses a file written with another largest step."""
    from devicephys.io import read_npz

    path = _npz(out, setting)
    data, meta = read_npz(path)
    if meta["step"] != step:
        raise SystemExit(f"{path}: written with the largest step {meta['step']:g}, not {step:g}; run without --resume "
                         "or with another --out")
    return data


QUANTITIES = (("threshold [V]", "threshold"), ("set time at 2.5 V [s]", "set_time"))  # (label, key)


def value(data: dict[str, np.ndarray], key: str, suffix: str = "") -> float:
    return float(np.asarray(data[key + suffix], float))


def checks(fine: dict[str, np.ndarray], finer: dict[str, np.ndarray]) -> dict[str, tuple[float, float, bool]]:
    """{quantity: (relative difference of ``fine`` from ``finer``, allowed, passed)}; a quantity missing in either
    (NaN: no set) fails its check."""
    found = {}
    for label, key in QUANTITIES:
        a, b = value(fine, key), value(finer, key)
        rel = abs(a - b) / abs(b) if math.isfinite(a) and math.isfinite(b) and b != 0 else math.nan
        target = THRESHOLD_TARGET if key == "threshold" else TIME_TARGET
        found[label] = (rel, target, bool(math.isfinite(rel) and rel <= target))
    return found


def finest_errors(settings) -> list[str]:
    """The two ``error:`` settings with the smallest tolerances, coarser first (fewer than two: as many as given)."""
    errors = [s for s in settings if parse_setting(s)[0] == "error"]
    return sorted(errors, key=lambda s: -parse_setting(s)[1])[-2:]


def figure(settings, rows: dict[str, dict[str, np.ndarray]], reference: str, path: Path):
    """Deviation from the reference against the steps taken, one panel per quantity, a line per control."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from devicephys.io import save_figure

    fig, axes = plt.subplots(1, len(QUANTITIES), figsize=(4.2 * len(QUANTITIES), 3.8), squeeze=False)
    for ax, (label, key) in zip(axes[0], QUANTITIES):
        ref = value(rows[reference], key)
        for kind, marker in (("change", "s"), ("error", "o")):
            pts = sorted((value(rows[s], key, "_steps"), abs(value(rows[s], key) / ref - 1), s)
                         for s in settings if parse_setting(s)[0] == kind and s != reference)
            if pts:
                steps, dev, names = zip(*pts)
                ax.loglog(steps, np.maximum(dev, 1e-6), marker + "-", label=f"{kind} limit" if kind == "change"
                          else "local error", ms=5)
                for x, y, n in zip(steps, dev, names):
                    ax.annotate(n.split(":")[1], (x, max(y, 1e-6)), fontsize=7, xytext=(3, 3),
                                textcoords="offset points")
        ax.set(xlabel="steps taken", title=label.rsplit(" [", 1)[0], ylabel=f"|relative deviation from {reference}|")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path, close=True)


def main(argv: list[str] | None = None) -> int:
    from devicephys.io import atomic_write_text, writable_folder

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--settings", nargs="+", default=list(SETTINGS),
                   help="step controls: change:X (the change limit X alone) or error:X (the local error held to X); "
                        "at least two error: settings for the checks")
    p.add_argument("--step", type=float, default=STEP, help="largest step of each drive, as a fraction of it")
    p.add_argument("--reference", default=None, help="the setting the others are compared with (default: the last)")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="settings run at once (default: 2)")
    p.add_argument("--resume", action="store_true", help="keep the runs already written to --out")
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)  # one setting, in a worker process
    p.add_argument("--out", default="results/study12", help="output folder")
    args = p.parse_args(argv)
    settings = list(dict.fromkeys(args.settings))
    try:
        for s in settings + ([args.one] if args.one else []):
            parse_setting(s)
    except ValueError as err:
        p.error(f"--settings: {err}")
    if args.one is None and len(finest_errors(settings)) < 2:
        p.error(f"--settings {args.settings}: give at least two error: settings, e.g. error:0.01 error:0.003")
    reference = args.reference or settings[-1]
    if reference not in settings:
        p.error(f"--reference {reference}: must be one of --settings {settings}")
    if not 0 < args.step <= 0.5:
        p.error(f"--step {args.step}: must be in (0, 0.5], e.g. 0.0125")
    if args.jobs < 1:
        p.error(f"--jobs {args.jobs}: must be at least 1")
    out = writable_folder(args.out)
    if args.one is not None:
        run_one(args.one, out, args.step)
        return 0
    run_all(settings, args.jobs, out, args.resume, args.step)
    rows = {s: load(out, s, args.step) for s in settings}
    lines = ["setting,quantity,value,relative deviation from the reference,steps,wall_s"]
    for label, key in QUANTITIES:
        ref = value(rows[reference], key)
        print(f"{label} (reference {reference}: {ref:.6g})")
        for s in settings:
            v, n, w = (value(rows[s], key, suffix) for suffix in ("", "_steps", "_wall"))
            dev = v / ref - 1 if math.isfinite(v) and math.isfinite(ref) else math.nan
            lines.append(f"{s},{label},{v:.6g},{dev:.4g},{int(n)},{w:.1f}")
            print(f"  {s:>13}: {v:.6g} ({dev:+.2%}) in {int(n)} steps, {w:.0f} s")
    atomic_write_text(out / "summary.csv", "\n".join(lines) + "\n")
    figure(settings, rows, reference, out / "12_step_control.png")
    fine, finer = finest_errors(settings)
    passed = True
    for name, (rel, allowed, ok) in checks(rows[fine], rows[finer]).items():
        print(f"check {name} ({fine} against {finer}): {rel:.3g} against {allowed:g} -> {'ok' if ok else 'FAILED'}")
        passed = passed and ok
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
