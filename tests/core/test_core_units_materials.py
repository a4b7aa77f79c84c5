"""Units, constants and the material table."""

import math

import pytest

from devicephys import materials, units
from devicephys.errors import SpecError


def test_conductance_quantum():
    # G0 = 2 e^2 / h = 77.48 µS (CODATA)
    assert units.G0 == pytest.approx(7.748091729e-5, rel=1e-9)


def test_lorenz_number():
    assert units.L0 == pytest.approx(2.443e-8, rel=1e-3)


def test_quantity_parsing():
    assert units.parse_quantity("1.5 nm", "m") == pytest.approx(1.5e-9)
    assert units.parse_quantity("0.5 eV", "J") == pytest.approx(0.5 * units.eV)
    assert units.parse_quantity("10 kOhm", "Ohm") == pytest.approx(1e4)
    assert units.parse_quantity("10 kΩ", "Ohm") == pytest.approx(1e4)
    assert units.parse_quantity(3, "m") == 3.0
    with pytest.raises(units.UnitError):
        units.parse_quantity("1 K", "m")
    with pytest.raises(units.UnitError):
        units.parse_quantity(True, "m")


def test_photon_energy_round_trip():
    lam = 600e-9
    assert units.energy_to_wavelength(units.wavelength_to_energy(lam)) == pytest.approx(lam)
    # lambda[nm] = 1239.84 / E[eV]
    assert units.wavelength_to_energy(1239.84e-9) / units.eV == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("name", ["Ag", "Pt", "Au", "PMMA", "SiO2", "HfO2"])
def test_material_table_has_sourced_numbers(name):
    mat = materials.get(name)
    for key in ("electrical_conductivity", "thermal_conductivity", "density", "specific_heat"):
        prop = mat.properties[key]
        assert prop.value > 0 and math.isfinite(prop.value)
        assert prop.unit and prop.source
    if mat.kind == "insulator":
        assert 1.0 < mat["refractive_index"] < 3.0
    else:
        assert mat.meep_material == name


def test_metal_wiedemann_franz_is_consistent_with_table():
    # kappa / (sigma T) should be near L0 for the noble metals at 293 K (within 10 %).
    for name in ("Ag", "Au"):
        mat = materials.get(name)
        ratio = mat["thermal_conductivity"] / (mat["electrical_conductivity"] * 293.0)
        assert ratio == pytest.approx(units.L0, rel=0.1)


def test_unknown_material():
    with pytest.raises(SpecError, match="Unobtainium"):
        materials.get("Unobtainium")


def test_the_interface_energy_bracket_of_ag_on_pmma():
    # Dupre with the work of adhesion between 0 and the Girifalco-Good geometric mean, from the sourced surface
    # energies (Ag 1.25 J/m^2, PMMA 41.1 mJ/m^2): (sqrt(1.25) - sqrt(0.0411))^2 = 0.8378 and 1.2911 J/m^2
    low, high = materials.interface_energy_bounds("Ag", "PMMA")
    assert low == pytest.approx(1.25 + 0.0411 - 2 * math.sqrt(1.25 * 0.0411), rel=1e-12)
    assert low == pytest.approx(0.8378, abs=1e-4) and high == pytest.approx(1.2911, rel=1e-12)
    # the filament's default interface energy (Ag's solid-vapour value) lies inside it
    assert low < materials.get("Ag")["surface_energy"] < high
    assert materials.get("PMMA").source("surface_energy").startswith("Wu1982")
    assert materials.interface_energy_bounds("Ag", "SiO2") is None  # no surface energy tabulated for SiO2
