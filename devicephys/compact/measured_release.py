"""The card under the measured drive, and the field's return of dissolved silver fitted to the measured release.

A two-state card (``rupture: dissolution``) keeps its bridge where the field's return of dissolved
silver holds the oldest stretch above percolation (:func:`devicephys.compact.model.field_return`), so
its release on the sweep's falling ramp is set by the return's rate constant ``k_f``
(``return_rate``).  The measurements have no other number that sets it: :func:`fit_return_rate`
takes it from the measured release, as the set-time law takes ``tau0`` from the measured threshold.
The residual is a time, the card's release (its cell conductance falling through the sweep's ON/OFF
criterion after the source's peak, interpolated in ln G between its samples on the measured grid) against
the measured one (halfway between the last ON and the next sample).  The card's rupture is abrupt, so the
interpolated release moves by a fraction of a step only where the rupture crosses a sample: the fit stops
once it is within :data:`RELEASE_TOLERANCE_SAMPLES` of a step.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from scipy.optimize import brentq

from devicephys.compact import fem_drive, integrate, measured, model
from devicephys.compact.model import ModelParams
from devicephys.errors import ConvergenceError, SpecError
from devicephys.progress import bar as progress_bar

#: Relative tolerance of the card's integration behind a series resistor (under a compliance the FEM drive's
#: integrator runs at its own, :data:`devicephys.compact.fem_drive.RTOL`).
REPLAY_RTOL = 1e-8

#: Tolerance of Brent's method on ``ln k_f`` [1]: k_f to 1e-4 of itself.
RETURN_XTOL = 1e-4

#: A release within this fraction of the drive's sampling step of the measured one ends the fit [1]: the
#: measured release is known to half a step (it lies between the last ON sample and the next), and a card
#: within a quarter of a step of its middle releases within that interval too.  On a sweep sampled too coarsely
#: for the card's abrupt rupture, the interpolated release moves by a fraction of a step only where the rupture
#: crosses a sample, so a tighter tolerance would be reached only by RETURN_XTOL (on the volatile example a
#: twentieth of a step took 7 and 27 replays with the two base cards of docs/measurements.md, a quarter 3 and 10).
RELEASE_TOLERANCE_SAMPLES = 0.25


def series_resistance(sweep: measured.Table, m: dict) -> float:
    """Series resistor [Ohm] of the measurement: median (V_source - V)/I over the ON samples.

    That is ``1/switch_on_conductance`` of the load-line reading of a sweep with a ``source_voltage``
    column (:func:`measured.sweep_parameters`); the ON samples carry the largest current, where the
    resistor's drop is resolved best.
    """
    if sweep.series_resistance > 0:
        return sweep.series_resistance  # stated by the user
    if m["criterion"] != "load line":
        raise SpecError(f"{sweep.path.name}: no source_voltage column; the series resistor needs it")
    return 1 / m["switch_on_conductance"]


def numpy_trace(p: ModelParams, sweep: measured.Table, r_s: float):
    """The card driven by the measured source through ``r_s`` [Ohm] (and the compliance, if any).

    The replay and the return fit integrate it alike (:data:`REPLAY_RTOL` behind a resistor).

    Returns ``(time [s], cell voltage [V], current [A], gap [m])``, the gap on ``time``.
    """
    tp, vp = sweep["time"], sweep["source_voltage"]
    if sweep.compliance:  # the source through the resistor and the smooth compliance, as the FEM drives it
        drive = fem_drive.Drive(r_s, sweep.compliance_current)
        t, gap, _ = fem_drive.simulate(p, drive, tp, vp, [p.gap_max, p.ambient_temperature])
        i, v = fem_drive.driven_current(p, gap, np.interp(t, tp, vp), drive)
        return t, v, i, gap
    ref = integrate.simulate_series(p, tp, vp, r_s, samples_per_segment=None, rtol=REPLAY_RTOL)
    return ref.time, ref.voltage, ref.current, ref.gap


def measured_release_time(sweep: measured.Table, m: dict) -> float:
    """Time [s] of the measured release: halfway between the last ON sample and the next."""
    t, k = sweep["time"], m["last_on"]
    return 0.5 * float(t[k] + t[min(k + 1, len(t) - 1)])


def release_time(p: ModelParams, sweep: measured.Table, m: dict, r_s: float) -> float:
    """Time [s] at which the card under the measured drive releases: after the source's peak, its cell
    conductance first falls through the sweep's ON/OFF criterion (``switch_on_conductance``: the load line's
    ``1/R_s``, or the conductance split under a compliance), interpolated between its own steps.

    ``inf`` if it is still ON at the drive's end, NaN if it never switches ON, the time of the source's peak if
    it is OFF from there on (it released before).
    """
    t, _, _, gap = numpy_trace(p, sweep, r_s)
    g = model.cell_conductance(p, gap)
    on = g > m["switch_on_conductance"]
    if not on.any():
        return math.nan
    t_peak = float(sweep["time"][int(np.argmax(np.abs(sweep["source_voltage"])))])
    start = max(int(np.searchsorted(t, t_peak)), int(np.argmax(on)))
    was_on = False
    for k in range(start, len(t)):
        if on[k]:
            was_on = True
        elif was_on:  # ON at k - 1, OFF at k: interpolate the crossing in ln G
            a, b = math.log(g[k - 1]), math.log(g[k])
            s = (math.log(m["switch_on_conductance"]) - a) / (b - a)
            return float(t[k - 1] + s * (t[k] - t[k - 1]))
    return math.inf if was_on else float(t[start])


def fit_return_rate(p: ModelParams, sweep: measured.Table, m: dict, r_s: float, *,
                    progress: bool = False) -> tuple[ModelParams, dict]:
    """``return_rate`` of a two-state card such that its release under the measured drive comes at the measured one.

    Without any return the card must release before the measured release (the return can only hold it
    longer); then it starts from the rate whose static hold is the measured hold voltage (:func:`start_rate`) and brackets the
    root in ``ln k_f`` by factors of 3 (a larger return holds the bridge to a lower bias: the release comes
    later), then Brent's method, until the release is within :data:`RELEASE_TOLERANCE_SAMPLES` of a sampling
    step of the measured one or ``ln k_f`` within :data:`RETURN_XTOL`.  Returns the card and the fit's record: the start, the release times, the
    residual in the drive's samples and the number of replays.  Raises ConvergenceError if no rate within
    1e-6..1e6 of the start brackets it.  ``progress`` counts the replays on a progress bar.
    """
    if not p.dissolves:
        raise SpecError("the field's return of dissolved silver needs a card of two slow states "
                        "(rupture: dissolution in the compact spec)")
    target = measured_release_time(sweep, m)
    late = 2.0 * float(sweep["time"][-1])  # a card still ON at the drive's end
    step_t = float(np.median(np.diff(sweep["time"])))
    close = RELEASE_TOLERANCE_SAMPLES * step_t
    k0 = start_rate(p, m["hold_voltage"])
    cache: dict[float, float] = {}
    with progress_bar(desc="return fit (release)", unit=" replays", disable=not progress) as bar:
        def residual(x: float) -> float:
            if x not in cache:
                bar.update()
                t = release_time(replace(p, return_rate=math.exp(x)), sweep, m, r_s)
                cache[x] = (t if math.isfinite(t) else late) - target
            # within a quarter of a sample the release is as good as the data: a zero ends Brent's method there
            return 0.0 if abs(cache[x]) < close else cache[x]

        t_none = release_time(replace(p, return_rate=0.0), sweep, m, r_s)
        bar.update()
        if not t_none < target:  # NaN: it never sets
            raise ConvergenceError(
                f"{sweep.path.name}: without any return of dissolved silver the card releases at {t_none:.4g} s, "
                f"not before the measured release at {target:.4g} s; the return can only hold a bridge longer, so "
                "it cannot set this release (the card's self-rupture comes later than the measured one)")
        x0, span, step = math.log(k0), math.log(1e6), math.log(3.0)
        lo = hi = x0
        while residual(lo) > 0 and lo > x0 - span:
            hi, lo = lo, lo - step
        while residual(hi) < 0 and hi < x0 + span:
            lo, hi = hi, hi + step
        if not residual(lo) <= 0 <= residual(hi):
            raise ConvergenceError(
                f"{sweep.path.name}: no return rate within 1e-6..1e6 x {k0:.3g} 1/s releases the card at the "
                f"measured {target:.4g} s (release residuals {residual(lo):.3g} and {residual(hi):.3g} s); the "
                "measured release is not a dissolving bridge's: fit without rupture: dissolution")
        x = lo if residual(lo) == 0 else (hi if residual(hi) == 0 else brentq(residual, lo, hi, xtol=RETURN_XTOL))
    t_card = cache[x] + target
    return replace(p, return_rate=math.exp(x)), {
        "return_rate_from_static_hold": k0, "release_measured_s": target, "release_card_s": t_card,
        "release_residual_samples": (t_card - target) / step_t, "release_without_return_s": t_none,
        "replays": len(cache) + 1}


def start_rate(p: ModelParams, hold: float) -> float:
    """``k_f`` [1/s] whose static hold is ``hold`` [V]: ``k_d / (h(V_h) F(T_on) beta(gap_min) (1 - c_p))`` (with a
    ``capillary_number``, ``k_d min f(m)/(1 - m)`` over the same: :func:`model.holding_ratio`)."""
    unit = model.field_return(replace(p, return_rate=1.0), p.gap_min, hold, model.on_temperature(p, hold))
    return p.dissolution_rate * model.holding_ratio(p) / float(unit)
