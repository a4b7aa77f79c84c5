"""Study 11 (the static hold from the ON lifetime, at several largest steps of the holds)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.studies import load_study


def _study():
    return load_study("11_hold_lifetime.py")


def test_study11_refuses_bad_input_in_one_line(tmp_path, capsys):
    for argv in (["--steps", "0.01"], ["--steps", "0.01", "0.9"], ["--biases", "0.2"], ["--biases", "0.2", "9"],
                 ["--jobs", "0"], ["--max-change", "0"]):
        with pytest.raises(SystemExit) as info:
            _study().main([*argv, "--out", str(tmp_path)])
        assert info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert argv[0] in err


def test_the_hold_is_the_lowest_bias_held_and_the_bias_below_it():
    study = _study()
    biases = [0.1, 0.15, 0.2, 0.25]
    assert study.hold(biases, [2e-5, 3e-5, np.nan, np.nan]) == (0.2, 0.15)
    assert all(math.isnan(x) for x in study.hold(biases, [np.nan] * 4))  # held everywhere: below the biases
    assert all(math.isnan(x) for x in study.hold(biases, [1e-6] * 4))  # held nowhere


def test_the_checks_compare_lifetimes_below_the_hold_and_the_holds_within_their_bracket():
    study = _study()
    biases = [0.1, 0.15, 0.2, 0.21, 0.25]
    fine = {"lifetime": np.array([22.6e-6, 33.9e-6, np.nan, np.nan, np.nan])}
    finer = {"lifetime": np.array([22.0e-6, 33.0e-6, 54.9e-6, np.nan, np.nan])}
    found = study.checks(biases, fine, finer)
    rel, target, ok = found["lifetime_agrees"]
    assert rel == pytest.approx(0.6 / 22.0) and target == study.LIFETIME_TARGET and ok
    diff, bracket, ok = found["hold_agrees"]  # 0.2 (from 0.15) against 0.21 (from 0.2): one bracket apart
    assert diff == pytest.approx(0.01) and bracket == pytest.approx(0.05) and ok
    finer["lifetime"][1] = 40e-6  # 0.15 V: 21 % apart
    assert not study.checks(biases, fine, finer)["lifetime_agrees"][2]
    far = {"lifetime": np.array([22.0e-6, 33.0e-6, 50e-6, 60e-6, 70e-6])}  # never held: no hold to compare
    assert not study.checks(biases, fine, far)["hold_agrees"][2]


def test_study11_refuses_a_run_written_with_another_max_change(tmp_path):
    import io
    import json

    study = _study()
    meta = {"step": 0.0125, "biases": [0.1, 0.2], "max_change": 0.01, "wall_s": 1.0}
    buf = io.BytesIO()
    np.savez(buf, meta=json.dumps(meta), lifetime=np.zeros(2))
    (tmp_path / "lifetime_0.0125.npz").write_bytes(buf.getvalue())
    data, _ = study.load(tmp_path, 0.0125, [0.1, 0.2], 0.01)
    assert data["lifetime"].shape == (2,)
    with pytest.raises(SystemExit, match="max_concentration_change 0.01, not .* and 0.05"):
        study.load(tmp_path, 0.0125, [0.1, 0.2])  # the preset's 0.05
