"""A FEM result whose inert cathode must nucleate, at the compact fit (no FEM run).

The card has one relaxing gap: a set that waits for a nucleus (a delay whose integral does not
leak) is no set-time law of it.  Where the nucleation takes most of each set time the fit refuses
in one line; where it is a small part, the card takes the ionic circuit's V₀ as without it.
The set times are the fast preset's with Pt, j₀ = 1e6 A/m², t₀ = 20 ns, ΔG = 0.6 eV, N_c = 3 and
``resolve_set`` (docs/filament.md, nucleation table); the nucleation values are test inputs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from devicephys.compact import build
from devicephys.errors import SpecError
from devicephys.filament import electrochem
from devicephys.filament.spec import FilamentSpec
from devicephys.units import eV

VOLTS = np.array([2.75, 3.0, 3.25])
SET = np.array([770.956, 151.107, 29.128]) * 1e-6
NUCLEATED = np.array([749.445, 145.688, 27.755]) * 1e-6


def _result(nucleation: bool):
    spec = FilamentSpec(counter_electrode="Pt", exchange_current_density=1e6,
                        **(dict(cathode_nucleation=True, nucleation_time_prefactor=2e-8, nucleation_barrier=0.6 * eV,
                                critical_nucleus=3) if nucleation else {}))
    ds = xr.Dataset({"set_voltage": ("set_point", VOLTS), "set_time": ("set_point", SET),
                     "threshold_voltage": ((), 3.0)})
    if nucleation:
        ds["set_nucleation_time"] = ("set_point", NUCLEATED)
    return spec, ds


def test_nucleation_limited_fem_is_refused_by_the_card_fit():
    spec, ds = _result(nucleation=True)
    assert build.nucleation_share(ds) == pytest.approx(145.688 / 151.107, rel=1e-9)
    with pytest.raises(SpecError, match="no nucleation state") as info:
        build.fem_voltage_scale(ds, spec.model_dump(), 9e-9, 300.0)
    message = str(info.value)
    assert "\n" not in message and "96%" in message and "set_voltages" in message
    # the scale it names is the nucleation law's, k_B T / ((N_c + α) e) over dη_fc/dV of the circuit, which is
    # the FEM's own set times' (fitted over 2.75-3.25 V: 0.1529 V)
    cell = electrochem.SeriesCell.from_spec(spec, math.pi * spec.channel_radius**2)
    slope = (cell.solve(3.01, 9e-9, 300.0)[1][2] - cell.solve(2.99, 9e-9, 300.0)[1][2]) / 0.02
    expected = electrochem.Nucleation.from_spec(spec).voltage_scale(300.0) / slope
    assert f"{expected:.3g} V" in message
    assert expected == pytest.approx(-1.0 / np.polyfit(VOLTS, np.log(SET), 1)[0], rel=0.03)


def test_growth_limited_fem_keeps_the_circuit_s_voltage_scale():
    """Where the nucleation is a small part of the set (t₀ → 0), the circuit's V₀ stays."""
    spec, ds = _result(nucleation=True)
    ds["set_nucleation_time"] = ("set_point", 0.01 * SET)
    v0, source = build.fem_voltage_scale(ds, spec.model_dump(), 9e-9, 300.0)
    assert "nucleation" not in source
    cell = electrochem.SeriesCell.from_spec(spec, math.pi * spec.channel_radius**2)
    assert v0 == pytest.approx(cell.voltage_scale(3.0, 9e-9, 300.0)["total"], rel=1e-12)
