"""Reference geometries the FDTD engine is validated on (MEEP).

A vertical dipole above a planar mirror (against Sommerfeld's integral), the
metal-insulator-metal gap plasmon's dispersion, a dipole in a homogeneous
medium (against the analytic LDOS) and the gap run in full 3-D (against the
cylindrical one).  They share the sources, monitors and stop rule of
:mod:`devicephys.emission.fdtd.solve`.
"""

from __future__ import annotations

import math

import meep as mp
import numpy as np

from devicephys.emission.fdtd.solve import (GapGeometry, RunControl, Spectra, _closed_cylinder, _layout, _ldos_reference,
                                       _run_and_collect, _small_box, _source, _source_power, _tip_objects,
                                       _total_flux, metal_medium, meep_frequencies, snap, to_meep)
from devicephys.emission.spec import check_gap_cells


def run_mirror(height: float, metal: str, index: float, c: RunControl, wavelengths: np.ndarray,
               *, radius: float = 200e-9, metal_thickness: float = 60e-9, radial_pml: float = 800e-9) -> Spectra:
    """Vertical dipole at ``height`` [m] above a planar ``metal`` mirror in a medium of ``index`` [1].

    The mirror is a metal layer of ``metal_thickness`` [m] on the cell's bottom
    wall (a perfect conductor: no PML inside the metal below it); the cell has
    a PML of ``c.pml_thickness`` on its top and one of ``radial_pml`` [m] on its
    radial side, at ``radius`` [m].  Returns LDOS and small-box total power
    (Purcell factor relative to the homogeneous medium: ``ldos / ldos_reference``).

    Numerical choices, measured (vacuum LDOS over the analytic value, 500-600 nm):
    MEEP's radial PML in cylindrical coordinates is not reflectionless when
    thin - 200/300/500/800/1000 nm of it give up to 4/4/2.2/0.3/0.06 %
    error - while the z PML is exact (1e-4) at 300 nm; hence the separate,
    thick ``radial_pml``.  The metal runs into the radial PML so that the
    surface plasmon is absorbed there; MEEP's PML is unstable for that mode
    (fields grow after about 50-90 a/c, a documented PML failure for metals
    with surface plasmons) and the run stops long before, when the fields have
    decayed (``Absorber`` is no alternative here: thicker than ``radius`` it
    corrupts the LDOS on the axis, and at 200 nm it reflects 10-20 %).
    """
    dz = to_meep(c.grid_step)
    h = to_meep(snap(height, c.grid_step))
    pml = to_meep(snap(c.pml_thickness, c.grid_step))
    pml_r = to_meep(snap(radial_pml, c.grid_step))
    t_m = to_meep(snap(metal_thickness, c.grid_step))
    r_cell = to_meep(snap(radius, c.grid_step)) + pml_r
    top = to_meep(snap(max(4 * height, 100e-9), c.grid_step))
    half = math.ceil((t_m + top) / 2 / dz) * dz + pml / 2
    z_surf = -half + t_m  # metal surface, on a grid point (cell edges are grid points)
    freqs = meep_frequencies(wavelengths)
    geometry = [mp.Block(size=mp.Vector3(2 * r_cell, mp.inf, t_m), center=mp.Vector3(r_cell, 0, -half + t_m / 2),
                         material=metal_medium(metal))]
    sim = mp.Simulation(cell_size=mp.Vector3(r_cell, 0, 2 * half), resolution=1 / dz, dimensions=mp.CYLINDRICAL, m=0,
                        geometry=geometry, default_material=mp.Medium(index=index),
                        boundary_layers=[mp.PML(pml_r, direction=mp.R), mp.PML(pml, direction=mp.Z, side=mp.High)],
                        sources=_source(freqs, mp.Vector3(0, 0, z_surf + h)))
    lay = {"dz": dz, "d": 2 * h, "z_src": h}
    r_b, z0, z1 = _small_box(lay)
    small = _closed_cylinder(sim, freqs, r_b, z_surf + z0, z_surf + z1)
    out = _run_and_collect(sim, freqs, wavelengths, mp.Vector3(0, 0, z_surf + 2 * h), c,
                           _ldos_reference(freqs, index, dz))
    out.power_total = _total_flux(small) / _source_power(sim)
    return out


def run_mim(width: float, metal: str, index: float, wavelengths: np.ndarray, *, grid_step: float = 1e-9,
            length: float = 800e-9, metal_thickness: float = 60e-9, pml_thickness: float = 200e-9,
            decay: float = 1e-6) -> np.ndarray:
    """Complex effective index of the symmetric MIM gap plasmon measured in a 2-D FDTD run [1].

    A point Ey source (across the gap) in an insulator slab of ``width`` [m]
    between two ``metal`` layers launches the gap plasmon both ways; the
    complex field Ey(x) on the slab's mid-plane, Fourier transformed at each
    wavelength, is fitted by exp(i beta x) on one side (away from source and
    PML): Re beta from the phase slope, Im beta from the amplitude decay.
    """
    dz = to_meep(grid_step)
    w = to_meep(snap(width, 2 * grid_step))
    t_m = to_meep(snap(metal_thickness, grid_step))
    pml = to_meep(snap(pml_thickness, grid_step))
    sx = to_meep(snap(length, 2 * grid_step)) + 2 * pml
    sy = w + 2 * t_m
    freqs = meep_frequencies(wavelengths)
    mat = metal_medium(metal)
    geometry = [mp.Block(size=mp.Vector3(mp.inf, t_m, mp.inf), center=mp.Vector3(0, s * (w + t_m) / 2), material=mat)
                for s in (-1, 1)]
    sim = mp.Simulation(cell_size=mp.Vector3(sx, sy), resolution=1 / dz, geometry=geometry,
                        default_material=mp.Medium(index=index), boundary_layers=[mp.PML(pml, direction=mp.X)],
                        sources=_source(freqs, mp.Vector3(-sx / 2 + pml + 10 * dz, 0), component=mp.Ey))
    x0, x1 = -sx / 2 + pml + 40 * dz, sx / 2 - pml - 40 * dz
    line = mp.Volume(center=mp.Vector3((x0 + x1) / 2, 0), size=mp.Vector3(x1 - x0, 0))
    dft = sim.add_dft_fields([mp.Ey], list(freqs), where=line)
    probe = mp.Vector3(x1, 0)
    decayed = mp.stop_when_fields_decayed(1.0 / float(freqs.min()), mp.Ey, probe, decay)
    sim.run(until_after_sources=decayed)
    out = []
    for k in range(len(freqs)):
        field = np.asarray(sim.get_dft_array(dft, mp.Ey, k)).ravel()
        x = np.linspace(x0, x1, len(field))
        phase = np.unwrap(np.angle(field))
        re = np.polyfit(x, phase, 1)[0]
        im = -np.polyfit(x, np.log(np.abs(field)), 1)[0]
        out.append(complex(re, im) / (2 * np.pi * freqs[k]))
    return np.asarray(out)


def run_homogeneous(index: float, c: RunControl, wavelengths: np.ndarray, *, size: float = 2e-6) -> Spectra:
    """On-axis Ez dipole in a homogeneous medium of ``index`` [1]: cylindrical cell of radius ``size`` [m]."""
    dz = to_meep(c.grid_step)
    pml = to_meep(snap(c.pml_thickness, c.grid_step))
    s = to_meep(snap(size, c.grid_step))
    freqs = meep_frequencies(wavelengths)
    sim = mp.Simulation(cell_size=mp.Vector3(s + pml, 0, 2 * (s + pml)), resolution=1 / dz, dimensions=mp.CYLINDRICAL,
                        m=0, default_material=mp.Medium(index=index), boundary_layers=[mp.PML(pml)],
                        sources=_source(freqs, mp.Vector3()), Courant=c.courant)
    return _run_and_collect(sim, freqs, wavelengths, mp.Vector3(s / 2, 0, s / 2), c, _ldos_reference(freqs, index, dz))


def run_gap_3d(g: GapGeometry, c: RunControl, wavelengths: np.ndarray, *, homogeneous: bool = False) -> Spectra:
    """The gap geometry of :func:`run_gap` in full 3-D (mirror symmetries in x and y); LDOS only.

    Used to validate the cylindrical model on an affordable (wide-gap, coarse)
    geometry.  ``homogeneous`` drops the metal: the reference run whose LDOS
    normalises the 3-D Purcell factor at the same grid.
    """

    check_gap_cells(g.gap, c.grid_step)
    lay = _layout(g, c)
    dz, pml = lay["dz"], to_meep(snap(c.pml_thickness, c.grid_step))
    half_r = math.ceil((lay["r_cell"] + pml) / dz - 1e-9) * dz
    half_z = math.ceil(max(-lay["z_lo"], lay["z_hi"]) / dz) * dz + pml
    freqs = meep_frequencies(wavelengths)
    geometry = [] if homogeneous else (
        [mp.Cylinder(radius=to_meep(snap(g.counter_radius, c.grid_step)), height=lay["t_c"],
                     center=mp.Vector3(0, 0, -lay["t_c"] / 2), material=metal_medium(g.counter_metal))]
        + _tip_objects(g, c.grid_step, lay["d"]))
    sim = mp.Simulation(cell_size=mp.Vector3(2 * half_r, 2 * half_r, 2 * half_z), resolution=1 / dz, geometry=geometry,
                        default_material=mp.Medium(index=g.index), boundary_layers=[mp.PML(pml)],
                        symmetries=[mp.Mirror(mp.X), mp.Mirror(mp.Y)], Courant=c.courant,
                        sources=_source(freqs, mp.Vector3(0, 0, lay["z_src"])))
    probe = mp.Vector3(lay["r_box"], 0, lay["z_box"][1])
    return _run_and_collect(sim, freqs, wavelengths, probe, c, np.full(len(freqs), np.nan))
