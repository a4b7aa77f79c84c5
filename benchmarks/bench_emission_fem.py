"""Frequency-domain FEM benchmarks (run on demand: python benchmarks/bench_emission_fem.py [--table]).

1. One Purcell spectrum, 60 wavelengths (450-1000 nm), Ag tip (radius 10 nm, capsule 30 nm) over an
   Ag plane in PMMA at a 0.5 nm gap, default mesh (0.05 nm in the gap): mesh + compile time, solve
   time, unknowns, the gap-mode peak.  Serial; set OMP_NUM_THREADS=1 for a one-core figure.
2. ``--device``: the emission stage's FEM engine on the default device's stack (Ag discs of the
   170 x 240 nm footprint, 10 nm PMMA, the filament of 2 nm radius inside it, quantum-corrected gap),
   EmissionSpec.device()'s window (24 wavelengths, 450-2000 nm) at one gap: cost per gap of the
   pipeline's optical stage, and the patch-cavity and gap resonances.
3. ``--table``: FEM against the Sommerfeld integral for a dipole above an Ag half-space at
   n = 1 and 1.45, heights 5-50 nm, 450-1000 nm (relative error, %).
4. ``--meep``: side by side in this run, MEEP's cost for the same 60 wavelengths at a 5 nm gap (the
   FDTD stage's tip over its counter disc, default 1 nm grid: the narrowest gap it resolves with 5
   cells), against item 1's FEM cost at 0.5 nm (target: FEM under 60 s serial).
5. ``--sweep``: the dense sweep of the FEM engine, 30 gaps from 0.3 to 5 nm (geometric) at the same
   60 wavelengths, the emission spec's tip over its counter disc, quantum-corrected gap, gap / 8
   elements across the gap (``fem.spec.GAP_ELEMENTS``), on the spec's two worker processes
   (target: under 15 min on two cores); also the largest mesh and the slowest gap.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import xarray as xr

from devicephys.emission import analytic, metals
from devicephys.emission.fem import FemGeometry, purcell_spectrum


def bench_spectrum() -> float:
    lam = np.linspace(450e-9, 1000e-9, 60)
    t0 = time.perf_counter()
    ds = purcell_spectrum(FemGeometry(shape="tip", gap=0.5e-9), lam)
    total = time.perf_counter() - t0
    f = ds.purcell.values
    i = int(np.argmax(f))
    print(f"60-wavelength spectrum at a 0.5 nm gap: {total:.1f} s total ({ds.attrs['setup_seconds']:.1f} s mesh and "
          f"forms, {ds.attrs['solve_seconds']:.1f} s solves), {ds.attrs['unknowns']} real unknowns")
    print(f"  strongest resonance {lam[i] * 1e9:.0f} nm, Purcell {f[i]:.3g}, "
          f"into the far-field PML {ds.outgoing_dielectric.values[i]:.3g}")
    return total


def device_spectrum(gap: float = 0.65e-9) -> None:
    import json

    from devicephys.emission.fdtd_sweep import wavelengths
    from devicephys.emission.fem_sweep import geometry
    from devicephys.emission.spec import EmissionSpec
    from devicephys.geometry import DeviceGeometry

    stack = {"active_electrode": "Ag", "counter_electrode": "Ag", "insulator": "PMMA", "active_electrode_thickness": 30e-9,
             "counter_electrode_thickness": 30e-9, "insulator_thickness": 10e-9, "footprint_x": 170e-9, "footprint_y": 240e-9}
    filament = xr.Dataset({"filament_radius_final": ((), 2e-9), "gap": ("time", [9e-9, gap])},
                          attrs={"devicephys_kind": "filament", "spec": json.dumps(stack)})
    spec = EmissionSpec.device()
    lam = wavelengths(spec)
    t0 = time.perf_counter()
    ds = purcell_spectrum(geometry(spec, gap, DeviceGeometry.from_filament(filament)), lam)
    total = time.perf_counter() - t0
    f, eta = ds.purcell.values, ds.outgoing_dielectric.values / ds.purcell.values
    i, j = int(np.argmax(f)), int(np.argmax(f * eta))
    print(f"device stack, gap {gap * 1e9:.2f} nm, {lam.size} wavelengths {lam[0] * 1e9:.0f}-{lam[-1] * 1e9:.0f} nm: "
          f"{total:.1f} s ({ds.attrs['setup_seconds']:.1f} s mesh and forms), {ds.attrs['unknowns']} real unknowns")
    print(f"  largest Purcell {f[i]:.3g} at {lam[i] * 1e9:.0f} nm; largest radiated Purcell x eta {f[j] * eta[j]:.3g} "
          f"at {lam[j] * 1e9:.0f} nm (eta {eta[j]:.3g})")


def mirror_table() -> None:
    lam = np.array([450e-9, 500e-9, 600e-9, 800e-9, 1000e-9])
    eps = metals.get("Ag").permittivity(lam)
    print("FEM vs Sommerfeld, dipole above Ag: relative error [%] at " + ", ".join(f"{x * 1e9:.0f}" for x in lam) + " nm")
    for index in (1.0, 1.45):
        for height in (5e-9, 10e-9, 20e-9, 50e-9):
            t0 = time.perf_counter()
            ds = purcell_spectrum(FemGeometry(shape="mirror", gap=height, index=index, gap_mesh_size=height / 10), lam)
            ref = np.array([analytic.mirror_purcell(height, w, e, index**2) for w, e in zip(lam, eps)])
            err = 100 * (ds.purcell.values / ref - 1)
            print(f"  n = {index:4.2f}  h = {height * 1e9:4.0f} nm  F = {ref[0]:9.4g} ... {ref[-1]:8.4g}  "
                  + "  ".join(f"{e:+.3f}" for e in err) + f"   ({time.perf_counter() - t0:.1f} s)")


def meep_spectrum(fem_seconds: float) -> None:
    from devicephys.emission.fdtd import solve
    from devicephys.emission.spec import EmissionSpec

    spec, lam = EmissionSpec(), np.linspace(450e-9, 1000e-9, 60)
    geom = solve.GapGeometry(gap=5e-9, tip_radius=spec.tip_radius, tip_length=spec.tip_length,
                             counter_radius=spec.counter_radius, counter_thickness=spec.counter_thickness,
                             index=spec.insulator_index)
    t0 = time.perf_counter()
    run = solve.run_gap(geom, solve.RunControl(grid_step=spec.grid_step), lam)
    wall = time.perf_counter() - t0
    print(f"MEEP, same 60 wavelengths at a 5 nm gap ({spec.grid_step * 1e9:g} nm grid): {wall:.1f} s "
          f"({wall / fem_seconds:.1f} x the FEM spectrum at 0.5 nm); peak Purcell "
          f"{float(np.max(run.ldos / run.ldos_reference)):.3g}")


def dense_sweep() -> None:
    from devicephys.emission import fem_sweep
    from devicephys.emission.spec import EmissionSpec

    spec = EmissionSpec(engine="fem", gap_min=0.3e-9, gap_max=5e-9, gap_count=30, wavelength_count=60)
    t0 = time.perf_counter()
    rows = fem_sweep.run_sweep(spec, tip_radius=spec.tip_radius, progress=True)
    wall = time.perf_counter() - t0
    peak = [float(np.max(r["purcell"])) for r in rows]
    seconds = [r["seconds"] for r in rows]
    print(f"dense FEM sweep: {len(rows)} gaps 0.3-5 nm x {spec.wavelength_count} wavelengths on {spec.workers} "
          f"workers: {wall:.0f} s ({wall / 60:.1f} min; target 15 min); peak Purcell {peak[0]:.3g} at 0.3 nm, "
          f"{peak[-1]:.3g} at 5 nm; per gap {np.median(seconds):.1f} s median, {max(seconds):.1f} s slowest; "
          f"largest mesh {max(r['unknowns'] for r in rows)} real unknowns")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--table", action="store_true", help="also print the FEM-Sommerfeld table")
    parser.add_argument("--device", action="store_true", help="also the FEM engine on the default device's stack")
    parser.add_argument("--meep", action="store_true", help="also MEEP's cost at 5 nm, side by side")
    parser.add_argument("--sweep", action="store_true", help="also the dense 30-gap FEM sweep on two workers")
    args = parser.parse_args()
    fem_seconds = bench_spectrum()
    if args.meep:
        meep_spectrum(fem_seconds)
    if args.sweep:
        dense_sweep()
    if args.device:
        device_spectrum()
    if args.table:
        mirror_table()


if __name__ == "__main__":
    main()
