"""Run the real ngspice in batch mode on the exported model and read its waveforms.

:func:`run` writes a netlist into a temporary folder, runs ``ngspice -b``,
and reads the vectors written by ``wrdata`` (one time column, 9 significant
digits).  Netlist builders for the three checks of the compact stage (DC
sweep, pulse train, LIF neuron) live here too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from devicephys.errors import ConvergenceError, StageUnavailableError

#: The options of the stiff card's transients (an ``.options`` line's body): tight tolerances and Gear (BDF)
#: integration, which does not ring on the picosecond thermal node as the trapezoidal default can.
OPTIONS = "reltol=1e-6 abstol=1e-15 vntol=1e-9 chgtol=1e-20 trtol=1 method=gear maxord=2 itl4=200"
_OPTIONS = ".options " + OPTIONS


def executable() -> str:
    """Path of the ngspice program, or StageUnavailableError."""
    path = shutil.which("ngspice")
    if path is None:
        raise StageUnavailableError("ngspice is not installed; install the Debian package 'ngspice'")
    return path


#: The ngspice processes this process's threads are waiting on (:func:`stop_running` kills them on an interrupt).
_RUNNING: set[subprocess.Popen] = set()
_RUNNING_LOCK = threading.Lock()
#: Set while :func:`refusing`: no new ngspice run starts.
_REFUSE = threading.Event()


def stop_running() -> None:
    """Kill every ngspice process a thread of this process is waiting on (an interrupt's clean-up)."""
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for proc in running:
        if proc.poll() is None:
            proc.kill()


@contextlib.contextmanager
def refusing():
    """Inside: the running ngspice processes are killed and no new one starts (each refused with a
    ConvergenceError), so threads that are still running checks end at once; an interrupt's clean-up."""
    _REFUSE.set()
    try:
        stop_running()
        yield
    finally:
        _REFUSE.clear()


def _batch(args: list[str], cwd: str, env: dict, timeout: float) -> tuple[int, str, str]:
    """Run ngspice (``args``) to its end: (exit status, stdout, stderr), as :func:`subprocess.run` with
    ``capture_output`` and ``timeout`` does, and registered for :func:`stop_running` meanwhile."""
    if _REFUSE.is_set():
        raise ConvergenceError("ngspice not started: the command is being interrupted")
    with subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:
        with _RUNNING_LOCK:
            _RUNNING.add(proc)
        if _REFUSE.is_set():  # refused while it started, after stop_running looked: it stops itself
            proc.kill()
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        except BaseException:  # an interrupt: the run is not left behind (the context's exit waits for it)
            proc.kill()
            raise
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(proc)
    return proc.returncode, stdout, stderr


def version() -> str:
    """First line of ``ngspice --version``."""
    out = subprocess.run([executable(), "--version"], capture_output=True, text=True, timeout=30)
    lines = [ln.strip() for ln in out.stdout.splitlines() if "ngspice" in ln.lower()]
    return lines[0] if lines else out.stdout.strip()[:80]


@dataclass(frozen=True)
class SpiceRun:
    """Waveforms from one ngspice run: ``time`` [s] and named vectors (SI), and the run time [s]."""

    time: np.ndarray
    vectors: dict[str, np.ndarray]
    seconds: float
    netlist: str


def run(netlist: str, vectors: list[str], *, timeout: float = 300.0) -> SpiceRun:
    """Run ``netlist`` (without a control block) and return ``vectors`` (ngspice names).

    The netlist must contain one analysis line (``.tran`` or ``.dc``); a control block that runs it
    and writes the vectors is appended here.
    """
    control = ["", ".control", "set wr_singlescale", "set wr_vecnames", "set numdgt=12", "run",
               f"wrdata out.txt {' '.join(vectors)}", "quit", ".endc", ".end"]
    text = netlist.rstrip() + "\n" + "\n".join(control) + "\n"
    with tempfile.TemporaryDirectory(prefix="devicephys-ngspice-") as tmp:
        Path(tmp, "circuit.cir").write_text(text)
        t0 = time.perf_counter()
        # ngspice 39 crashes (SIGSEGV) when HOME is unset: give it the temporary folder then
        env = {**os.environ, "HOME": os.environ.get("HOME") or tmp}
        returncode, stdout, stderr = _batch([executable(), "-b", "circuit.cir"], tmp, env, timeout)
        seconds = time.perf_counter() - t0
        out = Path(tmp, "out.txt")
        if returncode != 0 or not out.is_file():
            tail = " | ".join((stdout + stderr).strip().splitlines()[-4:])
            raise ConvergenceError(f"ngspice failed (exit {returncode}): {tail}; "
                                   "try a smaller time step or looser tolerances")
        data = np.loadtxt(out, skiprows=1, ndmin=2)
        t_stop = _tran_stop(netlist)
        if t_stop is not None and data.shape[0] and data[-1, 0] < t_stop * (1 - 1e-9):
            tail = " | ".join([ln.strip() for ln in (stdout + stderr).splitlines() if ln.strip()][-3:])
            raise ConvergenceError(f"ngspice stopped at t = {data[-1, 0]:.6g} s of the transient's {t_stop:.6g} s "
                                   f"({tail}); try a smaller maximum step or method=gear")
    return SpiceRun(data[:, 0], {name: data[:, k + 1] for k, name in enumerate(vectors)}, seconds, text)


def run_at_steps(deck, steps, vectors: list[str]) -> tuple[SpiceRun | None, int, list[str]]:
    """Run ``deck(n)`` (the netlist whose maximum step is a duration over ``n``) for each ``n`` of ``steps`` in turn
    until one runs to its end.  Returns (the run or None, the ``n`` it ran at or the last tried, the failures: one
    line per ``n`` that stopped, naming it).  ngspice stops some compact cards at a switching event with "timestep
    too small" at one maximum step and not at a shorter one."""
    failed: list[str] = []
    for n in steps:
        try:
            return run(deck(n), vectors), n, failed
        except ConvergenceError as exc:
            failed.append(f"{exc} (maximum step: the drive's duration / {n})")
    return None, n, failed


def _tran_stop(netlist: str) -> float | None:
    """Stop time [s] of the netlist's ``.tran`` line, or None (another analysis, or a value with a SPICE suffix)."""
    for line in netlist.splitlines():
        words = line.split()
        if len(words) >= 3 and words[0].lower() == ".tran":
            try:
                return float(words[2])
            except ValueError:
                return None
    return None


def pwl(times, values) -> str:
    """SPICE PWL argument list for corners ``times`` [s], ``values`` [V]."""
    return "PWL(" + " ".join(f"{float(t)!r} {float(v)!r}" for t, v in zip(times, values)) + ")"


def series_netlist(library: str, subckt: str, times, values, r_series: float, t_stop: float,
                   max_step: float, capacitance: float = 0.0) -> str:
    """The device in series with ``r_series`` [Ohm] under a PWL source (DC sweep or pulse train).

    ``capacitance`` [F] > 0 across the cell's terminals, outside the current sense."""
    return "\n".join([
        "* devicephys: compact model driven through a series resistor", library.rstrip(),
        f"Vsrc src 0 {pwl(times, values)}", f"Rs src a {float(r_series)!r}", "Vsense a anode 0",
        *([f"Ccell a 0 {float(capacitance)!r}"] if capacitance > 0 else []),
        f"Xdev anode 0 opt {subckt}", _OPTIONS, f".tran {float(max_step)!r} {float(t_stop)!r} 0 {float(max_step)!r} uic"])


def lif_netlist(library: str, subckt: str, v_in: float, r_series: float, capacitance: float, t_stop: float,
                max_step: float, *, optical_port: bool = False) -> str:
    """LIF neuron: ``v_in`` through ``r_series`` into ``capacitance`` with the switch across it; starts at 0 V.

    ``optical_port`` for the physical subcircuit (its third port ``opt``).
    """
    return "\n".join([
        "* devicephys: threshold-switch LIF neuron", library.rstrip(),
        f"Vin in 0 {float(v_in)!r}", f"Rs in mem {float(r_series)!r}", f"Cm mem 0 {float(capacitance)!r} IC=0", "Vsense mem sw 0",
        f"Xsw sw 0 {'opt ' if optical_port else ''}{subckt}", _OPTIONS, f".tran {float(max_step)!r} {float(t_stop)!r} 0 {float(max_step)!r} uic"])


def user_lif_netlist(lib_path: str | Path, subckt: str, v_in: float, r_series: float, capacitance: float,
                     t_step: float, t_stop: float, *, options: str = "", max_step: float | None = None) -> str:
    """A designer's LIF netlist: ``.include`` of an exported library, the switch across ``capacitance``.

    Unlike :func:`lif_netlist` it carries none of this module's ``_OPTIONS``:
    ``options`` (e.g. ``"method=gear reltol=1e-4"``, empty for ngspice's
    defaults) and ``max_step`` [s] (None: ngspice's default) are the user's.
    The capacitor starts at 0 V (``uic``).
    """
    tran = f".tran {float(t_step)!r} {float(t_stop)!r}" + (f" 0 {float(max_step)!r}" if max_step else "") + " uic"
    return "\n".join([
        "* LIF neuron with the exported threshold switch", f".include {Path(lib_path).resolve()}",
        f"Vin in 0 {float(v_in)!r}", f"Rs in mem {float(r_series)!r}", f"Cm mem 0 {float(capacitance)!r} IC=0",
        f"Xsw mem 0 {subckt}", *([f".options {options}"] if options else []), tran])


def dc_netlist(lib_path: str | Path, subckt: str, r_series: float, v_stop: float, v_step: float) -> str:
    """``.dc`` sweep 0..``v_stop`` [V] of a source through ``r_series`` [Ohm] into the physical subcircuit.

    No ``.options``: the DC operating point at each source voltage as ngspice finds it by default.
    """
    return "\n".join([
        "* DC operating points of the physical subcircuit", f".include {Path(lib_path).resolve()}",
        "Vsrc src 0 0", f"Rs src anode {float(r_series)!r}", f"Xdev anode 0 opt {subckt}",
        f".dc Vsrc 0 {float(v_stop)!r} {float(v_step)!r}"])
