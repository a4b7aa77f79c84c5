"""A run whose engines are missing says which and exits non-zero (it used to compute nothing and exit 0)."""

from __future__ import annotations

import os
import subprocess
import sys


def test_run_without_dolfinx_and_meep_fails_naming_them(tmp_path):
    hide = tmp_path / "hide"
    hide.mkdir()
    for module in ("dolfinx_solver", "dolfinx", "meep"):
        (hide / f"{module}.py").write_text(f"raise ImportError(\"No module named '{module}'\")\n")
    env = {**os.environ, "PYTHONPATH": str(hide), "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-m", "devicephys", "run", "--out", str(tmp_path / "out"), "--quiet"],
                          capture_output=True, text=True, env=env, timeout=600)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 3, text
    assert "Traceback" not in proc.stderr, proc.stderr
    line = next((ln for ln in text.splitlines() if "[filament] FAILED" in ln), "")
    assert "dolfinx" in line and "make setup" in line, text
    # the emission stage models the filament's device (FEM, DOLFINx): it waits for the filament
    assert "[emission] skipped: needs the output of filament" in text, text
    assert "compact" in text and "skipped" in text
