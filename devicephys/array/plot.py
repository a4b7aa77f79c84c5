"""Plots of an array run: raster, rate histogram, photon map (matplotlib imported lazily)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from devicephys.io import save_figure
from devicephys.units import e


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
    ax.set_xlabel("time [µs]")
    ax.set_ylabel("neuron index")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("Spike raster")
    message = (f"{len(t)} spikes, {int(np.count_nonzero(~driven))} of them photonically excited (blue: fired by "
               "the photons of other neurons) and the rest driven (red).")
    out = save_figure(fig, path, metadata={"Description": message})
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
    ax.set_xlabel("firing rate [MHz]")
    ax.set_ylabel("neurons")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    message = (f"Firing rates: driven neurons {_mean(rate[driven]):.3g} MHz, undriven {_mean(rate[~driven]):.3g} MHz "
               "on average (stacked histogram).")
    out = save_figure(fig, path, metadata={"Description": message})
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
    ax.set_xlabel("x [µm]")
    ax.set_ylabel("y [µm]")
    ax.legend(fontsize=8, loc="upper right")
    message = (f"Photoelectrons each neuron of the first layer received (pitch {spec.pitch * 1e6:.3g} µm), "
               "driven neurons marked +.")
    out = save_figure(fig, path, metadata={"Description": message})
    plt.close(fig)
    return out


def link_budget(result, path: Path) -> Path:
    """The nearest-neighbour link budget: the chain photons -> electrons -> charge to fire, and margin versus pitch."""
    import matplotlib.pyplot as plt

    ds = result.data
    s = result.scalar
    steps = [("emitted\nphotons", s("link_photons_per_spike")), ("incident\nphotons", s("link_incident_photons")),
             ("photo-\nelectrons", s("link_photoelectrons")), ("electrons\ndelivered", s("link_charge") / e),
             ("electrons\nto fire", s("link_fire_charge") / e)]
    seen = "emitted_spectrum" in ds.variables
    fig, axes = plt.subplots(1, 3 if seen else 2, figsize=(15 if seen else 10, 4))
    ax0, ax1 = axes[0], axes[1]
    ax0.bar([k for k, _ in steps], [max(v, 1e-30) for _, v in steps],
            color=["tab:orange", "tab:orange", "tab:blue", "tab:blue", "tab:red"])
    ax0.set_yscale("log")
    ax0.set_ylabel("count per spike")
    ax0.set_title(f"one spike, one neighbour at {s('link_distance') * 1e6:.3g} um: margin {s('link_margin_db'):.1f} dB",
                  fontsize=9)
    ax1.semilogx(ds["budget_pitch"].values * 1e6, ds["link_margin_vs_pitch"].values, "o-")
    ax1.axhline(0.0, color="k", lw=1, label="0 dB: one spike fires a biased neighbour")
    ax1.set_xlabel("pitch [µm]")
    ax1.xaxis.set_major_formatter(plt.matplotlib.ticker.ScalarFormatter())
    ax1.xaxis.set_minor_formatter(plt.matplotlib.ticker.NullFormatter())
    ax1.set_ylabel("link margin [dB]")
    ax1.legend(fontsize=8)
    if seen:
        _seen_spectrum(axes[2], ds, s("spectral_efficiency"))
    verdict = ds.attrs.get("link_verdict", "")
    if verdict:
        fig.text(0.01, 0.005, verdict, fontsize=6.5, wrap=True)
    fig.tight_layout(rect=(0, 0.08 if verdict else 0, 1, 1))
    message = (f"Link budget of one spike to its nearest neighbour: margin {s('link_margin_db'):.1f} dB "
               "(left) and the margin against the pitch (middle); above 0 dB one spike fires a biased neighbour."
               + (" Right: the emitted spectrum over the detector's quantum efficiency." if seen else ""))
    out = save_figure(fig, path, metadata={"Description": message})
    plt.close(fig)
    return out


def _seen_spectrum(ax, ds, efficiency: float) -> None:
    """The emitted spectrum (normalised to its maximum) over the detector's quantum efficiency."""
    lam = ds["spectrum_wavelength"].values * 1e6
    spec = ds["emitted_spectrum"].values
    qe = ds["detector_quantum_efficiency"].values
    peak = spec.max() if spec.max() > 0 else 1.0
    ax.plot(lam, spec / peak, color="tab:orange", label="emitted photons (max 1)")
    ax.plot(lam, qe, color="tab:blue", label="detector quantum efficiency")
    ax.fill_between(lam, 0, spec / peak * qe, color="tab:blue", alpha=0.3, label="detected")
    ax.set_xlabel("wavelength [µm]")
    ax.set_ylabel("photons (max 1) or photoelectrons per photon [1]")
    ax.set_ylim(0, 1.05)
    ax.set_title(f"what the detector sees: {efficiency:.3g} photoelectrons per photon", fontsize=9)
    ax.legend(fontsize=8)


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else float("nan")


def all_plots(result, out: Path) -> dict[str, Path]:
    """Raster, rate histogram, photon map and link budget of an ArrayResult, written into ``out``."""
    out = Path(out)
    return {"raster": raster(result, out / "raster.png"), "rates": rate_histogram(result, out / "rate_histogram.png"),
            "photon_map": photon_map(result, out / "photon_map.png"),
            "link_budget": link_budget(result, out / "link_budget.png")}
