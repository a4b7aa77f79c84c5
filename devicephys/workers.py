"""Commands run in worker processes, a few at a time: the studies' runs, one process per setting."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Hashable
from pathlib import Path


def run_processes(commands: dict[Hashable, list[str]], jobs: int, label: Callable[[Hashable], str]) -> None:
    """Run each command (an argv list) in its own process, at most ``jobs`` at a time, in the order given.

    Each process gets ``OMP_NUM_THREADS=1`` (the runs share the cores).  ``label(key)`` names a run in the lines
    printed as it starts and ends.  The first run that fails terminates the others and ends with SystemExit
    naming it; an interrupt (Ctrl-C) terminates the running ones and is raised again.
    """
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    todo, running = list(commands.items()), {}
    try:
        while todo or running:
            while todo and len(running) < jobs:
                key, cmd = todo.pop(0)
                running[key] = subprocess.Popen(cmd, env=env)
                print(f"{label(key)}: started", flush=True)
            for key, proc in list(running.items()):
                if proc.poll() is None:
                    continue
                del running[key]
                if proc.returncode != 0:
                    raise SystemExit(f"{label(key)} failed (exit {proc.returncode}); see its output above")
                print(f"{label(key)}: done", flush=True)
            time.sleep(0.5)
    finally:
        for proc in running.values():
            if proc.poll() is None:
                proc.terminate()


def run_missing(commands: dict[Hashable, list[str]], written: Callable[[Hashable], Path], jobs: int, resume: bool,
                label: Callable[[Hashable], str]) -> None:
    """:func:`run_processes` over ``commands``; with ``resume``, those whose result file ``written(key)`` exists are
    kept (a line each says so) and not run again."""
    todo = {k: cmd for k, cmd in commands.items() if not (resume and written(k).is_file())}
    for k in commands:
        if k not in todo:
            print(f"{label(k)}: kept from {written(k).name}", flush=True)
    run_processes(todo, jobs, label)


def report_checks(found: dict[str, tuple[float, float, bool]], between: str) -> int:
    """Print a study's checks, one line each: ``found`` maps a check's name to (value, allowed, passed), ``between``
    names what it compares.  Return the study's exit status: 0 when all passed, else 1."""
    for name, (value, allowed, ok) in found.items():
        print(f"check {name} ({between}): {value:.4g} against {allowed:.4g} -> {'ok' if ok else 'FAILED'}")
    return 0 if all(ok for _, _, ok in found.values()) else 1
