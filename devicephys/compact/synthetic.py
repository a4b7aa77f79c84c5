"""Synthetic filament and emission datasets made from known parameters.

They carry the agreed variable names of the filament result (``filament.nc``)
and the emission result (``emission.nc``), so the fit can be tested by
*parameter recovery*: data made by the compact model itself with known
parameters (simulated, not evaluated from the fit formulas) must give those
parameters back.  The study uses them when no upstream results are given.
These datasets are test fixtures, not physics results: their attributes say so.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from devicephys import units
from devicephys.compact import integrate, model
from devicephys.compact.fit import filament_body_resistance
from devicephys.compact.model import ModelParams
from devicephys.result import scalar_var

#: Parameters of the synthetic reference device (SI).
REFERENCE = ModelParams(
    gap_min=0.15e-9, gap_max=5e-9, decay_constant=5.1e9, contact_gap=0.3e-9,
    contact_conductance=units.G0, filament_resistance=filament_body_resistance(2e-9, 5e-9)[0], leakage_resistance=1e9,
    relaxation_time=10e-6, set_time_tau0=1e-2, set_time_v0=0.25,
    activation_energy=0.45 * units.eV, ambient_temperature=300.0,
    thermal_resistance=2e6, thermal_capacitance=5e-15, floor_width=0.01e-9)

#: Series resistor of the synthetic DC sweep [Ohm] and its peak source voltage [V].
SWEEP_SERIES_RESISTANCE = 20e3
SWEEP_PEAK = 3.0
#: Total duration of the synthetic DC sweep [s].
SWEEP_TIME = 2e-3


def _sweep(p: ModelParams, samples: int):
    tp, vp = integrate.triangle_sweep_pwl(SWEEP_PEAK, SWEEP_TIME)
    # The solver's adaptive steps, like a FEM run's output: dense where the filament switches.
    uniform = integrate.simulate_series(p, tp, vp, SWEEP_SERIES_RESISTANCE, samples_per_segment=samples // 2)
    adaptive = integrate.simulate_series(p, tp, vp, SWEEP_SERIES_RESISTANCE, samples_per_segment=None)
    t = np.union1d(uniform.time, adaptive.time)
    keep = np.concatenate([[True], np.diff(t) > 1e-15])
    return _resample(p, t[keep], uniform, adaptive)


def _resample(p, t, uniform, adaptive):
    # merge both sample sets; states at each time come from whichever run holds it
    both_t = np.concatenate([uniform.time, adaptive.time])
    order = np.argsort(both_t, kind="stable")
    both_t = both_t[order]
    idx = np.searchsorted(both_t, t)
    pick = lambda a, b: np.concatenate([a, b])[order][idx]  # noqa: E731
    gap = pick(uniform.gap, adaptive.gap)
    temp = pick(uniform.temperature, adaptive.temperature)
    v_src = pick(uniform.source_voltage, adaptive.source_voltage)
    i = model.series_current(p, gap, v_src, SWEEP_SERIES_RESISTANCE)
    v = v_src - SWEEP_SERIES_RESISTANCE * i
    return integrate.Trace(t, v_src, v, i, gap, temp, model.optical_power(p, gap, v, out_of_range="nan"))


def _switch_points(tr: integrate.Trace) -> tuple[float, float]:
    """Threshold and hold cell voltages [V] read off a sweep like an experimenter would."""
    g = tr.current / np.where(tr.voltage == 0, np.inf, tr.voltage)
    on = g > np.sqrt(g.max() * max(g[g > 0].min(), 1e-30))
    half = np.argmax(tr.source_voltage)
    first_on = np.argmax(on[:half])
    threshold = float(tr.voltage[:first_on].max())
    hold = float(tr.voltage[half:][on[half:]].min())
    return threshold, hold


def filament_dataset(p: ModelParams = REFERENCE, *, samples: int = 3000,
                     set_voltages=(2.2, 2.5, 2.8, 3.1, 3.4)) -> xr.Dataset:
    """A dataset with the variables of ``filament.nc``, made by simulating ``p``."""
    tr = _sweep(p, samples)
    energy = np.concatenate([[0.0], np.cumsum(0.5 * np.diff(tr.time) * (tr.voltage * tr.current)[1:]
                                              + 0.5 * np.diff(tr.time) * (tr.voltage * tr.current)[:-1])])
    set_v = np.asarray(set_voltages, float)
    set_t = np.array([integrate.set_time(p, v) for v in set_v])
    relax_t = np.linspace(0.0, 5 * p.relaxation_time, 200)
    relax_gap = p.gap_max - (p.gap_max - p.gap_min) * np.exp(-relax_t / p.relaxation_time)
    v_th, v_h = _switch_points(tr)
    slope = np.polyfit(set_v, np.log(set_t), 1)
    ds = xr.Dataset(
        {"voltage": ("time", tr.voltage, {"units": "V"}),
         "source_voltage": ("time", tr.source_voltage, {"units": "V"}),
         "current": ("time", tr.current, {"units": "A"}),
         "temperature_max": ("time", tr.temperature, {"units": "K"}),
         "gap": ("time", tr.gap, {"units": "m"}),
         "filament_radius": ("time", np.full_like(tr.time, 2e-9), {"units": "m"}),
         "energy": ("time", energy, {"units": "J"}),
         "set_voltage": ("set_point", set_v, {"units": "V"}),
         "set_time": ("set_point", set_t, {"units": "s"}),
         "relax_gap": ("relax_time", relax_gap, {"units": "m"})},
        coords={"time": ("time", tr.time, {"units": "s"}),
                "relax_time": ("relax_time", relax_t, {"units": "s"}),
                "set_point": ("set_point", np.arange(len(set_v)), {"units": "1"})})
    scalars = {
        "threshold_voltage": (v_th, "V"), "hold_voltage": (v_h, "V"),
        "resistance_on": (1 / model.cell_conductance(p, p.gap_min), "Ohm"),
        "resistance_off": (1 / model.cell_conductance(p, p.gap_max), "Ohm"),
        "thermal_resistance": (p.thermal_resistance, "K/W"),
        "thermal_time_constant": (p.thermal_resistance * p.thermal_capacitance, "s"),
        "set_time_tau0": (float(np.exp(slope[1])), "s"), "set_time_v0": (float(-1 / slope[0]), "V"),
        "relaxation_time": (p.relaxation_time, "s"), "filament_radius_final": (2e-9, "m"),
        "minimum_gap": (float(tr.gap.min()), "m"), "insulator_thickness": (p.gap_max, "m")}
    for name, (value, unit) in scalars.items():
        ds[name] = scalar_var(value, unit, name.replace("_", " "), method="synthetic test fixture")
    ds.attrs["synthetic"] = "made by devicephys.compact.synthetic from known parameters (test fixture)"
    return ds


def _spectrum(gap, bias, wavelength, band_scale: float = 1.0):
    """Toy emission spectrum [1/m]: a gap-plasmon band times the quantum cutoff (1 - hc/(lambda e V)).

    ``band_scale`` [1] stretches the band's wavelengths (peak and width) for devices that fire at low bias.
    """
    peak = band_scale * (550e-9 + 120e-9 / np.sqrt(gap / 1e-9))
    width = band_scale * 80e-9
    strength = 3e-5 * np.exp(-(gap - 0.5e-9) / 0.6e-9)
    band = np.exp(-0.5 * ((wavelength - peak) / (width / 2.3548)) ** 2) / (width / 2.3548 * np.sqrt(2 * np.pi))
    photon_ev = units.h * units.c0 / wavelength / units.e
    cutoff = np.clip(1.0 - photon_ev / bias, 0.0, None)
    return strength * band * cutoff


def emission_dataset(gaps=np.array([0.1, 0.15, 0.2, 0.3, 0.5, 0.8, 1.2, 2.0]) * 1e-9, biases=np.linspace(1.5, 3.5, 9),
                     wavelengths=np.linspace(400e-9, 1000e-9, 241), band_scale: float = 1.0) -> xr.Dataset:
    """A dataset with the variables of ``emission.nc`` from a smooth toy spectrum.

    The default gaps hold the reference device's closest approach (0.15 nm), where its spike emits.
    """
    g, b, w = np.meshgrid(gaps, biases, wavelengths, indexing="ij")
    spec = _spectrum(g, b, w, band_scale)
    qe = np.trapezoid(spec, wavelengths, axis=-1)
    peak = wavelengths[np.argmax(spec[:, -1, :], axis=-1)]
    angles = np.linspace(0, np.pi / 2, 19)
    ff = np.cos(angles)[None, :] ** 2 * np.ones((len(gaps), 1))
    ds = xr.Dataset(
        {"spectrum": (("gap", "bias", "wavelength"), spec, {"units": "1/m"}),
         "quantum_efficiency": (("gap", "bias"), qe, {"units": "1"}),
         "purcell": (("gap", "wavelength"), np.ones((len(gaps), len(wavelengths))), {"units": "1"}),
         "radiative_efficiency": (("gap", "wavelength"), np.full((len(gaps), len(wavelengths)), 0.1), {"units": "1"}),
         "peak_wavelength": ("gap", peak, {"units": "m"}),
         "far_field": (("gap", "angle"), ff, {"units": "1/sr"}),
         "tip_radius": ((), 10e-9, {"units": "m"}),
         "insulator_index": ((), 1.49, {"units": "1"})},
        coords={"gap": ("gap", gaps, {"units": "m"}), "bias": ("bias", biases, {"units": "V"}),
                "wavelength": ("wavelength", wavelengths, {"units": "m"}),
                "angle": ("angle", angles, {"units": "rad"})})
    ds.attrs["synthetic"] = "toy spectrum from devicephys.compact.synthetic (test fixture)"
    return ds


def write_upstream(root, p: ModelParams = REFERENCE) -> dict:
    """Write ``root/filament/filament.nc`` and ``root/emission/emission.nc``; return the folders by stage."""
    from pathlib import Path

    from devicephys.io import atomic_path

    root = Path(root)
    folders = {"filament": root / "filament", "emission": root / "emission"}
    for stage, ds in (("filament", filament_dataset(p)), ("emission", emission_dataset())):
        ds.attrs["devicephys_kind"] = stage
        with atomic_path(folders[stage] / f"{stage}.nc") as tmp:
            ds.to_netcdf(tmp, engine="h5netcdf")
    return folders
