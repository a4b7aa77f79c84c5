"""The compact stage's independent checks, a few at a time on threads.

Each ngspice check is a NumPy reference and an ngspice run of the exported subcircuit; the ngspice runs
are processes of their own, so two checks on two threads keep two cores busy while the NumPy references
interleave.  The checks share nothing (each ngspice run has its own temporary folder), so their results are
those of running them one after the other, to the last bit; only the wall times they record differ.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any

from devicephys.progress import bar as progress_bar


def workers(jobs: int) -> int:
    """Threads for ``jobs`` independent checks [1]: one per core this process may use, at most ``jobs``; one where
    ``DEVICEPHYS_WORKERS=1`` (a sweep's point, whose pool already uses the cores)."""
    if os.environ.get("DEVICEPHYS_WORKERS", "") == "1":
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(jobs, cores))


def run_jobs(jobs: list[tuple[str, Callable[[], Any]]], *, threads: int, desc: str = "",
             progress: bool = False) -> dict[str, Any]:
    """Run the ``(name, job)`` pairs on ``threads`` threads; return ``{name: result}`` in the jobs' order.

    As one after the other: the first job, in the jobs' order, that raised has its exception raised, once every
    job has ended.  An interrupt (Ctrl-C, or SIGTERM handled as one) kills the ngspice processes the threads are
    waiting on and refuses new ones until the threads have ended (:func:`devicephys.compact.ngspice.refusing`),
    then is raised again.
    """
    from devicephys.compact import ngspice

    outcome: dict[str, tuple[bool, Any]] = {}
    bar = progress_bar(total=len(jobs), desc=desc, disable=not progress)
    try:
        if threads <= 1:
            for name, job in jobs:
                try:
                    outcome[name] = (True, job())
                except Exception as exc:  # raised below, in the jobs' order, as with threads
                    outcome[name] = (False, exc)
                    break
                bar.update(1)
        else:
            pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="devicephys-check")
            futures = {pool.submit(job): name for name, job in jobs}
            try:
                pending = set(futures)
                while pending:
                    done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in done:
                        exc = future.exception()
                        outcome[futures[future]] = (exc is None, future.result() if exc is None else exc)
                        bar.update(1)
            except BaseException:
                for future in futures:
                    future.cancel()
                with ngspice.refusing():  # the running checks end at once: their ngspice killed, none started
                    pool.shutdown(wait=True)
                raise
            pool.shutdown(wait=True)
    finally:
        bar.close()
    for name, _ in jobs:
        if name in outcome and not outcome[name][0]:
            raise outcome[name][1]
    return {name: outcome[name][1] for name, _ in jobs}
