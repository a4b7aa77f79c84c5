"""The card under the FEM's own drive (:mod:`devicephys.compact.fem_drive`).

(a) A FEM-shaped result made by the compact model itself (its sweep, set
runs and relaxation simulated by :func:`devicephys.compact.integrate.simulate_series`,
an independent integrator, and read off with the FEM's own extraction rules)
is reproduced to the integration and sampling tolerance; a card with a wrong
set-time prefactor is caught.  (b) On a real finite-element result (the fast
preset's, stored in ``tests/data/fem_fast_filament.json``) the block is in the
card, its numbers are finite and every failing row names the missing physics.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy.optimize import brentq

from devicephys.compact import fem_drive, integrate, synthetic
from devicephys.filament import extract

ROOT = Path(__file__).resolve().parents[2]
P = synthetic.REFERENCE
SPEC = {"gap_on": 0.25e-9, "gap_rupture": 1.0e-9, "series_resistance": 20e3, "set_time_limit": 2e-5}
SET_VOLTAGES = (2.0, 2.2, 2.4)
SET_SAMPLES = 40000
SWEEP_SAMPLES = 2000  # per half of the triangle


def _crossing_down(t, gap, level):
    k = int(np.flatnonzero(gap < level)[0])
    return float(t[k - 1] + (t[k] - t[k - 1]) * (gap[k - 1] - level) / (gap[k - 1] - gap[k]))


def card_made_result(p=P) -> xr.Dataset:
    """The FEM's protocols simulated with the compact model (linear series resistor, no compliance)."""
    g_on, g_r, r_s = SPEC["gap_on"], SPEC["gap_rupture"], SPEC["series_resistance"]
    tp, vp = integrate.triangle_sweep_pwl(3.0, 2e-3)
    tr = integrate.simulate_series(p, tp, vp, r_s, samples_per_segment=SWEEP_SAMPLES)
    set_t = []
    for v in SET_VOLTAGES:
        s = integrate.simulate_series(p, [0.0, SPEC["set_time_limit"]], [v, v], r_s, samples_per_segment=SET_SAMPLES)
        set_t.append(_crossing_down(s.time, s.gap, g_on))
    rt = np.linspace(0.0, 5 * p.relaxation_time, 400)
    rg = p.gap_max - (p.gap_max - p.gap_min) * np.exp(-rt / p.relaxation_time)
    t_rupture = p.relaxation_time * math.log((p.gap_max - p.gap_min) / (p.gap_max - g_r))
    scalars = {"threshold_voltage": extract.threshold_voltage(tr.voltage, tr.gap, g_on),
               "hold_voltage": extract.hold_voltage(tr.voltage, tr.gap, tr.source_voltage, g_on, g_r),
               "relaxation_time": t_rupture}
    ds = xr.Dataset({"source_voltage": ("time", tr.source_voltage), "voltage": ("time", tr.voltage),
                     "current": ("time", tr.current), "gap": ("time", tr.gap), "temperature_max": ("time", tr.temperature),
                     "set_voltage": ("set_point", np.array(SET_VOLTAGES)), "set_time": ("set_point", np.array(set_t)),
                     "relax_gap": ("relax_time", rg), **{k: ((), v) for k, v in scalars.items()}},
                    coords={"time": tr.time, "relax_time": rt})
    return ds


@pytest.fixture(scope="module")
def made():
    return card_made_result()


def test_compliance_divider_solves_the_fem_contact_law():
    # the FEM's source current I_cc x/sqrt(1+x^2), x = (V_src - V)/(I_cc R_s), equals the cell's G V
    drive = fem_drive.Drive(5e3, 1e-3)
    gaps = np.array([P.gap_max, 1e-9, 0.5e-9, P.contact_gap, P.gap_min])
    for vs in (-3.0, 0.3, 1.7, 3.0, 40.0):
        i, v = fem_drive.driven_current(P, gaps, vs, drive)
        for d, ik, vk in zip(gaps, i, v):
            g = float(fem_drive.model.cell_conductance(P, d))

            def source(vc):
                x = (vs - vc) / (drive.compliance_current * drive.series_resistance)
                return drive.compliance_current * x / math.sqrt(1 + x * x) - g * vc

            ref = brentq(source, min(0.0, vs), max(0.0, vs), xtol=1e-300, rtol=1e-14)
            assert vk == pytest.approx(ref, rel=1e-10, abs=1e-300)
            assert ik == pytest.approx(g * ref, rel=1e-10, abs=1e-300)
            assert abs(ik) < drive.compliance_current


def test_card_made_result_is_reproduced_to_integration_tolerance(made):
    out = fem_drive.compare(made, P, SPEC)
    rows = out["rows"]
    assert out["passes"], out["failing"]
    assert all(math.isfinite(made["set_time"].values[k]) for k in range(len(SET_VOLTAGES)))
    # I-V: the same equations by two integrators at rtol 1e-9, compared sample by sample
    assert rows["iv_sweep"]["error"] < 1e-3 and rows["iv_sweep"]["fraction_state_differs"] == 0
    # threshold and hold: read by the same rule; the card's dense grid can move the reading by one source step
    for name in ("threshold_voltage", "hold_voltage"):
        assert abs(rows[name]["error"]) <= rows[name]["fem_resolution"] + 1e-9, name
    # set times: the reference's crossing is interpolated on SET_SAMPLES samples of set_time_limit
    step = SPEC["set_time_limit"] / SET_SAMPLES
    for v, t in zip(SET_VOLTAGES, made["set_time"].values):
        assert abs(rows[f"set_time_{v:g}V"]["error"]) <= step / t, v
    assert abs(rows["relaxation_time"]["error"]) < 1e-6
    assert rows["relaxation_course"]["error"] < 1e-6


def test_a_wrong_set_law_is_caught_and_named(made):
    out = fem_drive.compare(made, replace(P, set_time_tau0=P.set_time_tau0 / 3), SPEC)
    rows = out["rows"]
    for v in SET_VOLTAGES:
        row = rows[f"set_time_{v:g}V"]
        assert not row["passes"] and -1.5 * math.log(3) < row["error"] < -0.5 * math.log(3)
        assert "set" in row["missing_physics"]
    assert not rows["threshold_voltage"]["passes"] and rows["threshold_voltage"]["error"] < 0
    assert rows["relaxation_time"]["passes"]
    assert set(out["failing"]) == {k for k, r in rows.items() if "missing_physics" in r}
