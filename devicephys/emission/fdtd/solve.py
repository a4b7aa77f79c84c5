"""FDTD runs with MEEP: the gap run of the emission stage and the machinery every run shares.

With :mod:`~devicephys.emission.fdtd.checks` (the reference geometries the
engine is validated on: planar mirror, metal-insulator-metal waveguide,
homogeneous medium, 3-D cross-check) this is the only code that imports meep.

MEEP's length unit is converted here and nowhere else: :data:`LENGTH_UNIT`
(1 µm) is the MEEP unit a; lengths enter as SI metres and are divided by it,
frequencies leave as MEEP frequencies f = a / wavelength and are turned back
into vacuum wavelengths [m].  All runs use cylindrical coordinates (r, z) with
angular order m = 0 and a vertical (Ez) point dipole on the axis, except the
metal–insulator–metal check (2-D) and the 3-D cross-check.

Dispersive metals get no subpixel smoothing in MEEP, so every metal surface
and the dipole are snapped to whole grid steps (:func:`snap`).
"""

from __future__ import annotations

import atexit
import functools
import math
import time
from dataclasses import dataclass, field

import meep as mp
import numpy as np

from devicephys.emission import metals
from devicephys.emission.spec import check_gap_cells
from devicephys.errors import ConvergenceError

#: MEEP's length unit a [m].
LENGTH_UNIT = 1e-6
#: Fields larger than this (MEEP units, unit source) mean the run diverged.
_BLOWUP = 1e12

mp.verbosity(0)
atexit.unregister(getattr(mp, "report_elapsed_time", print))  # MEEP's unconditional "Elapsed run time" line at exit


def to_meep(length: float) -> float:
    """SI length [m] -> MEEP units."""
    return length / LENGTH_UNIT


def meep_frequencies(wavelengths: np.ndarray) -> np.ndarray:
    """Vacuum wavelengths [m] -> MEEP frequencies (1/a)."""
    return LENGTH_UNIT / np.asarray(wavelengths, dtype=float)


def meep_time(seconds: float) -> float:
    """SI time [s] -> MEEP time (a/c)."""
    return seconds * 299792458.0 / LENGTH_UNIT


def snap(length: float, step: float) -> float:
    """``length`` [m] rounded to a whole number of grid steps ``step`` [m]."""
    return round(length / step) * step


def metal_medium(name: str) -> mp.Medium:
    """MEEP medium of the Drude–Lorentz fit ``name`` (devicephys.emission.metals), in MEEP units."""
    fit = metals.get(name)
    to_f = LENGTH_UNIT / (6.62607015e-34 * 299792458.0)  # energy [J] -> MEEP frequency
    fp = fit.plasma_energy * to_f
    f0, g0 = fit.drude
    susc = [mp.DrudeSusceptibility(frequency=1.0, gamma=g0 * to_f, sigma=f0 * fp**2)]
    for fj, wj, gj in fit.lorentz:
        susc.append(mp.LorentzianSusceptibility(frequency=wj * to_f, gamma=gj * to_f, sigma=fj * (fp / (wj * to_f)) ** 2))
    lo, hi = fit.wavelength_range
    return mp.Medium(epsilon=1.0, E_susceptibilities=susc, valid_freq_range=mp.FreqRange(min=LENGTH_UNIT / hi, max=LENGTH_UNIT / lo))


@dataclass
class Spectra:
    """Raw spectra of one cylindrical run, on the requested wavelengths.

    Attributes
    ----------
    wavelength
        Vacuum wavelengths [m].
    ldos
        MEEP ``dft_ldos`` at the dipole (MEEP units).
    ldos_reference
        The analytic value in the homogeneous insulator at the same grid (MEEP units).
    power_total
        Flux out of a small closed surface around the dipole (MEEP units, unnormalised).
    power_radiated
        Flux out of a closed surface around the whole device (same units).
    far_field
        (angle, wavelength) radial Poynting flux per steradian (arbitrary units), or None.
    angle
        Polar angles [rad] of ``far_field``.
    steps_per_second
        FDTD speed, time steps per second of wall time.
    seconds
        Wall time of the run [s].
    """

    wavelength: np.ndarray
    ldos: np.ndarray
    ldos_reference: np.ndarray
    power_total: np.ndarray | None = None
    power_radiated: np.ndarray | None = None
    far_field: np.ndarray | None = None
    angle: np.ndarray | None = None
    steps_per_second: float = 0.0
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


#: Width of the source pulse over the band: MEEP's GaussianSource spectrum is exp(-(2 pi (f - f0))^2 / (2 fwidth^2)),
#: so fwidth = pi / sqrt(2 ln 2) x band puts the band edges at half the centre amplitude.
_PULSE_WIDTH_PER_BAND = math.pi / math.sqrt(2 * math.log(2))
#: Pulse cut-off in pulse widths: MEEP truncates the dipole moment there, leaving a static dipole of
#: exp(-cutoff^2 / 2) of its peak (3.7e-6 at MEEP's default 5, 1.3e-14 at 8).
_PULSE_CUTOFF = 8.0


def _source(freqs: np.ndarray, center: mp.Vector3, component=mp.Ez) -> list:
    """Gaussian dipole pulse covering ``freqs`` (MEEP units), band edges at half the centre amplitude.

    Two properties matter for the LDOS, which is E(f) J*(f) / |J(f)|^2 at the
    dipole: (1) the pulse must carry the band edges with a strength comparable
    to its centre (a pulse of fwidth = 1.2 x band, used before, had only 3 % of
    the centre amplitude there); (2) it must leave no static dipole behind.
    MEEP's current is the time derivative of a Gaussian dipole moment cut off
    at ``cutoff`` widths; with the default cutoff 5 the moment jumps by 3.7e-6
    of its peak, and the static field it leaves at the dipole never decays.
    Its DFT, divided by the weak edge amplitude, biased the Ag-mirror LDOS by
    up to 10 % at 600 nm and made it depend on when the run stopped.
    """
    fmin, fmax = float(freqs.min()), float(freqs.max())
    f0 = 0.5 * (fmin + fmax)
    width = max(_PULSE_WIDTH_PER_BAND * (fmax - fmin), 0.2 * f0)
    pulse = mp.GaussianSource(frequency=f0, fwidth=width, cutoff=_PULSE_CUTOFF)
    return [mp.Source(pulse, component=component, center=center)]


def _closed_cylinder(sim, freqs, r: float, z0: float, z1: float, kind: str = "flux"):
    """Flux (or near-to-far) regions on the closed cylinder r' <= r, z0 <= z <= z1 (MEEP units)."""
    regions = [mp.FluxRegion(center=mp.Vector3(0.5 * r, 0, z1), size=mp.Vector3(r, 0, 0)),
               mp.FluxRegion(center=mp.Vector3(0.5 * r, 0, z0), size=mp.Vector3(r, 0, 0), weight=-1),
               mp.FluxRegion(center=mp.Vector3(r, 0, 0.5 * (z0 + z1)), size=mp.Vector3(0, 0, z1 - z0))]
    if kind == "near2far":
        return sim.add_near2far(list(freqs), *[mp.Near2FarRegion(center=g.center, size=g.size, weight=g.weight)
                                               for g in regions])
    return [sim.add_flux(list(freqs), g) for g in regions]


def _source_power(sim) -> np.ndarray:
    """|J(f)|^2 of the dipole current as MEEP's LDOS monitor recorded it (call after the run).

    Normalising fluxes by it puts them on the LDOS's footing: flux / |J|^2 =
    K * grid_step * LDOS with a constant K that :func:`flux_ldos_constant` measures.
    """
    return np.abs(np.asarray(sim.ldos_Jdata)) ** 2


def _total_flux(monitors) -> np.ndarray:
    return sum(np.asarray(mp.get_fluxes(m)) for m in monitors)


def _stop_condition(probe: mp.Vector3, min_time: float, decay: float, check_every: float):
    """One stop function: fields decayed by ``decay`` at ``probe`` AND ``min_time`` elapsed after the sources.

    It also stops the run with ConvergenceError when the fields blow up.
    (MEEP 1.29 obeys only the last of several conditions, so they are combined here.)
    MEEP 1.29 calls an ``until_after_sources`` condition from t = 0, not from the
    end of the sources, so ``min_time`` is counted here from
    ``fields.last_source_time()``; counted from t = 0 it had no effect.
    """
    decayed = mp.stop_when_fields_decayed(check_every, mp.Ez, probe, decay)
    # |Ez|^2 at the probe: its maximum so far, and the largest value within the current check interval
    # (MEEP's own decay criterion compares the second with the first at each check).
    state = {"next": 0.0, "t_start": None, "peak": 0.0, "window": 0.0, "last": float("nan")}

    def stop(sim) -> bool:
        t = sim.meep_time()
        if state["t_start"] is None:
            state["t_start"] = float(sim.fields.last_source_time())
        value = abs(sim.get_field_point(mp.Ez, probe))
        state["peak"], state["window"] = max(state["peak"], value ** 2), max(state["window"], value ** 2)
        if t >= state["next"]:
            state["next"] = t + check_every
            if not math.isfinite(value) or value > _BLOWUP:
                raise ConvergenceError(
                    f"FDTD fields diverged at t = {t:.2f} a/c (|Ez| = {value:.3g}); reduce the Courant factor, "
                    "keep the wavelengths inside the metal fit's range, or move the PML away from the metal")
            state["last"], state["window"] = state["window"], 0.0
        done = decayed(sim)
        return bool(done) and t - state["t_start"] >= min_time

    stop.state = state  # read by _run_and_collect: the decay reached
    return stop


def _run_and_collect(sim, freqs: np.ndarray, wavelengths: np.ndarray, probe, c: "RunControl", reference) -> "Spectra":
    """Run ``sim`` with the dipole LDOS until the fields at ``probe`` decayed, and collect the run's statistics.

    ``reference`` is the homogeneous LDOS on the same grid (or NaN).  Returns a
    :class:`Spectra` with the LDOS, wall time, speed and, in ``extra``, the simulated
    time [s], the number of time steps and the decay reached (the largest |Ez|^2 at the
    probe in the last check interval over its maximum; the run's target is ``c.decay``).
    """
    stop = _stop_condition(probe, meep_time(c.min_run_time), c.decay, 1.0 / float(freqs.min()))
    t0 = time.perf_counter()
    sim.run(mp.dft_ldos(list(freqs)), until_after_sources=stop)
    seconds = time.perf_counter() - t0
    peak = stop.state["peak"]
    stats = {"simulated_time": sim.meep_time() * LENGTH_UNIT / 299792458.0, "time_steps": int(sim.timestep()),
             "decay_reached": stop.state["last"] / peak if peak > 0 else float("nan")}
    return Spectra(wavelength=np.asarray(wavelengths, float), ldos=np.asarray(sim.ldos_data), ldos_reference=reference,
                   steps_per_second=sim.timestep() / seconds, seconds=seconds, extra=stats)


def check_spectrum(name: str, values: np.ndarray, spike: float | None = 2.0, floor: float = 0.0) -> None:
    """Refuse a spectrum that is negative, non-finite, or jumps between neighbouring frequencies.

    A jump is an isolated spike: one point larger, or smaller, than both of its
    neighbours by the factor ``spike``.  It marks a run that stopped early, a
    source too close to metal, or a wavelength grid too coarse for the
    resonance.  (Steep but monotonic changes, such as the onset of interband
    absorption, are physical and pass.)  Points below ``floor`` times the
    maximum are only required to be finite: there the quantity is a small
    difference of large fields and carries FDTD noise.  ``spike`` None skips
    the spike test (for radiated power, whose deep interference dips are physical).
    """
    if not np.all(np.isfinite(values)):
        raise ConvergenceError(f"{name} spectrum has NaN/inf values; the run diverged - refine the grid or lengthen the run")
    weak = np.abs(values) < floor * np.max(np.abs(values))
    values = np.where(weak, np.abs(values) + floor * np.max(np.abs(values)), values)
    if np.any(values <= 0):
        raise ConvergenceError(f"{name} spectrum is negative at {int(np.sum(values <= 0))} frequencies; "
                               "the dipole is too few cells from metal or the run stopped early - refine the grid "
                               "(smaller grid_step) or raise min_run_time")
    if spike is None:
        return
    r1, r2 = values[1:-1] / values[:-2], values[1:-1] / values[2:]
    spikes = ((r1 > spike) & (r2 > spike)) | ((r1 < 1 / spike) & (r2 < 1 / spike))
    if np.any(spikes):
        raise ConvergenceError(f"{name} spectrum jumps between neighbouring frequencies (isolated spike > x{spike:g}); "
                               "refine the grid, raise min_run_time, or use more wavelengths")


@dataclass(frozen=True)
class GapGeometry:
    """Tip over a finite counter electrode, all SI [m] except ``index`` [1] and angles [rad].

    The counter electrode is a disk (radius ``counter_radius``, thickness
    ``counter_thickness``) whose top face is the plane z = 0; the tip is a
    rod of radius ``tip_radius`` (``tip_shape`` "cylinder", or "cone" opening
    with ``cone_half_angle``) of length ``tip_length`` ending in a hemisphere
    whose apex is at z = ``gap``.  With ``plate_radius`` > 0 a top electrode
    disc (``plate_radius`` x ``plate_thickness``, of ``tip_metal``) sits on the
    tip's flat far end and closes the metal / insulator / metal stack (the
    device's patch cavity).  Everything sits in an insulator of refractive
    index ``index``.
    """

    gap: float
    tip_radius: float
    tip_length: float
    counter_radius: float
    counter_thickness: float
    index: float
    tip_metal: str = "Ag"
    counter_metal: str = "Ag"
    tip_shape: str = "cylinder"
    cone_half_angle: float = 0.35
    plate_radius: float = 0.0
    plate_thickness: float = 0.0

    @classmethod
    def from_fem(cls, geo) -> "GapGeometry":
        """The FDTD geometry of a :class:`~devicephys.emission.fem.spec.FemGeometry` (tip over a disc, flat far end).

        One geometry object for both solvers: the FEM's device stack
        (:func:`~devicephys.emission.fem.match.from_device`) or tip over disc
        (:func:`~devicephys.emission.fem.match.from_emission_spec`), classical gap only
        (FDTD has no tunnelling medium).  The dipole stands on the grid point nearest
        mid-gap (:func:`~devicephys.emission.fem.match.dipole_fraction`).
        """
        from devicephys.errors import SpecError

        if geo.shape != "tip" or geo.counter != "disc" or geo.tip_end != "flat":
            raise SpecError(f"FemGeometry: the FDTD run models a flat-ended tip over a counter disc, not shape {geo.shape!r}, "
                            f"counter {geo.counter!r}, tip_end {geo.tip_end!r}; set shape 'tip', counter 'disc', tip_end 'flat'",
                            field="shape")
        if geo.quantum_corrected:
            raise SpecError("FemGeometry.quantum_corrected: FDTD has no tunnelling medium in the gap; "
                            "set quantum_corrected to false for an FDTD run", field="quantum_corrected")
        return cls(gap=geo.gap, tip_radius=geo.tip_radius, tip_length=geo.tip_length, counter_radius=geo.counter_radius,
                   counter_thickness=geo.counter_thickness, index=geo.index, tip_metal=geo.metal, counter_metal=geo.metal,
                   tip_shape=geo.tip_shape, cone_half_angle=geo.cone_half_angle, plate_radius=geo.plate_radius,
                   plate_thickness=geo.plate_thickness if geo.plate_radius > 0 else 0.0)


@dataclass(frozen=True)
class RunControl:
    """Numerical settings of a run: grid step, PML, padding [m], minimum run time [s], decay [1]."""

    grid_step: float = 1e-9
    pml_thickness: float = 100e-9
    padding: float = 10e-9
    min_run_time: float = 40e-15
    decay: float = 1e-6
    check: bool = True
    courant: float = 0.5


def _tip_objects(g: GapGeometry, step: float, z_apex: float) -> list:
    """Rounded tip (hemisphere + cylinder or cone) above the apex at ``z_apex`` (MEEP units)."""
    mat = metal_medium(g.tip_metal)
    r = to_meep(snap(g.tip_radius, step))
    length = to_meep(snap(g.tip_length, step))
    objs = [mp.Sphere(radius=r, center=mp.Vector3(0, 0, z_apex + r), material=mat)]
    if g.tip_shape == "cone":
        z0 = z_apex + r * (1 - math.sin(g.cone_half_angle))
        h = z_apex + length - z0
        r0 = r * math.cos(g.cone_half_angle)
        objs.append(mp.Cone(radius=r0, radius2=r0 + h * math.tan(g.cone_half_angle), height=h,
                            center=mp.Vector3(0, 0, z0 + h / 2), material=mat))
    else:
        h = length - r
        objs.append(mp.Cylinder(radius=r, height=h, center=mp.Vector3(0, 0, z_apex + r + h / 2), material=mat))
    return objs


def _layout(g: GapGeometry, c: RunControl) -> dict:
    """Grid-aligned positions (MEEP units) of the surfaces, the dipole and the monitor boxes."""
    step = c.grid_step
    d = to_meep(snap(g.gap, step))
    t_c = to_meep(snap(g.counter_thickness, step))
    pad = to_meep(snap(c.padding, 2 * step))
    top = d + to_meep(snap(g.tip_length, step)) + (to_meep(snap(g.plate_thickness, step)) if g.plate_radius > 0 else 0.0)
    widest = max(g.counter_radius, g.plate_radius,
                 g.tip_radius + (g.tip_length * math.tan(g.cone_half_angle) if g.tip_shape == "cone" else 0))
    r_box = to_meep(snap(widest, step)) + pad / 2
    dz = to_meep(step)
    return {"d": d, "t_c": t_c, "z_src": round(d / 2 / dz) * dz, "r_box": r_box, "z_box": (-t_c - pad / 2, top + pad / 2),
            "r_cell": r_box + pad / 2, "z_lo": -t_c - pad, "z_hi": top + pad, "dz": dz}


def _small_box(lay: dict) -> tuple[float, float, float]:
    """Radius and z extent (MEEP units) of the closed flux surface around the dipole inside the gap.

    It keeps the largest margin to the metal that leaves >= 1 cell between dipole and surface.
    """
    dz, d, zs = lay["dz"], lay["d"], lay["z_src"]
    cells = round(d / dz)
    margin = max(1, min((cells - 2) // 2 - 1, 3)) * dz
    return 2 * dz + (margin - dz), margin, d - margin


def run_gap(g: GapGeometry, c: RunControl, wavelengths: np.ndarray, *, angles: np.ndarray | None = None) -> Spectra:
    """LDOS, total and radiated power, and far field of the on-axis dipole in the gap.

    Parameters
    ----------
    g
        Geometry (SI).
    c
        Numerical settings (SI).
    wavelengths
        Vacuum wavelengths [m] of the spectra.
    angles
        Polar angles [rad] of the far-field pattern (None: no far field).

    Returns
    -------
    Spectra
        Raw spectra; LDOS and radiated power have passed :func:`check_spectrum`.
    """

    check_gap_cells(g.gap, c.grid_step)
    for metal in {g.tip_metal, g.counter_metal}:
        metals.check_range(metal, float(np.min(wavelengths)), float(np.max(wavelengths)))
    lay = _layout(g, c)
    pml = to_meep(snap(c.pml_thickness, c.grid_step))
    sr = math.ceil((lay["r_cell"] + pml) / lay["dz"] - 1e-9) * lay["dz"]
    # the cell is symmetric about z_mid with a whole, even number of cells on each side, so z = 0 is a grid point
    half = math.ceil(max(-lay["z_lo"], lay["z_hi"]) / lay["dz"]) * lay["dz"] + pml
    freqs = meep_frequencies(wavelengths)
    medium = mp.Medium(index=g.index)
    geometry = [mp.Cylinder(radius=to_meep(snap(g.counter_radius, c.grid_step)), height=lay["t_c"],
                            center=mp.Vector3(0, 0, -lay["t_c"] / 2), material=metal_medium(g.counter_metal))]
    geometry += _tip_objects(g, c.grid_step, lay["d"])
    if g.plate_radius > 0:  # the top electrode on the tip's flat far end
        t_p, z_p = to_meep(snap(g.plate_thickness, c.grid_step)), lay["d"] + to_meep(snap(g.tip_length, c.grid_step))
        geometry.append(mp.Cylinder(radius=to_meep(snap(g.plate_radius, c.grid_step)), height=t_p,
                                    center=mp.Vector3(0, 0, z_p + t_p / 2), material=metal_medium(g.tip_metal)))
    sim = mp.Simulation(cell_size=mp.Vector3(sr, 0, 2 * half), resolution=1 / lay["dz"], dimensions=mp.CYLINDRICAL, m=0,
                        geometry=geometry, default_material=medium, boundary_layers=[mp.PML(pml)],
                        sources=_source(freqs, mp.Vector3(0, 0, lay["z_src"])), Courant=c.courant)
    small = _closed_cylinder(sim, freqs, *_small_box(lay))
    big = _closed_cylinder(sim, freqs, lay["r_box"], *lay["z_box"])
    n2f = _closed_cylinder(sim, freqs, lay["r_box"], *lay["z_box"], kind="near2far") if angles is not None else None
    probe = mp.Vector3(lay["r_box"], 0, lay["z_box"][1])
    out = _run_and_collect(sim, freqs, wavelengths, probe, c, _ldos_reference(freqs, g.index, lay["dz"]))
    norm = _source_power(sim)
    out.power_total, out.power_radiated = _total_flux(small) / norm, _total_flux(big) / norm
    if n2f is not None:
        out.angle = np.asarray(angles, float)
        out.far_field = _far_field(sim, n2f, out.angle, len(freqs))
    if c.check:  # the reported spectra; the small-box flux is a cross-check only (see fdtd_sweep)
        check_spectrum("LDOS", out.ldos)
        check_spectrum("radiated-power", out.power_radiated, spike=None, floor=0.01)
    return out


def _ldos_reference(freqs: np.ndarray, index: float, dz: float) -> np.ndarray:
    from devicephys.emission.analytic import meep_vacuum_ldos

    return meep_vacuum_ldos(freqs, index, dz)


def _far_field(sim, n2f, angles: np.ndarray, nfreq: int) -> np.ndarray:
    """Radial Poynting flux times R^2 at polar ``angles`` (one row per angle, one column per frequency)."""
    radius = 1000.0  # MEEP units: far from the device
    rows = []
    for theta in angles:
        pt = mp.Vector3(radius * math.sin(theta), 0, radius * math.cos(theta))
        ff = np.asarray(sim.get_farfield(n2f, pt)).reshape(nfreq, 6)
        e, h = ff[:, :3], ff[:, 3:]
        s = np.real(np.cross(e, np.conj(h)))
        rows.append(radius**2 * (s[:, 0] * math.sin(theta) + s[:, 2] * math.cos(theta)))
    return np.asarray(rows)


@functools.lru_cache(maxsize=None)
def flux_ldos_constant(index: float = 1.0, resolution: float = 20.0) -> float:
    """K in flux/|J|^2 = K * grid_step * LDOS, measured in a homogeneous medium [1].

    Measured once per (index, resolution) in a process (cached).

    Both sides are the total power of the dipole, so K is a pure normalisation
    of MEEP's monitors; it is measured here once, in a coarse homogeneous run
    (a closed flux box three cells around the dipole), and then used to turn a
    gap run's LDOS into a power that can be compared with the flux box around
    the dipole there.
    """
    size, pml = 1.0, 0.5
    freqs = np.array([0.9, 1.0, 1.1])
    sim = mp.Simulation(cell_size=mp.Vector3(size + pml, 0, 2 * (size + pml)), resolution=resolution,
                        dimensions=mp.CYLINDRICAL, m=0, default_material=mp.Medium(index=index),
                        boundary_layers=[mp.PML(pml)], sources=_source(freqs, mp.Vector3()))
    box = _closed_cylinder(sim, freqs, 3 / resolution, -3 / resolution, 3 / resolution)
    sim.run(mp.dft_ldos(list(freqs)), until_after_sources=mp.stop_when_fields_decayed(5, mp.Ez, mp.Vector3(0.5, 0, 0.5), 1e-8))
    ratio = _total_flux(box) / _source_power(sim) / (np.asarray(sim.ldos_data) / resolution)
    return float(np.mean(ratio))


def power_from_ldos(ldos: np.ndarray, index: float, grid_step: float) -> np.ndarray:
    """Total dipole power (flux units of the run's monitors) from a run's ``ldos`` (MEEP units).

    ``index`` [1] is the medium's refractive index, ``grid_step`` [m] the run's grid step:
    K * grid_step * LDOS with K from :func:`flux_ldos_constant`.
    """
    return flux_ldos_constant(index) * to_meep(grid_step) * np.asarray(ldos)


#: Reference runs kept in :mod:`devicephys.emission.fdtd.checks`, still reachable as ``solve.<name>``.
_CHECKS = ("run_mirror", "run_mim", "run_homogeneous", "run_gap_3d")


def __getattr__(name: str):
    if name in _CHECKS:
        from devicephys.emission.fdtd import checks as fdtd_checks

        return getattr(fdtd_checks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
