"""The emission stage's FEM engine: the frequency-domain solver at every gap and wavelength of the sweep.

Each gap of the geometric grid ``gap_min``..``gap_max`` is one axisymmetric
problem (:mod:`devicephys.emission.fem`), solved at every wavelength of the
window (no flux box, no run time: each frequency is its own linear solve).
The geometry is the device's own stack with the filament inside it when a
:class:`~devicephys.geometry.DeviceGeometry` is given
(:func:`~devicephys.emission.fem.match.from_device`), else the spec's tip over
its counter disc (:func:`~devicephys.emission.fem.match.from_emission_spec`).
The radiative efficiency is the power into the dielectric's PML over the
total: with finite electrodes nothing else leaves the domain (the metal
PML's share is stored and checked).  The far-field pattern at each gap's
peak comes from the total field on a closed contour around the electrodes
(:meth:`~devicephys.emission.fem.solve._Model.far_field`); its integral over
the sphere is held against the power into the dielectric's PML
(``far_field_power_error``; beyond :data:`FAR_FIELD_POWER_TOLERANCE` the
result carries ``far_field_warning``).  The result has the format of the
FDTD path (see :mod:`devicephys.emission.result`) without its FDTD variables.
"""

from __future__ import annotations

import concurrent.futures as cf
import time
import warnings

import numpy as np
import xarray as xr

from devicephys import units
from devicephys.emission import fastmodel
from devicephys.emission.assemble import _var, emission_spectra
from devicephys.emission.fdtd_sweep import _make_executor, _stop_workers, angles, wavelengths
from devicephys.emission.spec import EmissionSpec
from devicephys.errors import ConvergenceError
from devicephys.progress import bar as progress_bar
from devicephys.result import scalar_var

#: Largest share of the dipole's power allowed into the metal's PML (finite electrodes guide none out).
METAL_PML_LIMIT = 1e-3
#: Largest relative difference between the far field's integral and the power into the dielectric PML
#: (the FEM's power-balance target, as for reciprocity against the sum of the losses) before the result
#: carries a warning.  Both sides are discretised; the difference falls with the far mesh (0.7-0.9 % on
#: the device's stack at 6 elements per wavelength, 0.2-0.3 % at 8 on the tip over its disc).
FAR_FIELD_POWER_TOLERANCE = 0.01


def gaps(spec: EmissionSpec) -> np.ndarray:
    """The FEM engine's gaps [m]: geometric from gap_min to gap_max (sub-nm gaps as densely as the few-nm ones)."""
    return np.geomspace(spec.gap_min, spec.gap_max, spec.gap_count)


def geometry(spec: EmissionSpec, gap: float, device=None, tip_radius: float | None = None):
    """The FemGeometry at ``gap`` [m]: the device's stack, or the spec's tip over its counter disc."""
    from devicephys.emission.fem import match

    numerics = {"points_per_wavelength": spec.fem_points_per_wavelength}
    if device is not None:
        return match.from_device(device, gap, quantum_corrected=spec.fem_quantum_corrected, **numerics)
    return match.from_emission_spec(spec, gap, tip_radius=tip_radius, quantum_corrected=spec.fem_quantum_corrected,
                                    **numerics)


def wavelength_bands(lam: np.ndarray, ratio: float) -> list[np.ndarray]:
    """Indices of ascending ``lam`` [m] split into bands whose longest / shortest wavelength is <= ``ratio`` [1].

    Each band is meshed for its own wavelengths: the FEM's domain and PML grow
    with the band's longest wavelength and its far mesh shrinks with the band's
    shortest, so the unknowns of one mesh grow about as (longest / shortest)^2.
    """
    bands, start = [], 0
    for i in range(1, len(lam) + 1):
        if i == len(lam) or lam[i] > ratio * lam[start] * (1 + 1e-12):
            bands.append(np.arange(start, i))
            start = i
    return bands


_OUTPUTS = ("purcell", "absorbed_metal", "absorbed_gap", "outgoing_dielectric", "outgoing_metal")


def fem_gap_task(geometry_json: str, lam: np.ndarray, ratio: float = np.inf, theta: np.ndarray | None = None) -> dict:
    """Solve one gap (in a worker), band by band (:func:`wavelength_bands`): Purcell factor and power split per wavelength.

    ``seconds`` is the wall time of all bands; ``unknowns`` the largest band's and ``meshes`` the number of bands.
    With polar angles ``theta`` [rad] also ``far_field`` (angle, wavelength) [1/sr] and ``far_field_power`` [1].
    """
    from devicephys.emission.fem import FemGeometry, purcell_spectrum

    geo = FemGeometry.from_json(geometry_json)
    start = time.perf_counter()
    names = _OUTPUTS + (("far_field_power",) if theta is not None else ())
    out = {k: np.empty(len(lam)) for k in names}
    if theta is not None:
        out["far_field"] = np.empty((len(theta), len(lam)))
    bands = wavelength_bands(np.asarray(lam, dtype=float), ratio)
    unknowns = 0
    for idx in bands:
        ds = purcell_spectrum(geo, lam[idx], angles=theta)
        for k in names:
            out[k][idx] = ds[k].values
        if theta is not None:
            out["far_field"][:, idx] = ds["far_field"].values
        unknowns = max(unknowns, int(ds.attrs["unknowns"]))
    return {**out, "seconds": time.perf_counter() - start, "unknowns": unknowns, "meshes": len(bands)}


def run_sweep(spec: EmissionSpec, device=None, tip_radius: float | None = None, *, progress: bool = True) -> list[dict]:
    """:func:`fem_gap_task` at every gap of :func:`gaps`, in the spec's executor; ConvergenceError on a leaking run."""
    lam, todo, theta = wavelengths(spec), gaps(spec), angles(spec)
    jobs = [geometry(spec, float(g), device, tip_radius).to_json() for g in todo]
    pool = _make_executor(spec.executor, spec.workers, quiet=not progress)
    bar = progress_bar(total=len(jobs), desc="FEM gaps", unit="gap", disable=not progress)
    try:
        if pool is None:
            rows = []
            for job in jobs:
                rows.append(fem_gap_task(job, lam, spec.fem_wavelength_ratio, theta))
                bar.update()
        else:
            futures = [pool.submit(fem_gap_task, job, lam, spec.fem_wavelength_ratio, theta) for job in jobs]
            for _ in cf.as_completed(futures):
                bar.update()
            rows = [f.result() for f in futures]
    except BaseException:
        if isinstance(pool, cf.ProcessPoolExecutor):
            _stop_workers(pool)
        raise
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    for g, row in zip(todo, rows):
        leak = float(np.max(row["outgoing_metal"] / row["purcell"]))
        if leak > METAL_PML_LIMIT:
            raise ConvergenceError(f"FEM at gap {g * 1e9:.3g} nm: {leak:.2%} of the power enters the metal's PML (finite "
                                   "electrodes guide none out); enlarge padding or pml_thickness")
    return rows


def build_dataset(spec: EmissionSpec, rows: list[dict], tip_radius: float, device=None) -> xr.Dataset:
    """The EmissionResult dataset of the FEM engine (see devicephys.emission.result)."""
    lam, gap = wavelengths(spec), gaps(spec)
    biases = np.linspace(spec.bias_min, spec.bias_max, spec.bias_count)
    purcell = np.array([r["purcell"] for r in rows])
    eff = np.array([r["outgoing_dielectric"] / r["purcell"] for r in rows])
    spectrum = emission_spectra(spec, gap, lam, purcell, eff)
    from devicephys.emission import spectra

    feats = [fastmodel.peak_features(lam, purcell[i], eff[i]) for i in range(len(gap))]
    peaks = np.array([f[0] for f in feats])
    how = ("DOLFINx frequency-domain FEM, P2 H_phi, axisymmetric m = 0, on-axis vertical dipole at mid-gap"
           + (", quantum-corrected gap (Esteban2012)" if spec.fem_quantum_corrected else "")
           + ("; the device's stack with the filament (devicephys.geometry)" if device is not None else "; the spec's tip"))
    ds = xr.Dataset(coords={"gap": _var("gap", gap, "m", "tip-to-electrode gap"),
                            "bias": _var("bias", biases, "V", "junction bias"),
                            "wavelength": _var("wavelength", lam, "m", "vacuum wavelength")})
    ds["purcell"] = _var(("gap", "wavelength"), purcell, "1", "LDOS enhancement over the homogeneous insulator", method=how)
    ds["radiative_efficiency"] = _var(("gap", "wavelength"), eff, "1", "radiated / total dipole power", method=how)
    ds["absorbed_gap_fraction"] = _var(("gap", "wavelength"), [r["absorbed_gap"] / r["purcell"] for r in rows], "1",
                                       "power lost in the quantum-corrected gap layer / total", method=how)
    ds["spectrum"] = _var(("gap", "bias", "wavelength"), spectrum, "1/m", "photons per tunnelling electron per unit wavelength")
    ds["quantum_efficiency"] = _var(("gap", "bias"), spectra.quantum_efficiency(lam, spectrum), "1",
                                    "photons per electron (integral of the spectrum over the wavelength window)")
    ds["peak_wavelength"] = _var("gap", peaks, "m", "peak of Purcell x radiative efficiency", method=how)
    ds["spectral_width"] = _var("gap", [p**2 * f[3] / (units.h * units.c0) for p, f in zip(peaks, feats)], "m",
                                "FWHM of Purcell x radiative efficiency", method=how)
    theta = angles(spec)
    ds = ds.assign_coords(angle=_var("angle", theta, "rad", "polar angle from the tip axis"))
    far = []
    for row, peak in zip(rows, peaks):
        k = int(np.argmin(np.abs(lam - (peak if np.isfinite(peak) else lam[-1]))))
        far.append(row["far_field"][:, k] / row["far_field_power"][k])
    ds["far_field"] = _var(("gap", "angle"), far, "1/sr", "radiation pattern at the resonance, normalised over the sphere",
                           method=how + "; Stratton-Chu on a closed contour around the electrodes")
    miss = [float(np.max(np.abs(r["far_field_power"] / r["outgoing_dielectric"] - 1))) for r in rows]
    ds["far_field_power_error"] = _var("gap", miss, "1", "largest relative difference of the far field's integral from "
                                       "the power into the dielectric PML over the wavelengths")
    if max(miss) > FAR_FIELD_POWER_TOLERANCE:
        i = int(np.argmax(miss))
        ds.attrs["far_field_warning"] = (f"at gap {gap[i] * 1e9:.3g} nm the far field carries {miss[i]:.2%} more or less "
                                         f"power than enters the dielectric's PML (target {FAR_FIELD_POWER_TOLERANCE:.0%}); "
                                         "raise fem_points_per_wavelength for a converged radiation pattern")
        warnings.warn(ds.attrs["far_field_warning"], stacklevel=2)
    ds["fem_seconds"] = _var("gap", [r["seconds"] for r in rows], "s", "wall time of the FEM spectrum of the gap")
    ds["fem_unknowns"] = _var("gap", [r["unknowns"] for r in rows], "1",
                              "real unknowns of the FEM problem (the largest of its wavelength bands' meshes)")
    ds["fem_meshes"] = _var("gap", [r["meshes"] for r in rows], "1",
                            "meshes of the gap: one per wavelength band of ratio <= fem_wavelength_ratio")
    ds["tip_radius"] = scalar_var(tip_radius, "m", "tip apex radius")
    ds["insulator_index"] = scalar_var(spec.insulator_index, "1", f"refractive index of {spec.insulator}")
    ds.attrs.update(solver_engine="fem", solver_fem_seconds=float(sum(r["seconds"] for r in rows)))
    if device is not None:
        ds.attrs["device_geometry"] = device.to_json()
        ds["insulator_thickness"] = scalar_var(device.insulator_thickness, "m", "insulator thickness of the optical stack")
        ds["footprint_radius"] = scalar_var(device.footprint_radius, "m", "electrode disc radius of the optical stack")
    return ds
