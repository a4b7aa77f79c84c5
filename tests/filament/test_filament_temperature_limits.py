"""Peak temperature against the materials' limits: Ag melting, PMMA decomposition (warn or stop)."""

from __future__ import annotations

import math
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
    model = SimpleNamespace(spec=spec, et=SimpleNamespace(max_temperature=lambda: next(reads), stats={"sweeps": 0}),
                            limits=sim.temperature_limits(spec), peak_temperature=spec.ambient_temperature,
                            limits_reached={}, time=1e-6, warnings={}, forced_steps=0, rejected_steps=0,
                            min_time_step=math.inf, peak_occupancy=0.0, occupancy_time=math.nan,
                            peak_pool=0.0, pool_time=math.nan, pool_capacity=3.0,
                            data=SimpleNamespace(domain=SimpleNamespace(comm=SimpleNamespace(rank=0))))
    model._warn = lambda key, text: sim.CellModel._warn(model, key, text)
    return model


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


def test_absorb_merges_drives_run_elsewhere_in_the_serial_order(capsys):
    """CellModel.absorb (the stage's second process): counts add, extremes combine, a limit keeps the time it
    was first reached here, and only what is newly reached is warned of, once."""
    here = _model("warn", [600.0])  # reaches the insulator's limit at 1 µs
    sim.CellModel._check_temperature(here)
    here.et.stats["sweeps"], here.forced_steps, here.min_time_step = 5, 1, 1e-9
    elsewhere = _model("warn", [700.0, 1300.0])
    elsewhere.time = 3e-6
    for _ in range(2):
        sim.CellModel._check_temperature(elsewhere)
    elsewhere.et.stats["sweeps"], elsewhere.forced_steps, elsewhere.min_time_step = 7, 2, 1e-12
    elsewhere.peak_occupancy, elsewhere.occupancy_time, elsewhere.warnings["occupancy"] = 1.5, 4e-6, "occupancy > 1"
    elsewhere.peak_pool, elsewhere.pool_time, elsewhere.warnings["pool"] = 4.0, 5e-6, "pool beyond its capacity"
    capsys.readouterr()
    sim.CellModel.absorb(here, sim.CellModel.counters(elsewhere))
    assert here.et.stats["sweeps"] == 12 and here.forced_steps == 3 and here.min_time_step == 1e-12
    assert here.peak_temperature == 1300.0 and here.peak_occupancy == 1.5 and here.occupancy_time == 4e-6
    assert here.peak_pool == 4.0 and here.pool_time == 5e-6
    assert list(here.limits_reached) == ["insulator_limit", "melting_point"]
    assert here.limits_reached == {"insulator_limit": 1e-6, "melting_point": 3e-6}
    err = capsys.readouterr().err
    assert err.count("warning:") == 3 and "melting point of Ag" in err and "occupancy > 1" in err
    assert "pool beyond its capacity" in err
    flags = sim.CellModel.temperature_flags(here)
    assert flags["temperature_warning"].index("PMMA") < flags["temperature_warning"].index("melting point")
