"""Study 18: how large is the potential of the channel's own ions, against the voltage their drift crosses?

Question: the channel transport drifts its Ag+ ions in the applied bias's field alone (the potential equation is
current continuity; the ions carry no charge in it).  That holds while the potential ψ of their own charge is small
against the voltage the drift crosses.  How large is ψ during a set, on the default cell (its active electrode supplies
ions at ``source_concentration``, 0.2 of the sites) and on the anode's Nernst bound at its two limits (``anode_nernst``:
the layer at c_src behind a double layer holding η_src; ``anode_nernst_split: hopping``: the layer at the electrode's
rest c_eq = c_src / 1430, the drift taking the whole gap voltage)?  And which ion fraction would the charge-free
drift allow?

Steps
-----
1. The linear response: ψ is linear in the ions' charge, so ψ₁, the largest potential of a uniform ion fraction 1
   along the pristine cell's channel, gives the uniform fraction the charge-free drift allows,
   c_allowed = :data:`~devicephys.filament.ion_charge.SPACE_CHARGE_LIMIT` × V / ψ₁ at a channel voltage V.  On the fast
   preset's mesh and the default (finer) one.  Check (exit status 1 when it fails): the two meshes' ψ₁ agree within
   :data:`MESH_TARGET` (the number is the model's, not the mesh's).
2. For each case of ``--cases``, a constant source from the pristine cell up to its set (the set-time study's protocol,
   study 17's step control and window: :data:`CASES`), ψ after every accepted step while the gap is open
   (``CellModel.ion_potential``: Poisson's equation on the cell's mesh, the ions uncompensated, every conductor
   grounded), with the channel's voltage, the largest ion fraction on the axis and the gap.

Outputs (``--out``, default results/study18): ``<case>.npz`` per run (written atomically; ``--resume`` keeps them),
``space_charge.csv`` (per case: set time, the largest ψ, the ratio ψ / max(V_channel, k_B T / e): its median over the
run's time (each step's ratio weighted by its step) and its largest, when, the ion fraction then), ``summary.json`` (the linear response and the check) and ``18_ion_space_charge.png`` (the ratio
against the time to the set, per case, with the validity limit; ψ along the axis at each case's largest ratio).

Usage: python studies/18_ion_space_charge.py [--cases default layer hopping] [--resume] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

#: case -> (the cell's options, the constant source voltage [V], the run's window [s]): each sets well inside its
#: window (study 17: the default cell and the layer limit within a millisecond, the hopping limit in 9.4 ms at 2 V)
CASES = {
    "default": ({}, 0.5, 0.01),
    "layer": ({"active_electrode_equilibrium": True, "anode_nernst": True}, 0.3, 0.01),
    "hopping": ({"active_electrode_equilibrium": True, "anode_nernst": True, "anode_nernst_split": "hopping"}, 2.0,
                0.1),
}
#: relative: ψ₁ on the fast preset's mesh and the default mesh agree within this
MESH_TARGET = 0.05
#: [s] the largest step and the Ag fraction's change per step of the runs (study 17's level 0)
BASE_STEP, BASE_CHANGE = 25e-6, 0.05


def spec_for(case: str):
    """The fast preset (no snapshots) with the case's options, for a constant-voltage run of up to its window, the
    step floor at min_step_fraction of the elapsed time (resolve_set), as study 17's constant runs."""
    from devicephys.filament.spec import FilamentSpec

    options, _, window = CASES[case]
    return FilamentSpec.fast().model_copy(update={
        **options, "field_snapshots": 0, "set_time_limit": window, "max_concentration_change": BASE_CHANGE,
        "max_step_fraction": min(BASE_STEP / window, 1 / 80), "resolve_set": True})


def linear_response(spec) -> float:
    """ψ₁ [V]: the largest potential of a uniform ion fraction 1 along the pristine cell's channel (``spec``'s mesh)."""
    from devicephys.filament import simulate as sim

    model = sim.CellModel(spec)
    model.c_i[:] = 1.0
    _, psi = model.ion_potential()
    return float(psi.max())


def run_case(case: str, out: Path) -> Path:
    """One case's constant-voltage set with ψ after every accepted step, written to ``out/<case>.npz``."""
    from devicephys.filament import simulate as sim
    from devicephys.filament import stage
    from devicephys.filament.ion_charge import IonChargePeak
    from devicephys.io import write_npz
    from devicephys.units import e, k_B

    spec = spec_for(case)
    _, voltage, window = CASES[case]
    model = sim.CellModel(spec)
    peak = IonChargePeak(model)
    rows: list[tuple[float, ...]] = []
    profile: dict[str, np.ndarray] = {}

    def observe(m, sample):
        peak(m, sample)
        if sample["gap"] <= 0.0:
            return
        z, psi = m.ion_potential()
        v_ch = m.channel_voltage()
        _, _, T = m.et.axis_values(m.z_lo, m.z_hi)
        ratio = float(psi.max()) / max(v_ch, k_B * float(T.max()) / e)
        rows.append((m.time, float(psi.max()), v_ch, float(m.c_i.max()), float(sample["gap"]), ratio))
        if ratio >= max((r[-1] for r in rows), default=0.0):
            profile.update(z=z, psi=psi)

    t0 = time.perf_counter()
    trace = stage._constant_set(model, spec, voltage, f"{case} at {voltage:g} V", True, observer=observe)
    gap = trace.array("gap")
    set_at = float(trace.array("time")[-1]) if gap[-1] < spec.gap_on else math.nan
    data = np.array(rows, float).reshape(-1, 6)
    result = peak.result
    meta = {"case": case, "voltage": voltage, "window": window, "set_time": set_at, "wall_s": time.perf_counter() - t0,
            "potential": result.potential, "ratio": result.ratio, "ratio_time": result.time,
            "ratio_median": result.ratio_median,
            "ion_fraction": result.ion_fraction, "channel_voltage": result.channel_voltage}
    return write_npz(out / f"{case}.npz", meta, {"time": data[:, 0], "potential": data[:, 1],
                                                   "channel_voltage": data[:, 2], "ion_fraction": data[:, 3],
                                                   "gap": data[:, 4], "ratio": data[:, 5],
                                                   "profile_z": profile.get("z", np.zeros(0)),
                                                   "profile_psi": profile.get("psi", np.zeros(0))})


def figure(runs: dict, limit: float, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from devicephys.io import save_figure

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4))
    for case, (meta, arr) in runs.items():
        t_end = meta["set_time"] if math.isfinite(meta["set_time"]) else float(arr["time"][-1])
        ax.semilogy(arr["time"] / t_end, arr["ratio"], label=f"{case}, {meta['voltage']:g} V (set {t_end:.3g} s)")
        bx.plot(np.asarray(arr["profile_z"]) * 1e9, arr["profile_psi"], label=f"{case}: ratio {meta['ratio']:.3g}")
    ax.axhline(limit, color="k", ls="--", lw=0.8, label=f"charge-free drift's limit {limit:g}")
    ax.set_xlabel("time / set time")
    ax.set_ylabel("ψ_max / max(V_channel, k_B T/e)")
    ax.set_title("the ions' own potential over the set")
    ax.legend(fontsize=7)
    bx.set_yscale("symlog", linthresh=0.1)
    bx.set_xlabel("z along the channel [nm]")
    bx.set_ylabel("ψ [V]")
    bx.set_title("ψ on the axis at each case's largest ratio")
    bx.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path, close=True)


def main(argv: list[str] | None = None) -> int:
    from devicephys.filament.ion_charge import SPACE_CHARGE_LIMIT
    from devicephys.filament.spec import FilamentSpec
    from devicephys.io import atomic_write_text, read_npz, writable_folder
    from devicephys.workers import report_checks

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES),
                   help="cells to run (default: all three; none: the linear response alone)")
    p.add_argument("--resume", action="store_true", help="keep the runs already written to --out")
    p.add_argument("--out", default="results/study18", help="output folder")
    args = p.parse_args(argv)
    out = writable_folder(args.out)
    fast, default = linear_response(FilamentSpec.fast()), linear_response(FilamentSpec())
    deviation = abs(fast - default) / default
    print(f"uniform ion fraction 1 on the pristine channel: psi_1 = {fast:.4g} V (fast preset's mesh), "
          f"{default:.4g} V (default mesh); the charge-free drift allows c <= {SPACE_CHARGE_LIMIT:g} V / psi_1 = "
          f"{SPACE_CHARGE_LIMIT / default:.3g} per volt across the channel", flush=True)
    runs = {}
    for case in [c for c in CASES if c in args.cases]:
        path = out / f"{case}.npz"
        if not (args.resume and path.is_file()):
            run_case(case, out)
        arr, meta = read_npz(path)
        runs[case] = (meta, arr)
        print(f"{case} at {meta['voltage']:g} V: set at {meta['set_time']:.4g} s; largest psi "
              f"{meta['potential']:.4g} V; ratio's time-weighted median {meta['ratio_median']:.4g}, largest "
              f"{meta['ratio']:.4g} at {meta['ratio_time']:.4g} s "
              f"(channel {meta['channel_voltage']:.4g} V, ions up to {meta['ion_fraction']:.3g} of the sites)",
              flush=True)
    lines = ["case,source voltage [V],set time [s],largest psi [V],ratio's time-weighted median [1],largest ratio [1],"
             "at [s],channel voltage then [V],largest ion fraction then [1]"]
    for case, (m, _) in runs.items():
        lines.append(f"{case},{m['voltage']:g},{m['set_time']:.6g},{m['potential']:.6g},{m['ratio_median']:.6g},"
                     f"{m['ratio']:.6g},"
                     f"{m['ratio_time']:.6g},{m['channel_voltage']:.6g},{m['ion_fraction']:.6g}")
    atomic_write_text(out / "space_charge.csv", "\n".join(lines) + "\n")
    checks = {"psi_1 on the two meshes": (deviation, MESH_TARGET, deviation <= MESH_TARGET)}
    summary = {"psi_1_fast_mesh_V": fast, "psi_1_default_mesh_V": default,
               "allowed_fraction_per_volt": SPACE_CHARGE_LIMIT / default, "limit": SPACE_CHARGE_LIMIT,
               "checks": {k: {"value": v, "allowed": a, "passed": ok} for k, (v, a, ok) in checks.items()},
               "cases": {c: m for c, (m, _) in runs.items()}}
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, default=float) + "\n")
    if runs:
        figure(runs, SPACE_CHARGE_LIMIT, out / "18_ion_space_charge.png")
    return report_checks(checks, "the fast preset's and the default mesh")


if __name__ == "__main__":
    sys.exit(main())
