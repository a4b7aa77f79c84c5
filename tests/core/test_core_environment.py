"""One environment per checkout: each checkout's .venv runs that checkout's devicephys, never another clone's.

scripts/setup.sh shares the heavy cached environment (DOLFINx, MEEP) between
checkouts and gives each checkout a light .venv of its own on top of it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WHERE = "import devicephys, os; print(os.path.realpath(devicephys.__file__))"


def test_this_environment_runs_this_checkout(tmp_path):
    """From any working directory, the interpreter and the console script of the test run load this checkout."""
    out = subprocess.run([sys.executable, "-c", WHERE], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).is_relative_to(ROOT.resolve()), out.stdout
    script = Path(sys.executable).parent / "devicephys"
    if script.is_file():
        env = {**os.environ, "PYTHONPATH": ""}
        check = subprocess.run([str(script), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
        assert check.returncode == 0, check.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs git and a git checkout")
def test_two_clones_each_run_their_own_code(tmp_path):
    """Two clones set up one after the other: each clone's .venv/bin/devicephys and python see its own code."""
    clones = []
    for name in ("a", "b"):
        clone = tmp_path / name
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=300)
        for rel in ("scripts/setup.sh", "Makefile"):  # the set-up under test, also when not yet committed
            shutil.copy(ROOT / rel, clone / rel)
        clones.append(clone)
    for clone in clones:
        (clone / "devicephys" / "__init__.py").open("a").write(f'\nCHECKOUT = "{clone.name}"\n')
        setup = subprocess.run(["make", "setup"], cwd=clone, capture_output=True, text=True, timeout=1800)
        assert setup.returncode == 0, setup.stdout[-2000:] + setup.stderr[-2000:]
    for clone in clones:
        code = "import devicephys; print(devicephys.CHECKOUT)"
        py = subprocess.run([str(clone / ".venv/bin/python"), "-c", code], cwd=tmp_path, capture_output=True, text=True)
        assert py.stdout.strip() == clone.name, py.stderr
        cli = subprocess.run([str(clone / ".venv/bin/devicephys"), "--help"], cwd=tmp_path, capture_output=True, text=True)
        assert cli.returncode == 0, cli.stderr
        where = subprocess.run([str(clone / ".venv/bin/python"), "-c", WHERE], cwd=tmp_path, capture_output=True, text=True)
        assert Path(where.stdout.strip()).is_relative_to(clone.resolve())
    mpi = subprocess.run([str(clones[0] / ".venv/bin/python"), "-c", "import dolfinx_solver, dolfinx, meep; print('ok')"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert mpi.stdout.startswith("ok"), mpi.stderr[-2000:]
