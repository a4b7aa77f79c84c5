"""The analytic references themselves: Sommerfeld integral, MIM dispersion, metal fits."""

from __future__ import annotations

import numpy as np
import pytest

from devicephys.emission import analytic, metals


@pytest.mark.parametrize("height", [20e-9, 60e-9, 150e-9, 400e-9])
def test_sommerfeld_tends_to_perfect_conductor_closed_form(height):
    # a nearly perfect conductor: |eps| huge; the integral must approach 1 - 3(cos x/x^2 - sin x/x^3)
    got = analytic.mirror_purcell(height, 600e-9, -1e8 + 1e6j, 1.0)
    assert got == pytest.approx(analytic.mirror_purcell_pec(height, 600e-9), rel=2e-3)


def test_perfect_conductor_limits():
    assert analytic.mirror_purcell_pec(1e-12, 600e-9) == pytest.approx(2.0, rel=1e-6)  # image doubles the dipole
    assert analytic.mirror_purcell_pec(1e-3, 600e-9) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("height", [0.5e-9, 1e-9])
def test_sommerfeld_tends_to_quasistatic_limit(height):
    eps = complex(metals.get("Ag").permittivity(600e-9))
    full = analytic.mirror_purcell(height, 600e-9, eps, 1.49**2)
    near = analytic.mirror_purcell_quasistatic(height, 600e-9, eps, 1.49**2)
    assert full == pytest.approx(near, rel=0.03)


def test_sommerfeld_far_from_mirror_is_homogeneous():
    eps = complex(metals.get("Ag").permittivity(600e-9))
    assert analytic.mirror_purcell(20e-6, 600e-9, eps) == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("width", [1e-9, 5e-9, 20e-9, 100e-9])
def test_mim_root_satisfies_dispersion(width):
    eps_m = complex(metals.get("Ag").permittivity(700e-9))
    n = analytic.mim_gap_mode_index(700e-9, width, 1.49**2, eps_m)
    k0 = 2 * np.pi / 700e-9
    assert abs(analytic.mim_residual(n * k0, k0, width, 1.49**2, eps_m)) < 1e-8
    assert n.real > 1.49 and n.imag > 0  # bound, lossy gap plasmon slower than light in the insulator


def test_mim_thin_gap_limit():
    eps_m = complex(metals.get("Ag").permittivity(700e-9))
    k0 = 2 * np.pi / 700e-9
    for width in [0.2e-9, 0.1e-9]:
        beta = analytic.mim_gap_mode_index(700e-9, width, 1.49**2, eps_m) * k0
        thin = -2 * 1.49**2 / (width * eps_m)
        assert abs(beta / thin - 1) < 0.05 * width / 0.2e-9


def test_mim_vectorised_matches_scalar():
    lam = np.linspace(450e-9, 1000e-9, 12)
    eps = metals.get("Ag").permittivity(lam)
    vec = analytic.mim_gap_mode_index_array(lam, 3e-9, 2.2, eps)
    ref = [analytic.mim_gap_mode_index(l, 3e-9, 2.2, e) for l, e in zip(lam, eps)]
    np.testing.assert_allclose(vec, ref, rtol=1e-9)


@pytest.mark.fdtd
@pytest.mark.parametrize("name", ["Ag", "Au", "Pt"])
def test_metal_fits_match_meep_library(name):
    import meep.materials as mm

    lib = getattr(mm, name)
    for lam in [400e-9, 600e-9, 900e-9]:
        assert complex(metals.get(name).permittivity(lam)) == pytest.approx(complex(lib.epsilon(1e-6 / lam)[0, 0]), rel=1e-6)


def test_silver_permittivity_is_plasmonic():
    eps = metals.get("Ag").permittivity(600e-9)
    assert eps.real < -10 and 0 < eps.imag < 2  # Ag at 600 nm: about -12.7 + 1.0i
