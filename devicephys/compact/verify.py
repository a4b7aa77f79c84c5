"""ngspice against the NumPy model on the same stimuli, and the LIF neuron against theory.

Three checks on an exported card:

* DC sweep with hysteresis (triangle source through a series resistor);
* pulse train (the "blinking" neuron integrating pulses in its filament);
* LIF neuron (threshold switch across a capacitor) — spike times against the
  NumPy reference and the period against ``t_c + t_d`` of
  :func:`devicephys.compact.neuron.lif_analytic`.

Each returns agreement figures (relative errors) and the waveforms for plots;
its ``metrics`` carry a ``verdict`` (:func:`verdict`): a check in which
neither simulator shows the event it compares (no switching, no spike) is
``inconclusive``, never passed.
"""

from __future__ import annotations

import numpy as np

from devicephys.compact import integrate, ngspice, neuron
from devicephys.compact.card import DeviceCard
from devicephys.compact.export_spice import subcircuit_names, subcircuit_text
from devicephys.compact.fit import set_time_law

_VECTORS = ["i(vsense)", "v(anode)", "v(xdev.nx)", "v(xdev.nt)", "v(opt)"]

#: Agreement target of ngspice against NumPy (relative) on event times and waveforms [1].
TARGET = 0.01


def verdict(events_numpy: int, events_ngspice: int, errors: list[float]) -> str:
    """``passed``, ``failed: ...`` or ``inconclusive: ...`` for a check comparing event counts and errors.

    No event in either simulator makes the check inconclusive (two silent
    simulators agree trivially); differing counts, or any error (relative,
    NaN when not computable) above :data:`TARGET`, fail it.
    """
    if events_numpy == 0 and events_ngspice == 0:
        return "inconclusive: no event in either simulator, so nothing was compared"
    if events_numpy != events_ngspice:
        return f"failed: {events_numpy} events in NumPy, {events_ngspice} in ngspice"
    worst = max((e if e == e else float("inf")) for e in errors) if errors else 0.0
    if worst > TARGET:
        return f"failed: largest relative error {worst:.3g} > {TARGET}"
    return "passed"


def overall(quality: dict) -> str:
    """One verdict for a set of checks: ``passed`` only if every check in ``quality`` passed."""
    verdicts = {name: m.get("verdict", "no verdict recorded") for name, m in quality.items() if isinstance(m, dict)}
    bad = {name: v for name, v in verdicts.items() if not v.startswith("passed")}
    return "passed" if verdicts and not bad else "; ".join(f"{k}: {v}" for k, v in bad.items()) or "no checks run"


def _compare_series(card: DeviceCard, tp, vp, r_series: float, t_stop: float, samples: int,
                    steps: int = 4000) -> dict:
    p = card.model_params()
    ref = integrate.simulate_series(p, tp, vp, r_series, samples_per_segment=samples)
    name, _ = subcircuit_names(card)
    run = ngspice.run(ngspice.series_netlist(subcircuit_text(card), name, tp, vp, r_series, t_stop,
                                             t_stop / steps), _VECTORS)
    # ngspice's waveforms on the NumPy time grid (pointwise figures), and each on its own grid (event times)
    i_sp = np.interp(ref.time, run.time, run.vectors["i(vsense)"])
    opt_sp = np.interp(ref.time, run.time, run.vectors["v(opt)"])
    gap_sp = p.gap_max - 1e-9 * np.interp(ref.time, run.time, run.vectors["v(xdev.nx)"])
    peak = float(np.max(np.abs(ref.current)))
    q_np, q_sp = np.trapezoid(ref.current, ref.time), np.trapezoid(i_sp, ref.time)
    # the emission law exists only inside the card's range (NumPy: NaN outside; the export holds the edge there),
    # so the optical outputs are compared on the samples inside it
    inside = np.isfinite(ref.optical_power)
    opt_np = np.where(inside, ref.optical_power, 0.0)
    e_np = np.trapezoid(opt_np, ref.time)
    e_sp = np.trapezoid(np.where(inside, opt_sp, 0.0), ref.time)
    ev_np = neuron.upward_crossings(ref.time, ref.current, 0.5 * peak)
    ev_sp = neuron.upward_crossings(run.time, run.vectors["i(vsense)"], 0.5 * peak)
    same = len(ev_np) == len(ev_sp) and len(ev_np) > 0
    metrics = {"current_rms_error_rel_peak": float(np.sqrt(np.mean((i_sp - ref.current) ** 2)) / peak),
               "current_max_error_rel_peak": float(np.max(np.abs(i_sp - ref.current)) / peak),
               "charge_error_rel": float(abs(q_sp - q_np) / abs(q_np)),
               "optical_energy_error_rel": float(abs(e_sp - e_np) / e_np) if e_np > 0 else float("nan"),
               "optical_power_max_error_rel_peak": float(np.max(np.abs(opt_sp - opt_np)[inside], initial=0.0)
                                                         / max(np.max(opt_np), 1e-300)),
               "optical_samples_inside_emission_range": float(np.mean(inside)),
               "switch_events_numpy": int(len(ev_np)), "switch_events_ngspice": int(len(ev_sp)),
               "switch_time_max_error_rel": float(np.max(np.abs(ev_sp - ev_np) / ev_np)) if same else float("nan"),
               "gap_max_error_m": float(np.max(np.abs(gap_sp - ref.gap))),
               "ngspice_seconds": run.seconds, "ngspice_points": int(len(run.time))}
    metrics["verdict"] = verdict(len(ev_np), len(ev_sp), [metrics["current_max_error_rel_peak"],
                                                          metrics["charge_error_rel"],
                                                          metrics["switch_time_max_error_rel"]])
    return {"metrics": metrics, "numpy": ref, "spice_current": i_sp, "spice_gap": gap_sp, "spice_optical": opt_sp}


def dc_sweep(card: DeviceCard) -> dict:
    """Triangle sweep to 1.5 x threshold through R_s = 1.2 R_on, slow against relaxation.

    With dissolution (two slow states) the bridge breaks t_r after each set at any bias, so a sweep
    slow against t_r would only repeat the set-rupture cycle; it lasts 6 t_r (a few cycles at the top).
    """
    v = card.values()
    t_stop = (6.0 if v.get("dissolution_rate", 0.0) > 0 else 200.0) * v["relaxation_time"]
    tp, vp = integrate.triangle_sweep_pwl(1.5 * v["threshold_voltage"], t_stop)
    # 16000 steps: the default device's pointwise current error is 1.3 % of the peak at 4000, 0.17 % at 16000
    out = _compare_series(card, tp, vp, 1.2 * v["resistance_on"], t_stop, 2000, steps=16000)
    out["r_series"] = 1.2 * v["resistance_on"]
    return out


def pulse_train(card: DeviceCard, count: int) -> dict:
    """Pulses of 1.3 x threshold, each shorter than the set time: the filament integrates them."""
    v = card.values()
    amp = 1.3 * v["threshold_voltage"]
    t_set = float(set_time_law(amp, v["set_time_tau0"], v["set_time_v0"], v["relaxation_time"],
                               v.get("dissolution_rate", 0.0) > 0))
    width = 0.45 * t_set
    period = width + 0.15 * v["relaxation_time"]
    tp, vp = integrate.pulse_train_pwl(amp, width, period, count, rise=width / 50, delay=0.1 * width)
    # the current is exponential in the gap across each set event: ngspice needs a fine step there for
    # 1 % pointwise agreement (measured max error 1.4 % / 1.2 % / 0.4 % of the peak at 4000 / 16000 / 64000 steps)
    out = _compare_series(card, tp, vp, 0.2 * v["resistance_on"], float(tp[-1]), 400, steps=64000)
    ref, p = out["numpy"], card.model_params()
    fire, release = p.gap_min + 0.5 * (p.contact_gap - p.gap_min) + 0.1e-9, p.contact_gap + 0.5e-9
    t_np = neuron.blink_spikes(ref.time, ref.gap, fire, release)
    t_sp = neuron.blink_spikes(ref.time, out["spice_gap"], fire, release)
    out["metrics"]["blinks_numpy"] = int(len(t_np))
    out["metrics"]["blinks_ngspice"] = int(len(t_sp))
    if len(t_np) == len(t_sp) == 0:
        out["metrics"]["verdict"] = "inconclusive: the filament never bridged (no blink) in either simulator"
    out["pulse"] = {"amplitude": amp, "width": width, "period": period}
    return out


def lif(card: DeviceCard, spikes: int) -> dict:
    """The card's LIF neuron in ngspice, NumPy and theory.

    The card's reference circuit (R_s, V_in), its capacitance raised where
    needed to :func:`neuron.theory_capacitance` (the latch switches in the
    filament's set time; t_c + t_d is the theory of an instant switch).
    """
    lp, v = card.latch_params(), card.values()
    r_s, v_in = v["series_resistance"], v["neuron_input_voltage"]
    c = neuron.theory_capacitance(lp, v["neuron_capacitance"])
    theory = neuron.lif_analytic(lp, v_in, r_s, c)
    first = theory["charge_time"] + theory["discharge_time"]
    t_end = first * (1 + 0.25) + theory["period"] * (spikes - 1) + 0.5 * theory["period"]
    ref = neuron.simulate_lif(lp, v_in, r_s, c, t_end, v_start=0.0)
    _, ts = subcircuit_names(card)
    run = ngspice.run(ngspice.lif_netlist(subcircuit_text(card), ts, v_in, r_s, c, t_end, theory["period"] / 4000),
                      ["v(mem)", "v(xsw.ns)", "i(vsense)"])
    t_sp = neuron.upward_crossings(run.time, neuron.latch_state(run.vectors["v(xsw.ns)"]), 0.5)
    t_np = ref["spike_times"]
    n = min(len(t_np), len(t_sp))
    intervals = np.diff(t_np)
    metrics = {"capacitance": c, "spikes_numpy": int(len(t_np)), "spikes_ngspice": int(len(t_sp)),
               "spike_time_max_error_rel": float(np.max(np.abs(t_sp[:n] - t_np[:n]) / t_np[:n])) if n else float("nan"),
               "period_theory": theory["period"],
               "period_numpy_error_rel": float(np.max(np.abs(intervals / theory["period"] - 1))) if len(intervals) else float("nan"),
               "period_ngspice_error_rel": (float(np.max(np.abs(np.diff(t_sp) / theory["period"] - 1)))
                                            if len(t_sp) > 1 else float("nan")),
               "ngspice_seconds": run.seconds}
    metrics["verdict"] = verdict(len(t_np), len(t_sp), [metrics["spike_time_max_error_rel"],
                                                        metrics["period_ngspice_error_rel"]])
    return {"metrics": metrics, "numpy": ref, "spice": run, "theory": theory}


def lif_physical(card: DeviceCard, series_factor: float = 25.0, periods: float = 3.5) -> dict:
    """The physical model as the LIF switch (R_s = ``series_factor`` R_on): ngspice against NumPy.

    The filament itself is the threshold switch here; its period differs from
    the ideal-switch theory (finite set and relaxation times), so only the two
    simulators are compared, and the period is reported next to the theory.
    The run lasts ``periods`` times a physical period's scale: the filament's
    set time at V_in (the most the capacitor reaches), its relaxation time
    (the gap reopens before the next firing) and the ideal-switch period;
    without a finite set time at V_in, 2.5 ideal periods.
    """
    p, lp, v = card.model_params(), card.latch_params(), card.values()
    c, r_s, v_in = v["neuron_capacitance"], series_factor * v["resistance_on"], v["neuron_input_voltage"]
    theory = neuron.lif_analytic(lp, v_in, r_s, c)
    t_set = float(set_time_law(v_in, v["set_time_tau0"], v["set_time_v0"], v["relaxation_time"],
                               v.get("dissolution_rate", 0.0) > 0))
    scale = t_set + v["relaxation_time"] + theory["period"] if np.isfinite(t_set) else 2.5 * theory["period"]
    t_end = periods * scale
    ref = integrate.simulate_lif_physical(p, v_in, r_s, c, t_end)
    name, _ = subcircuit_names(card)
    run = ngspice.run(ngspice.lif_netlist(subcircuit_text(card), name, v_in, r_s, c, t_end, t_end / 5000,
                                          optical_port=True), ["v(mem)", "v(xsw.nx)", "v(opt)"])
    fire, release = p.contact_gap, p.contact_gap + 0.5e-9
    gap_sp = p.gap_max - 1e-9 * run.vectors["v(xsw.nx)"]
    t_sp = _interpolated_blinks(run.time, gap_sp, fire, release)
    t_np = _interpolated_blinks(ref["time"], ref["gap"], fire, release)
    n = min(len(t_np), len(t_sp))
    metrics = {"r_series": r_s, "spikes_numpy": int(len(t_np)), "spikes_ngspice": int(len(t_sp)),
               "spike_time_max_error_rel": float(np.max(np.abs(t_sp[:n] - t_np[:n]) / t_np[:n])) if n else float("nan"),
               "period_numpy": float(np.mean(np.diff(t_np))) if len(t_np) > 1 else float("inf"),
               "period_ideal_switch_theory": theory["period"], "set_time_at_input": t_set, "simulated_time": t_end,
               "ngspice_seconds": run.seconds}
    metrics["verdict"] = verdict(len(t_np), len(t_sp), [metrics["spike_time_max_error_rel"]])
    if len(t_np) == len(t_sp) == 1 and metrics["verdict"] == "passed":
        metrics["verdict"] = ("passed (one firing, at the same time in both; the gap does not reopen past the release "
                              f"gap for the rest of the {t_end:.3g} s run, so no period is compared)")
    if len(t_np) == len(t_sp) == 0:
        metrics["verdict"] = ("inconclusive: the filament did not fire in either simulator within "
                              f"{t_end:.3g} s (R_s = {r_s:.3g} Ohm, V_in = {v_in:.3g} V); nothing was compared")
    return {"metrics": metrics, "numpy": ref, "spice": run, "spice_gap": gap_sp}


def _interpolated_blinks(t, gap, fire: float, release: float) -> np.ndarray:
    """Times [s] the gap falls through ``fire`` (re-armed above ``release``), linearly interpolated."""
    coarse = neuron.blink_spikes(t, gap, fire, release)
    out = []
    for tc in coarse:
        k = int(np.searchsorted(t, tc))
        out.append(t[k - 1] + (fire - gap[k - 1]) / (gap[k] - gap[k - 1]) * (t[k] - t[k - 1]) if k > 0 else tc)
    return np.array(out)
