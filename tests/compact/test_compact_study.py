"""The circuit co-simulation study runs in its fast mode and passes its own check."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.spice
@pytest.mark.skipif(shutil.which("ngspice") is None, reason="ngspice is not installed")
def test_study_03_fast(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "studies" / "03_circuit_cosimulation.py"), "--fast",
                           "--out", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "CHECK PASSED" in proc.stdout
    assert (tmp_path / "03_circuit_cosimulation.png").stat().st_size > 10_000


@pytest.mark.slow
@pytest.mark.spice
@pytest.mark.skipif(shutil.which("ngspice") is None, reason="ngspice is not installed")
def test_study_03_full(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "studies" / "03_circuit_cosimulation.py"),
                           "--out", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=1200,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "CHECK PASSED" in proc.stdout
