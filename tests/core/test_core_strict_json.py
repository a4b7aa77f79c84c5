"""Result JSON is strict JSON: non-finite numbers are written as null, never as bare NaN/Infinity."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from devicephys import strict_json


def test_non_finite_numbers_become_null_and_numpy_values_plain():
    obj = {"a": float("nan"), "b": [1.0, float("inf"), -np.inf], "c": np.float64(2.5), "d": np.arange(3),
           "e": (np.nan, "x"), "f": {"g": np.float32("nan"), "h": True, "i": None}}
    text = strict_json.dumps(obj)
    assert "NaN" not in text and "Infinity" not in text
    back = strict_json.loads(text)
    assert back == {"a": None, "b": [1.0, None, None], "c": 2.5, "d": [0, 1, 2], "e": [None, "x"],
                    "f": {"g": None, "h": True, "i": None}}


def test_strict_reader_refuses_bare_nan():
    assert math.isnan(json.loads("NaN"))  # what Python's own reader lets through
    with pytest.raises(ValueError, match="NaN"):
        strict_json.loads('{"period": NaN}')
    with pytest.raises(ValueError, match="Infinity"):
        strict_json.loads("[Infinity]")


def test_write_is_strict_and_atomic(tmp_path):
    path = strict_json.write(tmp_path / "r.json", {"error": float("nan"), "n": 3})
    assert strict_json.loads(path.read_text()) == {"error": None, "n": 3}
    assert not list(tmp_path.glob(".*partial*"))
