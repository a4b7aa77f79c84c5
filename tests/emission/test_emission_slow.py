"""Expensive FDTD checks (run with -m slow): mirror on the default grid, resolution convergence, cylindrical vs 3-D."""

from __future__ import annotations

import numpy as np
import pytest

from devicephys.emission import analytic, fastmodel, metals
from devicephys.emission.spec import EmissionSpec

pytestmark = [pytest.mark.slow, pytest.mark.fdtd]
solve = pytest.importorskip("devicephys.emission.fdtd.solve")

GEOM = dict(tip_radius=10e-9, tip_length=30e-9, counter_radius=40e-9, counter_thickness=20e-9, index=1.49)


def test_mirror_20nm_matches_sommerfeld_on_default_grid():
    """Vertical dipole 20 nm above an Ag mirror, default 1 nm grid, 500/550/600 nm: within 5 % of Sommerfeld.

    Both sides use the same eps(w) (test_emission_fdtd checks MEEP's medium against metals.py).
    Measured (29 min on one core): MEEP 5.239/4.665/4.319 vs Sommerfeld 5.179/4.626/4.293, errors +1.2/+0.8/+0.6 %
    (the flux box around the dipole gives the same within 0.7 %); on a 2 nm grid -5.6/-4.8/-4.3 %.
    At h = 10 nm on the same grid (10 cells per height; measured once, not asserted): MEEP 12.40/10.46/9.48 vs
    11.37/9.71/8.85, errors +9.0/+7.8/+7.2 % - there the Purcell factor changes by 17 % per nm of height.
    Before the fixes of the source pulse and of the radial PML (see solve._source and solve.run_mirror) the
    errors were -3.0/-0.9/-7.6 % here and changed with the cell radius, the PML thickness and the pulse.
    """
    got, ref = _mirror(20e-9)
    np.testing.assert_allclose(got, ref, rtol=0.05)


def test_mirror_10nm_error_on_default_grid_is_below_12_percent():
    """The same at h = 10 nm (10 grid cells per height), below the 20 nm from which 5 % is required.

    Measured (1802 s): MEEP 12.401/10.464/9.480 vs Sommerfeld 11.373/9.705/8.847 at 500/550/600 nm, errors
    +9.0/+7.8/+7.2 %.  The Purcell factor changes by about 17 % per nm of height here, so a
    staircase error of a fraction of a cell in the effective metal surface shows up as several per cent.
    """
    got, ref = _mirror(10e-9)
    np.testing.assert_allclose(got, ref, rtol=0.12)


@pytest.mark.parametrize("index", [1.0, 1.45])
def test_mirror_error_falls_at_first_order_with_the_grid(index):
    """Observed convergence order of the FDTD mirror LDOS against the exact Sommerfeld value.

    h = 40 nm over Ag in a medium of index n, 450-650 nm, grids of 4 and 2 nm (10 and 20 cells per
    height).  With the exact answer known, two grids give the observed order p = log2(e_4nm / e_2nm).
    Yee's scheme is second order in a homogeneous medium; a staircased metal surface without subpixel
    averaging (not applied to dispersive materials) lowers it to first order (Farjadpour et al., Opt.
    Lett. 31, 2972 (2006)), so p near 1 (and below 2) is expected; p >= 0.8 allows the pre-asymptotic
    spread of a first-order method.  Measured (450/500/550/600/650 nm):

    * n = 1: +6.3/+4.7/+3.9/+3.3/+3.1 % (4 nm, 22 s), +2.3/+1.7/+1.3/+0.9/+0.9 % (2 nm, 202 s), p = 1.4-1.8;
    * n = 1.45: +16.7/+10.4/+7.8/+6.4/+5.5 % (4 nm, 17 s), +7.3/+4.6/+3.4/+2.7/+2.3 % (2 nm, 359 s on a
      loaded machine), p = 1.2-1.3.

    An 8 nm grid (5 cells per height, -18 to -11 % at n = 1) lies outside the asymptotic range (the sign changes).
    """
    lam = np.linspace(450e-9, 650e-9, 5)
    ref = np.array([analytic.mirror_purcell(40e-9, l, complex(metals.get("Ag").permittivity(l)), index**2) for l in lam])
    errors = []
    for step in (4e-9, 2e-9):
        run = solve.run_mirror(40e-9, "Ag", index, solve.RunControl(grid_step=step, pml_thickness=200e-9), lam)
        errors.append(np.abs(run.ldos / run.ldos_reference / ref - 1))
    order = np.log2(errors[0] / errors[1])
    print(f"mirror h=40 nm, n={index}: errors 4 nm", np.round(errors[0], 4), "2 nm", np.round(errors[1], 4),
          "order", np.round(order, 2))
    assert np.all(order >= 0.8) and np.all(order < 2.5), order
    assert np.all(errors[1] < errors[0])


def _mirror(height: float) -> tuple[np.ndarray, np.ndarray]:
    """Purcell factor of a vertical dipole at ``height`` [m] over Ag at 500/550/600 nm: (MEEP, Sommerfeld)."""
    lam = np.linspace(500e-9, 600e-9, 3)
    ctrl = solve.RunControl(grid_step=EmissionSpec().grid_step, pml_thickness=200e-9)
    run = solve.run_mirror(height, "Ag", 1.0, ctrl, lam)
    got = run.ldos / run.ldos_reference
    ref = np.array([analytic.mirror_purcell(height, l, complex(metals.get("Ag").permittivity(l))) for l in lam])
    print(f"mirror h={height * 1e9:.0f} nm, 1 nm grid ({run.seconds:.0f} s): MEEP", np.round(got, 3), "Sommerfeld",
          np.round(ref, 3), "error", np.round(got / ref - 1, 4))
    return got, ref


def _features(step: float, gap: float):
    """(peak wavelength [m], Purcell at the peak, radiative efficiency at the peak) of one gap run."""
    lam = np.linspace(450e-9, 850e-9, 41)
    run = solve.run_gap(solve.GapGeometry(gap=gap, **GEOM), solve.RunControl(grid_step=step), lam)
    total = solve.power_from_ldos(run.ldos, 1.49, step)
    return fastmodel.peak_features(lam, run.ldos / run.ldos_reference, run.power_radiated / total)[:3]


def test_resolution_convergence_default_vs_twice_the_resolution():
    """6 nm gap on the default 1 nm grid (6 cells across the gap) versus 0.5 nm (12 cells).

    Counter-electrode face, tip apex and dipole are on grid points on both grids, and the dipole is at the same
    place (mid-gap, 3 nm); a 5 nm gap would put it at 2 nm on one grid and 2.5 nm on the other.
    Measured (41 wavelengths, 450-850 nm): 1 nm grid peak 601.3 nm, Purcell 9762, eta 0.119 (173 s);
    0.5 nm grid peak 586.3 nm, Purcell 9420, eta 0.138 (2063 s on a loaded machine).  The default grid's error
    against twice the resolution: peak +2.6 % (+15 nm), Purcell +3.6 %, radiative efficiency -13 %.  The tolerances
    below hold these with a small margin; they guard the convergence level, they do not claim a smaller error.
    """
    gap = 6e-9
    default = EmissionSpec().grid_step
    for step in (default, default / 2):
        lay = solve._layout(solve.GapGeometry(gap=gap, **GEOM), solve.RunControl(grid_step=step))
        cells = lay["d"] / lay["dz"]
        assert cells >= 5 and abs(cells - round(cells)) < 1e-9
        assert lay["z_src"] == pytest.approx(gap / 2 / solve.LENGTH_UNIT)
        assert abs(lay["z_src"] / lay["dz"] - round(lay["z_src"] / lay["dz"])) < 1e-9
    coarse, fine = _features(default, gap), _features(default / 2, gap)
    print(f"grid {default * 1e9:.1f} nm: peak {coarse[0] * 1e9:.1f} nm, Purcell {coarse[1]:.0f}, eta {coarse[2]:.3f}; "
          f"grid {default * 0.5e9:.2f} nm: peak {fine[0] * 1e9:.1f} nm, Purcell {fine[1]:.0f}, eta {fine[2]:.3f}")
    assert coarse[0] == pytest.approx(fine[0], rel=0.04)  # peak wavelength
    assert coarse[1] == pytest.approx(fine[1], rel=0.06)  # Purcell factor at the peak
    assert coarse[2] == pytest.approx(fine[2], rel=0.20)  # radiative efficiency at the peak


def _spectrum(step: float, gap: float, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Purcell factor, radiative efficiency) of one gap run on the grid ``step``; padding a multiple of every
    grid used here, so that only the grid changes between runs."""
    run = solve.run_gap(solve.GapGeometry(gap=gap, **GEOM), solve.RunControl(grid_step=step, padding=12e-9), lam)
    return run.ldos / run.ldos_reference, run.power_radiated / solve.power_from_ldos(run.ldos, 1.49, step)


def test_tip_gap_three_grids_give_the_observed_order():
    """Observed order of the tip-over-disc gap run from three grids, without an exact answer.

    12 nm gap on grids of 2, 1 and 0.5 nm (6, 12 and 24 cells across the gap); every surface and the dipole
    (mid-gap, 6 nm) lie on grid points of all three, and the padding is 12 nm on all three.  For a quantity q
    the observed order is p = log2((q_2 - q_1) / (q_1 - q_0.5)) where the two differences have one sign.
    A staircased metal (no subpixel averaging for dispersive media) makes the scheme first order, so p near 1
    (0.8 <= p < 2.5, as for the mirror against its exact answer) is expected in the asymptotic range.

    Measured (15 s, 286 s and 1931 s on a loaded machine):

    * the smooth red tail above the antenna resonance, 690-850 nm: Purcell 176.3 / 133.4 / 118.6 at 690 nm and
      92.0 / 76.6 / 70.9 at 850 nm on the 2 / 1 / 0.5 nm grids; every one of the 17 wavelengths converges
      monotonically, p = 0.93-1.53 (median 1.24).  Richardson extrapolation with that p puts the default 1 nm
      grid 13-23 % above the grid-converged Purcell factor there, and the 0.5 nm grid 5-11 % above it;
    * at the resonance (530-630 nm) and for the peak wavelength (576.2 / 580.0 / 568.4 nm) the differences
      change sign: 6 cells across the gap (2 nm) are not yet in the asymptotic range there.  The 1 nm grid's
      peak is 2.0 % and its Purcell factor at the peak 1.0 % (1508 vs 1524) from the 0.5 nm grid's.
    """
    gap, lam = 12e-9, np.linspace(450e-9, 850e-9, 41)
    steps = (2e-9, 1e-9, 0.5e-9)
    for step in steps:
        lay = solve._layout(solve.GapGeometry(gap=gap, **GEOM), solve.RunControl(grid_step=step, padding=12e-9))
        for key in ("d", "t_c", "z_src"):
            assert abs(lay[key] / lay["dz"] - round(lay[key] / lay["dz"])) < 1e-9, key
        assert lay["z_src"] == pytest.approx(gap / 2 / solve.LENGTH_UNIT)
    runs = [_spectrum(step, gap, lam) for step in steps]
    purcell = np.array([r[0] for r in runs])
    tail = lam >= 690e-9
    coarse, mid = purcell[0] - purcell[1], purcell[1] - purcell[2]
    assert np.all(coarse[tail] * mid[tail] > 0), "the red tail does not converge monotonically"
    order = np.log2(coarse[tail] / mid[tail])
    print("tip gap 12 nm, Purcell 690-850 nm on 2 / 1 / 0.5 nm grids:", np.round(purcell[:, tail], 1),
          "observed order", np.round(order, 2))
    assert np.all(order >= 0.8) and np.all(order < 2.5), order
    features = [fastmodel.peak_features(lam, p, eta)[:2] for p, eta in runs]
    assert features[1][0] == pytest.approx(features[2][0], rel=0.04)  # peak wavelength, 1 nm vs 0.5 nm
    assert features[1][1] == pytest.approx(features[2][1], rel=0.06)  # Purcell at the peak, 1 nm vs 0.5 nm


def test_cylindrical_agrees_with_3d_on_wide_gap():
    lam = np.linspace(450e-9, 850e-9, 11)
    geom = solve.GapGeometry(gap=20e-9, **GEOM)
    ctrl = solve.RunControl(grid_step=4e-9, pml_thickness=100e-9, min_run_time=20e-15, check=False)
    cyl = solve.run_gap(geom, ctrl, lam)
    purcell_cyl = cyl.ldos / cyl.ldos_reference
    three = solve.run_gap_3d(geom, ctrl, lam)
    ref3 = solve.run_gap_3d(geom, ctrl, lam, homogeneous=True)
    purcell_3d = three.ldos / ref3.ldos
    print("Purcell cylindrical", np.round(purcell_cyl, 1), "3-D", np.round(purcell_3d, 1))
    # measured (4 nm grid): same main resonance (730 nm, Purcell 501 cylindrical vs 487 3-D) and same values at
    # 450, 770-810 nm within 15 %; between the modes (490-650 nm) 3-D is up to 2.4x higher - the two grids
    # staircase the 10 nm tip (2.5 cells) differently, without subpixel smoothing for the dispersive metal
    i3, ic = int(np.argmax(purcell_3d)), int(np.argmax(purcell_cyl))
    assert i3 == ic
    assert purcell_3d[i3] == pytest.approx(purcell_cyl[ic], rel=0.1)
    np.testing.assert_allclose(purcell_3d[[0, ic - 1, ic + 1]], purcell_cyl[[0, ic - 1, ic + 1]], rtol=0.4)


def test_fdtd_below_5nm_on_a_refined_grid_versus_the_fast_model():
    """A 3 nm gap run by FDTD on its own 0.5 nm grid (refine_narrow_gaps), against the fast model calibrated on the
    default spec's FDTD gaps (5-15 nm on the 1 nm grid) and extrapolated to 3 nm.

    Measured: FDTD peak 618.4 nm, Purcell 64296, eta 0.111 (1050 s; 2006 s while sharing a core); the fast model
    672.4 nm (+8.7 %), 57234 (-11 %), 0.111; the wide-gap FDTD peaks 607.7/591.8/581.6/575.4 nm at 5/7/10/15 nm.
    The model extrapolates the red shift too strongly (part of the 54 nm is the grid: the 0.5 nm grid itself
    puts the peak 15 nm bluer than the 1 nm grid at a 6 nm gap, see the convergence test).
    """
    from devicephys.emission import fdtd_sweep

    spec = EmissionSpec(refine_narrow_gaps=True, fdtd_gaps=(3e-9,) + EmissionSpec().fdtd_gaps)
    assert spec.grid_step_for(3e-9) == pytest.approx(0.5e-9) and spec.grid_step_for(5e-9) == spec.grid_step
    runs = fdtd_sweep.run_sweep(spec, spec.tip_radius, executor=None, progress=False)
    lam = fdtd_sweep.wavelengths(spec)
    narrow, wide = runs[0], runs[1:]
    assert narrow.gap == pytest.approx(3e-9) and narrow.grid_step == pytest.approx(0.5e-9)
    model = fastmodel.calibrate([r.gap for r in wide], lam, [r.purcell for r in wide], [r.radiative_efficiency for r in wide],
                                tip_radius=spec.tip_radius, index=spec.insulator_index, metal="Ag")
    got = fastmodel.peak_features(lam, narrow.purcell, narrow.radiative_efficiency)
    pred = (float(model.peak_wavelength(3e-9)[0]), float(model.peak_purcell(3e-9)[0]), float(model.peak_efficiency(3e-9)[0]))
    print(f"3 nm gap, 0.5 nm grid ({narrow.seconds:.0f} s): FDTD peak {got[0] * 1e9:.1f} nm, Purcell {got[1]:.0f}, "
          f"eta {got[2]:.3f}; fast model {pred[0] * 1e9:.1f} nm, {pred[1]:.0f}, {pred[2]:.3f}; wide-gap FDTD peaks "
          f"{[round(fastmodel.peak_features(lam, r.purcell, r.radiative_efficiency)[0] * 1e9, 1) for r in wide]} nm")
    # the narrow gap red-shifts beyond every wider gap, as gap plasmons must
    assert got[0] > max(fastmodel.peak_features(lam, r.purcell, r.radiative_efficiency)[0] for r in wide)
    assert got[0] == pytest.approx(pred[0], rel=0.10)  # peak wavelength (measured +8.7 %)
    assert got[1] == pytest.approx(pred[1], rel=0.20)  # Purcell factor at the peak (measured -11 %)
