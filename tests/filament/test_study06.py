"""Study 06 end to end (the resolved set kinetics against Mott–Gurney, the ions' transit and dissolution)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.studies import load_study

pytest.importorskip("dolfinx_solver")

pytestmark = [pytest.mark.fem, pytest.mark.slow]


def _study():
    return load_study("06_set_kinetics.py")


def test_study06_passes_its_checks_and_writes_its_table(tmp_path, capsys):
    code = _study().main(["--voltages", "1.0", "1.5", "2.0", "2.5", "3.0", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("-> ok") == 3
    rows = np.genfromtxt(tmp_path / "set_kinetics.csv", delimiter=",", names=True)
    assert list(rows["source_voltage_V"]) == [1.0, 1.5, 2.0, 2.5, 3.0]
    assert np.all(rows["incubation_s"] < rows["set_time_s"])
    assert rows["jumps_back"][0] > rows["jumps_back"][-1] == 0  # the sawtooth is a low-bias feature
    assert (tmp_path / "06_set_kinetics.png").stat().st_size > 10_000


def test_study06_static_threshold_is_growth_within_one_self_rupture_time(tmp_path, capsys):
    """The FEM's static threshold (bisection) against V0 asinh(L / (A t_r)); measured 0.656 +- 0.031 V against
    0.598 V (target: the bracket widened by 10 %)."""
    code = _study().main(["--voltages", "1.0", "2.0", "2.5", "3.0", "--static-threshold", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "check static_threshold_rupture" in out and out.count("-> ok") == 3
