"""An interrupted filament stage keeps the main drive's samples (``filament_partial.nc``), and a finished run in
the same folder removes an earlier run's partial file."""

from __future__ import annotations

import pytest

from devicephys.filament.spec import FilamentSpec
from tests.fem_fixtures import tiny_fields

pytestmark = pytest.mark.fem

TINY = tiny_fields(field_snapshots=0)  # the MPI test's cell, small and short
STOP_AT = 0.2  # [1] of the sweep: where the source raises KeyboardInterrupt (what Ctrl-C does inside a step)


def test_interrupted_sweep_keeps_its_samples_and_a_finished_run_removes_them(tmp_path, monkeypatch):
    pytest.importorskip("dolfinx_solver")
    import xarray as xr

    from devicephys.filament import simulate as sim
    from devicephys.filament import stage

    spec = FilamentSpec(**TINY)
    triangle = sim.triangle

    def interrupted(peak, duration):
        wave = triangle(peak, duration)

        def source(t):
            if t > STOP_AT * duration:
                raise KeyboardInterrupt
            return wave(t)
        return source

    monkeypatch.setattr(sim, "triangle", interrupted)
    with pytest.raises(KeyboardInterrupt):
        stage.run(spec, tmp_path, upstream={}, progress=False)
    partial = tmp_path / "filament_partial.nc"
    assert partial.is_file() and not (tmp_path / "filament.nc").exists()
    with xr.open_dataset(partial, engine="h5netcdf") as ds:
        t = ds["time"].values
        assert len(t) > 2 and t[0] == 0.0
        assert 0.5 * STOP_AT * spec.sweep_time < t[-1] <= STOP_AT * spec.sweep_time  # every step it finished
        assert {"voltage", "current", "gap", "temperature_max"} <= set(ds.data_vars)

    monkeypatch.setattr(sim, "triangle", triangle)
    stage.run(spec, tmp_path, upstream={}, progress=False)
    assert (tmp_path / "filament.nc").is_file() and not partial.exists()
