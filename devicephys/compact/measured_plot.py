"""Measurement versus model: the I-V loop on a log-current axis and the set time versus voltage."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from devicephys.compact.card import DeviceCard
from devicephys.compact.measured import Table
from devicephys.io import save_figure


def figure(card: DeviceCard, sweep: Table, pulses: Table | None, replay: dict | None, path: str | Path) -> Path:
    """Two panels: |I| versus cell voltage (measured, and the card under the measured drive), set time versus V."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from devicephys.compact.measured_fit import pulse_set_time

    fig, ax = plt.subplots(1, 2, figsize=(12, 4.5))
    floor = 1e-15
    ax[0].semilogy(sweep["voltage"], np.maximum(np.abs(sweep["current"]), floor), ".", ms=3,
                   label=f"measured ({sweep.path.name})")
    for key, style in (("numpy", "-"), ("ngspice", "--")):
        run = (replay or {}).get(key, {})
        if "waveform" in run:
            w = run["waveform"]
            ax[0].semilogy(w["voltage"], np.maximum(np.abs(w["current"]), floor), style, lw=1.2,
                           label=f"card, measured drive ({key})")
    m = card.fit_quality["measured"]
    ax[0].axvline(m["threshold_voltage"], color="0.6", ls=":", lw=0.8,
                  label=f"measured threshold {m['threshold_voltage']:.4g} V")
    ax[0].axvline(m["hold_voltage"], color="0.6", ls="-.", lw=0.8, label=f"measured hold {m['hold_voltage']:.4g} V")
    drive = (f" (compliance {sweep.compliance_current * 1e6:.4g} uA, series {sweep.series_resistance:.4g} Ohm)"
             if sweep.compliance else "")
    ax[0].set(xlabel="cell voltage [V]", ylabel="|I| [A]", title="DC sweep" + drive)
    if pulses is not None:
        p = card.model_params()
        v = np.linspace(pulses["voltage"].min(), pulses["voltage"].max(), 25)  # inside the measured range only
        t = [pulse_set_time(p, x, m["switch_on_conductance"]) for x in v]
        ax[1].semilogy(pulses["voltage"], pulses["set_time"], "o", label=f"measured ({pulses.path.name})")
        ax[1].semilogy(v, t, "-", label="card (time to the switch-on conductance)")
    else:
        ax[1].text(0.5, 0.5, "no pulse data (--pulses)", ha="center", transform=ax[1].transAxes)
    ax[1].set(xlabel="pulse voltage [V]", ylabel="set time [s]", title="set time")
    for a in ax:
        if a.get_legend_handles_labels()[0]:
            a.legend(fontsize=7)
    fig.suptitle(f"card '{card.name}' fitted to measurements (base card: {card.provenance.get('base_card', '?')})")
    fig.tight_layout()
    return save_figure(fig, path, close=True)
