"""The default cell is the volatile one; ``examples/dilute.yaml`` is the earlier default, as the code names it."""

from __future__ import annotations

from pathlib import Path

from devicephys.filament.spec import DILUTE_CELL, FilamentSpec
from devicephys.pipeline import PipelineSpec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_default_cell_is_the_volatile_example():
    # the examples write the default's transport, neck, drive and floor out, with the set-time study at 3-4 V
    # and the neck's threshold drive, with which the documentation's volatile figures were measured
    at_3_to_4 = {"set_voltages": [3.0, 3.5, 4.0], "neck_drive": "threshold"}
    assert FilamentSpec.from_file(EXAMPLES / "volatile.yaml") == FilamentSpec().model_copy(update=at_3_to_4)
    for name in ("volatile_chain.yaml", "volatile_two_state.yaml"):
        fast = PipelineSpec.from_file(EXAMPLES / name).stage_spec("filament")
        assert fast == FilamentSpec.fast().model_copy(update=at_3_to_4), name


def test_the_dilute_example_is_the_dilute_cell_at_its_floor():
    spec = PipelineSpec.from_file(EXAMPLES / "dilute.yaml")
    assert spec.stage_spec("filament") == FilamentSpec.dilute(fast=True)
    assert spec.stage_spec("compact").rupture == "relaxation"
    assert all(getattr(FilamentSpec(), k) != v for k, v in DILUTE_CELL.items())  # each one differs from the default


def test_the_smooth_neck_example_is_the_fast_default_cell_with_the_smooth_drive():
    spec = PipelineSpec.from_file(EXAMPLES / "smooth_neck.yaml").stage_spec("filament")
    assert spec == FilamentSpec.fast().model_copy(update={"neck_drive": "smooth",
                                                          "sweep_hold_biases": [0.1, 0.15, 0.2, 0.3]})
    assert FilamentSpec().neck_drive == "smooth"  # the default's form
    assert FilamentSpec.dilute().neck_drive == "threshold"  # the earlier default keeps the form it was measured with


def test_the_threshold_neck_example_is_the_fast_default_cell_with_the_former_drive():
    spec = PipelineSpec.from_file(EXAMPLES / "threshold_neck.yaml").stage_spec("filament")
    assert spec == FilamentSpec.fast().model_copy(update={"neck_drive": "threshold"})


def test_the_resolved_set_example_is_the_fast_default_cell_with_the_set_and_the_pool_resolved():
    spec = PipelineSpec.from_file(EXAMPLES / "fast_resolved_set.yaml").stage_spec("filament")
    assert spec == FilamentSpec.fast().model_copy(update={"resolve_set": True, "pool_change_limit": True})
    assert spec.max_concentration_change == 0.05 and spec.step_error_tolerance is None  # the fast preset's otherwise


def test_the_converged_step_example_is_the_fast_default_cell_with_the_converged_controls():
    spec = PipelineSpec.from_file(EXAMPLES / "converged_step.yaml").stage_spec("filament")
    assert spec == FilamentSpec.fast().model_copy(update={
        "step_error_tolerance": 0.01, "resolve_set": True, "max_concentration_change": 0.01,
        "pool_change_limit": True, "hold_biases": [0.0, 0.1, 0.19, 0.2, 0.21, 0.22, 0.25],
        "hold_step_fraction": 0.0005})
    assert spec.step_error_scope == "growth"
