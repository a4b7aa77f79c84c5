"""FilamentResult: traces, set times, relaxation and extracted parameters (NetCDF)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from devicephys.filament.spec import FilamentSpec
from devicephys.result import Result, scalar_var

#: Units and descriptions of the main-drive traces (dimension ``time``).
TRACE_VARS = {
    "voltage": ("V", "voltage across the cell"),
    "source_voltage": ("V", "source voltage before the series resistor"),
    "current": ("A", "current through the cell"),
    "temperature_max": ("K", "peak temperature in the cell"),
    "gap": ("m", "length of the channel below the percolation threshold (filament tip to the opposite electrode)"),
    "filament_radius": ("m", "equivalent radius of the metallic filament"),
    "energy": ("J", "cumulative Joule energy dissipated in the cell"),
}


class FilamentResult(Result):
    """Output of stage 1 (see the module docstring of :mod:`devicephys.filament.stage`)."""

    kind = "filament"
    spec_class = FilamentSpec


def build_dataset(trace, set_voltage, set_time, relax, scalars: dict) -> xr.Dataset:
    """Assemble the dataset.

    Parameters
    ----------
    trace
        :class:`~devicephys.filament.simulate.Trace` of the main drive.
    set_voltage, set_time
        Arrays [V], [s] of the set-time study (NaN where no set happened).
    relax
        Trace after the bias was removed (its ``time`` and ``gap``).
    scalars
        name -> (value, units, description, method).
    """
    time = trace.array("time")
    ds = xr.Dataset(coords={"time": ("time", time, {"units": "s", "long_name": "time of the main drive"}),
                            "set_point": ("set_point", np.arange(len(set_voltage)), {"units": "1"}),
                            "relax_time": ("relax_time", relax.array("time"),
                                           {"units": "s", "long_name": "time since the bias was removed"})})
    for name, (unit, text) in TRACE_VARS.items():
        ds[name] = ("time", trace.array(name), {"units": unit, "long_name": text})
    ds["set_voltage"] = ("set_point", np.asarray(set_voltage, float), {"units": "V", "long_name": "constant source voltage"})
    ds["set_time"] = ("set_point", np.asarray(set_time, float),
                      {"units": "s", "long_name": "time until the filament bridges (NaN: not within set_time_limit)"})
    ds["relax_gap"] = ("relax_time", relax.array("gap"), {"units": "m", "long_name": "gap after the bias was removed"})
    for name, (value, unit, text, method) in scalars.items():
        ds[name] = scalar_var(value, unit, text, method)
    return ds
