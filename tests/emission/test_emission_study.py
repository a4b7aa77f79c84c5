"""Study 2 runs in its fast mode and passes its own check against theory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.fdtd
pytest.importorskip("meep")

STUDY = Path(__file__).resolve().parents[2] / "studies" / "02_gap_emission_spectra.py"


def test_study_02_fast_mode_passes_its_theory_check(tmp_path):
    proc = subprocess.run([sys.executable, str(STUDY), "--fast", "--out", str(tmp_path)], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "theory checks passed" in proc.stdout
    assert (tmp_path / "study02_gap_emission.png").stat().st_size > 0
