"""The circuit co-simulation study runs in its fast mode and passes its own check."""

from __future__ import annotations

import json
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
    # the stage's own ngspice verification ran inside the study
    quality = json.loads((tmp_path / "compact" / "verification.json").read_text())["ngspice"]
    assert quality["lif"]["spike_time_max_error_rel"] < 0.01
    assert quality["dc_sweep"]["current_rms_error_rel_peak"] < 0.01
    assert quality["lif_physical"]["spike_time_max_error_rel"] < 0.01
    assert (tmp_path / "compact" / "ngspice_lif.png").is_file()


@pytest.mark.slow
@pytest.mark.spice
@pytest.mark.skipif(shutil.which("ngspice") is None, reason="ngspice is not installed")
def test_study_03_full(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "studies" / "03_circuit_cosimulation.py"),
                           "--out", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=1200,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "CHECK PASSED" in proc.stdout
