"""Runner of the emission stage: FDTD gap sweep -> fast model -> spectra -> emission.nc and plots."""

from __future__ import annotations

import concurrent.futures as cf
from pathlib import Path

import numpy as np
import xarray as xr

from devicephys.emission import assemble, fastmodel, fdtd_sweep, fem_sweep, plot
from devicephys.emission.result import EmissionResult
from devicephys.emission.spec import EmissionSpec
from devicephys.errors import SpecError
from devicephys.result import scalar_var
from devicephys.versions import engine_versions


def filament_inputs(spec: EmissionSpec, upstream: dict[str, Path]) -> tuple[float, float | None]:
    """Tip radius [m] and operating gap [m] (or None): from the filament result in ``upstream`` when present and wanted."""
    ds = _filament_dataset(spec, upstream)
    return tip_and_gap(spec, ds) if ds is not None else (spec.tip_radius, None)


def _filament_dataset(spec: EmissionSpec, upstream: dict[str, Path]) -> xr.Dataset | None:
    folder = upstream.get("filament")
    path = Path(folder) / "filament.nc" if folder is not None else None
    if not spec.use_filament or path is None or not path.is_file():
        return None
    return xr.load_dataset(path, engine="h5netcdf")


def device_geometry(spec: EmissionSpec, filament: xr.Dataset | None):
    """The :class:`~devicephys.geometry.DeviceGeometry` of a filament dataset when the spec uses it, else None."""
    if not spec.use_filament or filament is None:
        return None
    from devicephys.geometry import DeviceGeometry

    return DeviceGeometry.from_filament(filament)


def tip_and_gap(spec: EmissionSpec, filament: xr.Dataset | None) -> tuple[float, float | None]:
    """Tip radius [m] and operating gap [m] (or None) from a filament dataset (None: the spec's tip radius)."""
    if not spec.use_filament or filament is None:
        return spec.tip_radius, None
    ds = filament
    radius = float(ds["filament_radius_final"].values) if "filament_radius_final" in ds else spec.tip_radius
    gap = float(ds["minimum_gap"].values) if "minimum_gap" in ds else None
    if spec.engine == "fdtd" and (not np.isfinite(radius) or radius < 3 * spec.grid_step):
        raise SpecError(f"EmissionSpec.tip_radius: the filament result gives a tip radius of {radius * 1e9:.2f} nm, fewer than "
                        f"3 grid cells at grid_step {spec.grid_step * 1e9:.2f} nm; lower grid_step to <= {radius / 3 * 1e9:.2f} nm "
                        "or set use_filament: false to use the spec's tip_radius", field="tip_radius")
    return radius, gap if gap is not None and np.isfinite(gap) else None


def solve_emission(spec: EmissionSpec, *, filament=None, executor: cf.Executor | None = None,
                   progress: bool = True) -> EmissionResult:
    """Run stage 2 in memory: FDTD gap sweep, fast gap-plasmon model, spectra.

    Parameters
    ----------
    spec
        The emission spec.
    filament
        A :class:`~devicephys.filament.result.FilamentResult` (or its dataset): its tip
        radius and operating gap are used when ``spec.use_filament``; None: the spec's.
    executor
        Runs the FDTD gaps (a local process pool by default).
    progress
        Show progress bars.
    """
    ds = getattr(filament, "data", filament)
    return _solve(spec, tip_and_gap(spec, ds), executor, progress, device_geometry(spec, ds))[0]


def _solve(spec: EmissionSpec, tip: tuple[float, float | None], executor, progress, device=None):
    tip_radius, operating_gap = tip
    if spec.engine == "fem":
        rows = fem_sweep.run_sweep(spec, device, tip_radius, progress=progress)
        ds = fem_sweep.build_dataset(spec, rows, tip_radius, device)
        if operating_gap is not None:
            ds["operating_gap"] = scalar_var(operating_gap, "m", "minimum gap of the filament result")
        return EmissionResult(spec, ds, engine_versions("emission")), None
    runs = fdtd_sweep.run_sweep(spec, tip_radius, executor=executor, progress=progress)
    lam = fdtd_sweep.wavelengths(spec)
    model = fastmodel.calibrate([r.gap for r in runs], lam, [r.purcell for r in runs],
                                [r.radiative_efficiency for r in runs], tip_radius=tip_radius,
                                index=spec.insulator_index, metal=spec.counter_metal)
    ds = assemble.build_dataset(spec, runs, model, tip_radius, operating_gap)
    return EmissionResult(spec, ds, engine_versions("emission")), model


def compute(spec: EmissionSpec, *, upstream: dict[str, Path] | None = None, executor: cf.Executor | None = None,
            progress: bool = True) -> tuple[EmissionResult, fastmodel.GapPlasmonModel]:
    """The result and the calibrated fast model, the filament read from ``upstream`` (nothing written)."""
    ds = _filament_dataset(spec, upstream or {})
    tip = tip_and_gap(spec, ds) if ds is not None else (spec.tip_radius, None)
    return _solve(spec, tip, executor, progress, device_geometry(spec, ds))


def run(spec: EmissionSpec, out: Path, *, upstream: dict[str, Path], progress: bool = True) -> dict[str, Path]:
    """Write ``emission.nc`` and the PNG plots into ``out``; return them by name.

    Parameters
    ----------
    spec
        The emission spec.
    out
        Output folder (created).
    upstream
        ``{"filament": folder}`` when a filament result is available (optional).
    progress
        Show progress bars.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result, _ = compute(spec, upstream=upstream, progress=progress)  # = solve_emission with the filament file
    files = {"result": result.save(out / "emission.nc")}
    files["optics_plot"] = plot.plot_optics(result.data, out / "emission_optics.png")
    files["spectra_plot"] = plot.plot_spectra(result.data, out / "emission_spectra.png")
    if "far_field_fdtd" in result.data or "far_field" in result.data:
        files["far_field_plot"] = plot.plot_far_field(result.data, out / "emission_far_field.png")
    return files
