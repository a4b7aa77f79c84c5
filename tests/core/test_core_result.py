"""Result base: units on every variable, NetCDF round trip, atomic writes."""

import numpy as np
import pytest
import xarray as xr

from devicephys.io import atomic_path, atomic_write_text
from devicephys.result import Result, check_units, scalar_var
from devicephys.spec import Spec, quantity


class TinySpec(Spec):
    length: float = quantity(1e-9, "m", "a length", gt=0)


class TinyResult(Result):
    kind = "tiny"
    spec_class = TinySpec


def _dataset():
    t = np.linspace(0, 1e-6, 5)
    return xr.Dataset(
        {"current": ("time", t * 2, {"units": "A"}), "peak": scalar_var(3.0, "K", "peak temperature", "max over time")},
        coords={"time": ("time", t, {"units": "s"})},
    )


def test_round_trip(tmp_path):
    res = TinyResult(TinySpec(length="2 nm"), _dataset(), {"numpy": np.__version__})
    path = res.save(tmp_path / "tiny.nc")
    back = TinyResult.load(path)
    assert back.spec == res.spec
    assert back.versions == res.versions
    xr.testing.assert_identical(back.data, res.data)
    assert back.scalar("peak") == 3.0
    assert back.data["peak"].attrs["method"] == "max over time"


def test_units_required():
    ds = _dataset()
    ds["bad"] = ("time", np.zeros(5))
    with pytest.raises(ValueError, match="bad"):
        check_units(ds)


def test_wrong_kind_refused(tmp_path):
    class Other(Result):
        kind = "other"
        spec_class = TinySpec

    path = TinyResult(TinySpec(), _dataset()).save(tmp_path / "tiny.nc")
    with pytest.raises(Exception, match="tiny"):
        Other.load(path)


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half-writ")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
