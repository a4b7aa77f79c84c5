"""Optical coupling between blinking neurons and photodetecting synapses.

The expected number of photoelectrons that one spike of emitter i produces in
detector j is

    mu_ij = N_ph * F(theta_ij) * Omega_ij * exp(-r_ij / L_att) * A_abs * eta_spec

with N_ph the photons per spike, F the emitter's far-field pattern [1/sr]
(normalised: its integral over the sphere is 1; theta from the emitter axis,
+z), Omega_ij = A_det cos(alpha) / r^2 the solid angle of the detector (alpha
between the detector normal and the direction to the emitter; detectors
without a normal accept from every direction), L_att the attenuation length
of the medium, A_abs the detector's absorption and eta_spec the detector's
quantum efficiency averaged over the emission spectrum (the receiver model of
:mod:`devicephys.array.receiver` gives A_abs eta_spec as one number).  Counts are
Poisson distributed with mean mu_ij (thinning of a Poisson burst).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from devicephys.errors import SpecError

Pattern = Callable[[np.ndarray], np.ndarray]


def isotropic(theta: np.ndarray) -> np.ndarray:
    """Isotropic far field, 1/(4 pi) [1/sr]."""
    return np.full_like(np.asarray(theta, dtype=float), 1.0 / (4.0 * math.pi))


def vertical_dipole(theta: np.ndarray) -> np.ndarray:
    """Far field of a vertical (z) point dipole in a homogeneous medium, 3 sin^2(theta) / (8 pi) [1/sr]."""
    return 3.0 * np.sin(theta) ** 2 / (8.0 * math.pi)


def tabulated(angle: np.ndarray, pattern: np.ndarray) -> Pattern:
    """Far field interpolated from a table (e.g. an EmissionResult's ``far_field``), renormalised.

    The table covers polar angles ``angle`` [rad]; the pattern is scaled so that
    its integral over the covered solid angle (with azimuthal symmetry) is 1.
    """
    angle, pattern = np.asarray(angle, float), np.clip(np.asarray(pattern, float), 0, None)
    if angle.ndim != 1 or angle.shape != pattern.shape or angle.size < 2:
        raise SpecError(f"far-field table: angle {angle.shape} and pattern {pattern.shape} must be equal 1-d arrays")
    norm = np.trapezoid(pattern * 2 * math.pi * np.sin(angle), angle)
    if not norm > 0:
        raise SpecError("far-field table integrates to zero; give a pattern with emission")

    def pattern_fn(theta):
        return np.interp(theta, angle, pattern / norm, left=0.0, right=0.0)
    return pattern_fn


def far_field_from_emission(path, gap: float | None = None) -> Pattern:
    """Far-field pattern of an EmissionResult file (``emission.nc``) at the gap nearest ``gap`` [m]."""
    import xarray as xr

    ds = xr.load_dataset(path, engine="h5netcdf")
    if "far_field" not in ds:
        raise SpecError(f"'{path}' has no 'far_field' variable; give an EmissionResult file")
    ff = ds["far_field"]
    row = ff.isel(gap=0) if gap is None else ff.sel(gap=gap, method="nearest")
    return tabulated(ds["angle"].values, row.values)


def grid_positions(nx: int, ny: int, layers: int, pitch: float, layer_spacing: float) -> np.ndarray:
    """Positions [m], shape (nx*ny*layers, 3), of a square grid; index = (layer*ny + y)*nx + x."""
    z, y, x = np.meshgrid(np.arange(layers), np.arange(ny), np.arange(nx), indexing="ij")
    return np.column_stack([x.ravel() * pitch, y.ravel() * pitch, z.ravel() * layer_spacing]).astype(float)


def rectangle_solid_angle(x1: float, x2: float, y1: float, y2: float, height: float) -> float:
    """Solid angle [sr] of the rectangle [x1, x2] x [y1, y2] in the plane z = ``height`` seen from the origin.

    Closed form: the sum over corners of +-arctan(x y / (h sqrt(x^2 + y^2 + h^2))) (lengths in m).
    """
    def corner(x, y):
        return math.atan(x * y / (height * math.sqrt(x * x + y * y + height * height)))
    return corner(x2, y2) - corner(x1, y2) - corner(x2, y1) + corner(x1, y1)


@dataclass(frozen=True)
class Detector:
    """A photodetecting synapse: area [m^2], absorption [1], spectral efficiency [1], normal (unit or None)."""

    area: float
    absorption: float
    efficiency: float
    normal: tuple[float, float, float] | None = None


def mean_photoelectrons(src: np.ndarray, det: np.ndarray, detector: Detector, photons_per_spike: float,
                        pattern: Pattern = isotropic, attenuation_length: float = math.inf) -> np.ndarray:
    """Expected photoelectrons mu for each (emitter, detector) position pair (rows of ``src``, ``det``).

    Returns an array of shape (len(src),), SI inputs [m].  Pairs closer than
    the detector size sqrt(area) are refused (the far-field formula fails there).
    """
    d = np.asarray(det, float) - np.asarray(src, float)
    r = np.linalg.norm(d, axis=1)
    if np.any(r < math.sqrt(detector.area)):
        raise SpecError(f"an emitter-detector distance ({r.min():.3g} m) is below the detector size "
                        f"({math.sqrt(detector.area):.3g} m); increase the pitch/layer spacing or shrink detector_area")
    theta = np.arccos(np.clip(d[:, 2] / r, -1.0, 1.0))
    cos_a = np.ones_like(r) if detector.normal is None else np.clip(-(d @ np.asarray(detector.normal)) / r, 0, None)
    omega = np.minimum(detector.area * cos_a / r**2, 2 * math.pi)
    att = np.exp(-r / attenuation_length) if math.isfinite(attenuation_length) else 1.0
    return photons_per_spike * pattern(theta) * omega * att * detector.absorption * detector.efficiency


def pairs_within(src: np.ndarray, det: np.ndarray, radius: float, *, exclude_same_index: bool = True):
    """Index pairs (i, j) with |src_i - det_j| <= radius (k-d tree)."""
    from scipy.spatial import cKDTree

    tree = cKDTree(det)
    lists = tree.query_ball_point(src, r=radius)
    i = np.repeat(np.arange(len(src)), [len(x) for x in lists])
    j = np.concatenate([np.asarray(x, dtype=np.int64) for x in lists]) if len(lists) else np.zeros(0, np.int64)
    if exclude_same_index:
        keep = i != j
        i, j = i[keep], j[keep]
    return i, j


def crosstalk(mu: np.ndarray, intended: np.ndarray, det_index: np.ndarray, n_det: int) -> dict:
    """Optical crosstalk figures from per-link mu and the intended-link mask.

    Returns the ratio of unintended to intended photoelectrons, overall and the
    mean over detectors that have an intended source, and in dB.
    """
    good = np.bincount(det_index[intended], weights=mu[intended], minlength=n_det)
    bad = np.bincount(det_index[~intended], weights=mu[~intended], minlength=n_det)
    has = good > 0
    total = bad.sum() / good.sum() if good.sum() > 0 else math.inf
    per = float(np.mean(bad[has] / good[has])) if np.any(has) else math.inf
    return {"ratio": float(total), "ratio_mean_per_detector": per,
            "ratio_db": 10 * math.log10(total) if 0 < total < math.inf else (-math.inf if total == 0 else math.inf)}
