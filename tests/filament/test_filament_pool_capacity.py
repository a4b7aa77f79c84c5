"""The one-compartment dissolved pool's capacity: its premise checked, warned of once, recorded in the result.

The pool's Ag returns into the channel from within the return's length ℓ of the channel's wall, so it must fit in the
matrix's annulus r_ch < r < r_ch + ℓ: ((r_ch + ℓ)² − r_ch²) / r_ch² channel volumes at one atom per site (3 for
ℓ = r_ch).  More than that beside one node is outside the premise, and the model says so.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from devicephys.filament import simulate as sim
from devicephys.filament.spec import FilamentSpec


def _model(pool: np.ndarray, capacity: float | None = 3.0):
    """The state _check_pool reads: the dissolved pool ``pool`` [1 per channel volume] on as many axis nodes."""
    model = SimpleNamespace(pool_capacity=capacity, peak_pool=0.0, pool_time=math.nan, time=0.0, warnings={},
                            c_s=pool, transport=SimpleNamespace(z=np.linspace(1e-9, 10e-9, pool.size)),
                            data=SimpleNamespace(domain=SimpleNamespace(comm=SimpleNamespace(rank=0))))
    model._warn = lambda key, text: sim.CellModel._warn(model, key, text)
    model._pool_cause = lambda: sim.CellModel._pool_cause(model)
    return model


def test_pool_beyond_capacity_is_warned_of_once_and_recorded(capsys):
    model = _model(np.zeros(5))
    for t, peak in ((1e-6, 1.0), (2e-6, 3.0), (3e-6, 3.5), (4e-6, 7.0)):
        model.time, model.c_s = t, np.array([0.0, 0.2, peak, 0.1, 0.0])
        sim.CellModel._check_pool(model)
    flags = sim.CellModel.pool_flags(model)
    assert flags["silver_pool_peak"] == 7.0 and flags["silver_pool_capacity"] == 3.0
    assert flags["silver_pool_over_capacity_time_s"] == 3e-6  # 3.0 itself is within the capacity
    assert "dissolved_spread: true" in flags["silver_pool_warning"]
    err = capsys.readouterr().err
    assert err.count("warning: dissolved Ag beside the axis node at z = 5.5e-09 m = 3.5 channel volumes") == 1


def test_pool_within_capacity_is_not_flagged():
    model = _model(np.array([0.0, 2.9, 0.0]))
    sim.CellModel._check_pool(model)
    flags = sim.CellModel.pool_flags(model)
    assert flags["silver_pool_peak"] == 2.9 and flags["silver_pool_warning"] == ""
    assert flags["silver_pool_over_capacity_time_s"] == -1.0


def test_no_capacity_without_a_returning_pool():
    model = _model(np.array([0.0, 50.0]), capacity=None)
    sim.CellModel._check_pool(model)
    flags = sim.CellModel.pool_flags(model)
    assert math.isnan(flags["silver_pool_capacity"]) and flags["silver_pool_warning"] == ""


@pytest.mark.fem
def test_capacity_from_the_spec_and_a_real_step_records_the_excess(capsys):
    """The cell's capacity is the annulus's (3 for the default ℓ = r_ch; none with the spread or without the
    return); a real step at zero bias, with the pool set beyond it at one node, warns and records it."""
    pytest.importorskip("dolfinx_solver")
    spec = FilamentSpec.fast().model_copy(update={"field_snapshots": 0})
    model = sim.CellModel(spec)
    assert model.pool_capacity == pytest.approx(3.0, rel=1e-12)
    assert sim.CellModel(spec.model_copy(update={"dissolved_return": False})).pool_capacity is None
    node = model.c_s.size // 2
    model.c_s[node] = 3.5  # at zero field the drift returns none of it
    accepted, _ = model.try_step(1e-9, 0.0, force=True)
    assert accepted
    flags = model.pool_flags()
    assert flags["silver_pool_peak"] == pytest.approx(3.5, rel=1e-6)
    assert flags["silver_pool_over_capacity_time_s"] == pytest.approx(1e-9)
    assert "one-compartment pool's premise" in capsys.readouterr().err


def test_the_static_thresholds_note_names_the_probes_beyond_the_capacity():
    from devicephys.filament import stage

    probes = [(0.5, 1e-4), (0.25, 5e-4), (0.125, math.nan), (0.1875, 9e-4)]
    note = stage._static_pool_note(probes, [1.4, 6.2, 40.0, 3.0], SimpleNamespace(pool_capacity=3.0))
    assert "0.25 V (set, 6.2)" in note and "0.125 V (no set, 40)" in note
    assert "0.5 V" not in note and "0.188 V" not in note  # within the capacity (3.0 itself included)
    assert stage._static_pool_note(probes, [1.0] * 4, SimpleNamespace(pool_capacity=3.0)) == ""
    assert stage._static_pool_note(probes, [50.0] * 4, SimpleNamespace(pool_capacity=None)) == ""
