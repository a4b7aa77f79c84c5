"""The compact stage's checks a few at a time: the same results as one after the other, errors in the jobs' order,
and an interrupt that leaves no ngspice run behind (the real ngspice)."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from devicephys.compact import ngspice, parallel
from devicephys.errors import ConvergenceError, StageUnavailableError

#: An RC circuit whose transient takes ngspice far longer than a killed run (20 ms at steps of at most 1 ns: 2e7 steps,
#: 40 s or more on a 2-core machine; its output every 1 us), yet ends if a regression lets it run.
LONG_NETLIST = """* a long transient
V1 1 0 SIN(0 1 1e6)
R1 1 2 1k
C1 2 0 1n
.tran 1u 20m 0 1n
"""


def _ngspice() -> None:
    try:
        ngspice.executable()
    except StageUnavailableError as exc:
        pytest.skip(str(exc))


def test_results_in_the_jobs_order_and_the_jobs_run_together():
    started = threading.Barrier(2, timeout=10)  # both jobs must be running at once to pass it

    def job(value):
        def run():
            started.wait()
            return value
        return run

    jobs = [("a", job(1)), ("b", job(2))]
    done = parallel.run_jobs(jobs, threads=2)
    assert list(done) == ["a", "b"] and done == {"a": 1, "b": 2}
    serial = parallel.run_jobs([("x", lambda: 3), ("y", lambda: 4)], threads=1)
    assert list(serial) == ["x", "y"] and serial == {"x": 3, "y": 4}


@pytest.mark.parametrize("threads", [1, 2])
def test_the_first_failing_job_in_order_is_raised_after_the_others_ended(threads):
    ended = []

    def slow_fail():
        time.sleep(0.3)
        ended.append("first")
        raise ConvergenceError("the first job failed")

    def fast_fail():
        ended.append("second")
        raise LaterError("the second job failed")

    with pytest.raises(ConvergenceError, match="the first job failed"):
        parallel.run_jobs([("first", slow_fail), ("second", fast_fail), ("third", lambda: 1)], threads=threads)
    assert "first" in ended


class LaterError(ValueError):  # a second kind of error, raised later in the jobs' order
    pass


def test_workers_follow_the_cores_and_the_one_process_setting(monkeypatch):
    monkeypatch.delenv("DEVICEPHYS_WORKERS", raising=False)
    assert 1 <= parallel.workers(5) <= 5 and parallel.workers(1) == 1
    monkeypatch.setenv("DEVICEPHYS_WORKERS", "1")  # a sweep's point: its pool already uses the cores
    assert parallel.workers(5) == 1


def test_stop_running_ends_a_real_ngspice_run_at_once():
    _ngspice()
    failed = []

    def run():
        try:
            ngspice.run(LONG_NETLIST, ["v(2)"])
        except ConvergenceError as exc:
            failed.append(str(exc))

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 10
    while not ngspice._RUNNING and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ngspice._RUNNING, "ngspice did not start"
    t0 = time.monotonic()
    ngspice.stop_running()
    worker.join(timeout=10)
    assert not worker.is_alive() and time.monotonic() - t0 < 5
    assert failed and "exit -9" in failed[0]
    assert not ngspice._RUNNING


def _interrupted(job, after: float) -> float:
    """Seconds until :func:`parallel.run_jobs` of two ``job`` on two threads raised the KeyboardInterrupt that a
    timer raises in this (the main) thread ``after`` seconds in, as Ctrl-C would."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    t0 = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, after)
        with pytest.raises(KeyboardInterrupt):
            parallel.run_jobs([("one", job), ("two", job)], threads=2)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return time.monotonic() - t0


def test_an_interrupt_while_checks_run_kills_their_ngspice_runs():
    _ngspice()
    assert _interrupted(lambda: ngspice.run(LONG_NETLIST, ["v(2)"]), 1.0) < 8  # killed, not waited for
    assert not ngspice._RUNNING


def _without_wall_times(obj):
    if isinstance(obj, dict):
        return {k: _without_wall_times(v) for k, v in obj.items() if k != "ngspice_seconds"}
    if isinstance(obj, list):
        return [_without_wall_times(v) for v in obj]
    return obj


def test_the_stage_checks_on_threads_equal_them_one_after_the_other(card, monkeypatch, tmp_path):
    """The card's ngspice checks (the real ngspice) give the same metrics, to the last bit, on threads as in order."""
    _ngspice()
    from devicephys.compact import stage
    from devicephys.compact.spec import CompactSpec

    spec = CompactSpec()
    monkeypatch.setattr(parallel, "workers", lambda jobs: 2)
    checks, threaded, _ = stage._verify(card, spec, tmp_path, False)
    monkeypatch.setattr(parallel, "workers", lambda jobs: 1)
    _, ordered, _ = stage._verify(card, spec, tmp_path, False)
    assert list(threaded) == list(ordered) == [*stage.CHECKS, "verdict"]
    assert _without_wall_times(threaded) == _without_wall_times(ordered)
    assert set(checks) == set(stage.CHECKS)


def test_an_interrupt_before_a_check_starts_ngspice_refuses_the_run():
    """A check still in its NumPy part when the interrupt comes does not start ngspice afterwards."""
    _ngspice()

    def numpy_then_ngspice():
        time.sleep(0.6)  # stands for the NumPy reference computed before the ngspice run
        return ngspice.run(LONG_NETLIST, ["v(2)"])

    assert _interrupted(numpy_then_ngspice, 0.2) < 8  # the runs were refused, not waited for
    assert not ngspice._RUNNING and not ngspice._REFUSE.is_set()
    assert ngspice.run("* a short one\nV1 1 0 1\nR1 1 0 1k\n.dc V1 0 1 0.5\n", ["i(V1)"]).time.size == 3  # runs again


def test_without_ngspice_the_checks_and_the_replay_are_skipped(card, monkeypatch, tmp_path):
    """No ngspice: no check runs, the card's quality says why, and so does the FEM-drive replay's row."""
    import copy

    from devicephys.compact import stage
    from devicephys.compact.spec import CompactSpec

    def missing():
        raise StageUnavailableError("ngspice is not installed; install the Debian package 'ngspice'")

    monkeypatch.setattr(ngspice, "executable", missing)
    checks, quality, replay = stage._verify(card, CompactSpec(), tmp_path, False)
    assert checks == {} and quality == {"skipped": "ngspice is not installed; install the Debian package 'ngspice'"}
    assert replay is None  # no FEM-drive replay on this card
    fem_card = copy.deepcopy(card)
    fem_card.fit_quality["fem_drive"] = {"rows": []}
    monkeypatch.setattr(stage, "_fem_drive_spice", lambda c, f: {"ran": True})  # not taken without ngspice
    _, quality, replay = stage._verify(fem_card, CompactSpec(), tmp_path, False, filament=object())
    assert replay == quality == {"skipped": "ngspice is not installed; install the Debian package 'ngspice'"}
