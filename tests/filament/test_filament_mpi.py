"""`mpirun -np 2 devicephys filament` gives the serial result (real DOLFINx, real CLI, real MPI).

The serial run factors with PETSc's own LU, the 2-process run with SuperLU_dist on a
partitioned mesh, so the two differ by round-off and by where Newton stops.  What the
solver pins down, and so what the test compares:

* the time steps: the runs must take the very same steps (identical sample times);
* every trace and scalar to the Newton tolerance, ``snes_rtol`` = 1e-6 relative, with an
  absolute floor of 1e-6 of the variable's largest magnitude in the run.  For currents
  this floor is the resolution of the solve: Newton stops once the nodal current
  residual has fallen by ``snes_rtol`` from its value at the start of the step, whose
  scale is the largest current of the run, so a current below snes_rtol x max|I| is
  not determined by the solve (the OFF currents, 1e-19 A leakage to ~1e-12 A
  tunnelling, against ~4e-4 A ON);
* R_off, a median of V/I over OFF samples: its relative tolerance is propagated from
  that current floor, rtol + floor / median |I_off|.  When this exceeds 1/2 the OFF
  current is below the solver's resolution, and what both runs must agree on is only
  that R_off is at least median |V_off| / (2 floor).
* under the full preset's step control the tiny cell's sweep is held ON at its 10 uA
  compliance after the set, and there its neck amplifies a perturbation: the cell voltage's
  difference between the two runs grows from 4e-8 V (66.3 us) to 6.7e-5 V (90.1 us) and
  5.2e-3 V at most (1.8 %), with the very same steps.  No solver tolerance bounds that, so
  there the sweep's traces and axis profiles, R_on (the median and quartiles of those ON
  samples) and the temperature map at the peak current are compared through the step times
  alone; everything before the first sample at the compliance, the other drives and the other
  scalars are compared to the Newton tolerance.
* temperatures [K] to at least the staggered solve's resolution: it stops once a sweep moves T
  by less than 100 K x snes_rtol (1e-4 K), and it converges linearly, at a rate it accepts up to
  sqrt(0.9) = 0.95 per sweep (slower is given up as stalled), so its T may lie rate / (1 - rate)
  = 18 times that change from the fixed point: 1.8e-3 K.  (Measured: where the tiny cell's
  current first rises four decades, 47.1 us into the sweep under the full preset's control, the
  two runs' T_max differ by 8.6e-4 K.)

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

#: Small and short (494 unknowns, two set voltages, one field snapshot, so that the parallel XDMF writer runs too).
from tests.fem_fixtures import TINY_SPEC, tiny_fields  # noqa: E402

RTOL = 1e-6   # snes_rtol of the Newton solves
FLOOR = 1e-6  # of a variable's largest magnitude (see the module docstring)


def _staggered_temperature_resolution() -> float:
    """[K] how far the staggered solve's accepted T may lie from its fixed point (see the module docstring)."""
    from devicephys.filament.fem import solve

    rate = solve._STALL_RATIO ** 0.5  # per sweep: the stall rule compares changes two sweeps apart
    return solve._T_TOL_PER_RTOL * RTOL * rate / (1 - rate)


GAP_ON, GAP_RUPTURE = 0.25e-9, 1.0e-9  # FilamentSpec defaults (not overridden by TINY_SPEC)
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


#: The full preset's step control (FilamentSpec's defaults) in place of the tiny cell's coarse one: the
#: local-error estimate and its rejections, the resolved set's floor, a change limit of 0.01.
CONVERGED_CONTROL = dict(max_concentration_change=0.01, step_error_tolerance=0.01, resolve_set=True)


@pytest.fixture(scope="module")
def runs(launcher, tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, Path]]:
    # the step check's runs (collective, in-process) too
    return _serial_and_parallel(launcher, tmp_path_factory.mktemp("filament_mpi"), TINY_SPEC + "step_check: 0.01\n")


@pytest.fixture(scope="module")
def converged_runs(launcher, tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, Path]]:
    import yaml

    text = yaml.safe_dump(tiny_fields(**CONVERGED_CONTROL, step_check=0.01))
    return _serial_and_parallel(launcher, tmp_path_factory.mktemp("filament_mpi_converged"), text)


@pytest.fixture(scope="module")
def coupled_runs(launcher, tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, Path]]:
    return _serial_and_parallel(launcher, tmp_path_factory.mktemp("filament_mpi_coupled"),
                                TINY_SPEC + "step_check: 0.01\nion_compensation: 0.999\n")


def _serial_and_parallel(launcher, root: Path, text: str) -> dict[str, tuple[subprocess.CompletedProcess, Path]]:
    spec = root / "tiny.yaml"
    spec.write_text(text)
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
    _compare(runs)


@pytest.mark.slow
def test_parallel_run_reproduces_serial_result_under_the_converged_control(converged_runs):
    """The full preset's step control (local-error rejections, the resolved set's floor) takes the same steps
    on 2 ranks: its decisions are collective like the change limit's.  The sweep's values are compared up to its
    first sample at the compliance (see the module docstring)."""
    _compare(converged_runs, until_compliance=True)


@pytest.mark.slow
def test_parallel_run_reproduces_serial_result_with_the_ions_in_their_own_field(coupled_runs):
    """ion_compensation: every rank builds the same Green's matrix (the ions' Poisson solves are collective, their
    axis values gathered) and takes the same coupled transport steps."""
    _compare(coupled_runs)
    assert float(_load(coupled_runs, "serial").attrs["ion_compensation"]) == 0.999


#: Numbers of the sweep's ON state, which under the compliance lie where the neck amplifies a perturbation: R_on's
#: statistics over the ON samples, and the temperature map at the sweep's peak current.
ON_STATE_NUMBERS = ("resistance_on", "resistance_on_lower_quartile", "resistance_on_upper_quartile", "map_temperature")


def _held_at_compliance(ser: xr.Dataset) -> int:
    """Index of the sweep's first sample whose current is within 1 % of the spec's compliance current."""
    import json

    compliance = float(json.loads(ser.attrs["spec"])["compliance_current"])
    held = np.flatnonzero(np.abs(np.asarray(ser["current"], float)) >= 0.99 * compliance)
    assert held.size, "the sweep never reaches its compliance"
    return int(held[0])


def _compare(runs, until_compliance: bool = False) -> None:
    ser, par = _load(runs, "serial"), _load(runs, "parallel")
    assert ser.attrs["unknowns"] == par.attrs["unknowns"]
    assert set(ser.data_vars) == set(par.data_vars)
    for name in ("time", "relax_time", "set_point"):  # the same steps were taken
        assert ser[name].shape == par[name].shape, name
        np.testing.assert_allclose(par[name], ser[name], rtol=RTOL, atol=0, err_msg=name)
    end = _held_at_compliance(ser) if until_compliance else None
    for name in ser.data_vars:
        if name == "resistance_off" or (until_compliance and name in ON_STATE_NUMBERS):
            continue
        s, p = np.asarray(ser[name], float), np.asarray(par[name], float)
        finite = s[np.isfinite(s)]
        floor = FLOOR * float(np.max(np.abs(finite))) if finite.size else 0.0  # of the whole run, as documented
        if ser[name].attrs.get("units") == "K":
            floor = max(floor, _staggered_temperature_resolution())
        if end is not None and ser[name].dims == ("time",):
            s, p = s[:end], p[:end]
        elif end is not None and "profile_time" in ser[name].dims:  # the axis profiles taken before it
            assert ser[name].dims[0] == "profile_time", name
            before = np.asarray(ser["profile_time"]) < float(ser["time"][end])
            s, p = s[before], p[before]
        np.testing.assert_allclose(p, s, rtol=RTOL, atol=floor, equal_nan=True, err_msg=name)
    _compare_off_resistance(ser, par)
    for name in ("threshold_voltage", "resistance_on", "thermal_resistance", "set_time_tau0",
                 "threshold_voltage_step_check", "set_time_tau0_step_check", "relaxation_time_step_check"):
        assert np.isfinite(float(ser[name])), name  # the comparison covers real numbers


def _compare_off_resistance(ser: xr.Dataset, par: xr.Dataset) -> None:
    """R_off to the tolerance its OFF currents allow (see the module docstring)."""
    from devicephys.filament.extract import off_samples

    v, i, g = (np.asarray(ser[n], float) for n in ("voltage", "current", "gap"))
    off = off_samples(v, i, g, GAP_ON, GAP_RUPTURE)
    assert off.any(), "no OFF samples in the serial run"
    floor = FLOOR * float(np.max(np.abs(i)))
    i_off, v_off = float(np.median(np.abs(i[off]))), float(np.median(np.abs(v[off])))
    r_ser, r_par = float(ser["resistance_off"]), float(par["resistance_off"])
    rtol = RTOL + floor / i_off
    print(f"R_off: serial {r_ser:.6g}, parallel {r_par:.6g} Ohm; OFF current {i_off:.3g} A, floor {floor:.3g} A")
    if rtol <= 0.5:
        assert r_par == pytest.approx(r_ser, rel=rtol)
    else:  # below the solver's resolution: both runs must say so
        bound = v_off / (2 * floor)
        assert r_ser >= bound and r_par >= bound, (r_ser, r_par, bound)


_POINTS_SCRIPT = """
import json, sys
import numpy as np
import dolfinx_solver  # noqa: F401
from mpi4py import MPI
from devicephys.filament import simulate as sim
from devicephys.filament.spec import FilamentSpec
spec = FilamentSpec(**{**FilamentSpec.fast().model_dump(), "dissolved_spread": True, "spread_drift": True,
                       "channel_edge": "cut", "field_snapshots": 0})
model = sim.CellModel(spec)
model.try_step(1e-9, 1.0, frozen=True)
phi, T = model.matrix_fields()
if MPI.COMM_WORLD.rank == 0:
    with open(sys.argv[1], "w") as f:
        json.dump({"phi": phi.tolist(), "T": T.tolist()}, f)
"""


def test_the_matrix_potential_read_beside_the_axis_is_the_same_on_two_ranks(launcher, tmp_path):
    """The matrix's φ and T read beside every axis node (the drift's points, ``CellModel.matrix_fields``) on the
    pristine cell at 1 V: the same on one and on two ranks, to the Newton tolerance times the bias (1e-6 V; the
    points' cells are the ones that hold them, on whichever rank owns them).  A point evaluated in a neighbour's
    cell moved φ by 1.5 mV here."""
    import json

    script = tmp_path / "points.py"
    script.write_text(_POINTS_SCRIPT)
    serial = _run([sys.executable, str(script), str(tmp_path / "serial.json")], tmp_path)
    parallel = _run(launcher + [sys.executable, str(script), str(tmp_path / "parallel.json")], tmp_path)
    assert serial.returncode == 0, serial.stderr[-3000:]
    assert parallel.returncode == 0, parallel.stderr[-3000:]
    one, two = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("serial", "parallel"))
    np.testing.assert_allclose(np.array(two["phi"]), np.array(one["phi"]), rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.array(two["T"]), np.array(one["T"]), rtol=0, atol=1e-6 * 300.0)
    assert np.ptp(np.array(one["phi"])) > 0.5  # the points span the cell's potential
