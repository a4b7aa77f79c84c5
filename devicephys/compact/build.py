"""Assemble a DeviceCard from a filament result and an emission result."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import xarray as xr

from devicephys import materials, units
from devicephys.compact import emission_point, fit, fit_emission, model
from devicephys.compact.card import DeviceCard
from devicephys.compact.model import ModelParams
from devicephys.compact.spec import CompactSpec
from devicephys.errors import ConvergenceError, SpecError
from devicephys.filament import extract


@dataclass
class _Params:
    """What the fit builds: values (SI), 1σ uncertainties, quality measures and sources, by parameter name."""

    values: dict[str, float] = field(default_factory=dict)
    sigmas: dict[str, float] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def result(self, p: ModelParams):
        return p, self.sigmas, self.quality, self.sources


def _filament_params(ds: xr.Dataset, spec: CompactSpec):
    """Steps 1-5 of :mod:`devicephys.compact.fit`: the physical model's parameters.

    A finite-element result (its FilamentSpec stored in the file) gives the laws' physical
    constants directly (:func:`_params_from_fem`); any other filament result is fitted
    curve by curve (:func:`_params_from_curves`).
    """
    fit.require(ds, fit.FILAMENT_VARIABLES, "filament result")
    fem = fem_spec(ds)
    spec = spec.model_copy(update={"rupture": rupture_mode(spec, fem)})
    if fem is None and spec.rupture == "dissolution":
        raise SpecError("CompactSpec.rupture = 'dissolution' needs a finite-element filament result (its "
                        "FilamentSpec gives the dissolution rate and the percolation threshold); this filament "
                        "result has none: use rupture: relaxation")
    return _params_from_curves(ds, spec) if fem is None else _params_from_fem(ds, fem, spec)


def rupture_mode(spec: CompactSpec, fem: dict[str, Any] | None) -> str:
    """The card's rupture law: ``spec.rupture``, or for 'auto' 'dissolution' where the finite-element
    filament's dissolved Ag returns in the field (its FilamentSpec's ``dissolved_return``; with
    ``gibbs_thomson_radius`` the card's stretch carries the same radius dependence), else 'relaxation'."""
    if spec.rupture != "auto":
        return spec.rupture
    two_states = fem is not None and fem.get("dissolved_return")
    return "dissolution" if two_states else "relaxation"


def _params_from_curves(ds: xr.Dataset, spec: CompactSpec):
    """Parameters fitted to the traces of a filament result that carries no FEM spec."""
    acc = _Params()
    relax, s_relax, o_relax = fit.fit_relaxation(ds["relax_time"].values, ds["relax_gap"].values)
    acc.values.update(gap_max=relax["gap_max"], relaxation_time=relax["relaxation_time"])
    acc.sigmas.update(gap_max=s_relax["gap_max"], relaxation_time=s_relax["relaxation_time"])
    acc.quality["relaxation"] = {"rms_relative": o_relax.rms, "max_relative": o_relax.max_abs,
                                 "points": o_relax.n_points}
    acc.sources.update(gap_max="fit of relax_gap(relax_time), exponential relaxation",
                       relaxation_time="fit of relax_gap(relax_time), exponential relaxation")
    r_fil = _gap_and_body(ds, acc)
    cond, s_cond, o_cond = fit.fit_conductance(ds["gap"].values, ds["voltage"].values, ds["current"].values,
                                               r_fil, acc.values["gap_min"])
    acc.values.update(cond)
    acc.sigmas.update(s_cond)
    acc.quality["conductance"] = {"rms_ln": o_cond.rms, "max_ln": o_cond.max_abs, "points": o_cond.n_points}
    acc.sources.update({k: "fit of ln(I/V) versus gap on the DC sweep" for k in cond})
    _set_time_law(ds, acc, None)
    r_th, s_rth, q_th = fit.fit_thermal_resistance(ds["voltage"].values, ds["current"].values,
                                                   ds["temperature_max"].values)
    acc.values["thermal_resistance"], acc.sigmas["thermal_resistance"] = r_th, s_rth
    acc.quality["thermal"] = q_th
    acc.sources["thermal_resistance"] = "fit of T_max - T_0 = R_th V I on the DC sweep"
    p = _thermal_and_model(ds, spec, acc)
    hold = float(ds["hold_voltage"])
    p = replace(p, activation_energy=fit.activation_energy_from_hold(p, hold))
    acc.sigmas["activation_energy"] = _propagate_ea(p, hold, acc.sigmas)
    acc.sources["activation_energy"] = "solved from FilamentResult.hold_voltage: g(V_h, T_on) tau_r = L"
    if spec.refine_set_time:
        p = _refine_set_time(ds, p, acc, hold)
        acc.sigmas["activation_energy"] = _propagate_ea(p, hold, acc.sigmas)
    return acc.result(p)


def _params_from_fem(ds: xr.Dataset, fem: dict[str, Any], spec: CompactSpec):
    """Parameters of a finite-element result: the FEM's own physical constants where it has them."""
    acc = _Params()
    t_r, d_0 = float(ds["relaxation_time"]), float(ds["relax_gap"].values[0])
    d_open, d_r = float(np.nanmax(ds["gap"].values)), float(fem["gap_rupture"])
    acc.values["gap_max"] = d_open
    acc.sources["gap_max"] = "largest gap of the filament sweep (the open, pristine gap)"
    if spec.rupture == "dissolution":
        _dissolution(ds, fem, spec, acc)
    else:
        tau_r = fit.relaxation_from_rupture(t_r, d_0, d_open, d_r)
        acc.values["relaxation_time"] = tau_r
        acc.quality["relaxation"] = {"method": "self-rupture time matched",
                                     **fit.exponential_misfit(ds["relax_time"].values, ds["relax_gap"].values, d_0,
                                                              d_open, tau_r)}
        acc.sources["relaxation_time"] = (f"matched to the FEM self-rupture time {t_r:.4g} s: exponential relaxation "
                                          f"from the start gap reaches gap_rupture = {d_r:.3g} m then")
    r_fil = _gap_and_body(ds, acc)
    cond, c_src, c_sig = fem_conductance(ds, fem, r_fil, acc.values["gap_min"])
    acc.values.update(cond)
    acc.sources.update(c_src)
    acc.sigmas.update(c_sig)
    v0, v0_source = fem_voltage_scale(ds, fem, acc.values["gap_max"], float(ds["temperature_max"].values[0]))
    _set_time_law(ds, acc, v0)
    acc.sources["set_time_v0"] = v0_source
    acc.values["thermal_resistance"] = float(ds["thermal_resistance"])
    if _stated(ds["thermal_resistance"]) > 0:
        acc.sigmas["thermal_resistance"] = _stated(ds["thermal_resistance"])
    acc.sources["thermal_resistance"] = ("FilamentResult.thermal_resistance (step response of the bridged filament; "
                                         "the FEM sweep flickers and is not quasi-static)")
    p = _thermal_and_model(ds, spec, acc)
    p = replace(p, activation_energy=float(fem["migration_barrier"]))
    acc.sources["activation_energy"] = "FilamentSpec.migration_barrier (activation energy of Ag+ hopping in the FEM)"
    if spec.refine_set_time:
        p = _refine_set_time(ds, p, acc, None)
    return acc.result(p)


def dissolution_constants(fem: dict[str, Any], ambient: float, rupture_time_fraction: float
                          ) -> tuple[dict[str, float], dict[str, str]]:
    """The second slow state's card values (SI) and sources from a FilamentSpec (as a dict) at ``ambient`` [K].

    k_d = dissolution_frequency exp(-dissolution_barrier / k_B T_0), c_p and w_p as given, the self-rupture
    time t_r (the oldest stretch's thinning from 1 to c_p: (1 - c_p)/k_d at the zero-order rate) as
    ``relaxation_time`` and the numerical ``rupture_time`` = fraction x t_r.  With the FEM's
    ``gibbs_thomson_radius`` also the ``capillary_number`` gamma Omega / (k_B T_0 r_ch) (:func:`_capillary_number`).
    """
    missing = [k for k in ("dissolution_frequency", "dissolution_barrier", "percolation_threshold", "percolation_width")
               if k not in fem]
    if missing:
        raise SpecError(f"CompactSpec.rupture = 'dissolution': the filament result's FilamentSpec lacks {missing}; "
                        "rerun the filament stage with this version, or use rupture: relaxation")
    k_d = float(fem["dissolution_frequency"]) * math.exp(-float(fem["dissolution_barrier"]) / (units.k_B * ambient))
    c_p = float(fem["percolation_threshold"])
    capillary, capillary_source = _capillary_number(fem, ambient, k_d)
    t_r = model.thinning_time(k_d, c_p, capillary)
    values = {"dissolution_rate": k_d, "percolation_fraction": c_p, "percolation_width": float(fem["percolation_width"]),
              "relaxation_time": t_r, "rupture_time": rupture_time_fraction * t_r}
    values["return_rate"], return_source = _return_rate(fem, ambient)
    thinning = "(1 - percolation_fraction) / dissolution_rate"
    if capillary > 0:
        values["capillary_number"] = capillary
        thinning = ("int_{percolation_fraction}^1 dm / (dissolution_rate s exp(capillary_number (1/s - 1))), "
                    "s = sqrt(m)")
    sources = {
        "dissolution_rate": (f"FilamentSpec.dissolution_frequency x exp(-dissolution_barrier / k_B T_0) at T_0 = "
                             f"{ambient:.4g} K (Gibbs-Thomson dissolution of the FEM; not fitted)"),
        "percolation_fraction": "FilamentSpec.percolation_threshold (the FEM's insulator-metal crossover)",
        "percolation_width": "FilamentSpec.percolation_width (the FEM's insulator-metal crossover)",
        "relaxation_time": f"{thinning}: the oldest stretch's self-rupture time",
        "rupture_time": "CompactSpec.rupture_time_fraction x relaxation_time (numerical: the rupture is abrupt)",
        "return_rate": return_source}
    if capillary > 0:
        sources["capillary_number"] = capillary_source
    return values, sources


def _capillary_number(fem: dict[str, Any], ambient: float, rate: float) -> tuple[float, str]:
    """The oldest stretch's Gibbs-Thomson number gamma Omega / (k_B T_0 r_ch) [1] and its source; 0 where the
    FEM dissolves at the zero-order rate (``gibbs_thomson_radius`` off).

    gamma is the FilamentSpec's ``interface_energy`` or the active electrode's metal's surface energy, Omega = M /
    (rho N_A) its atomic volume (the FEM's own rule).  The FEM caps the dissolution at the barrier-less
    ``dissolution_frequency``; the card carries no cap, so a stretch whose factor would reach it at the percolation
    threshold (at T_0) is refused.
    """
    if not fem.get("gibbs_thomson_radius"):
        return 0.0, ""
    from scipy.constants import N_A

    name = fem.get("active_electrode", "Ag")
    metal = materials.get(name)
    gamma = fem.get("interface_energy")
    if gamma is None and "surface_energy" not in metal.properties:
        raise SpecError(f"CompactSpec.rupture = 'dissolution': the filament result's gibbs_thomson_radius has no "
                        f"interface_energy and {name!r} no surface energy in materials.py; rerun the filament stage "
                        "with interface_energy, or use rupture: relaxation")
    source = ("FilamentSpec.interface_energy" if gamma is not None
              else f"the surface energy of {name} ({metal.source('surface_energy')})")
    gamma = float(gamma if gamma is not None else metal["surface_energy"])
    omega = float(metal["molar_mass"]) / (float(metal["density"]) * N_A)
    radius = float(fem["channel_radius"])
    value = gamma * omega / (units.k_B * ambient * radius)
    c_p = float(fem["percolation_threshold"])
    peak = rate * float(model.capillary_factor(c_p, c_p, value))
    if peak > float(fem["dissolution_frequency"]):
        raise SpecError(f"CompactSpec.rupture = 'dissolution': the stretch's Gibbs-Thomson rate at percolation, "
                        f"{peak:.3g} 1/s, exceeds the FEM's cap dissolution_frequency = "
                        f"{fem['dissolution_frequency']:.3g} 1/s, which the card does not carry; "
                        "use rupture: relaxation")
    return value, (f"gamma Omega / (k_B T_0 r_ch): gamma {gamma:.4g} J/m^2 from {source}, Omega = M/(rho N_A) "
                   f"{omega:.4g} m^3 of {name}, r_ch = FilamentSpec.channel_radius {radius:.4g} m, T_0 {ambient:.4g} K "
                   "(the FEM's gibbs_thomson_radius, not fitted)")


def _return_rate(fem: dict[str, Any], ambient: float) -> tuple[float, str]:
    """The field's return of dissolved Ag [1/s] from the FilamentSpec's constants, and its source.

    The FEM returns the dissolved Ag+ at its Mott-Gurney drift speed over the channel radius,
    ``|v(E, T)|/l = (2 a nu / l) exp(-E_a/k_B T) sinh(e a E / 2 k_B T)``; the card's return is
    ``k_f 2 sinh(|V|/V0) F(T)``, so ``k_f = (a nu / l) exp(-E_a / k_B T_0)``, with the card's V0 in the
    drive (the FEM's field taken as the cell's, V/L: ``e a / (2 k_B T L) = 1/V0`` of Mott-Gurney hopping over
    the whole gap).  0 where the FEM's dissolved Ag is an immobile pool (``dissolved_return`` false).
    """
    if not fem.get("dissolved_return", False):
        return 0.0, "FilamentSpec.dissolved_return is false: the FEM's dissolved Ag is an immobile pool, no return"
    need = ("hop_distance", "attempt_frequency", "migration_barrier", "channel_radius")
    missing = [k for k in need if k not in fem]
    if missing:
        raise SpecError(f"CompactSpec.rupture = 'dissolution': the filament result's FilamentSpec lacks {missing}; "
                        "rerun the filament stage with this version")
    a, nu, e_a, ell = (float(fem[k]) for k in need)
    k_f = a * nu / ell * math.exp(-e_a / (units.k_B * ambient))
    where = ""
    if fem.get("dissolved_spread"):
        where = ("; the FEM follows the dissolved Ag through the matrix (dissolved_spread) and returns it from the "
                 "shell at the channel's wall, the card keeps it in the pool beside the channel (no spread)")
    elif fem.get("dissolved_escape"):
        where = "; the FEM's pool also escapes at D / channel_radius^2 (dissolved_escape), the card's does not"
    if fem.get("dissolved_return_diffusion"):
        where += ("; the FEM's return also diffuses, at D / channel_radius^2 at zero field "
                  "(dissolved_return_diffusion), the card's is the drift alone")
    return k_f, (f"FilamentSpec: the FEM's Mott-Gurney return of dissolved Ag+ over the channel radius, "
                 f"hop_distance x attempt_frequency / channel_radius x exp(-migration_barrier / k_B T_0) at "
                 f"T_0 = {ambient:.4g} K (not fitted; its drive 2 sinh(|V|/V0) takes the FEM's field as the cell's, "
                 f"V/L){where}")


def with_dissolution(card: DeviceCard, fem: dict[str, Any], rupture_time_fraction: float = 1e-4) -> DeviceCard:
    """``card`` with the second slow state of the FilamentSpec ``fem`` (a dict) at the card's ambient.

    Its static threshold and hold are recomputed by the two-state law; the rest of the card is kept, but
    not its spectrum, which belongs to the old threshold (the photon numbers are the old operating
    point's: a base card for the measured fit, which recomputes them).
    """
    values, sources = dissolution_constants(fem, card.value("ambient_temperature"), rupture_time_fraction)
    p = replace(card.model_params(), **values)
    values.update(threshold_voltage=model.static_threshold(p), hold_voltage=model.static_hold(p))
    sources.update(threshold_voltage="model: g(V, T_0) t_r = L (static threshold)",
                   hold_voltage=("model: the lower of g(V, T_on(V)) t_r = L and the return's k_f h(V) F beta (1 - c_p) = k_d "
                                 "(static hold)" if p.return_rate > 0 else "model: g(V, T_on(V)) t_r = L (static hold)"))
    kept = {k: e.get("source", "") for k, e in card.parameters.items()}
    return DeviceCard.from_values(card.name, {**card.values(), **values}, {**kept, **sources},
                                  provenance=dict(card.provenance))


def _dissolution(ds: xr.Dataset, fem: dict[str, Any], spec: CompactSpec, acc: _Params) -> None:
    """The second slow state from the FEM's own constants: dissolution rate, percolation, self-rupture time."""
    values, sources = dissolution_constants(fem, float(ds["temperature_max"].values[0]), spec.rupture_time_fraction)
    acc.values.update(values)
    acc.sources.update(sources)
    acc.quality["relaxation"] = {"method": "dissolution of the oldest stretch (not fitted)",
                                 "self_rupture_time_card_s": values["relaxation_time"],
                                 "self_rupture_time_filament_result_s": float(ds["relaxation_time"])}


def _stated(var: xr.DataArray) -> float:
    """The uncertainty a filament result states for a scalar (its ``uncertainty`` attribute) [its unit]; 0 where it
    states none or a non-finite one."""
    value = float(var.attrs.get("uncertainty", math.nan))
    return value if math.isfinite(value) and value > 0 else 0.0


def _gap_and_body(ds: xr.Dataset, acc: _Params) -> float:
    """gap_min and the filament body's resistance [Ohm] (returned)."""
    acc.values["gap_min"] = float(np.nanmin(ds["gap"].values))
    acc.sources["gap_min"] = "minimum of the filament gap trace"
    r_fil, r_src = fit.filament_body_resistance(float(ds["filament_radius_final"]), float(ds["insulator_thickness"]))
    acc.values["filament_resistance"], acc.sources["filament_resistance"] = r_fil, r_src
    return r_fil


def _set_time_law(ds: xr.Dataset, acc: _Params, v0: float | None) -> None:
    """tau0 (and V0 unless given) of t_set = tau0 exp(-V/V0), least squares on the set times."""
    st, s_st, o_st = fit.fit_set_time(ds["set_voltage"].values, ds["set_time"].values, acc.values["relaxation_time"], v0,
                                      dissolution=acc.values.get("dissolution_rate", 0.0) > 0)
    acc.values.update(st)
    acc.sigmas.update(s_st)
    acc.quality["set_time"] = {"rms_ln": o_st.rms, "max_ln": o_st.max_abs, "points": o_st.n_points}
    acc.sources.update({k: "fit of set_time(set_voltage), isothermal model law" for k in st})


def _thermal_and_model(ds: xr.Dataset, spec: CompactSpec, acc: _Params) -> ModelParams:
    """Thermal capacitance, ambient and floor width; the model's parameters (activation energy still 0)."""
    name = "thermal_time_constant_mean" if spec.thermal_time == "moment" else "thermal_time_constant"
    if name not in ds:
        raise SpecError(f"CompactSpec.thermal_time = {spec.thermal_time!r} needs the filament result's {name}, which "
                        "this result lacks (written by an earlier version); rerun the filament stage or set "
                        "thermal_time: crossing", field="thermal_time")
    tau, r_th = float(ds[name]), acc.values["thermal_resistance"]
    acc.values["thermal_capacitance"] = tau / r_th
    acc.sources["thermal_capacitance"] = f"FilamentResult.{name} / fitted thermal_resistance"
    # the stated uncertainties of tau_th and R_th, relative errors added in quadrature (independent)
    rel = [_stated(ds[name]) / tau, acc.sigmas.get("thermal_resistance", 0.0) / r_th]
    if any(x > 0 for x in rel) and all(math.isfinite(x) for x in rel):
        acc.sigmas["thermal_capacitance"] = acc.values["thermal_capacitance"] * math.hypot(*rel)
        acc.sources["thermal_capacitance"] += ("; its uncertainty from the two's stated uncertainties, relative "
                                               "errors added in quadrature")
    acc.values["ambient_temperature"] = float(ds["temperature_max"].values[0])
    acc.sources["ambient_temperature"] = "first sample of temperature_max (drive off)"
    acc.values["floor_width"] = spec.floor_width
    acc.sources["floor_width"] = "CompactSpec.floor_width (numerical smoothing)"
    return ModelParams(activation_energy=0.0, **{k: acc.values[k] for k in ModelParams.names()
                                                  if k in acc.values and k != "activation_energy"})


def _refine_set_time(ds: xr.Dataset, p: ModelParams, acc: _Params, hold: float | None) -> ModelParams:
    """Refit the set-time law by simulating the full model (heating included); V0 only when ``hold`` is given."""
    p, s_ref, o_ref = fit.refine_set_time(p, hold, ds["set_voltage"].values, ds["set_time"].values,
                                          fit_v0=hold is not None)
    acc.sigmas.update(s_ref)
    acc.quality["set_time_full_model"] = {"rms_ln": o_ref.rms, "max_ln": o_ref.max_abs, "points": o_ref.n_points}
    acc.sources.update({k: "fit of set_time(set_voltage) by simulating the full model (heating included)" for k in s_ref})
    return p


def fem_conductance(ds: xr.Dataset, fem: dict[str, Any], r_fil: float, gap_min: float
                    ) -> tuple[dict[str, float], dict[str, str], dict[str, float]]:
    """Conductance parameters for a finite-element filament result, with their sources.

    The FEM describes the channel as a percolating continuum (σ(c)), with no
    tunnelling across the gap, so its I/V versus gap cannot determine a
    tunnelling law.  The gap law therefore comes from physics and the FEM's
    end points: the decay constant from the Simmons low-bias barrier of the
    active electrode's work function, ``kappa = sqrt(2 m_e phi)/hbar``; the
    contact conductance so that the cell at ``gap_min`` has the FEM's ON
    resistance (``R_on = R_fil + 1/G_gap(gap_min)``, leakage aside); the contact gap at the FEM's bridging
    criterion ``gap_on``; the leakage at the FEM's OFF resistance.  Returns values, sources and 1-sigma
    uncertainties: the contact conductance's, from the uncertainty the filament result states for its R_on.
    """
    metal = materials.get(fem.get("active_electrode", "Ag"))
    phi = metal["work_function"]
    kappa = math.sqrt(2 * units.m_e * phi) / units.hbar
    r_on, r_off = float(ds["resistance_on"]), float(ds["resistance_off"])
    if not (math.isfinite(r_on) and r_on > r_fil):
        raise SpecError(f"filament result: resistance_on = {r_on:.4g} Ohm is not above the filament body resistance "
                        f"{r_fil:.4g} Ohm; the contact conductance is undefined (check filament_radius_final)")
    if not (math.isfinite(r_off) and r_off > r_on):
        raise SpecError(f"filament result: resistance_off = {r_off!r} Ohm must be finite and above R_on; rerun the "
                        "filament stage with a sweep that ruptures the filament")
    d_c = float(fem["gap_on"])
    values = {"decay_constant": kappa,
              "contact_conductance": contact_conductance_for(r_on, r_off, r_fil, kappa, gap_min, d_c),
              "contact_gap": d_c, "leakage_resistance": r_off}
    sources = {"decay_constant": f"Simmons: sqrt(2 m_e phi)/hbar, phi = {fem.get('active_electrode', 'Ag')} work "
                                 f"function ({metal.source('work_function')})",
               "contact_conductance": "G_cell(gap_min) = 1/FilamentResult.resistance_on, with the filament body "
                                      "resistance in series and the leakage in parallel",
               "contact_gap": "FilamentSpec.gap_on (the FEM's bridging criterion)",
               "leakage_resistance": "FilamentResult.resistance_off (insulator leakage in the FEM)"}
    sigmas: dict[str, float] = {}
    s_on = _stated(ds["resistance_on"])
    if s_on > 0:
        # G_c is smooth in R_on above R_fil
        s_g = linear_sigma(lambda r: contact_conductance_for(r, r_off, r_fil, kappa, gap_min, d_c), r_on, s_on)
        if math.isfinite(s_g):
            sigmas["contact_conductance"] = s_g
            how = ds["resistance_on"].attrs.get("uncertainty_method", "")
            sources["contact_conductance"] += (f"; its uncertainty is FilamentResult.resistance_on's ({s_on:.4g} Ohm"
                                               + (f": {how}" if how else "") + "), propagated linearly")
    return values, sources, sigmas


def linear_sigma(f, x: float, sigma: float) -> float:
    """1-sigma of ``f(x)`` for a 1-sigma ``sigma`` of ``x``, propagated linearly: |f'(x)| sigma, the derivative by
    central differences over 1e-6 of ``x``; NaN where they are not finite."""
    h = 1e-6 * abs(x)
    slope = (f(x + h) - f(x - h)) / (2 * h)
    return abs(slope) * sigma if math.isfinite(slope) else math.nan


def contact_conductance_for(r_on: float, r_off: float, r_fil: float, kappa: float, gap_min: float,
                            d_c: float) -> float:
    """The card's contact conductance G_c [S] that gives the cell ``r_on`` [Ohm] at ``gap_min`` [m].

    ``R_on = 1/(1/R_off + G_gap/(1 + R_fil G_gap))`` with ``G_gap = G_c/(1 + exp(2 kappa (gap_min - d_c)))``
    solved for G_c; NaN where ``r_on`` is not above the filament body's ``r_fil`` in parallel with ``r_off``
    (no positive gap conductance gives it).
    """
    g_series = 1.0 / r_on - 1.0 / r_off  # G_cell minus the leakage = G_gap / (1 + R_fil G_gap)
    if not (g_series > 0 and r_fil * g_series < 1.0):
        return math.nan
    g_gap = g_series / (1.0 - r_fil * g_series)
    return g_gap * (1.0 + math.exp(2 * kappa * (gap_min - d_c)))


def hopping_voltage_scale(fem: dict[str, Any], gap_open: float, ambient: float) -> float:
    """V0 [V] of the set-time law implied by the FEM's Mott-Gurney hopping across the open gap.

    The forward hop rate grows as exp(q a E / (2 k_B T)) with E = V / d_open, i.e.
    exp(V / V0) with V0 = 2 k_B T d_open / (q a).
    """
    return 2.0 * units.k_B * ambient * gap_open / (units.e * float(fem["hop_distance"]))


def fem_voltage_scale(ds: xr.Dataset, fem: dict[str, Any], gap_open: float, ambient: float) -> tuple[float, str]:
    """V0 [V] of the set-time law implied by the FEM's set kinetics, and its source text.

    Without charge transfer the hopping's (:func:`hopping_voltage_scale`).  With the FEM's ionic
    series circuit (``exchange_current_density``), V0 = dV / d ln I of that circuit across the open
    gap at the FEM sweep's threshold voltage: the hopping's share plus the two interfaces'
    (:meth:`devicephys.filament.electrochem.SeriesCell.voltage_scale`; the channel area cancels).
    Refuses (SpecError) where an inert cathode's nucleation takes most of the FEM's set times
    (:func:`nucleation_share` ≥ 1/2): the card's one relaxing gap cannot represent a delay that
    integrates without leak.
    """
    if fem.get("exchange_current_density") is None:
        floor = ""
        if fem.get("anode_nernst") and fem.get("anode_nernst_split", "layer") == "hopping":
            floor = ("; the FEM's anode layer holds the electrode's rest and the ions hop in the whole gap voltage "
                     "(anode_nernst, split 'hopping'): its filled channel grows only above gamma Omega/(e r_ch), a "
                     "floor the card's law does not have")
        elif fem.get("anode_nernst"):
            floor = ("; the FEM's anode layer takes up to k_B T ln(c_src/c_eq) of the gap voltage (anode_nernst), "
                     "below which its cell does not set: the card's law has no such floor")
        return (hopping_voltage_scale(fem, gap_open, ambient),
                "Mott-Gurney hopping of the FEM: 2 k_B T_0 d_open / (q a), a = FilamentSpec.hop_distance (not fitted)"
                + floor)
    from devicephys.filament.electrochem import SeriesCell
    from devicephys.filament.spec import FilamentSpec

    filament = FilamentSpec.from_dict(fem)
    v_th = float(ds["threshold_voltage"])
    cell = SeriesCell.from_spec(filament, math.pi * filament.channel_radius**2)
    limited = nucleation_share(ds)
    if filament.cathode_nucleation and limited >= 0.5:
        raise SpecError(
            f"the filament result's set times are mostly its inert cathode's nucleation (median {limited:.0%} of each "
            f"set time; the nucleation law's voltage scale is {_nucleation_voltage_scale(filament, cell, v_th, gap_open, ambient):.3g} V): "
            "the compact model has no nucleation state (its gap relaxes between pulses, the nucleation integral does "
            "not), so no set-time law of the card represents them; fit the card to set_voltages where the growth "
            "limits the set, or to a cell without cathode_nucleation")
    scale = cell.voltage_scale(v_th, gap_open, ambient)
    return scale["total"], (f"ionic series circuit of the FEM at its threshold voltage {v_th:.4g} V across the open "
                            f"gap {gap_open:.4g} m at {ambient:.4g} K: hopping {scale['hopping']:.4g} V + interfaces "
                            f"{scale['anode'] + scale['tip']:.4g} V (Butler-Volmer, j0 = "
                            f"{filament.exchange_current_density:.4g} A/m^2, alpha = {filament.transfer_coefficient:.3g}; "
                            "not fitted)")


def nucleation_share(ds: xr.Dataset) -> float:
    """[1] Median share of the FEM's set times spent waiting for the inert cathode to nucleate (0 without it)."""
    if "set_nucleation_time" not in ds:
        return 0.0
    t_set, t_nuc = ds["set_time"].values, ds["set_nucleation_time"].values
    ok = np.isfinite(t_set) & np.isfinite(t_nuc) & (t_set > 0)
    return float(np.median(t_nuc[ok] / t_set[ok])) if ok.any() else 0.0


def _nucleation_voltage_scale(filament, cell, v_th: float, gap_open: float, ambient: float) -> float:
    """V0 [V] of a nucleation-limited set: k_B T / ((N_c + alpha) z e) over d eta_fc / dV of the ionic circuit
    at ``v_th`` [V] across ``gap_open`` [m] at ``ambient`` [K]."""
    from devicephys.filament.electrochem import Nucleation

    dv = 1e-3 * v_th
    slope = (cell.solve(v_th + dv, gap_open, ambient)[1][2] - cell.solve(v_th - dv, gap_open, ambient)[1][2]) / (2 * dv)
    return Nucleation.from_spec(filament).voltage_scale(ambient) / slope


def fem_spec(ds: xr.Dataset) -> dict[str, Any] | None:
    """The FilamentSpec (as a dict) stored in a finite-element ``filament.nc``; None for other results."""
    import json

    if ds.attrs.get("devicephys_kind") != "filament" or "spec" not in ds.attrs:
        return None
    spec = json.loads(ds.attrs["spec"])
    return spec if {"migration_barrier", "gap_rupture", "gap_on", "hop_distance"} <= spec.keys() else None


def _propagate(fn, p: ModelParams, sigmas: dict[str, float]) -> float:
    """1-sigma of ``fn(p)`` by linear propagation of independent parameter errors (finite differences)."""
    base = fn(p)
    total = 0.0
    for name, s in sigmas.items():
        if s > 0 and name in ModelParams.names():
            step = 1e-6 * abs(getattr(p, name)) or 1e-12
            total += ((fn(replace(p, **{name: getattr(p, name) + step})) - base) / step * s) ** 2
    return math.sqrt(total)


def _propagate_ea(p: ModelParams, hold: float, sigmas: dict[str, float]) -> float:
    """1-sigma of the activation energy [J] from the errors of its inputs."""
    inputs = {k: sigmas.get(k, 0.0) for k in ("set_time_tau0", "set_time_v0", "relaxation_time", "thermal_resistance")}
    return _propagate(lambda q: fit.activation_energy_from_hold(q, hold), p, inputs)


def neuron_parameters(p: ModelParams, spec: CompactSpec) -> tuple[dict[str, float], dict[str, str]]:
    """Switch thresholds, resistances and the reference LIF circuit (SI) implied by ``p``, with sources."""
    v_th, v_h = model.static_threshold(p), model.static_hold(p)
    r_on, r_off = 1 / float(model.cell_conductance(p, p.gap_min)), 1 / float(model.cell_conductance(p, p.gap_max))
    v_in = spec.input_overdrive * v_th
    # automatic: a hundred times the smallest R_s that lets the switch release (ON divider below V_h), and never
    # above the geometric mean of R_on and R_off (R_s << R_off keeps the charging level near V_in)
    r_s = spec.series_resistance or min(math.sqrt(r_on * r_off), 100.0 * r_on * max(v_in / v_h - 1.0, 1.0))
    if v_in * r_on / (r_s + r_on) >= v_h or v_in * r_off / (r_s + r_off) <= v_th:
        raise SpecError(f"CompactSpec.series_resistance = {r_s:.4g} Ohm: the reference neuron would not oscillate "
                        f"(needs R_on (V_in/V_h - 1) < R_s with V_in = {v_in:.4g} V, and R_s << R_off); "
                        "choose a value between those bounds or 0 for automatic")
    values = {"threshold_voltage": v_th, "hold_voltage": v_h, "resistance_on": r_on, "resistance_off": r_off,
              "neuron_capacitance": spec.neuron_capacitance, "series_resistance": r_s, "neuron_input_voltage": v_in,
              "spike_charge": spec.neuron_capacitance * (v_th - v_h),
              "switching_time": float(fit.set_time_law(v_in, p.set_time_tau0, p.set_time_v0, p.relaxation_time,
                                                       p.dissolves)),
              "latch_width": spec.latch_width_fraction * (v_th - v_h)}
    sources = {"threshold_voltage": ("model: g(V, T_0) t_r = L (static threshold: the tip crosses the gap within one "
                                     "self-rupture time)" if p.dissolves else "model: g(V, T_0) tau_r = L (static threshold)"),
               "hold_voltage": (("model: the lower of g(V, T_on(V)) t_r = L and the field's return k_f h(V) F(T_on) "
                                 "beta(gap_min) (1 - c_p) = k_d (static hold)" if p.capillary_number == 0 else
                                 "model: the lower of g(V, T_on(V)) t_r = L and the field's return k_f h(V) F(T_on) "
                                 "beta(gap_min) = k_d min f(m)/(1 - m) over c_p <= m < 1, f the stretch's "
                                 "Gibbs-Thomson factor (static hold)") if p.dissolves and p.return_rate > 0
                                else "model: g(V, T_on(V)) t_r = L (static hold)" if p.dissolves
                                else "model: g(V, T_on(V)) tau_r = L (static hold)"),
               "resistance_on": "model: 1/G_cell(gap_min)", "resistance_off": "model: 1/G_cell(gap_max)",
               "neuron_capacitance": "CompactSpec.neuron_capacitance",
               "series_resistance": "CompactSpec.series_resistance, or automatic: min(sqrt(R_on R_off), 100 R_on (V_in/V_h - 1))",
               "neuron_input_voltage": "CompactSpec.input_overdrive x threshold_voltage",
               "spike_charge": "C (V_th - V_h)", "switching_time": "model: isothermal set time of the filament at the reference input voltage "
                                 "(fit.set_time_law at neuron_input_voltage)",
               "latch_width": "CompactSpec.latch_width_fraction x (V_th - V_h)"}
    return values, sources


def spike_waveform(p: ModelParams, neuron: dict[str, float], samples: int = 4001) -> dict[str, np.ndarray]:
    """The reference LIF spike: the capacitor's discharge through the bridged cell, sampled in time.

    With the switch ON (gap ``gap_min``, cell ``R_on``) the capacitor C, fed by
    ``V_in`` through ``R_s``, relaxes from V_th towards ``V_on = V_in R_on/(R_s + R_on)``
    with ``tau = C R_s R_on/(R_s + R_on)`` until it reaches V_h (the exact solution
    of the reference circuit of :func:`devicephys.compact.neuron.lif_analytic`).
    Returns ``time`` [s], ``voltage`` [V], ``current`` [A] through the cell and ``gap`` [m].
    """
    r_on, r_s, c = neuron["resistance_on"], neuron["series_resistance"], neuron["neuron_capacitance"]
    v_th, v_h, v_in = neuron["threshold_voltage"], neuron["hold_voltage"], neuron["neuron_input_voltage"]
    v_on = v_in * r_on / (r_s + r_on)
    tau = c * r_s * r_on / (r_s + r_on)
    t = np.linspace(0.0, tau * math.log((v_th - v_on) / (v_h - v_on)), samples)
    v = v_on + (v_th - v_on) * np.exp(-t / tau)
    gap = np.full_like(t, p.gap_min)
    return {"time": t, "voltage": v, "current": np.asarray(model.cell_current(p, gap, v)), "gap": gap}


def _optics(p: ModelParams, em: xr.Dataset, neuron: dict[str, float]):
    eta_v, eta_s, eta_q = fit_emission.fit_efficiency(em)
    lam_v, lam_s, lam_q = fit_emission.fit_peak_wavelength(em)
    p = replace(p, **eta_v, **lam_v)
    v_op = neuron["threshold_voltage"]
    d_op, t_op, d_src = emission_point.emitting_gap(p)
    fano = 1.0 - t_op  # shot noise of one channel of transmission T: 2 e I (1 - T)
    kernel = emission_point.optical_kernel(em)
    op = emission_point.operating_point(kernel, d_op, v_op)
    op["photons_per_electron"] *= fano
    # the width of this spectrum, never another bias's: where the window cuts the half maximum, a lower bound
    width, cut = fit_emission.fwhm_in_window(kernel.wavelength, op["spectrum"])
    width_src = f"FWHM of the spectrum recomputed at gap {d_op:.4g} m, bias {v_op:.4g} V" + (f" ({cut})" if cut else "")
    spike = spike_waveform(p, neuron)
    wave = (spike["time"], spike["gap"], spike["voltage"], spike["current"])
    n_spike = fano * model.spike_photons(lambda d, v: emission_point.efficiency_along(kernel, np.full_like(d, d_op), v),
                                         *wave)
    # the card's law along the same waveform, for comparison (NaN: the spike leaves the law's range)
    n_law = model.spike_photons(lambda d, v: model.quantum_efficiency(p, d, v, out_of_range="nan"), *wave)
    values = {"photons_per_electron": op["photons_per_electron"], "photons_per_spike": n_spike,
              "peak_wavelength": op["peak_wavelength"], "spectral_width": width, "emission_gap": d_op,
              "emission_transmission": t_op, **eta_v, **lam_v}
    solver = em.attrs.get("solver_engine", "fdtd")
    sources = {**{k: f"{v}; times the one-channel Fano factor 1 - T = {fano:.3g}" if k == "photons_per_electron" else v
                  for k, v in op["sources"].items()},
               "photons_per_spike": ("(1 - T) x integral of eta(d_emit, V(t)) I(t)/e dt over the reference spike's waveform "
                                     "(neuron_capacitance discharging from threshold_voltage to hold_voltage through the "
                                     "bridged cell, fed through series_resistance): the spike's electrons cross the "
                                     "junction at the emitting gap, eta from the spectra physics of the emission result "
                                     f"({solver} engine; {kernel.source})"),
               "spectral_width": width_src, "emission_gap": f"{d_src}; optics by the {solver} engine",
               "emission_transmission": "G_gap(emission_gap) / G0"}
    quality = {"efficiency": eta_q, "peak_wavelength": lam_q,
               "spike": {"duration_s": float(spike["time"][-1]), "charge_C": float(np.trapezoid(spike["current"], spike["time"])),
                         "photons_per_spike_per_farad": n_spike / neuron["neuron_capacitance"],
                         "photons_per_spike_emission_law": n_law,
                         "photons_per_electron_emission_law": float(model.quantum_efficiency(p, d_op, v_op,
                                                                                               out_of_range="nan"))}}
    if kernel.hot_weight > 0:
        values.update(hot_electron_temperature=kernel.hot_temperature, hot_electron_weight=kernel.hot_weight)
        sources.update(hot_electron_temperature="EmissionSpec.hot_electron_temperature of the emission result",
                       hot_electron_weight="EmissionSpec.hot_electron_weight of the emission result")
    sources.update({k: "linear least squares of ln(eta) - 2 ln(1 - V_c/V) over (gap, bias), all points above V_c"
                    for k in eta_s})
    sources.update({k: "linear least squares of peak_wavelength(gap)" for k in lam_s})
    sources.update(eta_gap_lo="gap range of the emission result", eta_gap_hi="gap range of the emission result",
                   eta_bias_lo="photon cutoff V_c (below the stored biases the yield is recomputed from the spectra "
                               "physics), or the lowest stored bias with a hot-electron channel",
                   eta_bias_hi="highest bias of the emission result",
                   eta_bias_cut="h c/(e lambda_max): bias below which no window wavelength can be emitted")
    per_spike = fano * emission_point.spike_spectrum(kernel, d_op, spike["time"], spike["voltage"], spike["current"])
    spectrum = {"wavelength": kernel.wavelength.tolist(), "photons_per_spike_per_m": per_spike.tolist(),
                "source": (f"(1 - T) x integral of the spectrum at gap {d_op:.4g} m and the bias V(t) times I(t)/e over "
                           f"the reference spike ({v_op:.4g} V down to {neuron['hold_voltage']:.4g} V); spectra physics "
                           f"of the {kernel.source}; over the emission window")}
    return values, {**eta_s, **lam_s}, quality, sources, spectrum


def _own_capacitance_spike(filament: xr.Dataset, per_farad: float) -> dict[str, float | str]:
    """Photons per spike when the cell's own capacitance (about 0.1 fF) is the neuron's capacitor.

    The reference spike's V(t) keeps its shape in t / (R C) and its current is a function of V, so
    the photons per spike are exactly proportional to C: per_farad [1/F] times the cell's capacitance.
    """
    from devicephys.geometry import DeviceGeometry

    try:
        c_dev = DeviceGeometry.from_filament(filament).capacitance()
    except (SpecError, KeyError) as exc:
        return {"device_capacitance_note": f"not computed: {exc}"}
    return {"device_capacitance_F": c_dev, "photons_per_spike_device_capacitance": per_farad * c_dev}


BRACKET_OUTPUTS = ("resistance_on", "threshold_voltage", "hold_voltage", "series_resistance", "emission_gap",
                   "emission_transmission", "photons_per_electron", "photons_per_spike")
BRACKET_OPTICS = ("emission_gap", "emission_transmission", "photons_per_electron", "photons_per_spike")
BRACKET_NOTE = ("; its uncertainty: the larger change of this value when the card is refitted at either end of "
                "R_on's spread (fit_quality.resistance_on_bracket)")


def resistance_on_ends(filament: xr.Dataset, fem: dict[str, Any] | None, r_on: float, s_on: float
                       ) -> tuple[float, float, str] | None:
    """The two ends [Ohm] of the card's R_on bracket and how they were chosen; None without a spread.

    A finite-element result: the lower and upper quartile of its ON samples (V/I where gap < gap_on, the
    samples its R_on is the median of; checked: their median is the result's R_on).  Otherwise, or where
    that check fails: R_on minus and plus its 1-sigma uncertainty ``s_on``.
    """
    if fem is not None and all(k in filament for k in ("voltage", "current", "gap")) and "gap_on" in fem:
        v, i, g = (filament[k].values for k in ("voltage", "current", "gap"))
        median = extract.on_off_resistance(v, i, g, float(fem["gap_on"]), float(fem.get("gap_rupture", math.inf)))[0]
        if math.isfinite(median) and math.isclose(median, r_on, rel_tol=1e-9):
            q1, q3 = extract.on_resistance_quartiles(v, i, g, float(fem["gap_on"]))
            if q3 > q1:
                return q1, q3, ("the lower and upper quartile of the filament result's ON samples (V/I where gap < "
                                f"gap_on = {float(fem['gap_on']):.3g} m, whose median is R_on)")
    if not (math.isfinite(s_on) and s_on > 0):
        return None
    return r_on - s_on, r_on + s_on, "R_on minus and plus its 1-sigma uncertainty"


def refit_at_resistance_on(p: ModelParams):
    """A function R_on [Ohm] -> the card's ModelParams with the contact conductance that gives the cell that R_on.

    The contact conductance is solved for the R_on at ``gap_min`` (:func:`contact_conductance_for`); the rest is
    held.  Of the fit's other steps only the set-time law's refit (its heating follows the ON state) depends on
    R_on, and little: refitted whole at either quartile of a stored fast-preset result's ON samples, tau0 moves
    by 0.15-0.18 % and photons per spike by 0.13-0.16 % (tests/compact/test_compact_resistance_bracket.py), while
    refitting it at both ends costs 1.6 times the rest of the fit (the contact alone: 0.1 times).  Raises
    SpecError where no contact gives that R_on.
    """
    def contact(r_on: float) -> ModelParams:
        g_c = contact_conductance_for(r_on, p.leakage_resistance, p.filament_resistance, p.decay_constant, p.gap_min,
                                      p.contact_gap) if r_on > 0 else math.nan
        if not (math.isfinite(g_c) and g_c > 0):
            raise SpecError(f"R_on = {r_on:.4g} Ohm is not above the filament body's {p.filament_resistance:.4g} Ohm")
        return replace(p, contact_conductance=g_c)
    return contact


def emission_optics(emission: xr.Dataset):
    """The card's optics from an emission result: a function (ModelParams, neuron) -> the values of :func:`_optics`."""
    return lambda q, neuron: _optics(q, emission, neuron)[0]


def card_at_resistance_on(refit, spec: CompactSpec, optics, r_on: float) -> dict[str, Any]:
    """The card's :data:`BRACKET_OUTPUTS` with its parameters ``refit(r_on)`` (:func:`refit_at_resistance_on`), or
    ``{"resistance_on": r_on, "note": "not defined: ..."}`` where no card has that R_on [Ohm].

    ``optics(q, neuron)`` gives the optics' values of parameters ``q`` at the reference neuron ``neuron``: from an
    emission result, :func:`emission_optics`; for a card fitted to measurements,
    :func:`devicephys.compact.measured_fit.optics_at_operating_point`'s values.
    """
    row: dict[str, Any] = {"resistance_on": r_on}
    try:
        q = refit(r_on)
        neuron, _ = neuron_parameters(q, spec)
        values = optics(q, neuron)
    except SpecError as exc:
        row["note"] = f"not defined: {exc}"
    else:
        row.update({k: float({**neuron, **values}[k]) for k in BRACKET_OUTPUTS})
    return row


def resistance_on_bracket(refit, spec: CompactSpec, optics, values: dict[str, float],
                          ends: tuple[float, float, str] | None) -> tuple[dict[str, Any], dict[str, float]]:
    """The card's switch and optics refitted at the two ``ends`` of R_on [Ohm], and the optics' uncertainties.

    R_on is a median over a flickering ON state whose spread can be as large as itself, and the optics
    are far from linear in it (the emitting gap, its transmission T and the Fano factor 1 - T all follow
    the contact), so linear propagation would misstate them.  Each end's parameters come from ``refit``
    (:func:`refit_at_resistance_on`), then the reference neuron and the optics as the card's (``optics``, as for
    :func:`card_at_resistance_on`).  An end that
    leaves the card's range (R_on below the filament body, a neuron that does not oscillate, an emitting
    gap outside the emission result) is recorded with its reason.  Returns the bracket (for ``fit_quality``)
    and, for the optics, the larger |change| over the ends that exist (both empty without ends,
    :func:`resistance_on_ends`).
    """
    if ends is None:
        return {}, {}
    rows: dict[str, Any] = {"ends": ends[2]}
    for side, r in (("low", ends[0]), ("high", ends[1])):
        rows[side] = card_at_resistance_on(refit, spec, optics, r)
    sig = {}
    for k in BRACKET_OPTICS:
        change = [abs(rows[side][k] - values[k]) for side in ("low", "high") if k in rows[side]]
        if change and max(change) > 0:  # an optic the bracket leaves unmoved (e.g. a contact-gap emitter) keeps none
            sig[k] = max(change)
    return rows, sig


def fit_device(filament: xr.Dataset, emission: xr.Dataset, spec: CompactSpec,
               provenance: dict[str, Any] | None = None) -> DeviceCard:
    """Fit the compact model to the two results and return its DeviceCard."""
    p, sigmas, quality, sources = _filament_params(filament, spec)
    neuron, n_src = neuron_parameters(p, spec)
    optics, o_sig, o_q, o_src, spectrum = _optics(p, emission, neuron)
    values = {**p.as_dict(), **neuron, **optics}
    for name, fn in (("threshold_voltage", model.static_threshold), ("hold_voltage", model.static_hold),
                     ("resistance_on", lambda q: 1 / float(model.cell_conductance(q, q.gap_min)))):
        sigmas[name] = _propagate(fn, p, sigmas)
    quality.update(o_q)
    fem = fem_spec(filament)
    ends = resistance_on_ends(filament, fem, values["resistance_on"], sigmas.get("resistance_on", 0.0))
    spread, o_spread = resistance_on_bracket(refit_at_resistance_on(p), spec, emission_optics(emission), values, ends)
    if spread:
        quality["resistance_on_bracket"] = spread
        o_sig.update(o_spread)
        for name in o_spread:
            o_src[name] = (o_src.get(name) or sources.get(name, "")) + BRACKET_NOTE
    quality["spike"].update(_own_capacitance_spike(filament, quality["spike"]["photons_per_spike_per_farad"]))
    quality["versus_filament_result"] = _compare(filament, values)
    if fem is not None:
        quality["fem_drive"] = _fem_drive(filament, p, fem)
    return DeviceCard.from_values(spec.name, values, {**sources, **n_src, **o_src},
                                  uncertainties={k: float(v) for k, v in {**sigmas, **o_sig}.items()},
                                  provenance=dict(provenance or {}), fit_quality=quality, spectrum=spectrum)


def _fem_drive(ds: xr.Dataset, p: ModelParams, fem: dict[str, Any]) -> dict[str, Any]:
    """The card replayed under the FEM's own drive (:func:`devicephys.compact.fem_drive.compare`)."""
    from devicephys.compact import fem_drive

    try:
        return fem_drive.compare(ds, p, fem)
    except ConvergenceError as exc:
        return {"passes": False, "failed": str(exc)}


def _compare(ds: xr.Dataset, values: dict[str, float]) -> dict[str, dict[str, float]]:
    """Card values next to the filament stage's own extracted scalars (relative difference)."""
    out = {}
    for name in ("threshold_voltage", "hold_voltage", "resistance_on", "resistance_off", "relaxation_time",
                 "set_time_tau0", "set_time_v0", "thermal_resistance"):
        if name in ds.variables:
            ref = float(ds[name])
            out[name] = {"card": values[name], "filament_result": ref,
                         "relative_difference": (values[name] - ref) / ref if ref else float("nan")}
    if "threshold_voltage_static" in ds.variables:  # the FEM's own static threshold against the card's (static)
        ref = float(ds["threshold_voltage_static"])
        out["threshold_voltage_static"] = {"card": values["threshold_voltage"], "filament_result": ref,
                                           "relative_difference": (values["threshold_voltage"] - ref) / ref}
    return out
