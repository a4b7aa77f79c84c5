"""``threshold_step_check``: the sweep's threshold checked in the run against its ramp under the local-error
step control (study 12's threshold run), in the second process or in the stage's own."""

from __future__ import annotations

import math

import pytest

from devicephys.errors import SpecError
from devicephys.filament.spec import FilamentSpec

#: Small and short (the MPI test's cell; its change limit 0.2 and step floor put the sweep's threshold 66 % above
#: the check's).
TINY = {"far_mesh_size": 4.0e-8, "axis_mesh_size": 1.0e-9, "set_voltages": [3.5, 4.0], "max_step_fraction": 0.05,
        "min_step_fraction": 0.01, "max_concentration_change": 0.2, "field_snapshots": 0}
NAMES = ("threshold_voltage_step_check", "threshold_source_voltage_step_check", "threshold_step_deviation")


@pytest.mark.parametrize("fields,words", [
    ({"threshold_step_check": 0.01, "drive": "pulse"}, ["threshold_step_check", "drive: sweep"]),
    ({"threshold_step_check": 0.0}, ["threshold_step_check", "> 0"]),
    ({"threshold_step_check": 0.6}, ["threshold_step_check", "<= 0.5"]),
])
def test_bad_check_is_refused_in_one_line(fields, words):
    with pytest.raises(SpecError) as info:
        FilamentSpec(**fields)
    assert "\n" not in str(info.value) and all(w in str(info.value) for w in words), str(info.value)


@pytest.mark.fem
def test_check_measures_the_main_drives_step_error(monkeypatch):
    """The check (tolerance 0.01) lies within a quarter of the main drive's distance from a finer check (0.003),
    its numbers are the same in the second process and in the stage's own, and the threshold's uncertainty
    names it."""
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import side, stage

    spec = FilamentSpec(**TINY, threshold_step_check=0.01)
    monkeypatch.setenv("DEVICEPHYS_WORKERS", "1")
    serial = stage.solve_filament(spec, progress=False).data
    finer = stage.threshold_step_check(spec.model_copy(update={"threshold_step_check": 0.003}))["threshold"]
    v_th, check = float(serial["threshold_voltage"]), float(serial["threshold_voltage_step_check"])
    assert math.isfinite(check) and abs(check - finer) < 0.25 * abs(v_th - finer), (v_th, check, finer)
    assert float(serial["threshold_step_deviation"]) == pytest.approx(v_th / check - 1, rel=1e-12)
    assert "measured in this run" in serial["threshold_voltage"].attrs["uncertainty_method"]
    assert serial.attrs["wall_time_threshold_step_check_s"] > 0

    monkeypatch.delenv("DEVICEPHYS_WORKERS")
    from mpi4py import MPI

    if not side.available(MPI.COMM_WORLD):
        pytest.skip("one core: no second process to compare with")
    beside = stage.solve_filament(spec, progress=False).data
    for name in NAMES + ("threshold_voltage",):
        assert float(beside[name]) == float(serial[name]), name
