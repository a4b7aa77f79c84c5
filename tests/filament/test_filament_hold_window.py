"""The hold-window study (``sweep_hold_biases``): each source voltage held from the sweep's falling ramp.

The summary of one hold and the window's edges are checked on hand-made traces whose answers are
known; the study on the real FEM is in the slow test of the lattice-gas return mode, whose ON state
holds under a small bias (``test_filament_return.py``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from devicephys.errors import SpecError
from devicephys.filament import extract
from devicephys.filament.spec import FilamentSpec

ON, MID, OFF = 0.1e-9, 0.5e-9, 2e-9  # gap_on 0.25 nm, gap_rupture 1 nm


def test_a_hold_that_stays_on_has_no_rupture_and_is_on_throughout():
    t = np.linspace(0, 1e-4, 11)
    g = np.full(11, ON)
    g[5] = MID  # between the thresholds: not a rupture
    s = extract.hold_run(t, g, np.full(11, 0.02), 0.25e-9, 1e-9)
    assert s["start_on"] == 1 and s["ruptures"] == 0 and math.isnan(s["rupture_time"])
    assert s["on_fraction"] == pytest.approx(0.9)  # the two steps around the MID sample count half each
    assert s["on_voltage"] == pytest.approx(0.02)


def test_ruptures_are_counted_with_hysteresis_and_the_first_is_interpolated():
    t = np.arange(8) * 1e-6
    g = np.array([ON, ON, 1.5e-9, MID, ON, MID, OFF, OFF])
    s = extract.hold_run(t, g, -np.linspace(0.01, 0.08, 8), 0.25e-9, 1e-9)
    assert s["ruptures"] == 2
    # 1 nm is crossed between 1 us (0.1 nm) and 2 us (1.5 nm): 0.9/1.4 of the interval
    assert s["rupture_time"] == pytest.approx(1e-6 + 0.9 / 1.4 * 1e-6, rel=1e-12)
    assert s["on_voltage"] == pytest.approx(np.median([0.01, 0.02, 0.05]))  # |V| of the ON samples


def test_a_hold_that_starts_off_is_not_on_at_the_start():
    s = extract.hold_run([0.0, 1e-6, 2e-6], [OFF, OFF, ON], [0.0, 0.0, 0.0], 0.25e-9, 1e-9)
    assert s["start_on"] == 0 and s["ruptures"] == 0 and s["on_fraction"] == pytest.approx(0.25)


def test_the_window_is_the_held_biases_and_its_low_edge_is_bracketed_by_the_bias_below():
    biases = [0.0, 0.1, 0.2, 0.4, 1.0, 2.0]
    start_on = [1, 1, 1, 1, 1, 0]
    ruptures = [1, 3, 0, 0, 0, 0]
    assert extract.hold_window(biases, start_on, ruptures) == (0.2, 1.0, 0.1)
    low, high, below = extract.hold_window(biases, [0] * 6, [0] * 6)
    assert math.isnan(low) and math.isnan(high) and math.isnan(below)
    assert math.isnan(extract.hold_window([0.4, 0.8], [1, 1], [0, 0])[2])  # the lowest tried is held


@pytest.mark.parametrize("over", [{"sweep_hold_biases": [-0.1]}, {"sweep_hold_biases": [3.0]},
                                  {"sweep_hold_biases": [float("nan")]},
                                  {"sweep_hold_biases": [0.1], "drive": "pulse"}])
def test_sweep_hold_biases_must_lie_on_the_sweeps_falling_ramp(over):
    with pytest.raises(SpecError, match="sweep_hold_biases") as err:
        FilamentSpec(**over)
    assert err.value.field.startswith("sweep_hold_biases")
