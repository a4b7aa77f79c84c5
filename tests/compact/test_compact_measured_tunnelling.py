"""The measured-sweep reading on a finite-element sweep with a tunnelling gap (no FEM run: the stored result).

``tests/data/fem_fast_filament.json`` holds the filament stage's fast-preset sweep (Simmons tunnelling
across the gap, quantum point contact when bridged) with its gap.  Across the closing gap the OFF current
climbs by decades before the set; the load-line criterion of
:func:`devicephys.compact.measured.sweep_parameters` (ON when the cell takes less than half of the source)
is checked here against the FEM's own gap, with and without instrument noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from devicephys.compact import measured
from tests.fem_fixtures import load_fem_result

ROOT = Path(__file__).resolve().parents[2]
NOISE_V, NOISE_REL, NOISE_A = 1e-3, 5e-3, 1e-12  # 1 sigma: cell voltage [V], current (relative, absolute [A])


@pytest.fixture(scope="module")
def fem():
    ds = load_fem_result()
    import json

    fs = json.loads(ds.attrs["spec"])
    return ds, fs["gap_on"], fs["gap_rupture"], fs["series_resistance"], fs["compliance_current"]


def _table(ds, v=None, i=None, source=True):
    t = ds["time"].values
    cols = {"time": t, "voltage": ds["voltage"].values if v is None else v,
            "current": ds["current"].values if i is None else i}
    if source:
        cols["source_voltage"] = ds["source_voltage"].values
    return measured.Table(Path("fem.csv"), cols, np.arange(t.size) + 2, 1)


def test_release_read_electrically_is_the_fem_release(fem):
    # the electrical ON set and the FEM's gap criterion agree at the release: the same sample
    ds, gap_on, gap_rupture, *_ = fem
    m = measured.sweep_parameters(_table(ds))
    assert m["criterion"] == "load line"
    assert m["hold_voltage"] == float(ds["hold_voltage"])
    gap = ds["gap"].values
    assert gap[m["last_on"]] < gap_on and gap[m["last_on"] + 1] > gap_rupture


def test_electrical_set_precedes_the_gap_criterion(fem):
    # the cell switches electrically (its resistance falls below the series resistor's, the drive moves onto
    # the resistor) through a tunnelling gap that the FEM does not yet count as bridged: the measured threshold
    # is the cell voltage before that switch, below the FEM's (the largest cell voltage before bridging)
    ds, gap_on, _, r_s, i_cc = fem
    m = measured.sweep_parameters(_table(ds))
    k = m["first_on"]
    v, i, gap = (ds[n].values for n in ("voltage", "current", "gap"))
    assert gap[k] > gap_on and v[k] / i[k] < r_s
    assert m["threshold_voltage"] == float(np.max(v[:k]))
    assert m["threshold_voltage"] < float(ds["threshold_voltage"])
    # the series resistor read back: R_s behind the FEM's smooth compliance I = I_cc x / sqrt(1 + x^2),
    # x = (V_src - V) / (I_cc R_s), which reads as R_s sqrt(1 + x^2) = R_s / sqrt(1 - (I / I_cc)^2)
    i_on = i[k:m["last_on"] + 1]
    assert r_s < 1 / m["switch_on_conductance"] <= r_s / np.sqrt(1 - (np.max(np.abs(i_on)) / i_cc) ** 2)


def test_conductance_criterion_reads_the_tunnelling_rise_as_the_set(fem):
    # without the source column the split is the geometric mean of the ON and relaxed conductances; the
    # tunnelling current reaches it gigaohms above the series resistor, long before the electrical set
    ds, _, _, r_s, _ = fem
    by_g = measured.sweep_parameters(_table(ds, source=False))
    by_load = measured.sweep_parameters(_table(ds))
    k = by_g["first_on"]
    v, i = ds["voltage"].values, ds["current"].values
    assert k < by_load["first_on"] and v[k] / i[k] > 1e3 * r_s
    assert by_g["threshold_voltage"] < by_load["threshold_voltage"]


def test_noise_moves_the_reading_within_its_uncertainty(fem):
    ds, *_ = fem
    v, i = ds["voltage"].values, ds["current"].values
    rng = np.random.default_rng(2026)
    v_n = v + rng.normal(0, NOISE_V, v.size)
    i_n = i * (1 + rng.normal(0, NOISE_REL, i.size)) + rng.normal(0, NOISE_A, i.size)
    clean, noisy = (measured.sweep_parameters(_table(ds, a, b)) for a, b in ((v, i), (v_n, i_n)))
    assert (noisy["first_on"], noisy["last_on"]) == (clean["first_on"], clean["last_on"])
    # single samples of the cell voltage (the threshold the largest of the ramp's, which rises 8 mV a sample)
    assert abs(noisy["threshold_voltage"] - clean["threshold_voltage"]) <= 3 * NOISE_V
    assert abs(noisy["hold_voltage"] - clean["hold_voltage"]) <= 3 * NOISE_V
    for name in ("resistance_on", "resistance_off"):
        assert abs(noisy[name] - clean[name]) <= 3 * noisy[f"{name}_sigma"], name
    # the OFF state after the first set is resolved above the 1 pA floor, and its noise is read back
    assert not noisy["resistance_off_lower_bound"]
    n = max(3, (noisy["first_on"] - 1) // 10)  # the relaxed samples it is estimated on: 3 standard errors
    assert abs(noisy["current_noise"] / NOISE_A - 1) <= 3 / np.sqrt(2 * n)
