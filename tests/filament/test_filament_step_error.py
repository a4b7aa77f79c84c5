"""The error-estimating step control on the real FEM cell (``step_error_tolerance``).

Each step's local truncation error is estimated from the backward-Euler step against the linear
extrapolation of the two accepted states before it (``devicephys.filament.stepping``); a step whose
estimate exceeds the tolerance is rejected, and the next step is chosen from the estimate.
"""

from __future__ import annotations

import math

import pytest

from devicephys.filament.spec import FilamentSpec

VOLTAGE = 2.5  # [V] constant source of the set runs (the default cell sets at about 4.7 us)


@pytest.mark.parametrize("bad", [0.0, -1e-3, 0.6])
def test_step_error_tolerance_is_refused_outside_its_range_naming_the_field(bad):
    with pytest.raises(Exception, match="step_error_tolerance"):
        FilamentSpec(step_error_tolerance=bad)


def _spec(**extra) -> FilamentSpec:
    return FilamentSpec(**{**FilamentSpec.fast().model_dump(), "field_snapshots": 0, **extra})


@pytest.fixture(scope="module")
def growing():
    """The default cell 2 us into a set at 2.5 V: the filament growing, not yet bridged."""
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import simulate as sim

    model = sim.CellModel(_spec(step_error_tolerance=0.5))
    sim.run_drive(model, lambda t: VOLTAGE, 2e-6, dt_max=5e-8)
    assert model.gap() > 0.0
    return model, model.state()


@pytest.mark.fem
def test_the_estimate_of_the_cell_is_second_order_in_the_step(growing):
    """Two equal steps from the same state: the second's estimated local error falls as dt^2 (the leading term
    of backward Euler's local error, (dt^2 / 2) c''), so the estimate measures the error it is meant to."""
    model, state = growing
    errors = []
    for dt in (4e-9, 2e-9, 1e-9):
        model.restore(state)
        model.start_drive(VOLTAGE)
        assert model.try_step(dt, VOLTAGE, force=True)[0]
        assert model.step_error == 0.0  # no history after a restore: not estimated
        assert model.try_step(dt, VOLTAGE, force=True)[0]
        errors.append(model.step_error)
    orders = [math.log2(a / b) for a, b in zip(errors, errors[1:])]
    assert all(e > 0 for e in errors) and all(1.7 <= p <= 2.3 for p in orders), (errors, orders)


@pytest.mark.fem
def test_every_step_taken_meets_the_tolerance_and_rejections_are_counted(growing):
    """A drive under a tight tolerance: every accepted step that was not forced at the floor has an estimate
    within the tolerance, some were rejected for it, and the control left more steps than the change limit
    alone (the same drive without the tolerance)."""
    from devicephys.filament import simulate as sim

    _, state = growing
    counts, errors = {}, []
    for tol in (None, 1e-4):
        model = sim.CellModel(_spec(step_error_tolerance=tol))
        model.restore(state)
        floor = model.spec.min_step_fraction * 1e-6
        trace = sim.run_drive(model, lambda t: VOLTAGE, 1e-6, dt_max=5e-8, dt_first=1e-10,
                              observer=lambda m, s: errors.append((m.step_error, m.time)) if tol else None)
        counts[tol] = (len(trace), model.et.stats["error_rejected_steps"], model.forced_steps)
    assert counts[None][1] == 0
    assert counts[1e-4][1] > 0 and counts[1e-4][0] > counts[None][0], counts
    steps = [b - a for (_, a), (_, b) in zip(errors, errors[1:])]
    assert all(e <= 1e-4 for (e, _), dt in zip(errors[1:], steps) if dt > floor * (1 + 1e-9)), errors


@pytest.mark.fem
def test_the_bridged_neck_is_estimated_only_with_the_scope_all(growing):
    """With the default scope (growth) a bridged cell's steps are taken on the change limit alone (no estimate);
    with ``step_error_scope: all`` they are estimated too."""
    from devicephys.filament import simulate as sim

    _, state = growing
    errors = {}
    for scope in ("growth", "all"):
        model = sim.CellModel(_spec(step_error_tolerance=0.5, step_error_scope=scope))
        model.restore(state)
        sim.run_drive(model, lambda t: VOLTAGE, 4e-6, dt_max=5e-8, stop=lambda s: s["gap"] == 0.0)
        assert model.gap() == 0.0  # bridged
        seen = []
        sim.run_drive(model, lambda t: VOLTAGE, 2e-7, dt_max=5e-9, observer=lambda m, s: seen.append(m.step_error))
        errors[scope] = seen
    assert all(e == 0.0 for e in errors["growth"]), errors["growth"]
    assert sum(e > 0.0 for e in errors["all"]) >= len(errors["all"]) - 1, errors["all"]  # all but the first


@pytest.mark.fem
def test_steps_at_the_floor_do_not_shrink_on_until_the_drive_stalls():
    """A coarse cell whose ions flip between two branches at every step (an error no step removes): the steps
    stop at the drive's floor, where they are taken whatever their error, and the sweep ends.  (Shrinking on
    from the floor took the step to 1e-170 s until Newton failed.)"""
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import simulate as sim

    spec = FilamentSpec(far_mesh_size=4e-8, axis_mesh_size=1e-9, max_step_fraction=0.05, min_step_fraction=0.01,
                        max_concentration_change=0.2, field_snapshots=0, step_error_tolerance=0.01)
    model = sim.CellModel(spec)
    trace = sim.run_sweep(model)
    floor = spec.min_step_fraction * spec.sweep_time
    assert trace.array("time")[-1] == pytest.approx(spec.sweep_time)
    assert len(trace) <= 2 * spec.sweep_time / floor  # not below the floor but for single steps (its first, cuts)


@pytest.mark.slow
@pytest.mark.fem
def test_the_set_converges_with_the_tolerance_where_the_change_limit_leaves_it_high():
    """Study 12's protocol (the sweep's ramp to the set and the set at 2.5 V, the floor following the time
    elapsed): the two finest tolerances agree to the study's targets (1 % threshold, 2 % set time), and the
    presets' change limit misses the threshold's target against the finest (3.9 % high measured), so the
    agreement is the estimate's work.  About 2.5 min."""
    pytest.importorskip("dolfinx_solver")
    from tests.studies import load_study

    study = load_study("12_step_control.py")
    fine, finer, preset = (study.measure(s) for s in ("error:0.003", "error:0.001", "change:0.05"))
    assert all(ok for *_, ok in study.checks(fine, finer).values()), study.checks(fine, finer)
    high = float(preset["threshold"]) / float(finer["threshold"]) - 1
    assert high > study.THRESHOLD_TARGET, high


@pytest.mark.fem
def test_a_tolerance_no_step_meets_ends_in_one_line_naming_it(growing):
    """With no floor to take steps at, a tolerance that no step above min_time_step meets ends the drive with a
    ConvergenceError that names step_error_tolerance (not the change limit), keeping the trace reached."""
    from devicephys.errors import ConvergenceError
    from devicephys.filament import simulate as sim

    _, state = growing
    model = sim.CellModel(_spec(step_error_tolerance=1e-12, min_time_step=1e-11))
    model.restore(state)
    model.start_drive(VOLTAGE)
    assert model.try_step(1e-10, VOLTAGE, force=True)[0]  # a history for the estimate
    with pytest.raises(ConvergenceError, match="step_error_tolerance = 1e-12: raise it or remove it") as info:
        sim.run_drive(model, lambda t: VOLTAGE, 1e-6, dt_max=5e-8, dt_first=1e-10, dt_floor=0.0)
    assert len(info.value.trace) >= 1
