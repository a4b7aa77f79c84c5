"""The card under the FEM's own drive (:mod:`devicephys.compact.fem_drive`).

(a) A FEM-shaped result made by the compact model itself (its sweep, set
runs and relaxation simulated by :func:`devicephys.compact.integrate.simulate_series`,
an independent integrator, and read off with the FEM's own extraction rules)
is reproduced to the integration and sampling tolerance; a card with a wrong
set-time prefactor is caught.  (b) On a real finite-element result (the fast
preset's, stored in ``tests/data/fem_fast_filament.json``) the block is in the
card, its numbers are finite and every failing row names the missing physics.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy.optimize import brentq

from devicephys.compact import fem_drive, integrate, synthetic
from devicephys.filament import extract
from tests.fem_fixtures import load_fem_result

ROOT = Path(__file__).resolve().parents[2]
P = synthetic.REFERENCE
SPEC = {"gap_on": 0.25e-9, "gap_rupture": 1.0e-9, "series_resistance": 20e3, "set_time_limit": 2e-5}
SET_VOLTAGES = (2.0, 2.2, 2.4)
SET_SAMPLES = 40000
SWEEP_SAMPLES = 2000  # per half of the triangle
#: Global error bound of an integration at rtol 1e-9 over about 1e3 steps [1].
INTEGRATION = 1e3 * fem_drive.RTOL


def _crossing_down(t, gap, level):
    k = int(np.flatnonzero(gap < level)[0])
    return float(t[k - 1] + (t[k] - t[k - 1]) * (gap[k - 1] - level) / (gap[k - 1] - gap[k]))


def card_made_result(p=P) -> xr.Dataset:
    """The FEM's protocols simulated with the compact model (linear series resistor, no compliance)."""
    g_on, g_r, r_s = SPEC["gap_on"], SPEC["gap_rupture"], SPEC["series_resistance"]
    tp, vp = integrate.triangle_sweep_pwl(3.0, 2e-3)
    tr = integrate.simulate_series(p, tp, vp, r_s, samples_per_segment=SWEEP_SAMPLES)
    set_t = []
    for v in SET_VOLTAGES:
        s = integrate.simulate_series(p, [0.0, SPEC["set_time_limit"]], [v, v], r_s, samples_per_segment=SET_SAMPLES)
        set_t.append(_crossing_down(s.time, s.gap, g_on))
    rt = np.linspace(0.0, 5 * p.relaxation_time, 400)
    rg = p.gap_max - (p.gap_max - p.gap_min) * np.exp(-rt / p.relaxation_time)
    t_rupture = p.relaxation_time * math.log((p.gap_max - p.gap_min) / (p.gap_max - g_r))
    scalars = {"threshold_voltage": extract.threshold_voltage(tr.voltage, tr.gap, g_on),
               "hold_voltage": extract.hold_voltage(tr.voltage, tr.gap, tr.source_voltage, g_on, g_r),
               "relaxation_time": t_rupture}
    ds = xr.Dataset({"source_voltage": ("time", tr.source_voltage), "voltage": ("time", tr.voltage),
                     "current": ("time", tr.current), "gap": ("time", tr.gap), "temperature_max": ("time", tr.temperature),
                     "set_voltage": ("set_point", np.array(SET_VOLTAGES)), "set_time": ("set_point", np.array(set_t)),
                     "relax_gap": ("relax_time", rg), **{k: ((), v) for k, v in scalars.items()}},
                    coords={"time": tr.time, "relax_time": rt})
    return ds


@pytest.fixture(scope="module")
def made():
    return card_made_result()


def test_compliance_divider_solves_the_fem_contact_law():
    # the FEM's source current I_cc x/sqrt(1+x^2), x = (V_src - V)/(I_cc R_s), equals the cell's G V
    drive = fem_drive.Drive(5e3, 1e-3)
    gaps = np.array([P.gap_max, 1e-9, 0.5e-9, P.contact_gap, P.gap_min])
    for vs in (-3.0, 0.3, 1.7, 3.0, 40.0):
        i, v = fem_drive.driven_current(P, gaps, vs, drive)
        for d, ik, vk in zip(gaps, i, v):
            g = float(fem_drive.model.cell_conductance(P, d))

            def source(vc):
                x = (vs - vc) / (drive.compliance_current * drive.series_resistance)
                return drive.compliance_current * x / math.sqrt(1 + x * x) - g * vc

            ref = brentq(source, min(0.0, vs), max(0.0, vs), xtol=1e-300, rtol=1e-14)
            assert vk == pytest.approx(ref, rel=1e-10, abs=1e-300)
            assert ik == pytest.approx(g * ref, rel=1e-10, abs=1e-300)
            assert abs(ik) < drive.compliance_current


def test_card_made_result_is_reproduced_to_integration_tolerance(made):
    out = fem_drive.compare(made, P, SPEC)
    rows = out["rows"]
    assert out["passes"], out["failing"]
    assert all(math.isfinite(made["set_time"].values[k]) for k in range(len(SET_VOLTAGES)))
    # the same equations by two integrators at rtol 1e-9: global errors below INTEGRATION (1e3 steps x rtol)
    assert rows["iv_sweep"]["error"] < INTEGRATION and rows["iv_sweep"]["fraction_state_differs"] == 0
    # threshold and hold: read by the same rule at the same samples
    for name in ("threshold_voltage", "hold_voltage"):
        assert abs(rows[name]["error"]) <= INTEGRATION * abs(rows[name]["fem"]), name
    # set times: the reference's crossing is interpolated on SET_SAMPLES samples of set_time_limit
    step = SPEC["set_time_limit"] / SET_SAMPLES
    for v, t in zip(SET_VOLTAGES, made["set_time"].values):
        assert abs(rows[f"set_time_{v:g}V"]["error"]) <= step / t, v
    assert abs(rows["relaxation_time"]["error"]) < INTEGRATION
    assert rows["relaxation_course"]["error"] < INTEGRATION


def test_a_wrong_set_law_is_caught_and_named(made):
    out = fem_drive.compare(made, replace(P, set_time_tau0=P.set_time_tau0 / 3), SPEC)
    rows = out["rows"]
    for v in SET_VOLTAGES:
        row = rows[f"set_time_{v:g}V"]
        assert not row["passes"] and -1.5 * math.log(3) < row["error"] < -0.5 * math.log(3)
        assert "set" in row["missing_physics"]
    assert not rows["threshold_voltage"]["passes"] and rows["threshold_voltage"]["error"] < 0
    assert rows["relaxation_time"]["passes"]
    assert set(out["failing"]) == {k for k, r in rows.items() if "missing_physics" in r}


def _stored_fem_result() -> xr.Dataset:
    return load_fem_result()


def _emission() -> xr.Dataset:
    # the FEM card fires below 1 V: its light (photon energy < 1 eV) lies in the infrared
    return synthetic.emission_dataset(wavelengths=np.linspace(2e-6, 10e-6, 241), band_scale=9.0)


def _check_block(card, ds: xr.Dataset) -> dict:
    block = card.fit_quality["fem_drive"]
    rows = block["rows"]
    expected = {"iv_sweep", "threshold_voltage", "hold_voltage", "relaxation_time", "relaxation_course"}
    expected |= {f"set_time_{v:g}V" for v in ds["set_voltage"].values}
    assert set(rows) == expected
    for name, row in rows.items():
        if "fem_missing" in row:  # the FEM's sweep without a hold: a flickering release may fall after its end
            assert name == "hold_voltage" and math.isnan(row["fem"]) and not row["passes"], row
            assert row["missing_physics"].startswith("the FEM's sweep has no hold: ON from the peak"), row
            continue
        assert math.isfinite(row["fem"]) and math.isfinite(row["tolerance"]) and row["tolerance"] > 0, name
        assert row["tolerance_reason"].startswith("target"), name
        assert math.isfinite(row["error"]) or not row["passes"], name
        if row["passes"]:
            assert abs(row["error"]) <= row["tolerance"] and "missing_physics" not in row, name
        else:
            assert len(row.get("missing_physics", "")) > 40, name
    assert block["failing"] == [k for k, r in rows.items() if not r["passes"]]
    assert block["drive"]["series_resistance"] == json.loads(ds.attrs["spec"])["series_resistance"]
    # a card of one slow state has its relaxation_time matched to the rupture time: its replay must agree (a card
    # of two breaks at (1 - c_p)/k_d from the FEM's own rate, and the row names what differs where it fails)
    if not card.model_params().dissolves:
        assert rows["relaxation_time"]["passes"]
    stored = json.loads(card.to_json())["fit_quality"]["fem_drive"]  # strict JSON (NaN written as null)
    page = fem_drive.report_html(stored)
    assert page.count("<tr") == len(rows) + 1 and page.count("#f8d0d0") == len(block["failing"])
    return block


@pytest.fixture(scope="module")
def fem_card():
    """The stored fast-preset FEM result and the card fitted to it."""
    from devicephys.compact import build
    from devicephys.compact.spec import CompactSpec

    ds = _stored_fem_result()
    return ds, build.fit_device(ds, _emission(), CompactSpec(verify=False))


def test_real_fem_result_block_is_finite_and_names_missing_physics(fem_card, tmp_path):
    from devicephys import report

    ds, card = fem_card
    block = _check_block(card, ds)
    # the report's compact section shows the table, with each failing row's missing physics
    page = report._fem_drive(card.save(tmp_path / "device_card.json"))
    for name in block["failing"]:
        assert html.escape(block["rows"][name]["missing_physics"], quote=True) in page, name


def test_a_fem_sweep_without_a_hold_gives_a_row_that_says_so(fem_card):
    """The default fast sweep releases in its last steps (at newton_rtol 1e-7 it stays bridged to the end): the
    hold row of a FEM sweep that ends ON has no FEM value, fails, and names why instead of the card's physics."""
    from devicephys.compact import build

    ds, card = fem_card
    fem = build.fem_spec(ds)
    last_on, _ = extract.hold_samples(ds["source_voltage"].values, ds["gap"].values, fem["gap_on"], fem["gap_rupture"])
    block = fem_drive.compare(ds.isel(time=slice(0, last_on + 1)), card.model_params(), fem)  # ends while ON
    row = block["rows"]["hold_voltage"]
    assert math.isnan(row["fem"]) and not row["passes"] and "hold_voltage" in block["failing"]
    assert row["missing_physics"] == row["fem_missing"]
    assert row["fem_missing"].startswith("the FEM's sweep has no hold: ON from the peak to the sweep's end")
    assert "fem_missing" not in card.fit_quality["fem_drive"]["rows"]["hold_voltage"]  # the whole sweep releases
    assert html.escape(row["missing_physics"], quote=True) in fem_drive.report_html(block)


@pytest.mark.slow
@pytest.mark.fem
def test_fresh_fem_run_block(tmp_path):
    import subprocess
    import sys

    from devicephys.compact import build
    from devicephys.compact.spec import CompactSpec

    subprocess.run([sys.executable, "-m", "devicephys", "filament", "--fast", "--quiet", "--out", str(tmp_path)],
                   check=True)
    ds = xr.load_dataset(tmp_path / "filament.nc", engine="h5netcdf")
    _check_block(build.fit_device(ds, _emission(), CompactSpec(verify=False)), ds)


@pytest.mark.spice
def test_exported_spice_under_the_fem_drive_matches_the_numpy_card(fem_card):
    from devicephys.compact import build, fem_drive_spice

    ds, card = fem_card
    out = fem_drive_spice.replay(card, ds, build.fem_spec(ds))
    assert out["passes"], out
    for name in ("threshold_voltage", "hold_voltage"):
        a, b = out[f"{name}_ngspice"], out[f"{name}_numpy"]
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=0.01), name
    assert "ngspice" in fem_drive.report_html({**card.fit_quality["fem_drive"], "ngspice": out})


@pytest.mark.spice
def test_a_replay_that_misses_the_target_is_refined_and_recorded(fem_card, monkeypatch):
    """A run whose current misses the target is run again at REFINE times the steps, each try recorded with its
    agreement against NumPy and against the run before, up to MAX_STEPS; the result is the finest run's."""
    from devicephys.compact import build, fem_drive_spice

    ds, card = fem_card
    base = fem_drive_spice.replay(card, ds, build.fem_spec(ds))
    assert base["refinements"] == [] and base["passes"]  # met at the first step: nothing refined
    monkeypatch.setattr(fem_drive_spice, "TARGET_LN_CURRENT", 1e-12)  # a target no run meets
    monkeypatch.setattr(fem_drive_spice, "MAX_STEPS", fem_drive_spice.STEPS[0] * fem_drive_spice.REFINE)
    out = fem_drive_spice.replay(card, ds, build.fem_spec(ds))
    assert not out["passes"] and [r["steps"] for r in out["refinements"]] == [fem_drive_spice.MAX_STEPS]
    duration = float(ds["time"].values[-1] - ds["time"].values[0])
    assert out["maximum_step"] == pytest.approx(duration / fem_drive_spice.MAX_STEPS, rel=1e-12)
    tries = out["refinements"][0]
    assert tries["current_rms_ln_vs_numpy"] == out["current_rms_ln_vs_numpy"]
    # rms is a norm: the two runs differ by at most the sum of their distances from NumPy (a finite, nonzero change)
    assert 0 < tries["current_rms_ln_vs_previous_steps"] <= (tries["current_rms_ln_vs_numpy"]
                                                             + base["current_rms_ln_vs_numpy"]) * (1 + 1e-9)
    shown = fem_drive.report_html({**card.fit_quality["fem_drive"], "ngspice": out})
    assert f"at {fem_drive_spice.MAX_STEPS} steps" in shown


@pytest.mark.spice
def test_the_default_cells_card_runs_the_fem_sweep_in_ngspice_with_the_cells_own_capacitance(monkeypatch):
    """The default cell's card (``tests/data/fem_default_filament.json``: the fast preset's stage, as the demo runs
    it) under its FEM sweep, with the cell's geometric capacitance across it (outside the current sense, its time
    constant picoseconds): ngspice runs and agrees with NumPy to the target. Without it the node between the
    compliance and the cell has no capacitance of its own; on this machine ngspice then stops at the set with
    "timestep too small" at both maximum steps, but a one-ulp change of the fitted card (NumPy's last bit differs
    between CPUs) lets it run, so that run is held only to: a clear ConvergenceError naming the stop, or NumPy's
    threshold to the target."""
    from devicephys.compact import build, fem_drive_spice
    from devicephys.compact.spec import CompactSpec
    from devicephys.errors import ConvergenceError
    from devicephys.geometry import DeviceGeometry

    ds = load_fem_result("fem_default_filament.json")
    card = build.fit_device(ds, _emission(), CompactSpec(verify=False))
    out = fem_drive_spice.replay(card, ds, build.fem_spec(ds))
    assert out["cell_capacitance"] == pytest.approx(DeviceGeometry.from_filament(ds).capacitance(), rel=1e-12)
    assert 1e-17 < out["cell_capacitance"] < 1e-15  # about 0.1 fF: the cell's parallel plates
    assert out["passes"], out
    assert out["threshold_voltage_ngspice"] == pytest.approx(out["threshold_voltage_numpy"], rel=1e-3)
    monkeypatch.setattr(fem_drive_spice, "cell_capacitance", lambda ds: 0.0)
    try:
        bare = fem_drive_spice.replay(card, ds, build.fem_spec(ds))
    except ConvergenceError as err:
        assert "imestep too small" in str(err)
    else:
        assert bare["cell_capacitance"] == 0.0
        assert bare["threshold_voltage_ngspice"] == pytest.approx(bare["threshold_voltage_numpy"], rel=1e-3)


@pytest.mark.spice
def test_exported_spice_gap_stays_within_its_bounds_under_the_fem_drive(fem_card):
    """ngspice (default options) keeps the gap above gap_min, at the NumPy card's closest gap within 1 %.

    Without the export's floor watch node ngspice stepped the gap to 0.21 nm below gap_min here
    (the heated, field-driven growth outran the floor within one step).
    """
    from devicephys.compact import build, fem_drive_spice

    ds, card = fem_card
    out = fem_drive_spice.replay(card, ds, build.fem_spec(ds))
    assert out["min_gap_ngspice"] >= card.model_params().gap_min
    assert out["min_gap_ngspice"] == pytest.approx(out["min_gap_numpy"], rel=fem_drive_spice.TARGET_LN_CURRENT)


@pytest.mark.spice
@pytest.mark.fem
@pytest.mark.slow
def test_two_state_card_in_ngspice_reads_the_numpy_switching_voltages_under_the_fem_drive(tmp_path):
    """The two-state card (``rupture: dissolution``) of the resolved fast stage under the FEM's own sweep: ngspice
    and NumPy switch at the same events, and the FEM's rules read on the same instants give the same threshold and
    hold (1 %; measured 1e-4 and 1e-7).  Read on ngspice's own time points, the hold took the cell voltage part-way
    up a rupture that opens the gap within ns (0.152 against 0.090 V)."""
    import subprocess
    import sys

    from devicephys.compact import build, fem_drive_spice
    from devicephys.compact.spec import CompactSpec

    spec = tmp_path / "filament.yaml"
    from devicephys.filament.spec import DILUTE_CELL

    # the dilute cell (examples/dilute.yaml), whose resolved stage the docstring's numbers were measured on
    fast = dict(far_mesh_size="40 nm", axis_mesh_size="0.5 nm", max_step_fraction=0.0125, min_step_fraction=0.002,
                field_snapshots=0, resolve_set=True, set_voltages=[2.0, 2.5, 3.0], **DILUTE_CELL)
    spec.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in fast.items()))
    subprocess.run([sys.executable, "-m", "devicephys", "filament", str(spec), "--quiet", "--out", str(tmp_path / "f")],
                   check=True)
    ds = xr.load_dataset(tmp_path / "f" / "filament.nc", engine="h5netcdf")
    card = build.fit_device(ds, _emission(), CompactSpec(verify=False, rupture="dissolution"))
    out = fem_drive_spice.replay(card, ds, build.fem_spec(ds))
    assert out["passes"], out
    for name in ("threshold_voltage", "hold_voltage"):
        assert out[f"{name}_ngspice"] == pytest.approx(out[f"{name}_numpy"], rel=0.01), name


@pytest.mark.spice
def test_exported_spice_under_the_fem_drive_of_the_transfer_cell_runs_to_the_end():
    """The bridged-transfer cell's capillary card (908 Ohm behind the 10 uA compliance) under that cell's FEM sweep.

    ``tests/data/card_transfer_capillary.json`` is the card ``devicephys run`` fitted to the FEM result stored in
    ``tests/data/fem_transfer_capillary_filament.json`` (``examples/bridged_transfer_capillary.yaml``, fast preset).
    At the replay's first maximum step (the sweep's 200 us / 4000) ngspice stopped 86 us in with "timestep too
    small" at the compliance's node and the card recorded no replay; the replay now runs again at a 10x shorter
    step, and ngspice then agrees with NumPy to the stage's target.
    """
    from devicephys.compact import build, fem_drive_spice
    from devicephys.compact.card import DeviceCard

    from devicephys.filament.spec import FilamentSpec

    ds = load_fem_result("fem_transfer_capillary_filament.json")
    card = DeviceCard.load(ROOT / "tests" / "data" / "card_transfer_capillary.json")
    example = FilamentSpec.from_file(ROOT / "examples" / "bridged_transfer_capillary.yaml")
    fem = build.fem_spec(ds)
    for option in ("dissolved_spread", "spread_drift", "channel_edge", "counter_plating", "bridged_transfer",
                   "gibbs_thomson_radius"):
        assert fem[option] == getattr(example, option), option  # the stored result is the example's cell
    out = fem_drive_spice.replay(card, ds, build.fem_spec(ds))
    assert out["passes"], out
    assert out["current_rms_ln_vs_numpy"] <= fem_drive_spice.TARGET_LN_CURRENT
    assert out["min_gap_ngspice"] == pytest.approx(out["min_gap_numpy"], rel=fem_drive_spice.TARGET_LN_CURRENT)
    duration = float(ds["time"].values[-1] - ds["time"].values[0])
    tried = fem_drive_spice.STEPS[:len(out["failed_at_larger_steps"]) + 1]
    assert out["maximum_step"] == pytest.approx(duration / tried[-1], rel=1e-12)
