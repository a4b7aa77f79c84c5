"""One typed, in-memory entry point per stage; engine versions in results and cache keys."""

from __future__ import annotations

import numpy as np
import pytest

import devicephys.emission
import devicephys.filament
from devicephys import pipeline, versions


def test_entry_points_are_reexported_and_import_no_engine():
    import subprocess
    import sys

    code = ("import sys, devicephys.filament as f, devicephys.emission as e, devicephys.compact as c; "
            "f.solve_filament; e.solve_emission; c.fit_compact; "
            "print(sorted(m for m in ('dolfinx', 'meep', 'petsc4py') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", "an entry point's import loaded a heavy engine"


def test_engine_versions_enter_the_cache_key(monkeypatch):
    from devicephys.filament.spec import FilamentSpec

    spec = FilamentSpec.fast()
    before = pipeline._key(spec, [], "filament")
    assert pipeline._key(spec, [], "filament") == before
    real = versions.package_version
    monkeypatch.setattr(versions, "package_version",
                        lambda name: "999.0" if name == "dolfinx-solver-real" else real(name))
    assert pipeline._key(spec, [], "filament") != before, "a DOLFINx upgrade must invalidate the cached result"


def test_code_digest_follows_imports_across_packages():
    from pathlib import Path

    import devicephys

    root = Path(devicephys.__file__).parent
    names = {p.relative_to(root).as_posix() for p in pipeline.stage_sources("compact")}
    assert "compact/card.py" in names and "units.py" in names and "errors.py" in names
    assert not any(n.startswith("array/") for n in names), "the compact stage does not import the array package"


@pytest.mark.fem
def test_solve_filament_in_memory(tmp_path):
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import plot
    from devicephys.filament.result import FilamentResult
    from devicephys.filament.spec import FilamentSpec

    spec = FilamentSpec(far_mesh_size=4.0e-8, axis_mesh_size=1.0e-9, set_voltages=[3.5, 4.0],
                        max_step_fraction=0.05, min_step_fraction=0.01, max_concentration_change=0.2,
                        field_snapshots=1)
    result = devicephys.filament.solve_filament(spec, progress=False)
    assert isinstance(result, FilamentResult)
    assert not list(tmp_path.iterdir()), "the in-memory solve wrote files"
    import petsc4py.PETSc as PETSc

    assert result.versions["petsc"] == ".".join(map(str, PETSc.Sys.getVersion()))
    assert "dolfinx-solver-real" in result.versions
    # solver statistics: counted over the whole stage, and the audit can decide on the fallbacks
    from devicephys import audit

    attrs = result.data.attrs
    assert attrs["solver_newton_solves"] > 0 and attrs["solver_newton_iterations"] >= attrs["solver_newton_solves"]
    # the iterations of attempts retried after failing are part of the count, never more than it
    assert 0 <= attrs["solver_newton_iterations_failed"] <= attrs["solver_newton_iterations"]
    assert 0 < attrs["solver_min_time_step"] <= spec.max_step_fraction * spec.sweep_time
    assert audit.solver_fallbacks(result.data).status in (audit.PASS, audit.FAIL)
    d = result.data
    # The map is the temperature at the sample of peak current: its hottest vertex is that sample's T_max
    # (P2 field read at its own vertices, so equal to the solver's nodal maximum there).
    peak = int(np.argmax(np.asarray(d["current"])))
    assert float(d["map_temperature"].max()) == pytest.approx(float(d["temperature_max"][peak]), rel=1e-6)
    assert d["axis_metal_fraction"].shape == (d.sizes["profile_time"], d.sizes["axis_z"])
    files = plot.all_plots(result, tmp_path)
    assert all(p.is_file() and p.stat().st_size > 0 for p in files.values())
    loaded = FilamentResult.load(result.save(tmp_path / "filament.nc"))
    assert loaded.versions == result.versions
    np.testing.assert_array_equal(loaded.data["map_temperature"], d["map_temperature"])
