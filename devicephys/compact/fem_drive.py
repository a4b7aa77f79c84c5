"""The card under the FEM's own drive: the compact model replays the finite-element protocols.

A finite-element filament result (:mod:`devicephys.filament.stage`) holds three
protocols, all driven through the FEM's series resistor ``R_s`` and its smooth
current compliance ``I_cc`` (:mod:`devicephys.filament.fem.solve`: the source
current is ``I_cc x / sqrt(1 + x^2)`` with ``x = (V_src - V) / (I_cc R_s)``):

1. the main drive: the stored ``source_voltage(time)`` from the pristine cell;
2. the set-time study: a constant source voltage from the pristine cell until
   the gap first falls below ``gap_on``;
3. the relaxation: zero bias from the bridged gap ``relax_gap[0]`` until the
   gap exceeds ``gap_rupture``.

:func:`compare` integrates the card's equations (:mod:`devicephys.compact.model`)
under exactly these drives, reads the same quantities off the card's traces
with the FEM's own extraction rules (:mod:`devicephys.filament.extract`), and
returns one row per quantity: FEM value, card value, error, tolerance (with its
reason), pass, and for a failing row the physics the card's laws lack.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.integrate import solve_ivp

from devicephys.compact import elementwise as ew
from devicephys.compact import model
from devicephys.compact.model import ModelParams
from devicephys.errors import ConvergenceError
from devicephys.filament import extract

#: Stated targets of the comparison (the tolerance of a row is the larger of its target and the FEM's own
#: resolution of that quantity where it has one), with their reasons.
TARGETS: dict[str, tuple[float, str]] = {
    "iv_rms_ln_current": (math.log(2.0), "target: the sweep current within a factor 2 (rms of ln I over the driven "
                                         "samples), the accuracy a circuit designer needs to size R_s and C"),
    "switch_voltage_relative": (0.05, "target: threshold and hold within 5 %, a fraction of the reference neuron's "
                                      "input overdrive margin above threshold"),
    "set_time_ln": (math.log(2.0), "target: each set time within a factor 2 (|ln(t_card/t_FEM)| <= ln 2)"),
    "relaxation_relative": (0.05, "target: the self-rupture time within 5 %"),
    "relaxation_shape": (0.1, "target: the gap after the bias is removed within 10 % of the open gap (rms)"),
}

#: Relative tolerance of the card's integration (SciPy BDF, Radau or LSODA).
RTOL = 1e-9


@dataclass(frozen=True)
class Drive:
    """The FEM's source circuit: series resistor ``series_resistance`` [Ohm], smooth compliance ``compliance_current`` [A] (inf: none)."""

    series_resistance: float
    compliance_current: float = math.inf

    @classmethod
    def from_spec(cls, fem: dict[str, Any]) -> "Drive":
        """The drive of a FilamentSpec (as a dict)."""
        return cls(float(fem.get("series_resistance", 0.0)), float(fem.get("compliance_current", math.inf)))


def driven_current(p: ModelParams, d, v_source, drive: Drive):
    """(current [A], cell voltage [V]) of the cell at gap ``d`` [m] under source ``v_source`` [V] through ``drive``.

    The cell is ohmic at fixed gap (``I = G V``).  With a compliance, the source current
    ``I_cc x/sqrt(1+x^2)``, ``x = (V_src - I/G)/(I_cc R_s)``, equals ``I``; in ``x`` this reads
    ``F(x) = a - x - b x/sqrt(1+x^2) = 0`` with ``a = |V_src|/(I_cc R_s)``, ``b = 1/(G R_s)``:
    F is decreasing and convex for x >= 0, so Newton from x = 0 converges monotonically.
    """
    g = model.cell_conductance(p, d)
    vs = np.asarray(v_source, dtype=float)
    if not (math.isfinite(drive.compliance_current) and drive.series_resistance > 0):
        i = vs * g / (1.0 + drive.series_resistance * g)
        return i, i / g
    i_cc, r_s = drive.compliance_current, drive.series_resistance
    a, b = np.abs(vs) / (i_cc * r_s), 1.0 / (g * r_s)
    shape = np.broadcast(a, b).shape
    # one device (the integrators' call, hundreds of thousands per replay): NumPy scalars and a Python test, the same
    # arithmetic and the same decision as the arrays' (whose np.all over a 0-d array cost most of each iteration)
    x = np.zeros(shape) if shape else np.float64(0.0)
    for _ in range(60):
        root = np.sqrt(1.0 + x * x)
        step = (a - x - b * x / root) / (1.0 + b / root ** 3)
        x = x + step
        if (np.all(np.abs(step) <= 1e-15 * np.maximum(x, 1e-300)) if shape
                else abs(step) <= 1e-15 * ew.maximum(x, 1e-300)):
            break
    i = np.sign(vs) * i_cc * x / np.sqrt(1.0 + x * x)
    return i, i / g


def _rhs(p: ModelParams, drive: Drive, t0: float, v0: float, slope: float):
    """Right-hand side in (gap [m], excess temperature T - T_0 [K])."""
    def f(t, y):
        _, v = driven_current(p, y[0], v0 + slope * (t - t0), drive)
        return model.state_rates(p, y, v)
    return f


def corners(time, source, rel: float = 1e-9) -> np.ndarray:
    """Indices of the samples where the piece-wise linear ``source(time)`` bends (ends included).

    A sample is interior to a linear piece when it lies within ``rel`` times the
    largest |source| of the straight line through its neighbours (rounding of
    the stored times and voltages is far below that).
    """
    t, s = np.asarray(time, float), np.asarray(source, float)
    if len(t) < 3:
        return np.arange(len(t))
    line = s[:-2] + (s[2:] - s[:-2]) * (t[1:-1] - t[:-2]) / (t[2:] - t[:-2])
    tol = rel * max(float(np.max(np.abs(s))), 1e-300)
    bend = np.flatnonzero(np.abs(s[1:-1] - line) > tol) + 1
    idx = np.unique(np.concatenate([[0], bend, [len(t) - 1]]))
    # a gently curved source passes the neighbour test everywhere: keep every sample unless the pieces hold it
    return idx if np.max(np.abs(np.interp(t, t[idx], s[idx]) - s)) <= tol else np.arange(len(t))


def simulate(p: ModelParams, drive: Drive, time, source, y0, *, stop_gap: float | None = None, direction: int = -1):
    """The card driven by the PWL source through the samples ``time`` [s], ``source`` [V], from state ``y0``.

    Integrates segment by segment between the source's corners (so they are
    honoured exactly) and returns ``(time, gap [m], temperature [K])`` at the
    given sample times.  With ``stop_gap`` [m] it stops when the gap first crosses
    it (falling for ``direction`` -1, rising for +1) and returns that event as the last sample.
    """
    t, s = np.asarray(time, float), np.asarray(source, float)
    # integrated in the excess temperature; with dissolution a fresh filament (metal fraction 1, intact)
    y = np.concatenate([np.asarray(y0, float) - np.array([0.0, p.ambient_temperature]), model.initial_state(p)[2:]])
    out_t, out_y = [t[:1]], [y[:, None]]
    idx = corners(t, s)
    event = None
    if stop_gap is not None:
        def event(_, state):
            return state[0] - stop_gap
        event.terminal, event.direction = True, direction
    for k0, k1 in zip(idx[:-1], idx[1:]):
        if t[k1] <= t[k0]:
            continue  # a repeated sample time
        slope = (s[k1] - s[k0]) / (t[k1] - t[k0])
        sol = _solve(_rhs(p, drive, t[k0], s[k0], slope), (t[k0], t[k1]), y, t[k0 + 1:k1 + 1], p, event)
        out_t.append(np.asarray(sol.t, float).ravel())
        out_y.append(np.asarray(sol.y, float).reshape(p.states, -1))
        if event is not None and len(sol.t_events[0]):
            out_t.append(sol.t_events[0][:1])
            out_y.append(sol.y_events[0][:1].T)
            break
        y = out_y[-1][:, -1]
    gap, excess = np.concatenate(out_y, axis=1)[:2]
    return np.concatenate(out_t), gap, p.ambient_temperature + excess


def _solve(f, span, y, t_eval, p: ModelParams, event):
    atol = model.state_tolerances(p)
    for method in ("BDF", "Radau", "LSODA"):
        # implicit first: LSODA's switching between its stiff and non-stiff methods can stall on a card whose
        # thermal node is picoseconds fast beside a strongly activated growth (1.8e6 evaluations, 51 s, for one
        # 0.1 us segment of a measured sweep, where BDF takes under 100); Radau, then LSODA, are the fallbacks
        # for a step into a NaN state at a steep closure
        sol = solve_ivp(f, span, y, method=method, t_eval=t_eval, rtol=RTOL, atol=atol, events=event,
                        first_step=min(1e-12, (span[1] - span[0]) / 10))
        if sol.success and np.all(np.isfinite(sol.y)):
            return sol
    raise ConvergenceError(f"compact model under the FEM's drive: integration failed at t = {span[0]:.3e} s "
                           f"({sol.message}); the card's parameters are not integrable under this drive")


def _row(fem: float, card: float, error: float, tolerance: float, reason: str, unit: str, **extra) -> dict:
    ok = bool(math.isfinite(error) and abs(error) <= tolerance)
    return {"fem": fem, "card": card, "error": error, "tolerance": tolerance, "tolerance_reason": reason,
            "unit": unit, "passes": ok, **extra}


def _resolution(values, k: int | None) -> float:
    """|values[k] - values[k-1]|: how far the FEM's reading can be from the event between its samples."""
    if k is None or k < 1:
        return 0.0
    return float(abs(values[k] - values[k - 1]))


def sweep(ds, p: ModelParams, drive: Drive, fem: dict[str, Any], dense: int = 4000) -> dict[str, Any]:
    """The main drive replayed: I-V residual on the FEM's samples, threshold and hold by the FEM's rules.

    The card is sampled at the FEM's times and on a uniform grid of ``dense``
    intervals (so that its own switching is resolved however the FEM sampled).
    """
    t, src = ds["time"].values, ds["source_voltage"].values
    g_fem, i_fem, v_fem = ds["gap"].values, ds["current"].values, ds["voltage"].values
    gap_on, gap_r = float(fem["gap_on"]), float(fem["gap_rupture"])
    grid = np.union1d(t, np.linspace(t[0], t[-1], dense + 1))
    s_grid = np.interp(grid, t, src)
    y0 = (min(float(g_fem[0]), p.gap_max), float(ds["temperature_max"].values[0]))
    _, gap, temp = simulate(p, drive, grid, s_grid, y0)
    i, v = driven_current(p, gap, s_grid, drive)
    at = np.searchsorted(grid, t)
    rows = {"iv_sweep": _iv_row(src, i_fem, g_fem, i[at], gap[at], gap_on, gap_r)}
    rel, why = TARGETS["switch_voltage_relative"]
    k_set = extract.set_index(g_fem, gap_on)
    try:
        v_th = extract.threshold_voltage(v, gap, gap_on)
    except Exception:  # noqa: BLE001 - the card never switches under this drive
        v_th = float("nan")
    # the FEM's readings by the same rules, now, from its own traces (its stored scalars may predate a rule change)
    try:
        ref = extract.threshold_voltage(v_fem, g_fem, gap_on)
    except Exception:  # noqa: BLE001 - its traces never bridge: keep the stored value
        ref = float(ds["threshold_voltage"])
    res_th = _resolution(src, k_set)
    rows["threshold_voltage"] = _row(ref, v_th, v_th - ref, max(rel * abs(ref), res_th),
                                     f"{why}; or the FEM's source step at its set sample ({res_th:.3g} V) if larger",
                                     "V", fem_resolution=res_th)
    ref_h = extract.hold_voltage(v_fem, g_fem, src, gap_on, gap_r)
    v_h = extract.hold_voltage(v, gap, s_grid, gap_on, gap_r)
    last_on, k_r = extract.hold_samples(src, g_fem, gap_on, gap_r)
    res_h = _resolution(src, k_r) if last_on is None or k_r is None else float(abs(src[k_r] - src[last_on]))
    missing_h = extract.hold_missing(v_fem, g_fem, src, gap_on, gap_r)
    extra_h = {"fem_missing": f"the FEM's sweep has no hold: {missing_h}"} if missing_h else {}
    rows["hold_voltage"] = _row(ref_h, v_h, v_h - ref_h, max(rel * abs(ref_h), res_h),
                                f"{why}; or the FEM's source step between its last ON sample and its rupture "
                                f"({res_h:.3g} V) if larger", "V", fem_resolution=res_h, **extra_h)
    trace = {"time": grid, "source_voltage": s_grid, "voltage": v, "current": i, "gap": gap, "temperature": temp}
    k_min = int(np.argmin(gap))
    # the FEM's conductance at the gap where the card came closest, before the FEM first bridged
    before = np.arange(len(t)) < (k_set if k_set is not None else len(t))
    ok = before & (np.abs(v_fem) > 0) & np.isfinite(g_fem)
    k_near = int(np.flatnonzero(ok)[np.argmin(np.abs(g_fem[ok] - gap[k_min]))]) if ok.any() else None
    return {"rows": rows, "trace": trace, "fem_peak_temperature": float(np.max(ds["temperature_max"].values)),
            "card_peak_temperature": float(np.max(temp)), "card_min_gap": float(gap[k_min]),
            "card_voltage_at_min_gap": float(v[k_min]), "card_final_gap": float(gap[-1]),
            "card_conductance_at_min_gap": float(model.cell_conductance(p, gap[k_min])),
            "fem_gap_near": float(g_fem[k_near]) if k_near is not None else float("nan"),
            "fem_conductance_near": float(i_fem[k_near] / v_fem[k_near]) if k_near is not None else float("nan")}


def _iv_row(src, i_fem, g_fem, i_card, g_card, gap_on: float, gap_r: float) -> dict:
    """rms of ln I_card - ln I_FEM over the driven samples (|V_src| above 1 % of its peak), split by state."""
    driven = (np.abs(src) > 0.01 * np.max(np.abs(src))) & (np.abs(i_fem) > 0) & (np.abs(i_card) > 0)
    i_c, i_f = i_card[driven], i_fem[driven]
    res = np.log(np.abs(i_c)) - np.log(np.abs(i_f))
    s_f, s_c = _state(g_fem[driven], gap_on, gap_r), _state(g_card[driven], gap_on, gap_r)
    parts = {"both_off": (s_f == 2) & (s_c == 2), "both_on": (s_f == 0) & (s_c == 0), "state_differs": s_f != s_c}
    rms = _rms(res)
    target, why = TARGETS["iv_rms_ln_current"]
    return _row(0.0, rms, rms, target, why, "1 (rms of ln I_card - ln I_FEM)", points=int(res.size),
                max_abs=float(np.max(np.abs(res))) if res.size else float("nan"),
                **{f"rms_{k}": _rms(res[m]) for k, m in parts.items()},
                **{f"fraction_{k}": float(np.mean(m)) if res.size else float("nan") for k, m in parts.items()},
                ratio_on_median=_median_ratio(i_c[parts["both_on"]], i_f[parts["both_on"]]),
                ratio_off_median=_median_ratio(i_c[parts["both_off"]], i_f[parts["both_off"]]))


def _state(gap, gap_on: float, gap_rupture: float) -> np.ndarray:
    """0: bridged (gap < gap_on), 2: ruptured (gap > gap_rupture), 1: between (the FEM's own classes)."""
    return np.where(gap < gap_on, 0, np.where(gap > gap_rupture, 2, 1))


def _rms(x) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if np.size(x) else float("nan")


def _median_ratio(card, fem) -> float:
    return float(np.exp(np.median(np.log(np.abs(card) / np.abs(fem))))) if np.size(card) else float("nan")


def set_times(ds, p: ModelParams, drive: Drive, fem: dict[str, Any]) -> dict[str, dict]:
    """Each set run replayed: constant source through the FEM's drive from the pristine gap until gap < gap_on."""
    limit, gap_on = float(fem.get("set_time_limit", 1e-3)), float(fem["gap_on"])
    y0 = (min(float(ds["gap"].values[0]), p.gap_max), p.ambient_temperature)
    target, why = TARGETS["set_time_ln"]
    rows = {}
    for v, t_fem in zip(ds["set_voltage"].values, ds["set_time"].values):
        t, gap, _ = simulate(p, drive, np.linspace(0.0, limit, 201), np.full(201, v), y0, stop_gap=gap_on)
        t_card = float(t[-1]) if t[-1] < limit else float("nan")
        _, v_min = driven_current(p, np.min(gap), v, drive)
        err = math.log(t_card / t_fem) if t_fem > 0 and math.isfinite(t_card) and math.isfinite(t_fem) else float("nan")
        if not math.isfinite(t_fem) and not math.isfinite(t_card):
            err = 0.0  # neither sets within the limit
        rows[f"set_time_{v:g}V"] = _row(float(t_fem), t_card, err, target, why, "s (error: ln t_card/t_FEM)",
                                        source_voltage=float(v), card_min_gap=float(np.min(gap)),
                                        card_voltage_at_min_gap=float(v_min),
                                        card_ideal_source=_ideal_set_time(p, float(v), gap_on, limit))
    return rows


def relaxation(ds, p: ModelParams, fem: dict[str, Any]) -> dict[str, dict]:
    """The zero-bias relaxation replayed from the FEM's bridged gap: self-rupture time and the gap's course."""
    rt, rg = ds["relax_time"].values, ds["relax_gap"].values
    gap_r = float(fem["gap_rupture"])
    drive = Drive(1.0)
    y0 = (float(rg[0]), p.ambient_temperature)
    _, gap, _ = simulate(p, drive, rt, np.zeros_like(rt), y0)
    t_ev, g_ev, _ = simulate(p, drive, [rt[0], 1e3 * p.relaxation_time], [0.0, 0.0], y0, stop_gap=gap_r, direction=1)
    t_card = float(t_ev[-1]) if t_ev[-1] < 1e3 * p.relaxation_time else float("nan")
    t_fem = float(ds["relaxation_time"])
    above = np.flatnonzero(rg >= gap_r)
    res = _resolution(rt, int(above[0]) if above.size else None)
    rel, why = TARGETS["relaxation_relative"]
    rows = {"relaxation_time": _row(t_fem, t_card, (t_card - t_fem) / t_fem, max(rel, res / t_fem),
                                    f"{why}; or the FEM's time step at its crossing ({res:.3g} s) if larger",
                                    "s (error relative)", fem_resolution=res)}
    shape = _rms(gap - rg) / p.gap_max
    tol, why = TARGETS["relaxation_shape"]
    closed = np.flatnonzero(rg[:above[0] if above.size else len(rg)] < float(fem["gap_on"]))
    t_closed = float(rt[closed[-1]]) if closed.size else float("nan")
    rows["relaxation_course"] = _row(0.0, shape, shape, tol, why, "1 (rms of gap_card - gap_FEM over gap_max)",
                                     points=int(rt.size), fem_closed_until=t_closed,
                                     fem_opening_time=t_fem - t_closed if math.isfinite(t_closed) else float("nan"))
    return rows


def _ideal_set_time(p: ModelParams, v: float, gap_on: float, limit: float) -> float:
    """The card's set time [s] with ``v`` [V] applied straight to the cell (no series resistor), NaN beyond ``limit``."""
    t, gap, _ = simulate(p, Drive(0.0), [0.0, limit], [v, v], (p.gap_max, p.ambient_temperature), stop_gap=gap_on)
    return float(t[-1]) if t[-1] < limit else float("nan")


def compare(ds, p: ModelParams, fem: dict[str, Any]) -> dict[str, Any]:
    """The ``fem_drive`` block of a card's fit_quality: the card under the FEM result's own drive.

    Parameters
    ----------
    ds
        The finite-element filament result (``filament.nc``).
    p
        The card's model parameters.
    fem
        The FilamentSpec stored in ``ds`` (as a dict).

    Returns
    -------
    dict
        ``rows`` (quantity -> fem, card, error, tolerance, tolerance_reason, unit,
        passes, and ``missing_physics`` where it fails), ``passes`` (all rows),
        ``drive`` (what was replayed) and ``failing`` (names of failing rows).
    """
    if not {"series_resistance", "gap_on", "gap_rupture"} <= fem.keys():
        return {"skipped": "the filament result's spec has no series_resistance/gap_on/gap_rupture: its drive "
                           "cannot be replayed"}
    drive = Drive.from_spec(fem)
    sw = sweep(ds, p, drive, fem)
    rows = {**sw["rows"], **set_times(ds, p, drive, fem), **relaxation(ds, p, fem)}
    context = {k: v for k, v in sw.items() if k not in ("rows", "trace")}
    for name, row in rows.items():
        if not row["passes"]:  # a row the FEM cannot give (no hold within its sweep) says that instead
            row["missing_physics"] = row.get("fem_missing") or missing_physics(name, row, rows, context, p, fem)
    return {"drive": {"series_resistance": drive.series_resistance, "compliance_current": drive.compliance_current,
                      "source": "source_voltage(time) of the main drive (PWL through its samples); constant "
                                "set_voltage for set_time_limit; zero bias from relax_gap[0]",
                      "integration_rtol": RTOL},
            "rows": rows, "context": context, "passes": all(r["passes"] for r in rows.values()),
            "failing": [k for k, r in rows.items() if not r["passes"]]}


def _stall(gap: float, volts: float, fem: dict[str, Any], context: dict) -> str:
    g_card, g_fem = context["card_conductance_at_min_gap"], context["fem_conductance_near"]
    ahead = (f"the card's gap conducts {g_card:.3g} S at gap {context['card_min_gap']:.3g} m before it bridges, the "
             f"FEM's {g_fem:.3g} S at gap {context['fem_gap_near']:.3g} m, so the card loads the FEM's series resistor "
             "earlier; " if not g_fem >= 1e-3 * g_card else "")
    return ("growth of a gap that has not bridged: " + ahead + "the card's set law tau0 exp(-V/V0) is "
            "Arrhenius-in-field with V0 fixed by the open gap (V0 = 2 k_B T_0 d_open/(q a)), while the FEM's "
            "Mott-Gurney hopping field V/d rises as the gap shrinks; as the card's gap conducts, its cell voltage "
            f"falls and its growth stalls at gap {gap:.3g} m (cell voltage {volts:.3g} V), above gap_on = "
            f"{float(fem['gap_on']):.3g} m")


def missing_physics(name: str, row: dict, rows: dict, context: dict, p: ModelParams, fem: dict[str, Any]) -> str:
    """What the card's laws lack that makes row ``name`` fail (one sentence, with the numbers behind it)."""
    stalled = context["card_min_gap"] >= float(fem["gap_on"])
    heat = (f"the FEM's hot spot reaches {context['fem_peak_temperature']:.4g} K on the sweep, the card's single "
            f"thermal node {context['card_peak_temperature']:.4g} K")
    if name == "iv_sweep":
        parts = []
        if row["fraction_state_differs"] > 0:
            parts.append(f"the card and the FEM are in different states (bridged / between / ruptured) on "
                         f"{row['fraction_state_differs']:.0%} of the driven samples: "
                         + (_stall(context["card_min_gap"], context["card_voltage_at_min_gap"], fem, context) if stalled
                            else "the switching voltages differ (threshold and hold rows)"))
        if math.isfinite(row["rms_both_off"]) and row["rms_both_off"] > row["tolerance"]:
            parts.append(f"conduction of the open gap: where both are ruptured the rms of ln I is {row['rms_both_off']:.3g} "
                         f"(median current ratio card/FEM {row['ratio_off_median']:.3g}); the card's open gap conducts "
                         "by its tunnelling law (Simmons decay from the work function, contact conductance from R_on) "
                         "on top of the leakage R_off, which does not follow the FEM's conduction of the open gap")
        if math.isfinite(row["rms_both_on"]) and row["rms_both_on"] > row["tolerance"]:
            parts.append(f"ON conduction: median current ratio card/FEM {row['ratio_on_median']:.3g} where both are "
                         "bridged; the card's ON resistance is fixed at gap_min, the FEM's follows the filament's "
                         "radius and temperature")
        return "; ".join(parts) or "no single cause identified: switching-time differences on steep edges"
    if name == "threshold_voltage":
        if stalled:
            return _stall(context["card_min_gap"], context["card_voltage_at_min_gap"], fem, context)
        if p.dissolves:
            return ("threshold under the FEM's ramp: the card's tip must cross the gap by its voltage-only set law "
                    f"within one self-rupture time of its oldest stretch (t_r = {model.self_rupture_time(p):.3g} s, "
                    "restarted at each rupture); the FEM's comes from hopping in the field V/d with ion supply by oxidation")
        return ("threshold under the FEM's ramp: the card's threshold balances a voltage-only set law against "
                "first-order relaxation; the FEM's comes from hopping in the field V/d with ion supply by oxidation")
    if name == "hold_voltage" and p.dissolves and not stalled:
        if p.return_rate > 0:
            return ("release of the bridge: the card's bridge is held while the field's return (return_rate "
                    f"{p.return_rate:.3g} 1/s) keeps its oldest stretch above percolation, down to its static hold "
                    f"{model.return_hold(p):.3g} V; below it the stretch must still dissolve to percolation, at most at "
                    f"{p.dissolution_rate * float(model.dissolution_factor(p, p.percolation_fraction)):.3g} 1/s "
                    "(k_d, times the Gibbs-Thomson factor at c_p with a capillary_number), before it breaks, while "
                    f"the FEM's neck thins with the bias as its return weakens and breaks at once at its hold; {heat}")
        return ("release of the bridge: the card's oldest stretch breaks the bridge t_r = "
                f"{model.self_rupture_time(p):.3g} s after each set at any bias (no return of dissolved Ag: "
                f"return_rate 0), where the FEM's bridge is held above its hold and released below it; {heat}")
    if name == "hold_voltage":
        if not stalled and not math.isfinite(row["card"]) and context["card_final_gap"] < float(fem["gap_rupture"]):
            return ("release of the bridge: the card does not reopen past gap_rupture before the sweep ends (gap "
                    f"{context['card_final_gap']:.3g} m at its end); its gap reopens at the "
                    f"first-order rate (d_max - d)/tau_r with tau_r = {p.relaxation_time:.3g} s (matched to the FEM's "
                    "delayed rupture), too slowly to pass gap_rupture on the down-ramp, while the FEM's bridge breaks "
                    f"at once at its hold; {heat}: the card has no bridge that dissolves and breaks")
        if stalled:
            return "the card never bridges under this drive, so it has no hold: " + _stall(
                context["card_min_gap"], context["card_voltage_at_min_gap"], fem, context)
        return ("hold of the bridged filament: the card keeps its bridge by Joule heating of one thermal node with "
                "Arrhenius growth; the FEM's neck dissolves (Gibbs-Thomson) and refills, and it releases where "
                f"dissolution outruns refilling; {heat}: the card has no dissolution of the bridge")
    if name.startswith("set_time_"):
        sv = sorted((r["source_voltage"], r["fem"]) for k, r in rows.items() if k.startswith("set_time_"))
        rising = [(a, b) for (a, ta), (b, tb) in zip(sv, sv[1:]) if tb >= ta]
        tail = ("; the FEM's set time does not fall monotonically with voltage (" + ", ".join(
            f"t({b:g} V) >= t({a:g} V)" for a, b in rising) + "), which the card's monotonic law cannot follow"
            ) if rising else ""
        if not math.isfinite(row["card"]) and row["card_min_gap"] >= float(fem["gap_on"]):
            ideal = row["card_ideal_source"]
            return (_stall(row["card_min_gap"], row["card_voltage_at_min_gap"], fem, context)
                    + (f" (with the source straight on the cell the card sets in {ideal:.3g} s)"
                       if math.isfinite(ideal) else "") + tail)
        return ("set kinetics: the card's set time follows tau0 exp(-V/V0) with heating in one thermal node; the "
                "FEM's follows Mott-Gurney hopping in the field V/d across the shrinking gap with the local hot spot"
                + tail)
    if name == "relaxation_time" and p.dissolves and p.capillary_number > 0:
        return ("self-rupture time: the card's bridge breaks when its oldest stretch, filled at the start of growth "
                "and dissolving at k_d times its Gibbs-Thomson factor (capillary_number), falls below percolation, "
                f"{model.self_rupture_time(p):.3g} s after growth began, at the ambient; the FEM's neck bridges "
                "thinner than the filled channel, dissolves at its local temperature and breaks once thin")
    if name == "relaxation_time" and p.dissolves:
        return ("self-rupture time: the card's bridge breaks when its oldest stretch, dissolving at k_d from the start of "
                "growth, falls below percolation, (1 - c_p)/k_d after growth began, with k_d the FEM's Gibbs-Thomson "
                "rate at the ambient; the FEM's neck dissolves at its local temperature and breaks once thin")
    if name == "relaxation_time":
        return ("rupture time: the card relaxes at a rate proportional to the gap still to open ((d_max - d)/tau_r); "
                "the FEM's neck dissolves at a temperature-activated rate and breaks once thin")
    if name == "relaxation_course":
        return ("delayed, abrupt rupture: the card's gap opens exponentially from the moment the bias is removed "
                f"((d_max - d)/tau_r, first order); the FEM's gap stays below gap_on for {row['fem_closed_until']:.3g} s "
                f"and then passes gap_rupture within {row['fem_opening_time']:.3g} s (its bridge dissolves until it "
                "breaks): the card has no bridge that dissolves before it opens, its relaxation time only matches "
                "the rupture instant")
    return "not diagnosed"


def report_html(block: dict[str, Any] | None) -> str:
    """The ``fem_drive`` block as an HTML table (failing rows red, with their missing physics); '' when absent."""
    import html

    if not block or "rows" not in block:
        return "" if not block else f"<p>card under the FEM's drive: {html.escape(str(block.get('failed') or block.get('skipped', '')))}</p>"

    def num(x) -> str:
        return "n/a" if x is None or not math.isfinite(x) else f"{x:.4g}"

    body = "".join(
        f"<tr style='background:{'#e6f4e6' if r['passes'] else '#f8d0d0'}'><td>{html.escape(k)}</td>"
        f"<td class=num>{num(r['fem'])}</td><td class=num>{num(r['card'])}</td><td class=num>{num(r['error'])}</td>"
        f"<td class=num>{num(r['tolerance'])}</td><td>{html.escape(r['unit'])}</td>"
        f"<td>{'pass' if r['passes'] else html.escape(r.get('missing_physics', 'fails'))}</td></tr>"
        for k, r in block["rows"].items())
    head = ("<tr><th>quantity</th><th>FEM</th><th>card</th><th>error</th><th>tolerance</th><th>unit</th>"
            "<th>pass / physics the card lacks</th></tr>")
    spice = block.get("ngspice") or {}
    note = (f"<p>the exported SPICE subcircuit in ngspice (default options) under the same sweep: rms of ln I against "
            f"the NumPy card {num(spice.get('current_rms_ln_vs_numpy'))} (target {num(spice.get('target'))}), closest "
            f"gap {num(spice.get('min_gap_ngspice'))} m against {num(spice.get('min_gap_numpy'))} m, maximum step "
            f"{num(spice.get('maximum_step'))} s" + "".join(
                f"; at {r['steps']} steps " + (html.escape(r["failed"]) if "failed" in r else
                                               f"{num(r['current_rms_ln_vs_numpy'])} (against the run before: "
                                               f"{num(r['current_rms_ln_vs_previous_steps'])})")
                for r in spice.get("refinements", [])) + "</p>"
            if "current_rms_ln_vs_numpy" in spice else "")
    return ("<h3>The card under the FEM's own drive</h3><p>the compact model replays the filament result's sweep, set "
            "runs and relaxation through its series resistor and compliance; quantities read by the FEM's own rules"
            "</p><table>" + head + body + "</table>" + note)
