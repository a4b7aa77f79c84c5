"""The two neuron modes built from the compact model.

(a) Leaky integrate-and-fire: a threshold switch across a capacitor ``C``
    charged through a series resistor ``R_s`` from ``V_in``.  The switch is a
    smooth hysteretic latch with state ``s`` in [0, 1]::

        G(s)     = (1/R_off) (R_off/R_on)^s
        V_sw(s)  = V_th + a w - (V_th - V_h + 2 a w) s,   a = ln((V_th - V_h)/w)
        ds/dt    = (sigmoid((V - V_sw(s)) / w) - s) / tau_s

    The offset ``a w`` puts the loss of stability of the OFF (ON) branch at
    V_th (V_h) to first order in ``w``.  The conductance is exponential in
    ``s`` (like a tunnelling gap): the latch's small precursor ``s ~ w/(V_th -
    V_h)`` before it fires then leaks no current that could stall the charging.
    Analytically (instant switch)::

        t_c = tau_off ln((V_inf - V_h)/(V_inf - V_th))      (charging, switch OFF)
        t_d = tau_on  ln((V_th - V_on)/(V_h - V_on))        (discharging, switch ON)

    with ``V_inf = V_in R_off/(R_s+R_off)``, ``tau_off = C R_s||R_off`` (and
    likewise for ON); for ``R_off -> inf``, ``t_c = R_s C ln((V_in-V_h)/(V_in-V_th))``.
    The charge per spike is ``C (V_th - V_h)`` and there is no firing for
    ``V_in <= V_th``.

(b) The "blinking" neuron: input pulses drive the physical model directly;
    the filament integrates them (growth during a pulse, relaxation between)
    until it bridges and emits a photon burst — see :func:`blink_spikes`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from devicephys.errors import ConvergenceError


@dataclass(frozen=True)
class LatchParams:
    """Threshold switch of the LIF neuron (SI).

    Attributes
    ----------
    threshold_voltage, hold_voltage : V
    resistance_on, resistance_off : Ohm
    switching_time : s
        Time constant tau_s of the latch.
    width : V
        Smoothing width ``w`` of the latch.
    """

    threshold_voltage: float
    hold_voltage: float
    resistance_on: float
    resistance_off: float
    switching_time: float
    width: float

    @property
    def offset(self) -> float:
        """``a = ln((V_th - V_h)/w)`` [1]."""
        return math.log((self.threshold_voltage - self.hold_voltage) / self.width)


def latch_conductance(p: LatchParams, s):
    """Conductance [S] of the switch at latch state ``s``."""
    return np.exp(np.asarray(s) * math.log(p.resistance_off / p.resistance_on)) / p.resistance_off


def latch_rate(p: LatchParams, v, s):
    """ds/dt [1/s] of the latch at cell voltage ``v`` [V]."""
    aw = p.offset * p.width
    v_sw = p.threshold_voltage + aw - (p.threshold_voltage - p.hold_voltage + 2 * aw) * np.asarray(s)
    z = np.clip((np.asarray(v) - v_sw) / p.width, -700, 700)
    return (1.0 / (1.0 + np.exp(-z)) - s) / p.switching_time


def lif_analytic(p: LatchParams, v_in: float, r_series: float, capacitance: float) -> dict[str, float]:
    """Charge time, discharge time [s] and charge per spike [C] of the ideal LIF neuron.

    Returns ``inf`` times when ``V_in`` cannot charge the capacitor past V_th.
    """
    v_inf = v_in * p.resistance_off / (r_series + p.resistance_off)
    tau_off = capacitance * r_series * p.resistance_off / (r_series + p.resistance_off)
    v_on = v_in * p.resistance_on / (r_series + p.resistance_on)
    tau_on = capacitance * r_series * p.resistance_on / (r_series + p.resistance_on)
    fires = v_inf > p.threshold_voltage and v_on < p.hold_voltage
    t_c = tau_off * math.log((v_inf - p.hold_voltage) / (v_inf - p.threshold_voltage)) if fires else math.inf
    t_d = tau_on * math.log((p.threshold_voltage - v_on) / (p.hold_voltage - v_on)) if fires else math.inf
    t_c_ideal = (r_series * capacitance * math.log((v_in - p.hold_voltage) / (v_in - p.threshold_voltage))
                 if v_in > p.threshold_voltage else math.inf)
    return {"charge_time": t_c, "discharge_time": t_d, "period": t_c + t_d, "charge_time_ideal": t_c_ideal,
            "spike_charge": capacitance * (p.threshold_voltage - p.hold_voltage)}


def simulate_lif(p: LatchParams, v_in: float, r_series: float, capacitance: float, t_end: float,
                 *, v_start: float | None = None, rtol: float = 1e-8) -> dict[str, np.ndarray]:
    """Integrate the LIF neuron for ``t_end`` [s]; capacitor starts at ``v_start`` (default V_h).

    Returns ``time`` [s], ``voltage`` [V] (capacitor), ``state`` [1],
    ``current`` [A] (through the switch) and ``spike_times`` [s] (upward
    crossings of ``s = 1/2``, interpolated).
    """
    def f(t, y):
        v, s = y
        i_sw = latch_conductance(p, s) * v
        return [((v_in - v) / r_series - i_sw) / capacitance, latch_rate(p, v, s)]

    y0 = [p.hold_voltage if v_start is None else v_start, 0.0]
    max_step = t_end / 2000
    sol = solve_ivp(f, (0.0, t_end), y0, method="LSODA", rtol=rtol, atol=[1e-9, 1e-9], max_step=max_step)
    if not sol.success:
        raise ConvergenceError(f"LIF integration failed ({sol.message}); increase the latch width")
    v, s = sol.y
    return {"time": sol.t, "voltage": v, "state": s, "current": latch_conductance(p, s) * v,
            "spike_times": upward_crossings(sol.t, s, 0.5)}


def upward_crossings(t, x, level: float) -> np.ndarray:
    """Times [s] where ``x`` crosses ``level`` upwards, linearly interpolated."""
    t, x = np.asarray(t), np.asarray(x)
    k = np.nonzero((x[:-1] < level) & (x[1:] >= level))[0]
    frac = (level - x[k]) / (x[k + 1] - x[k])
    return t[k] + frac * (t[k + 1] - t[k])


def blink_spikes(time, gap, gap_fire: float, gap_release: float) -> np.ndarray:
    """Spike times [s] of the blinking neuron: gap falls below ``gap_fire`` [m].

    A new spike needs the gap to reopen beyond ``gap_release`` [m] first
    (hysteresis against counting one burst twice).
    """
    spikes, armed = [], True
    for t, d in zip(np.asarray(time), np.asarray(gap)):
        if armed and d <= gap_fire:
            spikes.append(t)
            armed = False
        elif not armed and d >= gap_release:
            armed = True
    return np.array(spikes)
