"""The FDTD stage's gap geometry as a :class:`FemGeometry`, so both solvers answer one geometry.

The FDTD run (``devicephys.emission.fdtd.solve.run_gap`` through
``fdtd_sweep.geometry_and_control``) models a tip (sphere of ``tip_radius``
whose bottom is the apex, plus a cylinder or a cone tangent to it, reaching
``tip_length`` above the apex, flat on top) over a counter disc of
``counter_radius`` x ``counter_thickness`` whose top face is z = 0, both in
the insulator, with the dipole on the axis in the gap.  MEEP rounds every
length to whole grid steps and puts the dipole on the grid point nearest
mid-gap; given the run's ``grid_step``, :func:`from_emission_spec` makes the
same rounding, so the FEM solves the geometry the FDTD grid resolves.
"""

from __future__ import annotations

from devicephys.emission.fem.spec import FemGeometry, gap_mesh_size_for
from devicephys.emission.spec import EmissionSpec
from devicephys.errors import SpecError


def _snap(length: float, step: float | None) -> float:
    """``length`` [m] rounded to whole grid steps ``step`` [m] as the FDTD stage does (no rounding without a step)."""
    return length if step is None else round(length / step) * step


def dipole_fraction(gap: float, grid_step: float | None) -> float:
    """Height of the FDTD dipole over the gap [1]: the grid point nearest mid-gap (0.5 without a grid)."""
    if grid_step is None:
        return 0.5
    d = round(gap / grid_step)
    return round(d / 2) / d


def from_emission_spec(spec: EmissionSpec, gap: float, *, tip_radius: float | None = None,
                       grid_step: float | None = None, **numerics) -> FemGeometry:
    """FemGeometry of the FDTD stage's tip-over-disc problem at ``gap`` [m].

    Parameters
    ----------
    spec
        The emission spec (tip shape and size, counter disc, metals, insulator).
    gap
        Apex-to-disc distance [m].
    tip_radius
        Tip radius [m]; default the spec's (the FDTD stage passes the filament's when it has one).
    grid_step
        The FDTD run's grid step [m] (``spec.grid_step_for(gap)``) to reproduce its rounding of
        lengths and of the dipole position; None for the exact geometry with a mid-gap dipole.
    numerics
        FemGeometry's discretisation fields (``gap_mesh_size``, ``points_per_wavelength``, ...).
    """
    if spec.tip_metal != spec.counter_metal:
        raise SpecError(f"EmissionSpec.counter_metal: the FEM solver takes one metal, but the tip is {spec.tip_metal} and "
                        f"the counter electrode {spec.counter_metal}; set both to the same metal", field="counter_metal")
    radius = spec.tip_radius if tip_radius is None else tip_radius
    numerics.setdefault("gap_mesh_size", gap_mesh_size_for(_snap(gap, grid_step)))
    return FemGeometry(shape="tip", metal=spec.tip_metal, index=spec.insulator_index, gap=_snap(gap, grid_step),
                       tip_radius=_snap(radius, grid_step), tip_length=_snap(spec.tip_length, grid_step),
                       tip_shape=spec.tip_shape, cone_half_angle=spec.cone_half_angle, tip_end="flat", counter="disc",
                       counter_radius=_snap(spec.counter_radius, grid_step),
                       counter_thickness=_snap(spec.counter_thickness, grid_step),
                       dipole_position=dipole_fraction(gap, grid_step), **numerics)


def from_device(device, gap: float, *, quantum_corrected: bool = True, **numerics) -> FemGeometry:
    """FemGeometry of the device's own stack at ``gap`` [m] (a :class:`devicephys.geometry.DeviceGeometry`).

    The counter electrode is a disc of the footprint's radius and the counter electrode's
    thickness; the filament a cylinder of the filament's radius (hemispherical apex) from
    ``gap`` above it up to the active electrode, a disc of the same radius and the active
    electrode's thickness; all embedded in the insulator (no substrate).  The dipole stands at
    mid-gap; with ``quantum_corrected`` the gap is the tunnelling medium of Esteban et al. (2012)
    with the active electrode's work function as barrier.
    """
    from devicephys import materials

    if device.active_electrode != device.counter_electrode:
        raise SpecError(f"device geometry: the FEM solver takes one metal, but the electrodes are {device.active_electrode} "
                        f"and {device.counter_electrode}; use one metal for both", field="counter_electrode")
    device.check_gap(gap)
    numerics.setdefault("gap_mesh_size", gap_mesh_size_for(gap))
    return FemGeometry(shape="tip", metal=device.active_electrode, index=materials.get(device.insulator)["refractive_index"],
                       gap=gap, tip_radius=device.tip_radius, tip_length=device.insulator_thickness - gap,
                       tip_shape="cylinder", tip_end="flat", counter="disc", counter_radius=device.footprint_radius,
                       counter_thickness=device.counter_thickness, plate_radius=device.footprint_radius,
                       plate_thickness=device.active_thickness, quantum_corrected=quantum_corrected,
                       work_function=materials.get(device.active_electrode)["work_function"], **numerics)
