"""Study 18 (the ions' own potential during a set): input, the run end to end on the default cell, its files."""

from __future__ import annotations

import json

import pytest

from tests.studies import load_study

pytest.importorskip("dolfinx_solver")


def test_study18_refuses_an_unknown_case_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        load_study("18_ion_space_charge.py").main(["--cases", "dilute", "--out", str(tmp_path)])
    assert info.value.code == 2
    assert "--cases" in capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.fem
def test_study18_default_cell_end_to_end(tmp_path, capsys):
    """The default cell's set at 0.5 V: the ions' potential far above the drift's voltage (uncompensated at the
    source's 0.2 of the sites), the linear response the same on both meshes, every file written."""
    study = load_study("18_ion_space_charge.py")
    assert study.main(["--cases", "default", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "check psi_1 on the two meshes" in out and "-> ok" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["checks"]["psi_1 on the two meshes"]["passed"]
    case = summary["cases"]["default"]
    assert case["set_time"] > 0 and case["ratio"] >= case["ratio_median"] > 1.0  # hundreds: the 0.1 limit far exceeded
    rows = (tmp_path / "space_charge.csv").read_text().splitlines()
    assert rows[1].startswith("default,0.5,") and len(rows) == 2
    assert (tmp_path / "18_ion_space_charge.png").stat().st_size > 0 and (tmp_path / "default.npz").is_file()
