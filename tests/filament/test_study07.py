"""Study 07 end to end (nucleation on an inert cathode: its time, the set-time law's V₀, pulse counting)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.studies import load_study

pytest.importorskip("dolfinx_solver")

pytestmark = [pytest.mark.fem, pytest.mark.slow]


def _study():
    return load_study("07_nucleation.py")


def test_study07_passes_its_checks_and_writes_its_tables(tmp_path, capsys):
    code = _study().main(["--voltages", "2.75", "3.0", "3.25", "--pulse-voltages", "3.25",
                          "--intervals", "40e-6", "200e-6", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("-> ok") == 3
    rows = np.genfromtxt(tmp_path / "nucleation.csv", delimiter=",", names=True)
    assert list(rows["source_voltage_V"]) == [2.75, 3.0, 3.25]
    assert np.all(rows["nucleation_s"] < rows["set_time_s"])
    assert np.all(rows["set_time_without_nucleation_s"] < rows["nucleation_s"])  # the wait dominates here
    fire = np.genfromtxt(tmp_path / "pulse_count.csv", delimiter=",", names=True)
    assert float(fire["n_fire_every_4e05_s"]) == float(fire["n_fire_every_00002_s"]) == 2.0
    assert (tmp_path / "07_nucleation.png").stat().st_size > 10_000


def test_study07_refuses_bad_input_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        _study().main(["--intervals", "10e-6", "--out", str(tmp_path)])
    assert info.value.code == 2
    assert "must exceed the pulse width" in capsys.readouterr().err
