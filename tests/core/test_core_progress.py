"""Progress bars: in place on a terminal, a few lines in a log."""

from __future__ import annotations

import io

from devicephys import progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_written_to_a_log_redraws_at_its_start_and_end_only():
    log = io.StringIO()
    with progress.bar(total=10000, desc="steps", file=log) as bar:
        for _ in range(10000):
            bar.update()
    assert bar.mininterval == progress.LOG_INTERVAL
    text = log.getvalue()
    assert text.count("\r") <= 3, text  # tqdm's first draw, the close's final one (a run of 30 s would add one)
    assert "10000/10000" in text


def test_a_bar_on_a_terminal_keeps_tqdms_rate_and_an_explicit_interval_is_kept():
    with progress.bar(total=3, file=_Terminal()) as bar:
        bar.update(3)
    assert bar.mininterval == 0.1  # tqdm's default
    with progress.bar(total=3, file=io.StringIO(), mininterval=2.0) as bar:
        bar.update(3)
    assert bar.mininterval == 2.0


def test_a_disabled_bar_writes_nothing():
    log = io.StringIO()
    with progress.bar(range(5), file=log, disable=True) as bar:
        assert list(bar) == [0, 1, 2, 3, 4]
    assert log.getvalue() == ""
