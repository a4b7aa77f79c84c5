"""The stage's second process (``devicephys.filament.side``): when it may run, and that it never outlives the stage."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from types import SimpleNamespace

from devicephys.filament import side
from devicephys.filament.spec import FilamentSpec


def test_used_only_serially_on_two_cores_and_not_when_turned_off(monkeypatch):
    one = SimpleNamespace(size=1)
    monkeypatch.setattr(side.os, "sched_getaffinity", lambda pid: {0, 1})
    for key in [k for k in side.os.environ if k.startswith(("PMI_", "PMIX_", "OMPI_COMM_WORLD", "HYDRA_"))]:
        monkeypatch.delenv(key)
    monkeypatch.delenv("DEVICEPHYS_WORKERS", raising=False)
    assert side.available(one)
    assert not side.available(SimpleNamespace(size=2))  # under mpiexec each rank holds a part of the mesh
    monkeypatch.setenv("DEVICEPHYS_WORKERS", "1")
    assert not side.available(one)
    monkeypatch.delenv("DEVICEPHYS_WORKERS")
    monkeypatch.setenv("PMI_RANK", "0")  # a singleton started by mpiexec
    assert not side.available(one)
    monkeypatch.delenv("PMI_RANK")
    monkeypatch.setattr(side.os, "sched_getaffinity", lambda pid: {0})
    assert not side.available(one)


def test_second_process_ends_when_its_stage_is_gone(tmp_path):
    """Given a parent that is not (or no longer) its own, it exits within seconds and writes nothing."""
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(FilamentSpec.fast().model_dump(mode="json")))
    out = tmp_path / "side.pkl"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "devicephys.filament.side", str(spec), str(out), "1"],
                          capture_output=True, timeout=120)
    assert proc.returncode == 1
    assert not out.exists()
    assert time.perf_counter() - t0 < 60  # the three parts alone take longer than that on the fast preset


def test_spec_round_trips_through_the_second_process_file():
    spec = FilamentSpec(**{**FilamentSpec.fast().model_dump(), "compliance_current": 1.2345678901234567e-3,
                           "set_voltages": [2.0, 2.5]})
    assert FilamentSpec(**json.loads(json.dumps(spec.model_dump(mode="json")))) == spec



def test_a_second_process_that_cannot_start_gives_no_result(monkeypatch, tmp_path):
    monkeypatch.setattr(side.tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(side.sys, "executable", str(tmp_path / "no-such-python"))
    run = side.SideRun(FilamentSpec.fast())
    assert run.collect() is None and "could not start it" in run.failure
    assert not list(tmp_path.glob("devicephys-side-*"))
