"""The stored finite-element filament results (``tests/data/fem_*_filament.json``), loaded as xarray Datasets."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def load_fem_result(name: str = "fem_fast_filament.json"):
    """``tests/data/<name>`` read back by ``make_fem_filament_fixture.load`` (the script that writes it)."""
    spec = importlib.util.spec_from_file_location("fem_fixture", DATA / "make_fem_filament_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load(DATA / name)
