"""Parameter sweeps of one stage, run on any ``concurrent.futures`` executor.

A sweep varies one field of one stage's spec (gap, bias, insulator thickness,
pitch, ...).  Each point runs in its own folder ``OUT/sweeps/<stage>-<field>/
<index>/``, on a local process pool by default or on a Dask distributed
cluster when a scheduler address is given.  The extracted 0-d scalars of every
point are gathered into one NetCDF file along a dimension named after the
field.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from devicephys import stages
from devicephys.errors import SpecError
from pydantic import field_validator

from devicephys.spec import Spec, option


class SweepSpec(Spec):
    """One swept field of one stage."""

    kind = "sweep"

    stage: str = option("emission", "name of the stage whose spec field is swept (filament, emission, compact, array)")
    field: str = option("gap", "name of the swept field of that stage's spec")
    values: list[float | str] = option([], "values of the field (numbers in SI or strings with units)", min_length=1)

    @field_validator("stage")
    @classmethod
    def _known_stage(cls, name: str) -> str:
        if name not in stages.names():
            raise ValueError(f"unknown stage {name!r}; choose one of {stages.names()}")
        return name


def _run_point(stage_name: str, spec_dict: dict[str, Any], folder: str, upstream: dict[str, str]) -> dict[str, float]:
    """Run one sweep point (in a worker process); return the 0-d scalars of its main result."""
    import xarray as xr

    stage = stages.get(stage_name)
    spec = stage.spec_class().from_dict(spec_dict)
    files = stage.runner()(spec, Path(folder), upstream={k: Path(v) for k, v in upstream.items()}, progress=False)
    result = Path(files["result"])
    if result.suffix != ".nc":
        return {}
    ds = xr.load_dataset(result, engine="h5netcdf")
    return {str(k): float(v.values) for k, v in ds.data_vars.items() if v.ndim == 0 and v.dtype.kind in "fiu"}


@contextlib.contextmanager
def executor(scheduler: str | None = None, max_workers: int | None = None) -> Iterator[cf.Executor]:
    """A local process pool, or a Dask cluster's executor when ``scheduler`` is an address."""
    if scheduler is None:
        with cf.ProcessPoolExecutor(max_workers=max_workers) as pool:
            yield pool
        return
    try:
        from distributed import Client
    except ImportError:
        raise SpecError("--scheduler needs the 'distributed' package; run 'make setup'") from None
    try:
        client = Client(scheduler, timeout="10s")
    except OSError as exc:
        raise SpecError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc}); "
                        f"start one with 'dask scheduler' or omit --scheduler") from None
    with client:
        yield client.get_executor()


def run_sweep(base: Spec, sweep: SweepSpec, out: Path, *, upstream: dict[str, Path] | None = None,
              pool: cf.Executor | None = None, progress: bool = True):
    """Run ``sweep`` around the stage spec ``base``; return and save the gathered scalars.

    Returns
    -------
    xarray.Dataset
        One variable per extracted scalar, along the dimension ``sweep.field``;
        saved to ``out/sweep_<stage>_<field>.nc``.
    """
    import xarray as xr

    from devicephys.io import atomic_path

    cls = stages.get(sweep.stage).spec_class()
    if sweep.field not in cls.model_fields:
        raise SpecError(f"SweepSpec.field = {sweep.field!r}: {cls.__name__} has no such field; "
                        f"choose one of {sorted(cls.model_fields)}", field="field")
    points = [cls.from_dict({**base.to_dict(), sweep.field: v}) for v in sweep.values]
    coords = np.array([getattr(p, sweep.field) for p in points], dtype=float)
    root = Path(out) / "sweeps" / f"{sweep.stage}-{sweep.field}"
    up = {k: str(v) for k, v in (upstream or {}).items()}
    own_pool = pool is None
    pool = pool or cf.ProcessPoolExecutor()
    try:
        futures = [pool.submit(_run_point, sweep.stage, p.to_dict(), str(root / f"{i:03d}"), up)
                   for i, p in enumerate(points)]
        rows = _gather(futures, progress, f"sweep {sweep.stage}.{sweep.field}")
    finally:
        if own_pool:
            pool.shutdown()
    names = sorted(set().union(*rows)) if rows else []
    unit = cls().units().get(sweep.field, "1")
    ds = xr.Dataset({n: (sweep.field, [r.get(n, np.nan) for r in rows], {"units": _unit_from(root, n)}) for n in names},
                    coords={sweep.field: (sweep.field, coords, {"units": unit})})
    target = Path(out) / f"sweep_{sweep.stage}_{sweep.field}.nc"
    with atomic_path(target) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf")
    return ds


def _gather(futures: list, progress: bool, label: str) -> list[dict[str, float]]:
    from tqdm import tqdm

    done = {}
    with tqdm(total=len(futures), desc=label, disable=not progress) as bar:
        for fut in cf.as_completed(futures):
            done[id(fut)] = fut.result()
            bar.update()
    return [done[id(f)] for f in futures]


def _unit_from(root: Path, name: str) -> str:
    import xarray as xr

    for nc in sorted(root.glob("*/*.nc")):
        with xr.open_dataset(nc, engine="h5netcdf") as ds:
            if name in ds:
                return ds[name].attrs.get("units", "1")
    return "1"
