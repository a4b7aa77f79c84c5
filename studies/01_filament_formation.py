"""Study 1: how an Ag filament forms and ruptures in an Ag / PMMA / Ag cell, against closed-form theory.

Runs stage 1 (DOLFINx electrothermal FEM + channel Nernst–Planck kinetics) on
the dilute cell (``examples/dilute.yaml``: the default geometry and materials with
the dilute transport, an immobile dissolved pool and a compact neck, behind
5 kOhm and 1 mA), where the closed forms below hold; the default cell's dissolved
Ag returns in the field and its set saturates under its 10 uA compliance, which
neither form describes (see studies/08_volatile_loop.py).  A triangular DC sweep (I–V with threshold switching and
hysteresis), constant-voltage set pulses (set time versus voltage), the
self-rupture after the bias is removed, and a thermal step response.  It
prints the extracted device parameters and ends with two checks against
closed-form theory:

1. relaxation: at zero bias and ambient temperature the metal dissolves at
   the constant Gibbs–Thomson rate k_d = ν_d exp(−E_d / k_B T₀) (zero order in
   c_m), so a filament with c_m = 1 ruptures after
   t_relax ≈ (1 − c_p) / k_d  (c_p: percolation threshold); the whole filament
   crosses c_p at once, so the gap jumps within one time step and the simulated
   time is known only to the step that brackets the jump: the check asks that
   bracket to meet the theory's tolerance band;
2. voltage–time dilemma: Mott–Gurney drift across the insulator,
   v ∝ sinh(q a V / (2 k_B T L)), gives t_set ∝ exp(−V/V₀) with
   V₀ = 2 k_B T L / (q a) for a uniform field over the gap L.

Usage: python studies/01_filament_formation.py [--fast] [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from devicephys.filament import analytic, stage
from devicephys.filament.result import FilamentResult
from devicephys.filament.spec import FilamentSpec
from devicephys.units import k_B

RELAX_TOLERANCE = 0.10   # relative, t_relax against (1 − c_p)/k_d
V0_TOLERANCE = 0.5       # relative, fitted V0 against the uniform-field Mott–Gurney value


def _figure(result: FilamentResult, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from devicephys.io import save_figure

    d = result.data
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(13, 3.8))
    a.semilogy(d["voltage"], np.maximum(np.abs(d["current"]), 1e-20), ".-", ms=2, lw=0.4)
    a.set_xlabel("cell voltage [V]")
    a.set_ylabel("|I| [A]")
    a.set_title("DC sweep up and down")
    v = np.asarray(d["set_voltage"])
    b.semilogy(v, d["set_time"], "o")
    vv = np.linspace(v.min(), v.max(), 40)
    b.semilogy(vv, result.scalar("set_time_tau0") * np.exp(-vv / result.scalar("set_time_v0")))
    b.set_xlabel("source voltage [V]")
    b.set_ylabel("set time [s]")
    b.set_title(f"t_set = τ0 exp(-V/V0), V0 = {result.scalar('set_time_v0'):.2f} V")
    c.plot(d["relax_time"] * 1e6, d["relax_gap"] * 1e9)
    c.set_xlabel("time after bias removal [µs]")
    c.set_ylabel("gap_nm")
    c.set_title("self-rupture")
    fig.tight_layout()
    return save_figure(fig, path, close=True)


def study_spec(fast: bool) -> FilamentSpec:
    """The study's cell: the dilute cell on the fast preset (at its step floor) or on the full one."""
    return FilamentSpec.dilute(fast)


def checks(spec: FilamentSpec, result: FilamentResult) -> dict[str, tuple[float, float, bool]]:
    """Each check: (simulated, theory, passed)."""
    t0 = spec.ambient_temperature
    k_d = spec.dissolution_frequency * math.exp(-spec.dissolution_barrier / (k_B * t0))
    relax_theory = (1 - spec.percolation_threshold) / k_d
    relax = result.scalar("relaxation_time")
    t, gap_r = np.asarray(result.data["relax_time"]), np.asarray(result.data["relax_gap"])
    after = np.flatnonzero(gap_r > spec.gap_rupture)
    lo, hi = (t[after[0] - 1], t[after[0]]) if after.size and after[0] > 0 else (relax, relax)
    band = (relax_theory * (1 - RELAX_TOLERANCE), relax_theory * (1 + RELAX_TOLERANCE))
    gap = spec.insulator_thickness - spec.seed_height
    v0_theory = analytic.set_time_slope_voltage(t0, spec.hop_distance, gap)
    v0 = result.scalar("set_time_v0")
    return {
        "relaxation_time": (relax, relax_theory, bool(lo <= band[1] and hi >= band[0])),
        "set_time_v0": (v0, v0_theory, abs(v0 / v0_theory - 1) <= V0_TOLERANCE),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fast", action="store_true", help="quick preset (coarser mesh, shorter drives)")
    p.add_argument("--out", default="results/study01", help="output folder")
    args = p.parse_args(argv)

    spec = study_spec(args.fast)
    out = Path(args.out)
    files = stage.run(spec, out, upstream={}, progress=not args.fast)
    result = FilamentResult.load(files["result"])

    print("extracted parameters of the dilute cell:")
    for name in result.data.data_vars:
        if result.data[name].ndim == 0:
            print(f"  {name:<24} {result.scalar(name):12.4g} {result.units(name)}")
    _figure(result, out / "01_filament_formation.png")

    ok = True
    for name, (sim, theory, passed) in checks(spec, result).items():
        ok &= passed
        print(f"check {name}: simulated {sim:.4g}, theory {theory:.4g} -> {'ok' if passed else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
