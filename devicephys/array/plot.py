"""Plots of an array run: raster, rate histogram, photon map (matplotlib imported lazily)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from devicephys.io import save_figure


def raster(result, path: Path) -> Path:
    """Spike raster (time in us) of an ArrayResult."""
    import matplotlib.pyplot as plt

    ds = result.data
    fig, ax = plt.subplots(figsize=(7, 4))
    driven = ds["driven"].values[ds["spike_neuron"].values.astype(int)] > 0
    t = ds["spike_time"].values * 1e6
    idx = ds["spike_neuron"].values
    ax.plot(t[~driven], idx[~driven], ".", ms=2, color="tab:blue", label="photonically excited")
    ax.plot(t[driven], idx[driven], ".", ms=2, color="tab:red", label="driven")
    ax.set_xlabel("time_us")
    ax.set_ylabel("neuron index")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("Spike raster")
    out = save_figure(fig, path)
    plt.close(fig)
    return out


def rate_histogram(result, path: Path) -> Path:
    """Histogram of firing rates [MHz] of driven and undriven neurons."""
    import matplotlib.pyplot as plt

    ds = result.data
    rate = ds["rate"].values / 1e6
    driven = ds["driven"].values > 0
    fig, ax = plt.subplots(figsize=(6, 4))
    bins = np.linspace(0, max(rate.max(), 1e-3), 40)
    ax.hist([rate[~driven], rate[driven]], bins=bins, stacked=True, label=["undriven", "driven"],
            color=["tab:blue", "tab:red"])
    ax.set_xlabel("rate_MHz")
    ax.set_ylabel("neurons")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    out = save_figure(fig, path)
    plt.close(fig)
    return out


def photon_map(result, path: Path) -> Path:
    """Map of photoelectrons received per neuron (first layer) on the grid."""
    import matplotlib.pyplot as plt

    ds = result.data
    spec = result.spec
    det = ds["detected_photons"].values.reshape(spec.layers, spec.ny, spec.nx)[0]
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ext = [0, spec.nx * spec.pitch * 1e6, 0, spec.ny * spec.pitch * 1e6]
    im = ax.imshow(det, origin="lower", extent=ext, cmap="magma")
    fig.colorbar(im, ax=ax, label="photoelectrons received")
    drv = ds["driven"].values.reshape(spec.layers, spec.ny, spec.nx)[0] > 0
    yy, xx = np.nonzero(drv)
    ax.plot((xx + 0.5) * spec.pitch * 1e6, (yy + 0.5) * spec.pitch * 1e6, "c+", ms=6, label="driven")
    ax.set_xlabel("x_um")
    ax.set_ylabel("y_um")
    ax.legend(fontsize=8, loc="upper right")
    out = save_figure(fig, path)
    plt.close(fig)
    return out
