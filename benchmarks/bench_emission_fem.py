"""Frequency-domain FEM benchmarks (run on demand: python benchmarks/bench_emission_fem.py [--table]).

1. One Purcell spectrum, 60 wavelengths (450-1000 nm), Ag tip (radius 10 nm, capsule 30 nm) over an
   Ag plane in PMMA at a 0.5 nm gap, default mesh (0.05 nm in the gap): mesh + compile time, solve
   time, unknowns, the gap-mode peak.  Serial; set OMP_NUM_THREADS=1 for a one-core figure.
2. ``--table``: FEM against the Sommerfeld integral for a dipole above an Ag half-space at
   n = 1 and 1.45, heights 5-50 nm, 450-1000 nm (relative error, %).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from devicephys.emission import analytic, metals
from devicephys.emission.fem import FemGeometry, purcell_spectrum


def bench_spectrum() -> None:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--table", action="store_true", help="also print the FEM-Sommerfeld table")
    args = parser.parse_args()
    bench_spectrum()
    if args.table:
        mirror_table()


if __name__ == "__main__":
    main()
