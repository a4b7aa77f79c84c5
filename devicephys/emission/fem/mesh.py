"""gmsh model of the axisymmetric gap problem (r >= 0, axis at r = 0, plane at z = 0).

Lengths inside gmsh are nanometres (OpenCASCADE's tolerances fail at 1e-9); the
solver keeps its mesh in nanometres too.  The domain is a grid of rectangles:
the physical region (dielectric above z = 0; metal below for a half-space
counter electrode, dielectric for a disc) surrounded by PML on the side, top
and bottom; the tip (hemispherical apex, cylinder or cone, round or flat far
end), the counter disc and, for the tip, the gap layer of the quantum-corrected
model are fragmented into it.  gmsh is passed in by the caller (imported on use).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Cell tags of the regions.
REGION = {"dielectric": 1, "metal": 2, "gap": 3, "dielectric_pml": 11, "metal_pml": 12}
#: Length [m] of one gmsh / mesh unit.
UNIT = 1e-9


@dataclass(frozen=True)
class Layout:
    """Extent of the regions [nm].

    Attributes
    ----------
    r_phys, z_top, z_bottom
        Outer radius, top and bottom of the physical (non-PML) region.
    pml
        PML thickness.
    gap, dipole_z, tip_radius, tip_length, core_radius
        Gap, dipole height, tip dimensions, radius of the finely meshed gap box.
    channel_radius
        Radius of the axial channel excluded from the gap layer (holds the dipole).
    tip
        True for a tip over a counter electrode, False for the mirror.
    cone_half_angle, round_end
        Half opening angle [rad] of a conical tip (0: cylinder); hemispherical far end.
    disc_radius, disc_thickness
        Counter disc (0, 0: a half-space).
    plate_radius, plate_thickness
        Top electrode disc on the tip's far end (0, 0: none).
    edge_size
        Element size at the metal edges (flat tip end, disc rim).
    """

    r_phys: float
    z_top: float
    z_bottom: float
    pml: float
    gap: float
    dipole_z: float
    tip_radius: float
    tip_length: float
    core_radius: float
    channel_radius: float
    tip: bool
    cone_half_angle: float = 0.0
    round_end: bool = True
    disc_radius: float = 0.0
    disc_thickness: float = 0.0
    edge_size: float = 0.5
    plate_radius: float = 0.0
    plate_thickness: float = 0.0
    mim: bool = False

    @classmethod
    def from_geometry(cls, geo, wavelength_max: float) -> "Layout":
        """Layout of a :class:`~devicephys.emission.fem.spec.FemGeometry` for wavelengths up to ``wavelength_max`` [m]."""
        lam = wavelength_max / geo.index / UNIT
        tip = geo.shape == "tip"
        plate_r, plate_t = (geo.plate_radius / UNIT, geo.plate_thickness / UNIT) if geo.plate_radius > 0 else (0.0, 0.0)
        top = (geo.gap + geo.tip_length) / UNIT + plate_t if tip else geo.gap / UNIT
        extent = geo.tip_top_radius / UNIT if tip else 0.0
        disc = tip and geo.counter == "disc"
        disc_r, disc_t = (geo.counter_radius / UNIT, geo.counter_thickness / UNIT) if disc else (0.0, 0.0)
        pad = geo.padding * lam
        cone = geo.cone_half_angle if geo.tip_shape == "cone" else 0.0
        mim = geo.shape == "mim"
        r_phys = max(extent, disc_r, plate_r) + pad
        core = r_phys + geo.pml_thickness * lam if mim else geo.core_radius / UNIT  # the slab is fine-meshed to the PML's end
        return cls(r_phys, top + pad, -disc_t - pad, geo.pml_thickness * lam, geo.gap / UNIT,
                   geo.dipole_height / UNIT, geo.tip_radius / UNIT, geo.tip_length / UNIT, core,
                   0.5 * geo.gap / UNIT, tip, cone, geo.tip_end == "round", disc_r, disc_t, geo.edge_mesh_size / UNIT,
                   plate_r, plate_t, mim)

    @property
    def edges(self) -> list[tuple[float, float]]:
        """(r, z) of the metal edges [nm]: the rim of a flat tip end and the rims of a disc."""
        out = []
        if self.tip and not self.round_end:
            a, radius = self.cone_half_angle, self.tip_radius
            rise = self.tip_length - radius * (1 - math.sin(a))
            out.append((radius * math.cos(a) + rise * math.tan(a), self.gap + self.tip_length))
        if self.disc_radius > 0:
            out += [(self.disc_radius, 0.0), (self.disc_radius, -self.disc_thickness)]
        if self.plate_radius > 0:  # the plate's rims (the tip meets the plate in the re-entrant corner above)
            z0 = self.gap + self.tip_length
            out += [(self.plate_radius, z0), (self.plate_radius, z0 + self.plate_thickness)]
        return out


def _grid(occ, lay: Layout):
    """The rectangles of the physical region and PML (eight; ten for the MIM slab), with their region names."""
    rs = [(0.0, lay.r_phys, ""), (lay.r_phys, lay.r_phys + lay.pml, "_pml")]
    below = "dielectric" if lay.disc_radius > 0 else "metal"
    zs = [(lay.z_bottom - lay.pml, lay.z_bottom, below, "_pml"), (lay.z_bottom, 0.0, below, ""),
          (0.0, lay.z_top, "dielectric", ""), (lay.z_top, lay.z_top + lay.pml, "dielectric", "_pml")]
    if lay.mim:  # metal above the slab too: the slab's top face is z = gap
        zs[2:] = [(0.0, lay.gap, "dielectric", ""), (lay.gap, lay.z_top, "metal", ""),
                  (lay.z_top, lay.z_top + lay.pml, "metal", "_pml")]
    out = []
    for r0, r1, rpml in rs:
        for z0, z1, material, zpml in zs:
            name = material + ("_pml" if rpml or zpml else "")
            out.append(((2, occ.addRectangle(r0, z0, 0, r1 - r0, z1 - z0)), name))
    return out


def _tip(occ, lay: Layout):
    """Tip, restricted to r >= 0: hemispherical apex, then a cylinder or a cone tangent to it.

    The round far end (a capsule) leaves the metal without an edge, whose field singularity
    would limit the mesh convergence of everything the antenna mode feeds; the flat end is
    the FDTD stage's (a sphere and a cylinder or cone reaching ``tip_length`` above the apex).
    """
    radius, z_apex = lay.tip_radius, lay.gap + lay.tip_radius
    z_top = lay.gap + lay.tip_length
    parts = [(2, occ.addDisk(0, z_apex, 0, radius, radius))]
    if lay.round_end:
        z_end = z_top - radius
        parts.append((2, occ.addDisk(0, z_end, 0, radius, radius)))
        if z_end > z_apex:
            parts.append((2, occ.addRectangle(-radius, z_apex, 0, 2 * radius, z_end - z_apex)))
    else:
        a = lay.cone_half_angle
        z0 = lay.gap + radius * (1 - math.sin(a))
        r0, r1 = radius * math.cos(a), radius * math.cos(a) + (z_top - z0) * math.tan(a)
        points = [occ.addPoint(x, z, 0) for x, z in ((-r0, z0), (r0, z0), (r1, z_top), (-r1, z_top))]
        lines = [occ.addLine(points[i], points[(i + 1) % 4]) for i in range(4)]
        parts.append((2, occ.addPlaneSurface([occ.addCurveLoop(lines)])))
    fused, _ = occ.fuse(parts[:1], parts[1:])
    top = max(z_top, z_apex + radius)
    half = occ.addRectangle(0, lay.gap - 1, 0, lay.r_phys, top - lay.gap + 2)
    cut, _ = occ.intersect(fused, [(2, half)])
    return cut


def build(gmsh, lay: Layout, gap_size: float, far_size: float, growth: float) -> None:
    """Create, tag and mesh the model in gmsh's current model (sizes [nm])."""
    occ = gmsh.model.occ
    pieces = _grid(occ, lay)
    extra = []
    if lay.tip:
        gap_layer = occ.addRectangle(lay.channel_radius, 0, 0, lay.tip_radius - lay.channel_radius,
                                     lay.gap + lay.tip_radius)
        extra = [((2, gap_layer), "gap")] + [(t, "metal") for t in _tip(occ, lay)]
        if lay.disc_radius > 0:
            disc = occ.addRectangle(0, -lay.disc_thickness, 0, lay.disc_radius, lay.disc_thickness)
            extra.append(((2, disc), "metal"))
        if lay.plate_radius > 0:
            plate = occ.addRectangle(0, lay.gap + lay.tip_length, 0, lay.plate_radius, lay.plate_thickness)
            extra.append(((2, plate), "metal"))
    inputs = [p for p, _ in pieces] + [p for p, _ in extra]
    _, out_map = occ.fragment(inputs[:len(pieces)], inputs[len(pieces):])
    occ.synchronize()
    label: dict[int, str] = {}
    for children, (_, name) in zip(out_map, pieces + extra):  # later inputs (gap, then tip) take precedence
        for _, tag in children:
            label[tag] = name
    for name, value in REGION.items():
        tags = [t for t, n in label.items() if n == name]
        if tags:
            gmsh.model.addPhysicalGroup(2, tags, value, name)
    _size_field(gmsh, lay, gap_size, far_size, growth)
    gmsh.model.mesh.generate(2)
    gmsh.model.mesh.setOrder(2)  # curved (quadratic) cells: the apex is not cut into chords


def _size_field(gmsh, lay: Layout, gap_size: float, far_size: float, growth: float) -> None:
    field = gmsh.model.mesh.field
    box = field.add("Box")
    field.setNumber(box, "VIn", gap_size)
    field.setNumber(box, "VOut", far_size)
    field.setNumber(box, "XMin", 0.0)
    field.setNumber(box, "XMax", max(lay.core_radius, gap_size))
    field.setNumber(box, "YMin", 0.0)
    field.setNumber(box, "YMax", lay.gap)
    field.setNumber(box, "Thickness", (far_size - gap_size) / growth)
    sizes = [box]
    if lay.plate_radius > 0:  # the insulator between the plates carries the cavity's gap-plasmon mode
        inner = min(far_size, (lay.gap + lay.tip_length) / 4)
        stack = field.add("Box")
        for key, value in (("VIn", inner), ("VOut", far_size), ("XMin", 0.0), ("XMax", lay.plate_radius),
                           ("YMin", -inner), ("YMax", lay.gap + lay.tip_length + inner),
                           ("Thickness", (far_size - inner) / growth)):
            field.setNumber(stack, key, value)
        sizes.append(stack)
    for r, z in lay.edges:  # graded from edge_size at each metal edge, where the field is singular
        dist = field.add("MathEval")
        field.setString(dist, "F", f"sqrt((x-({r}))^2+(y-({z}))^2)")
        ramp = field.add("Threshold")
        field.setNumber(ramp, "InField", dist)
        field.setNumber(ramp, "SizeMin", lay.edge_size)
        field.setNumber(ramp, "SizeMax", far_size)
        field.setNumber(ramp, "DistMin", 0.0)
        field.setNumber(ramp, "DistMax", (far_size - lay.edge_size) / growth)
        sizes.append(ramp)
    smallest = field.add("Min")
    field.setNumbers(smallest, "FieldsList", sizes)
    field.setAsBackgroundMesh(smallest)
    for key in ("Mesh.MeshSizeExtendFromBoundary", "Mesh.MeshSizeFromPoints", "Mesh.MeshSizeFromCurvature"):
        gmsh.option.setNumber(key, 0)
