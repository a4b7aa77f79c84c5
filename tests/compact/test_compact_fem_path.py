"""The compact fit of a finite-element filament result (``filament.nc`` carrying its FilamentSpec).

The FEM's filament dissolves at a constant rate and ruptures abruptly, its
channel is a percolating continuum without tunnelling, and its ON state is
cold; the fit then takes the relaxation time from the self-rupture time, the
tunnelling law from physics and the FEM's end points, and E_a from the FEM's
hopping barrier.  Checked here on a FEM-shaped result built by the test.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import constants as sc

from devicephys.compact import build, model, synthetic
from devicephys.compact.spec import CompactSpec
from devicephys.errors import ConvergenceError

GAP_ON, GAP_RUPTURE, BARRIER = 0.25e-9, 1.0e-9, 0.44 * sc.e
T_RUPTURE = 40e-6


def fem_like(rupture_time: float = T_RUPTURE):
    ds = synthetic.filament_dataset()
    t = ds["relax_time"].values * (100e-6 / ds["relax_time"].values[-1])
    step = np.where(t < rupture_time, 0.0, 8e-9)  # delay, then an abrupt rupture
    ds = ds.assign_coords(relax_time=("relax_time", t, {"units": "s"}))
    ds["relax_gap"] = ("relax_time", step, {"units": "m"})
    ds["relaxation_time"] = ((), rupture_time, {"units": "s"})
    ds.attrs.update(devicephys_kind="filament",
                    spec=json.dumps({"migration_barrier": BARRIER, "gap_on": GAP_ON, "gap_rupture": GAP_RUPTURE, "hop_distance": 0.5e-9,
                                     "active_electrode": "Ag"}))
    return ds


@pytest.fixture(scope="module")
def card():
    # the FEM-like device fires at ~0.2 V: its light (photon energy <= 0.2 eV) lies in the mid-infrared
    emission = synthetic.emission_dataset(wavelengths=np.linspace(2e-6, 10e-6, 241), band_scale=9.0)
    return build.fit_device(fem_like(), emission, CompactSpec(verify=False))


def test_relaxation_reproduces_the_fem_rupture_time(card):
    v = card.values()
    d0, d_open = 0.0, v["gap_max"]
    # the model's zero-bias relaxation from the start gap reaches gap_rupture at the FEM's rupture time
    d_at_rupture = d_open - (d_open - d0) * math.exp(-T_RUPTURE / v["relaxation_time"])
    assert d_at_rupture == pytest.approx(GAP_RUPTURE, rel=1e-9)
    assert "self-rupture" in card.fit_quality["relaxation"]["method"]


def test_tunnelling_law_from_the_work_function_and_fem_end_points(card):
    v = card.values()
    phi = 4.26 * sc.e  # Ag (Michaelson 1977)
    assert v["decay_constant"] == pytest.approx(math.sqrt(2 * sc.m_e * phi) / sc.hbar, rel=1e-6)
    assert v["decay_constant"] == pytest.approx(1.057e10, rel=2e-3)
    ds = fem_like()
    p = card.model_params() if hasattr(card, "model_params") else model.ModelParams(
        **{k: v[k] for k in model.ModelParams.names()})
    assert 1 / float(model.cell_conductance(p, p.gap_min)) == pytest.approx(float(ds["resistance_on"]), rel=1e-9)
    assert v["leakage_resistance"] == float(ds["resistance_off"])
    assert v["contact_gap"] == GAP_ON


def test_activation_energy_is_the_fem_hopping_barrier(card):
    assert card.value("activation_energy") == pytest.approx(BARRIER, rel=1e-12)
    assert "migration_barrier" in card.parameters["activation_energy"]["source"]


def test_no_rupture_is_one_clear_error():
    with pytest.raises(ConvergenceError, match="relax_duration"):
        build.fit_device(fem_like(rupture_time=float("nan")), synthetic.emission_dataset(), CompactSpec(verify=False))


def test_set_time_voltage_scale_from_the_fem_hopping_law(card):
    v = card.values()
    t0 = float(fem_like()["temperature_max"].values[0])
    # forward hop rate exp(q a E / 2 k_B T) with E = V / d_open  ->  exp(V / V0)
    assert v["set_time_v0"] == pytest.approx(2 * sc.k * t0 * v["gap_max"] / (sc.e * 0.5e-9), rel=1e-6)
    assert "hop_distance" in card.parameters["set_time_v0"]["source"]
