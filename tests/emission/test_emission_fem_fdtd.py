"""FEM and FDTD on the FDTD stage's geometry: tip over a finite counter disc, one geometry for both solvers."""

from __future__ import annotations

import time

import numpy as np
import pytest

from devicephys.emission.fem import FemGeometry
from devicephys.emission.fem.match import dipole_fraction, from_emission_spec
from devicephys.emission.spec import EmissionSpec
from devicephys.errors import SpecError

# -- the geometry builder (no solver) ------------------------------------------------


def test_fem_geometry_is_the_fdtd_geometry():
    spec = EmissionSpec.fast().model_copy(update={"tip_shape": "cone", "tip_length": 31.2e-9})
    geo = from_emission_spec(spec, 10e-9, grid_step=2e-9)
    assert (geo.shape, geo.counter, geo.tip_end, geo.tip_shape) == ("tip", "disc", "flat", "cone")
    assert geo.cone_half_angle == spec.cone_half_angle and geo.metal == spec.tip_metal
    assert geo.index == pytest.approx(spec.insulator_index)
    assert (geo.counter_radius, geo.counter_thickness) == pytest.approx((spec.counter_radius, spec.counter_thickness))
    assert geo.tip_length == pytest.approx(32e-9)  # rounded to whole grid steps, as the FDTD grid does
    exact = from_emission_spec(spec, 10e-9)
    assert exact.tip_length == pytest.approx(31.2e-9) and exact.dipole_height == pytest.approx(5e-9)


def test_dipole_on_the_fdtd_grid_point_nearest_mid_gap():
    assert dipole_fraction(10e-9, 1e-9) == pytest.approx(0.5)
    assert dipole_fraction(10e-9, 2e-9) == pytest.approx(0.4)  # 5 cells: MEEP's round(2.5) = 2
    assert dipole_fraction(10e-9, None) == 0.5


def test_two_metals_and_a_round_cone_are_refused():
    with pytest.raises(SpecError, match="counter_metal.*one metal"):
        from_emission_spec(EmissionSpec(counter_metal="Au"), 10e-9)
    with pytest.raises(SpecError, match="tip_end.*cylinder"):
        FemGeometry(tip_shape="cone", tip_end="round")


# -- the solver on the disc geometry ---------------------------------------------------


@pytest.mark.fem
@pytest.mark.parametrize("shape", ["cylinder", "cone"])
def test_tip_over_disc_conserves_power(shape):
    """Reciprocity (the Purcell factor) equals the sum of the ohmic loss and the outgoing power."""
    from devicephys.emission.fem import purcell_spectrum

    spec = EmissionSpec.fast().model_copy(update={"tip_shape": shape})
    geo = from_emission_spec(spec, 10e-9, gap_mesh_size=2.5e-9, points_per_wavelength=4, mesh_growth=0.6)
    ds = purcell_spectrum(geo, [600e-9])
    parts = ds.absorbed_metal + ds.absorbed_gap + ds.outgoing_dielectric + ds.outgoing_metal
    assert ds.purcell.values[0] > 10  # the gap antenna enhances the emission
    np.testing.assert_allclose(parts.values, ds.purcell.values, rtol=0.01)
    assert abs(ds.outgoing_metal.values[0]) < 1e-9 * ds.purcell.values[0]  # no metal reaches the PML


# -- FEM versus MEEP ---------------------------------------------------------------------


def _peak(wavelengths, values) -> tuple[float, float]:
    """Wavelength [m] and value of the largest maximum, from the parabola through the three samples around it."""
    i = int(np.argmax(values))
    assert 0 < i < len(values) - 1, "the peak is at the window's edge"
    y0, y1, y2 = values[i - 1:i + 2]
    step = wavelengths[i + 1] - wavelengths[i]
    shift = 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2)
    return float(wavelengths[i] + shift * step), float(y1 - 0.25 * (y0 - y2) * shift)


def _assert_peaks_agree(label: str, lam_fem, fem_values, lam_fdtd, fdtd_values, seconds: tuple[float, float]) -> None:
    """Print both peaks (parabola through the samples around each maximum) and hold them to the issue's 5 % target."""
    (l_fem, p_fem), (l_fdtd, p_fdtd) = _peak(lam_fem, fem_values), _peak(lam_fdtd, fdtd_values)
    print(f"\n{label}, gap {GAP * 1e9:.0f} nm, FDTD grid {STEP * 1e9:.1f} nm: peak FEM {l_fem * 1e9:.1f} nm / F {p_fem:.0f} "
          f"({seconds[0]:.0f} s, {len(lam_fem)} wavelengths); FDTD {l_fdtd * 1e9:.1f} nm / F {p_fdtd:.0f} ({seconds[1]:.0f} s); "
          f"differences {100 * (l_fem / l_fdtd - 1):+.2f} % and {100 * (p_fem / p_fdtd - 1):+.1f} %")
    assert l_fem == pytest.approx(l_fdtd, rel=0.05)
    assert p_fem == pytest.approx(p_fdtd, rel=0.05)


#: Gap [m] and FDTD grid step [m] of the comparison: 12 cells, the dipole exactly mid-gap on the grid.
#: The FDTD (not the FEM: 0.2 % between meshes) limits the agreement.  MEEP's Purcell peak relative to
#: the FEM's on the same grid-rounded geometry: -14 / -14 / -17 % at 10 / 12 / 16 nm on the 2 nm grid,
#: +6.5 / -1.7 / +7.2 % at 10 / 12 / 15 nm on the 1 nm grid (staircased apex), +0.6 % at 10 nm on the
#: 0.5 nm grid (26 min on a loaded two-core machine, too long here); peak wavelengths within 1.6 %.
GAP, STEP = 12e-9, 1e-9


@pytest.mark.slow
@pytest.mark.fdtd
@pytest.mark.fem
def test_fem_and_fdtd_agree_on_the_gap_resonance():
    """Issue target: Purcell factor at the peak and peak wavelength within 5 % (same geometry, metal, index)."""
    from devicephys.emission import fdtd_sweep
    from devicephys.emission.fem import purcell_spectrum

    spec = EmissionSpec.fast().model_copy(update={"fdtd_gaps": (GAP,), "grid_step": STEP, "wavelength_count": 41})
    start = time.perf_counter()
    fdtd = fdtd_sweep.fdtd_gap_task(spec.to_dict(), GAP, spec.tip_radius)
    fdtd_seconds = time.perf_counter() - start
    lam = fdtd_sweep.wavelengths(spec)
    lam_fdtd, _ = _peak(lam, fdtd.purcell)

    geo = from_emission_spec(spec, GAP, grid_step=spec.grid_step_for(GAP))
    window = lam[np.abs(lam - lam_fdtd) <= 30e-9]
    theta = fdtd_sweep.angles(spec)
    start = time.perf_counter()
    fem = purcell_spectrum(geo, window, angles=theta)
    fem_seconds = time.perf_counter() - start
    _assert_peaks_agree("tip over disc", window, fem.purcell.values, lam, fdtd.purcell, (fem_seconds, fdtd_seconds))
    # the radiation pattern at the FDTD's peak sample, both normalised over the sphere
    i = int(np.argmin(np.abs(window - lam[np.argmax(fdtd.purcell)])))
    fem_pattern = fem.far_field.values[:, i] / fem.far_field_power.values[i]
    fdtd_pattern = fdtd.far_field[:, int(np.argmin(np.abs(lam - window[i])))]
    worst = float(np.max(np.abs(fem_pattern - fdtd_pattern)) / np.max(fdtd_pattern))
    print(f"far field at {window[i] * 1e9:.0f} nm: largest difference {100 * worst:.1f} % of the FDTD pattern's maximum")
    assert worst < 0.05


# -- FEM versus MEEP on the device's stack --------------------------------------------------

def _stack_device():
    """A metal / insulator / metal stack small enough for a 1 nm FDTD grid: Ag / 24 nm PMMA / Ag, 20 nm electrodes,
    an 80 nm disc footprint and a 10 nm filament.  (The default device's stack, with a 2 nm filament in a disc of
    114 nm radius and modes out to 3 um, needs a sub-nm FDTD grid over a micrometre-sized cell: hours here.)"""
    from devicephys.geometry import DeviceGeometry

    return DeviceGeometry("Ag", "Ag", "PMMA", 20e-9, 20e-9, 24e-9, 40e-9, 10e-9, (1e-9, 12e-9),
                          {"all": "a test stack with the device's structure, sized for a 1 nm FDTD grid"})


@pytest.mark.fdtd
def test_one_geometry_object_for_both_solvers_on_the_device_stack():
    from devicephys.emission.fdtd.solve import GapGeometry
    from devicephys.emission.fem.match import from_device

    dev = _stack_device()
    geo = from_device(dev, 12e-9, quantum_corrected=False)
    g = GapGeometry.from_fem(geo)
    assert (g.gap, g.tip_radius, g.tip_length) == pytest.approx((12e-9, 10e-9, 12e-9))  # the filament reaches the top plate
    assert (g.counter_radius, g.counter_thickness, g.plate_radius, g.plate_thickness) == pytest.approx((40e-9, 20e-9, 40e-9, 20e-9))
    assert (g.tip_metal, g.counter_metal, g.tip_shape) == ("Ag", "Ag", "cylinder") and g.index == pytest.approx(geo.index)
    with pytest.raises(SpecError, match="quantum_corrected"):
        GapGeometry.from_fem(from_device(dev, 12e-9))  # FDTD has no tunnelling medium
    with pytest.raises(SpecError, match="counter 'disc'"):
        GapGeometry.from_fem(FemGeometry(shape="mirror", gap=10e-9, gap_mesh_size=1e-9))


@pytest.mark.slow
@pytest.mark.fdtd
@pytest.mark.fem
def test_fem_and_fdtd_agree_on_the_device_stack():
    """Issue target on the device's structure (both electrodes, the filament between them): Purcell factor at the
    peak and peak wavelength within 5 %, one geometry object (from_device) for both solvers.

    Measured (12 nm gap, peaks from the parabola through 10 nm samples): FEM 597.6 nm / F 3441; FDTD on the
    1 nm grid 624.3 nm / 3581 (155 s), on the 0.5 nm grid 605.6 nm / 3286 (1286 s).  The FEM lies within the
    FDTD's own first-order grid error (between the two grids in F, between 0.5 nm and the extrapolation in
    the wavelength); the FEM itself moves 0.1 % / 0.3 % on a mesh with 3x the unknowns.
    """
    from devicephys.emission.fdtd import solve
    from devicephys.emission.fem import purcell_spectrum
    from devicephys.emission.fem.match import from_device

    geo = from_device(_stack_device(), GAP, quantum_corrected=False)
    lam = np.linspace(450e-9, 850e-9, 41)
    start = time.perf_counter()
    raw = solve.run_gap(solve.GapGeometry.from_fem(geo), solve.RunControl(grid_step=STEP), lam)
    fdtd_seconds = time.perf_counter() - start
    purcell_fdtd = raw.ldos / raw.ldos_reference
    lam_fdtd, _ = _peak(lam, purcell_fdtd)
    window = lam[np.abs(lam - lam_fdtd) <= 40e-9]
    start = time.perf_counter()
    fem = purcell_spectrum(geo, window)
    fem_seconds = time.perf_counter() - start
    _assert_peaks_agree("device stack", window, fem.purcell.values, lam, purcell_fdtd, (fem_seconds, fdtd_seconds))
    assert np.all(fem.outgoing_metal.values < 1e-3 * fem.purcell.values)  # the closed stack guides nothing out
