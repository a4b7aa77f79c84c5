"""Noise: MEEP silent under --quiet; array progress bar and events/s free of the numba compilation."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

MEEP_SCRIPT = """
import os, sys, warnings
from devicephys.emission import fdtd_sweep
fdtd_sweep._worker_init(os.getppid(), sys.argv[1] == "1")   # what each FDTD pool worker runs first
from devicephys.emission.fdtd import solve
mp = solve.mp
sim = mp.Simulation(cell_size=mp.Vector3(1.05, 0, 1.05), resolution=10, dimensions=mp.CYLINDRICAL)
sim.init_sim()   # 10.5 pixels: MEEP warns that it rounds the cell
warnings.warn("a physics warning of the stage")
"""


@pytest.mark.fdtd
@pytest.mark.parametrize("quiet", [False, True])
def test_meep_output_under_quiet(quiet):
    run = subprocess.run([sys.executable, "-c", MEEP_SCRIPT, "1" if quiet else "0"], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Elapsed run time" not in run.stdout  # MEEP's exit line, never useful
    assert ("Warning: grid volume" in run.stderr) is not quiet, run.stderr
    assert "a physics warning of the stage" in run.stderr  # Python warnings still shown under --quiet
    if quiet:
        assert run.stdout == ""


ARRAY_SCRIPT = """
import json, sys, time
from devicephys.array import network as nw
from devicephys.array.card import illustrative_card, neuron_from_card
from devicephys.array.simulate import simulate

neuron = neuron_from_card(illustrative_card())
net = nw.Network()
net.add(nw.threshold_switch("n", 20, neuron, 1.5 * neuron.threshold_voltage))
t0 = time.perf_counter()
first = simulate(net, 2e-6, 1e-9, progress=True)
total = time.perf_counter() - t0
warm = simulate(net, 2e-6, 1e-9, progress=False)
print(json.dumps({"first": first.wall_time, "warm": warm.wall_time, "total": total}))
"""


def test_array_wall_time_and_bar_exclude_jit(tmp_path):
    """On an empty numba cache the step loop compiles (seconds); neither wall_time nor the bar may count that."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    run = subprocess.run([sys.executable, "-c", ARRAY_SCRIPT], capture_output=True, text=True, timeout=600, env=env,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    t = json.loads(run.stdout.strip().splitlines()[-1])
    assert t["total"] > 1.0, t  # the compilation happened in this run
    # the first run's loop takes as long as a warm run's (0.25 s: timer and first-touch noise of a tiny network)
    assert t["first"] <= 2 * t["warm"] + 0.25, t
    bars = re.findall(r"array: steps: 100%[^\r\n]*?\[(\d+):(\d+)<[^\r\n]*\]\n", run.stderr)
    assert bars, run.stderr[-2000:]  # the finished bar ends its line and stays (a vanishing bar ends with '\r')
    shown = 60 * int(bars[-1][0]) + int(bars[-1][1])
    assert shown <= t["first"] + 1, (shown, t)  # elapsed on the bar: the loop, not the compilation


def test_progress_bars_stay_on_screen():
    from devicephys.filament import stage

    bar = stage._bar(True, 1.0, "filament sweep")
    try:
        assert bar.leave
    finally:
        bar.close()
