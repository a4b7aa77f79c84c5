"""MEEP runs against analytic references (cheap cases; the expensive ones are marked slow)."""

from __future__ import annotations

import numpy as np
import pytest

from devicephys.emission import analytic, metals
from devicephys.errors import ConvergenceError

pytestmark = pytest.mark.fdtd
solve = pytest.importorskip("devicephys.emission.fdtd.solve")


@pytest.mark.parametrize("index", [1.0, 1.49])
def test_vacuum_dipole_ldos_cylindrical_matches_analytic(index):
    ctrl = solve.RunControl(grid_step=40e-9, pml_thickness=1e-6, min_run_time=0.0)
    lam = np.linspace(800e-9, 1200e-9, 9) * index  # 20-30 cells per wavelength in the medium
    run = solve.run_homogeneous(index, ctrl, lam, size=2e-6)
    ratio = run.ldos / run.ldos_reference
    print("vacuum LDOS / analytic:", np.round(ratio, 4))
    np.testing.assert_allclose(ratio, 1.0, atol=0.02)


def test_flux_ldos_constant_is_independent_of_medium():
    # flux/|J|^2 = K * grid_step * LDOS holds for any medium: K is a pure normalisation
    assert solve.flux_ldos_constant(1.0) == pytest.approx(solve.flux_ldos_constant(2.0), rel=2e-3)


def test_mirror_medium_is_the_reference_permittivity():
    # the MEEP medium of the mirror runs and the Sommerfeld reference use the same eps(w) (a fair check)
    medium = solve.metal_medium("Ag")
    for lam in (450e-9, 500e-9, 550e-9, 600e-9, 650e-9):
        eps_meep = complex(medium.epsilon(solve.meep_frequencies(np.array([lam]))[0])[0, 0])
        assert eps_meep == pytest.approx(complex(metals.get("Ag").permittivity(lam)), rel=1e-9)


def test_source_pulse_covers_band_and_leaves_no_static_dipole():
    freqs = solve.meep_frequencies(np.linspace(450e-9, 850e-9, 5))
    pulse = solve._source(freqs, solve.mp.Vector3())[0].src
    centre = abs(pulse.fourier_transform(0.5 * (freqs.min() + freqs.max())))
    edges = [abs(pulse.fourier_transform(f)) / centre for f in (freqs.min(), freqs.max())]
    assert min(edges) == pytest.approx(0.5, rel=0.05)  # band edges at half the centre amplitude (0.03 before)
    # MEEP cuts the Gaussian dipole moment at `cutoff` widths; what is left there stays as a static dipole
    assert np.exp(-pulse.cutoff**2 / 2) < 1e-12


def test_minimum_run_time_counts_after_the_sources():
    # MEEP 1.29 calls an until_after_sources condition from t = 0; the minimum time must still follow the sources
    mp = solve.mp
    freqs = np.array([0.9, 1.1])
    sim = mp.Simulation(cell_size=mp.Vector3(2, 0, 4), resolution=10, dimensions=mp.CYLINDRICAL, m=0,
                        boundary_layers=[mp.PML(1.0)], sources=solve._source(freqs, mp.Vector3()))
    sim.run(until_after_sources=solve._stop_condition(mp.Vector3(0.5, 0, 0.5), 7.0, 1e-2, 1.0))
    assert sim.meep_time() >= sim.fields.last_source_time() + 7.0


def test_mirror_coarse_grid_matches_sommerfeld():
    # h = 40 nm over Ag on a coarse 4 nm grid (10 cells per height), 450-650 nm.  Measured: +6.3, +4.7, +3.9, +3.3,
    # +3.1 % (a smooth, one-signed grid bias); the 5 % check at h = 20 nm on the default 1 nm grid is the slow test
    # (measured there: +1.2/+0.8/+0.6 % at 500/550/600 nm)
    lam = np.linspace(450e-9, 650e-9, 5)
    ctrl = solve.RunControl(grid_step=4e-9, pml_thickness=200e-9)
    run = solve.run_mirror(40e-9, "Ag", 1.0, ctrl, lam)
    got = run.ldos / run.ldos_reference
    ref = np.array([analytic.mirror_purcell(40e-9, l, complex(metals.get("Ag").permittivity(l))) for l in lam])
    print("mirror h=40 nm, grid 4 nm: MEEP", np.round(got, 3), "Sommerfeld", np.round(ref, 3), "error", np.round(got / ref - 1, 3))
    np.testing.assert_allclose(got, ref, rtol=0.08)


def test_mim_gap_mode_index_matches_dispersion_root():
    lam = np.array([600e-9, 800e-9])
    got = solve.run_mim(20e-9, "Ag", 1.49, lam, grid_step=2e-9)
    ref = np.array([analytic.mim_gap_mode_index(l, 20e-9, 1.49**2, complex(metals.get("Ag").permittivity(l))) for l in lam])
    print("MIM n_eff FDTD", got, "root", ref)
    np.testing.assert_allclose(got.real, ref.real, rtol=0.01)
    np.testing.assert_allclose(got.imag, ref.imag, rtol=0.05)


def test_diverging_run_is_stopped_with_advice():
    ctrl = solve.RunControl(grid_step=40e-9, pml_thickness=1e-6, min_run_time=0.0, courant=1.0)
    with pytest.raises(ConvergenceError, match="diverged"):
        solve.run_homogeneous(1.0, ctrl, np.linspace(800e-9, 1200e-9, 5))


def test_bad_spectra_are_refused():
    smooth = np.linspace(1.0, 2.0, 20)
    solve.check_spectrum("ok", smooth)
    with pytest.raises(ConvergenceError, match="negative"):
        solve.check_spectrum("neg", np.r_[smooth[:10], -0.1, smooth[11:]])
    solve.check_spectrum("steep but monotonic", np.geomspace(1e-3, 1.0, 8))
    solve.check_spectrum("noise below the floor", np.r_[1e-4, -1e-4, 3e-4, smooth], spike=None, floor=0.01)
    with pytest.raises(ConvergenceError, match="negative"):
        solve.check_spectrum("negative above the floor", np.r_[-0.5, smooth], spike=None, floor=0.01)
    with pytest.raises(ConvergenceError, match="jumps"):
        solve.check_spectrum("spike", np.r_[smooth[:10], 9.0, smooth[11:]])
    with pytest.raises(ConvergenceError, match="NaN"):
        solve.check_spectrum("nan", np.r_[smooth[:10], np.nan, smooth[11:]])
