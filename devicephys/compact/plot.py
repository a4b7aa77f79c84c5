"""Figures of the compact stage (matplotlib imported lazily; SI data, nm/us/uA on axes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from devicephys.compact import fit, model
from devicephys.compact.card import DeviceCard
from devicephys.io import save_figure


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def fit_figure(card: DeviceCard, filament: xr.Dataset, emission: xr.Dataset, path: str | Path) -> Path:
    """Data and fitted model: conductance, set time, relaxation, heating, efficiency, peak wavelength."""
    plt = _plt()
    p = card.model_params()
    fig, ax = plt.subplots(2, 3, figsize=(13, 7.5))
    v, i, gap = (filament[k].values for k in ("voltage", "current", "gap"))
    ok = (np.abs(v) > 1e-3 * np.abs(v).max()) & (i * v > 0)
    d = np.linspace(gap.min(), gap.max(), 300)
    ax[0, 0].semilogy(gap[ok] * 1e9, i[ok] / v[ok], ".", ms=2, label="filament result")
    matched = "matched" in str(card.fit_quality.get("relaxation", {}).get("method", ""))
    ax[0, 0].semilogy(d * 1e9, model.cell_conductance(p, d), "-",
                      label="model (Simmons, FEM end points)" if matched else "compact fit")
    ax[0, 0].set(xlabel="gap_nm", ylabel="G [S]", title="conductance vs gap")
    sv, st = filament["set_voltage"].values, filament["set_time"].values
    vv = np.linspace(sv.min() * 0.95, sv.max() * 1.05, 100)
    ax[0, 1].semilogy(sv, st, "o", label="filament result")
    ax[0, 1].semilogy(vv, fit.set_time_law(vv, p.set_time_tau0, p.set_time_v0, p.relaxation_time), "-",
                      label="model law")
    ax[0, 1].set(xlabel="V [V]", ylabel="t_set [s]", title="set time")
    rt, rg = filament["relax_time"].values, filament["relax_gap"].values
    ax[0, 2].plot(rt * 1e6, rg * 1e9, ".", ms=3, label="filament result")
    ax[0, 2].plot(rt * 1e6, (p.gap_max - (p.gap_max - rg[0]) * np.exp(-rt / p.relaxation_time)) * 1e9, "-",
                  label="model, rupture time matched" if matched else "fit")
    if matched and "relaxation_time" in filament:
        ax[0, 2].axvline(float(filament["relaxation_time"]) * 1e6, color="0.5", ls=":", label="FEM rupture")
    ax[0, 2].set(xlabel="t_us", ylabel="gap_nm", title="relaxation")
    power = v * i
    rise = filament["temperature_max"].values - p.ambient_temperature
    ax[1, 0].plot(power * 1e6, rise, ".", ms=2, label="filament result")
    ax[1, 0].plot(power * 1e6, p.thermal_resistance * power, "-", label="R_th P")
    ax[1, 0].set(xlabel="P_uW", ylabel="T_max - T0 [K]", title="Joule heating")
    _efficiency_panel(ax[1, 1], p, emission)
    g = emission["gap"].values
    ax[1, 2].plot(g * 1e9, emission["peak_wavelength"].values * 1e9, "o", label="emission result")
    gg = np.linspace(g.min(), g.max(), 100)
    ax[1, 2].plot(gg * 1e9, model.peak_wavelength(p, gg) * 1e9, "-", label="fit")
    ax[1, 2].set(xlabel="gap_nm", ylabel="peak_wavelength_nm", title="peak wavelength")
    for a in ax.flat:
        a.legend(fontsize=7)
    fig.suptitle(f"compact model '{card.name}': fits to the filament and emission results")
    fig.tight_layout()
    try:
        return save_figure(fig, path)
    finally:
        plt.close(fig)


def _efficiency_panel(ax, p, emission: xr.Dataset) -> None:
    qe = emission["quantum_efficiency"].transpose("gap", "bias").values
    g, b = emission["gap"].values, emission["bias"].values
    for k in np.unique(np.linspace(0, len(b) - 1, min(4, len(b))).astype(int)):
        line, = ax.semilogy(g * 1e9, np.where(qe[:, k] > 0, qe[:, k], np.nan), "o", ms=3, label=f"{b[k]:.2f} V")
        ax.semilogy(g * 1e9, model.quantum_efficiency(p, g, b[k]), "-", color=line.get_color())
    ax.set(xlabel="gap_nm", ylabel="photons per electron", title="quantum efficiency (dots: data)")


def verification_figure(checks: dict, path: str | Path) -> Path:
    """ngspice against NumPy: DC sweep, pulse train, LIF neuron."""
    plt = _plt()
    fig, ax = plt.subplots(1, 4, figsize=(18, 4))
    dc = checks["dc_sweep"]
    ax[0].semilogy(dc["numpy"].voltage, np.abs(dc["numpy"].current), "-", lw=2, label="NumPy")
    ax[0].semilogy(dc["numpy"].voltage, np.abs(dc["spice_current"]), "--", label="ngspice")
    ax[0].set(xlabel="cell voltage [V]", ylabel="|I| [A]", title="DC sweep (hysteresis)")
    pt = checks["pulse_train"]
    ax[1].plot(pt["numpy"].time * 1e6, pt["numpy"].current * 1e6, "-", lw=2, label="NumPy")
    ax[1].plot(pt["numpy"].time * 1e6, pt["spice_current"] * 1e6, "--", label="ngspice")
    ax[1].set(xlabel="t_us", ylabel="I_uA", title="pulse train (blinking neuron)")
    lif = checks["lif"]
    ax[2].plot(lif["numpy"]["time"] * 1e6, lif["numpy"]["voltage"], "-", lw=2, label="NumPy")
    ax[2].plot(lif["spice"].time * 1e6, lif["spice"].vectors["v(mem)"], "--", label="ngspice")
    for t in lif["numpy"]["spike_times"]:
        ax[2].axvline(t * 1e6, color="0.8", lw=0.5)
    ax[2].set(xlabel="t_us", ylabel="V_mem [V]", title="LIF neuron (threshold switch)")
    ph = checks["lif_physical"]
    ax[3].plot(ph["numpy"]["time"] * 1e6, ph["numpy"]["gap"] * 1e9, "-", lw=2, label="NumPy")
    ax[3].plot(ph["spice"].time * 1e6, ph["spice_gap"] * 1e9, "--", label="ngspice")
    ax[3].set(xlabel="t_us", ylabel="gap_nm", title="LIF with the filament as switch")
    for a in ax:
        a.legend(fontsize=8)
    fig.tight_layout()
    try:
        return save_figure(fig, path)
    finally:
        plt.close(fig)
