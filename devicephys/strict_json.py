"""Strict JSON for every result file: no bare ``NaN``/``Infinity`` (RFC 8259).

Python's :func:`json.dumps` writes non-finite floats as ``NaN``, ``Infinity``
and ``-Infinity``, which are not JSON and which strict readers (browsers,
``jq``, most languages' parsers) refuse.  Here a non-finite number is written
as ``null``, meaning *the quantity does not exist or could not be computed*
(a period when nothing fired, an error when there was nothing to compare);
the record that holds it says why where it matters (e.g. a check's
``verdict``).  NumPy scalars and arrays are converted to Python numbers and
lists.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from devicephys.io import atomic_write_text


def finite_or_null(obj: Any) -> Any:
    """``obj`` with NumPy values as Python ones and every NaN or infinite float as None (JSON null)."""
    if isinstance(obj, np.ndarray):
        obj = obj.tolist()
    elif isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_or_null(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_or_null(v) for v in obj]
    return obj


def dumps(obj: Any, **kwargs: Any) -> str:
    """Strict JSON text of ``obj`` (non-finite numbers as null); keyword arguments go to :func:`json.dumps`."""
    return json.dumps(finite_or_null(obj), allow_nan=False, **kwargs)


def write(path: str | Path, obj: Any, *, indent: int | None = 2) -> Path:
    """Write ``obj`` as strict JSON to ``path``, atomically; returns the path."""
    return atomic_write_text(path, dumps(obj, indent=indent) + "\n")


def loads(text: str) -> Any:
    """Parse JSON strictly: a bare ``NaN``/``Infinity`` is an error (ValueError)."""
    def refuse(name: str) -> Any:
        raise ValueError(f"not strict JSON: bare {name}")
    return json.loads(text, parse_constant=refuse)
