"""Study 15: the default cell's retention against the compliance current, in four step controls.

Question: volatile Ag cells hold their filament longer after a set under a higher compliance (a thicker filament
self-ruptures later; Wang et al., Nat. Commun. 10 (2019); Midya et al., Adv. Mater. 2017).  Does the default cell,
and is the number it gives a number of the model or of the time step?

Steps
-----
1. Per step control (``--controls``, each in its own process, ``--jobs`` at a time): the filament stage's retention
   study (``relax_compliances``) on the default cell over ``--compliances``: at each, the pristine cell set at
   2.5 V under that compliance, held for ``relax_hold`` (2 us) after it bridges, then relaxed at zero bias; its
   self-rupture time (gap > gap_rupture), the held neck (the narrowest metallic node's metal fraction, the
   contact's radius) and V/I at the end of the hold.  Controls: ``preset`` (the fast preset's: the Ag fraction's
   largest change per step 0.05, largest steps 1/80 of each drive), ``fine`` (0.01 and 1/400) and ``finer``
   (0.0025 and 1/1600) and ``finest`` (0.000625 and 1/6400): about 1.6, 3.6, 7.5 and 27 min, 30 min on two cores.
2. Per control: the power law t_r = A I_cc^beta by least squares on the logarithms, beta with its standard error,
   over the compliances whose hold stayed below the insulator's thermal limit (a hotter hold is outside the
   materials' range and is shown, not used).
3. Checks on the two finest controls run (exit status 1 when one fails), over the compliances within the limit:

   * step: their self-rupture times agree within :data:`RETENTION_TARGET` (relative) at every compliance where
     both ruptured;
   * trend: on the finest the self-rupture at the highest such compliance exceeds the lowest's by more than the
     two controls' largest difference (the rise is resolved against the step error);
   * bound: no self-rupture is shorter than dissolution alone takes the held neck's metal fraction to the
     percolation threshold at the ambient, (c_n - c_p + eps ln(c_n / c_p)) / k_d(T_0): ions still reducing onto
     it, and the gap's opening from one node to gap_rupture, only lengthen it.

Outputs (``--out``, default results/study15): ``retention_<control>.npz`` per control (written atomically;
``--resume`` keeps them), ``retention.csv`` and ``15_retention_compliance.png``.

Usage: python studies/15_retention_compliance.py [--compliances 1e-6 3e-6 1e-5 3e-5 1e-4 3e-4]
       [--controls preset fine finer finest] [--jobs 2] [--resume] [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

COMPLIANCES = (1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4)  # [A]
#: Step controls: (max_concentration_change, max_step_fraction) of every drive.
CONTROLS = {"preset": (0.05, 0.0125), "fine": (0.01, 0.0025), "finer": (0.0025, 0.000625),
            "finest": (0.000625, 0.00015625)}
RETENTION_TARGET = 0.10  # relative agreement of the two controls' self-rupture times
NAMES = ("relaxation_time_held", "relaxation_time_held_resolution", "neck_radius_held", "neck_metal_fraction_held",
         "resistance_on_held", "temperature_max_held")


def spec_for(control: str, compliances):
    """The default FilamentSpec (fast preset) with the retention study over ``compliances`` [A] in ``control``'s
    step control; no field snapshots."""
    from devicephys.filament.spec import FilamentSpec

    change, step = CONTROLS[control]
    return FilamentSpec(**{**FilamentSpec.fast().model_dump(), "relax_compliances": list(compliances),
                           "max_concentration_change": change, "max_step_fraction": step, "field_snapshots": 0})


def _npz(out: Path, control: str) -> Path:
    return out / f"retention_{control}.npz"


def run_one(control: str, compliances, out: Path, progress: bool = False) -> Path:
    """One control's retention runs, written atomically to ``out/retention_<control>.npz``."""
    import dolfinx_solver  # noqa: F401  (MPI before DOLFINx)

    from devicephys.filament import stage
    from devicephys.io import write_npz

    start = time.perf_counter()
    runs = stage._retention_runs(spec_for(control, compliances), progress)
    meta = {"control": control, "compliances": [float(c) for c in compliances], "settings": CONTROLS[control],
            "wall_s": time.perf_counter() - start}
    return write_npz(_npz(out, control), meta, runs)


def run_all(controls, compliances, jobs: int, out: Path, resume: bool) -> None:
    """Each control in its own process (``jobs`` at a time); ``resume`` keeps those already written."""
    from devicephys.workers import run_missing

    commands = {c: [sys.executable, str(Path(__file__).resolve()), "--one", c, "--out", str(out),
                    "--compliances", *map(repr, compliances)] + (["--progress"] if jobs == 1 else []) for c in controls}
    run_missing(commands, lambda c: _npz(out, c), jobs, resume, lambda c: f"control {c}")


def load(out: Path, control: str, compliances) -> tuple[dict[str, np.ndarray], dict]:
    """(runs, meta) of one control; refuses a file written with other compliances or settings."""
    from devicephys.io import read_npz

    path = _npz(out, control)
    data, meta = read_npz(path)
    if meta["compliances"] != [float(c) for c in compliances] or list(meta["settings"]) != list(CONTROLS[control]):
        raise SystemExit(f"{path}: written with compliances {meta['compliances']} and settings {meta['settings']}, "
                         f"not {list(compliances)} and {CONTROLS[control]}; run without --resume or with another --out")
    return data, meta


def power_law(compliances, times) -> tuple[float, float]:
    """(beta, its standard error) of t = A I^beta by least squares on the logarithms (NaN with fewer than three)."""
    x, y = np.log(np.asarray(compliances, float)), np.log(np.asarray(times, float))
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return math.nan, math.nan
    x, y = x[ok], y[ok]
    a = np.vstack([x, np.ones_like(x)]).T
    coef, res, *_ = np.linalg.lstsq(a, y, rcond=None)
    dof = len(x) - 2
    sigma2 = float(res[0]) / dof if res.size and dof > 0 else 0.0
    cov = sigma2 * np.linalg.inv(a.T @ a)
    return float(coef[0]), float(math.sqrt(cov[0, 0]))


def lower_bound(spec, neck_fraction) -> np.ndarray:
    """Dissolution-only time [s] from each held neck fraction to the percolation threshold at the ambient."""
    from devicephys.filament import analytic, kinetics

    rate = float(kinetics.HoppingLaw.from_spec(spec).dissolution_rate(spec.ambient_temperature))
    c_p = spec.percolation_threshold
    return np.array([analytic.dissolution_time(c, c_p, rate, kinetics._EPS) if np.isfinite(c) and c > c_p else 0.0
                     for c in np.asarray(neck_fraction, float)])


def within_limit(spec, row) -> np.ndarray:
    """Compliances whose hold stayed below the insulator's thermal limit (and the metal's melting point)."""
    from devicephys.filament.simulate import temperature_limits

    limit = min(t for t, _ in temperature_limits(spec).values())
    return np.asarray(row["temperature_max_held"], float) < limit


def checks(spec, rows: dict[str, dict[str, np.ndarray]]) -> dict[str, tuple[float, float, bool]]:
    """{name: (value, allowed, passed)} on the two finest controls in ``rows`` (ordered coarse to fine)."""
    coarse, finest = list(rows)[-2:]
    keep = within_limit(spec, rows[coarse]) & within_limit(spec, rows[finest])
    a, b = (np.asarray(rows[c]["relaxation_time_held"], float)[keep] for c in (coarse, finest))
    both = np.isfinite(a) & np.isfinite(b)
    rel = float(np.max(np.abs(a[both] - b[both]) / b[both])) if both.any() else math.nan
    fine = b[np.isfinite(b)]
    rise = float(fine[-1] / fine[0] - 1.0) if fine.size >= 2 else math.nan
    worst = math.inf
    for row in rows.values():
        t = np.asarray(row["relaxation_time_held"], float)
        bound = lower_bound(spec, row["neck_metal_fraction_held"])
        ok = np.isfinite(t) & within_limit(spec, row)
        if ok.any():
            worst = min(worst, float(np.min(t[ok] / np.maximum(bound[ok], 1e-300))))
    return {"step": (rel, RETENTION_TARGET, bool(math.isfinite(rel) and rel <= RETENTION_TARGET)),
            "trend": (rise, rel, bool(math.isfinite(rise) and math.isfinite(rel) and rise > rel)),
            "bound": (worst, 1.0, bool(math.isfinite(worst) and worst >= 1.0))}


def figure(spec, compliances, rows: dict[str, dict[str, np.ndarray]], path: Path):
    """Self-rupture time (and its dissolution-only bound), V/I and the held neck against the compliance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from devicephys.io import save_figure

    i_cc = np.asarray(compliances, float)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4.2))
    for k, (control, row) in enumerate(rows.items()):
        t, hot = np.asarray(row["relaxation_time_held"], float), ~within_limit(spec, row)
        beta, se = power_law(i_cc[~hot], t[~hot])
        ax.loglog(i_cc, t * 1e6, "o-", color=f"C{k}", label=f"{control}: t_r ~ I_cc^({beta:.2f} ± {se:.2f})")
        ax.plot(i_cc[hot], t[hot] * 1e6, "x", ms=11, color=f"C{k}")
        ax.loglog(i_cc, lower_bound(spec, row["neck_metal_fraction_held"]) * 1e6, ":", color=f"C{k}",
                  label=f"{control}: dissolution of the held neck alone")
        bx.loglog(i_cc, np.asarray(row["resistance_on_held"], float), "s-", color=f"C{k}", label=f"V/I, {control}")
    ax.set(xlabel="compliance current [A]", ylabel="self-rupture time at 0 V [µs]",
           title="retention: set at 2.5 V, 2 µs hold, then 0 V\n(x: the hold passed the insulator's thermal limit)")
    ax.legend(fontsize=7)
    bx.set(xlabel="compliance current [A]", ylabel="V/I at the end of the hold [Ω]")
    twin = bx.twinx()
    for k, row in enumerate(rows.values()):
        twin.semilogx(i_cc, np.asarray(row["neck_metal_fraction_held"], float), "^--", color=f"C{k}", alpha=0.7)
    twin.set_ylabel("held neck's metal fraction (^) [1]")
    bx.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return save_figure(fig, path, close=True)


def main(argv: list[str] | None = None) -> int:
    from devicephys.io import atomic_write_text, writable_folder
    from devicephys.workers import report_checks

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--compliances", type=float, nargs="+", default=list(COMPLIANCES),
                   help="compliance currents [A] (at least three, each > 0)")
    p.add_argument("--controls", nargs="+", default=list(CONTROLS), choices=list(CONTROLS),
                   help="step controls to run (the checks compare the two finest given)")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="controls run at once (default: 2); with 1, each shows its progress bars")
    p.add_argument("--resume", action="store_true", help="keep the runs already written to --out")
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)  # one control, in a worker process
    p.add_argument("--progress", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", default="results/study15", help="output folder")
    args = p.parse_args(argv)
    compliances = sorted(set(args.compliances))
    if len(compliances) < 3 or any(c <= 0 for c in compliances):
        p.error(f"--compliances {args.compliances}: give at least three different currents, each > 0 A, "
                "e.g. 1e-6 1e-5 1e-4")
    if args.jobs < 1:
        p.error(f"--jobs {args.jobs}: must be at least 1")
    out = writable_folder(args.out)
    if args.one is not None:
        run_one(args.one, compliances, out, args.progress)
        return 0
    controls = [c for c in CONTROLS if c in args.controls]  # coarse to fine
    run_all(controls, compliances, args.jobs, out, args.resume)
    rows = {c: load(out, c, compliances)[0] for c in controls}
    spec = spec_for(controls[0], compliances)
    lines = ["control,compliance [A],self-rupture [s],read within [s],dissolution-only bound [s],"
             "neck metal fraction,neck radius [m],V/I [Ohm],peak T of the hold [K]"]
    for c, row in rows.items():
        bound = lower_bound(spec, row["neck_metal_fraction_held"])
        for k, i in enumerate(compliances):
            lines.append(f"{c},{i:g}," + ",".join(f"{float(row[n][k]):.6g}" for n in NAMES[:2]) + f",{bound[k]:.6g},"
                         + ",".join(f"{float(row[n][k]):.6g}" for n in NAMES[3:4] + NAMES[2:3] + NAMES[4:]))
        keep = within_limit(spec, row)
        beta, se = power_law(np.asarray(compliances)[keep], row["relaxation_time_held"][keep])
        print(f"{c}: self-rupture [us] " + "; ".join(
            f"{i:.3g} A: {t * 1e6:.3g} (neck {m:.3f}, {r:.3g} Ohm{'' if ok else ', past the thermal limit'})"
            for i, t, m, r, ok in zip(compliances, row["relaxation_time_held"], row["neck_metal_fraction_held"],
                                      row["resistance_on_held"], keep))
              + f"; t_r ~ I_cc^({beta:.3f} +- {se:.3f})", flush=True)
    atomic_write_text(out / "retention.csv", "\n".join(lines) + "\n")
    figure(spec, compliances, rows, out / "15_retention_compliance.png")
    if len(rows) < 2:
        print("the checks need two controls (--controls fine finer)")
        return 0
    return report_checks(checks(spec, rows), f"{list(rows)[-2]} and {list(rows)[-1]}")


if __name__ == "__main__":
    sys.exit(main())
