"""Study 19: how much of the channel's ion charge must the matrix compensate for the default cell to set?

Question: study 18 found that the default cell's Ag+ ions, uncompensated, would hold hundreds of volts: the charge-free
drift the set kinetics rest on presumes that charge of the other sign sits beside them.  With the ions in their own
field (``ion_compensation`` f: the transport drifts them in the applied field plus (1 − f) times the field of their
charge, from the ions' Poisson solve, inside each step's Newton), how do the set times move with the uncompensated
share 1 − f, and below which compensation does the cell not set at all?

Steps
-----
For each source voltage of ``--voltages`` and each f of ``--compensations`` ("none": the charge-free drift), a
constant source from the pristine cell up to its set or ``--window`` (the set-time study's protocol on the fast
preset, the step floor at ``min_step_fraction`` of the time elapsed), with the cell's Ag (ions, metal, dissolved)
after every accepted step.  The ion current I_ion = e dN_Ag/dt [A] the active electrode delivers is read over the
run's second half.

Check (exit status 1 when it fails): where the ions' space charge limits the current (runs that do not set), the
current follows Mott–Gurney's scaling with the permittivity, I ∝ ε / (1 − f) (the drift-limited, strongly injecting,
dilute limit, in which the field equations depend on f only through ε/(1 − f)): the current of the least and the
most compensated run that did not set at one voltage, in the ratio of their (1 − f), within :data:`SCALING_TARGET`.

Outputs (``--out``, default results/study19): ``v<V>_f<f>.npz`` per run (written atomically; ``--resume`` keeps them),
``compensation.csv`` (per run: voltage, f, set time, the ion current, the largest ion fraction, steps, wall time),
``summary.json`` (the runs and the check) and ``19_ion_compensation.png`` (set time and ion current against 1 − f).

Usage: python studies/19_ion_compensation.py [--voltages 1.0 2.0] [--compensations none 0.999 0.99 0.98 0.95 0.9 0]
[--window 0.01] [--resume] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

VOLTAGES = (1.0, 2.0)
COMPENSATIONS = ("none", "0.999", "0.99", "0.98", "0.95", "0.9", "0")
#: [s] each run's window: the charge-free cell sets in 7.8-30 us at these voltages (the stage's set-time study)
WINDOW = 0.01
#: relative: the space-charge limited currents' ratio against (1 - f)'s (Mott-Gurney's scaling with the permittivity)
SCALING_TARGET = 0.1


def compensation(text: str) -> float | None:
    """f [1] from its text: None for "none", else a number in [0, 1)."""
    if text.strip().lower() == "none":
        return None
    try:
        f = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--compensations: {text!r} is not a number; give f in [0, 1) or none")
    if not 0.0 <= f < 1.0:
        raise argparse.ArgumentTypeError(f"--compensations: {f:g} is outside [0, 1); give f in [0, 1) or none")
    return f


def positive(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; give a positive number")
    if not (math.isfinite(x) and x > 0):
        raise argparse.ArgumentTypeError(f"{x:g} must be a positive finite number")
    return x


def run_name(voltage: float, f: float | None) -> str:
    return f"v{voltage:g}_f{'none' if f is None else f'{f:g}'}"


def spec_for(f: float | None, window: float):
    """The fast preset (no snapshots) with ``ion_compensation`` f, for a constant-voltage run of up to ``window``."""
    from devicephys.filament.spec import FilamentSpec

    return FilamentSpec.fast().model_copy(update={"field_snapshots": 0, "set_time_limit": window,
                                                  "ion_compensation": f})


def run_case(voltage: float, f: float | None, window: float, out: Path) -> Path:
    """One constant-voltage run with the cell's Ag after every accepted step, written to ``out/<name>.npz``."""
    from devicephys.filament import simulate as sim
    from devicephys.filament import stage
    from devicephys.io import write_npz
    from devicephys.units import e

    spec = spec_for(f, window)
    model = sim.CellModel(spec)
    per_atom = model.atom_fraction()  # [1] each node's fraction per atom
    rows: list[tuple[float, float, float, float]] = []

    def atoms(m) -> float:
        tr = m.transport
        return float(np.sum((m.c_i + m.c + tr.pool_total(m.c_s) + tr.plated(m.c_s)) / per_atom))

    start = atoms(model)

    def observe(m, sample):
        rows.append((m.time, atoms(m) - start, float(sample["gap"]), float(m.c_i.max())))

    t0 = time.perf_counter()
    name = run_name(voltage, f)
    trace = stage._constant_set(model, spec, voltage, f"{name}: {voltage:g} V, f = {f}", True, observer=observe)
    gap = trace.array("gap")
    t_end = float(trace.array("time")[-1])
    set_at = t_end if gap[-1] < spec.gap_on else math.nan
    data = np.array(rows, float).reshape(-1, 4)
    late = data[data[:, 0] >= 0.5 * t_end] if data.size else data
    current = math.nan
    if len(late) >= 2 and late[-1, 0] > late[0, 0]:
        current = e * (late[-1, 1] - late[0, 1]) / (late[-1, 0] - late[0, 0])
    meta = {"voltage": voltage, "compensation": "none" if f is None else f, "window": window, "set_time": set_at,
            "ion_current": current, "ion_fraction": float(data[:, 3].max()) if data.size else math.nan,
            "pool_peak": model.peak_pool, "pool_capacity": model.pool_capacity,
            "steps": len(trace) - 1, "wall_s": time.perf_counter() - t0}
    return write_npz(out / f"{name}.npz", meta, {"time": data[:, 0], "silver_atoms": data[:, 1], "gap": data[:, 2],
                                                 "ion_fraction": data[:, 3]})


def _number(meta: dict, key: str) -> float:
    """``meta[key]`` as a float; NaN where the run did not record it (None, or a run written before it was)."""
    value = meta.get(key)
    return math.nan if value is None else float(value)


def scaling_checks(runs: dict) -> dict:
    """Per voltage with two or more runs that did not set: (|I_a (1 − f_a) / (I_b (1 − f_b)) − 1|, target, passed)
    of the least (a) and the most (b) compensated of them."""
    checks = {}
    by_voltage: dict[float, list] = {}
    for meta in runs.values():
        f = meta["compensation"]
        if f != "none" and not math.isfinite(meta["set_time"]) and math.isfinite(meta["ion_current"]):
            by_voltage.setdefault(meta["voltage"], []).append((float(f), meta["ion_current"]))
    for v, rows in sorted(by_voltage.items()):
        if len(rows) < 2:
            continue
        rows.sort()
        (f_a, i_a), (f_b, i_b) = rows[0], rows[-1]
        deviation = abs((i_a / i_b) * ((1 - f_a) / (1 - f_b)) - 1.0)  # I ∝ 1/(1 − f): I_a (1 − f_a) = I_b (1 − f_b)
        checks[f"Mott-Gurney scaling at {v:g} V (f = {f_a:g} vs {f_b:g})"] = (deviation, SCALING_TARGET,
                                                                            deviation <= SCALING_TARGET)
    return checks


def figure(runs: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from devicephys.io import save_figure

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4))
    for k, v in enumerate(sorted({m["voltage"] for m in runs.values()})):
        color = f"C{k}"
        rows = [m for m in runs.values() if m["voltage"] == v]
        free = [m for m in rows if m["compensation"] == "none"]
        coupled = sorted((1 - float(m["compensation"]), m) for m in rows if m["compensation"] != "none")
        share = np.array([s for s, _ in coupled])
        sets = np.array([m["set_time"] for _, m in coupled])
        ax.loglog(share, sets, "o-", color=color, label=f"{v:g} V")
        for m in free:
            ax.axhline(m["set_time"], color=color, ls="--", lw=0.8, label=f"{v:g} V, charge-free drift")
        missing = share[~np.isfinite(sets)]
        if missing.size:
            window = max(m["window"] for _, m in coupled)
            ax.plot(missing, np.full(missing.size, window), "x", color=color, ms=8)
        current = np.array([m["ion_current"] for _, m in coupled])
        ok = np.isfinite(current) & (current > 0)
        bx.loglog(share[ok], current[ok], "o-", color=color, label=f"{v:g} V")
        unset = ok & ~np.isfinite(sets)
        if unset.any():
            i = np.flatnonzero(unset)[-1]
            bx.loglog(share, current[i] * share[i] / share, ":", color=color, lw=0.8,
                      label=f"{v:g} V: ∝ 1/(1 − f) (Mott–Gurney)")
    ax.set_xlabel("uncompensated share of the ions' charge, 1 − f")
    ax.set_ylabel("set time [s] (x: no set within the window)")
    ax.set_title("set time against the ions' compensation")
    ax.legend(fontsize=7)
    bx.set_xlabel("1 − f")
    bx.set_ylabel("ion current e dN_Ag/dt, run's second half [A]")
    bx.set_title("the active electrode's ion current")
    bx.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path, close=True)


def main(argv: list[str] | None = None) -> int:
    from devicephys.io import atomic_write_text, read_npz, writable_folder
    from devicephys.workers import report_checks

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--voltages", nargs="+", type=positive, default=list(VOLTAGES), help="source voltages [V]")
    p.add_argument("--compensations", nargs="+", type=compensation, default=[compensation(c) for c in COMPENSATIONS],
                   help="f of each run, in [0, 1), or none (the charge-free drift)")
    p.add_argument("--window", type=positive, default=WINDOW, help="longest wait for a set [s]")
    p.add_argument("--resume", action="store_true", help="keep the runs already written to --out")
    p.add_argument("--out", default="results/study19", help="output folder")
    args = p.parse_args(argv)
    out = writable_folder(args.out)
    runs = {}
    for v in args.voltages:
        for f in args.compensations:
            name = run_name(v, f)
            path = out / f"{name}.npz"
            if not (args.resume and path.is_file()):
                run_case(v, f, args.window, out)
            _, meta = read_npz(path)
            runs[name] = meta
            told = (f"set at {meta['set_time']:.4g} s" if math.isfinite(meta["set_time"])
                    else f"no set within {meta['window']:g} s")
            print(f"{v:g} V, f = {meta['compensation']}: {told}; ion current {meta['ion_current']:.4g} A; ions up to "
                  f"{meta['ion_fraction']:.3g} of the sites; dissolved pool up to {_number(meta, 'pool_peak'):.3g} "
                  f"channel volumes (capacity {_number(meta, 'pool_capacity'):.3g}) ({meta['steps']} steps, "
                  f"{meta['wall_s']:.1f} s)",
                  flush=True)
    lines = ["source voltage [V],compensation f [1],set time [s],ion current [A],largest ion fraction [1],"
             "largest dissolved pool [channel volumes],steps,wall time [s]"]
    for m in runs.values():
        lines.append(f"{m['voltage']:g},{m['compensation']},{m['set_time']:.6g},{m['ion_current']:.6g},"
                     f"{m['ion_fraction']:.6g},{_number(m, 'pool_peak'):.6g},{m['steps']},{m['wall_s']:.3g}")
    atomic_write_text(out / "compensation.csv", "\n".join(lines) + "\n")
    checks = scaling_checks(runs)
    summary = {"window_s": args.window, "scaling_target": SCALING_TARGET,
               "checks": {k: {"value": v, "allowed": a, "passed": ok} for k, (v, a, ok) in checks.items()},
               "runs": runs}
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, default=float) + "\n")
    figure(runs, out / "19_ion_compensation.png")
    return report_checks(checks, "the space-charge limited runs")


if __name__ == "__main__":
    sys.exit(main())
