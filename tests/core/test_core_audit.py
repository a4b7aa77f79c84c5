"""The joint audit: every row passes on consistent hand-offs and fails when its constraint is broken."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xarray as xr

from devicephys import audit
from devicephys.compact.card import PARAMETERS
from devicephys.ranges import RANGES

#: A consistent operating point: 0.9 V spike bias, 1500 nm peak (0.83 eV <= 0.9 eV).
GOOD = {"peak_wavelength": 1500e-9, "threshold_voltage": 0.9, "gap_min": 1e-9, "eta_gap_lo": 0.5e-9,
        "eta_gap_hi": 2e-9, "eta_bias_lo": 0.5, "eta_bias_hi": 3.0, "photons_per_spike": 40.0,
        "resistance_on": 12.9e3, "resistance_off": 1e12, "hold_voltage": 0.1, "set_time_v0": 0.06,
        "relaxation_time": 1e-4, "thermal_resistance": 1e6, "thermal_capacitance": 1e-15,
        "photons_per_electron": 1e-5}


def _card(**change) -> dict:
    values = {**GOOD, **change}
    return {"parameters": {k: {"value": v} for k, v in values.items() if v is not None}}


#: The filament's stack: 10 nm PMMA between 30 nm Ag electrodes, 170 nm x 240 nm (a 113.96 nm disc).
STACK = {"active_electrode": "Ag", "counter_electrode": "Ag", "insulator": "PMMA", "active_electrode_thickness": 30e-9,
         "counter_electrode_thickness": 30e-9, "insulator_thickness": 10e-9, "footprint_x": 170e-9, "footprint_y": 240e-9}
DISC = (170e-9 * 240e-9 / np.pi) ** 0.5


def _filament(radius=2e-9, gap=1e-9, counters=(0, 0, 0), occupancy=0.9) -> xr.Dataset:
    ds = xr.Dataset({"filament_radius_final": ((), radius), "minimum_gap": ((), gap),
                     "gap": ("time", [9e-9, gap]), "insulator_thickness": ((), 10e-9)},
                    attrs={"devicephys_kind": "filament", "spec": json.dumps(STACK)})
    if counters is not None:
        ds.attrs.update(dict(zip(audit.FALLBACK_COUNTERS, counters)))
    if occupancy is not None:
        ds.attrs["silver_occupancy_peak"] = occupancy
    return ds


def _emission(radius=2e-9, gaps=(0.5e-9, 1e-9, 2e-9), stack=(10e-9, DISC)) -> xr.Dataset:
    ds = xr.Dataset({"tip_radius": ((), radius)}, coords={"gap": ("gap", np.array(gaps))})
    if stack is not None:
        ds["insulator_thickness"], ds["footprint_radius"] = ((), stack[0]), ((), stack[1])
    return ds


def test_audit_reads_the_card_by_its_own_parameter_names():
    assert set(GOOD) <= set(PARAMETERS), set(GOOD) - set(PARAMETERS)
    assert set(RANGES) - {"thermal_time_constant"} <= set(PARAMETERS)


def test_photon_energy_row():
    assert audit.photon_energy(_card()).status == audit.PASS
    # 937 nm needs 1.32 eV: not at a 0.75 V threshold (the quantum cutoff of inelastic tunnelling)
    row = audit.photon_energy(_card(peak_wavelength=937e-9, threshold_voltage=0.75))
    assert row.status == audit.FAIL and "1653 nm" in row.detail
    assert audit.photon_energy(_card(peak_wavelength=None)).status == audit.UNKNOWN


def test_emission_law_range_row():
    assert audit.emission_law_range(_card()).status == audit.PASS
    assert audit.emission_law_range(_card(eta_bias_lo=2.0)).status == audit.FAIL  # clipped from 2 V to 0.9 V
    assert audit.emission_law_range(_card(gap_min=0.2e-9)).status == audit.FAIL
    assert audit.emission_law_range(_card(gap_min=0.0, emission_gap=0.6e-9)).status == audit.PASS
    assert audit.emission_law_range(_card(eta_gap_hi=None)).status == audit.UNKNOWN


def test_optical_geometry_rows():
    assert [r.status for r in audit.optical_geometry(_filament(), _emission())] == [audit.PASS] * 3
    tip, stack, gap = audit.optical_geometry(_filament(), _emission(radius=30e-9, gaps=(5e-9, 10e-9, 15e-9), stack=None))
    assert tip.status == audit.FAIL and stack.status == audit.FAIL and gap.status == audit.FAIL
    assert audit.optical_geometry(_filament(), _emission(stack=(10e-9, 40e-9)))[1].status == audit.FAIL
    assert {r.status for r in audit.optical_geometry(None, _emission())} == {audit.UNKNOWN}
    # with a card, the operating gap is the card's emission gap (a 0 nm contact emits no tunnelling photon)
    contact = _filament(gap=0.0)
    assert audit.optical_geometry(contact, _emission())[2].status == audit.FAIL
    assert audit.optical_geometry(contact, _emission(), _card(emission_gap=0.6e-9))[2].status == audit.PASS


def test_photon_budget_row():
    array = xr.Dataset({"photons_per_spike": ((), 40.0)})
    assert audit.photon_budget(_card(), array).status == audit.PASS
    assert audit.photon_budget(_card(photons_per_spike=711.0), array).status == audit.FAIL
    assert audit.photon_budget(_card(), None).status == audit.UNKNOWN


def test_detected_spectrum_row():
    """The detectors' spectrum holds nothing above e V_th (0.9 V: 1378 nm); a spectrum reaching 1200 nm fails."""
    lam = np.linspace(1.0e-6, 3.0e-6, 201)

    def array(shortest):
        dens = np.where(lam >= shortest, 1.0, 0.0)
        return xr.Dataset({"emitted_spectrum": ("spectrum_wavelength", dens / np.trapezoid(dens, lam)),
                           "spectral_efficiency": ((), 0.01)}, coords={"spectrum_wavelength": lam})

    assert audit.detected_spectrum(_card(), array(1.4e-6)).status == audit.PASS
    row = audit.detected_spectrum(_card(), array(1.2e-6))
    assert row.status == audit.FAIL and float(row.value.split()[0]) > 0.05
    assert audit.detected_spectrum(_card(hot_electron_temperature=2000.0), array(1.2e-6)).status == audit.PASS
    assert audit.detected_spectrum(_card(), None).status == audit.UNKNOWN


def test_solver_fallback_row():
    assert audit.solver_fallbacks(_filament()).status == audit.PASS
    assert audit.solver_fallbacks(_filament(counters=(3, 0, 1))).status == audit.FAIL
    assert audit.solver_fallbacks(_filament(counters=None)).status == audit.UNKNOWN


def test_solver_fallback_row_says_where_they_come_from():
    """The row's verdict counts every fallback; its detail names the set runs' share and the staggered solves."""
    ds = _filament(counters=(30, 0, 2))
    ds.attrs["set_time_forced_steps"] = np.array([4, 0, 26])
    row = audit.solver_fallbacks(ds)
    assert row.status == audit.FAIL and row.value == "32"
    assert "30 of the forced steps in the set-time runs (4 / 0 / 26)" in row.detail and "resolve_set" in row.detail
    assert "block (phi, T) iteration" in row.detail and "goes first" not in row.detail
    ds.attrs["solver_staggered_first"] = np.int64(456)  # the solves after a fallback that took the block path first
    row = audit.solver_fallbacks(ds)
    assert row.value == "32" and "456 solves here" in row.detail and "not counted as fallbacks" in row.detail
    ds.attrs["spec"] = json.dumps({**STACK, "resolve_set": True})  # already resolved: no such hint
    assert "resolve_set" not in audit.solver_fallbacks(ds).detail
    ds.attrs["spec"] = json.dumps(STACK)
    for one in (np.int64(30), np.array(30)):  # one set voltage: its count stored as a scalar
        ds.attrs["set_time_forced_steps"] = one
        assert "30 of the forced steps in the set-time runs (30)" in audit.solver_fallbacks(ds).detail
    ds = _filament(counters=(5, 0, 0))  # no set-time runs recorded: the counts alone
    assert audit.solver_fallbacks(ds).detail == "forced_steps: 5, unconverged_accepted: 0, staggered_fallbacks: 0"


def test_published_range_rows():
    rows = {r.constraint.split()[0]: r for r in audit.published_ranges(_card())}
    assert all(r.status == audit.PASS for r in rows.values()), [r for r in rows.values() if r.status != audit.PASS]
    bad = {r.constraint.split()[0]: r.status for r in audit.published_ranges(_card(resistance_on=17.6, thermal_capacitance=6e-19))}
    assert bad["resistance_on"] == audit.FAIL  # bulk Ag in a 2 nm channel: no quantized contact
    assert bad["thermal_time_constant"] == audit.FAIL  # 0.6 ps, below the electron-phonon time
    assert all(r.detail for r in audit.published_ranges(_card()))  # every range names its source


def test_dissolved_pool_row():
    ds = _filament()
    assert audit.dissolved_pool(ds) == []  # a result that does not record its pool
    ds.attrs.update(silver_pool_peak=1.04, silver_pool_capacity=3.0)
    (row,) = audit.dissolved_pool(ds)
    assert row.status == audit.PASS and row.value == "1.04" and row.limit == "3"
    ds.attrs.update(silver_pool_peak=3.2e3, silver_pool_warning="dissolved Ag beside one axis node reached 3.2e+03")
    (row,) = audit.dissolved_pool(ds)
    assert row.status == audit.FAIL and "reached 3.2e+03" in row.detail
    ds.attrs["silver_pool_capacity"] = float("nan")  # the spread follows the dissolved Ag: no such premise
    assert audit.dissolved_pool(ds) == []
    assert audit.dissolved_pool(None) == []


def test_silver_occupancy_row():
    assert audit.silver_occupancy(_filament(occupancy=1.0)).status == audit.PASS
    assert audit.silver_occupancy(_filament(occupancy=5.2e5)).status == audit.FAIL
    assert audit.silver_occupancy(_filament(occupancy=None)).status == audit.UNKNOWN
    assert audit.silver_occupancy(None).status == audit.UNKNOWN
    # the run's own account of the excess, where it recorded one, is the row's explanation
    over = _filament(occupancy=2.5)
    over.attrs["silver_occupancy_warning"] = "Ag occupancy reached 2.5 > 1: which the lattice gas should not allow"
    assert "lattice gas" in audit.silver_occupancy(over).detail
    assert "dilute transport" in audit.silver_occupancy(_filament(occupancy=5.2e5)).detail


def _ions(median, potential, fraction=0.2, peak=None) -> xr.Dataset:
    ds = _filament()
    ds = ds.assign_coords(set_point=np.arange(len(median)))
    ds["set_voltage"] = ("set_point", np.linspace(1.0, 2.5, len(median)))
    ds["set_ion_potential_ratio_median"] = ("set_point", np.asarray(median, float))
    ds["set_ion_potential_ratio"] = ("set_point", np.asarray(median if peak is None else peak, float))
    ds["set_ion_potential"] = ("set_point", np.asarray(potential, float))
    ds["set_ion_potential_ratio_fraction"] = ("set_point", np.full(len(median), fraction))
    return ds


def test_ion_space_charge_row():
    """The runs' time-weighted median ratio within SPACE_CHARGE_LIMIT passes (whatever the last step's peak);
    beyond, it fails naming the worst voltage, the potential and the ions' fraction; NaN everywhere is unknown; no
    row without the variables."""
    assert audit.ion_space_charge(_filament()) == [] and audit.ion_space_charge(None) == []
    (row,) = audit.ion_space_charge(_ions([0.05, 0.08], [0.05, 76.0], peak=[0.05, 68.6]))
    assert row.status == audit.PASS and row.value.startswith("0.08 at 2.5 V") and "largest 68.6" in row.detail
    (row,) = audit.ion_space_charge(_ions([246.0, 189.0, np.nan], [246.0, 284.0, np.nan], fraction=0.27))
    assert row.status == audit.FAIL and row.value.startswith("246 at 1 V")
    assert "246 V" in row.detail and "0.27 of the sites" in row.detail and "compensates" in row.detail
    (row,) = audit.ion_space_charge(_ions([np.nan], [np.nan]))
    assert row.status == audit.UNKNOWN
    coupled = _ions([246.0, 189.0], [246.0, 284.0])
    coupled.attrs["ion_compensation"] = 0.99
    (row,) = audit.ion_space_charge(coupled)
    assert row.status == audit.PASS and row.value == "coupled, f = 0.99"
    assert "0.01 of their own" in row.detail and "given, not derived" in row.detail and "246 V" in row.detail


def test_step_check_row_only_when_the_filament_ran_one():
    """No row without a step check; within STEP_CHECK_RTOL it passes, beyond it fails naming the worst number."""
    assert audit.step_check(_filament()) == [] and audit.step_check(None) == []
    checked = _filament()
    for name, value in (("set_time_tau0_step_deviation", 0.03), ("set_time_v0_step_deviation", -0.02),
                        ("relaxation_time_step_deviation", 0.01), ("threshold_step_deviation", 0.04)):
        checked[name] = ((), value)
    (row,) = audit.step_check(checked)
    assert row.status == audit.PASS and "threshold" in row.value
    checked["set_time_tau0_step_deviation"] = ((), 0.121)  # the default cell's, at step_check 0.01
    (row,) = audit.step_check(checked)
    assert row.status == audit.FAIL and "+12.1%" in row.value and "set_time_tau0" in row.value
    checked["relaxation_time_step_deviation"] = ((), float("nan"))  # a check run that did not converge
    assert audit.step_check(checked)[0].status == audit.UNKNOWN


def _fitted(card: dict, max_ln: float | None) -> dict:
    if max_ln is not None:
        card["fit_quality"] = {"set_time_full_model": {"rms_ln": max_ln / 2, "max_ln": max_ln, "points": 4}}
    return card


def test_set_time_law_row_holds_the_static_threshold_inside_the_fitted_set_voltages():
    """No row without the filament's set-time study or the card's threshold; the card's static threshold inside the
    set voltages that set the cell, with the law within SET_TIME_FACTOR of the FEM's set times there, passes; outside
    (the default cell: 0.800 V against 1.0-2.5 V) or off the data (with set voltages down to 0.2 V: no set below
    0.800 V in the law, where the FEM sets) fails."""
    assert audit.set_time_law_range(_filament(), _card(threshold_voltage=0.8)) == []
    assert audit.set_time_law_range(None, _card(threshold_voltage=0.8)) == []
    studied = _filament()
    studied["set_voltage"] = ("set_point", [0.5, 1.0, 1.5, 2.0, 2.5])
    studied["set_time"] = ("set_point", [np.nan, 30e-6, 14e-6, 7.8e-6, 4.8e-6])  # no set at 0.5 V: not fitted there
    assert audit.set_time_law_range(studied, _card(threshold_voltage=None)) == []
    (row,) = audit.set_time_law_range(studied, _fitted(_card(threshold_voltage=1.2), 0.1))
    assert row.status == audit.PASS and row.limit == "1-2.5 V; <= 2x" and "1.11x" in row.value
    (row,) = audit.set_time_law_range(studied, _fitted(_card(threshold_voltage=0.8), 0.1))
    assert row.status == audit.FAIL and "set_voltages" in row.detail
    (row,) = audit.set_time_law_range(studied, _fitted(_card(threshold_voltage=2.6), 0.1))
    assert row.status == audit.FAIL
    (row,) = audit.set_time_law_range(studied, _fitted(_card(threshold_voltage=1.2), math.log(1e3)))
    assert row.status == audit.FAIL and "without a set" in row.value and "misses" in row.detail
    (row,) = audit.set_time_law_range(studied, _fitted(_card(threshold_voltage=1.2), math.log(2.5)))
    assert row.status == audit.FAIL and "2.5x" in row.value
    assert audit.set_time_law_range(studied, _card(threshold_voltage=1.2))[0].status == audit.UNKNOWN  # no quality
    assert audit.set_time_law_range(studied, _card(threshold_voltage=0.8))[0].status == audit.FAIL  # outside anyway
    studied["set_time"] = ("set_point", [np.nan, np.nan, np.nan, np.nan, 4.8e-6])  # one set: no law
    assert audit.set_time_law_range(studied, _card(threshold_voltage=1.2))[0].status == audit.UNKNOWN


def test_growth_premise_row_holds_the_fems_return_on_the_growing_body():
    """No row without the body balance or a card of two slow states; every set voltage that set with the return
    within GROWTH_RETURN_LIMIT (1/2: the oldest stretch's life within the factor 2) passes; the default cell's at
    1.0 V (0.82: the body held at percolation) fails and names the voltages; a voltage that did not set is not
    counted."""
    studied = _filament()
    studied["set_voltage"] = ("set_point", [0.5, 1.0, 1.5, 2.0, 2.5])
    studied["set_time"] = ("set_point", [np.nan, 30e-6, 14e-6, 7.8e-6, 4.8e-6])
    two_states = _card(dissolution_rate=1.8e4)
    assert audit.growth_premise(studied, two_states) == []  # no body balance
    studied["set_body_return_ratio"] = ("set_point", [0.99, 0.45, 0.3, 0.2, 0.13])
    assert audit.growth_premise(studied, _card()) == []  # one slow state: no premise to hold
    assert audit.growth_premise(None, two_states) == []
    (row,) = audit.growth_premise(studied, two_states)
    assert audit.GROWTH_RETURN_LIMIT == 0.5
    assert row.status == audit.PASS and row.value == "0.45 at 1 V"  # 0.99 at 0.5 V did not set
    studied["set_body_return_ratio"] = ("set_point", [0.99, 0.82, 0.6, 0.2, 0.13])
    (row,) = audit.growth_premise(studied, two_states)
    assert row.status == audit.FAIL and row.value == "0.82 at 1 V" and "at 1, 1.5 V the FEM's field" in row.detail
    studied["set_body_return_ratio"] = ("set_point", [np.nan] * 5)  # no run halved its gap
    assert audit.growth_premise(studied, two_states)[0].status == audit.UNKNOWN


def _run_folder(tmp_path, card: dict):
    for name in ("filament", "emission", "compact", "array"):
        (tmp_path / name).mkdir()
    _filament().to_netcdf(tmp_path / "filament" / "filament.nc", engine="h5netcdf")
    _emission().to_netcdf(tmp_path / "emission" / "emission.nc", engine="h5netcdf")
    lam = np.linspace(1.4e-6, 3.0e-6, 81)  # photons below e V_th = 0.9 eV only
    xr.Dataset({"photons_per_spike": ((), 40.0), "emitted_spectrum": ("spectrum_wavelength", np.full(81, 1 / 1.6e-6)),
                "spectral_efficiency": ((), 0.01)}, coords={"spectrum_wavelength": lam}).to_netcdf(
        tmp_path / "array" / "array.nc", engine="h5netcdf")
    (tmp_path / "compact" / "device_card.json").write_text(json.dumps(card))


@pytest.mark.parametrize("strict", [False, True])
def test_pipeline_audit_writes_strict_json_and_fails_only_under_strict(tmp_path, strict):
    from devicephys.pipeline import _joint_audit
    from devicephys.report import write_report

    _run_folder(tmp_path, _card(resistance_on=17.6))
    summary: dict = {}
    rows = _joint_audit(tmp_path, summary, strict)
    saved = json.loads((tmp_path / "audit.json").read_text())
    assert "NaN" not in (tmp_path / "audit.json").read_text()
    assert saved["counts"] == {"pass": len(rows) - 1, "fail": 1, "unknown": 0}
    assert (summary.get("audit", {}).get("status") == "failed") is strict
    page = write_report(tmp_path, summary, None, rows).read_text()
    assert page.index("Joint audit") < page.index("<h2>filament"), "the audit is not on the first screen"
    assert "#f8d0d0" in page  # the failing row is red


def test_report_first_screen_shows_key_numbers_beside_their_ranges(tmp_path):
    from devicephys.report import write_report

    card = _card(resistance_on=17.6)
    card["parameters"]["resistance_on"]["source"] = "FEM"
    card["uncertainties"] = {"threshold_voltage": 0.02}
    _run_folder(tmp_path, card)
    page = write_report(tmp_path, {}, None, audit.audit(tmp_path)).read_text()
    assert page.index("Key numbers") < page.index("Joint audit")
    assert "0.9 ± 0.02" in page  # value with its 1σ
    assert "OUT of range" in page and page.count("OUT of range") == 1  # R_on = 17.6 Ω only
    assert "at R_on's low end" not in page  # no bracket, none shown


def test_report_key_numbers_show_the_card_at_both_ends_of_r_on(tmp_path):
    from devicephys.report import write_report

    card = _card()
    card["parameters"]["photons_per_spike"] = {"value": 8.9, "unit": "1", "description": "", "source": ""}
    card["fit_quality"] = {"resistance_on_bracket": {
        "ends": "quartiles", "low": {"resistance_on": 15e3, "photons_per_spike": 8.8},
        "high": {"resistance_on": 61e3, "photons_per_spike": 14.0}}}
    _run_folder(tmp_path, card)
    page = write_report(tmp_path, {}, None, audit.audit(tmp_path)).read_text()
    assert "8.9 (8.8 at R_on&#x27;s low end, 14 at its high end)" in page
    assert page.count("at R_on&#x27;s low end") == 1  # R_on itself is the bracket's argument, not shown


def test_published_ranges_fall_back_to_the_filament_result_without_a_card():
    filament = xr.Dataset({"resistance_on": ((), 17.6), "thermal_resistance": ((), 2.8e5)})
    rows = {r.constraint.split()[0]: r for r in audit.published_ranges(None, filament)}
    assert rows["resistance_on"].status == audit.FAIL and rows["resistance_on"].joint == "filament result"
    assert rows["thermal_resistance"].status == audit.PASS
    assert rows["hold_voltage"].status == audit.UNKNOWN
    with_card = {r.constraint.split()[0]: r for r in audit.published_ranges(_card(), filament)}
    assert with_card["resistance_on"].joint == "card" and with_card["resistance_on"].status == audit.PASS
