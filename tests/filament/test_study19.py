"""Study 19 (set times against the ions' compensation): input, a run end to end on the default cell, its files."""

from __future__ import annotations

import json
import math

import pytest

from tests.studies import load_study

pytest.importorskip("dolfinx_solver")


@pytest.mark.parametrize("args,word", [
    (["--compensations", "1.0"], "--compensations"),
    (["--compensations", "half"], "--compensations"),
    (["--voltages", "-1"], "--voltages"),
])
def test_study19_refuses_bad_input_in_one_line(tmp_path, capsys, args, word):
    with pytest.raises(SystemExit) as info:
        load_study("19_ion_compensation.py").main([*args, "--out", str(tmp_path)])
    assert info.value.code == 2
    assert word in capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.fem
def test_study19_space_charge_limited_runs_follow_mott_gurney(tmp_path, capsys):
    """At 1 V the uncompensated and the 90 % compensated ions do not set within 1 ms: their currents stand in the
    ratio of their uncompensated shares (Mott–Gurney's scaling with the permittivity); the study's check says so."""
    study = load_study("19_ion_compensation.py")
    args = ["--voltages", "1.0", "--compensations", "0.9", "0", "--window", "1e-3", "--out", str(tmp_path)]
    assert study.main(args) == 0
    out = capsys.readouterr().out
    assert "check Mott-Gurney scaling at 1 V (f = 0 vs 0.9)" in out and "-> ok" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    runs = summary["runs"]
    assert set(runs) == {"v1_f0.9", "v1_f0"}
    for meta in runs.values():
        assert math.isnan(meta["set_time"]) and meta["ion_current"] > 0
    assert runs["v1_f0.9"]["ion_current"] > 5 * runs["v1_f0"]["ion_current"]
    rows = (tmp_path / "compensation.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[1].startswith("1,0.9,nan,")
    assert (tmp_path / "19_ion_compensation.png").stat().st_size > 0
    # --resume keeps the written runs: the same summary without a solve
    assert study.main([*args, "--resume"]) == 0
    assert json.loads((tmp_path / "summary.json").read_text())["runs"] == runs
