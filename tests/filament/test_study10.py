"""Study 10 (the hold from replicas of the hold-window study's holds, at several largest time steps)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.studies import load_study


def _study():
    return load_study("10_hold_ensemble.py")


def test_study10_refuses_bad_input_in_one_line(tmp_path, capsys):
    for argv in (["--steps", "0.01"], ["--steps", "0.01", "0.9"], ["--biases", "0.2"], ["--biases", "0.2", "9"],
                 ["--replicas", "1"], ["--jobs", "0"], ["--coupling-tolerance", "0"]):
        with pytest.raises(SystemExit) as info:
            _study().main([*argv, "--out", str(tmp_path)])
        assert info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert argv[0] in err


def test_the_steps_agree_within_twice_their_combined_spread():
    study = _study()
    diff, allowed, ok = study.agreement({0.01: (0.30, 0.02), 0.002: (0.35, 0.02)})
    assert diff == pytest.approx(0.05) and allowed == pytest.approx(2 * math.hypot(0.02, 0.02)) and ok
    diff, allowed, ok = study.agreement({0.01: (0.30, 0.01), 0.002: (0.35, 0.01), 0.001: (0.31, 0.01)})
    assert diff == pytest.approx(0.05) and not ok  # the pair furthest outside its allowance decides
    assert study.agreement({0.01: (0.30, 0.01), 0.002: (math.nan, math.nan)})[2] is False  # no hold found


def test_per_bias_statistics_of_the_runs():
    runs = {"replica_on_fraction": np.array([[0.0, 0.5], [1.0, 1.0]]),
            "replica_start_on": np.array([[1.0, 1.0], [1.0, 1.0]]), "replica_ruptures": np.array([[2.0, 1.0], [0.0, 0.0]]),
            "replica_on_voltage": np.array([[np.nan, 0.2], [0.25, 0.27]])}
    row = _study().per_bias(runs)
    np.testing.assert_allclose(row["mean"], [0.25, 1.0])
    np.testing.assert_allclose(row["sem"], [np.std([0.0, 0.5], ddof=1) / math.sqrt(2), 0.0])
    np.testing.assert_allclose(row["held"], [0.0, 1.0])
    np.testing.assert_allclose(row["cell"], [0.2, 0.26])


@pytest.mark.fem
@pytest.mark.slow
def test_study10_runs_two_steps_and_writes_its_tables(tmp_path, capsys):
    pytest.importorskip("dolfinx_solver")
    argv = ["--steps", "0.0125", "0.01", "--biases", "0.3", "0.5", "--replicas", "2", "--out", str(tmp_path)]
    code = _study().main(argv)
    out = capsys.readouterr().out
    assert "check hold_voltage_ensemble_agrees_across_steps" in out, out
    assert code == (0 if "-> ok" in out else 1), out
    rows = np.genfromtxt(tmp_path / "hold_ensemble.csv", delimiter=",", names=True)
    assert rows.size == 4 and sorted(set(rows["bias_V"])) == [0.3, 0.5]
    assert np.all((rows["mean_ON_share_1"] >= 0) & (rows["mean_ON_share_1"] <= 1))
    assert (tmp_path / "10_hold_ensemble.png").stat().st_size > 10_000
    # the unperturbed run of each bias is the hold-window study's own: the same as without replicas
    with np.load(tmp_path / "hold_0.0125.npz") as data:
        np.testing.assert_array_equal(data["replica_on_fraction"][:, 0], data["on_fraction"])
    assert _study().main([*argv, "--resume"]) == code
    assert capsys.readouterr().out.count("kept from") == 2


def test_study10_refuses_a_run_written_with_another_neck_drive(tmp_path):
    import io
    import json

    study = _study()
    meta = {"step": 0.0125, "full": False, "coupling": None, "neck": "smooth", "biases": [0.2, 0.3], "replicas": 2,
            "scalars": {}, "wall_s": 1.0}
    buf = io.BytesIO()
    np.savez(buf, meta=json.dumps(meta), replica_on_fraction=np.zeros((2, 2)))
    (tmp_path / "hold_0.0125.npz").write_bytes(buf.getvalue())
    runs, _ = study.load(tmp_path, 0.0125, [0.2, 0.3], 2, neck="smooth")
    assert runs["replica_on_fraction"].shape == (2, 2)
    with pytest.raises(SystemExit, match="neck_drive smooth, not threshold"):
        study.load(tmp_path, 0.0125, [0.2, 0.3], 2, neck="threshold")
    del meta["neck"]  # a file from before the option: the threshold drive
    buf = io.BytesIO()
    np.savez(buf, meta=json.dumps(meta), replica_on_fraction=np.zeros((2, 2)))
    (tmp_path / "hold_0.0125.npz").write_bytes(buf.getvalue())
    with pytest.raises(SystemExit, match="neck_drive threshold, not smooth"):
        study.load(tmp_path, 0.0125, [0.2, 0.3], 2)
    with pytest.raises(SystemExit) as info:
        study.main(["--neck-drive", "sharp", "--out", str(tmp_path)])
    assert info.value.code == 2
