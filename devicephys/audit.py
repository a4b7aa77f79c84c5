"""The joint audit: at every hand-off between stages, the physical constraint and whether it holds.

Read from a pipeline run's folder (``filament/filament.nc``, ``emission/emission.nc``,
``compact/device_card.json``, ``array/array.nc``), written as ``audit.json`` and shown
as the first table of ``report.html``.  Each row is one constraint:

* photon energy versus eV: inelastic tunnelling cannot emit a photon of energy above
  e V at the operating bias (the card's threshold voltage, the bias of a spike);
* fitted laws inside their data: the card's emission law is evaluated at the operating
  point (the card's emission gap, threshold voltage), which must lie inside the gap and
  bias range the law was fitted on;
* optical geometry: the emission stage's tip radius and stack (insulator thickness,
  electrode discs) are the filament's device (:class:`devicephys.geometry.DeviceGeometry`),
  and its gap range contains the operating gap;
* published ranges: each card number beside its range (:mod:`devicephys.ranges`);
* photon budget: the array's photons per spike is the card's;
* detected spectrum: the spectrum the array's detectors average their efficiency over
  holds no photon above e V at the operating bias (without a hot-electron channel);
* solver fallbacks: the filament result counts the steps its solver forced (accepted at the step floor whatever
  their change), accepted without convergence, or solved by the staggered fallback after the coupled Newton failed;
  the row's detail says where the forced steps and the staggered solves come from.
* Ag occupancy: the filament's transport held at most one Ag atom per site of the channel.
* set-time law inside its data (when the filament result has its set-time study): the card's static threshold, where
  its set-time law decides that the cell sets within one self-rupture time, lies within the set voltages that law
  was fitted on, and the law meets every FEM set time there within :data:`SET_TIME_FACTOR`;
* the growing body's premise (a card of two slow states and a filament result with the set runs' body balance): the
  card's body is laid down dense and is not refilled while the gap is open (its return of dissolved Ag acts only
  once bridged), so the FEM's return over the body's dissolution at half closure must stay within
  :data:`GROWTH_RETURN_LIMIT` at every set voltage its set-time law was fitted on;
* step check (only when the filament stage ran one, ``step_check``): the filament numbers the card takes (the
  set-time law, the self-rupture, the threshold) each within :data:`STEP_CHECK_RTOL` of the same runs under the
  tighter step control.

A row's status is ``pass``, ``fail`` or ``unknown`` (the data to decide it is missing).
Under ``strict`` a failing row is an error; otherwise it is a red row.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from devicephys import units
from devicephys.io import atomic_write_text
from devicephys.ranges import RANGES

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"
#: Relative agreement required where two stages hand over the same number (a copy, not a computation).
COPY_RTOL = 1e-6
#: Filament-result counters of solver fallbacks (see the filament stage's solver statistics).
FALLBACK_COUNTERS = ("solver_forced_steps", "solver_unconverged_accepted", "solver_staggered_fallbacks")
#: Ag occupancy above 1 by more than this fails the occupancy row (rounding of the lattice-gas step) [1].
OCCUPANCY_TOL = 1e-6
#: Stated target [1]: a filament number that the card takes, moved by more than this under the step check's tighter
#: control, is not converged in the step (the card's laws are fitted to within a few per cent).
STEP_CHECK_RTOL = 0.05
#: Stated target [1]: the card's set-time law within this factor of every FEM set time it was fitted on (the factor-2
#: target of the card replayed under the FEM's own drive, ``fit_quality.fem_drive``).
SET_TIME_FACTOR = 2.0
#: Stated target [1]: the field's return over the dissolution of the growing body that the card's law may neglect.  A
#: return r of the dissolution stretches the oldest stretch's life by 1 / (1 - r): at r = 1/2 by the SET_TIME_FACTOR.
GROWTH_RETURN_LIMIT = 1.0 - 1.0 / SET_TIME_FACTOR
#: The filament result's deviations from its step check (main / check - 1) that the step-check row reads.
STEP_CHECK_DEVIATIONS = ("set_time_tau0_step_deviation", "set_time_v0_step_deviation",
                         "relaxation_time_step_deviation", "threshold_step_deviation")


@dataclass(frozen=True)
class Row:
    """One audited constraint at one joint."""

    joint: str
    constraint: str
    status: str
    value: str
    limit: str
    detail: str = ""


def _load_nc(path: Path):
    import xarray as xr

    if not path.is_file():
        return None
    try:
        return xr.load_dataset(path, engine="h5netcdf")
    except Exception:  # noqa: BLE001 - an unreadable file is missing data for the audit
        return None


def _load_card(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _p(card: dict | None, name: str) -> float | None:
    if card is None or name not in card.get("parameters", {}):
        return None
    value = card["parameters"][name].get("value")
    return float(value) if value is not None else None


def _scalar(ds, name: str) -> float | None:
    if ds is None or name not in ds:
        return None
    value = float(ds[name].values)
    return value if math.isfinite(value) else None


def photon_energy(card: dict | None) -> Row:
    """hc/λ_peak ≤ e V_op, the quantum cutoff of inelastic tunnelling at the spike's bias."""
    lam, v_op = _p(card, "peak_wavelength"), _p(card, "threshold_voltage")
    joint, text = "emission -> compact", "photon energy hc/lambda_peak <= e V at the operating bias"
    if lam is None or v_op is None or lam <= 0:
        return Row(joint, text, UNKNOWN, "-", "-", "the card has no peak wavelength or threshold voltage")
    e_ph = units.h * units.c0 / lam / units.e  # photon energy [eV]
    hot = _p(card, "hot_electron_temperature")
    status = PASS if e_ph <= abs(v_op) or hot is not None else FAIL
    detail = (f"lambda_peak = {lam * 1e9:.0f} nm at V = {v_op:.3g} V; shortest allowed wavelength "
              f"{units.h * units.c0 / (units.e * abs(v_op)) * 1e9:.0f} nm" if v_op else "")
    if hot is not None:
        detail += f"; hot-electron channel declared (T_e = {hot:.0f} K)"
    return Row(joint, text, status, f"{e_ph:.3g} eV", f"<= {abs(v_op):.3g} eV", detail)


def emission_law_range(card: dict | None) -> Row:
    """The operating point (emission gap, or gap_min without one; V_th) inside the emission fit's gap and bias range."""
    joint, text = "emission -> compact", "emission law evaluated inside its fitted (gap, bias) range"
    names = ("gap_min", "threshold_voltage", "eta_gap_lo", "eta_gap_hi", "eta_bias_lo", "eta_bias_hi")
    vals = {n: _p(card, n) for n in names}
    if any(v is None for v in vals.values()):
        return Row(joint, text, UNKNOWN, "-", "-", "the card lacks the emission law's range")
    gap, bias = _p(card, "emission_gap") or vals["gap_min"], abs(vals["threshold_voltage"])
    inside = vals["eta_gap_lo"] <= gap <= vals["eta_gap_hi"] and vals["eta_bias_lo"] <= bias <= vals["eta_bias_hi"]
    return Row(joint, text, PASS if inside else FAIL, f"gap {gap * 1e9:.3g} nm, bias {bias:.3g} V",
               f"gap {vals['eta_gap_lo'] * 1e9:.3g}-{vals['eta_gap_hi'] * 1e9:.3g} nm, "
               f"bias {vals['eta_bias_lo']:.3g}-{vals['eta_bias_hi']:.3g} V",
               "" if inside else "the operating point lies outside the data the law was fitted on")


def optical_geometry(filament, emission, card: dict | None = None) -> list[Row]:
    """The emission stage's tip and stack are the filament's device, and its gaps contain the operating gap.

    The operating gap is the card's ``emission_gap`` (the tunnelling gap the photon yield is
    evaluated at) when a card exists, else the filament result's ``minimum_gap``.
    """
    joint = "filament -> emission"
    r_fil, r_em = _scalar(filament, "filament_radius_final"), _scalar(emission, "tip_radius")
    if r_fil is None or r_em is None:
        tip = Row(joint, "optical tip radius equals the filament's", UNKNOWN, "-", "-", "a result is missing")
    else:
        same = abs(r_em - r_fil) <= COPY_RTOL * abs(r_fil)
        tip = Row(joint, "optical tip radius equals the filament's", PASS if same else FAIL,
                  f"{r_em * 1e9:.3g} nm", f"{r_fil * 1e9:.3g} nm (filament)",
                  "" if same else "the optical model uses a tip that is not the device's")
    rows = [tip, _optical_stack(filament, emission)]
    g_op, which = _p(card, "emission_gap"), "the card's emission gap"
    if g_op is None:
        g_op, which = _scalar(filament, "minimum_gap"), "the filament's minimum gap"
    text = "optical gaps contain the filament's operating gap"
    if g_op is None or emission is None or "gap" not in emission.coords:
        return rows + [Row(joint, text, UNKNOWN, "-", "-", "a result is missing")]
    gaps = emission["gap"].values
    inside = float(gaps.min()) <= g_op <= float(gaps.max())
    return rows + [Row(joint, text, PASS if inside else FAIL, f"{g_op * 1e9:.3g} nm ({which})",
                       f"{gaps.min() * 1e9:.3g}-{gaps.max() * 1e9:.3g} nm (emission)",
                       "" if inside else "the operating gap is outside the optical calculation")]


def _optical_stack(filament, emission) -> Row:
    """Insulator thickness and electrode radius of the optical stack equal the filament's device geometry."""
    joint, text = "filament -> emission", "optical stack (insulator, electrodes) equals the filament's device"
    if filament is None or emission is None or "spec" not in filament.attrs:
        return Row(joint, text, UNKNOWN, "-", "-", "a result is missing")
    from devicephys.errors import SpecError
    from devicephys.geometry import DeviceGeometry

    try:
        dev = DeviceGeometry.from_filament(filament)
    except SpecError as exc:
        return Row(joint, text, UNKNOWN, "-", "-", str(exc))
    t_em, r_em = _scalar(emission, "insulator_thickness"), _scalar(emission, "footprint_radius")
    want = f"{dev.insulator_thickness * 1e9:.3g} nm insulator, {dev.footprint_radius * 1e9:.3g} nm discs (filament)"
    if t_em is None or r_em is None:
        return Row(joint, text, FAIL, "no stack", want, "the optical model does not model the device's stack")
    same = all(abs(a - b) <= COPY_RTOL * abs(b) for a, b in ((t_em, dev.insulator_thickness), (r_em, dev.footprint_radius)))
    return Row(joint, text, PASS if same else FAIL, f"{t_em * 1e9:.3g} nm insulator, {r_em * 1e9:.3g} nm discs", want,
               "" if same else "the optical stack is not the device's")


def published_ranges(card: dict | None, filament=None) -> list[Row]:
    """Each card number with a published range beside it; the filament result's own number where no card exists."""
    rows = []
    for name, rng in RANGES.items():
        value, joint = _derived(card, name), "card"
        if value is None and (fem := _scalar(filament, name)) is not None:
            value, joint = fem, "filament result"
        text = f"{name} within its published range"
        if value is None:
            rows.append(Row("card", text, UNKNOWN, "-", f"{rng.low:.3g}-{rng.high:.3g} {rng.unit}", rng.source))
            continue
        rows.append(Row(joint, text, PASS if rng.holds(value) else FAIL, f"{value:.3g} {rng.unit}",
                        f"{rng.low:.3g}-{rng.high:.3g} {rng.unit}", rng.source))
    return rows


def _derived(card: dict | None, name: str) -> float | None:
    if name == "thermal_time_constant":
        r, c = _p(card, "thermal_resistance"), _p(card, "thermal_capacitance")
        return r * c if r is not None and c is not None else None
    return _p(card, name)


def photon_budget(card: dict | None, array) -> Row:
    """The array's photons per spike is the card's."""
    joint, text = "compact -> array", "array photons per spike taken from the card"
    n_card, n_array = _p(card, "photons_per_spike"), _scalar(array, "photons_per_spike")
    if n_card is None or n_array is None:
        return Row(joint, text, UNKNOWN, "-", "-", "the card or the array result is missing")
    same = abs(n_array - n_card) <= COPY_RTOL * abs(n_card)
    return Row(joint, text, PASS if same else FAIL, f"{n_array:.4g}", f"{n_card:.4g} (card)",
               "" if same else "the array runs on another photon budget than the card's")


def detected_spectrum(card: dict | None, array) -> Row:
    """The detectors' spectrum (``emitted_spectrum`` of the array result) lies below e V_th in photon energy."""
    joint, text = "compact -> array", "detected spectrum: no photon above e V at the operating bias"
    v_op = _p(card, "threshold_voltage")
    if v_op is None or array is None or "emitted_spectrum" not in array.variables:
        return Row(joint, text, UNKNOWN, "-", "0", "the card or the array's emitted spectrum is missing")
    import numpy as np

    lam = array["spectrum_wavelength"].values
    dens = array["emitted_spectrum"].values
    cut = units.h * units.c0 / (units.e * abs(v_op))
    total = float(np.trapezoid(dens, lam))
    above = float(np.trapezoid(np.where(lam < cut, dens, 0.0), lam)) / total if total > 0 else float("nan")
    hot = _p(card, "hot_electron_temperature")
    ok = hot is not None or above == 0.0
    eff = _scalar(array, "spectral_efficiency")
    detail = (f"shortest allowed wavelength {cut * 1e9:.0f} nm at V = {v_op:.3g} V; detectors see "
              f"{eff:.3g} photoelectrons per photon" if eff is not None else "")
    if hot is not None:
        detail += f"; hot-electron channel declared (T_e = {hot:.0f} K)"
    return Row(joint, text, PASS if ok else FAIL, f"{above:.3g} of the photons", "0", detail)


def solver_fallbacks(filament) -> Row:
    """The filament solver's fallbacks are counted (and none replaced the physics)."""
    joint, text = "filament", "solver fallbacks counted, none taken"
    if filament is None:
        return Row(joint, text, UNKNOWN, "-", "0", "no filament result")
    counts = {k: filament.attrs.get(k) for k in FALLBACK_COUNTERS}
    if any(v is None for v in counts.values()):
        return Row(joint, text, UNKNOWN, "-", "0", "the filament result does not record its solver statistics")
    total = sum(int(v) for v in counts.values())
    detail = ", ".join(f"{k[7:]}: {int(v)}" for k, v in counts.items()) + _fallback_origins(filament, counts)
    return Row(joint, text, PASS if total == 0 else FAIL, str(total), "0", detail)


def _fallback_origins(filament, counts: dict) -> str:
    """Where the counted fallbacks come from, and what removes them, as far as the result records it ("" if not)."""
    out = ""
    forced, per_set = int(counts["solver_forced_steps"]), filament.attrs.get("set_time_forced_steps")
    if forced and per_set is not None:
        import numpy as np

        per_set = [int(n) for n in np.ravel(per_set)]  # one run's count is stored as a scalar
        try:
            resolved = bool(json.loads(filament.attrs.get("spec", "{}")).get("resolve_set", False))
        except (json.JSONDecodeError, TypeError, AttributeError):
            resolved = False
        if sum(per_set) and not resolved:
            out += (f"; {sum(per_set)} of the forced steps in the set-time runs ({' / '.join(map(str, per_set))}), at "
                    "the step floor of their set_time_limit window: resolve_set floors those runs' steps at "
                    "min_step_fraction of the elapsed time instead")
    if int(counts["solver_staggered_fallbacks"]):
        out += ("; a staggered fallback is a step whose coupled Newton solve failed and which the block (phi, T) "
                "iteration then solved to its tolerance")
        first = filament.attrs.get("solver_staggered_first")
        if first is not None and int(first):
            out += (f"; after such a step the block iteration goes first while it succeeds: {int(first)} solves "
                    "here (the same equations to the same tolerance, not counted as fallbacks)")
    return out


def silver_occupancy(filament) -> Row:
    """The filament's Ag transport stayed within one atom per site (c_i + c_m <= 1 on the channel)."""
    joint, text = "filament", "Ag occupancy c_i + c_m <= 1 (one atom per site)"
    peak = None if filament is None else filament.attrs.get("silver_occupancy_peak")
    if peak is None:
        return Row(joint, text, UNKNOWN, "-", "1", "the filament result does not record its Ag occupancy")
    ok = float(peak) <= 1.0 + OCCUPANCY_TOL
    why = str(filament.attrs.get("silver_occupancy_warning", "")) or (
        "ions piled up beyond one per site (dilute transport); site_exclusion: true bounds it")
    return Row(joint, text, PASS if ok else FAIL, f"{float(peak):.3g}", "1", "" if ok else why)


def dissolved_pool(filament) -> list[Row]:
    """The dissolved Ag beside each axis node stayed within the one-compartment pool's capacity (the matrix's annulus
    within the return's length of the channel's wall at one atom per site: its premise that the Ag stays within reach
    of the return); no row where the run had no such pool (the spread follows it, or none returns) or did not record
    it."""
    import math

    if filament is None or "silver_pool_peak" not in filament.attrs:
        return []
    capacity = float(filament.attrs.get("silver_pool_capacity", math.nan))
    if not math.isfinite(capacity):
        return []
    peak = float(filament.attrs["silver_pool_peak"])
    ok = peak <= capacity * (1.0 + OCCUPANCY_TOL)
    why = str(filament.attrs.get("silver_pool_warning", "")) or (
        "more dissolved Ag beside a node than the pool's annulus holds; dissolved_spread: true follows it")
    return [Row("filament", "dissolved Ag beside each node within the one-compartment pool's capacity [channel "
                "volumes]", PASS if ok else FAIL, f"{peak:.3g}", f"{capacity:.3g}", "" if ok else why)]


def ion_space_charge(filament) -> list[Row]:
    """The channel's mobile ions' own potential small against the voltage their drift crosses (the transport drifts
    them in the applied field alone) for most of each set-time run: the runs' time-weighted median
    ``set_ion_potential_ratio_median`` within :data:`~devicephys.filament.ion_charge.SPACE_CHARGE_LIMIT`; no row
    without it.  A stage run with ``ion_compensation`` (attribute of that name) drifted its ions in their own field:
    the row passes as coupled and names the compensation it was given."""
    import numpy as np

    from devicephys.filament.ion_charge import SPACE_CHARGE_LIMIT

    if filament is None or "set_ion_potential_ratio_median" not in filament:
        return []
    joint = "filament"
    text = ("mobile ions' space charge small against the drift's voltage for most of each set (the charge-free "
            "transport's premise)")
    limit = f"<= {SPACE_CHARGE_LIMIT:g}"
    v = np.asarray(filament["set_voltage"].values, float)
    median = np.asarray(filament["set_ion_potential_ratio_median"].values, float)
    peak = np.asarray(filament["set_ion_potential_ratio"].values, float)
    psi = np.asarray(filament["set_ion_potential"].values, float)
    frac = np.asarray(filament["set_ion_potential_ratio_fraction"].values, float)
    ok = np.isfinite(median)
    if not ok.any():
        return [Row(joint, text, UNKNOWN, "-", limit, "no set-time run recorded its ions' potential")]
    k = int(np.argmax(np.where(ok, median, -np.inf)))
    detail = ", ".join(f"{vi:.3g} V: median {mi:.3g}, largest {ri:.3g} (psi {pi:.3g} V)"
                       for vi, mi, ri, pi in zip(v[ok], median[ok], peak[ok], psi[ok]))
    value = f"{median[k]:.3g} at {v[k]:.3g} V"
    if "ion_compensation" in filament.attrs:  # the transport carried the ions' own field: the premise is not used
        f = float(filament.attrs["ion_compensation"])
        return [Row(joint, text, PASS, f"coupled, f = {f:g}", limit + " or coupled",
                    f"the transport drifted the ions in the applied field plus {1 - f:.3g} of their own "
                    f"(ion_compensation = {f:g}: given, not derived); uncompensated they would make " + detail)]
    if median[k] <= SPACE_CHARGE_LIMIT:
        return [Row(joint, text, PASS, value, limit, detail)]
    return [Row(joint, text, FAIL, value, limit,
                detail + f"; uncompensated, the ions (up to {frac[k]:.3g} of the sites on the axis) make up to "
                f"{psi[k]:.3g} V: "
                "the drift in the applied field alone holds only if the matrix compensates their charge, which the "
                "model does not derive (ion_compensation drifts them in a given uncompensated share of their own "
                "field; set_ion_potential* in filament.nc; docs/filament.md: \"The ions' space charge\")")]


def set_time_law_range(filament, card: dict | None) -> list[Row]:
    """The card's static threshold inside the set voltages its set-time law was fitted on (the filament result's set
    voltages that set the cell), and the law within :data:`SET_TIME_FACTOR` of every FEM set time there (the card's
    ``fit_quality``: the full model's fit where the card has it); no row without the filament's set-time study or the
    card's threshold."""
    import numpy as np

    if filament is None or "set_voltage" not in filament or "set_time" not in filament:
        return []
    v_th = _p(card, "threshold_voltage")
    if v_th is None:
        return []
    v, t = np.asarray(filament["set_voltage"].values, float), np.asarray(filament["set_time"].values, float)
    v = v[np.isfinite(t) & (t > 0)]
    joint = "filament -> compact"
    text = (f"set-time law inside its data (static threshold within the fitted set voltages, the law within "
            f"{SET_TIME_FACTOR:g}x of the FEM's set times there)")
    if v.size < 2:
        return [Row(joint, text, UNKNOWN, f"{v_th:.3g} V", "-", "fewer than two set voltages set the cell")]
    lo, hi = float(v.min()), float(v.max())
    inside = lo <= abs(v_th) <= hi
    quality = (card or {}).get("fit_quality", {})
    fit = quality.get("set_time_full_model") or quality.get("set_time") or {}
    worst = math.exp(fit["max_ln"]) if isinstance(fit.get("max_ln"), (int, float)) else None
    close = worst is not None and worst <= SET_TIME_FACTOR
    # the card's fit counts a voltage where the law never sets as 1e3 times the FEM's set time (compact.fit)
    never = worst is not None and worst >= 1e3 * (1 - 1e-9)
    value = (f"{abs(v_th):.3g} V" if worst is None else
             f"{abs(v_th):.3g} V; law " + ("without a set where the FEM sets" if never else f"off by {worst:.3g}x at worst"))
    limit = f"{lo:.3g}-{hi:.3g} V; <= {SET_TIME_FACTOR:g}x"
    problems = []
    if not inside:
        problems.append("the card's static threshold is its set-time law extrapolated outside the set voltages it was "
                        "fitted on (on the default cell the FEM's constant-voltage set times below 1 V are up to 10x the "
                        "law's: studies/13_set_memory.py); give the filament stage set_voltages that reach the threshold")
    if worst is None:
        return [Row(joint, text, FAIL if not inside else UNKNOWN, value, limit,
                    "; ".join(problems + ["the card records no set-time fit quality"]))]
    if not close:
        problems.append("the card's set-time law misses the FEM's set times it was fitted on by more than "
                        f"{SET_TIME_FACTOR:g}x (where the FEM sets and the law has the cell never set, the two-slow-state "
                        "law cannot follow the FEM's set times down to its static threshold)")
    return [Row(joint, text, PASS if inside and close else FAIL, value, limit, "; ".join(problems))]


def growth_premise(filament, card: dict | None) -> list[Row]:
    """The card's growing body not refilled while the gap is open: the FEM's ``set_body_return_ratio`` within
    :data:`GROWTH_RETURN_LIMIT` at every set voltage that set the cell; no row without the filament's body balance or
    a card of two slow states (``dissolution_rate`` > 0)."""
    import numpy as np

    rate = _p(card, "dissolution_rate")
    if filament is None or "set_body_return_ratio" not in filament or not rate:
        return []
    v = np.asarray(filament["set_voltage"].values, float)
    t = np.asarray(filament["set_time"].values, float)
    r = np.asarray(filament["set_body_return_ratio"].values, float)
    ok = np.isfinite(t) & (t > 0) & np.isfinite(r)
    joint = "filament -> compact"
    text = ("growing body not refilled while the gap is open (the card's two-slow-state premise; the FEM's return of "
            "dissolved Ag over the body's dissolution at half closure)")
    limit = f"<= {GROWTH_RETURN_LIMIT:.3g}"
    if not ok.any():
        return [Row(joint, text, UNKNOWN, "-", limit, "no set-time run that set has a body balance")]
    v, r = v[ok], r[ok]
    k = int(np.argmax(r))
    detail = ", ".join(f"{vi:.3g} V: {ri:.3g}" for vi, ri in zip(v, r))
    if r[k] <= GROWTH_RETURN_LIMIT:
        return [Row(joint, text, PASS, f"{r[k]:.3g} at {v[k]:.3g} V", limit, detail)]
    held = v[r > GROWTH_RETURN_LIMIT]
    return [Row(joint, text, FAIL, f"{r[k]:.3g} at {v[k]:.3g} V", limit,
                detail + f"; at {', '.join(f'{x:.3g}' for x in held)} V the FEM's field holds the thinning body at "
                "percolation by returning its dissolved Ag (the body takes part of the voltage), so its set is not cut "
                "off by a self-rupture time as the card's law has it (set_body_voltage_share, set_body_metal_fraction "
                "in filament.nc)")]


def step_check(filament) -> list[Row]:
    """The card's filament numbers within :data:`STEP_CHECK_RTOL` of their step check; no row without a check."""
    found = {k: _scalar(filament, k) for k in STEP_CHECK_DEVIATIONS if filament is not None and k in filament}
    if not found:
        return []
    joint, text = "filament -> compact", "the card's filament numbers converged in the step (step_check)"
    limit = f"<= {STEP_CHECK_RTOL:.0%}"
    detail = ", ".join(f"{k[:-len('_step_deviation')]}: " + ("NaN" if v is None else f"{v:+.1%}") for k, v in found.items())
    if any(v is None for v in found.values()):
        return [Row(joint, text, UNKNOWN, "-", limit, detail + " (a check run did not give a number)")]
    name, worst = max(found.items(), key=lambda kv: abs(kv[1]))
    ok = abs(worst) <= STEP_CHECK_RTOL
    return [Row(joint, text, PASS if ok else FAIL, f"{worst:+.1%} ({name[:-len('_step_deviation')]})", limit,
                detail + ("" if ok else "; the presets' step control moves them: run the filament stage under the "
                          "step check's control (examples/converged_step.yaml at 0.01)"))]


def audit(out: Path) -> list[Row]:
    """Every row of the joint audit of the pipeline run in ``out``."""
    out = Path(out)
    filament = _load_nc(out / "filament" / "filament.nc")
    emission = _load_nc(out / "emission" / "emission.nc")
    array = _load_nc(out / "array" / "array.nc")
    card = _load_card(out / "compact" / "device_card.json")
    return [photon_energy(card), emission_law_range(card), *optical_geometry(filament, emission, card),
            photon_budget(card, array), detected_spectrum(card, array), solver_fallbacks(filament),
            silver_occupancy(filament), *dissolved_pool(filament), *ion_space_charge(filament),
            *set_time_law_range(filament, card),
            *growth_premise(filament, card),
            *step_check(filament),
            *published_ranges(card, filament)]


def write_audit(out: Path, rows: list[Row]) -> Path:
    """``out/audit.json``: the rows and a count per status (strict JSON, written atomically)."""
    counts = {s: sum(r.status == s for r in rows) for s in (PASS, FAIL, UNKNOWN)}
    text = json.dumps({"counts": counts, "rows": [asdict(r) for r in rows]}, indent=2, allow_nan=False)
    return atomic_write_text(Path(out) / "audit.json", text)


def failures(rows: list[Row]) -> list[Row]:
    return [r for r in rows if r.status == FAIL]
