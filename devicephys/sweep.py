"""Parameter sweeps of one stage, run on any ``concurrent.futures`` executor.

A sweep varies one field of one stage's spec: a number (tip radius, bias,
insulator thickness, pitch, ...), a tuple (the FDTD gaps), a name or a flag.
Every value is checked against the stage's spec before anything runs.  Each
point runs in its own folder ``OUT/sweeps/<stage>-<field>/<index>/`` and is
cached there like a pipeline stage (same key, same checksums), on a local
process pool by default or on a Dask distributed cluster when a scheduler
address is given.  The extracted scalars of every point (the 0-d variables of
a NetCDF result, the parameters of a DeviceCard) are gathered into
``OUT/sweep_<stage>_<field>.nc`` along a dimension named after the field, and
plotted against it in ``OUT/sweep_<stage>_<field>.png``.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
import os
from pathlib import Path
from typing import Any, Iterator, Union

import numpy as np
from pydantic import field_validator, model_validator

from devicephys import stages
from devicephys.errors import SpecError, StageUnavailableError
from devicephys.spec import Spec, option

#: One swept value: a number (SI), a string with a unit or a name, a flag, None, or a list (tuple fields).
SweepValue = Union[float, str, bool, None, list[Union[float, str]]]


class SweepSpec(Spec):
    """One swept field of one stage."""

    kind = "sweep"

    stage: str = option("emission", "name of the stage whose spec field is swept (filament, emission, compact, array)")
    field: str = option("tip_radius", "name of the swept field of that stage's spec (a number, a list, a name or a flag)")
    values: list[SweepValue] = option([], "values of the field (numbers in SI, strings with units, or lists of them "
                                          "for a list field)", min_length=1)

    @field_validator("stage")
    @classmethod
    def _known_stage(cls, name: str) -> str:
        if name not in stages.names():
            raise ValueError(f"unknown stage {name!r}; choose one of {stages.names()}")
        return name

    @model_validator(mode="after")
    def _known_field(self) -> "SweepSpec":
        try:
            spec_class = stages.get(self.stage).spec_class()
        except StageUnavailableError:
            return self  # checked again when the stage is installed
        _check_field(spec_class, self.field)
        return self


def _check_field(spec_class: type, field: str) -> None:
    if field not in spec_class.model_fields:
        raise SpecError(f"SweepSpec.field = {field!r}: {spec_class.__name__} has no such field; "
                        f"choose one of {sorted(spec_class.model_fields)}", field="field")


def sweep_points(base: Spec, sweep: SweepSpec) -> list[Spec]:
    """The stage specs of the sweep's points: ``base`` with ``sweep.field`` set to each value (all validated).

    Raises
    ------
    SpecError
        The field does not exist, or a value is not valid for it (naming the value).
    """
    cls = type(base)
    _check_field(cls, sweep.field)
    points = []
    for value in sweep.values:
        try:
            points.append(cls.from_dict({**base.to_dict(), sweep.field: value}))
        except SpecError as exc:
            raise SpecError(f"swept value {value!r} is not valid: {exc}", field=sweep.field) from None
    return points


def sweep_files(out: Path, sweep: SweepSpec) -> dict[str, Path]:
    """Paths of the gathered NetCDF (``result``) and of its plot (``plot``) of ``sweep`` in ``out``."""
    stem = Path(out) / f"sweep_{sweep.stage}_{sweep.field}"
    return {"result": stem.with_suffix(".nc"), "plot": stem.with_suffix(".png")}


def _run_point(stage_name: str, spec_dict: dict[str, Any], folder: str, upstream: dict[str, str],
               upstream_keys: list[str]) -> tuple[str, dict[str, tuple[float, str]]]:
    """Run (or reuse) one sweep point in a worker; return its status and scalars ``{name: (value, unit)}``."""
    from devicephys.pipeline import run_cached

    stage = stages.get(stage_name)
    spec = stage.spec_class().from_dict(spec_dict)
    status, files, _ = run_cached(stage, spec, Path(folder), {k: Path(v) for k, v in upstream.items()}, upstream_keys)
    return status, _scalars(Path(folder) / files["result"])


def _scalars(result: Path) -> dict[str, tuple[float, str]]:
    """The extracted scalars of a result file: 0-d numeric NetCDF variables, or a DeviceCard's parameters."""
    if result.suffix == ".json":
        card = json.loads(result.read_text())
        return {name: (float(p["value"]), p.get("unit", "1")) for name, p in card.get("parameters", {}).items()
                if isinstance(p, dict) and isinstance(p.get("value"), (int, float)) and not isinstance(p["value"], bool)}
    if result.suffix != ".nc":
        return {}
    import xarray as xr

    ds = xr.load_dataset(result, engine="h5netcdf")
    return {str(k): (float(v.values), v.attrs.get("units", "1")) for k, v in ds.data_vars.items()
            if v.ndim == 0 and v.dtype.kind in "fiu"}


def _upstream_keys(upstream: dict[str, Path]) -> list[str]:
    """Cache keys of the upstream outputs (from their completion records; '' where there is none)."""
    from devicephys.pipeline import _record

    return [str(_record(Path(folder)).get("key", "")) for _, folder in sorted(upstream.items())]


def _one_process_per_point() -> None:
    os.environ["DEVICEPHYS_WORKERS"] = "1"


@contextlib.contextmanager
def executor(scheduler: str | None = None, max_workers: int | None = None) -> Iterator[cf.Executor]:
    """A local process pool, or a Dask cluster's executor when ``scheduler`` is an address."""
    if scheduler is None:
        # the pool already uses the cores: a stage inside it runs its parts in order, in its own process
        # (the filament stage would otherwise start a second process per point, devicephys.filament.side)
        with cf.ProcessPoolExecutor(max_workers=max_workers, initializer=_one_process_per_point) as pool:
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
              pool: cf.Executor | None = None, progress: bool = True, upstream_keys: list[str] | None = None):
    """Run ``sweep`` around the stage spec ``base``; return and save the gathered scalars.

    Parameters
    ----------
    base
        The stage spec the sweep starts from.
    sweep
        Stage, field and values.
    out
        Output folder: points in ``out/sweeps/<stage>-<field>/``, the gathered file and its plot in ``out``.
    upstream
        Folders of the upstream stages' outputs the stage reads.
    pool
        Executor of the points (default: a local process pool).
    progress
        Show a progress bar.
    upstream_keys
        Cache keys of the upstream outputs (default: read from their completion records).

    Returns
    -------
    xarray.Dataset
        One variable per extracted scalar, along the dimension ``sweep.field`` (a numeric coordinate with
        the field's unit, or a text label per point for list, name and flag fields); attribute
        ``points_computed``: how many points were computed rather than reused.  Saved to
        ``out/sweep_<stage>_<field>.nc`` and plotted in ``out/sweep_<stage>_<field>.png``.
    """
    import xarray as xr

    from devicephys.io import atomic_path

    points = sweep_points(base, sweep)
    cls = type(base)
    root = Path(out) / "sweeps" / f"{sweep.stage}-{sweep.field}"
    up = {k: str(v) for k, v in (upstream or {}).items()}
    keys = list(upstream_keys) if upstream_keys is not None else _upstream_keys(upstream or {})
    own_pool = pool is None
    pool = pool or cf.ProcessPoolExecutor()
    try:
        futures = [pool.submit(_run_point, sweep.stage, p.to_dict(), str(root / f"{i:03d}"), up, keys)
                   for i, p in enumerate(points)]
        rows = _gather(futures, progress, f"sweep {sweep.stage}.{sweep.field}")
    finally:
        if own_pool:
            pool.shutdown()
    units = {n: u for _, r in rows for n, (_, u) in r.items()}
    names = sorted(units)
    # a result scalar named like the swept field (the emission's tip_radius) is kept beside the coordinate
    var = {n: f"result_{n}" if n == sweep.field else n for n in names}
    ds = xr.Dataset({var[n]: (sweep.field, [r.get(n, (np.nan, ""))[0] for _, r in rows], {"units": units[n]})
                     for n in names},
                    coords={sweep.field: _coordinate(points, sweep.field, cls().units().get(sweep.field, "1"))})
    ds.attrs["points_computed"] = sum(status == "done" for status, _ in rows)
    files = sweep_files(out, sweep)
    with atomic_path(files["result"]) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf")
    plot_sweep(ds, sweep.field, f"{cls.__name__}.{sweep.field}", files["plot"])
    return ds


def _coordinate(points: list[Spec], field: str, unit: str) -> tuple:
    """The sweep's coordinate: the field's values when they are numbers, else a text label per point."""
    values = [getattr(p, field) for p in points]
    attrs = {"units": unit, "long_name": field}
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return (field, np.array(values, dtype=float), attrs)
    return (field, np.array([_label(v) for v in values], dtype=object), attrs)


def _label(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_label(v) for v in value) + ")"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def plot_sweep(ds, field: str, title: str, path: Path) -> Path:
    """One panel per extracted scalar of ``ds`` against the swept ``field``; saved (atomically) to ``path``."""
    from devicephys.io import save_figure
    from devicephys.plot import pyplot

    plt = pyplot()
    names = [n for n in ds.data_vars if np.isfinite(ds[n].values).any()] or list(ds.data_vars)[:1]
    ncols = min(3, max(1, len(names)))
    nrows = max(1, -(-len(names) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 2.8 * nrows), squeeze=False)
    coord = ds[field]
    numeric = coord.dtype.kind in "fiu"
    x = coord.values if numeric else np.arange(coord.size)
    for ax, name in zip(axes.flat, names):
        ax.plot(x, ds[name].values, "o-")
        ax.set_ylabel(f"{name} [{ds[name].attrs.get('units', '1')}]", fontsize=8)
        if not numeric:
            ax.set_xticks(x, [str(v) for v in coord.values], rotation=20, fontsize=7)
        ax.set_xlabel(f"{field} [{coord.attrs.get('units', '1')}]", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    fig.suptitle(f"sweep of {title}")
    fig.tight_layout()
    return save_figure(fig, path, close=True)


def _gather(futures: list, progress: bool, label: str) -> list:
    from devicephys.progress import bar as progress_bar

    done = {}
    with progress_bar(total=len(futures), desc=label, disable=not progress) as bar:
        for fut in cf.as_completed(futures):
            done[id(fut)] = fut.result()
            bar.update()
    return [done[id(f)] for f in futures]
