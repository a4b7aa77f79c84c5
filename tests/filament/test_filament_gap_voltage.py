"""The gap's voltage is consistent with the gap's own conductance in the lumped series circuit."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from devicephys.filament import simulate as sim


def _model(g_of_v, *, r_s=5e3, i_cc=math.inf, v_cell=1.0, v_channel=0.9, current=1e-4):
    """The state _consistent_gap_voltage reads: the last solution and the gap law ``g_of_v`` [S]."""
    et = SimpleNamespace(axis_values=lambda lo, hi: (None, np.array([v_channel, 0.0]), None),
                         current=lambda: current, cell_voltage=lambda: v_cell)
    return SimpleNamespace(et=et, z_lo=0.0, z_hi=1.0, spec=SimpleNamespace(series_resistance=r_s, compliance_current=i_cc),
                           conduction=SimpleNamespace(gap_conductance=lambda gap, v, c: (g_of_v(v), 0.0)))


def test_ohmic_gap_is_the_voltage_divider():
    # R_other = (1.0 - 0.9) V / 1e-4 A = 1 kOhm; a 10 kOhm gap: V = 2 V x 10 / (10 + 1 + 5)
    m = _model(lambda v: 1e-4)
    v = sim.CellModel._consistent_gap_voltage(m, None, 1e-9, 2.0)
    assert v == pytest.approx(2.0 * 10e3 / 16e3, rel=1e-12)


def test_nonlinear_gap_with_compliance_balances_the_currents():
    # a gap conducting exponentially more at higher voltage (field emission-like), behind a 1 mA compliance
    g = lambda v: 1e-9 * math.exp(8.0 * v)  # noqa: E731
    m = _model(g, i_cc=1e-3)
    v = sim.CellModel._consistent_gap_voltage(m, None, 1e-9, 3.0)
    i = g(v) * v
    x = (3.0 - (v + i * 1e3)) / (1e-3 * 5e3)
    assert i == pytest.approx(1e-3 * x / math.sqrt(1 + x * x), rel=1e-9)
    assert 0.0 < v < 3.0
