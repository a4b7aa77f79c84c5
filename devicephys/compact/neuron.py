"""The two neuron modes built from the compact model.

(a) Leaky integrate-and-fire: a threshold switch across a capacitor ``C``
    charged through a series resistor ``R_s`` from ``V_in``.  The switch is a
    smooth hysteretic latch whose state ``s`` in (0, 1) is held through its
    logit: the state variable ``q = L + ln(s/(1-s))`` (``L`` =
    :data:`LOGIT_LIMIT`, so ``q = 0`` is OFF, the rest state of a circuit
    started at 0 V) and ``s = 1/(1 + exp(L - q))`` with ``q`` clipped to
    [0, 2L].  So ``s`` stays in its bounds whatever step an integrator takes::

        G(s)     = (1/R_off) (R_off/R_on)^h(s)
        V_sw(s)  = A - B s
        dq/dt    = (L + clip((|V| - V_sw(s)) / w, -L, L) - q) / tau_s

    The equilibria are those of ``ds/dt = (sigmoid((|V| - V_sw(s))/w) - s)/tau_s``:
    ``|V| = A - B s + w ln(s/(1-s))``, which folds where ``s(1-s) = w/B``;
    ``A`` and ``B`` are solved so that the folds lie exactly at V_th (OFF
    branch lost) and V_h (ON branch lost), see :func:`latch_folds`.  ``h`` is
    a smoothstep from 0 at ``s = 1/4`` to 1 at ``s = 3/4`` (flat outside), so
    the conductance is exactly ``1/R_off`` on the OFF branch and ``1/R_on`` on
    the ON branch, and bounded in between.  The switch is non-polar (``|V|``).
    ``tau_s`` is the filament's set time (a physical switching time, see
    ``build.neuron_parameters``), so the ideal-switch period below holds for
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
from scipy.optimize import brentq

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
    qc = np.clip(np.asarray(q, dtype=float), 0.0, 2.0 * LOGIT_LIMIT)
    return 1.0 / (1.0 + np.exp(LOGIT_LIMIT - qc))


def switch_fraction(s):
    """Smoothstep ``h(s)`` [1]: 0 below SWITCH_LO, 1 above SWITCH_HI, C1 in between."""
    u = np.clip((np.asarray(s, dtype=float) - SWITCH_LO) / (SWITCH_HI - SWITCH_LO), 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def latch_conductance(p: LatchParams, q):
    """Conductance [S] of the switch at state variable ``q``: between 1/R_off and 1/R_on."""
    return np.exp(switch_fraction(latch_state(q)) * math.log(p.resistance_off / p.resistance_on)) / p.resistance_off


def latch_folds(p: LatchParams) -> tuple[float, float]:
    """``(A, B)`` [V] of ``V_sw(s) = A - B s`` with the static folds exactly at V_th and V_h.

    The folds of ``V(s) = A - B s + w ln(s/(1-s))`` lie at ``s = (1 -+ r)/2``
    with ``r = sqrt(1 - 4 w/B)``; their voltage difference
    ``B r - 2 w ln((1+r)/(1-r))`` equals ``V_th - V_h`` (``B`` by Brent's method,
    bracketed by ``4 w < B <= V_th - V_h + 40 w``: the difference increases with
    ``B``), and ``A`` puts the upper fold at V_th.
    """
    window, w = p.threshold_voltage - p.hold_voltage, p.width
    if not 0 < w <= 0.05 * window:
        raise ValueError(f"latch width {w!r} V must be in (0, 0.05 (V_th - V_h)] = (0, {0.05 * window!r}] V; "
                         "lower latch_width_fraction")

    def excess(b: float) -> float:
        r = math.sqrt(1.0 - 4.0 * w / b)
        return b * r - 2.0 * w * math.log((1.0 + r) / (1.0 - r)) - window

    lo, hi = 4.0 * w * (1.0 + 1e-12), window + 40.0 * w
    b = brentq(excess, lo, hi, xtol=1e-15 * hi)  # to round-off: the folds sit on V_th and V_h
    s_fold = 0.5 * (1.0 - math.sqrt(1.0 - 4.0 * w / b))
    return p.threshold_voltage + b * s_fold - w * math.log(s_fold / (1.0 - s_fold)), b


def latch_rate(p: LatchParams, v, q):
    """dq/dt [1/s] of the latch's state variable ``q`` at cell voltage ``v`` [V]."""
    a, b = latch_folds(p)
    z = (np.abs(np.asarray(v, dtype=float)) - (a - b * latch_state(q))) / p.width
    return (LOGIT_LIMIT + np.clip(z, -LOGIT_LIMIT, LOGIT_LIMIT) - np.asarray(q, dtype=float)) / p.switching_time


#: R_on C / tau_s above which the instant-switch period holds to about 0.1 % (the latch's delays are
#: first order in tau_s/(R_on C): 3 % at 0.1, 0.5 % at 0.01, 0.1 % at 0.001 in test_compact_neuron's latch).
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
