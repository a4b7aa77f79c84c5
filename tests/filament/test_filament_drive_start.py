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


# -- a sharp compliance: an SMU-like source, 10 µA behind 100 Ω (knee I_cc R_s = 1 mV against a 3 V source) --
SHARP = {"series_resistance": 100.0, "compliance_current": 1e-5}


def _sharp_model() -> CellModel:
    return CellModel(FilamentSpec(**{**FilamentSpec.fast().model_dump(), **SHARP}))


def test_a_sharp_compliance_drive_starts_from_rest():
    """Newton from the rest state's φ starts on the compliance's flat part and overshoots; no time step helps,
    since the jump is in the source.  Before the circuit start the drive ended at t = 0 ("time step fell below
    min_time_step")."""
    model = _sharp_model()
    trace = run_drive(model, lambda t: 3.0, 2e-7, dt_max=1e-7, dt_first=1e-7)
    assert trace.array("voltage")[0] == pytest.approx(3.0, rel=1e-6)  # the pristine cell takes the source
    assert trace.array("time")[-1] == pytest.approx(2e-7)
    assert model.et.stats["failed_solves"] == 0


def test_a_bridged_cell_behind_a_sharp_compliance_sits_on_the_compliance_law():
    model = _sharp_model()
    model._sync_concentration(np.ones_like(model.c), 3.0)  # a filled channel: a few hundred ohms
    et = model.et
    assert et.solve_potential(3.0)
    v_c = et._integral("v_contact") / et._integral("area")
    x = (3.0 - v_c) / (SHARP["compliance_current"] * SHARP["series_resistance"])
    assert x > 100  # deep in the compliance: the law's slope there is below 1e-6 of 1/R_s
    # the current is the compliance's (within 1 %, and never above it): the filled channel, a few hundred ohms,
    # holds I_cc R_on, far below the source
    assert 0.99 * SHARP["compliance_current"] < et.current() <= SHARP["compliance_current"]
    assert 0.0 < v_c < 0.01
