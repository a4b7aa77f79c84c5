"""The demo pipeline end to end on the real engines: kill -9 mid-run, resume, then a fully cached rerun.

This is ``make demo`` (``devicephys run``, fast preset) as a user runs it:
DOLFINx, MEEP, ngspice and the array simulator, started by the project's
own command.  The run is killed with SIGKILL once the filament stage has
finished and the emission stage is running; the rerun must reuse the
filament result and leave no half-written file.

The default device's chain runs through every stage: the optical stage solves
the device's own stack with the filament inside it (frequency-domain FEM,
quantum-corrected gap, 450-2000 nm), and the compact stage evaluates the
photon yield at the emitting gap (where the gap conducts G0/2; a metallic
contact emits no tunnelling photon) and the spike's bias.  The joint audit's
geometry rows (tip, stack, operating gap) must hold.
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

pytestmark = [pytest.mark.fem, pytest.mark.fdtd, pytest.mark.spice]

STAGES = ("filament", "emission", "compact", "array")


def _run(out: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "devicephys", "run", "--out", str(out)], capture_output=True,
                          text=True, timeout=timeout)


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"the demo ended (exit {proc.returncode}) before {path.name} appeared")
        if time.monotonic() > deadline:
            pytest.fail(f"{path} did not appear within {timeout:.0f} s")
        time.sleep(0.2)


def _all_readable(out: Path) -> None:
    """Every finished file opens: NetCDF with xarray, JSON with json; temporary '.partial' files are ignored."""
    for path in out.rglob("*"):
        if ".partial" in path.name or not path.is_file():
            continue
        if path.suffix == ".nc":
            xr.open_dataset(path, engine="h5netcdf").close()
        elif path.suffix == ".json":
            json.loads(path.read_text())


def test_demo_resumes_after_kill_and_reruns_from_cache(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.Popen([sys.executable, "-m", "devicephys", "run", "--out", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for(out / "filament" / ".stage-complete.json", proc, 600)
        _wait_for(out / "emission", proc, 60)
        time.sleep(2.0)  # inside the emission stage (MEEP)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (out / "emission" / ".stage-complete.json").exists(), "emission finished before the kill"
    _all_readable(out)

    second = _run(out, 1500)
    text = second.stdout + second.stderr
    assert "[filament] cached" in second.stdout, text[-3000:]
    for stage in STAGES[1:]:
        assert f"[{stage:>8}] done" in second.stdout, text[-3000:]
    assert "Traceback" not in text and second.returncode == 0, text[-3000:]
    _all_readable(out)
    rows = {r["constraint"]: r for r in json.loads((out / "audit.json").read_text())["rows"]}
    for name in ("optical tip radius equals the filament's", "optical stack (insulator, electrodes) equals the filament's device",
                 "optical gaps contain the filament's operating gap", "photon energy hc/lambda_peak <= e V at the operating bias",
                 "emission law evaluated inside its fitted (gap, bias) range"):
        assert rows[name]["status"] == "pass", rows[name]
    # the default (volatile) cell's card inside the published ranges the physics reaches (README: R_off, V0 and
    # tau_th do not, and the audit says so); and one atom per site at most
    for name in ("threshold_voltage", "hold_voltage", "resistance_on", "relaxation_time", "thermal_resistance",
                 "photons_per_electron"):
        assert rows[f"{name} within its published range"]["status"] == "pass", rows[f"{name} within its published range"]
    assert rows["Ag occupancy c_i + c_m <= 1 (one atom per site)"]["status"] == "pass"
    pool = "dissolved Ag beside each node within the one-compartment pool's capacity [channel volumes]"
    assert rows[pool]["status"] == "pass", rows[pool]
    card = json.loads((out / "compact" / "device_card.json").read_text())["parameters"]
    assert card["emission_gap"]["value"] > 0 and "fem engine" in card["emission_gap"]["source"]
    assert (out / "report.html").stat().st_size > 10_000

    third = _run(out, 300)
    assert third.returncode == 0
    for stage in STAGES:
        assert f"[{stage:>8}] cached" in third.stdout, third.stdout
