"""Pipeline mechanics on two small real stages: caching, invalidation, corruption, lock, sweeps.

The stages here are tiny but real computations (a resistor divider and a
heat-loss estimate) registered in place of the physics stages, so that the
cache logic is tested in seconds and independently of the engines.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from devicephys import pipeline, stages
from devicephys.errors import SpecError
from devicephys.result import Result, scalar_var
from devicephys.spec import Spec, quantity
from devicephys.sweep import SweepSpec, executor, run_sweep

CALLS: list[str] = []


class DividerSpec(Spec):
    kind = "divider"
    bias: float = quantity(1.0, "V", "source voltage", gt=0)
    resistance: float = quantity(1e3, "Ohm", "series resistance", gt=0)

    @classmethod
    def fast(cls):
        return cls()


class DividerResult(Result):
    kind = "divider"
    spec_class = DividerSpec


def run_divider(spec, out, *, upstream, progress=True):
    CALLS.append("divider")
    current = spec.bias / (2 * spec.resistance)
    ds = xr.Dataset({"current": scalar_var(current, "A", "current through the divider", "Ohm's law")})
    return {"result": DividerResult(spec, ds).save(Path(out) / "divider.nc")}


def run_heat(spec, out, *, upstream, progress=True):
    CALLS.append("heat")
    upstream_current = float(xr.load_dataset(upstream["divider"] / "divider.nc", engine="h5netcdf")["current"])
    power = upstream_current**2 * spec.resistance
    ds = xr.Dataset({"power": scalar_var(power, "W", "Joule power", "I^2 R")})
    return {"result": DividerResult(spec, ds).save(Path(out) / "heat.nc")}


@pytest.fixture
def toy_stages(monkeypatch):
    here = __name__
    toy = (stages.Stage("divider", f"{here}:DividerSpec", f"{here}:run_divider", (), "toy divider"),
           stages.Stage("heat", f"{here}:DividerSpec", f"{here}:run_heat", ("divider",), "toy heat"))
    monkeypatch.setattr(stages, "STAGES", toy)

    class ToyPipeline(pipeline.PipelineSpec):
        divider: dict = {}
        heat: dict = {}

    CALLS.clear()
    return ToyPipeline


def test_rerun_is_cached_and_change_reruns_downstream_only(toy_stages, tmp_path):
    spec = toy_stages()
    first = pipeline.run(spec, tmp_path, progress=False)
    assert [r["status"] for r in first.values()] == ["done", "done"]
    again = pipeline.run(spec, tmp_path, progress=False)
    assert [r["status"] for r in again.values()] == ["cached", "cached"]
    assert CALLS == ["divider", "heat"]
    changed = pipeline.run(toy_stages(heat={"resistance": 2e3}), tmp_path, progress=False)
    assert [r["status"] for r in changed.values()] == ["cached", "done"]
    power = float(xr.load_dataset(tmp_path / "heat" / "heat.nc", engine="h5netcdf")["power"])
    assert power == pytest.approx((1.0 / 2e3) ** 2 * 2e3)
    assert (tmp_path / "report.html").is_file()


def test_corrupted_cache_entry_is_recomputed(toy_stages, tmp_path):
    pipeline.run(toy_stages(), tmp_path, progress=False)
    nc = tmp_path / "divider" / "divider.nc"
    nc.write_bytes(nc.read_bytes()[:100])
    summary = pipeline.run(toy_stages(), tmp_path, progress=False)
    assert summary["divider"]["status"] == "done"
    assert float(xr.load_dataset(nc, engine="h5netcdf")["current"]) == pytest.approx(5e-4)


def test_unfinished_stage_is_rerun(toy_stages, tmp_path):
    pipeline.run(toy_stages(), tmp_path, progress=False)
    (tmp_path / "heat" / pipeline._DONE).unlink()  # as if killed before the stage finished
    summary = pipeline.run(toy_stages(), tmp_path, progress=False)
    assert [r["status"] for r in summary.values()] == ["cached", "done"]


def test_second_run_into_same_folder_is_refused(toy_stages, tmp_path):
    with pipeline._lock(tmp_path):
        with pytest.raises(SpecError, match="another devicephys run"):
            pipeline.run(toy_stages(), tmp_path, progress=False)


def test_sweep_on_process_pool(toy_stages, tmp_path):
    sweep = SweepSpec(stage="divider", field="bias", values=["1 V", "2 V", 3.0])
    with executor(None, max_workers=2) as pool:
        ds = run_sweep(DividerSpec(), sweep, tmp_path, pool=pool, progress=False)
    np.testing.assert_allclose(ds["current"].values, np.array([1, 2, 3]) / 2e3)
    assert ds["bias"].attrs["units"] == "V" and ds["current"].attrs["units"] == "A"


def test_sweep_bad_field(toy_stages, tmp_path):
    with pytest.raises(SpecError, match="no such field"):
        run_sweep(DividerSpec(), SweepSpec(stage="divider", field="gapp", values=[1.0]), tmp_path)


def test_sweep_on_local_dask_cluster(toy_stages, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        with executor(cluster.scheduler_address) as pool:
            ds = run_sweep(DividerSpec(), SweepSpec(stage="divider", field="resistance", values=[1e3, 4e3]),
                           tmp_path, pool=pool, progress=False)
    np.testing.assert_allclose(ds["current"].values, [5e-4, 1.25e-4])


def test_unknown_scheduler_is_one_line(tmp_path):
    with pytest.raises(SpecError, match="cannot reach a Dask scheduler"):
        with executor("tcp://127.0.0.1:1"):
            pass
