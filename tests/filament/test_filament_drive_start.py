"""A drive starts in the field of its own bias (real FEM).

The channel's step from t_n to t_n+1 moves the ions in the field of the accepted state at t_n.  A drive
that starts with a jump of the source (a constant-voltage set run from rest, a bias removed for the
relaxation) solves φ at its starting bias first (the potential is quasi-static), so that its first step
is not taken in the last drive's field.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("dolfinx_solver")

from devicephys.filament.simulate import CellModel, run_drive  # noqa: E402
from devicephys.filament.spec import FilamentSpec  # noqa: E402

pytestmark = pytest.mark.fem


def test_a_constant_bias_from_rest_drives_ions_from_its_first_step():
    spec = FilamentSpec.fast()
    model = CellModel(spec)
    trace = run_drive(model, lambda t: 3.0, 1e-7, dt_max=1e-7, dt_first=1e-7)
    # the pristine cell (PMMA leakage, ~1e18 Ohm, behind 5 kOhm) takes the whole source from the first sample on
    assert trace.array("voltage")[0] == pytest.approx(3.0, rel=1e-6)
    assert trace.array("time").size == 2  # one step
    # so that one step injected ions from the active electrode (in the rest state's zero field it injects none)
    assert model.transport.mass(model.c_i, model.c, model.c_s) > 0.0


def test_a_removed_bias_injects_no_ions_in_its_first_step():
    spec = FilamentSpec.fast()
    model = CellModel(spec)
    run_drive(model, lambda t: 3.0, 2e-7, dt_max=1e-7, dt_first=1e-7)
    mass = model.transport.mass(model.c_i, model.c, model.c_s)
    assert mass > 0.0
    trace = run_drive(model, lambda t: 0.0, 1e-7, dt_max=1e-7, dt_first=1e-7)
    assert abs(trace.array("voltage")[0]) < 1e-9  # the field is gone with the bias
    # the active electrode oxidises only while the field drives the ions off it: at 0 V the one step injects
    # nothing (ions may diffuse back into it: -0.8 % here); in the 3 V field of the drive before it would
    # inject one 3 V step's worth again (+50 % after the two steps at 3 V)
    assert model.transport.mass(model.c_i, model.c, model.c_s) <= mass * (1 + 1e-12)
