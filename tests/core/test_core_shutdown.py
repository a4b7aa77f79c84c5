"""Clean shutdown: kill -9 of the command leaves no FDTD worker or resource tracker; SIGTERM acts as Ctrl-C.

The emission command runs the real MEEP sweep in a process pool.  Only the
command itself is killed (not its process group), as a user's ``kill -9 PID``
or an out-of-memory kill does; its pool workers and multiprocessing's
resource tracker must end with it instead of being re-parented to PID 1.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xarray as xr

from devicephys import cli, pipeline, stages
from devicephys.result import Result, scalar_var
from devicephys.spec import Spec, quantity


def _children(pid: int) -> dict[int, str]:
    """Live (non-zombie) processes whose parent is ``pid``: {pid: command line}."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found[int(entry.name)] = cmd
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


def _start_emission(out: Path) -> tuple[subprocess.Popen, dict[int, str]]:
    """Start ``devicephys emission --fast`` and wait until its FDTD workers and resource tracker run."""
    proc = subprocess.Popen([sys.executable, "-m", "devicephys", "emission", "--fast", "--quiet", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        kids = _children(proc.pid)
        if any("resource_tracker" in c for c in kids.values()) and sum("spawn_main" in c for c in kids.values()) >= 1:
            time.sleep(3.0)  # the workers are inside MEEP
            return proc, _children(proc.pid)
        if proc.poll() is not None:
            pytest.fail(f"the emission command ended (exit {proc.returncode}) before its workers started")
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail("no FDTD worker started within 180 s")


def _gone_within(pids, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    left = [p for p in pids if _alive(p)]
    for p in left:  # clean up after a failure
        os.kill(p, signal.SIGKILL)
    return left


@pytest.mark.fdtd
def test_kill_9_leaves_no_worker_or_tracker(tmp_path):
    proc, kids = _start_emission(tmp_path / "em")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    left = _gone_within(kids, 10.0)
    assert not left, f"still running after kill -9 of their parent: {[kids[p] for p in left]}"


@pytest.mark.fdtd
def test_sigterm_stops_workers_and_exits_nonzero(tmp_path):
    proc, kids = _start_emission(tmp_path / "em")
    t0 = time.monotonic()
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "terminated" in err.decode() and "Traceback" not in err.decode()
    assert time.monotonic() - t0 < 20, "SIGTERM waited for the running FDTD gaps"
    assert not _gone_within(kids, 10.0)
    assert not (tmp_path / "em" / "emission.nc").exists()


class _ToySpec(Spec):
    kind = "toy"
    value: float = quantity(1.0, "V", "a voltage", gt=0)

    @classmethod
    def fast(cls):
        return cls()


class _ToyResult(Result):
    kind = "toy"
    spec_class = _ToySpec


def run_first(spec, out, *, upstream, progress=True):
    ds = xr.Dataset({"v": scalar_var(spec.value, "V", "the voltage", "input")})
    return {"result": _ToyResult(spec, ds).save(Path(out) / "first.nc")}


def run_second(spec, out, *, upstream, progress=True):
    os.kill(os.getpid(), signal.SIGTERM)  # as `kill PID` from outside, while this stage computes
    time.sleep(5.0)
    raise AssertionError("SIGTERM did not stop the run")


def test_sigterm_keeps_finished_stages_like_ctrl_c(tmp_path, monkeypatch):
    here = __name__
    toy = (stages.Stage("first", f"{here}:_ToySpec", f"{here}:run_first", (), "toy"),
           stages.Stage("second", f"{here}:_ToySpec", f"{here}:run_second", ("first",), "toy"))
    monkeypatch.setattr(stages, "STAGES", toy)

    class ToyPipeline(pipeline.PipelineSpec):
        first: dict = {}
        second: dict = {}

    def run_toy(args):
        pipeline.run(ToyPipeline(), Path(args.out), progress=False)
        return 0

    monkeypatch.setitem(cli._COMMANDS, "run", run_toy)
    before = signal.getsignal(signal.SIGTERM)
    assert cli.main(["run", "--out", str(tmp_path)]) == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before
    record = json.loads((tmp_path / "first" / ".stage-complete.json").read_text())
    assert record["files"]
    assert not (tmp_path / "second" / ".stage-complete.json").exists()


@pytest.mark.fem
def test_sigterm_during_the_filament_stage_acts_as_ctrl_c(tmp_path):
    """DOLFINx's PETSc would take SIGTERM itself (an MPI abort, no cleanup): the command keeps it.

    Sent while the sweep runs and the stage's second process (``devicephys.filament.side``) runs beside
    it: the command exits 143 with its one line, the second process ends and its files are removed.
    """
    pytest.importorskip("dolfinx_solver")
    env = {**os.environ, "TMPDIR": str(tmp_path), "OMP_NUM_THREADS": "1"}
    env.pop("DEVICEPHYS_WORKERS", None)
    proc = subprocess.Popen([sys.executable, "-m", "devicephys", "filament", "--fast", "--quiet", "--out",
                             str(tmp_path / "fil")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(tmp_path.glob("devicephys-side-*/side.log")):
        if proc.poll() is not None:
            pytest.fail(f"the filament command ended (exit {proc.returncode}) before the sweep ran")
        time.sleep(0.2)
    side_started = any(tmp_path.glob("devicephys-side-*"))
    kids = _children(proc.pid)
    time.sleep(3.0)  # inside the sweep's PETSc solves
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "terminated" in err.decode() and "Traceback" not in err.decode()
    assert not _gone_within(kids, 10.0)
    assert not list(tmp_path.glob("devicephys-side-*"))
    assert not (tmp_path / "fil" / "filament.nc").exists()
    if not side_started:
        pytest.skip("one core: no second process to stop (the exit itself was checked)")
