"""Parametric gmsh source of the stage-1 metal/insulator/metal cell.

Writes the axisymmetric (r, z) cell or the 3-D cell of a FilamentSpec (the
default device unless a spec file is given) as a gmsh ``.msh`` file in metres,
with physical tags for every region and boundary (see
``devicephys.filament.mesh.REGION`` and ``BOUNDARY``).  The geometry itself is
built by :func:`devicephys.filament.mesh.build_axisymmetric` /
:func:`~devicephys.filament.mesh.build_3d`, the same code the solver uses.

    python meshes/filament_cell.py cell.msh            # axisymmetric, default device
    python meshes/filament_cell.py cell3d.msh --3d     # the same cell in 3-D
    python meshes/filament_cell.py cell.msh --spec my_device.yaml
"""

from __future__ import annotations

import argparse

from devicephys.filament.mesh import CellGeometry, write_mesh
from devicephys.filament.spec import FilamentSpec


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("output", help="output .msh file")
    p.add_argument("--3d", dest="three_d", action="store_true", help="3-D cell instead of the (r, z) half-plane")
    p.add_argument("--spec", default=None, help="FilamentSpec YAML/JSON (default: the default device)")
    p.add_argument("--fast", action="store_true", help="the fast preset's coarser mesh")
    args = p.parse_args(argv)
    spec = FilamentSpec.from_file(args.spec) if args.spec else (FilamentSpec.fast() if args.fast else FilamentSpec())
    write_mesh(CellGeometry.from_spec(spec), args.output, dim=3 if args.three_d else 2)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
