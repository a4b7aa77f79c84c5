"""Study 09 (the sweep's extracted numbers at several Newton tolerances) and the ``newton_rtol`` field."""

from __future__ import annotations

import numpy as np
import pytest

from devicephys.errors import SpecError
from devicephys.filament.spec import FilamentSpec
from tests.studies import load_study


def _study():
    return load_study("09_solver_tolerance.py")


@pytest.mark.parametrize("bad", [0.0, -1e-6, 1e-2])
def test_newton_rtol_is_refused_outside_its_range_naming_the_field(bad):
    with pytest.raises(SpecError, match="newton_rtol"):
        FilamentSpec(newton_rtol=bad)


def test_study09_refuses_bad_input_in_one_line(tmp_path, capsys):
    for argv in (["--tolerances", "1e-6"], ["--tolerances", "1e-6", "0.5"], ["--jobs", "0"],
                 ["--max-step-fraction", "0"], ["--hold-biases", "-0.1"], ["--hold-biases", "0.2", "9"]):
        with pytest.raises(SystemExit) as info:
            _study().main([*argv, "--out", str(tmp_path)])
        assert info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert argv[0] in err


def test_a_number_the_same_at_every_tolerance_is_within_any_stated_uncertainty():
    study = _study()
    rows = {t: {**{n: 1.0 for n, _, _ in study.NUMBERS + study.HOLD_NUMBERS},
                "threshold_resolution": 1e-3, "hold_resolution": 0.04, "resistance_on_spread": float("nan"),
                "resistance_off_spread": 1.0, "hold_window_low_resolution": float("nan")} for t in (1e-6, 1e-7)}
    rows[1e-7]["threshold_voltage"] = 1.002  # moved by twice its sampling step
    found = study.spreads(rows)
    # the lowest bias tried held at both: no bracket below it (NaN), but no spread either
    assert found["hold_window_low"] == (0.0, pytest.approx(float("nan"), nan_ok=True), True)
    assert found["resistance_on"][2] and not found["threshold_voltage"][2]
    checks = study.analyse(rows)
    assert set(checks) == {f"{n}_within_its_stated_uncertainty" for n in
                           ("threshold_voltage", "resistance_on", "hold_window_low")}


def test_the_hold_window_drive_refuses_a_spec_without_hold_biases():
    from devicephys.filament.stage import sweep_hold_window

    with pytest.raises(SpecError, match="sweep_hold_biases"):
        sweep_hold_window(None, FilamentSpec.fast())


@pytest.mark.fem
def test_the_cell_model_solves_at_the_specs_newton_tolerance():
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament.simulate import CellModel

    spec = FilamentSpec.fast().model_copy(update={"newton_rtol": 1e-8})
    assert CellModel(spec).et.rtol == 1e-8


@pytest.mark.fem
@pytest.mark.slow
def test_study09_compares_two_tolerances_and_writes_its_table(tmp_path, capsys):
    pytest.importorskip("dolfinx_solver")
    code = _study().main(["--tolerances", "1e-6", "1e-7", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    # the two numbers claimed converged in the tolerance are: the set of the pristine cell and R_on
    assert code == 0 and out.count("-> ok") == 2, out
    rows = np.genfromtxt(tmp_path / "solver_tolerance.csv", delimiter=",", names=True)
    assert rows.size == 2 and list(rows["newton_rtol"]) == [1e-6, 1e-7]
    assert abs(rows["threshold_voltage_V"][0] - rows["threshold_voltage_V"][1]) <= rows["threshold_resolution_V"].min()
    assert "hold_voltage [V]" in out and "stated uncertainty" in out
    assert (tmp_path / "09_solver_tolerance.png").stat().st_size > 10_000
    # --resume keeps both sweeps: the same table without running them again
    table = (tmp_path / "solver_tolerance.csv").read_text()
    assert _study().main(["--tolerances", "1e-6", "1e-7", "--resume", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.count("kept from") == 2
    assert (tmp_path / "solver_tolerance.csv").read_text().split("\n")[1].split(",")[:8] == table.split("\n")[1].split(",")[:8]


@pytest.mark.fem
@pytest.mark.slow
def test_study09_with_the_hold_window_checks_its_low_edge(tmp_path, capsys):
    pytest.importorskip("dolfinx_solver")
    code = _study().main(["--tolerances", "1e-6", "1e-7", "--hold-biases", "0.3", "0.5", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "check hold_window_low_within_its_stated_uncertainty" in out, out
    assert code == (0 if out.count("-> ok") == 3 else 1), out
    rows = np.genfromtxt(tmp_path / "hold_window.csv", delimiter=",", names=True)
    assert rows.size == 4 and sorted(set(rows["bias_V"])) == [0.3, 0.5]
    assert np.all(np.isin(rows["start_on_1"], (0.0, 1.0)))
    assert np.all((rows["on_fraction_1"] >= 0) & (rows["on_fraction_1"] <= 1))
    table = np.genfromtxt(tmp_path / "solver_tolerance.csv", delimiter=",", names=True)
    assert "hold_window_low_V" in table.dtype.names and "hold_voltage_static_V" in table.dtype.names
