"""Fit the compact model to a filament result (``filament.nc``) by least squares.

Each physical mechanism is fitted to the data that isolate it, in this order:

1. relaxation ``d(t) = d_max - (d_max - d_0) exp(-t/tau_r)`` to the relaxation trace;
2. the conductance-gap law ``G_cell(d)`` to ``I/V`` versus ``gap`` along the
   sweep (log residuals), with the filament body resistance from its geometry;
3. set time versus voltage to the exact isothermal model law
   ``t_set = tau_r ln(r/(r-1))``, ``r = (tau_r/tau0) 4 sinh^2(V/(2 V0))`` (log residuals);
4. the thermal resistance to ``T_max - T_0`` versus Joule power on the sweep
   (quasi-static), the thermal capacitance from the thermal time constant;
5. the activation energy from the hold voltage: the hot bridged state must
   just sustain itself there, ``g(V_h, T_on(V_h)) tau_r = L``.

For a result of the finite-element stage (``filament.nc`` carries its
FilamentSpec) two steps use that model's own physics instead:

1'. relaxation: in the FEM the filament dissolves at a constant rate and then
    ruptures abruptly (a delay followed by a jump of the gap, not an
    exponential), so ``tau_r`` is matched to the observed self-rupture time:
    the model's exponential relaxation from the start gap to the open gap
    crosses ``gap_rupture`` at the FEM's rupture time
    (:func:`relaxation_from_rupture`);
5'. activation energy: the FEM's growth is thermally activated hopping with
    the spec's ``migration_barrier``, which is taken as ``E_a``.  (The FEM's
    ON state is cold and ends by dissolution, so its hold voltage does not
    measure a thermal balance; it is compared with the model's instead.)

Each step reports its residuals and 1-sigma uncertainties; a step whose data
cannot determine a parameter raises ConvergenceError naming it.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from devicephys import materials, units
from devicephys.compact import lsq, model
from devicephys.compact.model import ModelParams
from devicephys.errors import ConvergenceError, SpecError

#: Variables of filament.nc the fit reads.
FILAMENT_VARIABLES = ("voltage", "current", "temperature_max", "gap", "set_voltage", "set_time", "relax_gap",
                      "hold_voltage", "thermal_time_constant", "filament_radius_final", "insulator_thickness",
                      "threshold_voltage", "resistance_on", "resistance_off")


def require(ds: xr.Dataset, names, where: str) -> None:
    """Raise SpecError naming the first variable of ``names`` missing from ``ds``."""
    missing = [n for n in names if n not in ds.variables]
    if missing:
        raise SpecError(f"{where} lacks variable(s) {missing}; rerun the stage that writes it "
                        f"(it must provide {list(names)})")


def fit_relaxation(t, gap) -> tuple[dict[str, float], dict[str, float], lsq.FitOutcome]:
    """``tau_r`` [s], ``gap_max`` [m] and the start gap from a relaxation trace (gap in m)."""
    t, gap = np.asarray(t, float), np.asarray(gap, float)
    scale = float(np.max(gap))
    d_max0, d_00 = gap[-1] / scale, gap[0] / scale
    mid = d_00 + (1 - math.exp(-1)) * (d_max0 - d_00)
    tau0 = float(t[np.argmin(np.abs(gap / scale - mid))]) or float(t[-1]) / 3

    def res(x):
        d_max, d_0, ln_tau = x
        return d_max - (d_max - d_0) * np.exp(-t / np.exp(ln_tau)) - gap / scale

    out = lsq.fit(res, [d_max0, d_00, math.log(max(tau0, 1e-30))], ["gap_max", "gap_start", "relaxation_time"],
                  "relaxation fit")
    d_max, d_0, ln_tau = out.x
    values = {"gap_max": d_max * scale, "gap_start": d_0 * scale, "relaxation_time": math.exp(ln_tau)}
    sigmas = {"gap_max": out.sigma[0] * scale, "gap_start": out.sigma[1] * scale,
              "relaxation_time": out.sigma[2] * math.exp(ln_tau)}
    return values, sigmas, out


def relaxation_from_rupture(t_rupture: float, gap_start: float, gap_open: float, gap_rupture: float) -> float:
    """``tau_r`` [s] for which ``d(t) = d_open - (d_open - d_start) exp(-t/tau_r)`` reaches ``gap_rupture`` at ``t_rupture``.

    ``tau_r = t_rupture / ln((d_open - d_start) / (d_open - d_rupture))``; all gaps in m.
    """
    if not (math.isfinite(t_rupture) and t_rupture > 0):
        raise ConvergenceError(f"relaxation: the filament did not rupture within the relaxation run (rupture time "
                               f"{t_rupture!r}); relaxation_time is unidentifiable: lengthen FilamentSpec.relax_duration")
    if not gap_start < gap_rupture < gap_open:
        raise ConvergenceError(f"relaxation: need start gap {gap_start:.3g} m < gap_rupture {gap_rupture:.3g} m < open "
                               f"gap {gap_open:.3g} m; relaxation_time is unidentifiable")
    return t_rupture / math.log((gap_open - gap_start) / (gap_open - gap_rupture))


def exponential_misfit(t, gap, gap_start: float, gap_open: float, tau_r: float) -> dict[str, float]:
    """How far the relaxation trace is from the model's exponential: rms and max of the gap difference / open gap."""
    d = gap_open - (gap_open - gap_start) * np.exp(-np.asarray(t, float) / tau_r) - np.asarray(gap, float)
    return {"rms_relative": float(np.sqrt(np.mean(d ** 2)) / gap_open),
            "max_relative": float(np.max(np.abs(d)) / gap_open), "points": int(len(d))}


def filament_body_resistance(radius: float, length: float) -> tuple[float, str]:
    """Ohmic resistance [Ohm] of a silver cylinder of ``radius`` and ``length`` [m], with its source."""
    ag = materials.get("Ag")
    sigma = ag["electrical_conductivity"]
    return length / (sigma * math.pi * radius ** 2), f"rho_Ag t_ins/(pi r_f^2), rho_Ag: {ag.source('electrical_conductivity')}"


def _conductance_model(x, d, r_fil):
    ln_kappa, d_c_nm, ln_gc, ln_gleak = x
    g_gap = np.exp(ln_gc) / (1.0 + np.exp(np.minimum(2 * np.exp(ln_kappa) * (d - d_c_nm * 1e-9), 700)))
    return np.exp(ln_gleak) + g_gap / (1.0 + r_fil * g_gap)


def fit_conductance(gap, voltage, current, r_fil: float, d_min: float):
    """Tunnelling law from ``I/V`` versus gap: decay constant, contact gap and conductance, leakage."""
    gap, v, i = (np.asarray(a, float) for a in (gap, voltage, current))
    ok = (np.abs(v) > 1e-3 * np.max(np.abs(v))) & (i * v > 0)
    if ok.sum() < 8:
        raise ConvergenceError("conductance fit: fewer than 8 sweep samples with |V| > 0 and I/V > 0")
    d, g = gap[ok], i[ok] / v[ok]
    x0 = [math.log(5e9), (d_min + 0.1e-9) / 1e-9, math.log(float(g.max())), math.log(float(g.min()))]

    def res(x):
        return np.log(_conductance_model(x, d, r_fil)) - np.log(g)

    out = lsq.fit(res, x0, ["decay_constant", "contact_gap", "contact_conductance", "leakage_resistance"],
                  "conductance-gap fit")
    ln_k, dc, ln_gc, ln_gl = out.x
    values = {"decay_constant": math.exp(ln_k), "contact_gap": dc * 1e-9, "contact_conductance": math.exp(ln_gc),
              "leakage_resistance": math.exp(-ln_gl)}
    sigmas = {"decay_constant": out.sigma[0] * math.exp(ln_k), "contact_gap": out.sigma[1] * 1e-9,
              "contact_conductance": out.sigma[2] * math.exp(ln_gc),
              "leakage_resistance": out.sigma[3] * math.exp(-ln_gl)}
    return values, sigmas, out


def set_time_law(v, tau0: float, v0: float, tau_r: float, dissolution: bool = False):
    """Isothermal set time [s] of the model at cell voltage ``v`` [V] (inf where it never sets).

    One slow state: growth against relaxation, ``tau_r ln(r/(r - 1))`` with ``r = (tau_r/tau0) 4 sinh^2(V/2V0)``.
    With ``dissolution``: growth alone, ``tau0 / (2 sinh(|V|/V0))`` (|V| smoothed at 0), where it crosses the gap within the
    self-rupture time ``tau_r`` (else no set).
    """
    if dissolution:  # the model's drive, |V|/V0 smoothed at 0 (model.SMOOTH_ABS)
        y = np.asarray(v, dtype=float) / v0
        with np.errstate(divide="ignore", over="ignore"):
            t = tau0 / (2.0 * np.sinh(np.sqrt(y * y + model.SMOOTH_ABS**2) - model.SMOOTH_ABS))
        return np.where(t < tau_r, t, np.inf)
    r = tau_r / tau0 * 4.0 * np.sinh(np.asarray(v) / (2 * v0)) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(r > 1, tau_r * np.log(r / np.maximum(r - 1, 1e-300)), np.inf)


def fit_set_time(v, t_set, tau_r: float, v0: float | None = None, dissolution: bool = False):
    """``set_time_tau0`` [s], ``set_time_v0`` [V] from set times ``t_set`` [s] at voltages ``v`` [V].

    With ``v0`` [V] given, only ``set_time_tau0`` is fitted (V0 fixed by physics); ``dissolution`` selects
    the two-slow-state law of :func:`set_time_law`.
    """
    v, t_set = np.asarray(v, float), np.asarray(t_set, float)
    ok = np.isfinite(t_set) & (t_set > 0)
    v, t_set = v[ok], t_set[ok]
    if v0 is not None:
        if len(v) < 1:
            raise ConvergenceError("set-time fit: no finite set time; simulate more set voltages")

        def res1(x):
            t = set_time_law(v, math.exp(x[0]), v0, tau_r, dissolution)
            return np.log(np.where(np.isfinite(t), t, 1e300)) - np.log(t_set)

        x0 = math.log(float(np.median(t_set * np.exp(v / v0))))
        out = lsq.fit(res1, [x0], ["set_time_tau0"], "set-time fit (V0 fixed)")
        tau0 = math.exp(out.x[0])
        return {"set_time_tau0": tau0, "set_time_v0": v0}, {"set_time_tau0": out.sigma[0] * tau0}, out
    if len(v) < 3:
        raise ConvergenceError("set-time fit: fewer than 3 finite set times; simulate more set voltages")
    slope, icpt = np.polyfit(v, np.log(t_set), 1)
    if slope >= 0:
        raise ConvergenceError("set-time fit: set time does not fall with voltage; set_time_v0 is unidentifiable")

    def res(x):
        t = set_time_law(v, math.exp(x[0]), math.exp(x[1]), tau_r, dissolution)
        return np.log(np.where(np.isfinite(t), t, 1e300)) - np.log(t_set)

    out = lsq.fit(res, [icpt, math.log(-1 / slope)], ["set_time_tau0", "set_time_v0"], "set-time fit")
    tau0, v0 = math.exp(out.x[0]), math.exp(out.x[1])
    return ({"set_time_tau0": tau0, "set_time_v0": v0},
            {"set_time_tau0": out.sigma[0] * tau0, "set_time_v0": out.sigma[1] * v0}, out)


def refine_set_time(p: ModelParams, hold_voltage: float | None, v, t_set, fit_v0: bool = True):
    """Refit ``set_time_tau0``, ``set_time_v0`` so that the *full* model (Joule heating included) sets in ``t_set``.

    The isothermal law of :func:`fit_set_time` ignores the heating during the
    last part of the closure, which speeds it up; here each trial simulates
    the set transient (:func:`devicephys.compact.integrate.set_time`) with the
    activation energy re-derived from the hold voltage (kept as in ``p`` when
    ``hold_voltage`` is None).  Starts from ``p``; ``fit_v0`` False keeps ``set_time_v0``.
    """
    from dataclasses import replace

    from devicephys.compact import integrate

    v, t_set = np.asarray(v, float), np.asarray(t_set, float)
    ok = np.isfinite(t_set) & (t_set > 0)
    v, t_set = v[ok], t_set[ok]

    def params(x):
        q = replace(p, set_time_tau0=math.exp(x[0]), set_time_v0=math.exp(x[1]) if fit_v0 else p.set_time_v0)
        if hold_voltage is None:
            return q
        try:
            return replace(q, activation_energy=activation_energy_from_hold(q, hold_voltage))
        except ConvergenceError:
            return replace(q, activation_energy=0.0)

    def res(x):
        q = params(x)
        t = np.array([integrate.set_time(q, vi) for vi in v])
        return np.log(np.where(np.isfinite(t), t, 1e3 * t_set)) - np.log(t_set)

    if not fit_v0:
        out = lsq.fit(res, [math.log(p.set_time_tau0)], ["set_time_tau0"], "set-time refinement (full model, V0 fixed)")
        q = params(out.x)
        return q, {"set_time_tau0": out.sigma[0] * q.set_time_tau0}, out
    out = lsq.fit(res, [math.log(p.set_time_tau0), math.log(p.set_time_v0)], ["set_time_tau0", "set_time_v0"],
                  "set-time refinement (full model)")
    q = params(out.x)
    return q, {"set_time_tau0": out.sigma[0] * q.set_time_tau0, "set_time_v0": out.sigma[1] * q.set_time_v0}, out


def fit_thermal_resistance(voltage, current, temperature):
    """``R_th`` [K/W] from ``T_max - T_0 = R_th V I`` on the (quasi-static) sweep; T_0 = first sample."""
    power = np.asarray(voltage, float) * np.asarray(current, float)
    rise = np.asarray(temperature, float) - float(np.asarray(temperature)[0])
    ok = power > 1e-3 * power.max()
    if ok.sum() < 3 or power.max() <= 0:
        raise ConvergenceError("thermal fit: no sweep samples with Joule power; thermal_resistance is unidentifiable")
    p, r = power[ok], rise[ok]
    r_th = float(p @ r / (p @ p))
    resid = r - r_th * p
    sigma = float(np.sqrt(resid @ resid / (len(p) - 1) / (p @ p)))
    rel = resid / np.maximum(np.abs(r), 1e-12)
    return r_th, sigma, {"rms_kelvin": float(np.sqrt(np.mean(resid ** 2))), "max_relative": float(np.max(np.abs(rel))),
                         "points": int(len(p))}


def activation_energy_from_hold(p: ModelParams, hold_voltage: float) -> float:
    """Activation energy [J] that puts the model's hold voltage at ``hold_voltage`` [V]."""
    travel = p.gap_max - p.gap_min
    cold = model.growth_rate(p, hold_voltage, p.ambient_temperature) * p.relaxation_time / travel
    t_on = float(model.on_temperature(p, hold_voltage))
    denom = 1.0 / p.ambient_temperature - 1.0 / t_on
    if not (0 < cold < 1) or denom <= 0:
        raise ConvergenceError(
            f"activation_energy is unidentifiable: at the hold voltage {hold_voltage:.4g} V the cold growth/relaxation "
            f"ratio is {cold:.3g} (needs 0..1, i.e. hold < static threshold {model.static_threshold(p):.4g} V) and the "
            f"bridged filament heats to {t_on:.1f} K; check the filament result's hold voltage and heating")
    return units.k_B * math.log(1.0 / cold) / denom
