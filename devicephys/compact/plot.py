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


def _save(fig, path: Path, message: str) -> Path:
    """Save ``fig`` with ``message`` (what the plot shows, one sentence) as the PNG's Description; close it."""
    fig.tight_layout()
    return save_figure(fig, path, metadata={"Description": message}, close=True)


def _panel(title: str):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    ax.set_title(title, fontsize=10)
    return fig, ax


def _matched(card: DeviceCard) -> bool:
    return "matched" in str(card.fit_quality.get("relaxation", {}).get("method", ""))


def conductance_panel(card: DeviceCard, filament: xr.Dataset, path: Path) -> Path:
    """Cell conductance [S] against the gap [nm]: the filament result and the card's conductance law."""
    p = card.model_params()
    v, i, gap = (filament[k].values for k in ("voltage", "current", "gap"))
    ok = (np.abs(v) > 1e-3 * np.abs(v).max()) & (i * v > 0)
    d = np.linspace(gap.min(), gap.max(), 300)
    fig, ax = _panel("conductance vs gap")
    ax.semilogy(gap[ok] * 1e9, i[ok] / v[ok], ".", ms=2, label="filament result")
    ax.semilogy(d * 1e9, model.cell_conductance(p, d), "-",
                label="model (Simmons, FEM end points)" if _matched(card) else "compact fit")
    ax.set(xlabel="gap [nm]", ylabel="cell conductance [S]")
    ax.legend(fontsize=8)
    return _save(fig, path, f"Conductance falls from R_on = {card.value('resistance_on'):.3g} Ω (bridged) to "
                            f"R_off = {card.value('resistance_off'):.3g} Ω as the gap opens: the filament result "
                            "(dots) and the card's conductance law (line).")


def set_time_panel(card: DeviceCard, filament: xr.Dataset, path: Path) -> Path:
    """Set time [s] against the source voltage [V]: the filament result and the card's set-time law."""
    p = card.model_params()
    sv, st = filament["set_voltage"].values, filament["set_time"].values
    vv = np.linspace(sv.min() * 0.95, sv.max() * 1.05, 100)
    fig, ax = _panel("set time vs voltage")
    ax.semilogy(sv, st, "o", label="filament result")
    ax.semilogy(vv, fit.set_time_law(vv, p.set_time_tau0, p.set_time_v0, p.relaxation_time, p.dissolves), "-", label="model law")
    ax.set(xlabel="source voltage [V]", ylabel="set time [s]")
    ax.legend(fontsize=8)
    return _save(fig, path, f"Voltage-time dilemma: the set time falls exponentially with voltage, tau0 = "
                            f"{p.set_time_tau0:.3g} s, V0 = {p.set_time_v0:.3g} V (dots: filament result, line: card).")


def relaxation_panel(card: DeviceCard, filament: xr.Dataset, path: Path) -> Path:
    """Gap [nm] against time after bias removal [µs]: the filament result and the card's relaxation."""
    p = card.model_params()
    rt, rg = filament["relax_time"].values, filament["relax_gap"].values
    fig, ax = _panel("relaxation after bias removal")
    ax.plot(rt * 1e6, rg * 1e9, ".", ms=3, label="filament result")
    if p.dissolves:  # bridged until the oldest stretch (fresh at t = 0) falls below percolation, then open
        ax.plot(rt * 1e6, np.where(rt < p.relaxation_time, rg[0], p.gap_max) * 1e9, "-",
                label="model, oldest stretch's dissolution (not fitted)")
    else:
        ax.plot(rt * 1e6, (p.gap_max - (p.gap_max - rg[0]) * np.exp(-rt / p.relaxation_time)) * 1e9, "-",
                label="model, rupture time matched" if _matched(card) else "fit")
    if _matched(card) and "relaxation_time" in filament:
        ax.axvline(float(filament["relaxation_time"]) * 1e6, color="0.5", ls=":", label="FEM rupture")
    ax.set(xlabel="time after bias removal [µs]", ylabel="gap [nm]")
    ax.legend(fontsize=8)
    return _save(fig, path, f"The filament dissolves by itself (volatile switch): self-rupture time "
                            f"{p.relaxation_time * 1e6:.3g} µs (dots: filament result, line: card).")


def heating_panel(card: DeviceCard, filament: xr.Dataset, path: Path) -> Path:
    """Peak temperature rise [K] against the Joule power [µW]: the filament result and R_th P."""
    p = card.model_params()
    power = filament["voltage"].values * filament["current"].values
    rise = filament["temperature_max"].values - p.ambient_temperature
    fig, ax = _panel("Joule heating")
    ax.plot(power * 1e6, rise, ".", ms=2, label="filament result")
    ax.plot(power * 1e6, p.thermal_resistance * power, "-", label="R_th P")
    ax.set(xlabel="Joule power [µW]", ylabel="peak temperature rise [K]")
    ax.legend(fontsize=8)
    return _save(fig, path, f"Peak temperature rise is linear in the Joule power: thermal resistance "
                            f"R_th = {p.thermal_resistance:.3g} K/W (dots: filament result, line: card).")


def photon_yield_panel(card: DeviceCard, emission: xr.Dataset, path: Path) -> Path:
    """Photons per electron against the gap [nm] at up to four biases: the emission result and the card."""
    p = card.model_params()
    qe = emission["quantum_efficiency"].transpose("gap", "bias").values
    g, b = emission["gap"].values, emission["bias"].values
    fig, ax = _panel("photon yield vs gap")
    for k in np.unique(np.linspace(0, len(b) - 1, min(4, len(b))).astype(int)):
        line, = ax.semilogy(g * 1e9, np.where(qe[:, k] > 0, qe[:, k], np.nan), "o", ms=3, label=f"{b[k]:.2f} V")
        ax.semilogy(g * 1e9, model.quantum_efficiency(p, g, b[k]), "-", color=line.get_color())
    ax.set(xlabel="gap [nm]", ylabel="photons per electron")
    ax.legend(fontsize=8, title="bias")
    return _save(fig, path, "Photons emitted per tunnelling electron against the gap, at up to four biases "
                            "(dots: emission result, lines: card).")


def peak_wavelength_panel(card: DeviceCard, emission: xr.Dataset, path: Path) -> Path:
    """Peak emission wavelength [nm] against the gap [nm]: the emission result and the card's fit."""
    p = card.model_params()
    g = emission["gap"].values
    gg = np.linspace(g.min(), g.max(), 100)
    fig, ax = _panel("peak wavelength vs gap")
    ax.plot(g * 1e9, emission["peak_wavelength"].values * 1e9, "o", label="emission result")
    ax.plot(gg * 1e9, model.peak_wavelength(p, gg) * 1e9, "-", label="fit")
    ax.set(xlabel="gap [nm]", ylabel="peak wavelength [nm]")
    ax.legend(fontsize=8)
    return _save(fig, path, "The gap plasmon's peak wavelength against the gap (dots: emission result, line: card).")


def operating_spectrum_panel(card: DeviceCard, emission: xr.Dataset, path: Path) -> Path:
    """The emission spectrum [photons per electron per nm] at the card's operating point, cutoff marked.

    Recomputed from the emission result's spectra physics at the card's emitting gap and threshold
    voltage (as the card's photons_per_electron is), times the channel's Fano factor 1 - T; beside
    it the card's reference-spike spectrum per electron of the spike's charge, when it has one.
    """
    from devicephys import units
    from devicephys.compact import emission_point

    gap, bias = card.value("emission_gap"), card.value("threshold_voltage")
    fano = 1.0 - card.values().get("emission_transmission", 0.0)
    kernel = emission_point.optical_kernel(emission)
    lam = kernel.wavelength
    s = fano * emission_point.spectrum_at(kernel, gap, bias) * 1e-9  # per nm
    cutoff = units.h * units.c0 / (units.e * bias)
    fig, ax = _panel("spectrum at the operating point")
    ax.plot(lam * 1e9, s, "-", label=f"gap {gap * 1e9:.3g} nm, bias {bias:.3g} V")
    ax.axvline(cutoff * 1e9, color="k", ls="--", lw=1, label=f"cutoff hc/(eV) = {cutoff * 1e9:.0f} nm")
    peak = card.value("peak_wavelength")
    ax.axvline(peak * 1e9, color="C3", ls=":", lw=1, label=f"peak {peak * 1e9:.0f} nm")
    ax.set(xlabel="wavelength [nm]", ylabel="photons per electron per nm [1/nm]")
    handles, labels = ax.get_legend_handles_labels()
    spike = card.spectrum_arrays()
    said = ""
    if spike is not None:  # what the detectors see: the whole discharge, redder than the threshold's spectrum
        electrons = card.value("spike_charge") / units.e  # the spike's electrons, C (V_th - V_h) / e
        line, = ax.plot(spike[0] * 1e9, spike[1] * 1e-9 / electrons, color="C2", lw=1.2,
                        label=f"reference spike ({card.value('photons_per_spike'):.3g} photons) per electron")
        handles, labels = handles + [line], labels + [line.get_label()]
        said = (f" Green: the reference spike's spectrum, discharging from {bias:.3g} V to "
                f"{card.value('hold_voltage'):.3g} V ({card.value('photons_per_spike'):.3g} photons), per electron "
                "of its charge C (V_th - V_h); the array's detectors see its shape.")
    ax.legend(handles, labels, fontsize=7, loc="center left")
    return _save(fig, path, f"The emission spectrum at the operating point (emitting gap {gap * 1e9:.3g} nm, "
                            f"threshold bias {bias:.3g} V): nothing at wavelengths shorter than the quantum cutoff "
                            f"hc/(eV) = {cutoff * 1e9:.0f} nm; {card.value('photons_per_electron'):.3g} photons per "
                            "electron in all." + said)


def fit_figures(card: DeviceCard, filament: xr.Dataset, emission: xr.Dataset, out: str | Path) -> dict[str, Path]:
    """The card against its data, one figure per law, written into ``out`` as ``fit_<law>.png``.

    Returns the paths by name: ``fit_conductance``, ``fit_set_time``, ``fit_relaxation``, ``fit_heating``,
    ``fit_photon_yield``, ``fit_peak_wavelength``, ``fit_operating_spectrum``.  Each PNG carries its one-sentence
    message as Description.
    """
    out = Path(out)
    files = {"fit_conductance": conductance_panel(card, filament, out / "fit_conductance.png"),
             "fit_set_time": set_time_panel(card, filament, out / "fit_set_time.png"),
             "fit_relaxation": relaxation_panel(card, filament, out / "fit_relaxation.png"),
             "fit_heating": heating_panel(card, filament, out / "fit_heating.png"),
             "fit_photon_yield": photon_yield_panel(card, emission, out / "fit_photon_yield.png"),
             "fit_peak_wavelength": peak_wavelength_panel(card, emission, out / "fit_peak_wavelength.png")}
    if "emission_gap" in card.parameters:  # a card with an operating point (not one fitted to measurements alone)
        files["fit_operating_spectrum"] = operating_spectrum_panel(card, emission, out / "fit_operating_spectrum.png")
    return files


def _time_unit(t: np.ndarray) -> tuple[float, str]:
    """Scale and unit that show times ``t`` [s] as numbers between 0.1 and 1000 (s, ms, µs or ns)."""
    span = float(np.nanmax(np.abs(t))) if np.size(t) else 0.0
    for scale, unit in ((1.0, "s"), (1e3, "ms"), (1e6, "µs"), (1e9, "ns")):
        if span * scale >= 0.1:
            return scale, unit
    return 1e9, "ns"


def _versus(ax, x_np, y_np, x_sp, y_sp) -> None:
    ax.plot(x_np, y_np, "-", lw=2, label="NumPy")
    ax.plot(x_sp, y_sp, "--", label="ngspice")


def verification_figures(checks: dict, out: str | Path) -> dict[str, Path]:
    """ngspice against NumPy, one figure per check: DC sweep, pulse train, LIF neuron, LIF with the filament.

    Written into ``out`` as ``ngspice_<check>.png``; returns the paths by name (``ngspice_dc_sweep``, ...).
    """
    out, files = Path(out), {}
    dc = checks["dc_sweep"]
    fig, ax = _panel("DC sweep: ngspice vs NumPy")
    ax.semilogy(dc["numpy"].voltage, np.abs(dc["numpy"].current), "-", lw=2, label="NumPy")
    ax.semilogy(dc["numpy"].voltage, np.abs(dc["spice_current"]), "--", label="ngspice")
    ax.set(xlabel="cell voltage [V]", ylabel="|current| [A]")
    ax.legend(fontsize=8)
    files["ngspice_dc_sweep"] = _save(fig, out / "ngspice_dc_sweep.png", "I-V sweep of the exported SPICE model "
                                      "(dashed) on the NumPy model (line): the hysteresis loop of the switch.")
    pt = checks["pulse_train"]
    k, unit = _time_unit(pt["numpy"].time)
    fig, ax = _panel("pulse train: ngspice vs NumPy")
    _versus(ax, pt["numpy"].time * k, pt["numpy"].current * 1e6, pt["numpy"].time * k, pt["spice_current"] * 1e6)
    ax.set(xlabel=f"time [{unit}]", ylabel="current [µA]")
    ax.legend(fontsize=8)
    files["ngspice_pulse_train"] = _save(fig, out / "ngspice_pulse_train.png", "Current of the blinking neuron "
                                         "under a pulse train: ngspice (dashed) on NumPy (line).")
    lif = checks["lif"]
    k, unit = _time_unit(lif["numpy"]["time"])
    fig, ax = _panel("LIF neuron: ngspice vs NumPy")
    _versus(ax, lif["numpy"]["time"] * k, lif["numpy"]["voltage"], lif["spice"].time * k,
            lif["spice"].vectors["v(mem)"])
    for t in lif["numpy"]["spike_times"]:
        ax.axvline(t * k, color="0.8", lw=0.5)
    ax.set(xlabel=f"time [{unit}]", ylabel="membrane voltage [V]")
    ax.legend(fontsize=8)
    files["ngspice_lif"] = _save(fig, out / "ngspice_lif.png", f"LIF neuron with the threshold switch: "
                                 f"{len(lif['numpy']['spike_times'])} spikes (grey lines), ngspice (dashed) on NumPy.")
    ph = checks["lif_physical"]
    k, unit = _time_unit(ph["numpy"]["time"])
    fig, ax = _panel("LIF with the filament as switch")
    _versus(ax, ph["numpy"]["time"] * k, ph["numpy"]["gap"] * 1e9, ph["spice"].time * k, ph["spice_gap"] * 1e9)
    ax.set(xlabel=f"time [{unit}]", ylabel="gap [nm]")
    ax.legend(fontsize=8)
    files["ngspice_lif_filament"] = _save(fig, out / "ngspice_lif_filament.png", "The filament's gap while the "
                                          "LIF neuron fires: ngspice (dashed) on NumPy (line).")
    return files


def resistance_on_panel(card: DeviceCard, filament: xr.Dataset, emission: xr.Dataset, spec, path: Path,
                        points: int = 9) -> Path | None:
    """Photons per spike and the emitter's transmission T against R_on, over the filament's ON samples' V/I.

    :func:`resistance_on_figure` on the filament result's ON samples, the card's optics from ``emission``.  None
    where the card has no bracket or the filament result is not a finite-element one (no ON samples to show).
    """
    from devicephys.compact import build
    from devicephys.filament import extract

    fem = build.fem_spec(filament)
    if fem is None or "resistance_on_bracket" not in card.fit_quality:
        return None
    v, i, g = (filament[k].values for k in ("voltage", "current", "gap"))
    on = extract.on_samples(v, i, g, float(fem["gap_on"]))
    return resistance_on_figure(card, v[on] / i[on], build.emission_optics(emission), spec, path, points,
                                samples="ON samples")


def resistance_on_figure(card: DeviceCard, r_samples: np.ndarray, optics, spec, path: Path, points: int = 9,
                         samples: str = "ON samples") -> Path | None:
    """Photons per spike and the emitter's transmission T against R_on [Ohm], over the ON samples' V/I.

    The card refitted at ``points`` resistances log-spaced between the 5th and 95th percentile of ``r_samples``
    (the contact conductance solved for each, as for ``fit_quality.resistance_on_bracket``; ``optics`` as for
    :func:`devicephys.compact.build.card_at_resistance_on`), above a histogram of those samples with their median
    (the card's R_on) and quartiles; ``samples`` names them on the axis.  None with fewer than 4 positive samples.
    """
    from devicephys import units
    from devicephys.compact import build

    r_samples = np.asarray(r_samples, dtype=float)
    r_samples = r_samples[np.isfinite(r_samples) & (r_samples > 0)]
    if r_samples.size < 4:
        return None
    lo, q1, q3, hi = np.percentile(r_samples, [5, 25, 75, 95])
    grid = np.geomspace(lo, hi, points)
    refit = build.refit_at_resistance_on(card.model_params())
    rows = [build.card_at_resistance_on(refit, spec, optics, float(r)) for r in grid]
    ok = [k for k, row in enumerate(rows) if "note" not in row]
    r_on, n_card = card.value("resistance_on"), card.value("photons_per_spike")
    k_r, unit = (1e-3, "kOhm") if r_on >= 1e3 else (1.0, "Ohm")
    plt = _plt()
    fig, (ax, hx) = plt.subplots(2, 1, figsize=(5.6, 5.2), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    ax.set_title("the card's light over the ON state's spread", fontsize=10)
    ax.axvspan(q1 * k_r, q3 * k_r, color="0.9", label="ON quartiles")
    ax.plot(grid[ok] * k_r, [rows[k]["photons_per_spike"] for k in ok], "o-", color="C0",
            label="photons per spike, card refitted")
    ax.plot([r_on * k_r], [n_card], "*", ms=12, color="C3", label=f"the card: {n_card:.3g} at {r_on * k_r:.3g} {unit}")
    ax.set(ylabel="photons per spike [1]", xscale="log")
    tx = ax.twinx()
    tx.plot(grid[ok] * k_r, [rows[k]["emission_transmission"] for k in ok], "s--", color="C1", ms=4)
    tx.set_ylabel("emitter's transmission T [1]", color="C1")
    tx.set_ylim(0.0, 1.0)
    ax.legend(fontsize=7, loc="upper left")
    hx.hist(r_samples * k_r, bins=np.geomspace(r_samples.min(), r_samples.max() * (1 + 1e-9), 40) * k_r,
            color="C0", alpha=0.6)
    for x, style in ((r_on, "-"), (q1, ":"), (q3, ":")):
        hx.axvline(x * k_r, color="C3", ls=style, lw=1)
    for k, label in ((1, "1/G0"), (2, "2/G0")):  # the quantized contact's steps, where the samples reach them
        if r_samples.min() / 3 < k / units.G0 < 3 * r_samples.max():
            hx.axvline(k / units.G0 * k_r, color="k", ls="--", lw=0.8)
            hx.text(k / units.G0 * k_r, hx.get_ylim()[1] * (1.0 - 0.12 * k), f" {label}", fontsize=7)
    hx.set(xlabel=f"R_on: V/I of the {samples} [{unit}]", ylabel=f"{samples} [count]")
    skipped = len(rows) - len(ok)
    return _save(fig, path, f"Photons per spike of the card refitted over the ON state's spread of R_on (5th-95th "
                            f"percentile, {r_samples.size} {samples}): {rows[ok[0]]['photons_per_spike']:.3g} at "
                            f"{grid[ok[0]] * k_r:.3g} {unit} to {rows[ok[-1]]['photons_per_spike']:.3g} at "
                            f"{grid[ok[-1]] * k_r:.3g} {unit}, the card's {n_card:.3g} at the median"
                            + (f"; {skipped} of {len(rows)} points have no card" if skipped else "") + "."
                            if ok else "No card exists over the ON state's spread of R_on.")
