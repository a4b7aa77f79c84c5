"""``step_check``: the set-time study, the self-rupture and the sweep's threshold checked in the run against the same
runs under a tighter step control (the local error and the change limit at the check's value), in the second
process or in the stage's own."""

from __future__ import annotations

import math

import numpy as np
import pytest

from devicephys.errors import SpecError
from devicephys.filament.spec import FilamentSpec
from tests.fem_fixtures import tiny_fields

TINY = tiny_fields(field_snapshots=0)  # the MPI test's cell, small and short
NAMES = ("threshold_voltage_step_check", "threshold_source_voltage_step_check", "threshold_step_deviation",
         "set_time_tau0_step_check", "set_time_v0_step_check", "set_time_tau0_step_deviation",
         "set_time_v0_step_deviation", "relaxation_time_step_check", "relaxation_time_step_deviation")


@pytest.mark.parametrize("value,words", [(0.0, ["step_check", "> 0"]), (0.6, ["step_check", "<= 0.5"])])
def test_bad_check_is_refused_in_one_line(value, words):
    with pytest.raises(SpecError) as info:
        FilamentSpec(step_check=value)
    assert "\n" not in str(info.value) and all(w in str(info.value) for w in words), str(info.value)


@pytest.mark.fem
def test_check_measures_the_main_drives_step_error(monkeypatch):
    """The threshold's check (at 0.01) lies within a quarter of the main drive's distance from a finer check (0.003);
    the set-time law's check is the fit of the checked set times; the numbers are the same in the second process
    and in the stage's own, and the threshold's uncertainty names the check."""
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import extract, side, stage

    spec = FilamentSpec(**TINY, step_check=0.01)
    monkeypatch.setenv("DEVICEPHYS_WORKERS", "1")
    serial = stage.solve_filament(spec, progress=False).data
    finer = stage.rising_ramp_threshold(stage.checked_spec(spec.model_copy(update={"step_check": 0.003})))
    v_th, check = float(serial["threshold_voltage"]), float(serial["threshold_voltage_step_check"])
    assert math.isfinite(check) and abs(check - finer["threshold"]) < 0.25 * abs(v_th - finer["threshold"]), \
        (v_th, check, finer)
    assert float(serial["threshold_step_deviation"]) == pytest.approx(v_th / check - 1, rel=1e-12)
    assert "measured in this run" in serial["threshold_voltage"].attrs["uncertainty_method"]
    times = serial["set_time_step_check"].values
    assert np.all(np.isfinite(times)) and np.all(times > 0)
    tau0, v0, _ = extract.fit_set_time(np.array(spec.set_voltages), times)
    assert float(serial["set_time_tau0_step_check"]) == tau0 and float(serial["set_time_v0_step_check"]) == v0
    assert float(serial["set_time_v0_step_deviation"]) == pytest.approx(float(serial["set_time_v0"]) / v0 - 1, rel=1e-12)
    relax = float(serial["relaxation_time_step_check"])
    assert math.isfinite(relax) and relax > 0
    assert float(serial["relaxation_time_step_deviation"]) == pytest.approx(
        float(serial["relaxation_time"]) / relax - 1, rel=1e-12)
    assert serial.attrs["wall_time_step_check_ramp_s"] > 0 and serial.attrs["wall_time_step_check_set_runs_s"] > 0

    monkeypatch.delenv("DEVICEPHYS_WORKERS")
    from mpi4py import MPI

    if not side.available(MPI.COMM_WORLD):
        pytest.skip("one core: no second process to compare with")
    beside = stage.solve_filament(spec, progress=False).data
    for name in NAMES + ("threshold_voltage",):
        assert float(beside[name]) == float(serial[name]), name
    assert np.array_equal(beside["set_time_step_check"].values, times)


def test_check_without_a_sweep_checks_the_set_law_only():
    """A pulse drive has no sweep threshold: only the set-time law's and the self-rupture's checks are written."""
    from devicephys.filament import stage

    spec = FilamentSpec(step_check=0.01, drive="pulse", set_voltages=[1.0, 2.0])
    times = np.array([2e-5, 2e-5 * math.exp(-1.0 / 0.5)])  # tau0 exp(-V/V0) with V0 = 0.5 V
    out = stage._checked_scalars(spec, {"set_times": times, "relaxation_time": 1e-5, "ramp": None}, math.nan, 8e-5, 0.55,
                                 1.2e-5)
    assert not any(name.startswith("threshold") for name in out)
    assert out["set_time_v0_step_check"][0] == pytest.approx(0.5, rel=1e-12)
    assert out["set_time_tau0_step_check"][0] == pytest.approx(2e-5 * math.exp(1.0 / 0.5), rel=1e-12)
    assert out["set_time_v0_step_deviation"][0] == pytest.approx(0.1, rel=1e-12)
    assert out["relaxation_time_step_deviation"][0] == pytest.approx(0.2, rel=1e-12)


def test_a_check_that_fails_gives_nan_and_a_note(monkeypatch, capsys):
    """A check run that does not converge never stops the stage: its values are NaN, with a note naming the fix."""
    pytest.importorskip("mpi4py")
    from devicephys.errors import ConvergenceError
    from devicephys.filament import stage

    def fails(spec, *args):
        raise ConvergenceError("time step fell below min_time_step")

    monkeypatch.setattr(stage, "rising_ramp_threshold", fails)
    ramp = stage.step_check_ramp(FilamentSpec(step_check=0.01))
    assert all(math.isnan(v) for v in ramp.values())
    err = capsys.readouterr().err
    assert "did not converge" in err and "raise step_check" in err
