"""The scripts a user runs directly (studies, benchmarks, the fixture writers) compile; most of them run only in the
slow suite or on demand, so a syntax error in one would otherwise pass the default tests."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("studies", "benchmarks", "tests/data", "scripts")
SCRIPTS = sorted(p for folder in FOLDERS for p in (ROOT / folder).glob("*.py"))


def test_there_are_scripts_to_check():
    studies = [p for p in SCRIPTS if p.parent.name == "studies"]
    assert len(studies) >= 19 and any(p.parent.name == "benchmarks" for p in SCRIPTS)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_script_compiles(path):
    compile(path.read_text(), str(path), "exec")
