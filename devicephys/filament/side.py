"""The set-time study, the relaxation and the thermal step (and the step check's set-time study and relaxation, when
the spec sets ``step_check``) in a second process, while the main drive runs.

These three start from the pristine cell (the relaxation and the thermal step from the state
that the set-time study bridges), never from the main drive's, so on a machine with a second
core they run there, beside the main drive, and the stage waits for them after it.  The
second process builds its own :class:`~devicephys.filament.simulate.CellModel` of the same
spec and runs the same functions of :mod:`devicephys.filament.stage`, so its numbers are those
of the serial order bit for bit (``test_second_process_gives_the_serial_result`` in
``tests/filament/test_filament_stage.py`` compares the two whole results); its solver counts,
peak temperature and limits reached are added to the main model part by part, in the serial
order (:meth:`~devicephys.filament.simulate.CellModel.absorb`).

It is used only in a serial run (not under ``mpiexec``, where every rank holds a part of the
mesh) with at least two cores available, and ``DEVICEPHYS_WORKERS=1`` turns it off.  When the
second process fails for any reason (a ConvergenceError of a set run, a killed process), the
stage runs the three parts itself as before, which gives the serial order's result and error.

    python -m devicephys.filament.side SPEC.json OUT.pkl [PARENT_PID]    (what the stage starts)
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: The parts run in the second process, in the serial order of the stage.
PARTS = ("set_runs", "relaxation", "thermal_step", "step_check_set_runs")


def available(comm) -> bool:
    """True when the second process may be used: one rank, not launched by mpiexec, two cores, not turned off."""
    if comm.size != 1 or os.environ.get("DEVICEPHYS_WORKERS", "") == "1":
        return False
    if any(k.startswith(("PMI_", "PMIX_", "OMPI_COMM_WORLD", "HYDRA_")) for k in os.environ):
        return False  # a singleton launched by mpiexec: a second MPI process would try to join its job
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return cores >= 2


class SideRun:
    """The second process running :data:`PARTS` of ``spec``; :meth:`collect` waits for its result."""

    def __init__(self, spec):
        self._what = "set-time study, relaxation, thermal step" + (", step check" if spec.step_check is not None else "")
        self._dir = Path(tempfile.mkdtemp(prefix="devicephys-side-"))
        (self._dir / "spec.json").write_text(json.dumps(spec.model_dump(mode="json")))
        self._out = self._dir / "side.pkl"
        package_root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
               "PYTHONPATH": os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)}
        self._log = open(self._dir / "side.log", "w")
        self.failure = ""  # why no result came back (empty while none is known)
        try:
            self._proc = subprocess.Popen([sys.executable, "-m", "devicephys.filament.side",
                                           str(self._dir / "spec.json"), str(self._out), str(os.getpid())],
                                          stdout=self._log, stderr=subprocess.STDOUT, env=env)
        except OSError as exc:  # no interpreter to start: the stage runs the parts itself
            self._proc, self.failure = None, f"could not start it: {exc}"

    def collect(self, progress: bool = False) -> dict | None:
        """Wait for the second process; its result, or None (``failure`` says why) after which the caller runs
        the parts itself.  ``progress``: a line counting the wait while it still runs."""
        if self._proc is None:
            self.close()
            return None
        try:
            if progress and self._proc.poll() is None:
                from devicephys.progress import bar as progress_bar

                with progress_bar(desc=f"{self._what} (second process)", unit="s",
                                   bar_format="{desc}: {elapsed}") as bar:
                    while self._proc.poll() is None:
                        try:
                            self._proc.wait(timeout=0.5)
                        except subprocess.TimeoutExpired:
                            pass
                        bar.refresh()
            rc = self._proc.wait()
            if rc == 0 and self._out.exists():
                with open(self._out, "rb") as f:
                    return pickle.load(f)
            self._log.flush()
            tail = (self._dir / "side.log").read_text(errors="replace").strip().splitlines()
            self.failure = f"exit status {rc}: {tail[-1] if tail else 'no output'}"
            return None
        finally:
            self.close()

    def close(self) -> None:
        """Stop the second process (if still running) and remove its files."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._log.close()
        shutil.rmtree(self._dir, ignore_errors=True)


def run_parts(spec) -> dict:
    """:data:`PARTS` of ``spec`` on a model of its own; what :meth:`SideRun.collect` returns.

    ``{"set": (set times [s], bridged state or None, forced steps per run, (time [s], gap [m]) per run,
    nucleation time [s] per run),
    "relax": trace or None,
    "thermal": tuple or None, "check_set_runs": the step check's set times and self-rupture (when the spec sets
    ``step_check``; :func:`~devicephys.filament.stage.step_check_set_runs`),
    "parts": [(part, counters, wall time [s]), ...]}``; the relaxation and the
    thermal step are skipped (None) when no set voltage bridged the cell (the stage then starts them
    from its main drive's first set).
    """
    from devicephys.filament import stage
    from devicephys.filament.simulate import CellModel

    model = CellModel(spec)
    pristine = model.state()
    out: dict = {"parts": []}

    def part(name: str, run):
        model.reset_counters()
        t0 = time.perf_counter()
        value = run()
        out["parts"].append((name, model.counters(), time.perf_counter() - t0))
        return value

    out["set"] = part("set_runs", lambda: stage._set_runs(model, spec, pristine, False))
    bridged = out["set"][1]
    out["relax"] = part("relaxation", lambda: stage._relaxation(model, spec, bridged, False, read=True)) if bridged else None
    out["thermal"] = part("thermal_step", lambda: stage._thermal_step(model, spec, bridged)) if bridged else None
    if spec.step_check is not None:  # on a model of its own (its spec's step control): no counters here
        # the lowest set voltage's check runs in the stage's process, after its main drive (solve_filament)
        first = 1 if len(spec.set_voltages) > 1 else 0
        out["check_set_runs"] = part("step_check_set_runs", lambda: stage.step_check_set_runs(spec, first))
        out["check_set_runs"]["bridged"] = None  # the state stays here
    return out


def _exit_with_parent(parent: int) -> None:
    """End this process when the stage that started it is gone (killed without a chance to stop it)."""
    import threading

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def main(argv: list[str]) -> int:
    from devicephys.filament.spec import FilamentSpec

    spec_path, out_path = Path(argv[0]), Path(argv[1])
    if len(argv) > 2:
        _exit_with_parent(int(argv[2]))
    spec = FilamentSpec(**json.loads(spec_path.read_text()))
    result = run_parts(spec)
    tmp = out_path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, out_path)  # the parent reads only a complete file
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
