"""`mpirun -np 2 devicephys filament` gives the serial result (real DOLFINx, real CLI, real MPI).

The serial run factors with PETSc's own LU, the 2-process run with SuperLU_dist on a
partitioned mesh, so the two differ only by round-off: the runs must take the very same
time steps (identical sample times), and every number in ``filament.nc`` must agree to the
Newton tolerance (``snes_rtol`` = 1e-6), which bounds what a different iteration count
could change; measured here: 2e-11 or better (1.1e-7 on the ``--fast`` preset).  The
OFF-state current (~1e-17 A against ~5e-4 A ON) sits at the round-off level of the LU
solve across the 20 decades of conductivity contrast, so traces are compared with an
absolute floor of 1e-9 of their largest magnitude (measured differences ~2e-16 A, i.e.
5e-13 of the peak).  R_off, a median of V/I over those OFF samples, is decided by the
round-off of the factorisation, not by the Newton tolerance: different LU orderings give
different last digits of a 1e-17 A current, so no solver-order bound exists for it.  What is
physical about it is its order of magnitude (its published range spans three decades), so it
is held to a stated target of 1 % -- a hundred times finer than the range is resolved, and
far above the round-off it is made of.

The spec is numerically coarse (1 nm axis elements, long steps), chosen for speed, not
for converged physics: serial ~24 s, parallel ~32 s on two otherwise idle cores.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dolfinx_solver")

import xarray as xr  # noqa: E402

pytestmark = pytest.mark.fem

#: Small and short: 494 unknowns, two set voltages, one field snapshot (so the parallel
#: XDMF writer runs too).
TINY_SPEC = """\
far_mesh_size: 4.0e-8
axis_mesh_size: 1.0e-9
set_voltages: [3.5, 4.0]
max_step_fraction: 0.05
min_step_fraction: 0.01
max_concentration_change: 0.2
field_snapshots: 1
"""
RTOL = 1e-6
FLOOR = 1e-9
#: Variables at the round-off floor of the OFF state, held to a stated target, not to a solver
#: bound (see the module docstring).
RTOL_OFF = {"resistance_off": 1e-2}
#: A hang (e.g. ranks taking different branches around a collective call) fails the test
#: after this long instead of blocking the run; about 6x the measured times.
TIMEOUT_S = 240


def _mpirun() -> str | None:
    """The launcher of the MPI that mpi4py uses: the one beside this Python first (the pip
    MPICH of the venv), else the first on PATH."""
    here = Path(sys.executable).parent / "mpirun"
    if here.is_file() and os.access(here, os.X_OK):
        return str(here)
    return shutil.which("mpirun") or shutil.which("mpiexec")


def _env() -> dict[str, str]:
    # One thread per rank: threaded SuperLU_dist/BLAS in two ranks on two cores oversubscribe
    # them (48 s instead of 31 s for the parallel run).
    return {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run ``cmd``; on timeout kill its whole process group (mpirun and every rank)."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{' '.join(cmd)} did not finish within {TIMEOUT_S} s (hang?)\n"
                    f"stdout:\n{out[-3000:]}\nstderr:\n{err[-3000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


@pytest.fixture(scope="module")
def launcher(tmp_path_factory) -> list[str]:
    mpirun = _mpirun()
    if mpirun is None:
        pytest.skip("no mpirun/mpiexec beside the Python interpreter or on PATH")
    version = subprocess.run([mpirun, "--version"], capture_output=True, text=True, timeout=60)
    cmd = [mpirun, "-np", "2"]
    if "Open MPI" in version.stdout + version.stderr or "OpenRTE" in version.stdout + version.stderr:
        cmd += ["--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
    probe = _run(cmd + [sys.executable, "-c", "from mpi4py import MPI; c = MPI.COMM_WORLD; n = c.allreduce(1); "
                        "c.rank == 0 and print('ranks', n)"], tmp_path_factory.mktemp("probe"))
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "ranks 2", (
        f"{mpirun} does not launch one 2-process job for this Python's mpi4py (output {probe.stdout!r}); "
        "use the mpirun of the MPI that mpi4py was built with")
    return cmd


@pytest.fixture(scope="module")
def runs(launcher, tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, Path]]:
    root = tmp_path_factory.mktemp("filament_mpi")
    spec = root / "tiny.yaml"
    spec.write_text(TINY_SPEC)
    cli = [sys.executable, "-m", "devicephys", "filament", str(spec), "--quiet", "--out"]
    done = {}
    for name, prefix in (("serial", []), ("parallel", launcher)):
        out = root / name
        start = time.perf_counter()
        done[name] = (_run(prefix + cli + [str(out)], root), out)
        print(f"{name} filament run: {time.perf_counter() - start:.1f} s")
    return done


def _succeeded(runs, name: str) -> Path:
    proc, out = runs[name]
    assert proc.returncode == 0, f"{name} run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return out


def _load(runs, name: str) -> xr.Dataset:
    return xr.load_dataset(_succeeded(runs, name) / "filament.nc", engine="h5netcdf")


def test_both_runs_succeed_and_rank0_alone_writes(runs):
    for name in runs:
        out = _succeeded(runs, name)
        for file in ("filament.nc", "iv.png", "temperature.png", "snapshots.png", "set_time.png",
                     "relaxation.png", "fields.xdmf", "fields.h5"):
            assert (out / file).is_file(), f"{name}: {file}"
        assert not list(out.glob(".*partial*")), f"{name}: leftover temporary files"
    listing = runs["parallel"][0].stdout
    assert listing.count("result:") == 1, f"every rank printed the file list:\n{listing}"


def test_parallel_run_reproduces_serial_result(runs):
    ser, par = _load(runs, "serial"), _load(runs, "parallel")
    assert ser.attrs["unknowns"] == par.attrs["unknowns"]
    assert set(ser.data_vars) == set(par.data_vars)
    for name in ("time", "relax_time", "set_point"):  # the same steps were taken
        assert ser[name].shape == par[name].shape, name
        np.testing.assert_allclose(par[name], ser[name], rtol=RTOL, atol=0, err_msg=name)
    for name in ser.data_vars:
        s, p = np.asarray(ser[name], float), np.asarray(par[name], float)
        finite = s[np.isfinite(s)]
        floor = FLOOR * float(np.max(np.abs(finite))) if finite.size else 0.0
        np.testing.assert_allclose(p, s, rtol=RTOL_OFF.get(name, RTOL), atol=floor, equal_nan=True, err_msg=name)
    for name in ("threshold_voltage", "resistance_on", "thermal_resistance", "set_time_tau0"):
        assert np.isfinite(float(ser[name])), name  # the comparison covers real numbers
