"""The card's set-time voltage scale from a FEM result whose inert cathode must nucleate (no FEM run).

Where the nucleation takes most of each set time, the card's V₀ is the nucleation's,
k_B T / ((N_c + α) e) over dη_fc/dV of the ionic circuit, not the circuit's own dV / d ln I.
The set times are the fast preset's with Pt, j₀ = 1e6 A/m², t₀ = 20 ns, ΔG = 0.6 eV, N_c = 3 and
``resolve_set`` (README, nucleation table); the nucleation values are test inputs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from devicephys.compact import build
from devicephys.filament import electrochem
from devicephys.filament.spec import FilamentSpec
from devicephys.units import eV

VOLTS = np.array([2.75, 3.0, 3.25])
SET = np.array([770.956, 151.254, 29.267]) * 1e-6
NUCLEATED = np.array([749.57, 145.813, 27.88]) * 1e-6


def _result(nucleation: bool):
    spec = FilamentSpec(counter_electrode="Pt", exchange_current_density=1e6,
                        **(dict(cathode_nucleation=True, nucleation_time_prefactor=2e-8, nucleation_barrier=0.6 * eV,
                                critical_nucleus=3) if nucleation else {}))
    ds = xr.Dataset({"set_voltage": ("set_point", VOLTS), "set_time": ("set_point", SET),
                     "threshold_voltage": ((), 3.0)})
    if nucleation:
        ds["set_nucleation_time"] = ("set_point", NUCLEATED)
    return spec, ds


def test_nucleation_limited_fem_gives_the_card_the_nucleation_s_voltage_scale():
    spec, ds = _result(nucleation=True)
    assert build.nucleation_share(ds) == pytest.approx(145.813 / 151.254, rel=1e-9)
    v0, source = build.fem_voltage_scale(ds, spec.model_dump(), 9e-9, 300.0)
    assert "nucleation" in source and "not fitted" in source
    cell = electrochem.SeriesCell.from_spec(spec, math.pi * spec.channel_radius**2)
    slope = (cell.solve(3.01, 9e-9, 300.0)[1][2] - cell.solve(2.99, 9e-9, 300.0)[1][2]) / 0.02
    # the same central difference with a 3x wider step: O(dV²) apart
    assert v0 == pytest.approx(electrochem.Nucleation.from_spec(spec).voltage_scale(300.0) / slope, rel=1e-5)
    # it is the scale of the FEM's own set times (fitted: 0.1529 V), where the circuit's is ten times larger
    ln_slope = -np.polyfit(VOLTS, np.log(SET), 1)[0]
    assert v0 == pytest.approx(1.0 / ln_slope, rel=0.03)
    without, _ = build.fem_voltage_scale(_result(False)[1], _result(False)[0].model_dump(), 9e-9, 300.0)
    assert without > 5 * v0


def test_growth_limited_fem_keeps_the_circuit_s_voltage_scale():
    """Where the nucleation is a small part of the set (t₀ → 0), the circuit's V₀ stays."""
    spec, ds = _result(nucleation=True)
    ds["set_nucleation_time"] = ("set_point", 0.01 * SET)
    v0, source = build.fem_voltage_scale(ds, spec.model_dump(), 9e-9, 300.0)
    assert "nucleation" not in source
    cell = electrochem.SeriesCell.from_spec(spec, math.pi * spec.channel_radius**2)
    assert v0 == pytest.approx(cell.voltage_scale(3.0, 9e-9, 300.0)["total"], rel=1e-12)
