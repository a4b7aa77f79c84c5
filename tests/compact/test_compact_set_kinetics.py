"""The card's set-time voltage scale follows the FEM's set kinetics: hopping alone, or the ionic circuit."""

from __future__ import annotations

import math

import pytest
import xarray as xr

from devicephys.compact import build
from devicephys.filament import electrochem
from devicephys.filament.spec import FilamentSpec


def _fem(**over) -> dict:
    return FilamentSpec(**over).to_dict()


def test_without_charge_transfer_v0_is_the_hopping_s():
    ds = xr.Dataset({"threshold_voltage": 2.0})
    v0, source = build.fem_voltage_scale(ds, _fem(), 9e-9, 300.0)
    assert v0 == pytest.approx(build.hopping_voltage_scale(_fem(), 9e-9, 300.0), rel=1e-15)
    assert "Mott-Gurney" in source and "anode_nernst" not in source
    # the FEM's anode bound: the same scale, and its source says the card's law has no floor
    bounded = _fem(active_electrode_equilibrium=True, anode_nernst=True)
    v0_bounded, source = build.fem_voltage_scale(ds, bounded, 9e-9, 300.0)
    assert v0_bounded == v0 and "anode_nernst" in source and "no such floor" in source
    hopping = _fem(active_electrode_equilibrium=True, anode_nernst=True, anode_nernst_split="hopping")
    v0_hopping, source = build.fem_voltage_scale(ds, hopping, 9e-9, 300.0)
    assert v0_hopping == v0 and "split 'hopping'" in source and "gamma Omega" in source


def test_with_charge_transfer_v0_is_the_circuit_s_at_the_threshold():
    ds = xr.Dataset({"threshold_voltage": 0.4})
    fem = _fem(exchange_current_density=1e2)
    v0, source = build.fem_voltage_scale(ds, fem, 9e-9, 300.0)
    cell = electrochem.SeriesCell.from_spec(FilamentSpec(**fem), math.pi * (2e-9) ** 2)
    assert v0 == pytest.approx(cell.voltage_scale(0.4, 9e-9, 300.0)["total"], rel=1e-12)
    # at 0.4 V with a slow transfer the interfaces take nearly all of it: V0 near 2 k_B T / (α e) = 0.10 V,
    # a tenth of the hopping-only value
    assert 0.09 < v0 < 0.15 < build.hopping_voltage_scale(fem, 9e-9, 300.0) / 5
    assert "ionic series circuit" in source and "j0 = 100" in source
