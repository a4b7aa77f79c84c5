"""Extraction of device parameters from traces (NumPy only, hand-made traces)."""

import math

import numpy as np
import pytest

from devicephys.filament import extract

GAP_ON, GAP_RUPTURE = 0.25e-9, 1e-9


def test_hold_voltage_is_taken_at_the_first_rupture_after_the_peak():
    source = np.array([0.0, 1.0, 2.0, 3.0, 2.0, 1.5, 1.0, 0.5, 0.0])
    cell = np.array([0.0, 1.0, 2.0, 0.03, 0.02, 1.5, 0.01, 0.005, 0.0])
    gap = np.array([9, 9, 9, 0, 0, 9, 0, 0, 0]) * 1e-9  # ruptures at 1.5 V, flickers back ON below
    assert extract.hold_voltage(cell, gap, source, GAP_ON, GAP_RUPTURE) == 0.02


def test_hold_voltage_is_nan_when_the_filament_never_ruptures():
    source = np.array([0.0, 2.0, 1.0, 0.0])
    gap = np.array([9, 0, 0, 0]) * 1e-9
    assert math.isnan(extract.hold_voltage(source, gap, source, GAP_ON, GAP_RUPTURE))


def test_threshold_voltage_is_the_largest_cell_voltage_before_bridging():
    v = np.array([0.0, 1.0, 2.0, 0.01])
    gap = np.array([9, 9, 5, 0]) * 1e-9
    assert extract.threshold_voltage(v, gap, GAP_ON) == 2.0


def test_set_time_fit_recovers_exponential_law():
    v = np.array([2.0, 2.5, 3.0, 3.5])
    tau0, v0, rms = extract.fit_set_time(v, 1e-3 * np.exp(-v / 0.4))
    assert tau0 == pytest.approx(1e-3, rel=1e-9) and v0 == pytest.approx(0.4, rel=1e-9) and rms < 1e-12



def test_off_resistance_is_the_formed_cells_residual_gap():
    # pristine leakage (1e18 Ohm) before the first set, a tunnelling residual gap (1e12 Ohm) after the rupture
    v = np.array([0.5, 1.0, 1.5, 2.0, 0.05, 1.5, 1.0, 0.5])
    r = np.array([1e18, 1e18, 1e18, 1e18, 300.0, 1e12, 1e12, 1e12])
    gap = np.array([9, 9, 8, 5, 0, 2, 2, 2]) * 1e-9
    r_on, r_off = extract.on_off_resistance(v, v / r, gap, GAP_ON, GAP_RUPTURE)
    assert r_on == pytest.approx(300.0) and r_off == pytest.approx(1e12)
    # a cell that never bridged: its only OFF state is the pristine one
    assert extract.on_off_resistance(v[:4], v[:4] / r[:4], gap[:4], GAP_ON, GAP_RUPTURE)[1] == pytest.approx(1e18)


def test_threshold_voltage_before_a_tunnelling_switch():
    # the current jumps (cell voltage collapses) at a 0.3 nm gap, before the gap falls below gap_on
    v = np.array([1.0, 2.0, 2.2, 0.12, 0.09])
    gap = np.array([9, 3.3, 1.3, 0.3, 0]) * 1e-9
    assert extract.threshold_voltage(v, gap, GAP_ON) == 2.2


def test_set_time_standard_errors_match_the_regression_s_covariance():
    rng = np.random.default_rng(3)
    v = np.linspace(2.0, 4.0, 7)
    t = 1e-4 * np.exp(-v / 0.8) * np.exp(rng.normal(0, 0.1, v.size))
    s_tau0, s_v0 = extract.set_time_uncertainty(v, t)
    (slope, intercept), cov = np.polyfit(v, np.log(t), 1, cov="unscaled")
    s2 = np.sum((np.log(t) - (intercept + slope * v)) ** 2) / (v.size - 2)
    tau0, v0, _ = extract.fit_set_time(v, t)
    assert s_v0 == pytest.approx(np.sqrt(s2 * cov[0, 0]) * v0**2, rel=1e-10)
    assert s_tau0 == pytest.approx(np.sqrt(s2 * cov[1, 1]) * tau0, rel=1e-10)
    exact = 1e-4 * np.exp(-v / 0.8)
    assert extract.set_time_uncertainty(v, exact)[1] == pytest.approx(0.0, abs=1e-9)
    assert all(math.isnan(x) for x in extract.set_time_uncertainty(v[:2], t[:2]))


def test_event_resolutions_are_the_sample_steps_around_the_event():
    source = np.array([0.0, 0.5, 1.0, 1.5, 1.0, 0.5, 0.0])
    gap = np.array([9, 9, 9, 0.1, 0.1, 2.0, 2.0]) * 1e-9
    assert extract.threshold_resolution(source, gap, GAP_ON) == 0.5
    assert extract.hold_resolution(source, gap, GAP_ON, GAP_RUPTURE) == 0.5
    assert math.isnan(extract.hold_resolution(source, np.full(7, 9e-9), GAP_ON, GAP_RUPTURE))
    t = np.array([0.0, 1.0, 3.0, 7.0])
    assert extract.crossing_resolution(t, np.array([0.0, 0.2, 0.6, 1.0]), 0.5) == 2.0
    assert extract.half_interquartile_range(np.array([1.0, 2.0, 3.0, 4.0, 5.0])) == 1.0
