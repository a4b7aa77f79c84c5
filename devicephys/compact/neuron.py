"""The two neuron modes built from the compact model.

(a) Leaky integrate-and-fire: a threshold switch across a capacitor ``C``
    charged through a series resistor ``R_s`` from ``V_in``.  The switch is a
    hysteretic latch whose state ``s`` in (0, 1) is held through its logit:
    the state variable ``q = L + ln(s/(1-s))`` (``L`` = :data:`LOGIT_LIMIT`,
    so ``q = 0`` is OFF, the rest state of a circuit started at 0 V) and
    ``s = 1/(1 + exp(L - q))`` with ``q`` clipped to [0, 2L].  So ``s`` stays
    in its bounds whatever step an integrator takes::

        G(s)     = (1/R_off) (R_off/R_on)^h(s)
        k_on     = r((|V| - V_th + (V_th - V_h) s) / w)
        k_off    = r((V_h - |V|) / w)
        dq/dt    = (k_on (2L - q) - k_off q) / tau_s

    ``r`` is a smoothstep ramp, exactly 0 below 0 and 1 above 1.  The latch
    turns ON only where ``|V|`` exceeds V_th (from the OFF state; the
    threshold falls towards V_h as ``s`` rises, so a switch once started
    completes) and OFF only where ``|V|`` is below V_h; between the two both
    rates are exactly zero and the state is held.  So the static thresholds
    are V_th and V_h by construction, and an implicit step of any length
    from the ON state at ``|V| > V_h`` has the ON state as its only solution:
    a circuit simulator's step control cannot land on the OFF branch inside
    the hysteresis window (a latch built on a bistable equilibrium can: it
    released early in ngspice without a maximum step, up to 7 % of the period).
    ``h`` is a smoothstep from 0 at ``s = 1/4`` to 1 at ``s = 3/4`` (flat
    outside), so the conductance is exactly ``1/R_off`` OFF and ``1/R_on``
    ON, and bounded in between.  The switch is non-polar
    (``|V|``).  ``tau_s`` is the filament's set time (a physical switching
    time, see ``build.neuron_parameters``): at full rate ``s`` passes 1/2
    after ``tau_s ln 2``, so the ideal-switch period below holds for
    ``tau_s << R_on C``.  Analytically (instant switch)::

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

from devicephys.compact import elementwise as ew
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


#: Latch states between which the conductance switches (smoothstep ends) [1].
SWITCH_LO, SWITCH_HI = 0.25, 0.75

#: Bound L of the latch's logit [1]: the state variable q lies in [0, 2L], s in [1/(1+e^L), 1/(1+e^-L)].
LOGIT_LIMIT = 50.0


def latch_state(q):
    """Latch state ``s`` [1] in (0, 1) of the state variable ``q`` (the logit of ``s`` plus L)."""
    qc = ew.clip(ew.as_float(q), 0.0, 2.0 * LOGIT_LIMIT)
    return 1.0 / (1.0 + np.exp(LOGIT_LIMIT - qc))


def switch_fraction(s):
    """Smoothstep ``h(s)`` [1]: 0 below SWITCH_LO, 1 above SWITCH_HI, C1 in between."""
    u = ew.clip((ew.as_float(s) - SWITCH_LO) / (SWITCH_HI - SWITCH_LO), 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def latch_conductance(p: LatchParams, q):
    """Conductance [S] of the switch at state variable ``q``: between 1/R_off and 1/R_on."""
    return np.exp(switch_fraction(latch_state(q)) * math.log(p.resistance_off / p.resistance_on)) / p.resistance_off


def _ramp(x):
    """Smoothstep ramp [1]: 0 for ``x <= 0``, 1 for ``x >= 1``, C1 in between."""
    u = ew.clip(x, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def check_width(p: LatchParams) -> None:
    """Refuse a latch width not small against the hysteresis window (the thresholds would smear)."""
    window, w = p.threshold_voltage - p.hold_voltage, p.width
    if not 0 < w <= 0.05 * window:
        raise ValueError(f"latch width {w!r} V must be in (0, 0.05 (V_th - V_h)] = (0, {0.05 * window!r}] V; "
                         "lower latch_width_fraction")


def latch_rates(p: LatchParams, v, q):
    """``(k_on, k_off)`` [1] of the latch at cell voltage ``v`` [V] and state variable ``q``."""
    check_width(p)
    av = np.abs(ew.as_float(v))
    window = p.threshold_voltage - p.hold_voltage
    k_on = _ramp((av - p.threshold_voltage + window * latch_state(q)) / p.width)
    k_off = _ramp((p.hold_voltage - av) / p.width)
    return k_on, k_off


def latch_rate(p: LatchParams, v, q):
    """dq/dt [1/s] of the latch's state variable ``q`` at cell voltage ``v`` [V]."""
    k_on, k_off = latch_rates(p, v, q)
    q = ew.as_float(q)
    return (k_on * (2.0 * LOGIT_LIMIT - q) - k_off * q) / p.switching_time


#: R_on C / tau_s above which the instant-switch period holds to about 0.1 % (the latch's delays are
#: first order in tau_s/(R_on C): 2.4-3.6 % at 0.1, 0.3-0.4 % at 0.01, 0.06-0.09 % at 0.001, measured
#: on test_compact_neuron's latch).
THEORY_RATIO = 1000.0


def theory_capacitance(p: LatchParams, capacitance: float) -> float:
    """``capacitance`` [F], raised where needed to ``THEORY_RATIO tau_s / R_on`` so t_c + t_d applies."""
    return max(float(capacitance), THEORY_RATIO * p.switching_time / p.resistance_on)


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

    Returns ``time`` [s], ``voltage`` [V] (capacitor), ``state`` [1] (``s``),
    ``current`` [A] (through the switch) and ``spike_times`` [s] (upward
    crossings of ``s = 1/2``, interpolated).  The switch starts OFF (``q = 0``).
    """
    def f(t, y):
        v, q = y
        i_sw = latch_conductance(p, q) * v
        return [((v_in - v) / r_series - i_sw) / capacitance, latch_rate(p, v, q)]

    y0 = [p.hold_voltage if v_start is None else v_start, 0.0]
    max_step = t_end / 2000
    sol = solve_ivp(f, (0.0, t_end), y0, method="LSODA", rtol=rtol, atol=[1e-9, 1e-9], max_step=max_step)
    if not sol.success:
        raise ConvergenceError(f"LIF integration failed ({sol.message}); increase the latch width")
    v, q = sol.y
    s = latch_state(q)
    return {"time": sol.t, "voltage": v, "state": s, "current": latch_conductance(p, q) * v,
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
