"""Progress bars: the one door every long loop of the project takes to tqdm.

On a terminal a bar redraws in place, as tqdm does by default (at most ten times a second).  Written to a file or a
pipe (a log, a CI job, ``make demo > run.log``) each redraw is a new stretch of text, so there a bar redraws at most
once every :data:`LOG_INTERVAL` and at its end.  In a Jupyter notebook the widget bar is used (``tqdm.auto``), at
tqdm's own rate.
"""

from __future__ import annotations

import sys
from typing import Any, Iterable

#: [s] least time between two redraws of a bar that writes to a file or a pipe rather than a terminal
LOG_INTERVAL = 30.0


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def bar(iterable: Iterable | None = None, **kwargs: Any):
    """A tqdm progress bar over ``iterable`` (or a manual one with ``total=``), with tqdm's keyword arguments.

    Writing to a file or a pipe, its least redraw interval is :data:`LOG_INTERVAL` unless ``mininterval`` is given.
    """
    from tqdm.auto import tqdm as auto

    notebook = any(c.__module__ == "tqdm.notebook" for c in auto.__mro__)  # tqdm.auto's choice in Jupyter
    stream = kwargs.get("file") or sys.stderr
    if not notebook and not _is_terminal(stream):
        kwargs.setdefault("mininterval", LOG_INTERVAL)
        kwargs.setdefault("maxinterval", max(kwargs["mininterval"], 10.0))
    return auto(iterable, **kwargs)
