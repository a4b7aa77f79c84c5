"""Plots of the emission result (matplotlib imported lazily)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from devicephys.io import save_figure


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_optics(ds: xr.Dataset, path: Path) -> Path:
    """Purcell factor and radiative efficiency from FDTD (points) and the fast model (lines)."""
    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    lam = ds["wavelength"].values * 1e9
    fdtd = ds["fdtd_gap"].values if "fdtd_gap" in ds.coords else []
    for k, g in enumerate(fdtd):
        a.semilogy(lam, ds["purcell_fdtd"].values[k], "o-", ms=3, label=f"FDTD {g * 1e9:.1f} nm")
        b.plot(lam, ds["radiative_efficiency_fdtd"].values[k], "o-", ms=3, label=f"FDTD {g * 1e9:.1f} nm")
    for i in np.linspace(0, ds.sizes["gap"] - 1, 4).astype(int):
        g = ds["gap"].values[i]
        a.semilogy(lam, ds["purcell"].values[i], "--", label=f"{'model' if len(fdtd) else 'FEM'} {g * 1e9:.2f} nm")
        if not len(fdtd):
            b.semilogy(lam, ds["radiative_efficiency"].values[i], "--", label=f"FEM {g * 1e9:.2f} nm")
    a.set(xlabel="wavelength (nm)", ylabel="Purcell factor", title="LDOS enhancement in the gap")
    b.set(xlabel="wavelength (nm)", ylabel="radiative efficiency", title="radiated / total power")
    a.legend(fontsize=7)
    b.legend(fontsize=7)
    out = save_figure(fig, path)
    plt.close(fig)
    return out


def plot_spectra(ds: xr.Dataset, path: Path) -> Path:
    """Emission spectra versus gap (at the highest bias) and versus bias (at the smallest FDTD-checked gap)."""
    plt = _plt()
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(14, 4))
    lam = ds["wavelength"].values * 1e9
    for i in np.linspace(0, ds.sizes["gap"] - 1, 5).astype(int):
        a.plot(lam, ds["spectrum"].values[i, -1] * 1e-9, label=f"d = {ds['gap'].values[i] * 1e9:.2f} nm")
    mid = ds.sizes["gap"] // 2
    for j, v in enumerate(ds["bias"].values):
        b.plot(lam, ds["spectrum"].values[mid, j] * 1e-9, label=f"V = {v:.2f} V")
    a.set(xlabel="wavelength (nm)", ylabel="photons / electron / nm", title=f"V = {ds['bias'].values[-1]:.2f} V")
    b.set(xlabel="wavelength (nm)", ylabel="photons / electron / nm", title=f"d = {ds['gap'].values[mid] * 1e9:.2f} nm")
    fem = ds.attrs.get("solver_engine") == "fem"
    c.plot(ds["gap"].values * 1e9, ds["peak_wavelength"].values * 1e9, "o-" if fem else "-", label="FEM" if fem else "fast model")
    if "fdtd_gap" in ds.coords:
        c.plot(ds["fdtd_gap"].values * 1e9, ds["peak_wavelength_fdtd"].values * 1e9, "o", label="FDTD")
    c.set(xlabel="gap (nm)", ylabel="peak wavelength (nm)", xscale="log")
    for ax in (a, b, c):
        ax.legend(fontsize=7)
    out = save_figure(fig, path)
    plt.close(fig)
    return out


def plot_far_field(ds: xr.Dataset, path: Path) -> Path:
    """Polar radiation pattern at the resonance: the FDTD gaps, or every gap of the FEM engine."""
    plt = _plt()
    fig = plt.figure(figsize=(5, 5))
    ax = fig.add_subplot(projection="polar")
    theta = ds["angle"].values
    if "far_field_fdtd" in ds:
        for k, g in enumerate(ds["fdtd_gap"].values):
            lam_p = ds["peak_wavelength_fdtd"].values[k]
            i = int(np.argmin(np.abs(ds["wavelength"].values - lam_p)))
            ax.plot(theta, ds["far_field_fdtd"].values[k, :, i], label=f"{g * 1e9:.1f} nm at {lam_p * 1e9:.0f} nm")
    else:  # the FEM engine: the pattern at each gap's peak
        for k, g in enumerate(ds["gap"].values):
            lam_p = ds["peak_wavelength"].values[k]
            ax.plot(theta, ds["far_field"].values[k], label=f"{g * 1e9:.2f} nm at {lam_p * 1e9:.0f} nm (FEM)")
    ax.plot(theta, 3 / (8 * np.pi) * np.sin(theta) ** 2, "k:", label="point dipole 3 sin^2/(8 pi)")
    ax.set_theta_zero_location("N")
    ax.set_title("far field (1/sr), angle from tip axis")
    ax.legend(fontsize=7, loc="lower left")
    out = save_figure(fig, path)
    plt.close(fig)
    return out
