"""Peak temperature against the materials' limits: Ag melting, PMMA decomposition (warn or stop)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from devicephys import materials
from devicephys.errors import ConvergenceError
from devicephys.filament import simulate as sim
from devicephys.filament.spec import FilamentSpec


def _model(mode: str, temperatures: list[float]):
    """The state _check_temperature reads, with a solver that reports ``temperatures`` [K] in turn."""
    spec = FilamentSpec(temperature_limits=mode)
    reads = iter(temperatures)
    return SimpleNamespace(spec=spec, et=SimpleNamespace(max_temperature=lambda: next(reads)),
                           limits=sim.temperature_limits(spec), peak_temperature=spec.ambient_temperature,
                           limits_reached={}, time=1e-6,
                           data=SimpleNamespace(domain=SimpleNamespace(comm=SimpleNamespace(rank=0))))


def test_limits_are_the_materials_melting_point_and_decomposition():
    limits = sim.temperature_limits(FilamentSpec())
    assert limits["melting_point"][0] == materials.get("Ag")["melting_point"]
    assert limits["insulator_limit"][0] == materials.get("PMMA")["thermal_limit"]


def test_warn_records_each_limit_once(capsys):
    model = _model("warn", [400.0, 600.0, 700.0, 1300.0])
    for _ in range(4):
        sim.CellModel._check_temperature(model)
    flags = sim.CellModel.temperature_flags(model)
    assert flags["temperature_peak_K"] == 1300.0
    assert flags["reached_insulator_limit"] == 1 and flags["reached_melting_point"] == 1
    assert "melting point of Ag" in flags["temperature_warning"]
    err = capsys.readouterr().err
    assert err.count("warning: peak temperature") == 2  # once per limit, not per step


def test_below_the_limits_nothing_is_flagged():
    model = _model("warn", [450.0])
    sim.CellModel._check_temperature(model)
    flags = sim.CellModel.temperature_flags(model)
    assert flags["reached_insulator_limit"] == 0 and flags["temperature_warning"] == ""


def test_error_stops_the_run():
    model = _model("error", [600.0])
    with pytest.raises(ConvergenceError, match="temperature_limits: warn"):
        sim.CellModel._check_temperature(model)
