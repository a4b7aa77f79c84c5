"""A filament cell too large to mesh is refused up front, with the size estimate, the field and the fix."""

from __future__ import annotations

import subprocess
import sys

import pytest

from devicephys.filament import mesh
from devicephys.filament.spec import FilamentSpec


def test_thick_insulator_refused_before_meshing(tmp_path):
    spec = tmp_path / "thick.yaml"
    spec.write_text("insulator_thickness: 1 mm\n")
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "devicephys", "filament", str(spec), "--out", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr
    assert "insulator_thickness" in lines[0] and "GiB" in lines[0] and "unknowns" in lines[0]
    assert "default" in lines[0]  # the fix: back towards the default thickness
    assert not any(out.rglob("*.msh")) and not any(out.rglob("*.h5"))


def test_refusal_names_the_field_that_makes_the_mesh_large():
    with pytest.raises(Exception) as err:
        FilamentSpec(footprint_x=1e-3, footprint_y=1e-3, far_mesh_size=1e-9)
    assert "far_mesh_size" in str(err.value)


def test_presets_pass_the_size_check():
    for spec in (FilamentSpec(), FilamentSpec.fast(), FilamentSpec.diffusive_memristor()):
        assert mesh.estimate_size(mesh.CellGeometry.from_spec(spec)).memory < 2**30


@pytest.mark.fem
@pytest.mark.parametrize("overrides", [{}, {"insulator_thickness": 40e-9},
                                       {"far_mesh_size": 40e-9, "axis_mesh_size": 0.5e-9}])
def test_estimate_matches_gmsh(tmp_path, overrides):
    """The estimated triangle count is within the 25 % the estimate's docstring states (gmsh meshes more)."""
    import gmsh

    geo = mesh.CellGeometry.from_spec(FilamentSpec(**overrides))
    path = mesh.write_mesh(geo, str(tmp_path / "cell.msh"))
    gmsh.initialize(interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.open(path)
        triangles = sum(len(tags) for tags in gmsh.model.mesh.getElements(2)[1])
    finally:
        gmsh.finalize()
    estimate = mesh.estimate_size(geo).triangles
    assert 0.75 * triangles <= estimate <= triangles, (estimate, triangles)
