"""The default cell is the volatile one; ``examples/dilute.yaml`` is the earlier default, as the code names it."""

from __future__ import annotations

from pathlib import Path

from devicephys.filament.spec import DILUTE_CELL, FilamentSpec
from devicephys.pipeline import PipelineSpec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_default_cell_is_the_volatile_example():
    volatile = FilamentSpec.from_file(EXAMPLES / "volatile.yaml")
    assert volatile == FilamentSpec()  # the example writes the default's transport, neck and drive out
    fast = PipelineSpec.from_file(EXAMPLES / "volatile_chain.yaml").stage_spec("filament")
    assert fast == FilamentSpec.fast()


def test_the_dilute_example_is_the_dilute_cell_at_its_floor():
    spec = PipelineSpec.from_file(EXAMPLES / "dilute.yaml")
    assert spec.stage_spec("filament") == FilamentSpec.dilute(fast=True)
    assert spec.stage_spec("compact").rupture == "relaxation"
    assert all(getattr(FilamentSpec(), k) != v for k, v in DILUTE_CELL.items())  # each one differs from the default
