"""Time integration of the compact model.

Two integrators over the same equations (:mod:`devicephys.compact.model`):

* :func:`simulate_series` — one device in series with a resistor, driven by a
  piece-wise linear source (the same PWL that the SPICE netlist uses),
  integrated segment by segment with SciPy's stiff solver at tight tolerance:
  the reference that ngspice is compared against;
* :func:`step_many` — one fixed time step for many devices at once
  (exponential integrator, vectorised), for arrays of neurons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from devicephys.compact import model
from devicephys.compact.model import ModelParams
from devicephys.errors import ConvergenceError, SpecError


@dataclass(frozen=True)
class Trace:
    """Waveforms of one simulated device (SI).

    Attributes
    ----------
    time : s; source_voltage, voltage : V; current : A; gap : m;
    temperature : K; optical_power : W; metal_fraction : 1 (the oldest stretch's, with dissolution; else None).
    """

    time: np.ndarray
    source_voltage: np.ndarray
    voltage: np.ndarray
    current: np.ndarray
    gap: np.ndarray
    temperature: np.ndarray
    optical_power: np.ndarray
    metal_fraction: np.ndarray | None = None


def _rhs(p: ModelParams, r_series: float, t0: float, v0: float, slope: float):
    """Right-hand side in (gap [m], excess temperature T - T_0 [K][, metal fraction, rupture flag]).

    The thermal node is integrated as its excess over the ambient
    (:func:`devicephys.compact.model.excess_temperature_rate` says why).
    """
    def f(t, y):
        v_src = v0 + slope * (t - t0)
        i = model.series_current(p, y[0], v_src, r_series)
        return model.state_rates(p, y, v_src - r_series * i)
    return f


def simulate_series(p: ModelParams, pwl_time, pwl_voltage, r_series: float, *,
                    samples_per_segment: int | None = 50, rtol: float = 1e-9) -> Trace:
    """Device in series with ``r_series`` [Ohm], source PWL (``pwl_time`` [s], ``pwl_voltage`` [V]).

    Starts relaxed (gap ``gap_max``, ambient temperature).  Each linear segment
    is integrated separately so that the source's corners are honoured exactly.
    ``samples_per_segment=None`` returns the solver's own (adaptive) steps.  Integrated by Radau: the
    thermal node (R_th C_th ~ ps) makes the system stiff on the drive's time scale, and LSODA, left in
    its non-stiff mode, was measured to take 3e5 steps of about the thermal time in one 0.25 us segment.
    """
    tp, vp = np.asarray(pwl_time, float), np.asarray(pwl_voltage, float)
    y = model.initial_state(p)  # relaxed, at the ambient temperature (excess 0)
    ts, ys = [np.array([tp[0]])], [y[:, None]]
    for k in range(len(tp) - 1):
        if tp[k + 1] <= tp[k]:
            continue
        slope = (vp[k + 1] - vp[k]) / (tp[k + 1] - tp[k])
        t_eval = (None if samples_per_segment is None
                  else np.linspace(tp[k], tp[k + 1], samples_per_segment + 1)[1:])
        sol = solve_ivp(_rhs(p, r_series, tp[k], vp[k], slope), (tp[k], tp[k + 1]), y, method="Radau",
                        t_eval=t_eval, rtol=rtol, atol=model.state_tolerances(p),
                        first_step=min(1e-12, (tp[k + 1] - tp[k]) / 10))
        if not sol.success:
            raise ConvergenceError(f"compact model integration failed at t = {tp[k]:.3e} s ({sol.message}); "
                                   "use a smoother source or a larger floor_width")
        ts.append(sol.t[1:] if samples_per_segment is None else sol.t)
        ys.append(sol.y[:, 1:] if samples_per_segment is None else sol.y)
        y = sol.y[:, -1]
    y = np.concatenate(ys, axis=1)
    return _trace(p, np.concatenate(ts), y, tp, vp, r_series)


def _trace(p, t, y, tp, vp, r_series) -> Trace:
    d, temp = y[0], p.ambient_temperature + y[1]
    v_src = np.interp(t, tp, vp)
    i = model.series_current(p, d, v_src, r_series)
    v = v_src - r_series * i
    return Trace(t, v_src, v, i, d, temp, model.optical_power(p, d, v, out_of_range="nan"),
                 y[2] if p.dissolves else None)


def step_many(p: ModelParams, gap, temperature, v_source, r_series, dt: float):
    """Advance many devices by one step ``dt`` [s]; returns ``(gap, temperature, current)``.

    Exponential integrator with the drive frozen over the step: the thermal
    node relaxes exactly towards ``T_0 + R_th P``; the gap relaxes exactly
    towards ``d_max - g tau_r`` and is then held at or above ``gap_min``
    (the limit of a sharp floor).  First order in ``dt``.  One slow state only: a card with dissolution
    (its second slow state) is refused.

    Parameters
    ----------
    gap, temperature : ndarray
        States [m], [K], one entry per device.
    v_source : ndarray or float
        Source voltage [V] over the step.
    r_series : ndarray or float
        Series resistance [Ohm].
    """
    if p.dissolves:
        raise SpecError("step_many integrates the one-slow-state card; this card has dissolution_rate > 0 "
                        "(two slow states): use simulate_series")
    i = model.series_current(p, gap, v_source, r_series)
    v = v_source - r_series * i
    t_eq = p.ambient_temperature + p.thermal_resistance * v * i
    tau_th = p.thermal_resistance * p.thermal_capacitance
    temperature = t_eq + (temperature - t_eq) * np.exp(-dt / tau_th)
    d_eq = p.gap_max - model.growth_rate(p, v, temperature) * p.relaxation_time
    gap = np.maximum(d_eq + (gap - d_eq) * np.exp(-dt / p.relaxation_time), p.gap_min)
    return gap, temperature, i


def pulse_train_pwl(amplitude: float, width: float, period: float, count: int, rise: float,
                    delay: float = 0.0):
    """PWL corners [s], [V] of ``count`` trapezoidal pulses (same corners as SPICE PULSE)."""
    t, v = [0.0], [0.0]
    for k in range(count):
        start = delay + k * period
        t += [start, start + rise, start + rise + width, start + 2 * rise + width]
        v += [0.0, amplitude, amplitude, 0.0]
    t.append(delay + count * period)
    v.append(0.0)
    return np.array(t), np.array(v)


def triangle_sweep_pwl(v_max: float, sweep_time: float):
    """PWL of a DC sweep 0 -> v_max -> 0 in ``sweep_time`` [s] in total."""
    return np.array([0.0, sweep_time / 2, sweep_time]), np.array([0.0, v_max, 0.0])


def simulate_lif_physical(p: ModelParams, v_in: float, r_series: float, capacitance: float, t_end: float,
                          *, samples: int = 20000, rtol: float = 1e-9) -> dict[str, np.ndarray]:
    """LIF neuron built from the physical model: ``v_in`` through ``r_series`` into a capacitor across the cell.

    Starts discharged and relaxed.  Returns ``time`` [s], ``voltage`` [V]
    (capacitor = cell), ``gap`` [m], ``temperature`` [K], ``current`` [A]
    through the cell and ``optical_power`` [W].
    """
    def f(t, y):
        v, state = y[0], y[1:]
        i = model.cell_current(p, state[0], v)
        return [((v_in - v) / r_series - i) / capacitance, *model.state_rates(p, state, v)]

    t_eval = np.linspace(0.0, t_end, samples + 1)
    tol = model.state_tolerances(p)
    tol[1] = 1e-6
    sol = solve_ivp(f, (0.0, t_end), [0.0, *model.initial_state(p)], method="LSODA", t_eval=t_eval,
                    rtol=rtol, atol=[1e-9, *tol], max_step=t_end / 2000)
    if not sol.success:
        raise ConvergenceError(f"physical LIF integration failed ({sol.message}); shorten t_end or loosen rtol")
    v, d, temp = sol.y[0], sol.y[1], p.ambient_temperature + sol.y[2]
    return {"time": sol.t, "voltage": v, "gap": d, "temperature": temp, "current": model.cell_current(p, d, v),
            "optical_power": model.optical_power(p, d, v, out_of_range="nan")}


def set_time(p: ModelParams, v: float, *, floor_widths: float = 3.0) -> float:
    """Set time [s] at constant cell voltage ``v`` [V] from the relaxed state, heating included.

    The time for the gap to close to ``gap_min + floor_widths x floor_width``,
    located by the solver's event detection (``nan`` if it does not close
    within 20 times the law ``tau0 exp(-V/V0)``).
    """
    target = p.gap_min + floor_widths * p.floor_width

    def closed(t, y):
        return y[0] - target

    closed.terminal = True
    horizon = 20 * p.set_time_tau0 * np.exp(-v / p.set_time_v0)
    if p.dissolves:  # it sets before the first rupture or not at all (the reset starts afresh)
        horizon = min(horizon, 1.5 * model.self_rupture_time(p))
    for method in ("LSODA", "Radau"):
        # LSODA is fast but can step past the steep closure into d < gap_min, where the floor's exponential
        # overflows (NaN state, no event); the implicit Radau then resolves the closure
        sol = solve_ivp(_rhs(p, 0.0, 0.0, v, 0.0), (0.0, horizon), model.initial_state(p),
                        method=method, events=closed, rtol=1e-9, atol=model.state_tolerances(p))
        if len(sol.t_events[0]):
            return float(sol.t_events[0][0])
        if np.all(np.isfinite(sol.y[:, -1])):
            break  # a clean run that did not close: no set within the horizon
    return float("nan")
