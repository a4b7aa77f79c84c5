"""Benchmark of stage 1: a set + hold + rupture cycle, the fast stage, cost per step against unknowns.

Measures, side by side in one run (medians of ``--repeat`` runs):

* one cycle of the default cell: a set (constant source at the largest set voltage until the
  filament bridges), a hold of ``HOLD_S`` at half the smallest set voltage (between the sweep's
  hold and threshold voltages), then the self-rupture at zero bias;
  serially and under ``mpiexec -n 2`` (DOLFINx distributes the mesh; the 1-D channel transport
  is replicated on each rank).  Target: under 30 s serial.  The default cell's step control is the full
  preset's, converged; ``--coarse-step`` runs the cycle with the fast preset's (the change limit 0.05 alone)
  as well, alternating, for what the convergence costs; ``--capillary`` runs it with the dissolution's
  Gibbs-Thomson radius dependence (``gibbs_thomson_radius``: a predictor solve of the channel transport per
  step) as well, alternating, for what the option costs; ``--pool-step`` runs it with the change limit on the metal
  alone (``pool_change_limit: false``) as well, alternating, for what the dissolved pool in the limit costs;
* ``--stage``: the fast preset's whole stage (sweep, set-time study, relaxation, thermal step) as
  it runs (the last three in a second process beside the sweep where two cores are free) and all in
  one process, alternating.  Target: under 20 s;
* ``--meshes``: the cost of one electrothermal time step against the number of unknowns on four
  meshes (the fast preset's, the default and two finer ones): ``PROBE_STEPS`` steps of the pristine
  cell at the largest set voltage with its silver held (``frozen``: the Newton solve of φ and T,
  which is what grows with the mesh; the channel transport is O(axis nodes)), with the exponent
  of cost ~ unknowns^p, and 2 ranks against serial on the two finest;
* ``--assembly`` (alone): the per-call cost of the assemblies every Newton iteration and step pays on the fast
  preset's cell, each against its variant in alternating blocks: the residual with its lifting left out where the
  iterate holds the Dirichlet values against DOLFINx's (which always lifts), the current over the window's cells
  against all cells (both checked equal), and the Jacobian;
* ``--ion-field`` (alone): the channel transport's step with the ions in their own field (``ion_compensation``: the
  dense Newton with the Green's matrix) against the charge-free step (the banded Newton), per call, in alternating
  blocks, and the Green's matrix's build (one Poisson solve per axis node).

    python benchmarks/bench_filament.py [--repeat 3] [--fast] [--coarse-step] [--capillary] [--pool-step] [--stage]
                                        [--meshes]
    python benchmarks/bench_filament.py --assembly
    python benchmarks/bench_filament.py --ion-field
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 30.0
STAGE_TARGET_S = 20.0
HOLD_S = 20e-6  # [s] held ON at half the smallest set voltage between the set and the rupture
#: (axis_mesh_size, far_mesh_size) [m] of the per-step cost: the fast preset's, the default, two finer ones (the
#: finest about 2e4 unknowns, where a second rank pays).
MESHES = ((0.5e-9, 40e-9), (0.4e-9, 25e-9), (0.25e-9, 15e-9), (0.1e-9, 6e-9))
PROBE_STEPS = 40  # electrothermal steps timed per mesh


def cycle(fast: bool, coarse: bool = False, capillary: bool = False, metal_only: bool = False) -> dict:
    """One set + hold + rupture cycle in this process (``coarse``: the default cell with the fast preset's step
    control; ``capillary``: with ``gibbs_thomson_radius``; ``metal_only``: ``pool_change_limit`` false); returns
    timings and sizes (rank 0 prints)."""
    from mpi4py import MPI

    from devicephys.filament import simulate as sim
    from devicephys.filament.spec import FAST_STEP_CONTROL, FilamentSpec

    spec = FilamentSpec.fast() if fast else FilamentSpec(**(FAST_STEP_CONTROL if coarse else {}))
    if capillary:
        spec = spec.model_copy(update={"gibbs_thomson_radius": True})
    if metal_only:
        spec = spec.model_copy(update={"pool_change_limit": False})
    t0 = time.perf_counter()
    model = sim.CellModel(spec)
    built = time.perf_counter()
    v = max(spec.set_voltages)
    set_trace = sim.run_drive(model, lambda t: v, spec.set_time_limit, dt_max=spec.set_time_limit * spec.max_step_fraction,
                              stop=lambda s: s["gap"] < spec.gap_on)
    v_hold = min(spec.set_voltages) / 2
    hold = sim.run_drive(model, lambda t: v_hold, HOLD_S, dt_max=HOLD_S * spec.max_step_fraction * 10)
    relax = sim.run_drive(model, lambda t: 0.0, spec.relax_duration,
                          dt_max=spec.relax_duration * spec.max_step_fraction, dt_first=1e-12,
                          stop=lambda s: s["gap"] > spec.gap_rupture)
    done = time.perf_counter()
    return {"ranks": MPI.COMM_WORLD.size, "unknowns": model.unknowns, "steps": len(set_trace) + len(hold) + len(relax),
            "mesh_s": built - t0, "cycle_s": done - built, "total_s": done - t0,
            "set_time_s": set_trace.array("time")[-1], "rupture_time_s": relax.array("time")[-1],
            "on_at_hold_end": bool(hold.array("gap")[-1] < spec.gap_on)}


def stage() -> dict:
    """The fast preset's whole stage in memory (no files), serial."""
    from devicephys.filament.spec import FilamentSpec
    from devicephys.filament.stage import solve_filament

    t0 = time.perf_counter()
    result = solve_filament(FilamentSpec.fast(), progress=False)
    attrs = result.data.attrs
    parts = {k[len("wall_time_"):-2]: float(v) for k, v in attrs.items() if k.startswith("wall_time_")}
    solver = {k: int(attrs.get(f"solver_{k}", 0))
              for k in ("newton_iterations", "newton_iterations_failed", "staggered_sweeps", "staggered_stalled")}
    return {"ranks": 1, "total_s": time.perf_counter() - t0, "parts": parts, "solver": solver}


def per_step(mesh: int) -> dict:
    """Wall time per electrothermal step (silver frozen, 10 ns steps) on mesh ``MESHES[mesh]``."""
    from mpi4py import MPI

    from devicephys.filament import simulate as sim
    from devicephys.filament.spec import FilamentSpec

    axis, far = MESHES[mesh]
    spec = FilamentSpec(axis_mesh_size=axis, far_mesh_size=far)
    model = sim.CellModel(spec)
    v = max(spec.set_voltages)
    t0 = time.perf_counter()
    dt = 10e-9
    trace = sim.run_drive(model, lambda t: v, PROBE_STEPS * dt, dt_max=dt, dt_first=dt, frozen=True)
    wall = time.perf_counter() - t0
    return {"ranks": MPI.COMM_WORLD.size, "unknowns": model.unknowns, "steps": len(trace) - 1,
            "step_s": wall / max(len(trace) - 1, 1), "total_s": wall}


def assembly(calls: int = 300, blocks: int = 7) -> dict:
    """Per-call cost [ms] of what every Newton iteration and every step pays, on the fast preset's cell at a solved
    1 V, 1 ns state, the two variants of each timed in alternating blocks (medians of ``blocks``): the residual as
    the solver assembles it (lifting left out where x holds the Dirichlet values) and as DOLFINx's
    ``assemble_residual`` (lifting always), the Jacobian, and the current over the window's cells and over all."""
    from devicephys.filament import simulate as sim
    from devicephys.filament.fem import solve  # loads MPI before DOLFINx
    from devicephys.filament.spec import FilamentSpec

    import ufl
    from dolfinx import fem
    from dolfinx.fem import petsc as fem_petsc

    et = sim.CellModel(FilamentSpec.fast()).et
    if not et.solve(1.0, dt=1e-9):
        raise RuntimeError("the 1 V state did not solve")
    prob, bcs = et.problem, et._dirichlet(coupled=True)
    et._to_coupled()
    x = prob.x
    x.array[:] = et.u.x.array[: x.getLocalSize()]
    b = prob.b.duplicate()
    ours = solve._residual_lifting_when_needed(prob.b)
    sigma = et.medium.sigma(et.T, et.c)
    dx = ufl.Measure("dx", domain=et.data.domain,
                     metadata={"quadrature_degree": 3 + et.medium.quadrature_extra})
    zaxis = et.data.domain.geometry.dim - 1
    current_all = fem.form(-sigma * et.phi.dx(zaxis) * et._chi.dx(zaxis) * et.weight * dx)
    if fem.assemble_scalar(current_all) != fem.assemble_scalar(et._forms["current"]):
        raise RuntimeError("the window's current differs from the whole mesh's")
    work = {
        "residual": lambda: ours(prob.solver, x, b, prob.u, prob.F, prob.J, bcs),
        "residual_dolfinx": lambda: fem_petsc.assemble_residual(prob.solver, x, b, prob.u, prob.F,
                                                                                      prob.J, bcs),
        "jacobian": lambda: fem_petsc.assemble_jacobian(prob.solver, x, prob.A, None, prob.u, prob.J, None, bcs),
        "current_window": lambda: fem.assemble_scalar(et._forms["current"]),
        "current_all": lambda: fem.assemble_scalar(current_all),
    }
    times: dict[str, list[float]] = {k: [] for k in work}
    for _ in range(blocks):
        for name, f in work.items():
            t0 = time.perf_counter()
            for _ in range(calls):
                f()
            times[name].append((time.perf_counter() - t0) / calls * 1e3)
    return {name: statistics.median(ts) for name, ts in times.items()}


def ion_field(calls: int = 200, blocks: int = 7) -> dict:
    """Per-call cost [ms] of the channel transport's step on the fast preset's cell 10 us into a 1 V set with
    ``ion_compensation`` 0.99 (ions on the axis, no metal yet bridging), charge-free (the banded Newton) against
    coupled (the dense Newton with the ions' Green's matrix), alternating blocks, medians of ``blocks``; and the
    Green's matrix's build (one Poisson solve per axis node) with the grounded metal changed each call."""
    import numpy as np

    from devicephys.filament import simulate as sim
    from devicephys.filament import stage as st
    from devicephys.filament.spec import FilamentSpec

    spec = FilamentSpec.fast().model_copy(update={"field_snapshots": 0, "set_time_limit": 10e-6,
                                                  "ion_compensation": 0.99})
    model = sim.CellModel(spec)
    st._constant_set(model, spec, 1.0, "", False)
    _, phi, T = model.et.axis_values(model.z_lo, model.z_hi)
    E = -np.diff(phi) / model.transport.h
    w, dissolve = model._rates(model.c, E, phi, T, False, model.matrix_fields())
    tr, G = model.transport, (1 - spec.ion_compensation) * model.ion_green()
    args = (model.c_i, model.c, model.c_s, E, T, 1e-7, w)

    def step(green):
        tr.green = green
        tr.step(*args, dissolve=dissolve)

    def build():
        model._green = None
        model.ion_green()

    work = {"transport_free": lambda: step(None), "transport_coupled": lambda: step(G), "green": build}
    counts = {"transport_free": calls, "transport_coupled": calls, "green": max(calls // 20, 3)}
    times: dict[str, list[float]] = {k: [] for k in work}
    for _ in range(blocks):
        for name, f in work.items():
            t0 = time.perf_counter()
            for _ in range(counts[name]):
                f()
            times[name].append((time.perf_counter() - t0) / counts[name] * 1e3)
    result = {name: statistics.median(ts) for name, ts in times.items()}
    result["nodes"] = int(tr.z.size)
    result["ion_fraction_max"] = float(model.c_i.max())
    return result


def _ion_field(args) -> None:
    ms = _run(1, ["--what", "ion_field"])
    print(f"ion field: {ms['nodes']} axis nodes, ions up to {ms['ion_fraction_max']:.3g} of the sites")
    print(f"ion field: transport step, charge-free (banded Newton): median {ms['transport_free']:.3f} ms")
    print(f"ion field: transport step, coupled (dense Newton, Green's matrix): median {ms['transport_coupled']:.3f} ms"
          f" ({ms['transport_coupled'] / ms['transport_free']:.2f}x)")
    print(f"ion field: Green's matrix build ({ms['nodes']} Poisson solves): median {ms['green']:.2f} ms")


def _assembly(args) -> None:
    ms = _run(1, ["--what", "assembly"])
    labels = {"residual": "residual (the solver's)", "residual_dolfinx": "residual (DOLFINx's, lifting always)",
              "jacobian": "Jacobian", "current_window": "current (the window's cells)",
              "current_all": "current (all cells)"}
    for name, t in ms.items():
        print(f"assembly: {labels[name]}: median {t:.3f} ms")
    print(f"assembly: residual DOLFINx's / the solver's = {ms['residual_dolfinx'] / ms['residual']:.2f}x; "
          f"current all cells / the window's = {ms['current_all'] / ms['current_window']:.2f}x")


def _run(ranks: int, what: list[str], env: dict | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child"] + what
    if ranks > 1:
        launcher = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")
        if launcher is None:
            raise RuntimeError("mpiexec not found")
        cmd = [launcher, "-n", str(ranks)] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("@@")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"{ranks}-rank run failed: {(out.stderr.strip().splitlines() or ['?'])[-1]}")
    return json.loads(line[2:])


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _cycles(args) -> None:
    rows = {}
    for ranks in (1, 2):
        try:
            runs, coarse, capillary, metal = [], [], [], []
            for _ in range(args.repeat):
                runs.append(_run(ranks, ["--fast"] if args.fast else []))
                if args.coarse_step and ranks == 1:
                    coarse.append(_run(ranks, ["--coarse-step"]))
                if args.capillary and ranks == 1:
                    capillary.append(_run(ranks, (["--fast"] if args.fast else []) + ["--capillary"]))
                if args.pool_step and ranks == 1:
                    metal.append(_run(ranks, ["--pool-step"]))
        except RuntimeError as exc:
            print(f"{ranks} rank(s): {exc}")
            continue
        if capillary:
            t, c = _median(runs, "cycle_s"), _median(capillary, "cycle_s")
            print(f"cycle, 1 rank, with gibbs_thomson_radius: median cycle {c:.2f} s, {capillary[0]['steps']} steps "
                  f"(set in {capillary[0]['set_time_s'] * 1e6:.3g} us, rupture after "
                  f"{capillary[0]['rupture_time_s'] * 1e6:.3g} us); {c / t:.2f}x the cycle without it "
                  f"({_median(capillary, 'cycle_s') / _median(capillary, 'steps') * 1e3:.1f} against "
                  f"{t / _median(runs, 'steps') * 1e3:.1f} ms per step)")
        if metal:
            t, m = _median(runs, "cycle_s"), _median(metal, "cycle_s")
            print(f"cycle, 1 rank, the change limit on the metal alone: median cycle {m:.2f} s, {metal[0]['steps']} "
                  f"steps (set in {metal[0]['set_time_s'] * 1e6:.4g} us, rupture after "
                  f"{metal[0]['rupture_time_s'] * 1e6:.4g} us; with the pool {runs[0]['steps']} steps, "
                  f"{runs[0]['set_time_s'] * 1e6:.4g} / {runs[0]['rupture_time_s'] * 1e6:.4g} us); the pool in the "
                  f"limit costs {t / m:.2f}x")
        if coarse:
            t, c = _median(runs, "total_s"), _median(coarse, "total_s")
            print(f"cycle, 1 rank, the fast preset's step control: median total {c:.2f} s, {coarse[0]['steps']} steps "
                  f"(set in {coarse[0]['set_time_s'] * 1e6:.3g} us, rupture after {coarse[0]['rupture_time_s'] * 1e6:.3g} "
                  f"us); the converged control costs {t / c:.2f}x")
        rows[ranks] = {k: _median(runs, k) for k in ("total_s", "cycle_s", "mesh_s")}
        rows[ranks].update(unknowns=runs[0]["unknowns"], steps=runs[0]["steps"], on=runs[0]["on_at_hold_end"])
        print(f"cycle, {ranks} rank(s): median total {rows[ranks]['total_s']:.2f} s (cycle {rows[ranks]['cycle_s']:.2f} s, "
              f"mesh {rows[ranks]['mesh_s']:.2f} s), {rows[ranks]['unknowns']} unknowns, {rows[ranks]['steps']} steps, "
              f"{'ON' if rows[ranks]['on'] else 'OFF'} at the end of the {HOLD_S * 1e6:.0f} us hold")
    if 1 in rows and 2 in rows:
        print(f"cycle: speed-up of 2 ranks {rows[1]['total_s'] / rows[2]['total_s']:.2f}x")
    if 1 in rows:
        print(f"cycle: target < {TARGET_S:.0f} s serial: {'met' if rows[1]['total_s'] < TARGET_S else 'NOT met'}")


def _stage(args) -> None:
    """The fast stage as it runs (the set-time study, relaxation and thermal step in a second process beside
    the sweep where two cores are free) and all in one process (``DEVICEPHYS_WORKERS=1``), alternating."""
    runs: dict[str, list[dict]] = {"as run": [], "one process": []}
    for _ in range(args.repeat):
        runs["as run"].append(_run(1, ["--what", "stage"]))
        runs["one process"].append(_run(1, ["--what", "stage"], {"DEVICEPHYS_WORKERS": "1"}))
    for label, rs in runs.items():
        total = _median(rs, "total_s")
        print(f"fast stage, {label}: median {total:.1f} s; target < {STAGE_TARGET_S:.0f} s: "
              f"{'met' if total < STAGE_TARGET_S else 'NOT met'}")
        parts = rs[0].get("parts", {})
        print("  its parts (median s): " + ", ".join(
            f"{name} {statistics.median(r['parts'][name] for r in rs):.1f}" for name in parts))
        sv = rs[0].get("solver", {})
        if sv:  # each Newton iteration and each staggered sweep's two field steps assemble and factor a Jacobian
            total_its = sv["newton_iterations"] + 2 * sv["staggered_sweeps"]
            print(f"  Newton work: {sv['newton_iterations']} monolithic iterations, {sv['staggered_sweeps']} staggered "
                  f"sweeps; {sv['newton_iterations_failed']} iterations in attempts retried after failing "
                  f"({sv['newton_iterations_failed'] / max(total_its, 1):.0%} of the {total_its} Jacobians of those solves); "
                  f"{sv.get('staggered_stalled', 0)} staggered solves given up as stalled")
    print(f"fast stage: one process / as run = "
          f"{_median(runs['one process'], 'total_s') / _median(runs['as run'], 'total_s'):.2f}x")


def _meshes(args) -> None:
    rows = []
    for k in range(len(MESHES)):
        runs = [_run(1, ["--what", "step", "--mesh", str(k)]) for _ in range(args.repeat)]
        rows.append((runs[0]["unknowns"], _median(runs, "step_s"), runs[0]["steps"]))
        print(f"mesh {k} (axis {MESHES[k][0] * 1e9:.2f} nm, far {MESHES[k][1] * 1e9:.0f} nm): {rows[-1][0]} unknowns, "
              f"median {rows[-1][1] * 1e3:.1f} ms per step over {rows[-1][2]} steps")
    (n0, c0, _), (n1, c1, _) = rows[0], rows[-1]
    print(f"cost ~ unknowns^{math.log(c1 / c0) / math.log(n1 / n0):.2f} between the coarsest and the finest mesh "
          f"({n1 / n0:.1f}x the unknowns, {c1 / c0:.2f}x the cost per step)")
    for k in (len(MESHES) - 2, len(MESHES) - 1):
        try:
            two = [_run(2, ["--what", "step", "--mesh", str(k)]) for _ in range(args.repeat)]
        except RuntimeError as exc:
            print(f"mesh {k}, 2 ranks: {exc}")
            continue
        print(f"mesh {k} ({rows[k][0]} unknowns), 2 ranks: median {_median(two, 'step_s') * 1e3:.1f} ms per step; "
              f"speed-up {rows[k][1] / _median(two, 'step_s'):.2f}x over serial")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--fast", action="store_true", help="the cycle on the fast preset instead of the default cell")
    p.add_argument("--coarse-step", action="store_true",
                   help="also the cycle with the fast preset's step control, for the converged control's cost")
    p.add_argument("--capillary", action="store_true",
                   help="also the cycle with gibbs_thomson_radius, for the option's cost")
    p.add_argument("--pool-step", action="store_true",
                   help="also the cycle with the change limit on the metal alone, for the pool's cost in the limit")
    p.add_argument("--stage", action="store_true", help="also time the fast preset's whole stage")
    p.add_argument("--meshes", action="store_true", help="also the cost per step on four meshes and 2 ranks")
    p.add_argument("--assembly", action="store_true",
                   help="only the per-call cost of the residual, Jacobian and current assemblies, "
                        "variants side by side")
    p.add_argument("--ion-field", action="store_true",
                   help="only the per-call cost of the channel transport's step with the ions' own field (coupled) "
                        "against the charge-free step, and of the Green's matrix")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--what", default="cycle", choices=("cycle", "stage", "step", "assembly", "ion_field"),
                   help=argparse.SUPPRESS)
    p.add_argument("--mesh", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.pool_step and args.fast and not args.child:
        p.error("--pool-step compares the default cell's control with the pool in its limit; the fast preset's "
                "limit is on the metal alone already: leave out --fast")
    if args.child:
        result = {"cycle": lambda: cycle(args.fast, args.coarse_step, args.capillary, args.pool_step), "stage": stage,
                  "step": lambda: per_step(args.mesh), "assembly": assembly,
                  "ion_field": ion_field}[args.what]()
        from mpi4py import MPI

        if MPI.COMM_WORLD.rank == 0:
            print("@@" + json.dumps(result))
        return 0
    if args.assembly:
        _assembly(args)
        return 0
    if args.ion_field:
        _ion_field(args)
        return 0
    _cycles(args)
    if args.stage:
        _stage(args)
    if args.meshes:
        _meshes(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
