"""Spec validation and the hand-over from the filament stage (no FDTD)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from devicephys.emission.spec import MIN_GAP_CELLS, EmissionSpec, gap_grid_step
from devicephys.emission.stage import filament_inputs
from devicephys.errors import SpecError


def _filament(folder, radius, gap):
    folder.mkdir(parents=True, exist_ok=True)
    ds = xr.Dataset({"filament_radius_final": xr.DataArray(np.float64(radius), attrs={"units": "m"}),
                     "minimum_gap": xr.DataArray(np.float64(gap), attrs={"units": "m"})})
    ds.to_netcdf(folder / "filament.nc", engine="h5netcdf")
    return folder


def test_tip_radius_and_gap_come_from_the_filament_result(tmp_path):
    folder = _filament(tmp_path / "filament", 12e-9, 0.8e-9)
    assert filament_inputs(EmissionSpec(), {"filament": folder}) == (12e-9, 0.8e-9)
    assert filament_inputs(EmissionSpec(use_filament=False), {"filament": folder}) == (10e-9, None)
    assert filament_inputs(EmissionSpec(), {}) == (10e-9, None)


def test_filament_radius_too_thin_for_the_grid_is_refused(tmp_path):
    folder = _filament(tmp_path / "filament", 2e-9, 1e-9)
    with pytest.raises(SpecError, match="use_filament"):
        filament_inputs(EmissionSpec(), {"filament": folder})


@pytest.mark.parametrize("bad, match", [
    (dict(fdtd_gaps=["3 nm"]), "grid_step <= 0.600 nm.*refine_narrow_gaps"),
    (dict(wavelength_max="20 um"), "validity range"),
    (dict(gap_min="6 nm"), "gap_min"),
    (dict(insulator="Ag"), "not an insulator"),
    (dict(fdtd_gaps=[]), "empty"),
    (dict(fdtd_gaps=["5 nm/s"]), "fdtd_gaps"),
])
def test_bad_input_names_field_and_fix(bad, match):
    with pytest.raises(SpecError, match=match) as info:
        EmissionSpec(**bad)
    assert "\n" not in str(info.value)


def test_spec_round_trips_and_accepts_units():
    spec = EmissionSpec(fdtd_gaps=["6 nm", "9 nm"], tip_radius="8 nm")
    assert spec.fdtd_gaps == pytest.approx((6e-9, 9e-9)) and spec.tip_radius == pytest.approx(8e-9)
    assert EmissionSpec.from_yaml(spec.to_yaml()) == spec
    assert EmissionSpec.fast().fdtd_gaps[0] >= 5 * EmissionSpec.fast().grid_step


@pytest.mark.parametrize("gap, step", [(3e-9, 0.5e-9), (2e-9, 1e-9 / 3), (1e-9, 1e-9 / 6), (0.5e-9, 0.5e-9 / 6),
                                       (4.5e-9, 0.75e-9), (5e-9, 1e-9), (7e-9, 1e-9)])
def test_narrow_gaps_get_their_own_grid_with_faces_and_dipole_on_grid_points(gap, step):
    got = gap_grid_step(gap, 1e-9)
    assert got == pytest.approx(step, rel=1e-12)
    cells = gap / got
    assert cells >= MIN_GAP_CELLS - 1e-9 and abs(cells - round(cells)) < 1e-9
    if got < 1e-9:  # refined: an even number of cells, so the mid-gap dipole sits on a grid point
        assert round(cells) % 2 == 0


def test_refine_narrow_gaps_accepts_sub_5nm_gaps_and_keeps_wide_ones_on_the_default_grid():
    spec = EmissionSpec(fdtd_gaps=["3 nm", "10 nm"], refine_narrow_gaps=True)
    assert spec.grid_step_for(3e-9) == pytest.approx(0.5e-9)
    assert spec.grid_step_for(10e-9) == spec.grid_step
    assert EmissionSpec().grid_step_for(10e-9) == EmissionSpec().grid_step
