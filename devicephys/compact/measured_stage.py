"""The compact stage on a user's measurements: base card, fit, exports, replay in ngspice, plot.

Run by ``devicephys compact --measured SWEEP.csv [--pulses PULSES.csv] [--from DIR] --out DIR``
and by a pipeline spec with ``compact: {measured: {sweep: ..., pulses: ...}}``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from scipy.optimize import brentq

from devicephys.compact import (build, corners, export_spice, export_veriloga, fem_drive, measured, measured_fit,
                                measured_release, model)
from devicephys.compact.card import DeviceCard
from devicephys.compact.model import ModelParams
from devicephys.compact.spec import CompactSpec
from devicephys.errors import ConvergenceError, SpecError, StageUnavailableError
from devicephys.io import atomic_write_text

#: Where the built-in illustrative base card comes from.
ILLUSTRATIVE = ("built-in illustrative card: devicephys.compact.synthetic.REFERENCE (literature-order values, "
                "not fitted) with the toy emission spectrum")


def illustrative_emission():
    """The toy emission result of the illustrative card, down to its closest approach (0.15 nm)."""
    from devicephys.compact import synthetic

    return synthetic.emission_dataset(gaps=np.linspace(0.1e-9, 2e-9, 8))


def illustrative_card(spec: CompactSpec) -> DeviceCard:
    """Base card used without ``--from``: the synthetic reference device (NOT fitted to anything)."""
    from devicephys.compact import synthetic

    p = synthetic.REFERENCE
    neuron, _ = build.neuron_parameters(p, spec)
    # the toy spectrum down to the reference device's closest approach (0.15 nm), so its law covers gap_min
    optics, _, _, _, spectrum = build._optics(p, illustrative_emission(), neuron)
    values = {**p.as_dict(), **neuron, **optics}
    return DeviceCard.from_values("illustrative", values, {k: ILLUSTRATIVE for k in values},
                                  provenance={"origin": ILLUSTRATIVE}, spectrum=spectrum)


def base_card(spec: CompactSpec, upstream: dict[str, Path], out: Path) -> tuple[DeviceCard, str, object]:
    """The card that lends geometry and thermal node, a line saying where it came from, and its emission result.

    In order: ``device_card.json`` in ``upstream['compact']``; a card fitted here to the
    filament and emission results in ``upstream``; the built-in illustrative card.  The
    emission result (an xarray Dataset, or None where there is none) is the one the base
    card's optics came from: the fitted card's photon yield and spectrum are recomputed
    from it at the measured operating point.  With ``rupture: dissolution`` a base card of one
    slow state is given the second (:func:`devicephys.compact.build.with_dissolution`, with the
    default FilamentSpec's percolation and dissolution constants), and the line says so.
    """
    card, said, emission = _base_card(spec, upstream, out)
    if spec.rupture == "dissolution" and not card.model_params().dissolves:
        from devicephys.filament.spec import FilamentSpec

        # the default cell's percolation and dissolution constants; its field's return is the measurement's
        # to give (the return fit below, from a release under bias), so none is taken from the FEM's law
        card = build.with_dissolution(card, {**FilamentSpec().model_dump(), "dissolved_return": False},
                                      spec.rupture_time_fraction)
        said += ("; given the second slow state (rupture: dissolution) with the default FilamentSpec's percolation "
                 "and dissolution constants (a measured self-rupture time, where the pulses give one, sets the dissolution rate)")
    return card, said, emission


def _base_card(spec: CompactSpec, upstream: dict[str, Path], out: Path) -> tuple[DeviceCard, str, object]:
    folder = upstream.get("compact")
    fil, em = (Path(upstream[k]) / f"{k}.nc" if k in upstream else None for k in ("filament", "emission"))
    if folder is not None and (Path(folder) / "device_card.json").is_file():
        path = Path(folder) / "device_card.json"
        card, emission = DeviceCard.load(path), None
        if em is not None and em.is_file():  # only the emission result the card was fitted to
            from devicephys.compact.stage import read_upstream

            data, prov = read_upstream(upstream, "emission", "emission.nc", _emission_variables())
            fitted_to = card.provenance.get("emission_result")
            if isinstance(fitted_to, dict) and fitted_to.get("sha256") == prov["sha256"]:
                emission = data
        return card, f"base card: {path} (geometry and thermal node)", emission
    if fil is not None and em is not None and fil.is_file() and em.is_file():
        from devicephys.compact.stage import fit_compact, read_upstream

        files = {k: read_upstream(upstream, k, f"{k}.nc", names) for k, names in
                 (("filament", build.fit.FILAMENT_VARIABLES), ("emission", _emission_variables()))}
        card = fit_compact(files["filament"][0], files["emission"][0], spec.model_copy(update={"measured": None, "name": spec.name + "-fem"}),
                           sources={f"{k}_result": v[1] for k, v in files.items()})
        card.save(out / "fem_device_card.json")
        return (card, f"base card: fitted here to {fil} and {em} (written as fem_device_card.json)",
                files["emission"][0])
    if folder is not None or fil is not None:
        raise SpecError(f"--from {folder or fil.parent}: holds neither device_card.json nor filament.nc and emission.nc; "
                        "give the output folder of a FEM/FDTD run, or leave --from out for the illustrative card")
    return (illustrative_card(spec), "base card: " + ILLUSTRATIVE + " (give --from DIR for a FEM/FDTD card)",
            illustrative_emission())


def _emission_variables():
    from devicephys.compact.fit_emission import EMISSION_VARIABLES

    return EMISSION_VARIABLES


#: The measurement's series resistor [Ohm] (kept here for the stage's callers).
series_resistance = measured_release.series_resistance


def load_line_states(p: ModelParams, v_source: float, r_series: float, points: int = 4001) -> list[dict]:
    """Steady states of the card's cell behind ``r_series`` [Ohm] at a constant source ``v_source`` [V].

    On the load line the cell voltage is ``V(d) = V_src - R_s I(d)`` and the thermal node sits at its
    steady state ``T(d) = T_0 + R_th V I`` (its time constant ``R_th C_th`` is picoseconds); the steady
    states are the gaps where ``dd/dt = 0``.  As ``dd/dt > 0`` at ``gap_min`` (the floor stops growth)
    and ``< 0`` at ``gap_max`` for any nonzero source, there is always at least one, and with one slow
    state a trajectory settles on a stable one (it cannot oscillate).

    Returns
    -------
    list of dict
        Per steady state, by increasing gap: ``gap`` [m], ``voltage`` (cell) [V], ``temperature`` [K],
        ``resistance`` (cell) [Ohm], ``rate_slope`` = d(dd/dt)/dd [1/s] and ``stable`` (slope < 0).
    """
    def state(d):
        i = float(model.series_current(p, d, v_source, r_series))
        v = v_source - r_series * i
        return v, p.ambient_temperature + p.thermal_resistance * v * i

    def rate(d):
        v, temp = state(d)
        return float(model.gap_rate(p, d, v, temp))

    grid = np.linspace(p.gap_min, p.gap_max, points)
    f = np.array([rate(d) for d in grid])
    out = []
    for k in np.flatnonzero(np.sign(f[:-1]) * np.sign(f[1:]) < 0):
        d = brentq(rate, grid[k], grid[k + 1], xtol=1e-6 * p.floor_width)
        h = 1e-3 * p.floor_width
        slope = (rate(d + h) - rate(d - h)) / (2 * h)
        v, temp = state(d)
        out.append({"gap": d, "voltage": v, "temperature": temp, "resistance": 1 / float(model.cell_conductance(p, d)),
                    "rate_slope": slope, "stable": slope < 0})
    return out


def _late_release(p: ModelParams, sweep: measured.Table, m: dict, gap) -> dict:
    """Why a one-state card under a compliance is still ON at the drive's end: its gap opens at the relaxation's pace.

    ``gap`` [m] is the model's gap on the measured time grid.  Returns the gap at the measured
    release and at the drive's end and the switch-off gap (the sweep's switch-off conductance), all in m,
    the time [s] the zero-bias relaxation would still need from the end to reach it,
    ``tau_r ln((d_max - d_end)/(d_max - d_off))``, and a ``hold_note`` saying so.
    """
    k = m["last_on"]
    d_off = measured_fit.switch_gap(p, m["switch_off_conductance"])
    d_rel, d_end = float(gap[k]), float(gap[-1])
    still = p.relaxation_time * math.log((p.gap_max - d_end) / (p.gap_max - d_off)) if d_end < d_off else 0.0
    pace = (p.gap_max - p.gap_min) / p.relaxation_time
    return {"gap_at_measured_release": d_rel, "gap_at_drive_end": d_end, "switch_off_gap": d_off,
            "relaxation_still_needed": still,
            "hold_note": (f"the model does not switch off before the end of the measured drive: its gap is "
                          f"{d_rel * 1e9:.3g} nm at the measured release and {d_end * 1e9:.3g} nm at the drive's "
                          f"end, against {d_off * 1e9:.3g} nm at the sweep's switch-off conductance; it opens at "
                          f"the relaxation's pace, at most {pace * 1e3:.3g} nm/us (relaxation_time "
                          f"{p.relaxation_time:.3g} s), and would need {still:.3g} s more at zero bias, while "
                          "the measured cell switched off at its hold: a card releases like that only with a "
                          "state that carries a bridge thinning under bias, which the card's laws lack")}


def _no_release(card: DeviceCard, sweep: measured.Table, m: dict, table: measured.Table, r_s: float,
                gap=None) -> dict:
    """Why the model stays ON: its cell voltage at the measured release against its load-line steady state.

    Under a compliance, with the model's ``gap`` [m] on the measured grid (from the NumPy or the ngspice
    replay), how far its gap is from switching off (:func:`_late_release`).
    """
    k = m["last_on"]
    p = card.model_params()
    if sweep.compliance and gap is not None and not p.dissolves:
        return _late_release(p, sweep, m, gap)
    if p.dissolves or sweep.compliance:  # no resistor's load line: a bridge breaks t_r after
        return {}                        # its growth began, or the compliance holds the current
    states = load_line_states(card.model_params(), float(sweep["source_voltage"][k]), r_s)
    on = [s for s in states if s["stable"] and s["resistance"] < 1 / m["switch_on_conductance"]]
    out = {"stable_on_states": [{kk: float(v) for kk, v in s.items()} for s in on]}
    if on:
        out["hold_note"] = (f"the model does not switch off before the end of the measured drive: at the measured "
                            f"release (source {float(sweep['source_voltage'][k]):.3g} V) it sits on a stable, partly "
                            f"bridged steady state of the load line (cell {on[0]['voltage']:.3g} V, gap "
                            f"{on[0]['gap'] * 1e9:.3g} nm) where growth balances relaxation; a release there needs "
                            "a second slow state (a bridged filament thinning at constant conductance until it "
                            "ruptures) that the card's laws lack")
    return out


#: Maximum steps of the ngspice replay, as the drive's duration over these numbers, tried in turn.  A two-state
#: card under the volatile example's compliance stops with "timestep too small" at a rupture at some steps and
#: not at others (of three fits: 10 ns failed on two; 5, 4 and 2 ns each on one of those tried; 1 ns ran on all three).
SPICE_STEPS = (20000, 200000)


def replay(card: DeviceCard, sweep: measured.Table, *, spice: bool = True, numpy: bool = True,
           capacitance: float = 0.0) -> dict:
    """The measured drive (source through the series resistor) applied to the card, in NumPy and ngspice.

    Both waveforms are sampled on the measured time grid and read by
    :func:`devicephys.compact.measured.sweep_parameters`, as the measurement was.
    Returns the threshold and hold of each and their relative differences from
    the measured ones.  ``capacitance`` [F] (``MeasuredFiles.cell_capacitance``) across the cell's terminals in
    ngspice, outside the current sense; the NumPy card is quasi-static and has none.  On the volatile example's
    two-state card under its compliance, over eight maximum steps from the drive / 3000 to / 40000, ngspice
    stopped at the set with "timestep too small" at two without it, at one with the default cell's 0.094 fF and at
    none with 1 fF; where it runs, threshold and hold agree with NumPy's to 1e-6 either way (docs/validation.md).
    """

    m = measured.sweep_parameters(sweep)
    r_s = series_resistance(sweep, m)
    tp, vp = sweep["time"], sweep["source_voltage"]
    drive = fem_drive.Drive(r_s, sweep.compliance_current)
    runs, gaps, failed, spice_step, tries = {}, {}, {}, None, []
    if numpy:
        p = card.model_params()
        try:
            t, v, i, gap = measured_release.numpy_trace(p, sweep, r_s)
            runs["numpy"] = (t, v, i)
            if sweep.compliance:
                gaps = {"numpy": np.interp(sweep["time"], t, gap)}
        except (ConvergenceError, ValueError) as exc:  # the fitted card stands; the failure is reported (ValueError:
            # BDF's Jacobian overflowed to inf/NaN, e.g. a two-state card under the volatile example's compliance)
            failed["numpy"] = f"{type(exc).__name__}: {exc}"
    if spice:
        from devicephys.compact import fem_drive_spice, ngspice
        from devicephys.compact.export_spice import subcircuit_names, subcircuit_text

        name, _ = subcircuit_names(card)
        t_stop = float(tp[-1])
        # Gear (BDF) integration under the compliance: with the trapezoidal default the volatile example's card
        # (a picosecond thermal node beside the 108 eV activation it then took from the hold) switched off at its
        # compliance's release at a 10 ns step, stopped early at 5 ns, and stayed ON (as in NumPy) at 2 ns; with Gear
        # it stays ON at both.  A run that stops on a too-small step (a two-state card's rupture under the compliance) is run again with
        # a 10x shorter maximum step; if that fails too, the failure is reported
        def step(steps: int) -> float:  # [s], as each netlist takes it
            return (float(tp[-1] - tp[0]) if sweep.compliance else t_stop) / steps

        def deck(steps: int) -> str:
            return (fem_drive_spice.netlist(card, tp, vp, drive, steps=steps, options=ngspice.OPTIONS,
                                            capacitance=capacitance)
                    if sweep.compliance else
                    ngspice.series_netlist(subcircuit_text(card), name, tp, vp, r_s, t_stop, step(steps),
                                           capacitance=capacitance))

        run, steps, tries = ngspice.run_at_steps(deck, SPICE_STEPS, ["i(vsense)", "v(anode)", "v(xdev.nx)"])
        if run is None:  # the NumPy replay and the fitted card stand; the failure is reported
            failed["ngspice"] = tries[-1]
        else:
            runs["ngspice"] = (run.time, run.vectors["v(anode)"], run.vectors["i(vsense)"])
            # node nx holds the closure (gap_max - gap)/1 nm
            gaps["ngspice"] = np.interp(sweep["time"], run.time, card.value("gap_max") - 1e-9 * run.vectors["v(xdev.nx)"])
            spice_step = step(steps)
    out = {"series_resistance": r_s, "compliance_current": sweep.compliance_current, "cell_capacitance": capacitance,
           "measured": {k: m[k] for k in ("threshold_voltage", "hold_voltage")}}
    out.update({key: {"error": why} for key, why in failed.items()})
    for key, (t, v, i) in runs.items():
        table = measured.Table(sweep.path, {"time": sweep["time"], "voltage": np.interp(sweep["time"], t, v),
                                            "current": np.interp(sweep["time"], t, i),
                                            "source_voltage": sweep["source_voltage"]}, sweep.lines, sweep.header_line,
                               sweep.compliance_current, sweep.series_resistance)
        try:
            got = measured.sweep_parameters(table, require_release=False)
        except SpecError as exc:
            out[key] = {"error": str(exc)}
            continue
        out[key] = {k: got[k] for k in ("threshold_voltage", "hold_voltage")}
        out[key].update(source_at_measured_release=float(sweep["source_voltage"][m["last_on"]]),
                        model_voltage_at_measured_release=float(table["voltage"][m["last_on"]]))
        if not got["last_on"] >= 0:
            out[key]["hold_note"] = "the model does not switch off before the end of the measured drive"
            out[key].update(_no_release(card, sweep, m, table, r_s, gaps.get(key)))
        out[key].update({f"{k}_relative": got[k] / m[k] - 1 for k in ("threshold_voltage", "hold_voltage")})
        out[key]["waveform"] = table
    if spice_step is not None and "ngspice" in out and "error" not in out["ngspice"]:
        out["ngspice"]["maximum_step"] = spice_step
        if tries:  # the maximum steps it stopped at before the one that ran
            out["ngspice"]["stopped_at"] = tries
    return out


def cell_capacitance(spec: CompactSpec, upstream: dict[str, Path]) -> tuple[float, str]:
    """The capacitance [F] across the cell in the measured drive's ngspice replay, and where it came from.

    ``CompactSpec.measured.cell_capacitance`` where given; else the FEM cell's own where ``upstream`` holds a
    filament result (a pipeline's or ``--from``'s: the cell the base card describes); else none.
    """
    if spec.measured.cell_capacitance is not None:
        return spec.measured.cell_capacitance, "CompactSpec.measured.cell_capacitance"
    fil = Path(upstream["filament"]) / "filament.nc" if "filament" in upstream else None
    if fil is not None and fil.is_file():
        import xarray as xr

        from devicephys.compact import fem_drive_spice

        with xr.open_dataset(fil, engine="h5netcdf") as ds:
            c = fem_drive_spice.cell_capacitance(ds)
        if c > 0:
            return c, f"the FEM cell's own (parallel plates of its footprint across its insulator; {fil})"
    return 0.0, "none: no cell_capacitance given and no filament result under --from"


def run(spec: CompactSpec, out: Path, *, upstream: dict[str, Path], progress: bool = True) -> dict[str, Path]:
    """Fit the card to ``spec.measured``, write it with its SPICE/Verilog-A files, the replay and a plot."""
    from devicephys.compact import measured_plot

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    i_cc = spec.measured.compliance_current
    sweep = measured.read_sweep(spec.measured.sweep, compliance_current=math.inf if i_cc is None else i_cc,
                                series_resistance=spec.measured.series_resistance)
    pulses = measured.read_pulses(spec.measured.pulses) if spec.measured.pulses else None
    base, said, emission = base_card(spec, upstream, out)
    print(said, flush=True)
    card = measured_fit.fit_card(sweep, pulses, base, spec, emission, progress=progress)
    card.provenance["compact_spec"] = spec.to_dict()
    files = {"base_card": base.save(out / "base_device_card.json")}
    name, _ = export_spice.subcircuit_names(card)
    files["spice"] = export_spice.write(card, out / f"{name}.lib")
    files["veriloga"] = export_veriloga.write(card, out / f"{name}.va")
    files.update(corners.write_ends(card, spec, out))
    checks = None
    if "source_voltage" in sweep:
        try:
            c_cell, c_source = cell_capacitance(spec, upstream)
            checks = replay(card, sweep, spice=spec.verify, capacitance=c_cell)
        except StageUnavailableError as exc:
            checks = replay(card, sweep, spice=False, capacitance=c_cell)
            checks["ngspice"] = {"skipped": str(exc)}
        checks["cell_capacitance_source"] = c_source
        card.fit_quality["replay"] = {k: ({kk: vv for kk, vv in v.items() if kk != "waveform"} if isinstance(v, dict) else v)
                                      for k, v in checks.items()}
    else:
        card.fit_quality["replay"] = {"skipped": "the sweep has no source_voltage column, so its drive is unknown"}
    if spec.verify:
        from devicephys.compact.stage import _verify

        card.fit_quality["ngspice"] = _verify(card, spec, out, progress)[1]
    files["result"] = card.save(out / "device_card.json")
    files["fit_plot"] = measured_plot.figure(card, sweep, pulses, checks, out / "measured_vs_model.png")
    spread = resistance_on_figure(card, sweep, base, emission, spec, out / "fit_resistance_on.png")
    if spread is not None:
        files["fit_resistance_on"] = spread
    files["verification"] = atomic_write_text(out / "verification.json",
                                              json.dumps(card.to_dict()["fit_quality"], indent=2, default=float))
    print(summary(card), flush=True)
    return files


def resistance_on_figure(card: DeviceCard, sweep: measured.Table, base: DeviceCard, emission, spec: CompactSpec,
                         path: Path) -> Path | None:
    """The card's light over the measured ON samples' spread of R_on
    (:func:`devicephys.compact.plot.resistance_on_figure`); None where the card has no bracket."""
    from devicephys.compact import plot

    if "resistance_on_bracket" not in card.fit_quality:
        return None
    m = measured.sweep_parameters(sweep)
    rows = m["on_rows"]
    return plot.resistance_on_figure(card, sweep["voltage"][rows] / sweep["current"][rows],
                                     lambda q, n: measured_fit.optics_at_operating_point(q, base, n, emission)[0],
                                     spec, path, samples="measured ON samples")


def summary(card: DeviceCard) -> str:
    """A few lines: the measured numbers against the card's, and the replay's differences."""
    q = card.fit_quality
    m = q["measured"]
    flicker = m.get("sets_after_release", 0)
    lines = [f"measured: threshold {m['threshold_voltage']:.4g} V, hold {m['hold_voltage']:.4g} V"
             + (f" (warning: {flicker} re-set{'s' if flicker > 1 else ''} after it: a flicker sample, not a release)"
                if flicker else "") + ", "
             f"R_on {m['resistance_on']:.4g} Ohm, R_off {'>' if m['resistance_off_lower_bound'] else ''}"
             f"{m['resistance_off']:.3g} Ohm",
             f"set-time fit: {json.dumps({k: float(f'{v:.4g}') for k, v in q['set_time_fit'].items() if isinstance(v, float)})}"]
    v = card.values()
    lines.append(f"card: static threshold {v['threshold_voltage']:.4g} V, static hold {v['hold_voltage']:.4g} V "
                 "(the reference neuron's; a sweep's are dynamic, shifted by its rate)")
    if "activation_energy_kept" in q:
        lines.append(f"activation energy: {q['activation_energy_kept']['reason']}")
    ends = q.get("resistance_on_bracket", {})
    if ends:
        at = [(f"{ends[s]['photons_per_spike']:.3g}" if "photons_per_spike" in ends[s] else "no card")
              + f" at {ends[s]['resistance_on']:.3g} Ohm" for s in ("low", "high")]
        lines.append(f"photons per spike: {v['photons_per_spike']:.3g} ({at[0]}, {at[1]}: {ends['ends']})")
    r = q.get("return_fit", {})
    if "error" in r:
        lines.append(f"return of dissolved Ag: not fitted: {r['error']}")
    elif r:
        lines.append(f"return of dissolved Ag: k_f = {v['return_rate']:.4g} 1/s releases the card at "
                     f"{r['release_card_s']:.6g} s against the measured {r['release_measured_s']:.6g} s "
                     f"({r['release_residual_samples']:+.2g} samples, {r['replays']} replays)")
    for key in ("numpy", "ngspice"):
        r = q.get("replay", {}).get(key, {})
        if "error" in r:
            lines.append(f"replay of the measured drive ({key}): failed: {r['error']}")
        elif "threshold_voltage_relative" in r:
            hold = r.get("hold_note") or f"{100 * r['hold_voltage_relative']:+.1f} %"
            lines.append(f"replay of the measured drive ({key}): threshold {100 * r['threshold_voltage_relative']:+.1f} %, "
                         f"hold {hold}")
            if key == "ngspice" and r.get("stopped_at"):
                c_cell = q["replay"].get("cell_capacitance") or 0.0
                why = (f"with {c_cell:.3g} F across the cell" if c_cell > 0 else
                       "no capacitance across the cell: give the measurement's (cell_capacitance, --capacitance)")
                lines.append(f"  ngspice ran at the maximum step {r['maximum_step']:.3g} s after stopping at "
                             f"{len(r['stopped_at'])} larger one(s) ({why})")
    return "\n".join(lines)

