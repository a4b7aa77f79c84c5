"""The device geometry shared by the filament and the optical stage, and the emission stage's FEM engine on it."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xarray as xr

from devicephys import units
from devicephys.emission.spec import QCM_MIN_GAP, EmissionSpec
from devicephys.errors import SpecError
from devicephys.geometry import DeviceGeometry

#: The default device's stack (FilamentSpec fields): Ag / 10 nm PMMA / Ag, 170 nm x 240 nm.
STACK = {"active_electrode": "Ag", "counter_electrode": "Ag", "insulator": "PMMA", "active_electrode_thickness": 30e-9,
         "counter_electrode_thickness": 30e-9, "insulator_thickness": 10e-9, "footprint_x": 170e-9, "footprint_y": 240e-9}


def _filament(radius=2e-9, gaps=(9e-9, 1.3e-9, 0.65e-9, 0.0)) -> xr.Dataset:
    return xr.Dataset({"filament_radius_final": ((), radius), "gap": ("time", list(gaps)),
                       "insulator_thickness": ((), STACK["insulator_thickness"])},
                      attrs={"devicephys_kind": "filament", "spec": json.dumps(STACK)})


def test_device_geometry_is_the_filament_result_s():
    dev = DeviceGeometry.from_filament(_filament())
    assert dev.tip_radius == 2e-9 and dev.insulator_thickness == 10e-9 and dev.active_thickness == 30e-9
    assert math.isclose(math.pi * dev.footprint_radius**2, 170e-9 * 240e-9, rel_tol=1e-12)  # the footprint's area
    assert dev.tunnelling_gaps == (0.65e-9, 9e-9)  # the 0 nm contact is not a tunnelling gap
    assert DeviceGeometry.from_json(dev.to_json()) == dev


def test_device_geometry_refuses_what_is_not_a_formed_filament():
    with pytest.raises(SpecError, match="never formed a tip"):
        DeviceGeometry.from_filament(_filament(gaps=(0.0, 0.0)))
    with pytest.raises(SpecError, match="filament.nc"):
        DeviceGeometry.from_filament(xr.Dataset())


def test_filament_taller_than_the_insulator_is_refused():
    from devicephys.emission.fem.match import from_device

    dev = DeviceGeometry.from_filament(_filament())
    for gap in (10e-9, 12e-9, 0.0):
        with pytest.raises(SpecError, match="taller than the insulator"):
            from_device(dev, gap)
    geo = from_device(dev, 0.6e-9)  # the device's stack: both discs of the footprint, the filament reaching the top one
    assert geo.gap + geo.tip_length == pytest.approx(10e-9) and geo.plate_radius == dev.footprint_radius
    assert geo.counter_radius == dev.footprint_radius and geo.quantum_corrected and geo.tip_radius == 2e-9


def test_fem_engine_gap_below_the_qcm_validity_is_refused():
    with pytest.raises(SpecError, match="gap_min"):
        EmissionSpec(engine="fem", gap_min=0.5 * QCM_MIN_GAP, gap_max=3e-9)
    assert EmissionSpec.device().wavelength_max > units.h * units.c0 / (units.e * 0.75)  # a 0.75 V spike's photons


@pytest.mark.fem
def test_device_stack_conserves_power_and_leaks_nothing_into_the_metal_pml():
    """Reciprocity Purcell = metal + gap loss + far field (1 %, the FEM's mirror target); nothing guided out."""
    from devicephys.emission.fem import purcell_spectrum
    from devicephys.emission.fem.match import from_device

    geo = from_device(DeviceGeometry.from_filament(_filament()), 0.6e-9, points_per_wavelength=6.0)
    ds = purcell_spectrum(geo, [700e-9, 1400e-9])
    parts = ds.absorbed_metal + ds.absorbed_gap + ds.outgoing_dielectric + ds.outgoing_metal
    np.testing.assert_allclose(parts.values, ds.purcell.values, rtol=0.01)
    assert np.all(ds.outgoing_metal.values < 1e-3 * ds.purcell.values)
    assert np.all(ds.absorbed_gap.values > 0)  # at 0.6 nm the quantum-corrected layer conducts


@pytest.mark.fem
@pytest.mark.slow
def test_fem_engine_result_feeds_the_compact_yield_with_the_cutoff_exact():
    """The FEM engine's result on the device's stack: the compact stage's kernel reads it; no photon above eV."""
    from devicephys.compact import emission_point
    from devicephys.emission.stage import solve_emission

    spec = EmissionSpec.device().model_copy(update={"gap_count": 2, "gap_min": 0.4e-9, "gap_max": 0.8e-9,
                                                    "wavelength_count": 8, "wavelength_band_count": 0,
                                                    "executor": "serial"})
    ds = solve_emission(spec, filament=_filament(), progress=False).data
    assert float(ds["tip_radius"]) == 2e-9 and float(ds["insulator_thickness"]) == 10e-9
    assert json.loads(ds.attrs["device_geometry"])["footprint_radius"] == pytest.approx((170e-9 * 240e-9 / np.pi) ** 0.5)
    k = emission_point.optical_kernel(ds)
    cut = units.h * units.c0 / (units.e * spec.wavelength_max)  # below it no window wavelength can be emitted
    for gap in (0.4e-9, 0.6e-9, 0.8e-9):
        assert emission_point.efficiency_at(k, gap, np.nextafter(cut, 0.0)) == 0.0
        s = emission_point.spectrum_at(k, gap, 0.75)
        assert np.all(s[units.h * units.c0 / k.wavelength > units.e * 0.75] == 0.0) and s.max() > 0
    assert 0 < emission_point.efficiency_at(k, 0.6e-9, 0.75) < 1


def test_fem_far_field_off_its_power_balance_is_flagged():
    """A far field whose integral misses the PML power by more than the 1 % target is recorded and warned of."""
    from devicephys.emission import fem_sweep
    from devicephys.emission.fdtd_sweep import angles, wavelengths

    spec = EmissionSpec(engine="fem", gap_count=2, gap_min=0.5e-9, gap_max=1e-9, wavelength_count=9, angle_count=7)
    lam, theta = wavelengths(spec), angles(spec)
    purcell = 1e3 / (1 + ((lam - 700e-9) / 40e-9) ** 2)  # a Lorentzian gap resonance
    out = 0.1 * purcell
    pattern = 3 / (8 * np.pi) * np.sin(theta)[:, None] ** 2 * out[None, :]

    def row(miss):
        return {"purcell": purcell, "absorbed_metal": purcell - out, "absorbed_gap": 0 * purcell, "outgoing_dielectric": out,
                "outgoing_metal": 0 * purcell, "far_field": pattern, "far_field_power": out * (1 + miss), "seconds": 1.0,
                "unknowns": 10, "meshes": 1}

    ds = fem_sweep.build_dataset(spec, [row(0.002), row(0.003)], 10e-9)
    assert "far_field_warning" not in ds.attrs
    np.testing.assert_allclose(ds.far_field_power_error.values, [0.002, 0.003])
    np.testing.assert_allclose(ds.far_field.values[0], 3 / (8 * np.pi) * np.sin(theta) ** 2 / 1.002)
    with pytest.warns(UserWarning, match="far field carries 3.00%"):
        ds = fem_sweep.build_dataset(spec, [row(0.002), row(0.03)], 10e-9)
    assert "fem_points_per_wavelength" in ds.attrs["far_field_warning"]
