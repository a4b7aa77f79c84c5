"""A stage command without a spec file runs the stage's full preset, and the README says so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devicephys import cli, stages

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("name", stages.names())
def test_stage_command_without_a_spec_runs_the_full_preset(name):
    stage = stages.get(name)
    cls = stage.spec_class()
    assert cli._stage_spec(stage, None, False) == cls()  # no file, no --fast: the full (converged) preset
    if hasattr(cls, "fast"):
        assert cli._stage_spec(stage, None, True) == cls.fast()


def test_readme_states_that_single_stages_default_to_the_full_preset():
    section = re.search(r"## Running one stage from a spec file\n(.*?)\n## ", README.read_text(), re.S)
    assert section, "README has no 'Running one stage from a spec file' section"
    text = " ".join(section.group(1).split())
    assert re.search(r"without a spec file runs that stage's \*\*full\*\*", text), text[:400]
    assert "--fast" in text
