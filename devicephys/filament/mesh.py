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


#: Peak memory of gmsh per 2-D triangle while meshing [B] (gmsh 4.15: +237 MB for the ~4.4e5 triangles of a
#: 600 nm insulator at the default mesh sizes).
MESH_BYTES_PER_TRIANGLE = 550
#: Bytes per stored entry of a sparse matrix or factor (float64 value + int32 index).
BYTES_PER_ENTRY = 12
#: Newton unknowns per mesh vertex (potential and temperature, P1).
UNKNOWNS_PER_VERTEX = 2


@dataclass(frozen=True)
class SizeEstimate:
    """Expected size of the axisymmetric FEM problem, estimated without meshing.

    Attributes
    ----------
    triangles, vertices
        Mesh elements and vertices [1].
    unknowns
        Unknowns of the coupled Newton solve [1].
    memory
        Memory of meshing plus the sparse LU factor [B].
    """

    triangles: float
    vertices: float
    unknowns: float
    memory: float


def _graded(a: float, b: float, lo: float, hi: float, n: int):
    """Cell edges of [lo, hi], uniform inside the refined band [a, b] and geometric outside it."""
    import numpy as np

    inner = np.linspace(max(a, lo), min(b, hi), n + 1)
    below = lo + (max(a, lo) - lo) * (1 - np.geomspace(1, 1e-6, n)) if a > lo else np.zeros(0)
    above = min(b, hi) + (hi - min(b, hi)) * np.geomspace(1e-6, 1, n) if hi > b else np.zeros(0)
    return np.unique(np.concatenate([[lo], below, inner, above, [hi]]))


def estimate_size(geo: CellGeometry, n: int = 200) -> SizeEstimate:
    """Size of the axisymmetric mesh of ``geo`` and of its solve, from the size field alone (no gmsh).

    The element size h(r, z) is the one :func:`_size_field` asks gmsh for
    (``h_axis`` in the box, growing linearly over the transition thickness to
    ``h_far``); a triangle of size h covers sqrt(3)/4 h^2, so the triangle count
    is the integral of 4/(sqrt(3) h^2) over the cell (gmsh 4.15 meshes of the
    default and fast cells and of 40 nm and 100 nm insulators have 5-25 % more triangles).
    Vertices are half the triangles.  The LU factor of a 2-D mesh under nested
    dissection holds about (31/8) N log2 N entries per factor for N unknowns
    (George, SIAM J. Numer. Anal. 10, 345 (1973)); L and U are counted, with
    the unknowns coupled in blocks of :data:`UNKNOWNS_PER_VERTEX`.
    """
    import math

    import numpy as np

    rb, top = geo.refined_radius, geo.insulator + geo.counter
    zb0, zb1 = -2 * geo.h_axis, geo.insulator + 2 * geo.h_axis
    thick = 6 * rb + 4 * geo.insulator
    r = _graded(0.0, rb, 0.0, geo.radius, n)
    z = _graded(zb0, zb1, -geo.active, top, n)
    rc, zc = 0.5 * (r[1:] + r[:-1]), 0.5 * (z[1:] + z[:-1])
    dr = np.maximum(rc - rb, 0.0)[None, :]
    dz = np.maximum(np.maximum(zb0 - zc, zc - zb1), 0.0)[:, None]
    h = np.minimum(geo.h_axis + (geo.h_far - geo.h_axis) * np.hypot(dr, dz) / thick, geo.h_far)
    area = np.diff(z)[:, None] * np.diff(r)[None, :]
    triangles = float(np.sum(area / h**2) * 4 / math.sqrt(3))
    vertices = triangles / 2
    unknowns = UNKNOWNS_PER_VERTEX * vertices
    blocks = max(vertices, 2.0)
    factor = 2 * (31 / 8) * blocks * math.log2(blocks) * UNKNOWNS_PER_VERTEX**2
    memory = triangles * MESH_BYTES_PER_TRIANGLE + factor * BYTES_PER_ENTRY
    return SizeEstimate(triangles, vertices, unknowns, memory)


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
