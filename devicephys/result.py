"""Base class of every stage's result: data with units, the spec, the versions.

A result holds an :class:`xarray.Dataset` whose every variable and coordinate
has a ``units`` attribute, a copy of the spec that produced it, and the
versions of the software that computed it.  It is saved as NetCDF (through
h5netcdf), atomically.  No pickle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import xarray as xr

from devicephys.errors import SpecError
from devicephys.io import atomic_path
from devicephys.spec import Spec
from devicephys.versions import collect

_ENGINE = "h5netcdf"


class Result:
    """Data produced by one stage, with units, its spec and versions.

    Parameters
    ----------
    spec
        The spec that produced the result.
    data
        Dataset whose every variable and coordinate carries ``attrs["units"]``.
    versions
        Package and engine versions; defaults to :func:`devicephys.versions.collect`.
    """

    #: Name stored in the file; subclasses override.
    kind: ClassVar[str] = "result"
    #: Spec class used to rebuild the spec on load; subclasses override.
    spec_class: ClassVar[type[Spec]] = Spec

    def __init__(self, spec: Spec, data: xr.Dataset, versions: dict[str, str] | None = None):
        self.spec = spec
        self.data = data
        self.versions = dict(versions) if versions is not None else collect()
        check_units(data)

    def __repr__(self) -> str:
        names = ", ".join(list(self.data.data_vars)[:8])
        return f"{type(self).__name__}({names}{', ...' if len(self.data.data_vars) > 8 else ''})"

    def scalar(self, name: str) -> float:
        """Value of a 0-d variable ``name`` as a float (SI, unit in its attrs)."""
        return float(self.data[name].values)

    def units(self, name: str) -> str:
        return self.data[name].attrs["units"]

    def save(self, path: str | Path) -> Path:
        """Write the result to ``path`` (NetCDF), atomically."""
        ds = self.data.copy()
        ds.attrs = dict(ds.attrs)
        ds.attrs.update({
            "devicephys_kind": self.kind,
            "spec": self.spec.to_json(),
            "versions": json.dumps(self.versions, sort_keys=True),
        })
        with atomic_path(path) as tmp:
            ds.to_netcdf(tmp, engine=_ENGINE)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> "Result":
        """Read a result written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise SpecError(f"result file '{path}' does not exist; run the stage that writes it first")
        try:
            ds = xr.load_dataset(path, engine=_ENGINE)
        except Exception as exc:  # noqa: BLE001 - any read failure means a bad file
            raise SpecError(f"'{path}' is not a readable devicephys result ({type(exc).__name__}: {exc}); delete it and rerun") from None
        kind = ds.attrs.get("devicephys_kind")
        if cls.kind != "result" and kind != cls.kind:
            raise SpecError(f"'{path}' holds a {kind!r} result, not a {cls.kind!r} result")
        spec = cls.spec_class.from_json(ds.attrs.pop("spec", "{}"))
        versions = json.loads(ds.attrs.pop("versions", "{}"))
        ds.attrs.pop("devicephys_kind", None)
        return cls(spec, ds, versions)


def check_units(ds: xr.Dataset) -> None:
    """Raise ValueError if a variable or coordinate of ``ds`` lacks a ``units`` attribute."""
    missing = [str(n) for n in list(ds.data_vars) + list(ds.coords) if "units" not in ds[n].attrs]
    if missing:
        raise ValueError(f"variables without a 'units' attribute: {missing}; every stored quantity needs one ('1' if dimensionless)")


def scalar_var(value: float, units: str, description: str, method: str | None = None,
               uncertainty: tuple[float, str] | None = None) -> xr.DataArray:
    """A 0-d DataArray for an extracted scalar, with its unit and how it was obtained.

    ``uncertainty`` (value in ``units``, how it was obtained) is stored as the attributes
    ``uncertainty`` and ``uncertainty_method``.
    """
    attrs: dict[str, Any] = {"units": units, "long_name": description}
    if method:
        attrs["method"] = method
    if uncertainty is not None:
        attrs["uncertainty"], attrs["uncertainty_method"] = float(uncertainty[0]), uncertainty[1]
    return xr.DataArray(np.float64(value), attrs=attrs)
