"""Frequency-domain FEM of the axisymmetric dipole problem: inputs, analytic pieces, Sommerfeld, gap physics."""

from __future__ import annotations

import numpy as np
import pytest

from devicephys import materials, units
from devicephys.emission import analytic, metals
from devicephys.emission.fem import FemGeometry, check_wavelengths, fields
from devicephys.errors import SpecError

# -- inputs (no DOLFINx) ---------------------------------------------------------


def test_mesh_too_coarse_for_the_gap_is_refused():
    with pytest.raises(SpecError, match="gap_mesh_size.*too coarse"):
        FemGeometry(gap=0.5e-9, gap_mesh_size=0.2e-9)


def test_gap_below_qcm_validity_is_refused():
    with pytest.raises(SpecError, match="below the quantum-corrected model's validity"):
        FemGeometry(gap=0.05e-9, gap_mesh_size=0.01e-9, quantum_corrected=True)
    FemGeometry(gap=0.05e-9, gap_mesh_size=0.01e-9)  # classical optics accepts it


def test_wavelengths_outside_the_metal_fit_are_refused():
    with pytest.raises(SpecError, match="wavelengths: 200-600 nm leaves the Ag optical fit"):
        check_wavelengths(FemGeometry(), [200e-9, 600e-9])
    with pytest.raises(SpecError, match="wavelengths"):
        check_wavelengths(FemGeometry(), [])


def test_unit_strings_and_json_round_trip():
    geo = FemGeometry(gap="0.8 nm", tip_radius="12 nm", shape="tip")
    assert geo.gap == pytest.approx(0.8e-9) and geo.dipole_height == pytest.approx(0.4e-9)
    assert FemGeometry.from_json(geo.to_json()) == geo


# -- analytic ingredients ---------------------------------------------------------


def _pml():
    return fields.Pml.for_wavenumber(100.0, 120.0, -80.0, 50.0, 0.02, 10.0)


def test_dipole_field_is_minus_radial_derivative_of_the_scalar_green_function():
    k, zd = 0.02, 3.0
    r, z = np.array([0.7, 5.0, 40.0]), np.array([-2.0, 10.0, 60.0])
    h, dr, dz = fields.dipole_field(r, z, zd, k, _pml())

    def green(rr, zz):
        big_r = np.hypot(rr, zz - zd)
        return np.exp(1j * k * big_r) / big_r

    step = 1e-5
    ref = -(green(r + step, z) - green(r - step, z)) / (2 * step)
    np.testing.assert_allclose(h, ref, rtol=1e-7)
    hr = lambda rr, zz: fields.dipole_field(rr, zz, zd, k, _pml())[0]  # noqa: E731
    np.testing.assert_allclose(dr, (hr(r + step, z) - hr(r - step, z)) / (2 * step), rtol=1e-6)
    np.testing.assert_allclose(dz, (hr(r, z + step) - hr(r, z - step)) / (2 * step), rtol=1e-6)


def test_dipole_field_decays_in_the_pml_by_the_set_factor():
    pml = _pml()
    k = 0.02
    r_in, r_out = pml.r_start, pml.r_start + pml.thickness
    far = 1e6  # radial wave far from the dipole: |h| ratio = geometric decay times exp(-A)
    h_in = fields.dipole_field(np.array([far + r_in]), np.array([0.0]), 0.0, k,
                               fields.Pml(far + r_in, 1e9, -1e9, pml.thickness, pml.sigma_max))[0]
    h_out = fields.dipole_field(np.array([far + r_out]), np.array([0.0]), 0.0, k,
                                fields.Pml(far + r_in, 1e9, -1e9, pml.thickness, pml.sigma_max))[0]
    assert abs(h_out / h_in)[0] == pytest.approx(np.exp(-10.0), rel=1e-3)


def test_tunnelling_length_of_silver():
    barrier = materials.get("Ag")["work_function"]
    lc = fields.tunnelling_length(barrier)
    kappa = np.sqrt(2 * units.m_e * barrier) / units.hbar
    assert lc == pytest.approx(1 / (2 * kappa))
    assert 0.04e-9 < lc < 0.05e-9  # 4.26 eV: 0.047 nm, the scale of Esteban2012's l_c ~ 0.04 nm


def test_qcm_permittivity_limits():
    barrier, lam, eps_b = materials.get("Ag")["work_function"], 700e-9, 1.49**2
    wide = fields.qcm_permittivity(2e-9, lam, "Ag", eps_b, barrier)
    assert abs(wide - eps_b) < 1e-12  # tunnelling off: the gap is the dielectric
    contact = fields.qcm_permittivity(0.0, lam, "Ag", eps_b, barrier)
    fit = metals.get("Ag")
    energy = units.h * units.c0 / lam
    drude = fit.drude[0] * fit.plasma_energy**2 / (energy * (energy + 1j * fit.drude[1]))
    assert contact == pytest.approx(eps_b - drude)  # at contact: the metal's free electrons
    gaps = np.linspace(0.0, 0.6e-9, 7)
    loss = fields.qcm_permittivity(gaps, lam, "Ag", eps_b, barrier).imag
    assert np.all(np.diff(np.log(loss[2:])) < 0)  # the loss vanishes as the tunnelling dies out


def test_tip_local_gap():
    assert fields.tip_local_gap(0.0, 1e-9, 10e-9) == pytest.approx(1e-9)
    assert fields.tip_local_gap(10e-9, 1e-9, 10e-9) == pytest.approx(11e-9)
    assert fields.tip_local_gap(1e-9, 1e-9, 10e-9) == pytest.approx(1e-9 + 1e-9**2 / (2 * 10e-9), rel=1e-2)
