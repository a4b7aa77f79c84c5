"""Plots of stage 1 (matplotlib imported on use): I–V loop, temperature map, filament snapshots."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from devicephys.io import save_figure


def _figure():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def iv_loop(result, path: Path) -> Path:
    """|I| versus cell voltage (log scale), coloured by time."""
    plt = _figure()
    d = result.data
    fig, ax = plt.subplots(figsize=(5, 4))
    sc = ax.scatter(d["voltage"], np.maximum(np.abs(d["current"]), 1e-20), c=d["time"] * 1e6, s=6, cmap="viridis")
    ax.set_yscale("log")
    ax.set_xlabel("cell voltage [V]")
    ax.set_ylabel("|current| [A]")
    ax.set_title(f"I-V, V_th = {result.scalar('threshold_voltage'):.2f} V")
    fig.colorbar(sc, label="time [µs]")
    return save_figure(fig, path, close=True)


def temperature_map(result, path: Path) -> Path:
    """Temperature in the (r, z) plane near the channel, at the peak current of the main drive."""
    plt = _figure()
    d, spec = result.data, result.spec
    x, z, T = (np.asarray(d[n]) for n in ("map_r", "map_z", "map_temperature"))
    box = (x <= 6 * spec.channel_radius) & (z > -0.5 * spec.insulator_thickness) & (z < 1.5 * spec.insulator_thickness)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    tc = ax.tricontourf(x[box] * 1e9, z[box] * 1e9, T[box], levels=20, cmap="inferno")
    ax.axhline(0, color="w", lw=0.5)
    ax.axhline(spec.insulator_thickness * 1e9, color="w", lw=0.5)
    ax.set_xlabel("r [nm]")
    ax.set_ylabel("z [nm]")
    ax.set_title("temperature at peak current")
    fig.colorbar(tc, label="T [K]")
    return save_figure(fig, path, close=True)


def snapshots(result, path: Path) -> Path:
    """Metallic Ag fraction along the channel axis at several times of the main drive."""
    plt = _figure()
    d = result.data
    fig, ax = plt.subplots(figsize=(5, 4))
    z = np.asarray(d["axis_z"]) * 1e9
    for t, c in zip(np.asarray(d["profile_time"]), np.asarray(d["axis_metal_fraction"])):
        ax.plot(z, c, label=f"{t * 1e6:.1f} µs")
    ax.axhline(result.spec.percolation_threshold, color="k", ls=":", lw=0.8, label="percolation")
    ax.set_xlabel("z [nm] (active electrode at 0)")
    ax.set_ylabel("metallic Ag fraction")
    ax.legend(fontsize=7)
    return save_figure(fig, path, close=True)


def set_time(result, path: Path) -> Path:
    """Set time versus voltage with the exponential fit; beside it, each run's gap against time, and the growing
    body at half closure against voltage (``set_body_*``)."""
    plt = _figure()
    d = result.data
    v = np.asarray(d["set_voltage"])
    runs = "set_transient_gap" in d
    body = "set_body_return_ratio" in d
    ions = "set_ion_potential_ratio_median" in d
    panels = 1 + runs + body + ions
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4), squeeze=False)
    ax = axes[0, 0]
    ax.semilogy(v, d["set_time"], "o", label="simulated")
    if "set_nucleation_time" in d:  # an inert cathode: the nucleus formed first
        ax.semilogy(v, d["set_nucleation_time"], "s", mfc="none", label="nucleation on the inert cathode")
    vv = np.linspace(v.min(), v.max(), 50)
    ax.semilogy(vv, result.scalar("set_time_tau0") * np.exp(-vv / result.scalar("set_time_v0")), "-",
                label=f"τ0 exp(-V/V0), V0 = {result.scalar('set_time_v0'):.2f} V")
    if "set_time_step_check" in d:  # the same runs under the tighter step control of step_check
        line, = ax.semilogy(v, d["set_time_step_check"], "x", label=f"step check ({result.spec.step_check:g})")
        c_tau0, c_v0 = result.scalar("set_time_tau0_step_check"), result.scalar("set_time_v0_step_check")
        if np.isfinite(c_tau0) and np.isfinite(c_v0):
            ax.semilogy(vv, c_tau0 * np.exp(-vv / c_v0), "--", color=line.get_color(),
                        label=f"its fit, V0 = {c_v0:.3g} V")
    ax.set_xlabel("source voltage [V]")
    ax.set_ylabel("set time [s]")
    ax.legend()
    if runs:
        ax = axes[0, 1]
        for k, volts in enumerate(v):
            t, g = np.asarray(d["set_transient_time"][k]), np.asarray(d["set_transient_gap"][k])
            keep = np.isfinite(t) & (t > 0)
            line, = ax.semilogx(t[keep], g[keep] * 1e9, label=f"{volts:g} V")
            if "set_nucleation_time" in d and np.isfinite(float(d["set_nucleation_time"][k])):
                ax.axvline(float(d["set_nucleation_time"][k]), color=line.get_color(), ls="--", lw=0.8)
        ax.axhline(result.spec.gap_on * 1e9, color="k", ls=":", lw=0.8, label="gap_on (set)")
        ax.set_xlabel("time at constant source voltage [s]")
        ax.set_ylabel("gap [nm]")
        if "set_nucleation_time" in d:
            ax.plot([], [], color="k", ls="--", lw=0.8, label="nucleation")
        ax.set_title("set-time runs (where the gap jumps back, part of the filament fell below percolation)", fontsize=8)
        ax.legend(fontsize=7)
    if body:
        from devicephys.audit import GROWTH_RETURN_LIMIT

        ax = axes[0, panels - 1 - ions]
        ax.plot(v, d["set_body_return_ratio"], "o-", label="return / dissolution")
        ax.plot(v, d["set_body_voltage_share"], "s-", label="body's share of the voltage")
        ax.plot(v, d["set_body_metal_fraction"], "^-", label="body's metal fraction")
        ax.axhline(GROWTH_RETURN_LIMIT, color="0.5", ls=":", lw=0.8, label="the card's premise holds below")
        ax.set_xlabel("source voltage [V]")
        ax.set_ylabel("[1]")
        ax.set_ylim(0, 1.15)
        ax.set_title("growing body at half closure", fontsize=8)
        ax.legend(fontsize=7)
    if ions:
        from devicephys.filament.ion_charge import SPACE_CHARGE_LIMIT

        ax = axes[0, panels - 1]
        ax.semilogy(v, d["set_ion_potential_ratio_median"], "o-", label="median over the run's time")
        ax.semilogy(v, d["set_ion_potential_ratio"], "s--", mfc="none", label="largest")
        ax.axhline(SPACE_CHARGE_LIMIT, color="0.5", ls=":", lw=0.8, label="the charge-free drift holds below")
        ax.set_xlabel("source voltage [V]")
        ax.set_ylabel("ψ_ions / max(V_channel, k_B T/e)")
        ax.set_title("the ions' own potential (uncompensated) against the drift's voltage", fontsize=8)
        ax.legend(fontsize=7)
    return save_figure(fig, path, close=True)


def relaxation(result, path: Path) -> Path:
    """Gap after the bias is removed, and (with the opening reads) the cell's read resistance as it opened."""
    plt = _figure()
    d = result.data
    reads = "relax_read_resistance" in d and d["relax_read_resistance"].size > 0
    if reads:
        fig, (ax, ax_r) = plt.subplots(2, 1, figsize=(5, 6.5), sharex=True)
    else:
        fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(d["relax_time"] * 1e6, d["relax_gap"] * 1e9)
    ax.set_ylabel("gap [nm]")
    title = f"relaxation time {result.scalar('relaxation_time') * 1e6:.3g} µs"
    if "relaxation_time_step_check" in d:
        title += f" (step check: {result.scalar('relaxation_time_step_check') * 1e6:.3g} µs)"
        ax.axvline(result.scalar("relaxation_time_step_check") * 1e6, color="k", ls=":", lw=0.8,
                   label=f"self-rupture under the step check ({result.spec.step_check:g})")
        ax.legend(fontsize=7)
    ax.set_title(title)
    if reads:
        t = d["relax_read_time"].values * 1e6
        ax_r.semilogy(t, d["relax_read_resistance"].values, "o-", ms=3,
                      label=f"FEM read at {result.spec.read_voltage:g} V, silver frozen")
        lumped = d["relax_read_gap_resistance"].values
        shown = np.isfinite(lumped) & (lumped < 1e3 * np.nanmax(d["relax_read_resistance"].values))
        ax_r.semilogy(t[shown], lumped[shown], ":", lw=1, label="lumped gap law, 1/G_gap")
        relaxed = result.scalar("resistance_off_relaxed")
        if np.isfinite(relaxed):
            ax_r.axhline(relaxed, color="k", ls="--", lw=0.8, label="relaxed cell (matrix leakage)")
        end = result.scalar("resistance_off_tunnelling_time")
        if np.isfinite(end):
            ax_r.axvline(end * 1e6, color="grey", ls=":", lw=0.8, label=f"tunnelling ends, {end * 1e6:.3g} µs")
        ax_r.set_ylabel("read resistance [Ω]")
        ax_r.set_xlabel("time after bias removal [µs]")
        ax_r.legend(fontsize=7)
    else:
        ax.set_xlabel("time after bias removal [µs]")
    return save_figure(fig, path, close=True)


def fire_study(result, path: Path) -> Path:
    """Pulses to fire (N_fire) against the pulse amplitude, one line per pulse period."""
    plt = _figure()
    d = result.data
    fig, ax = plt.subplots(figsize=(5, 4))
    v, limit = np.asarray(d["fire_voltage"]), result.spec.fire_pulse_limit
    for j, period in enumerate(np.asarray(d["fire_interval"])):
        n = np.asarray(d["n_fire"][:, j], dtype=float)
        line, = ax.plot(v, n, "o-", label=f"period {period * 1e6:.3g} µs")
        miss = ~np.isfinite(n)
        if miss.any():  # no set within the limit: drawn above it
            ax.plot(v[miss], np.full(miss.sum(), limit + 0.5), "x", color=line.get_color(), ms=8)
    if not np.all(np.isfinite(np.asarray(d["n_fire"]))):
        ax.axhline(limit + 0.5, color="k", ls=":", lw=0.8, label=f"x: no set within {limit} pulses")
    ax.set_xlabel("pulse amplitude [V]")
    ax.set_ylabel("pulses to fire N_fire")
    ax.set_title(f"pulse integration (pulse width {result.spec.pulse_width * 1e6:.3g} µs)")
    ax.legend()
    return save_figure(fig, path, close=True)


def retention_study(result, path: Path) -> Path:
    """Self-rupture time and the held neck (its metal fraction; the contact's radius in results before it was
    recorded) against the compliance current; holds past the insulator's thermal limit or the metal's melting
    point ringed."""
    from devicephys.filament.simulate import temperature_limits

    plt = _figure()
    d = result.data
    fig, ax = plt.subplots(figsize=(5, 4))
    i_cc, t = np.asarray(d["relax_compliance"]), np.asarray(d["relaxation_time_held"], dtype=float)
    ax.semilogx(i_cc, t * 1e6, "o-", color="C0")
    miss = ~np.isfinite(t)
    if miss.any():  # no set, or no rupture within relax_duration: drawn at the end of the observation
        ax.plot(i_cc[miss], np.full(miss.sum(), result.spec.relax_duration * 1e6), "x", color="C0", ms=9,
                label=f"x: no rupture within {result.spec.relax_duration * 1e6:.3g} µs")
    limit = min(k for k, _ in temperature_limits(result.spec).values())
    hot = np.asarray(d["temperature_max_held"], dtype=float) >= limit
    if hot.any():  # the materials' range left during the hold: the number is outside it
        ax.plot(i_cc[hot], t[hot] * 1e6, "o", ms=13, mfc="none", color="C3",
                label=f"hold past {limit:.0f} K (outside the materials' range)")
    if miss.any() or hot.any():
        ax.legend(loc="upper left", fontsize=7)
    ax.set_xlabel("compliance current [A]")
    ax.set_ylabel("self-rupture time [µs]", color="C0")
    twin = ax.twinx()
    if "neck_metal_fraction_held" in d:
        twin.semilogx(i_cc, np.asarray(d["neck_metal_fraction_held"], dtype=float), "s--", color="C1")
        twin.set_ylabel("neck's metal fraction after the hold [1]", color="C1")
    else:
        twin.semilogx(i_cc, np.asarray(d["neck_radius_held"]) * 1e9, "s--", color="C1")
        twin.set_ylabel("neck radius after the hold [nm]", color="C1")
    spec = result.spec
    ax.set_title(f"retention: set at {max(spec.set_voltages):g} V, {spec.relax_hold * 1e6:.3g} µs hold, then 0 V")
    return save_figure(fig, path, close=True)


def lifetime_study(result, path: Path) -> Path:
    """The ON state's lifetime (time to its first rupture) against the constant source voltage held on it."""
    plt = _figure()
    d, spec = result.data, result.spec
    fig, ax = plt.subplots(figsize=(5, 4))
    v, t = np.asarray(d["hold_bias"]), np.asarray(d["on_lifetime"], dtype=float)
    sigma = np.asarray(d["on_lifetime_uncertainty"], dtype=float)
    ax.errorbar(v, t * 1e6, yerr=np.nan_to_num(sigma) * 1e6, fmt="o-", color="C0", capsize=3)
    miss = ~np.isfinite(t)
    if miss.any():  # ON for the whole hold: drawn at its end
        ax.plot(v[miss], np.full(miss.sum(), spec.relax_duration * 1e6), "^", color="C0", ms=9,
                label=f"^: ON for all {spec.relax_duration * 1e6:.3g} µs")
    if "hold_voltage_lifetime" in d and np.isfinite(float(d["hold_voltage_lifetime"])):
        hold = float(d["hold_voltage_lifetime"])
        bracket = float(d["hold_voltage_lifetime"].attrs.get("uncertainty", np.nan))
        ax.axvspan(hold - bracket, hold, color="0.85", zorder=0,
                   label=f"hold: between {hold - bracket:.3g} and {hold:.3g} V")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize=8)
    for vk, tk, nk in zip(v, t, np.asarray(d["on_resets"])):
        if np.isfinite(tk) and nk > 0:
            ax.annotate(f"{int(nk)} re-set{'s' if nk > 1 else ''}", (vk, tk * 1e6), textcoords="offset points",
                        xytext=(4, 4), fontsize=7)
    ax.set_xlabel("source voltage held [V]")
    ax.set_ylabel("ON lifetime (first rupture) [µs]")
    ax.set_ylim(bottom=0)
    ax.set_title(f"ON lifetime under bias: bridged at {max(spec.set_voltages):g} V, "
                 f"R_s = {spec.series_resistance:g} Ω, largest step {spec.hold_step * 1e9:.3g} ns", fontsize=9)
    return save_figure(fig, path, close=True)


def hold_window(result, path: Path) -> Path:
    """The hold-window study: share of the hold spent ON, and ruptures, against the source voltage held."""
    plt = _figure()
    d, spec = result.data, result.spec
    fig, ax = plt.subplots(figsize=(5, 4))
    v, frac = np.asarray(d["sweep_hold_bias"]), np.asarray(d["sweep_hold_on_fraction"], dtype=float)
    held = (np.asarray(d["sweep_hold_start_on"]) > 0) & (np.asarray(d["sweep_hold_ruptures"]) == 0)
    ax.plot(v, frac, "-", color="0.6")
    ax.plot(v[held], frac[held], "o", color="C2", label="held: starts ON, no rupture")
    ax.plot(v[~held], frac[~held], "x", color="C3", ms=8, label="not held")
    for vk, fk, nk in zip(v, frac, np.asarray(d["sweep_hold_ruptures"])):
        if nk > 0:
            ax.annotate(f"{int(nk)} rupture{'s' if nk > 1 else ''}", (vk, fk), textcoords="offset points",
                        xytext=(4, -10), fontsize=7)
    if "sweep_hold_replica_on_fraction" in d:
        each = np.asarray(d["sweep_hold_replica_on_fraction"], dtype=float)  # (bias, run)
        runs = each.shape[1]
        for j in range(1, runs):
            ax.plot(v, each[:, j], ".", color="0.55", ms=4, label="perturbed runs (an atom per node)" if j == 1 else None)
        mean = each.mean(axis=1)
        sem = each.std(axis=1, ddof=1) / np.sqrt(runs)
        ax.errorbar(v, mean, yerr=sem, fmt="s-", color="C0", ms=4, capsize=2, label=f"mean of {runs} runs (± s.e.)")
        v50 = float(d["hold_voltage_ensemble"]) if "hold_voltage_ensemble" in d else float("nan")
        if np.isfinite(v50):
            ax.axvline(v50, color="C0", ls=":", lw=1)
            ax.annotate(f"hold {v50:.3g} V", (v50, 0.5), textcoords="offset points", xytext=(4, 4), fontsize=7,
                        color="C0")
    ax.set_xlabel("source voltage held after the sweep's falling ramp [V]")
    ax.set_ylabel("share of the hold ON (gap < gap_on)")
    ax.set_ylim(-0.05, 1.05)
    ax.legend(loc="lower center", fontsize=8)
    ax.set_title(f"hold window: {spec.relax_duration * 1e6:.3g} µs at each bias, R_s = {spec.series_resistance:g} Ω",
                 fontsize=9)
    return save_figure(fig, path, close=True)


def all_plots(result, out: Path) -> dict[str, Path]:
    """Every plot of the stage, by name, from the result alone."""
    out = Path(out)
    extra = {"fire_study": fire_study(result, out / "fire_study.png")} if "n_fire" in result.data else {}
    if "hold_bias" in result.data.coords:
        extra["lifetime_study"] = lifetime_study(result, out / "lifetime_study.png")
    if "sweep_hold_bias" in result.data.coords:
        extra["hold_window"] = hold_window(result, out / "hold_window.png")
    if "relax_compliance" in result.data.coords:
        extra["retention_study"] = retention_study(result, out / "retention_study.png")
    return {**extra, "iv": iv_loop(result, out / "iv.png"),
            "temperature": temperature_map(result, out / "temperature.png"),
            "snapshots": snapshots(result, out / "snapshots.png"),
            "set_time": set_time(result, out / "set_time.png"),
            "relaxation": relaxation(result, out / "relaxation.png")}
