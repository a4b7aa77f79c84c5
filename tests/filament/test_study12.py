"""Study 12 (the transient's step control: the change limit against the local-error estimate)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.studies import load_study


def _study():
    return load_study("12_step_control.py")


def test_study12_refuses_bad_input_in_one_line(tmp_path, capsys):
    for argv, names in ((["--settings", "error:0.01"], "--settings"),              # one error setting: no check
                        (["--settings", "error:0.01", "size:0.1"], "--settings"),  # an unknown control
                        (["--settings", "error:0", "error:0.01"], "--settings"),   # outside (0, 0.5]
                        (["--reference", "change:0.2"], "--reference"),          # not one of the settings
                        (["--step", "0"], "--step"), (["--jobs", "0"], "--jobs")):
        with pytest.raises(SystemExit) as info:
            _study().main([*argv, "--out", str(tmp_path)])
        assert info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert names in err, err


def test_a_setting_names_its_control_and_value():
    study = _study()
    assert study.parse_setting("error:0.003") == ("error", 0.003)
    assert study.parse_setting("change:0.05") == ("change", 0.05)
    with pytest.raises(ValueError, match="change:X or error:X"):
        study.parse_setting("error:abc")
    assert study.finest_errors(["change:0.05", "error:0.01", "error:0.001", "error:0.003"]) == ["error:0.003",
                                                                                                 "error:0.001"]


def test_the_spec_of_a_setting_carries_its_control():
    study = _study()
    change, error = study.spec_for("change:0.01"), study.spec_for("error:0.003")
    assert change.max_concentration_change == 0.01 and change.step_error_tolerance is None
    assert error.step_error_tolerance == 0.003 and error.max_concentration_change == 0.05  # the preset's limit
    assert change.max_step_fraction == error.max_step_fraction == study.STEP
    assert error.step_error_scope == "growth"  # the spec's default: the filament's growth to the set
    assert change.resolve_set and error.resolve_set  # the floor follows the time elapsed: no control held at it


def test_the_checks_hold_each_quantity_to_its_target_relative_to_the_finer():
    study = _study()
    finer = {"threshold": np.array(1.335), "set_time": np.array(4.70e-6)}
    fine = {"threshold": np.array(1.34), "set_time": np.array(4.75e-6)}
    found = study.checks(fine, finer)
    assert found["threshold [V]"][0] == pytest.approx(0.005 / 1.335) and found["threshold [V]"][2]
    assert found["set time at 2.5 V [s]"][0] == pytest.approx(0.05 / 4.7) and all(ok for *_, ok in found.values())
    fine["threshold"] = np.array(1.36)  # 1.9 % apart: above the 1 % target
    assert not study.checks(fine, finer)["threshold [V]"][2]
    fine["set_time"] = np.array(np.nan)  # no set at the coarser tolerance: no agreement
    assert not study.checks(fine, finer)["set time at 2.5 V [s]"][2]
    assert math.isnan(study.checks(fine, finer)["set time at 2.5 V [s]"][0])


def test_study12_refuses_a_run_written_at_another_step(tmp_path):
    import io
    import json

    study = _study()
    buf = io.BytesIO()
    np.savez(buf, meta=json.dumps({"setting": "error:0.01", "step": study.STEP}), threshold=1.3)
    (tmp_path / "control_error_0.01.npz").write_bytes(buf.getvalue())
    assert float(study.load(tmp_path, "error:0.01")["threshold"]) == 1.3
    with pytest.raises(SystemExit, match="largest step 0.0125, not 0.0025"):
        study.load(tmp_path, "error:0.01", 0.0025)
