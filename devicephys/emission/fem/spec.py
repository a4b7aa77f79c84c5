"""FemGeometry: the axisymmetric optical problem solved by the frequency-domain FEM.

A vertical point dipole on the symmetry axis, either above a metal half-space
(``shape="mirror"``, the validation case), in the middle of a dielectric slab
between two metal half-spaces (``shape="mim"``, the gap-plasmon waveguide's
validation case) or in the gap between a filament tip and a counter electrode
(``shape="tip"``), everything embedded in a dielectric
of refractive index ``index``.  The tip has a hemispherical apex; above it a
cylinder of radius ``tip_radius`` or a cone tangent to the apex, with a
hemispherical (``tip_end="round"``, cylinder only) or flat far end.  The
counter electrode is a metal half-space or a disc (``counter="disc"``).
The flat-ended tip over a disc is the FDTD stage's geometry
(:func:`devicephys.emission.fem.match.from_emission_spec`).  Importing this
module does not import DOLFINx or gmsh.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import model_validator

from devicephys import materials
from devicephys.errors import SpecError
from devicephys.spec import Spec, option, quantity

#: Smallest gap [m] of the quantum-corrected model: a third of the Ag-Ag bond (0.289 nm);
#: closer, the electrodes' atoms touch and the junction is a point contact, not a barrier.
QCM_MIN_GAP = 0.1e-9
#: Fewest elements across the gap (``gap / gap_mesh_size``).
MIN_GAP_ELEMENTS = 4
#: Elements across the gap of the stage's meshes (:func:`gap_mesh_size_for`).  Measured on the
#: spec's tip over its counter disc (P2, 500-900 nm): the Purcell factor on gap / 8 differs from a
#: 0.05 nm gap box by at most 5e-4 at gaps of 5, 2, 1 and 0.6 nm (the last quantum-corrected), while
#: the 0.05 nm box cost 17x the unknowns at 5 nm (217k against 13k); the far mesh and the metal
#: edges, not the gap, set the remaining error (gap / 6 and gap / 16 differ by 1e-3 too).
GAP_ELEMENTS = 8


def gap_mesh_size_for(gap: float) -> float:
    """Element size [m] in the gap box of the stage's meshes: ``gap`` [m] / :data:`GAP_ELEMENTS`
    (0.05 nm and finer for every gap up to 0.4 nm)."""
    return gap / GAP_ELEMENTS


class FemGeometry(Spec):
    """Geometry, materials and discretisation of one axisymmetric dipole problem.

    Lengths [m]; the dipole stands at ``gap`` above the plane (mirror) or in
    the middle of the gap (tip).  The mesh is graded from ``gap_mesh_size``
    in the gap (a box of radius sqrt(2 R d) on the axis for the tip, the axis
    segment between plane and dipole for the mirror) with slope
    ``mesh_growth`` to lambda_min / (n ``points_per_wavelength``).

    With ``quantum_corrected`` the gap under the apex (r <= tip_radius) is the
    tunnelling medium of Esteban et al., Nat. Commun. 3, 825 (2012), its
    permittivity set cell by cell from the local tip-plane distance; an axial
    channel of radius gap / 2 around the dipole keeps the dielectric (the dipole
    stands for the tunnelling current itself, and a point dipole inside a lossy
    medium would have an infinite local loss).
    """

    kind = "emission_fem"

    shape: Literal["mirror", "mim", "tip"] = option("tip", "mirror: dipole above a half-space; mim: dipole in a slab of "
                                                    "thickness gap between two half-spaces; tip: dipole in a tip-plane gap")
    metal: Literal["Ag", "Au", "Pt"] = option("Ag", "metal of tip and plane (Rakic1998 Drude-Lorentz fit, devicephys.emission.metals)")
    index: float = quantity(materials.get("PMMA")["refractive_index"], "1",
                            "refractive index of the embedding dielectric (default PMMA, Sultanova2009)", ge=1, le=4)
    gap: float = quantity(0.5e-9, "m", "tip-plane distance (tip), dipole height above the plane (mirror) or slab thickness (mim)", gt=0)
    tip_radius: float = quantity(10e-9, "m", "radius of the tip's cylinder and hemispherical ends", gt=0)
    tip_length: float = quantity(30e-9, "m", "length of the tip including its hemispherical apex and far end", gt=0)
    tip_shape: Literal["cylinder", "cone"] = option("cylinder", "tip above its hemispherical apex: cylinder, or a cone tangent to the apex")
    cone_half_angle: float = quantity(0.35, "rad", "half opening angle of a conical tip", gt=0, lt=1.2)
    tip_end: Literal["round", "flat"] = option("round", "far end of the tip: hemisphere (no metal edge) or flat (the FDTD stage's)")
    counter: Literal["half-space", "disc"] = option("half-space", "counter electrode below z = 0: a metal half-space or a finite disc")
    counter_radius: float = quantity(40e-9, "m", "radius of the counter-electrode disc (counter 'disc')", gt=0)
    counter_thickness: float = quantity(20e-9, "m", "thickness of the counter-electrode disc (counter 'disc')", gt=0)
    plate_radius: float = quantity(0.0, "m", "radius of a top electrode disc on the tip's flat far end (0: none); with a "
                                   "counter disc it closes the metal-insulator-metal stack (patch cavity)", ge=0)
    plate_thickness: float = quantity(30e-9, "m", "thickness of the top electrode disc (plate_radius > 0)", gt=0)
    dipole_position: float = quantity(0.5, "1", "height of the dipole in the tip-plane gap, as a fraction of the gap", gt=0, lt=1)
    quantum_corrected: bool = option(False, "fill the gap with the quantum-corrected tunnelling medium (Esteban2012)")
    work_function: float = quantity(materials.get("Ag")["work_function"], "J",
                                    "tunnelling barrier height of the quantum-corrected model (Ag, Michaelson1977)", gt=0)
    gap_mesh_size: float = quantity(0.05e-9, "m", "element size in the gap", gt=0)
    edge_mesh_size: float = quantity(0.5e-9, "m", "element size at the metal edges of a flat tip end and of a disc", gt=0)
    mesh_growth: float = quantity(0.3, "1", "growth of the element size per unit distance from the gap", gt=0, le=2)
    points_per_wavelength: float = option(8.0, "elements per dielectric wavelength far from the gap (P2)", ge=3, le=100)
    padding: float = quantity(0.5, "1", "dielectric and metal around the structure, in dielectric wavelengths (longest)", gt=0)
    pml_thickness: float = quantity(0.5, "1", "PML thickness in dielectric wavelengths (longest)", gt=0)
    pml_strength: float = quantity(10.0, "1", "PML attenuation exponent A: a normally incident wave decays by exp(-A) one way", gt=0)
    quadrature_degree: int = option(8, "quadrature degree of the forms carrying the analytic dipole field", ge=4, le=20)

    @model_validator(mode="after")
    def _check(self) -> "FemGeometry":
        if self.gap / self.gap_mesh_size < MIN_GAP_ELEMENTS:
            raise SpecError(
                f"FemGeometry.gap_mesh_size: {self.gap_mesh_size:.3g} m is too coarse for the gap {self.gap:.3g} m "
                f"(needs >= {MIN_GAP_ELEMENTS} elements across); set gap_mesh_size <= {self.gap / MIN_GAP_ELEMENTS:.3g} m",
                field="gap_mesh_size")
        if self.quantum_corrected and self.shape == "tip" and self.gap < QCM_MIN_GAP:
            raise SpecError(
                f"FemGeometry.gap: {self.gap:.3g} m is below the quantum-corrected model's validity "
                f"({QCM_MIN_GAP:.1g} m, a point contact); use a gap >= {QCM_MIN_GAP:.1g} m", field="gap")
        if self.quantum_corrected and self.shape != "tip":
            raise SpecError("FemGeometry.quantum_corrected: true needs shape 'tip' (the mirror has no tunnelling gap); "
                            "set quantum_corrected to false", field="quantum_corrected")
        if self.tip_end == "round" and self.tip_shape == "cone":
            raise SpecError("FemGeometry.tip_end: 'round' needs tip_shape 'cylinder' (a cone has no hemispherical far end); "
                            "set tip_end to 'flat'", field="tip_end")
        if self.tip_end == "flat" and self.tip_length < self.tip_radius:
            raise SpecError(f"FemGeometry.tip_length: {self.tip_length:.3g} m is shorter than the apex radius "
                            f"{self.tip_radius:.3g} m; use tip_length >= tip_radius", field="tip_length")
        if self.tip_end == "round" and self.shape == "tip" and self.tip_length < 2 * self.tip_radius:
            raise SpecError(f"FemGeometry.tip_length: {self.tip_length:.3g} m is shorter than the tip's diameter "
                            f"{2 * self.tip_radius:.3g} m (both ends are hemispheres); use tip_length >= 2 tip_radius",
                            field="tip_length")
        if self.plate_radius > 0 and (self.shape != "tip" or self.tip_end != "flat"
                                      or self.plate_radius < self.tip_top_radius):
            raise SpecError(f"FemGeometry.plate_radius: a top electrode ({self.plate_radius:.3g} m) needs shape 'tip', "
                            "tip_end 'flat' and a radius >= the tip's far end; set those or plate_radius to 0",
                            field="plate_radius")
        return self

    @property
    def dipole_height(self) -> float:
        """Height [m] of the dipole above the plane."""
        return self.gap if self.shape == "mirror" else (0.5 if self.shape == "mim" else self.dipole_position) * self.gap

    @property
    def tip_top_radius(self) -> float:
        """Radius [m] of the tip at its far end (the cone's widest section; ``tip_radius`` for a cylinder)."""
        if self.tip_shape == "cylinder":
            return self.tip_radius
        a = self.cone_half_angle
        rise = self.tip_length - self.tip_radius * (1 - math.sin(a))
        return self.tip_radius * math.cos(a) + rise * math.tan(a)

    @property
    def core_radius(self) -> float:
        """Radius [m] of the finely meshed gap box (where the tip-plane gap is below 2 ``gap``)."""
        return (2 * self.tip_radius * self.gap) ** 0.5 if self.shape == "tip" else 0.0
