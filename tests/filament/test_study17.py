"""Study 17 (the threshold against the sweep rate): input, the runs it asks for, the analysis and its files."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tests.studies import load_study


def _study():
    return load_study("17_sweep_rate.py")


def test_study17_refuses_bad_input_in_one_line(tmp_path, capsys):
    for argv in (["--sweep-times", "0"], ["--sweep-times", "nan"], ["--levels=-1"], ["--jobs", "0"]):
        with pytest.raises(SystemExit) as info:
            _study().main([*argv, "--out", str(tmp_path)])
        assert info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert argv[0].split("=")[0] in err


def test_the_step_controls_halve_the_largest_step_and_the_change():
    study = _study()
    # 1/80 of a 2 ms sweep is 25 us, of a 0.2 s sweep 2.5 ms (level 0: 25 us), of the fast sweep 2.5 us (level 0
    # keeps it)
    assert study.control_of(2e-3, None) == pytest.approx((25e-6, 0.05), rel=1e-12)
    assert study.control_of(0.2, None) == pytest.approx((2.5e-3, 0.05), rel=1e-12)
    assert study.control_of(0.2, 0) == pytest.approx((25e-6, 0.05), rel=1e-12)
    assert study.control_of(0.2, 2) == pytest.approx((6.25e-6, 0.0125), rel=1e-12)
    assert study.control_of(2e-4, 1) == pytest.approx((1.25e-6, 0.025), rel=1e-12)
    assert study.spec_for(0.2, 1).sweep_time == 0.2
    # level 0 of the 2 ms sweep is its preset's control, and is not run again
    assert study.runs_for([2e-3, 0.2], [1, 0]) == [(2e-3, None), (2e-3, 1), (0.2, None), (0.2, 0), (0.2, 1)]
    for run in [(0.2, None), (0.2, 2), "static"]:
        assert study._parse(study._argument(run)) == run


def _rows(values):
    study = _study()
    return {run: (study.control_of(*run), v) for run, v in values.items()}


def test_the_analysis_takes_the_finest_control_and_its_difference_from_the_next():
    study = _study()
    values = {(0.2, None): 0.42, (0.2, 0): 0.150, (0.2, 1): 0.149, (2e-4, None): 1.38,
              (2.0, None): 0.41, (2.0, 0): 0.20, (2.0, 1): 0.15}
    result = study.analyse([2e-4, 0.2, 2.0], _rows(values), 3.0)
    fast, mid, slow = result
    assert fast["rate_V_per_s"] == pytest.approx(3e4) and slow["rate_V_per_s"] == pytest.approx(3.0)
    assert fast["threshold_V"] == 1.38 and math.isnan(fast["step_error_V"]) and not fast["converged"]
    assert mid["levels"] == [None, 0, 1] and mid["thresholds_V"] == [0.42, 0.150, 0.149]
    assert mid["controls"][2] == pytest.approx([12.5e-6, 0.025])
    assert mid["threshold_V"] == 0.149 and mid["step_error_V"] == pytest.approx(0.001) and mid["converged"]
    assert slow["step_error_V"] == pytest.approx(0.05) and not slow["converged"]  # 33 % > 5 %
    values[(0.2, 1)] = math.nan  # no set at the finest control: not converged
    assert not study.analyse([0.2], _rows(values), 3.0)[0]["converged"]
    lines = study.csv_text(result).splitlines()
    assert lines[0].startswith("sweep_time_s,") and len(lines) == 1 + 7
    assert lines[-1].split(",")[-1] == "1" and lines[-2].split(",")[-1] == "0"
    assert lines[-1].split(",")[2:5] == ["1", "1.25e-05", "0.025"]


def _write(study, path, run, v):
    from devicephys.io import write_npz

    write_npz(path / study._name(run), {"run": list(run)},
              {"threshold": np.array(v), "source": np.array(v), "steps": np.array(10.0),
               "control": np.array(study.control_of(*run)), "wall_s": np.array(1.0)})


def test_the_summary_and_the_figure_from_written_runs(tmp_path, capsys):
    """main on runs already in --out (--resume): no FEM; the check fails where the two finest disagree."""
    from devicephys.io import write_npz

    study = _study()
    values = {(2e-3, None): 0.667, (2e-3, 1): 0.660, (0.2, None): 0.42, (0.2, 0): 0.150,
              (0.2, 1): 0.149}
    for run, v in values.items():
        _write(study, tmp_path, run, v)
    write_npz(tmp_path / "static.npz", {"run": "static"},
              {"static_threshold": np.array(0.156), "half_width": np.array(0.031), "probes": np.zeros((0, 2)),
               "wall_s": np.array(1.0)})
    write_npz(tmp_path / "constant_0.1.npz", {"run": ["constant", 0.1, 0.1]},
              {"set_time": np.array(4.0e-3), "window": np.array(0.1), "steps": np.array(10.0), "wall_s": np.array(1.0)})
    write_npz(tmp_path / "constant_0.05.npz", {"run": ["constant", 0.05, 0.1]},
              {"set_time": np.array(4.0e-3 * 2 ** 2.5), "window": np.array(0.1), "steps": np.array(10.0),
               "wall_s": np.array(1.0)})
    argv = ["--sweep-times", "2e-3", "0.2", "--levels", "0", "1", "--constants", "0.1", "0.05", "--resume", "--out",
            str(tmp_path)]
    assert study.main(argv) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [r["threshold_V"] for r in summary["rows"]] == [0.660, 0.149]
    assert summary["static_threshold_V"] == {"value": 0.156, "half_width": 0.031}
    assert summary["power_law"]["n"] == pytest.approx(2.5, rel=1e-9)
    assert summary["power_law"]["A_s_V^n"] == pytest.approx(4.0e-3 * 0.1 ** 2.5, rel=1e-9)
    assert summary["constant_set_times_s"] == [[0.05, pytest.approx(4.0e-3 * 2 ** 2.5)], [0.1, 4.0e-3]]
    with pytest.raises(SystemExit, match="--window"):  # the long runs were written with another window
        study.main([*argv, "--window", "1"])
    assert (tmp_path / "17_sweep_rate.png").stat().st_size > 0 and (tmp_path / "sweep_rate.csv").is_file()
    out = capsys.readouterr().out
    assert "0.1490 (1.25e-05, 0.025)" in out and "static threshold" in out
    _write(study, tmp_path, (0.2, 1), 0.10)
    assert study.main(argv) == 1
    assert "FAILED" in capsys.readouterr().out


def test_the_power_law_and_its_ramp_integral():
    study = _study()
    v = np.array([0.05, 0.075, 0.1, 0.2])
    a, n = study.power_law(v, 2e-5 * v ** -2.5)
    assert a == pytest.approx(2e-5, rel=1e-10) and n == pytest.approx(2.5, rel=1e-10)
    assert [round(x[2], 10) for x in study.exponents(v, 2e-5 * v ** -2.5)] == [2.5, 2.5, 2.5]
    # the integral of the ramp's rate (rate t)^n / A from 0 to the predicted time is 1
    from scipy.integrate import quad

    rate = 30.0
    vth = study.ramp_threshold_power_law(a, n, rate)
    total, _ = quad(lambda t: (rate * t) ** n / a, 0.0, vth / rate)
    assert total == pytest.approx(1.0, rel=1e-9)
    with pytest.raises(ValueError):
        study.power_law([0.1, 0.2], [1e-3, math.nan])
    tau0, v0, rms = study.exponential_fit(v, 3e-5 * np.exp(-v / 0.09))
    assert tau0 == pytest.approx(3e-5, rel=1e-9) and v0 == pytest.approx(0.09, rel=1e-9) and rms < 1e-12
    assert study.exponential_fit(v, 2e-5 * v ** -2.5)[2] > 0.1  # a power law is no exponential


@pytest.mark.slow
def test_study17_on_the_fem_one_slow_ramp(tmp_path):
    """The real rising ramp at 3000 V/s (2 ms sweep) under the preset's control and levels 1 and 2: each sets inside
    the published threshold range (0.2-1 V), which the stage's 3e4 V/s sweep lies above (docs/filament.md: "The threshold
    against the sweep rate"), and the two finest agree within the study's target (about 50 s on two cores)."""
    study = _study()
    code = study.main(["--sweep-times", "2e-3", "--levels", "1", "2", "--no-static", "--constants", "--jobs", "2",
                       "--out", str(tmp_path)])
    summary = json.loads((tmp_path / "summary.json").read_text())
    (row,) = summary["rows"]
    low, high = study.PUBLISHED
    assert len(row["thresholds_V"]) == 3 and all(low <= v <= high for v in row["thresholds_V"])
    assert code == 0 and row["converged"]


def test_the_anode_nernst_cell_reaches_every_run_and_its_workers(tmp_path, monkeypatch):
    """``--anode-nernst`` puts the bound (with the electrode's rest it refers to) into the ramps', the constant
    runs' and the static run's specs, and hands itself to every worker process."""
    study = _study()
    commands = {}
    monkeypatch.setattr("devicephys.workers.run_missing", lambda c, *a, **k: commands.update(c))
    monkeypatch.setattr(study, "check_cell", lambda *a: (_ for _ in ()).throw(SystemExit(0)))
    with pytest.raises(SystemExit):
        study.main(["--anode-nernst", "--sweep-times", "2e-3", "--levels", "0", "--no-static", "--constants",
                    "--out", str(tmp_path)])
    try:
        assert commands and all(c[-2:] == ["--anode-nernst", "layer"] for c in commands.values())
        for spec in (study.spec_for(2e-3, None), study.spec_for(2e-3, 1), study.constant_spec(0.1)):
            assert spec.anode_nernst and spec.active_electrode_equilibrium and spec.anode_nernst_split == "layer"
    finally:
        study.CELL.clear()
    assert not study.spec_for(2e-3, None).anode_nernst
    commands.clear()  # the bound's other limit: the split reaches the specs and the workers alike
    with pytest.raises(SystemExit):
        study.main(["--anode-nernst", "hopping", "--sweep-times", "2e-3", "--levels", "0", "--no-static",
                    "--constants", "0.1", "--out", str(tmp_path)])
    try:
        assert commands and all(c[-2:] == ["--anode-nernst", "hopping"] for c in commands.values())
        for spec in (study.spec_for(2e-3, None), study.constant_spec(0.1)):
            assert spec.anode_nernst and spec.anode_nernst_split == "hopping"
    finally:
        study.CELL.clear()


def test_a_resume_into_the_other_cells_folder_is_refused(tmp_path):
    from devicephys.io import write_npz

    study = _study()
    run = (2e-3, None)
    write_npz(tmp_path / study._name(run), {"run": list(run)}, {"threshold": 0.6})  # no record: the default cell's
    study.check_cell(tmp_path, [run])
    try:
        study.CELL.update(study.ANODE_NERNST)
        with pytest.raises(SystemExit, match="run on the cell default, not .*anode_nernst"):
            study.check_cell(tmp_path, [run])
    finally:
        study.CELL.clear()
