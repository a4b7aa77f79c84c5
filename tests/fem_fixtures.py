"""The stored finite-element filament results (``tests/data/fem_*_filament.json``), loaded as xarray Datasets."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

#: A small, short filament cell (a spec file's text over the full preset, its step control a coarse change limit alone):
#: 494 unknowns, two set voltages, one
#: field snapshot; its change limit 0.2 and step floor (1 % of a drive) put its sweep's threshold 72 % above the
#: step-checked one (tests/filament/test_filament_step_check.py).
TINY_SPEC = """\
far_mesh_size: 4.0e-8
axis_mesh_size: 1.0e-9
set_voltages: [3.5, 4.0]
max_step_fraction: 0.05
min_step_fraction: 0.01
max_concentration_change: 0.2
step_error_tolerance: null
resolve_set: false
hold_step_fraction: null
field_snapshots: 1
"""


def tiny_fields(**changes) -> dict:
    """:data:`TINY_SPEC` as FilamentSpec fields, with ``changes`` over it."""
    import yaml

    return {**yaml.safe_load(TINY_SPEC), **changes}


def load_fem_result(name: str = "fem_fast_filament.json"):
    """``tests/data/<name>`` read back by ``make_fem_filament_fixture.load`` (the script that writes it)."""
    spec = importlib.util.spec_from_file_location("fem_fixture", DATA / "make_fem_filament_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load(DATA / name)
