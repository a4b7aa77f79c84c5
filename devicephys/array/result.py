"""ArrayResult: spikes, rates, photon counts, traces and figures of one array run."""

from __future__ import annotations

import numpy as np
import xarray as xr

from devicephys.array.spec import ArraySpec
from devicephys.array.simulate import SimulationResult
from devicephys.result import Result, scalar_var


class ArrayResult(Result):
    """Result of the array stage (NetCDF ``array.nc``).

    Variables: ``spike_time`` [s] and ``spike_neuron`` [1] along ``spike``;
    ``rate`` [Hz], ``emitted_photons`` [1], ``detected_photons`` [1],
    ``x``, ``y``, ``z`` [m], ``driven`` [1] along ``neuron``; traces ``trace_v``
    [V] and ``trace_x`` [1] along (``time``, ``traced``); 0-d scalars
    ``mean_rate`` [Hz], ``photons_per_spike`` [1], ``mean_photons_intended``
    [1], ``crosstalk_ratio`` [1], ``crosstalk_db`` [dB], ``synaptic_events`` [1],
    ``wall_time`` [s], ``events_per_second`` [1/s].
    """

    kind = "array"
    spec_class = ArraySpec


def make_result(spec: ArraySpec, sim: SimulationResult, positions: np.ndarray, driven: np.ndarray,
                figures: dict, card_name: str) -> ArrayResult:
    """Pack a simulation of the array into an :class:`ArrayResult`."""
    n = sim.n_neurons
    neuron = np.arange(n)
    ds = xr.Dataset(coords={
        "neuron": ("neuron", neuron, {"units": "1", "long_name": "neuron index (layer, y, x) row-major"}),
        "time": ("time", sim.trace_time, {"units": "s"}),
        "traced": ("traced", sim.trace_index, {"units": "1", "long_name": "index of each traced neuron"}),
    })
    ds["spike_time"] = ("spike", sim.spike_times, {"units": "s"})
    ds["spike_neuron"] = ("spike", sim.spike_index, {"units": "1"})
    ds["rate"] = ("neuron", sim.rates(), {"units": "Hz"})
    ds["emitted_photons"] = ("neuron", sim.emitted_photons, {"units": "1", "long_name": "expected photons emitted"})
    ds["detected_photons"] = ("neuron", sim.detected_photons, {"units": "1", "long_name": "photoelectrons received"})
    for k, name in enumerate("xyz"):
        ds[name] = ("neuron", positions[:, k], {"units": "m"})
    ds["driven"] = ("neuron", driven.astype(np.int8), {"units": "1", "long_name": "1 = driven above threshold"})
    ds["trace_v"] = (("time", "traced"), sim.trace_v.astype(float), {"units": "V"})
    ds["trace_x"] = (("time", "traced"), sim.trace_x.astype(float), {"units": "1", "long_name": "filament growth"})
    for name, (value, unit, desc, how) in figures.items():
        ds[name] = scalar_var(value, unit, desc, how)
    ds.attrs["device_card"] = card_name
    return ArrayResult(spec, ds)
