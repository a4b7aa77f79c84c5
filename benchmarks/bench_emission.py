"""Emission-stage benchmarks (run on demand: python benchmarks/bench_emission.py [--quick]).

1. Fast gap-plasmon model over a 100-gap sweep (target < 1 s): median of 5 runs.
2. One gap spectrum (6 nm gap, 41 wavelengths) at the default grid step (1 nm) and at half of it
   (the geometry of tests/emission/test_emission_slow.py's convergence study):
   wall time of each, and the error of the default run against the finer one
   (peak wavelength, Purcell factor at the peak, radiative efficiency there).
3. Cylindrical versus 3-D on the same geometry and grid (20 nm gap, 4 nm grid):
   cost per time step of each, measured side by side in one run, and their ratio.
``--quick`` skips the fine run of item 2.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from devicephys.emission import fastmodel
from devicephys.emission.fdtd import solve
from devicephys.emission.spec import EmissionSpec


def bench_fast_model() -> float:
    spec = EmissionSpec()
    model = fastmodel.GapPlasmonModel(tip_radius=spec.tip_radius, index=spec.insulator_index, metal="Ag", xi=3.4,
                                      gap_ref=1e-8, purcell_ref=700.0, purcell_exponent=2.0, logit_eta_ref=-2.0,
                                      logit_eta_slope=0.5, linewidth=0.2 * 1.602e-19)
    gaps = np.linspace(0.5e-9, 5e-9, 100)
    lam = np.linspace(450e-9, 1000e-9, 56)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        model.purcell(gaps, lam)
        model.radiative_efficiency(gaps, lam)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _features(run: solve.Spectra) -> tuple[float, float, float]:
    total = solve.power_from_ldos(run.ldos, 1.49, run.extra["grid_step"])
    lam_p, f_p, eta_p, _ = fastmodel.peak_features(run.wavelength, run.ldos / run.ldos_reference, run.power_radiated / total)
    return lam_p, f_p, eta_p


def bench_gap_spectrum(quick: bool) -> None:
    lam = np.linspace(450e-9, 850e-9, 41)
    geom = solve.GapGeometry(gap=6e-9, tip_radius=10e-9, tip_length=30e-9, counter_radius=40e-9,
                             counter_thickness=20e-9, index=1.49)
    results = {}
    for step in ([1e-9] if quick else [1e-9, 0.5e-9]):
        t0 = time.perf_counter()
        run = solve.run_gap(geom, solve.RunControl(grid_step=step), lam)
        run.extra["grid_step"] = step
        results[step] = (_features(run), time.perf_counter() - t0)
        (lp, fp, ep), sec = results[step]
        print(f"  grid {step * 1e9:.2f} nm: {sec:7.1f} s  peak {lp * 1e9:6.1f} nm  Purcell {fp:8.1f}  eta {ep:.3f}")
    if not quick:
        (a, sa), (b, sb) = results[1e-9], results[0.5e-9]
        print(f"  default vs fine: peak {abs(a[0] - b[0]) * 1e9:.1f} nm, Purcell {a[1] / b[1] - 1:+.1%}, "
              f"eta {a[2] / b[2] - 1:+.1%}; time ratio fine/default {sb / sa:.1f}")


def bench_cyl_vs_3d() -> None:
    lam = np.linspace(450e-9, 850e-9, 11)
    geom = solve.GapGeometry(gap=20e-9, tip_radius=10e-9, tip_length=30e-9, counter_radius=40e-9,
                             counter_thickness=20e-9, index=1.49)
    ctrl = solve.RunControl(grid_step=4e-9, pml_thickness=100e-9, min_run_time=20e-15, check=False)
    cyl = solve.run_gap(geom, ctrl, lam)
    three = solve.run_gap_3d(geom, ctrl, lam)
    per_cyl, per_3d = 1 / cyl.steps_per_second, 1 / three.steps_per_second
    print(f"  cylindrical {per_cyl * 1e3:.3f} ms/step, 3-D (2 mirror symmetries) {per_3d * 1e3:.3f} ms/step, "
          f"ratio {per_3d / per_cyl:.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the fine-grid run")
    args = parser.parse_args()
    print(f"fast model, 100 gaps x 56 wavelengths: {bench_fast_model() * 1e3:.1f} ms (median of 5; target < 1000 ms)")
    print("one gap spectrum (6 nm gap, 450-850 nm):")
    bench_gap_spectrum(args.quick)
    print("cylindrical vs 3-D, 20 nm gap on a 4 nm grid:")
    bench_cyl_vs_3d()


if __name__ == "__main__":
    main()
