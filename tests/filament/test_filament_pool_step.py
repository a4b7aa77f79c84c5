"""The dissolved pool in the step control: ``max_concentration_change`` limits a node's pool as it limits its metal.

The pool (channel volumes, Ag per site of the channel) fills beside the counter electrode while its metal takes off:
the arriving ions reduce and dissolve again, so the metal's fraction barely moves while the pool grows.  A change limit
on the metal alone lets the largest step decide how far it fills; with the pool in the limit a set from the pristine
cell does not depend on the window's largest step.
"""

from __future__ import annotations

import numpy as np
import pytest

from devicephys.filament import simulate as sim
from devicephys.filament.spec import FilamentSpec


def test_step_change_is_the_larger_of_metal_and_pool():
    c, c_new = np.array([0.0, 0.5, 1.0]), np.array([0.01, 0.52, 0.99])
    c_s, cs_new = np.array([0.0, 0.1, 0.0]), np.array([0.0, 0.1, 0.2])
    assert sim.step_change(c, c_new, c_s, cs_new, None) == pytest.approx(0.02)
    assert sim.step_change(c, c_new, c_s, cs_new, lambda s: s) == pytest.approx(0.2)
    # a pool followed through the matrix (one row per node): its per-node total is what is limited
    shells, shells_new = np.zeros((3, 4)), np.zeros((3, 4))
    shells_new[1] = [0.01, 0.01, 0.01, 0.01]
    assert sim.step_change(c, c, shells, shells_new, lambda s: s.sum(axis=1)) == pytest.approx(0.04)


def test_the_full_preset_limits_the_pool_and_the_fast_one_keeps_its_measured_control():
    assert FilamentSpec().pool_change_limit and not FilamentSpec.fast().pool_change_limit


def _set(window: float) -> tuple[float, float, float]:
    """(set time [s], largest pool beside a node [channel volumes], its capacity) of a constant 0.25 V from the
    pristine default cell on the fast preset with the pool limited, over a ``window`` [s] (the largest step 1/80
    of it)."""
    spec = FilamentSpec.fast().model_copy(update={"set_time_limit": window, "pool_change_limit": True})
    model = sim.CellModel(spec)
    trace = sim.run_drive(model, lambda t: 0.25, window, dt_max=window * spec.max_step_fraction,
                          stop=lambda s: s["gap"] < spec.gap_on)
    assert trace.array("gap")[-1] < spec.gap_on, "no set within the window"
    return trace.array("time")[-1], model.peak_pool, model.pool_capacity


@pytest.mark.fem
def test_a_low_bias_set_does_not_depend_on_the_largest_step():
    """At 0.25 V the metal-only limit gave 587 us with a pool of 6.2 channel volumes (beyond its capacity of 3) at a
    largest step of 125 us, and 486 us with 1.29 at 12.5 us.  With the pool limited the two windows agree within the
    fast preset's stated error of a set time (8 %), and the pool stays within its capacity."""
    coarse, pool_coarse, capacity = _set(10e-3)
    fine, pool_fine, _ = _set(1e-3)
    assert pool_coarse <= capacity and pool_fine <= capacity
    assert abs(coarse - fine) <= 0.08 * fine
