"""The study scripts (``studies/NN_name.py``) as modules, for the tests that run them end to end."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

STUDIES = Path(__file__).resolve().parents[1] / "studies"


def load_study(filename: str) -> ModuleType:
    """``studies/<filename>`` loaded as a fresh module (its ``main(argv)`` runs the study)."""
    path = STUDIES / filename
    spec = importlib.util.spec_from_file_location(f"study_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
