"""Stage 1 end to end on the fast preset, through the study script (real DOLFINx), on its dilute cell
(``FilamentSpec.dilute()``, where the study's closed forms hold)."""

from __future__ import annotations

import importlib.util
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dolfinx_solver")

from mpi4py import MPI  # noqa: E402

from devicephys.filament import extract, side  # noqa: E402
from devicephys.filament.result import FilamentResult  # noqa: E402
from devicephys.filament.spec import FilamentSpec  # noqa: E402
from devicephys.filament.stage import solve_filament  # noqa: E402

pytestmark = pytest.mark.fem
STUDY = Path(__file__).resolve().parents[2] / "studies" / "01_filament_formation.py"


def _study():
    spec = importlib.util.spec_from_file_location("study01_filament", STUDY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def study_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("study01")
    code = _study().main(["--fast", "--out", str(out)])
    return code, out


def test_study_fast_mode_passes_its_theory_checks(study_run):
    code, out = study_run
    assert code == 0
    assert (out / "01_filament_formation.png").stat().st_size > 10_000


def test_stage_outputs_and_units(study_run):
    _, out = study_run
    for name in ("filament.nc", "iv.png", "temperature.png", "snapshots.png", "set_time.png", "relaxation.png",
                 "fields.xdmf"):
        assert (out / name).is_file(), name
    r = FilamentResult.load(out / "filament.nc")
    for name in list(r.data.data_vars) + list(r.data.coords):
        assert "units" in r.data[name].attrs, name
    for name in ("threshold_voltage", "hold_voltage", "resistance_on", "resistance_off", "thermal_resistance",
                 "thermal_time_constant", "thermal_time_constant_mean", "set_time_tau0", "set_time_v0",
                 "relaxation_time", "filament_radius_final", "minimum_gap", "insulator_thickness"):
        assert math.isfinite(r.scalar(name)), name
        assert r.data[name].attrs.get("method"), name
    for name in ("threshold_voltage", "hold_voltage", "resistance_on", "resistance_off", "thermal_resistance",
                 "thermal_time_constant", "thermal_time_constant_mean", "set_time_tau0", "set_time_v0",
                 "relaxation_time"):
        sigma = r.data[name].attrs["uncertainty"]
        assert math.isfinite(sigma) and 0 <= sigma, name
        assert r.data[name].attrs.get("uncertainty_method"), name
    # τ_th read within a sample interval of at most 16 per decade
    assert r.data["thermal_time_constant"].attrs["uncertainty"] <= 0.16 * r.scalar("thermal_time_constant")
    # the first moment weighs the heating slower than the 1 - 1/e crossing in by its share; for the heat equation's
    # response, a mixture of decaying exponentials, it is no shorter than the crossing (equal for one exponential),
    # within the crossing's sampling
    tau = r.scalar("thermal_time_constant")
    assert r.scalar("thermal_time_constant_mean") >= tau - r.data["thermal_time_constant"].attrs["uncertainty"]
    assert r.spec == _study().study_spec(True)
    # the wall time of each part that ran (the fast preset runs no optional study)
    parts = {k for k in r.data.attrs if k.startswith("wall_time_")}
    expected = ["setup", "sweep", "set_runs", "relaxation", "thermal_step", "extraction"]
    if side.available(MPI.COMM_WORLD):  # the set runs, relaxation and thermal step ran beside the sweep
        expected.append("second_process_wait")
    assert parts == {f"wall_time_{p}_s" for p in expected}
    assert all(r.data.attrs[k] > 0 for k in parts if k != "wall_time_second_process_wait_s")


def test_set_time_runs_are_kept_up_to_their_set(study_run):
    """Each set-time run's gap trace starts at the pristine gap and ends at its set (gap < gap_on) at set_time."""
    _, out = study_run
    r = FilamentResult.load(out / "filament.nc")
    spec, d = r.spec, r.data
    for k in range(len(spec.set_voltages)):
        t, g = np.asarray(d["set_transient_time"][k]), np.asarray(d["set_transient_gap"][k])
        n = int(np.count_nonzero(np.isfinite(t)))
        assert n > 10 and np.all(np.isfinite(g[:n])) and np.all(np.isnan(g[n:]))
        assert t[0] == 0.0 and g[0] == pytest.approx(spec.insulator_thickness - spec.seed_height, rel=1e-12)
        assert t[n - 1] == float(d["set_time"][k]) and g[n - 1] < spec.gap_on <= g[n - 2]
        shorter = g[:n] < g[0] * (1 - 1e-9)
        first = int(np.flatnonzero(shorter)[0])  # the incubation ends at the first shorter gap
        assert float(d["set_incubation"][k]) == t[first] and not shorter[:first].any()
        assert 0 < t[first] <= t[n - 1]
        # the growing body at half closure, after the incubation and before the set
        assert t[first] <= float(d["set_body_time"][k]) <= t[n - 1]
        assert spec.percolation_threshold <= float(d["set_body_metal_fraction"][k]) <= 1.0
        # the ions' own potential: the run's largest, at an instant within it while the gap was open
        psi, ratio = float(d["set_ion_potential"][k]), float(d["set_ion_potential_ratio"][k])
        assert psi > 0 and ratio > 0 and 0 < float(d["set_ion_potential_ratio_time"][k]) <= t[n - 1]
        assert 0 < float(d["set_ion_potential_ratio_median"][k]) <= ratio
        assert float(d["set_ion_potential_ratio_fraction"][k]) > 0  # the dilute cell's ions are not bounded by 1
    # its ions far outside the charge-free drift (the dilute cell's pile up without bound): said, once
    assert "compensates their charge" in d.attrs["ion_space_charge_warning"]
    # the study's dilute cell has no field return of the dissolved Ag (dissolved_return false): none on the body
    assert not spec.dissolved_return and np.all(d["set_body_return_ratio"].values == 0.0)


def test_second_process_gives_the_serial_result(study_run, monkeypatch, capfd, tmp_path):
    """The set-time study, relaxation and thermal step run in a second process beside the sweep
    (``devicephys.filament.side``) give the serial order's result bit for bit.  The serial result comes from
    a second process that fails (its interpreter replaced by ``false``): the stage then runs them itself."""
    if not side.available(MPI.COMM_WORLD):
        pytest.skip("one core, or under mpiexec: the stage runs its parts in order")
    _, out = study_run
    beside = FilamentResult.load(out / "filament.nc").data
    assert "wall_time_second_process_wait_s" in beside.attrs
    monkeypatch.setattr(sys, "executable", shutil.which("false"))
    solve_filament(_study().study_spec(True), progress=False).save(tmp_path / "serial.nc")
    assert "the second process gave no result (exit status 1" in capfd.readouterr().err
    serial = FilamentResult.load(tmp_path / "serial.nc").data
    keys = {k for k in beside.attrs if not k.startswith("wall_time_")}
    assert keys == {k for k in serial.attrs if not k.startswith("wall_time_")}
    assert [k for k in sorted(keys) if str(beside.attrs[k]) != str(serial.attrs[k])] == []
    assert set(beside.data_vars) == set(serial.data_vars)
    assert [v for v in beside.data_vars if not beside[v].identical(serial[v])] == []
    assert beside.attrs["solver_staggered_sweeps"] > 0


def test_extracted_physics_is_consistent(study_run):
    _, out = study_run
    r = FilamentResult.load(out / "filament.nc")
    d = r.data
    assert r.scalar("hold_voltage") < r.scalar("threshold_voltage") < _study().study_spec(True).sweep_voltage
    # OFF is the tunnelling gap the rupture leaves, just past gap_rupture = 1 nm (Simmons: ~1e6 Ohm at low bias
    # through a 2 nm tip), in series with nothing that could make it 1e6 times R_on (a few 100 Ohm, the contact)
    assert r.scalar("resistance_off") > 1e3 * r.scalar("resistance_on")
    # R_on is the median of the ON samples: their quartiles bound it
    quartiles = r.scalar("resistance_on_lower_quartile"), r.scalar("resistance_on_upper_quartile")
    assert quartiles[0] <= r.scalar("resistance_on") <= quartiles[1]
    assert r.scalar("minimum_gap") < _study().study_spec(True).gap_on
    times = np.asarray(d["set_time"])
    assert np.all(np.isfinite(times)) and np.all(np.diff(times) < 0)  # higher voltage, faster set
    # cumulative energy never decreases and equals the integral of the dissipated power bound I*V_cell
    assert np.all(np.diff(np.asarray(d["energy"])) >= -1e-30)
    assert d["gap"].max() <= _study().study_spec(True).insulator_thickness
    # the sweep's set against the set-time law's prediction for its ramp (from 0 V: no static threshold run)
    spec = _study().study_spec(True)
    g, src = np.asarray(d["gap"]), np.asarray(d["source_voltage"])
    assert r.scalar("threshold_source_voltage") == src[np.argmax(g < spec.gap_on)]
    rate = spec.sweep_voltage / (spec.sweep_time / 2)
    predicted = extract.ramp_set_voltage(r.scalar("set_time_tau0"), r.scalar("set_time_v0"), rate)
    assert r.scalar("threshold_source_predicted") == pytest.approx(predicted, rel=1e-12)
    assert 0 < d["threshold_source_predicted"].attrs["uncertainty"] < predicted
    # the set-time runs' steps forced at the drive's floor are counted, and the fit's method says what they mean
    forced = np.atleast_1d(d.attrs["set_time_forced_steps"])
    assert forced.shape == (len(spec.set_voltages),) and np.all(forced >= 0)
    assert ("resolve_set: true resolves them" in d["set_time_v0"].attrs["method"]) == bool(forced.sum() > 0)
