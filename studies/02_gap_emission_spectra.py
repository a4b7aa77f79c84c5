"""Study 2: light emission of the filament-tip nanogap versus gap and bias.

Question: what spectrum, how many photons per electron and which radiation
pattern does the blinking neuron's tip gap produce, and how do they move with
the gap d and the bias V?

Steps
1. FDTD (MEEP, cylindrical, m = 0): a vertical point dipole in the gap of a
   rounded Ag tip over a finite Ag counter electrode in PMMA, at the FDTD
   gaps of the spec -> Purcell factor F(lambda), radiative efficiency
   eta(lambda), far field.
2. The fast gap-plasmon model, calibrated on those runs, carries them to the
   dense gap sweep (resonance from the metal-insulator-metal gap mode,
   Re n_MIM(lambda, d) k0 xi sqrt(2 R d) = 2.405).
3. Inelastic tunnelling: photons per electron per unit frequency
   2 e F(eV - h nu) R_rad(nu) / (V h nu) with R_rad = Z0 n k0^2 d^2 F eta / (6 pi).
4. Check against theory: (a) no photons above the quantum cutoff h nu = eV
   beyond the thermal tail, (b) the far field of the sub-wavelength device
   is the point-dipole pattern 3 sin^2(theta) / (8 pi), (c) the resonance
   red-shifts as the gap closes (gap-plasmon index grows like 1/d).

Run: python studies/02_gap_emission_spectra.py [--fast] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from devicephys import units
from devicephys.emission import plot, stage
from devicephys.emission.spec import EmissionSpec
from devicephys.io import save_figure


def summary_figure(ds, path: Path) -> Path:
    """Spectra versus gap and bias, peak wavelength versus gap, photons per electron, far field."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lam = ds["wavelength"].values * 1e9
    gap_nm = ds["gap"].values * 1e9
    fig = plt.figure(figsize=(13, 8))
    ax1, ax2, ax3 = fig.add_subplot(2, 2, 1), fig.add_subplot(2, 2, 2), fig.add_subplot(2, 2, 3)
    for i in np.linspace(0, len(gap_nm) - 1, 5).astype(int):
        ax1.plot(lam, ds["spectrum"].values[i, -1] * 1e-9, label=f"d = {gap_nm[i]:.2f} nm")
    ax1.set(xlabel="wavelength (nm)", ylabel="photons / electron / nm", title=f"V = {ds['bias'].values[-1]:.2f} V")
    ax1.legend(fontsize=8)
    for j, v in enumerate(ds["bias"].values):
        ax2.semilogy(gap_nm, ds["quantum_efficiency"].values[:, j], label=f"V = {v:.2f} V")
    ax2.set(xlabel="gap (nm)", ylabel="photons per electron", title="external quantum efficiency")
    ax2.legend(fontsize=8)
    ax3.plot(gap_nm, ds["peak_wavelength"].values * 1e9, label="fast model")
    ax3.plot(ds["fdtd_gap"].values * 1e9, ds["peak_wavelength_fdtd"].values * 1e9, "o", label="FDTD")
    ax3.set(xlabel="gap (nm)", ylabel="resonance wavelength (nm)", xscale="log")
    ax3.legend(fontsize=8)
    ax4 = fig.add_subplot(2, 2, 4, projection="polar")
    theta = ds["angle"].values
    ax4.plot(theta, ds["far_field"].values[0], label=f"d = {gap_nm[0]:.2f} nm")
    ax4.plot(theta, 3 * np.sin(theta) ** 2 / (8 * np.pi), "k:", label="point dipole")
    ax4.set_theta_zero_location("N")
    ax4.legend(fontsize=8, loc="lower left")
    out = save_figure(fig, path)
    plt.close(fig)
    return out


def check_theory(ds) -> list[str]:
    """The three checks of step 4; returns the failures (empty when all hold)."""
    failures = []
    lam, bias = ds["wavelength"].values, ds["bias"].values
    peak = float(np.max(ds["spectrum"].values))  # brightest spectrum of the sweep
    for j, v in enumerate(bias):
        above = units.h * units.c0 / lam > units.e * v + 8 * units.k_B * 300.0
        if above.any():
            worst = float(np.max(ds["spectrum"].values[:, j][:, above]) / peak)
            print(f"  V = {v:.2f} V: max spectrum above the cutoff (+8 kT) / brightest peak = {worst:.2e}")
            if worst > 1e-3:
                failures.append(f"photons above the quantum cutoff at V = {v:.2f} V ({worst:.2e} of the peak)")
    theta = ds["angle"].values
    dev = float(np.max(np.abs(ds["far_field"].values - 3 * np.sin(theta) ** 2 / (8 * np.pi))))
    print(f"  far field: max deviation from 3 sin^2/(8 pi) = {dev:.4f} 1/sr (peak 0.119)")
    if dev > 0.015:
        failures.append(f"far field deviates from the point-dipole pattern by {dev:.3f} 1/sr")
    peaks = ds["peak_wavelength"].values
    if not np.all(np.diff(peaks[np.isfinite(peaks)]) < 0):
        failures.append("resonance does not red-shift monotonically as the gap closes")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="quick preset (coarse grid, two FDTD gaps)")
    parser.add_argument("--out", default="results/study02", help="output folder")
    args = parser.parse_args(argv)
    spec = EmissionSpec.fast() if args.fast else EmissionSpec()
    out = Path(args.out)
    files = stage.run(spec, out, upstream={}, progress=not args.fast)
    from devicephys.emission.result import EmissionResult

    ds = EmissionResult.load(files["result"]).data
    plot.plot_far_field(ds, out / "study02_far_field.png")
    figure = summary_figure(ds, out / "study02_gap_emission.png")
    print(f"figure: {figure}")
    every = max(1, ds.sizes["gap"] // 6)
    for d, lp, qe in zip(ds["gap"].values[::every], ds["peak_wavelength"].values[::every],
                         ds["quantum_efficiency"].values[::every, -1]):
        print(f"  d = {d * 1e9:5.2f} nm: resonance {lp * 1e9:6.1f} nm, photons/electron at {ds['bias'].values[-1]:.1f} V = {qe:.2e}")
    failures = check_theory(ds)
    for f in failures:
        print(f"CHECK FAILED: {f}")
    print("theory checks passed" if not failures else "theory checks FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
