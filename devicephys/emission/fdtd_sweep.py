"""The FDTD gap sweep, run on a ``concurrent.futures`` executor.

Each gap is one task (:func:`fdtd_gap_task`) that imports MEEP inside the
worker, so this module itself stays light.  A process pool is the default; a
thread pool, a serial loop, or any executor the caller gives (for example a
Dask ``Client.get_executor()``) work the same way.

The pool's workers die with the process that started them (SIGKILL on the
parent's death, and a thread that watches the parent), so a killed run leaves
no FDTD process behind; an interrupted sweep (Ctrl-C, SIGTERM) stops its
workers at once instead of waiting for the running gaps.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass

import numpy as np

from devicephys.emission.spec import EmissionSpec
from devicephys.errors import ConvergenceError
from devicephys.progress import bar as progress_bar


@dataclass
class GapSpectra:
    """Processed FDTD spectra of one gap (SI; spectra on the spec's wavelength grid).

    Attributes
    ----------
    gap
        Gap [m].
    purcell
        LDOS at the dipole over the analytic homogeneous-insulator LDOS [1].
    purcell_flux
        The same from the flux out of a small closed box around the dipole [1].
    radiative_efficiency
        Radiated power (closed box around the device) over total power [1].
    far_field
        (angle, wavelength) radiation pattern normalised to 1 over the sphere [1/sr].
    seconds, steps_per_second
        Wall time [s] and FDTD speed [1/s] of the run.
    grid_step
        Grid step of the run [m] (finer than the spec's for a refined narrow gap).
    simulated_time, time_steps, decay_reached
        Solver statistics: simulated time [s], FDTD time steps [1], and the field decay
        reached at the stop probe (|Ez|^2 over its maximum) [1].
    """

    gap: float
    purcell: np.ndarray
    purcell_flux: np.ndarray
    radiative_efficiency: np.ndarray
    far_field: np.ndarray
    seconds: float
    steps_per_second: float
    grid_step: float = float("nan")
    simulated_time: float = float("nan")
    time_steps: int = 0
    decay_reached: float = float("nan")


def geometry_and_control(spec: EmissionSpec, gap: float, tip_radius: float):
    """The solver's GapGeometry and RunControl for ``gap`` [m] and ``tip_radius`` [m]."""
    from devicephys.emission.fdtd import solve

    geom = solve.GapGeometry(gap=gap, tip_radius=tip_radius, tip_length=spec.tip_length, counter_radius=spec.counter_radius,
                             counter_thickness=spec.counter_thickness, index=spec.insulator_index, tip_metal=spec.tip_metal,
                             counter_metal=spec.counter_metal, tip_shape=spec.tip_shape, cone_half_angle=spec.cone_half_angle)
    ctrl = solve.RunControl(grid_step=spec.grid_step_for(gap), pml_thickness=spec.pml_thickness, padding=spec.padding,
                            min_run_time=spec.min_run_time, decay=spec.field_decay)
    return geom, ctrl


def wavelengths(spec: EmissionSpec) -> np.ndarray:
    """The spec's vacuum wavelength grid [m], ascending: wavelength_count evenly spaced, plus the FEM band's points."""
    lam = np.linspace(spec.wavelength_min, spec.wavelength_max, spec.wavelength_count)
    if spec.wavelength_band_count == 0:
        return lam
    band = np.linspace(spec.wavelength_band_min, spec.wavelength_band_max, spec.wavelength_band_count)
    lam = np.sort(np.concatenate([lam, band]))
    keep = np.concatenate([[True], np.diff(lam) > 1e-6 * lam[1:]])  # a band point on a grid point counts once
    return lam[keep]


def angles(spec: EmissionSpec) -> np.ndarray:
    """The spec's polar angles [rad] of the far-field pattern."""
    return np.linspace(0.0, np.pi, spec.angle_count)


def fdtd_gap_task(spec_dict: dict, gap: float, tip_radius: float) -> GapSpectra:
    """Run and process one gap (in a worker); raises ConvergenceError on a bad run."""
    from devicephys.emission.fdtd import solve

    spec = EmissionSpec.from_dict(spec_dict)
    geom, ctrl = geometry_and_control(spec, gap, tip_radius)
    lam, ang = wavelengths(spec), angles(spec)
    raw = solve.run_gap(geom, ctrl, lam, angles=ang)
    total_from_ldos = solve.power_from_ldos(raw.ldos, spec.insulator_index, ctrl.grid_step)
    ratio = raw.power_total / total_from_ldos
    typical = float(np.median(np.abs(ratio - 1)))
    if typical > spec.power_check_tolerance:
        raise ConvergenceError(
            f"gap {gap * 1e9:.2f} nm: total power from the LDOS and from the flux box around the dipole differ by "
            f"{100 * typical:.0f}% (band median, > {100 * spec.power_check_tolerance:.0f}%); refine grid_step or raise min_run_time")
    theta = ang[:, None]
    norm = np.trapezoid(raw.far_field * 2 * np.pi * np.sin(theta), ang, axis=0)
    return GapSpectra(gap=gap, purcell=raw.ldos / raw.ldos_reference,
                      purcell_flux=raw.power_total / solve.power_from_ldos(raw.ldos_reference, spec.insulator_index, ctrl.grid_step),
                      radiative_efficiency=raw.power_radiated / total_from_ldos,
                      far_field=raw.far_field / norm[None, :], seconds=raw.seconds, steps_per_second=raw.steps_per_second,
                      grid_step=ctrl.grid_step, **raw.extra)


#: prctl option: signal delivered to this process when its parent dies (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def _watch_parent(parent: int) -> None:
    """Exit this process as soon as ``parent`` is no longer its parent (it died)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _worker_init(parent: int, quiet: bool) -> None:
    """Initializer of the pool's worker processes: die with ``parent``; with ``quiet``, no MEEP output."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="watch-parent", daemon=True).start()
    if quiet:  # for the worker's whole life
        global _WORKER_QUIET
        _WORKER_QUIET = _quiet_engine(True)
        _WORKER_QUIET.__enter__()


_WORKER_QUIET = None


@contextlib.contextmanager
def _quiet_engine(quiet: bool):
    """With ``quiet``, MEEP's lines are dropped while the block runs; Python warnings still reach stderr.

    MEEP prints its run-time lines and its C++ warnings through Python's
    ``sys.stdout`` and ``sys.stderr`` (its print callbacks), so both are sent
    to /dev/null here.
    """
    if not quiet:
        yield
        return
    real_err, show = sys.stderr, warnings.showwarning

    def to_real_stderr(message, category, filename, lineno, file=None, line=None):
        show(message, category, filename, lineno, real_err, line)

    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.showwarning = to_real_stderr
        try:
            yield
        finally:
            warnings.showwarning = show


def _stop_workers(pool: cf.ProcessPoolExecutor) -> None:
    """Terminate the pool's worker processes now (an interrupted sweep does not wait for running gaps)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.terminate()


def _make_executor(kind: str, workers: int, quiet: bool = False) -> cf.Executor | None:
    if kind == "process":  # spawn: MEEP/OpenMP threads in the parent make fork unsafe
        return cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                      initializer=_worker_init, initargs=(os.getpid(), quiet))
    if kind == "thread":
        return cf.ThreadPoolExecutor(max_workers=workers)
    return None


def run_sweep(spec: EmissionSpec, tip_radius: float, *, executor: cf.Executor | None = None,
              progress: bool = True) -> list[GapSpectra]:
    """FDTD spectra at every gap of ``spec.fdtd_gaps``, sorted by gap.

    Parameters
    ----------
    spec
        The emission spec.
    tip_radius
        Tip radius [m] (the spec's, or the filament's).
    executor
        Any ``concurrent.futures`` executor; default: the one the spec names.
    progress
        Show a progress bar.
    """
    gaps = sorted(spec.fdtd_gaps)
    own = executor is None
    pool = _make_executor(spec.executor, spec.workers, quiet=not progress) if own else executor
    bar = progress_bar(total=len(gaps), desc="FDTD gaps", unit="gap", disable=not progress)
    try:
        if pool is None:
            out = []
            for g in gaps:
                with _quiet_engine(not progress):
                    out.append(fdtd_gap_task(spec.to_dict(), g, tip_radius))
                bar.update()
            return out
        with _quiet_engine(not progress and not isinstance(pool, cf.ProcessPoolExecutor)):
            futures = {pool.submit(fdtd_gap_task, spec.to_dict(), g, tip_radius): g for g in gaps}
            for fut in cf.as_completed(futures):
                fut.result()
                bar.update()
        return [f.result() for f in sorted(futures, key=futures.get)]
    except BaseException:
        if own and isinstance(pool, cf.ProcessPoolExecutor):
            _stop_workers(pool)
        raise
    finally:
        bar.close()
        if own and pool is not None:
            pool.shutdown(cancel_futures=True)
