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


def test_threshold_voltage_is_the_last_sample_before_bridging():
    v = np.array([0.0, 1.0, 2.0, 0.01])
    gap = np.array([9, 9, 5, 0]) * 1e-9
    assert extract.threshold_voltage(v, gap, GAP_ON) == 2.0


def test_set_time_fit_recovers_exponential_law():
    v = np.array([2.0, 2.5, 3.0, 3.5])
    tau0, v0, rms = extract.fit_set_time(v, 1e-3 * np.exp(-v / 0.4))
    assert tau0 == pytest.approx(1e-3, rel=1e-9) and v0 == pytest.approx(0.4, rel=1e-9) and rms < 1e-12

