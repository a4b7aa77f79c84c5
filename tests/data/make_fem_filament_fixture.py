"""Store a finite-element filament result's traces, set times, relaxation and scalars as JSON.

Run from the repository root (about 2-6 min on 2 cores, the FEM)::

    OMP_NUM_THREADS=1 .venv/bin/python tests/data/make_fem_filament_fixture.py

It runs ``devicephys filament --fast`` (or reads ``--filament-nc PATH``) and writes
``tests/data/fem_fast_filament.json``.  With ``--spec examples/volatile.yaml --output
tests/data/fem_volatile_filament.json`` it stores the volatile cell (fast preset otherwise,
``devicephys filament --fast examples/volatile.yaml``; about 70 s); with ``--spec
examples/bridged_transfer_capillary.yaml --output tests/data/fem_transfer_capillary_filament.json`` the
bridged-transfer cell with the radius dependence, whose card ``devicephys run`` fitted is
``tests/data/card_transfer_capillary.json``; with ``--output tests/data/fem_default_filament.json`` the default
cell as the fast preset (and so the demo) runs it, under whose sweep ngspice needs the cell's own capacitance
(``devicephys.compact.fem_drive_spice.replay``).  Each file holds every variable of ``filament.nc`` on the
dimensions ``time``, ``set_point`` and ``relax_time`` and every scalar (SI, units
kept), its FilamentSpec and versions; the field maps are left out.  The compact
tests rebuild the dataset from it (:func:`load`) instead of running the FEM.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests/data/fem_fast_filament.json"
DIMS = ("time", "set_point", "relax_time")
COMMAND = "OMP_NUM_THREADS=1 .venv/bin/python tests/data/make_fem_filament_fixture.py"


def _fem(path: str | None, spec: str | None = None) -> xr.Dataset:
    if path:
        return xr.load_dataset(path, engine="h5netcdf")
    out = Path(tempfile.mkdtemp(prefix="devicephys-fem-"))
    subprocess.run([sys.executable, "-m", "devicephys", "filament", "--fast", "--quiet", "--out", str(out),
                    *([spec] if spec else [])], check=True)
    return xr.load_dataset(out / "filament.nc", engine="h5netcdf")


def dump(ds: xr.Dataset) -> dict:
    """The JSON form: {name: {"dims": [...], "values": [...] or float, "units": str}} plus attrs (NaN as null)."""
    variables = {}
    for name in list(ds.coords) + list(ds.data_vars):
        da = ds[name]
        if da.ndim == 0 or (da.ndim == 1 and da.dims[0] in DIMS):
            values = [x if np.isfinite(x) else None for x in np.atleast_1d(da.values).astype(float).tolist()]
            values = values if da.ndim else values[0]
            variables[str(name)] = {"dims": list(da.dims), "values": values, "units": da.attrs.get("units", "")}
    return {"command": COMMAND, "attrs": {k: ds.attrs[k] for k in ("devicephys_kind", "spec", "versions") if k in ds.attrs},
            "variables": variables}


def load(path: Path = OUT) -> xr.Dataset:
    """The dataset stored by :func:`dump` (as ``xr.load_dataset`` of the original ``filament.nc`` gives it)."""
    data = json.loads(Path(path).read_text())
    coords, vars_ = {}, {}
    for name, v in data["variables"].items():
        values = np.asarray(v["values"] if v["values"] is not None else np.nan, dtype=float)
        entry = (tuple(v["dims"]), values, {"units": v["units"]})
        (coords if name in DIMS else vars_)[name] = entry
    return xr.Dataset(vars_, coords=coords, attrs=data["attrs"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--filament-nc", default=None, help="a filament.nc to store instead of running the FEM")
    ap.add_argument("--spec", default=None, help="a filament spec for the FEM run (fast preset otherwise)")
    ap.add_argument("--output", default=str(OUT), help="the JSON file to write")
    args = ap.parse_args(argv)
    data = dump(_fem(args.filament_nc, args.spec))
    if args.spec or Path(args.output).resolve() != OUT:
        data["command"] = COMMAND + (f" --spec {args.spec}" if args.spec else "") + f" --output {args.output}"
    out = Path(args.output).resolve()
    out.write_text(json.dumps(data, allow_nan=False) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
