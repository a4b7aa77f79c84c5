"""Fit a DeviceCard to measured data (:mod:`devicephys.compact.measured`) on top of a base card.

Measurements carry no gap, so the tunnelling geometry (``decay_constant``,
``contact_gap``, ``gap_min``, ``gap_max``), the filament body resistance and
the thermal node come from a *base card* (the one fitted to the FEM/FDTD
results, or the built-in illustrative card).  Onto it the measured
circuit-level behaviour is mapped:

1. leakage = R_off (or its lower bound when the OFF current is at the noise
   floor); the contact conductance so that ``1/G_cell(gap_min) = R_on``;
2. with measured relaxation times, ``tau_r`` such that the model's zero-bias
   relaxation from ``gap_min`` crosses the sweep's switch-off conductance (halfway
   in decades between its ON and relaxed conductances: a self-rupture is read
   without the series resistor) at the measured time (as the FEM path matches its
   self-rupture time);
3. the set-time law ``(tau0, V0)`` by least squares on the pulse set times
   (the model's set time is the time to reach the sweep's switch-on conductance,
   :func:`pulse_set_time`)
   together with the sweep's switching point: the model driven by the measured
   cell voltage must switch on (cross the same switch-on conductance) at the
   measured threshold voltage.  Every residual is a relative voltage, the unit
   of the targets: the sweep's is the switch's time against the measured
   threshold's, times the drive's ramp rate there, over the threshold; a
   pulse's is its ln t error times ``V0`` of the pulses' own exponential law
   (the measured ``-dV/d ln t``, fixed by the data) over its voltage.  With fewer than two pulses
   ``V0`` is kept from the base card;
4. the activation energy from the measured hold voltage (the hot bridged
   state just sustains itself there), re-derived at every trial of step 3.
   Where that needs more than Ag's cohesive energy (:data:`ACTIVATION_ENERGY_MAX`:
   under a current compliance the bridge hardly heats), the hold is not
   thermal: step 3 is run (or, if that shows only after it, redone) with the base
   card's activation energy, and the card's static hold is then its own, not the measured one.

With a base card of two slow states (``rupture: dissolution``), step 2 sets
the dissolution rate instead: the bridge breaks when its oldest stretch falls
below percolation, so ``k_d = (1 - c_p) / t_r`` with ``t_r`` the measured
self-rupture time (``c_p`` from the base card).  With a ``source_voltage``
column, a fifth step then sets the field's return of dissolved silver
(``return_rate``) so that the card, driven by the measured source, releases
at the measured release (:mod:`devicephys.compact.measured_release`).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from devicephys import units
from devicephys.compact import build, emission_point, fit, lsq, measured_release, model
from devicephys.compact.card import DeviceCard
from devicephys.compact.measured import Table, exponential_set_time_law, sweep_parameters
from devicephys.compact.model import ModelParams
from devicephys.compact.spec import CompactSpec
from devicephys.errors import ConvergenceError, SpecError
from devicephys.progress import bar as progress_bar

#: Parameters whose values come from the measurements (the rest from the base card).
MEASURED_PARAMETERS = ("leakage_resistance", "contact_conductance", "relaxation_time", "set_time_tau0",
                       "set_time_v0", "activation_energy", "return_rate")


def contact_conductance(p: ModelParams, r_on: float, r_off: float) -> float:
    """Contact conductance [S] that makes ``1/G_cell(gap_min) = r_on`` [Ohm] with leakage ``r_off`` [Ohm]."""
    g_cell = 1 / r_on - 1 / r_off
    if p.filament_resistance * g_cell >= 1:
        raise SpecError(f"measured R_on = {r_on:.4g} Ohm is below the base card's filament resistance "
                        f"{p.filament_resistance:.4g} Ohm; use a base card (--from) with a thicker filament")
    g_gap = g_cell / (1 - p.filament_resistance * g_cell)
    return g_gap * (1 + math.exp(2 * p.decay_constant * (p.gap_min - p.contact_gap)))


def switch_gap(p: ModelParams, g_switch: float) -> float:
    """Gap [m] at which the cell conductance equals ``g_switch`` [S] (the sweep's ON/OFF criterion)."""
    g_s = g_switch - 1 / p.leakage_resistance
    if not 0 < g_s < 1 / (p.filament_resistance + 1 / p.contact_conductance):
        raise SpecError(f"the sweep's ON/OFF conductance {g_switch:.3g} S lies outside the model's range; "
                        "check the sweep's current unit")
    g_gap = g_s / (1 - p.filament_resistance * g_s)
    return p.contact_gap + math.log(p.contact_conductance / g_gap - 1) / (2 * p.decay_constant)


def relaxation_from_switch_off(p: ModelParams, t_off: float, g_switch: float) -> float:
    """``tau_r`` [s] for which relaxation from ``gap_min`` crosses ``g_switch`` [S] at ``t_off`` [s].

    ``g_switch`` is the sweep's switch-off conductance (the criterion of a self-rupture).
    """
    d_x = switch_gap(p, g_switch)
    if not p.gap_min < d_x < p.gap_max:
        raise SpecError(f"the sweep's ON/OFF conductance corresponds to a gap of {d_x:.3g} m, outside the base "
                        f"card's gap range ({p.gap_min:.3g}..{p.gap_max:.3g} m); use another base card (--from)")
    return t_off / math.log((p.gap_max - p.gap_min) / (p.gap_max - d_x))


def _contact_sigma(p: ModelParams, m: dict) -> float:
    """1-sigma [S] of the contact conductance from the measured R_on's (the median's standard error), linear by
    central differences; 0 where R_on states none."""
    r_on, r_off, s_on = m["resistance_on"], m["resistance_off"], m["resistance_on_sigma"]
    if not (math.isfinite(s_on) and s_on > 0):
        return 0.0
    s_g = build.linear_sigma(lambda r: contact_conductance(p, r, r_off), r_on, s_on)
    return s_g if math.isfinite(s_g) else 0.0


#: Keys of :func:`devicephys.compact.measured.sweep_parameters` that are row indices of the sweep, not its numbers.
ROW_KEYS = ("first_on", "last_on", "on_rows")


def resistance_on_ends(m: dict) -> tuple[float, float, str] | None:
    """The two ends [Ohm] of the measured card's R_on bracket and how they were chosen; None without a spread.

    The lower and upper quartile of the sweep's ON samples (``m`` from
    :func:`devicephys.compact.measured.sweep_parameters`; R_on is their median): the ON state's own spread, which
    a flickering or re-forming contact makes as wide as R_on itself, where ``resistance_on_sigma`` is only the
    median's error.  Where the quartiles coincide (a handful of identical samples), R_on minus and plus that error.
    """
    q1, q3 = m.get("resistance_on_lower_quartile", math.nan), m.get("resistance_on_upper_quartile", math.nan)
    if q3 > q1:
        return q1, q3, "the lower and upper quartile of the measured sweep's ON samples (V/I; R_on is their median)"
    r_on, s_on = m["resistance_on"], m["resistance_on_sigma"]
    if not (math.isfinite(s_on) and s_on > 0):
        return None
    return r_on - s_on, r_on + s_on, "R_on minus and plus the standard error of the ON samples' median"


#: Relative tolerance of the model's integrations in the fit (:func:`_switch_event`).
SWITCH_RTOL = 1e-8

#: Relative forward-difference step of the set-time fit's Jacobian: sqrt(SWITCH_RTOL), the step that balances
#: truncation against the integrations' noise.  SciPy's default (sqrt of machine epsilon, 1.5e-8) differences
#: that noise: on the volatile example changes of the self-rupture time by 1 ulp and by 2e-5 moved tau0 from
#: 10.7 us to 12.6 and 10.0 us (the sweep residual +5.6, +6.7, +5.0 %).  Steps of 1e-5 to 1e-3 agree with each
#: other, with and without those changes (tau0 7.42-7.49 us, sweep residual +3.2 to +3.3 %).
DIFF_STEP = SWITCH_RTOL ** 0.5


def _tail(k: int) -> int:
    """How many of the ``k`` OFF samples before the set the drive's continuation reads: the last fifth, at least 5."""
    return min(max(5, k // 5), k)


def _tail_slope(t: np.ndarray, v: np.ndarray) -> float:
    """Slope [V/s] of a line fitted to the last :func:`_tail` samples of ``v(t)`` (the OFF samples before the set);
    NaN with fewer than 2."""
    n = _tail(len(t))
    return float(np.polyfit(t[-n:], v[-n:], 1)[0]) if n >= 2 else math.nan


def _drive(sweep: Table, m: dict) -> tuple[np.ndarray, np.ndarray]:
    """Cell voltage before the switch, continued past the last OFF sample to 3x its time: the drive the cell
    would have seen had it stayed OFF.

    With a ``source_voltage`` column the continuation is the source less the OFF cell's drop across the series
    resistor (an OFF cell takes nearly all of the source): the median drop over the last fifth of the OFF
    samples (at least 5), not the last sample's alone, which carries the voltage's noise and may already be
    switching (on the default example it reads 1.56 V at a 2.18 V source).  It runs up to the sweep's end where
    that comes first.  Without one it is a straight line
    fitted to the last fifth of the OFF samples (at least 5): a line through the last 5 alone reads the
    1 mV noise of the volatile example's last 40 ns as its slope, and its drive fell to 1.335 V where the
    source had risen to 1.420 V at the card's switch.
    """
    k = m["first_on"]
    t, v = sweep["time"][:k], sweep["voltage"][:k]
    t_end = t[-1] + 2 * (t[-1] - t[0])
    if "source_voltage" in sweep:
        n = _tail(k)
        ts, vs = sweep["time"], sweep["source_voltage"]
        later = (ts > t[-1]) & (ts <= t_end)
        drop = float(np.median(vs[k - n:k] - v[-n:]))
        return np.concatenate([t, ts[later]]), np.concatenate([v, vs[later] - drop])
    slope = _tail_slope(t, v)
    slope = slope if math.isfinite(slope) else 0.0
    return np.append(t, t_end), np.append(v, v[-1] + slope * (t_end - t[-1]))


def _switch_event(p: ModelParams, voltage, t_end: float, g_switch: float):
    """Integrate the model from the relaxed state under cell voltage ``voltage(t)`` [V] until ``g_switch`` [S]."""
    d_x = switch_gap(p, g_switch)

    def switched(t, y):
        return y[0] - d_x

    switched.terminal = True
    # Radau: the thermal node (R_th C_th ~ ps) makes the system stiff on the set's microsecond scale, and
    # LSODA, left in its non-stiff mode, can take ~1e5 steps of the thermal time per sweep sample
    if p.dissolves:  # the card's full state (gap, excess temperature, oldest stretch, rupture flag)
        def rhs(t, y):
            return model.state_rates(p, y, voltage(t))

        tol = model.state_tolerances(p)
        tol[1] = 1e-6 * p.ambient_temperature
        sol = solve_ivp(rhs, (0.0, t_end), model.initial_state(p), method="Radau", events=switched, rtol=SWITCH_RTOL,
                        atol=tol, max_step=min(t_end / 200, p.rupture_time * 1e3))
        return float(sol.t_events[0][0]) if len(sol.t_events[0]) else math.nan

    def rhs(t, y):
        v = voltage(t)
        return [model.gap_rate(p, y[0], v, y[1]), model.temperature_rate(p, y[0], v, y[1])]

    sol = solve_ivp(rhs, (0.0, t_end), [p.gap_max, p.ambient_temperature], method="Radau", events=switched,
                    rtol=SWITCH_RTOL, atol=[1e-9 * p.gap_max, 1e-6 * p.ambient_temperature], max_step=t_end / 200)
    return float(sol.t_events[0][0]) if len(sol.t_events[0]) else math.nan


def sweep_switch_time(p: ModelParams, t_drive, v_drive, g_switch: float) -> float:
    """Time [s] at which the model, driven by ``v_drive(t_drive)`` [V], reaches conductance ``g_switch`` [S].

    Starts relaxed at ``t_drive[0]``; heating included.  NaN when it does not switch within the drive.
    """
    t0 = float(t_drive[0])
    t = _switch_event(p, lambda s: np.interp(s + t0, t_drive, v_drive), float(t_drive[-1]) - t0, g_switch)
    return t + t0 if math.isfinite(t) else math.nan


def ramp_rate(sweep: Table, m: dict) -> float:
    """Rate [V/s] at which the drive passes the measured threshold, > 0.

    The source's slope from the threshold's sample to the next (or, where that is not rising, from the one
    before), or without a source column the slope of a line through the last fifth of the OFF samples before
    the set (at least 5); where neither rises (a set at the sweep's top or on its way down), the mean rate
    from the sweep's start to the threshold.  NaN if the drive never rises to it.
    """
    k, t = m["first_on"], sweep["time"]
    j = int(np.searchsorted(t, m["threshold_time"]))
    rates = []
    if "source_voltage" in sweep:
        src = sweep["source_voltage"]
        rates += [(src[a + 1] - src[a]) / (t[a + 1] - t[a]) for a in (j, j - 1) if 0 <= a < len(t) - 1]
    else:
        rates.append(_tail_slope(t[:k], sweep["voltage"][:k]))
    if j > 0:
        rates.append((m["threshold_voltage"] - sweep["voltage"][0]) / (t[j] - t[0]))
    rising = [float(r) for r in rates if r > 0]
    return rising[0] if rising else math.nan


def pulse_set_time(p: ModelParams, voltage: float, g_switch: float) -> float:
    """Set time [s] at constant cell ``voltage`` [V]: the time to reach the sweep's switch-on conductance ``g_switch`` [S].

    As measured: the moment the current jumps past the ON/OFF criterion (the full
    closure, where Joule heating runs away in a cell without series resistor, is not needed).
    NaN when it does not switch within 20 times ``tau0 exp(-V/V0)``.
    """
    horizon = 20 * p.set_time_tau0 * math.exp(-voltage / p.set_time_v0)
    return _switch_event(p, lambda s: voltage, horizon, g_switch)


#: Largest physical activation energy [J]: silver's cohesive energy, 2.95 eV per atom (Kittel, Introduction
#: to Solid State Physics, 8th ed., Table 3.1).  No step of an Ag filament's growth or dissolution can cost
#: more than taking an atom out of the solid; a hold that needs more is not held by its own heat (a cold
#: bridge held by a compliance), and the fit keeps the base card's activation energy instead.
ACTIVATION_ENERGY_MAX = 2.95 * units.e


def _with_hold(q: ModelParams, hold: float) -> ModelParams:
    try:
        return replace(q, activation_energy=fit.activation_energy_from_hold(q, hold))
    except ConvergenceError:
        return replace(q, activation_energy=0.0)


def fit_set_time_law(p: ModelParams, m: dict, sweep: Table, pulses: Table | None, *, thermal_hold: bool = True,
                     progress: bool = False):
    """Step 3 of the module docstring: returns the parameters, 1-sigma of tau0 and V0, and the residuals.

    With ``thermal_hold`` (step 4) the activation energy is re-derived from the measured hold at every
    trial; without it, ``p``'s is kept.  ``progress`` counts the trials on a progress bar (each integrates
    the card through every pulse and the sweep).
    """
    desc = "set-time fit" + ("" if thermal_hold else " (base card's activation energy)")
    with progress_bar(desc=desc, unit=" trials", disable=not progress) as bar:
        return _fit_set_time_law(p, m, sweep, pulses, thermal_hold, bar)


def _fit_set_time_law(p: ModelParams, m: dict, sweep: Table, pulses: Table | None, thermal_hold: bool, bar):
    v_p = pulses["voltage"] if pulses is not None else np.array([])
    t_p = pulses["set_time"] if pulses is not None else np.array([])
    t_d, v_d = _drive(sweep, m)
    hold, v_th, g_sw = m["hold_voltage"], m["threshold_voltage"], m["switch_on_conductance"]
    t_th, rate = m["threshold_time"], ramp_rate(sweep, m)
    if not (math.isfinite(rate) and rate > 0):
        raise SpecError(f"{sweep.where(m['first_on'])}: the drive does not rise into the set (rate {rate:.3g} V/s "
                        "there); start the sweep at 0 V and sweep up until the device switches")
    t_late = float(t_d[-1]) + float(t_d[-1] - t_d[0])  # a model that does not switch within the drive
    fit_v0 = len(v_p) >= 2
    # every residual a relative voltage, the unit of the sweep's and of the target: a pulse's ln t error times
    # the measured law's -dV/d ln t (the pulses' own exponential law's V0, fixed by the data) over its voltage
    v0_data = exponential_set_time_law(v_p, t_p)["set_time_v0"] if len(v_p) >= 2 else math.nan
    to_volts = v0_data / v_p if math.isfinite(v0_data) and v0_data > 0 else np.ones_like(v_p)
    p = _start(p, pulses)

    def params(x):
        q = replace(p, set_time_tau0=math.exp(x[0]), set_time_v0=math.exp(x[1]) if fit_v0 else p.set_time_v0)
        return _with_hold(q, hold) if thermal_hold else q

    def residuals(x):
        bar.update()
        q = params(x)
        t = np.array([pulse_set_time(q, v, g_sw) for v in v_p])
        r_p = (np.log(np.where(np.isfinite(t), t, 1e3 * t_p)) - np.log(t_p)) * to_volts
        # the switch's time against the measured one, as a voltage by the ramp's rate: smooth in the parameters,
        # where the noisy drive read at the model's switch bends at every sample it crosses (on the volatile
        # example by 4e-5 for a 1e-4 change of tau0, changing sign, and a two-state fit moved 4 % in tau0 with
        # the number of BLAS threads)
        tm = sweep_switch_time(q, t_d, v_d, g_sw)
        return np.append(r_p, ((tm if math.isfinite(tm) else t_late) - t_th) * rate / v_th)

    x0 = [math.log(p.set_time_tau0)] + ([math.log(p.set_time_v0)] if fit_v0 else [])
    if len(v_p) == 0:  # one datum, one parameter: solve it
        x = _solve_tau0(lambda lt: residuals([lt])[-1], x0[0])
        q = params([x])
        return q, {}, {"sweep_threshold_relative": float(residuals([x])[-1]), "pulses": 0}
    out = lsq.fit(residuals, x0, ["set_time_tau0", "set_time_v0"][:len(x0)], "set-time fit to the measurements", diff_step=DIFF_STEP)
    q = params(out.x)
    res = residuals(out.x)
    sig = {"set_time_tau0": out.sigma[0] * q.set_time_tau0}
    if fit_v0:
        sig["set_time_v0"] = out.sigma[1] * q.set_time_v0
    r_ln = res[:-1] / to_volts
    return q, sig, {"pulses_rms_ln": float(np.sqrt(np.mean(r_ln ** 2))), "pulses_max_ln": float(np.max(np.abs(r_ln))),
                    "pulses_rms_relative_voltage": float(np.sqrt(np.mean(res[:-1] ** 2))),
                    "pulses_law_v0": float(v0_data), "sweep_threshold_relative": float(res[-1]), "pulses": int(len(v_p))}


def _start(p: ModelParams, pulses: Table | None) -> ModelParams:
    """The set-time fit's start: the closed-form law fitted to three pulses or more, else ``p``'s."""
    if pulses is not None and len(pulses["voltage"]) >= 3:
        return replace(p, **fit.fit_set_time(pulses["voltage"], pulses["set_time"], p.relaxation_time)[0])
    return p


def _solve_tau0(f, x0: float) -> float:
    lo, hi = x0 - 2.0, x0 + 2.0
    for _ in range(20):
        if f(lo) * f(hi) < 0:
            return brentq(f, lo, hi, xtol=1e-6)
        lo, hi = lo - 2.0, hi + 2.0
    raise ConvergenceError("set-time fit: no tau0 reproduces the sweep's threshold; give pulse data (--pulses)")


def _relaxation(p: ModelParams, m: dict, pulses: Table | None) -> tuple[ModelParams, dict]:
    if pulses is None or "relaxation_time" not in pulses or not np.any(np.isfinite(pulses["relaxation_time"])):
        return p, {}
    t_r = pulses["relaxation_time"][np.isfinite(pulses["relaxation_time"])]
    info = {"relaxation_measured": float(np.median(t_r)), "relaxation_points": int(len(t_r))}
    if p.dissolves:  # the bridge breaks when the oldest stretch falls below percolation: t_r = (1 - c_p)/k_d
        t_off = float(np.median(t_r))  # (with a capillary_number, its thinning time at k_d = 1/s over k_d)
        rate = model.thinning_time(1.0, p.percolation_fraction, p.capillary_number) / t_off
        return replace(p, relaxation_time=t_off, dissolution_rate=rate,
                       rupture_time=p.rupture_time / p.relaxation_time * t_off), info
    tau = relaxation_from_switch_off(p, float(np.median(t_r)), m["switch_off_conductance"])
    return replace(p, relaxation_time=tau), info


#: The card's emission numbers, which hold at its operating point (the emitting gap biased at the threshold).
OPERATING_POINT_OPTICS = ("photons_per_electron", "photons_per_spike", "peak_wavelength", "spectral_width",
                          "emission_gap", "emission_transmission")


def optics_at_operating_point(p: ModelParams, base: DeviceCard, neuron: dict[str, float],
                              emission=None) -> tuple[dict[str, float], dict[str, str], dict | None]:
    """The emission numbers at the fitted card's operating point, with their sources, and its spectrum.

    The measured threshold moves the operating point away from the base card's, where its
    photon yield and spectrum were computed.  With the emission result (``emission``, an
    xarray Dataset) they are recomputed from its spectra physics exactly as the FEM/FDTD
    card's are (:func:`devicephys.compact.build._optics`).  Without it the photon yield and
    the photons per spike come from the base card's emission law inside its range (it
    refuses a threshold outside it), and the peak wavelength and spectral width, which the
    law does not hold at another bias, stay the base card's, each source saying at which bias; the card
    then carries no spectrum (a detector sees the Gaussian of peak and width cut at h c/(e V_th)).
    """
    if emission is not None:
        values, _, _, sources, spectrum = build._optics(p, emission, neuron)
        return ({k: values[k] for k in OPERATING_POINT_OPTICS},
                {k: sources[k] for k in OPERATING_POINT_OPTICS if k in sources}, spectrum)
    d_op, t_op, d_src = emission_point.emitting_gap(p)
    v_th = neuron["threshold_voltage"]
    fano = 1.0 - t_op
    eta = fano * float(model.quantum_efficiency(p, d_op, v_th))
    wave = build.spike_waveform(p, neuron)
    n_spike = fano * model.spike_photons(lambda d, v: model.quantum_efficiency(p, np.full_like(d, d_op), v),
                                         wave["time"], wave["gap"], wave["voltage"], wave["current"])
    b = base.values()
    v_base = b["threshold_voltage"]
    law = "the base card's emission law eta(d, V) (its fitted range), times the one-channel Fano factor 1 - T"
    kept = (f"the base card's, computed at its operating bias {v_base:.4g} V (the emission law holds no spectrum at "
            f"{v_th:.4g} V; give --from a folder with the emission result to recompute it)")
    return ({"photons_per_electron": eta, "photons_per_spike": n_spike, "peak_wavelength": b["peak_wavelength"],
             "spectral_width": b["spectral_width"], "emission_gap": d_op, "emission_transmission": t_op},
            {"photons_per_electron": f"{law}, at gap {d_op:.4g} m and the fitted threshold {v_th:.4g} V",
             "photons_per_spike": f"(1 - T) x integral of eta I/e over the fitted card's reference spike; eta from {law}",
             "peak_wavelength": kept, "spectral_width": kept, "emission_gap": d_src,
             "emission_transmission": "G_gap(emission_gap) / G0"}, None)


def fit_card(sweep: Table, pulses: Table | None, base: DeviceCard, spec: CompactSpec, emission=None, *,
             progress: bool = False) -> DeviceCard:
    """A DeviceCard from a measured sweep (and pulses), geometry and thermal node from ``base``.

    ``emission`` (the emission result the base card was fitted to, an xarray Dataset) lets the
    photon yield and spectrum be recomputed at the fitted threshold (:func:`optics_at_operating_point`);
    ``progress`` shows the set-time fit's trials on a progress bar.
    """
    m = sweep_parameters(sweep)
    p = base.model_params()
    p = replace(p, leakage_resistance=m["resistance_off"],
                contact_conductance=contact_conductance(p, m["resistance_on"], m["resistance_off"]))
    p, q_relax = _relaxation(p, m, pulses)
    p_relaxed = p
    # a hold that needs more than the cohesive energy at the fit's start is not thermal: the thermal fit is not
    # tried (its trials then integrate a card activated by tens of eV, whose stiffness can overflow the solver)
    rejected = _with_hold(_start(p, pulses), m["hold_voltage"]).activation_energy
    if not rejected > ACTIVATION_ENERGY_MAX:
        p, sigmas, q_set = fit_set_time_law(p, m, sweep, pulses, progress=progress)
        rejected = p.activation_energy if p.activation_energy > ACTIVATION_ENERGY_MAX else None
    if rejected is not None:  # the hold is not thermal: refit with the base card's activation energy
        p, sigmas, q_set = fit_set_time_law(p_relaxed, m, sweep, pulses, thermal_hold=False, progress=progress)
        if "activation_energy" in base.uncertainties:
            sigmas["activation_energy"] = base.uncertainties["activation_energy"]
    else:
        sigmas["activation_energy"] = build._propagate_ea(p, m["hold_voltage"], sigmas)
    sigmas["leakage_resistance"] = m["resistance_off_sigma"]
    release = None
    if p.dissolves and "source_voltage" not in sweep:
        release = {"error": (f"{sweep.path.name} has no source_voltage column, so the drive that released the device "
                             "is unknown; the card keeps the base card's return_rate")}
    elif p.dissolves:  # step 5: the return, from the release
        try:
            p, release = measured_release.fit_return_rate(p, sweep, m, measured_release.series_resistance(sweep, m),
                                                          progress=progress)
        except ConvergenceError as exc:  # the card stands without a return; the reason is in fit_quality
            release = {"error": str(exc)}
    neuron, n_src = build.neuron_parameters(p, spec)
    optics, optics_sources, spectrum = optics_at_operating_point(p, base, neuron, emission)
    values = {**base.values(), **p.as_dict(), **neuron, **optics}
    sigmas["resistance_on"] = m["resistance_on_sigma"]
    s_g = _contact_sigma(p, m)
    if s_g > 0:
        sigmas["contact_conductance"] = s_g
    # the ON state's spread through the card's light: the contact refitted at both ends, the rest held
    spread, o_spread = build.resistance_on_bracket(
        build.refit_at_resistance_on(p), spec, lambda q, n: optics_at_operating_point(q, base, n, emission)[0],
        values, resistance_on_ends(m))
    sigmas.update(o_spread)
    optics_sources = {**optics_sources, **{k: optics_sources.get(k, "") + build.BRACKET_NOTE for k in o_spread}}
    quality: dict[str, Any] = {"measured": {k: v for k, v in m.items() if k not in ROW_KEYS},
                               "set_time_fit": {**q_set, **q_relax},
                               "card_static_threshold_vs_measured": neuron["threshold_voltage"] / m["threshold_voltage"] - 1,
                               "card_hold_vs_measured": neuron["hold_voltage"] / m["hold_voltage"] - 1}
    if release is not None:
        quality["return_fit"] = release
    if spread:
        quality["resistance_on_bracket"] = spread
    if pulses is not None and len(pulses["voltage"]) >= 3:
        quality["exponential_law_of_pulses"] = exponential_set_time_law(pulses["voltage"], pulses["set_time"])
    names = [sweep.path.name] + ([pulses.path.name] if pulses is not None else [])
    sources = {k: e.get("source", "") + " (base card)" for k, e in base.parameters.items()}
    sources.update(_sources(names, m, bool(q_relax), len(pulses["voltage"]) >= 2 if pulses is not None else False,
                            p.dissolves))
    if release is not None and "error" not in release:
        sources["return_rate"] = (f"{sources_src(names)}: the card driven by the measured source releases (its conductance "
                                  "falls through the sweep's ON/OFF criterion after the source's peak) at the measured "
                                  "release, halfway between the last ON sample and the next (fit_quality.return_fit)"
                                  f"{_flicker(m)}")
    if rejected is not None:
        quality["activation_energy_kept"] = {
            "from_hold_J": float(rejected), "kept_J": p.activation_energy,
            "reason": (f"the measured hold {m['hold_voltage']:.4g} V would need {rejected / units.e:.3g} eV, above Ag's "
                       "cohesive energy (2.95 eV, Kittel): it is not a bridge held by its own heat (a cold bridge held "
                       "by a compliance, or broken by dissolution), so the base card's activation energy "
                       f"({p.activation_energy / units.e:.3g} eV) is kept and the card's static hold is its own, "
                       "not the measured one (card_hold_vs_measured)")}
        sources["activation_energy"] = (base.parameters["activation_energy"].get("source", "") + " (base card; the "
                                        f"measured hold would need {rejected / units.e:.3g} eV, above Ag's cohesive "
                                        "energy: see fit_quality.activation_energy_kept)")
    if s_g > 0:
        sources["contact_conductance"] += ("; its uncertainty: the ON samples' median's standard error "
                                           f"({m['resistance_on_sigma']:.4g} Ohm), propagated linearly")
    sources.update(n_src)
    sources.update(optics_sources)
    return DeviceCard.from_values(spec.name, values, sources,
                                  uncertainties={k: float(s) for k, s in sigmas.items() if math.isfinite(s) and s > 0},
                                  provenance={"measurements": names, "base_card": base.name,
                                              "base_card_origin": base.provenance.get("origin", "fitted")},
                                  fit_quality=quality, spectrum=spectrum)


def _flicker(m: dict) -> str:
    """A caveat for numbers taken from the hold when the device switched ON again after it."""
    n = m["sets_after_release"]
    return (f" (the device switches ON {n} more time{'s' if n > 1 else ''} after the hold's sample: it is a flicker "
            "sample, not a release)") if n else ""


def sources_src(names: list[str]) -> str:
    """The source line's head of a parameter from the measurement files ``names``."""
    return "measured: " + ", ".join(names)


def _sources(names: list[str], m: dict, relax: bool, v0_fitted: bool, dissolves: bool = False) -> dict[str, str]:
    src = sources_src(names)
    bound = " (lower bound: the OFF current is at the noise floor)" if m["resistance_off_lower_bound"] else ""
    out = {"leakage_resistance": f"{src}: R_off = 1/median(I/V) of the OFF samples after the first set{bound}",
           "contact_conductance": f"{src}: 1/G_cell(gap_min) = median V/I of the ON samples",
           "set_time_tau0": f"{src}: least squares on the pulse set times and the sweep's threshold (full model)",
           "activation_energy": f"{src}: from the hold voltage, g(V_h, T_on) tau_r = L{_flicker(m)}"}
    out["set_time_v0"] = out["set_time_tau0"] if v0_fitted else "base card (fewer than two pulse amplitudes measured)"
    if relax and dissolves:
        out["relaxation_time"] = f"{src}: median self-rupture time (the oldest stretch falls below percolation then)"
        out["dissolution_rate"] = f"{src}: (1 - percolation_fraction) / the median self-rupture time"
        out["rupture_time"] = "base card's rupture_time / relaxation_time x the measured self-rupture time (numerical)"
    elif relax:
        noise = (" (the relaxed current is at the noise floor: that conductance is set by the instrument's noise)"
                 if m["switch_off_noise_limited"] else "")
        out["relaxation_time"] = (f"{src}: zero-bias relaxation crosses the sweep's switch-off conductance at the "
                                  f"measured time{noise}")
    return out
