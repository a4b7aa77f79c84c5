"""Parametric gmsh models of the metal/insulator/metal cell (axisymmetric and 3-D).

Regions and boundaries carry physical tags (:data:`REGION`, :data:`BOUNDARY`).
Lengths are SI metres at the interface; inside gmsh they are nanometres
(:data:`GMSH_UNIT`) because OpenCASCADE's tolerances fail at the 1e-9 scale,
so mesh coordinates must be multiplied by ``GMSH_UNIT``.  The axisymmetric model lives in the (r, z) half-plane
r >= 0 with the axis at r = 0; z = 0 is the top of the active electrode and
z = t_ins the bottom of the counter electrode.  The element size is
``axis_mesh_size`` in a box around the axial channel and grows to
``far_mesh_size`` away from it.  gmsh is imported on use.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Physical tags of the regions (cells).
REGION = {"active_electrode": 1, "insulator": 2, "counter_electrode": 3, "seed": 4}
#: Physical tags of the boundaries (facets).
BOUNDARY = {"active_contact": 11, "counter_contact": 12, "side": 13, "axis": 14}
#: Length [m] of one gmsh model unit.
GMSH_UNIT = 1e-9


@dataclass(frozen=True)
class CellGeometry:
    """Dimensions [m] of the cell and mesh sizes [m].

    Attributes
    ----------
    radius, insulator, active, counter
        Cell radius and layer thicknesses.
    seed_height, seed_radius
        Seed protrusion on the active electrode (height 0: none).
    channel_radius
        Radius of the refined axial channel.
    h_axis, h_far
        Element sizes near the axis and far from it.
    """

    radius: float
    insulator: float
    active: float
    counter: float
    seed_height: float
    seed_radius: float
    channel_radius: float
    h_axis: float
    h_far: float

    @classmethod
    def from_spec(cls, spec) -> "CellGeometry":
        """Geometry of a :class:`~devicephys.filament.spec.FilamentSpec`."""
        return cls(spec.cell_radius, spec.insulator_thickness, spec.active_electrode_thickness,
                   spec.counter_electrode_thickness, spec.seed_height, spec.seed_radius, spec.channel_radius,
                   spec.axis_mesh_size, spec.far_mesh_size)

    def in_gmsh_units(self) -> "CellGeometry":
        """The same geometry with every length divided by :data:`GMSH_UNIT`."""
        return CellGeometry(*(v / GMSH_UNIT for v in (self.radius, self.insulator, self.active, self.counter,
                                                        self.seed_height, self.seed_radius, self.channel_radius,
                                                        self.h_axis, self.h_far)))

    @property
    def refined_radius(self) -> float:
        """Radius [m] of the finely meshed box around the axis."""
        return 2.5 * max(self.channel_radius, self.seed_radius if self.seed_height > 0 else 0.0)


def _size_field(gmsh, geo: CellGeometry, dim: int) -> None:
    box = gmsh.model.mesh.field.add("Box")
    f = gmsh.model.mesh.field
    f.setNumber(box, "VIn", geo.h_axis)
    f.setNumber(box, "VOut", geo.h_far)
    f.setNumber(box, "XMin", -geo.refined_radius if dim == 3 else 0.0)
    f.setNumber(box, "XMax", geo.refined_radius)
    if dim == 3:
        f.setNumber(box, "YMin", -geo.refined_radius)
        f.setNumber(box, "YMax", geo.refined_radius)
        f.setNumber(box, "ZMin", -2 * geo.h_axis)
        f.setNumber(box, "ZMax", geo.insulator + 2 * geo.h_axis)
    else:
        f.setNumber(box, "YMin", -2 * geo.h_axis)
        f.setNumber(box, "YMax", geo.insulator + 2 * geo.h_axis)
    f.setNumber(box, "Thickness", 6 * geo.refined_radius + 4 * geo.insulator)
    f.setAsBackgroundMesh(box)
    for key in ("Mesh.MeshSizeExtendFromBoundary", "Mesh.MeshSizeFromPoints", "Mesh.MeshSizeFromCurvature"):
        gmsh.option.setNumber(key, 0)


def _tag_regions(gmsh, dim: int, geo: CellGeometry, entities) -> None:
    """Physical groups of cells by the z of their centre of mass."""
    groups: dict[str, list[int]] = {name: [] for name in REGION}
    for d, tag in entities:
        x, y, z = gmsh.model.occ.getCenterOfMass(d, tag)
        zc = z if dim == 3 else y
        if zc < 0:
            groups["active_electrode"].append(tag)
        elif zc > geo.insulator:
            groups["counter_electrode"].append(tag)
        elif geo.seed_height > 0 and zc < geo.seed_height and abs(gmsh.model.occ.getMass(d, tag)) < _seed_mass(geo, dim) * 1.01:
            groups["seed"].append(tag)
        else:
            groups["insulator"].append(tag)
    for name, tags in groups.items():
        if tags:
            gmsh.model.addPhysicalGroup(dim, tags, REGION[name], name)


def _seed_mass(geo: CellGeometry, dim: int) -> float:
    import math

    return geo.seed_radius * geo.seed_height if dim == 2 else math.pi * geo.seed_radius**2 * geo.seed_height


def _tag_boundaries(gmsh, dim: int, geo: CellGeometry) -> None:
    groups: dict[str, list[int]] = {name: [] for name in BOUNDARY}
    top = geo.insulator + geo.counter
    tol = 1e-3 * geo.h_axis
    for d, tag in gmsh.model.getEntities(dim - 1):
        lo, hi = gmsh.model.getBoundingBox(d, tag)[:3], gmsh.model.getBoundingBox(d, tag)[3:]
        zl, zh = (lo[2], hi[2]) if dim == 3 else (lo[1], hi[1])
        if abs(zh - zl) < tol and abs(zl + geo.active) < tol:
            groups["active_contact"].append(tag)
        elif abs(zh - zl) < tol and abs(zl - top) < tol:
            groups["counter_contact"].append(tag)
        elif dim == 2 and abs(hi[0]) < tol:
            groups["axis"].append(tag)
        elif (dim == 2 and abs(lo[0] - geo.radius) < tol) or (dim == 3 and min(-lo[0], hi[0]) > geo.radius * 0.99):
            groups["side"].append(tag)
    for name, tags in groups.items():
        if tags:
            gmsh.model.addPhysicalGroup(dim - 1, tags, BOUNDARY[name], name)


def build_axisymmetric(gmsh, geo: CellGeometry) -> None:
    """Create and mesh the (r, z) cell in the current gmsh model (gmsh initialised by the caller)."""
    geo = geo.in_gmsh_units()
    occ = gmsh.model.occ
    layers = [occ.addRectangle(0, -geo.active, 0, geo.radius, geo.active),
              occ.addRectangle(0, 0, 0, geo.radius, geo.insulator),
              occ.addRectangle(0, geo.insulator, 0, geo.radius, geo.counter)]
    tools = [(2, t) for t in layers[1:]]
    if geo.seed_height > 0:
        tools.append((2, occ.addRectangle(0, 0, 0, geo.seed_radius, geo.seed_height)))
    out, _ = occ.fragment([(2, layers[0])], tools)
    occ.synchronize()
    _tag_regions(gmsh, 2, geo, out)
    _tag_boundaries(gmsh, 2, geo)
    _size_field(gmsh, geo, 2)
    gmsh.model.mesh.generate(2)


def build_3d(gmsh, geo: CellGeometry) -> None:
    """Create and mesh the same cell in 3-D (a stack of coaxial discs)."""
    geo = geo.in_gmsh_units()
    occ = gmsh.model.occ
    layers = [occ.addCylinder(0, 0, -geo.active, 0, 0, geo.active, geo.radius),
              occ.addCylinder(0, 0, 0, 0, 0, geo.insulator, geo.radius),
              occ.addCylinder(0, 0, geo.insulator, 0, 0, geo.counter, geo.radius)]
    tools = [(3, t) for t in layers[1:]]
    if geo.seed_height > 0:
        tools.append((3, occ.addCylinder(0, 0, 0, 0, 0, geo.seed_height, geo.seed_radius)))
    out, _ = occ.fragment([(3, layers[0])], tools)
    occ.synchronize()
    _tag_regions(gmsh, 3, geo, out)
    _tag_boundaries(gmsh, 3, geo)
    _size_field(gmsh, geo, 3)
    gmsh.model.mesh.generate(3)


def write_mesh(geo: CellGeometry, path: str, dim: int = 2) -> str:
    """Mesh the cell and write it as a gmsh ``.msh`` file; return the path."""
    import gmsh

    gmsh.initialize(interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.model.add("cell")
        (build_axisymmetric if dim == 2 else build_3d)(gmsh, geo)
        gmsh.option.setNumber("Mesh.ScalingFactor", GMSH_UNIT)
        gmsh.write(path)
    finally:
        gmsh.finalize()
    return path
