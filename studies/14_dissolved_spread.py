"""Study 14: where does the Ag dissolved from the growing filament go, and does it decide the slow sets?

Question: below 1 V the default cell sets slowly (hundreds of µs at 0.3 V) because the field's return of the
dissolved Ag holds the growing body at percolation.  That return counts on the dissolved Ag staying beside the
channel.  Three treatments of it: the one-compartment pool beside each axis node (the default), the pool with
``dissolved_escape`` (it also leaves at D / r_ch², a one-compartment estimate), and ``dissolved_spread`` (it is
followed as it diffuses through the matrix in (r, z) and returns at the channel's wall).  Which set times does each
give, and is the spread's answer converged in its radial grid?

Steps
-----
1. The default cell (fast preset) under a constant source at each of ``--voltages`` from the pristine cell until
   the bridge or ``set_time_limit`` (the set-time study's protocol), for each treatment; the spread also on finer
   radial grids (first shell half a hop wide; that with shells growing by 1.12 instead of 1.25; and a quarter hop).  Each
   run in its own process, ``--jobs`` at a time; the growing body at half closure
   (``devicephys.filament.balance``) and, with the spread, the dissolved Ag's radial profile at the end of the run
   on the node where the gap closed last.
2. Check (exit status 1 when it fails): the spread's set times on the finest grid (a quarter-hop first shell,
   shells growing by 1.12) against its default grid's, within :data:`GRID_TARGET` at every voltage where both set
   (and both set, or neither).  The difference between the treatments is the result, not a check.  Two more
   variants measure how far changes that should not matter move the slow sets: the Newton solves 100 times tighter
   (``spread_newton``), and the ambient 0.3 K warmer (``pool_warm``, ``spread_warm``: D up 0.3 %).  A fourth
   treatment, ``spread_drift`` (and ``spread_drift_quarter`` on the finest grid): the spread's Ag⁺ also drifts in the
   matrix's own field and temperature, and the wall returns it only where the radial field drives it inwards (with
   the channel's edge cut in the FEM's conductivity, ``channel_edge: cut``, which it needs; ``pool_cut`` and
   ``spread_cut`` are the pool and the spread with that edge alone; ``spread_drift_mesh`` the drift on the FEM's axis
   mesh halved; ``spread_plating`` the drift with the counter electrode plating the Ag⁺ that reaches its plane;
   ``spread_transfer`` that with the bridged filament's charge transfer, which acts only once bridged).

Outputs (``--out``, default results/study14): ``<variant>_<V>.npz`` per run (written atomically; ``--resume``
keeps them), ``summary.json`` and ``14_dissolved_spread.png`` (set times against voltage per treatment; the return
over the dissolution at half closure; the spread's radial profile).

``--wall-hold V`` instead: the drift's cell set at 2.5 V and held 5 µs at V; per axis node φ on the axis, at the
channel's (cut) edge and one hop beyond it, and the wall's return speed in the radial field there against the pool's
premise (``wall_hold.json``); ``--wall-variant`` another drifting treatment (``spread_plating``, ``spread_drift_mesh``,
``spread_transfer``: then also each node's overpotential against the hop beyond the edge and, while bridged, the
charge transfer's reduction weight and dissolution factor).

Usage: python studies/14_dissolved_spread.py [--voltages 0.3 0.5 0.8 1.0 2.5] [--jobs 2] [--resume]
       python studies/14_dissolved_spread.py --wall-hold 0.3
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

VOLTAGES = (0.3, 0.5, 0.8, 1.0, 2.5)  # [V] source voltages of the set runs
#: the treatments: FilamentSpec options over the fast preset
VARIANTS = {
    "pool": {},
    "escape": {"dissolved_escape": True},
    "spread": {"dissolved_spread": True},
    "spread_half": {"dissolved_spread": True, "spread_first_width": 0.25e-9},
    "spread_fine": {"dissolved_spread": True, "spread_first_width": 0.25e-9, "spread_growth": 1.12},
    "spread_quarter": {"dissolved_spread": True, "spread_first_width": 0.125e-9, "spread_growth": 1.12},
    # the default grid with the Newton solves 100 times tighter: how far a change that moves no physics moves the set
    "spread_newton": {"dissolved_spread": True, "newton_rtol": 1e-8},
    # 0.3 K warmer (D up 0.3 %): how far a small smooth change of the physics moves the slow sets, with either treatment
    "pool_warm": {"ambient_temperature": 300.3},
    "spread_warm": {"dissolved_spread": True, "ambient_temperature": 300.3},
    # the spread drifting in the matrix's own field and temperature (Nernst-Planck), and that on the quarter-hop grid
    "spread_drift": {"dissolved_spread": True, "spread_drift": True, "channel_edge": "cut"},
    "spread_drift_quarter": {"dissolved_spread": True, "spread_drift": True, "channel_edge": "cut",
                             "spread_first_width": 0.125e-9, "spread_growth": 1.12},
    # the drift on the FEM's axis mesh halved (0.25 nm elements: the matrix's field, the channel's nodes)
    "spread_drift_mesh": {"dissolved_spread": True, "spread_drift": True, "channel_edge": "cut",
                          "axis_mesh_size": 0.25e-9},
    # the drift with the counter electrode plating the Ag+ that reaches its plane (counter_plating)
    "spread_plating": {"dissolved_spread": True, "spread_drift": True, "channel_edge": "cut", "counter_plating": True},
    # that with the bridged filament's Butler-Volmer charge transfer at the matrix's overpotential (bridged_transfer)
    "spread_transfer": {"dissolved_spread": True, "spread_drift": True, "channel_edge": "cut", "counter_plating": True,
                        "bridged_transfer": True},
    # the channel's edge cut in the FEM's conductivity, with the pool and with the spread (no drift)
    "pool_cut": {"channel_edge": "cut"},
    "spread_cut": {"dissolved_spread": True, "channel_edge": "cut"},
}
GRID_TARGET = 0.05  # [1] the spread's set times on its finest grid against its default grid's (a stated target)
BODY = ("time", "metal_fraction", "dissolved_fraction", "return_ratio", "voltage_share")


def spec_for(variant: str, step_check: float | None = None):
    """The fast preset with the variant's options, no snapshots; under its step check at ``step_check`` if given
    (``stage.checked_spec``: the set-time runs converged in the step control at 0.01)."""
    from devicephys.filament.spec import FilamentSpec
    from devicephys.filament.stage import checked_spec

    spec = FilamentSpec(**{**FilamentSpec.fast().model_dump(), **VARIANTS[variant], "field_snapshots": 0})
    return spec if step_check is None else checked_spec(spec.model_copy(update={"step_check": step_check}))


def _name(variant: str, voltage: float) -> str:
    return f"{variant}_{voltage:g}.npz"


def measure(variant: str, voltage: float, step_check: float | None = None) -> dict[str, np.ndarray]:
    """One set run: set time [s] (NaN: none within the limit), the body at half closure, and with the spread the
    radial profile (shell radii [m], matrix fraction [1]) on the last node to close."""
    import dolfinx_solver  # noqa: F401  (MPI before DOLFINx)

    from devicephys.filament import extract, stage
    from devicephys.filament import simulate as sim
    from devicephys.filament.balance import BodyBalance, HalfClosure

    spec = spec_for(variant, step_check)
    model = sim.CellModel(spec)
    half = HalfClosure(model)
    trace = stage._constant_set(model, spec, voltage, f"{variant} at {voltage:g} V", False, observer=half)
    i = extract.set_index(trace.array("gap"), spec.gap_on)
    body = half.result or BodyBalance.missing()
    out = {"set_time": np.array(float(trace.array("time")[i]) if i is not None else math.nan),
           "body": np.array([float(getattr(body, k)) for k in BODY]),
           "pool": np.array(float(np.dot(model.transport.volume, model.transport.pool_total(model.c_s))))}
    spread = model.transport.spread
    if spread is not None:
        node = int(np.argmin(model.c))  # the gap's last node (the neck once bridged)
        out["radius"], out["profile"] = spread.radius, model.c_s[node, :spread.alpha.size] / spread.alpha
    return out


def wall_hold(bias: float, hold: float = 5e-6, set_voltage: float = 2.5,
              variant: str = "spread_drift") -> dict[str, list[float]]:
    """Where the matrix's own field returns the dissolved Ag to a held ON state: the cell (``spread_drift``) set at
    ``set_voltage`` [V], then held at ``bias`` [V] for ``hold`` [s]; per axis node the metal fraction, φ on the axis,
    at the channel's cut edge (``phi_wall_V``) and one hop beyond it [V], the wall's return speed in the radial field
    there and the pool's premise |v_MG(E_node)| [m/s], and the first shell's Ag [1]."""
    import dolfinx_solver  # noqa: F401  (MPI before DOLFINx)

    from devicephys.filament import simulate as sim
    from devicephys.filament import stage

    spec = spec_for(variant)
    model = sim.CellModel(spec)
    stage._constant_set(model, spec, set_voltage, f"set at {set_voltage:g} V", False)
    sim.run_drive(model, lambda t: bias, hold, dt_max=spec.hold_step)
    z, phi, T = model.et.axis_values(model.z_lo, model.z_hi)
    E = -np.diff(phi) / model.transport.h
    E_node = np.concatenate(([E[0]], 0.5 * (E[:-1] + E[1:]), [E[-1]]))
    matrix = model.matrix_fields()
    w, f = model._rates(model.c, E, phi, T, True, matrix)
    return {"variant": variant, "bias_V": bias, "hold_s": hold, "gap_m": float(model.gap()), "z_m": z.tolist(),
            "metal": model.c.tolist(), "plated": model.transport.plated(model.c_s).tolist(),
            "phi_axis_V": phi.tolist(), "phi_wall_V": matrix[0][:, 0].tolist(), "phi_hop_V": matrix[0][:, 1].tolist(),
            "return_speed_radial_m_s": model.transport.matrix_drift(*matrix)[0].tolist(),
            "return_speed_node_field_m_s": np.abs(model.transport.law.drift_velocity(E_node, T)).tolist(),
            "first_shell": model.c_s[:, 0].tolist(), "overpotential_V": (phi - matrix[0][:, 1]).tolist(),
            "reduction_weight": w.tolist(), "dissolution_factor": None if f is None else f.tolist()}


def run_one(variant: str, voltage: float, out: Path, step_check: float | None = None) -> Path:
    from devicephys.io import write_npz

    return write_npz(out / _name(variant, voltage), {"variant": VARIANTS[variant], "step_check": step_check},
                     measure(variant, voltage, step_check))


def load(out: Path, variant: str, voltage: float, step_check: float | None = None) -> dict[str, np.ndarray]:
    from devicephys.io import read_npz

    path = out / _name(variant, voltage)
    data, meta = read_npz(path)
    if meta["variant"] != VARIANTS[variant] or meta.get("step_check") != step_check:
        raise SystemExit(f"{path}: written with options {meta['variant']} and step check {meta.get('step_check')}, "
                         f"not {VARIANTS[variant]} and {step_check}; run without --resume or with another --out")
    return data


def run_all(runs: list[tuple[str, float]], jobs: int, out: Path, resume: bool, step_check: float | None) -> None:
    from devicephys.workers import run_missing

    extra = [] if step_check is None else ["--step-check", repr(step_check)]
    commands = {r: [sys.executable, str(Path(__file__).resolve()), "--one", f"{r[0]}:{r[1]!r}", "--out", str(out),
                    *extra] for r in runs}
    run_missing(commands, lambda r: out / _name(*r), jobs, resume, lambda r: f"{r[0]} at {r[1]:g} V")


def grid_check(set_times: dict[str, np.ndarray]) -> tuple[float, bool]:
    """(largest relative difference [1] of the spread's set times, finest grid against default; passed).  A voltage
    where one grid sets and the other does not counts as an infinite difference; where neither sets, as none."""
    a, b = set_times["spread_quarter"], set_times["spread"]
    worst = 0.0
    for x, y in zip(a, b):
        if math.isfinite(x) != math.isfinite(y):
            worst = math.inf
        elif math.isfinite(x):
            worst = max(worst, abs(x - y) / y)
    return worst, worst <= GRID_TARGET


def figure(voltages, set_times, bodies, profiles, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from devicephys.io import save_figure

    v = np.asarray(voltages, float)
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(14, 3.8))
    for k, (name, t) in enumerate(set_times.items()):
        style = "o-" if not name.startswith("spread_") else "x--"
        sets = np.isfinite(t)
        ax1.semilogy(v[sets], t[sets] * 1e6, style, ms=4, color=f"C{k}", label=name)
        ax1.plot(v[~sets] + 0.02 * k, np.full((~sets).sum(), 1e3), "v", color=f"C{k}", ms=6)  # side by side
        ax2.plot(v, bodies[name][:, BODY.index("return_ratio")], style, ms=4, color=f"C{k}", label=name)
    ax1.set(xlabel="source voltage [V]", ylabel="set time [µs] (▼: none within the limit)",
            title="set time from the pristine cell")
    ax1.legend(fontsize=7)
    ax2.set(xlabel="source voltage [V]", ylabel="return / dissolution [1]", title="growing body at half closure")
    ax2.legend(fontsize=7)
    for k, (volts, (r, u)) in enumerate(profiles.items()):
        ax3.loglog(r * 1e9, np.maximum(u, 1e-12), "o-", ms=3, color=f"C{k}", label=f"{volts:g} V")
    ax3.set(xlabel="radius [nm]", ylabel="dissolved Ag, matrix fraction [1]",
            title="the spread's Ag at the end of the run (gap's node)")
    ax3.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path, close=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--voltages", type=float, nargs="+", default=list(VOLTAGES), help="source voltages [V]")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS),
                   help="treatments of the dissolved Ag (default: all)")
    p.add_argument("--step-check", type=float, default=None,
                   help="run under the step check at this value (stage.checked_spec; 0.01: converged), e.g. 0.01")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="runs at once (default: 2)")
    p.add_argument("--resume", action="store_true", help="keep the runs already written to --out")
    p.add_argument("--wall-hold", type=float, default=None, metavar="V",
                   help="only: where the matrix's own field returns the Ag to an ON state held at V volts "
                        "(spread_drift; set at 2.5 V, 5 us hold; wall_hold.json), e.g. 0.3")
    p.add_argument("--wall-variant", default="spread_drift",
                   choices=[v for v in VARIANTS if VARIANTS[v].get("spread_drift")],
                   help="the drifting treatment --wall-hold sets and holds (default: spread_drift)")
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)  # one run, in a worker process
    p.add_argument("--out", default="results/study14", help="output folder")
    args = p.parse_args(argv)
    from devicephys.io import atomic_write_text, writable_folder

    voltages = sorted(set(args.voltages))
    if not voltages or not all(math.isfinite(v) and v > 0 for v in voltages):
        p.error(f"--voltages {args.voltages}: give positive voltages [V], e.g. 0.3 0.5 1.0")
    if args.jobs < 1:
        p.error(f"--jobs {args.jobs}: must be at least 1")
    if args.step_check is not None and not 0 < args.step_check <= 0.5:
        p.error(f"--step-check {args.step_check}: must be in (0, 0.5], e.g. 0.01")
    if args.wall_hold is not None and not (math.isfinite(args.wall_hold) and 0 <= args.wall_hold <= 3):
        p.error(f"--wall-hold {args.wall_hold}: give a hold bias in [0, 3] V, e.g. 0.3")
    out = writable_folder(args.out)
    if args.wall_hold is not None:
        prof = wall_hold(args.wall_hold, variant=args.wall_variant)
        atomic_write_text(out / "wall_hold.json", json.dumps(prof, indent=1) + "\n")
        print(f"{prof['variant']}: ON state held {prof['hold_s'] * 1e6:g} us at {prof['bias_V']:g} V "
              f"(gap {prof['gap_m'] * 1e9:.2f} nm):")
        print(" z [nm]  c_m    phi axis / edge / hop [V]     return speed: radial field / node field [m/s]")
        for k, z in enumerate(prof["z_m"]):
            print(f"{z * 1e9:6.2f}  {prof['metal'][k]:.3f}  {prof['phi_axis_V'][k]:.4f} / {prof['phi_wall_V'][k]:.4f} / "
                  f"{prof['phi_hop_V'][k]:.4f}   {prof['return_speed_radial_m_s'][k]:.3e} / "
                  f"{prof['return_speed_node_field_m_s'][k]:.3e}")
        if spec_for(args.wall_variant).bridged_transfer:  # the filament's charge transfer (spread_transfer)
            bridged = prof["dissolution_factor"] is not None
            print(" z [nm]  overpotential [mV]  reduction weight  dissolution factor" +
                  ("" if bridged else "  (not bridged now: the neck's rule)"))
            for k, z in enumerate(prof["z_m"]):
                f = f"{prof['dissolution_factor'][k]:18.3f}" if bridged else f"{'-':>18}"
                eta_mV, w = prof["overpotential_V"][k] * 1e3, prof["reduction_weight"][k]
                print(f"{z * 1e9:6.2f}  {eta_mV:18.2f}  {w:16.3f}  {f}")
        radial = np.dot(prof["return_speed_radial_m_s"], prof["first_shell"])
        node = np.dot(prof["return_speed_node_field_m_s"], prof["first_shell"])
        print(f"the first shell's return, radial field over node field: {radial / node:.3g}")
        return 0
    if args.one is not None:
        variant, volts = args.one.split(":")
        run_one(variant, float(volts), out, args.step_check)
        return 0
    variants = list(dict.fromkeys(args.variants))
    run_all([(n, v) for n in variants for v in voltages], args.jobs, out, args.resume, args.step_check)
    data = {n: [load(out, n, v, args.step_check) for v in voltages] for n in variants}
    set_times = {n: np.array([float(d["set_time"]) for d in data[n]]) for n in variants}
    bodies = {n: np.array([d["body"] for d in data[n]]) for n in variants}
    profiles = {v: (d["radius"], d["profile"]) for v, d in zip(voltages, data.get("spread", []))}
    summary = {"voltages_V": voltages, "variants": {n: VARIANTS[n] for n in variants}, "step_check": args.step_check,
               "set_times_s": {n: [float(x) for x in t] for n, t in set_times.items()},
               "body": {n: [dict(zip(BODY, map(float, b))) for b in bodies[n]] for n in variants}}
    passed = True
    if {"spread", "spread_quarter"} <= set(variants):
        worst, ok = grid_check(set_times)
        summary["grid_check"] = {"relative": worst, "allowed": GRID_TARGET, "passed": ok}
        passed = ok
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1, default=float) + "\n")
    figure(voltages, set_times, bodies, profiles, out / "14_dissolved_spread.png")
    print("set time [us] (-: none within the limit); return / dissolution at half closure")
    print("variant        " + "".join(f"{v:>16g} V" for v in voltages))
    for n in variants:
        cells = [(f"{t * 1e6:.4g}" if math.isfinite(t) else "-") + f" / {b[BODY.index('return_ratio')]:.2f}"
                 for t, b in zip(set_times[n], bodies[n])]
        print(f"{n:<15}" + "".join(f"{c:>18}" for c in cells))
    if "grid_check" in summary:
        g = summary["grid_check"]
        print(f"check the spread's grid (finest against default): {g['relative']:.3g} against {GRID_TARGET:g} -> "
              f"{'ok' if g['passed'] else 'FAILED'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
