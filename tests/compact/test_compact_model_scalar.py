"""The compact model's scalar path: a state evaluated one device at a time gives what NumPy's arrays give.

The integrators (``solve_ivp`` in the fits and replays) call :func:`model.state_rates` on one device's state,
hundreds of thousands of times per fit, so the model's element-wise minimum, maximum and clip select between two
scalars in Python rather than through a ufunc.  These tests hold that selection to NumPy's bit for bit, the sign of
zero and NaN included, and every rate of a one-device state to the same state evaluated as a one-element array (the
ufunc path) to rounding: NumPy squares an array by multiplying and a scalar by ``pow``, which differ in the last bit
for about one square in a thousand, so the two paths are held to RATES_RTOL, not to the bit.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from devicephys.compact import elementwise as ew
from devicephys.compact import model
from devicephys.compact.synthetic import REFERENCE

#: Relative agreement of the scalar and array paths' rates [1].  The squares enter the rates directly (the two-state
#: drive's sinh^2, one rounding) and through exp(-(l/delta)^2), whose relative error is (l/delta)^2 times the
#: square's: at most 700 x 1.1e-16 = 7.8e-14 while the exponential is a normal number.
RATES_RTOL = 1e-13
#: Absolute agreement [1/s, m/s, K/s] below which the relative one is not asked: an exponential that falls among the
#: subnormals (below 2.2e-308) keeps only a few bits, and the rupture time's 1/tau_x lifts it to about 1e-300.
RATES_ATOL = 1e-250
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-300, 700.0, np.inf, -np.inf, np.nan]


def _bits(x) -> np.ndarray:
    """The float64 bit pattern (NaN, signed zero and all)."""
    return np.asarray(x, dtype=np.float64).view(np.uint64)


def _same_float(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    nan = np.isnan(a)
    return a.shape == b.shape and np.array_equal(nan, np.isnan(b)) and np.array_equal(_bits(a)[~nan], _bits(b)[~nan])


def _close(a, b) -> bool:
    """Equal NaN positions and infinities, the finite values to :data:`RATES_RTOL` (or :data:`RATES_ATOL`)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all(np.isclose(a, b, rtol=RATES_RTOL, atol=RATES_ATOL, equal_nan=True)))


@pytest.mark.parametrize("kind", [float, np.float64])
def test_scalar_selection_is_numpys(kind):
    for a, b in itertools.product(SPECIAL, SPECIAL):
        assert _same_float(ew.minimum(kind(a), kind(b)), np.minimum(a, b)), (a, b)
        assert _same_float(ew.maximum(kind(a), kind(b)), np.maximum(a, b)), (a, b)
    for x, (lo, hi) in itertools.product(SPECIAL, [(0.0, 1.0), (-0.0, 1.0), (0.2, 1.0)]):
        assert _same_float(ew.clip(kind(x), lo, hi), np.clip(x, lo, hi)), (x, lo, hi)


def test_scalar_helpers_keep_arrays_on_numpy():
    x = np.array([-1.0, 0.5, 2.0])
    assert np.array_equal(ew.minimum(x, 1.0), np.minimum(x, 1.0))
    assert np.array_equal(ew.maximum(x, 0.0), np.maximum(x, 0.0))
    assert np.array_equal(ew.clip(x, 0.0, 1.0), np.clip(x, 0.0, 1.0))
    assert type(ew.as_float(0.25)) is np.float64 and ew.as_float([1, 2]).dtype == np.float64


def _cards():
    dissolving = dataclasses.replace(REFERENCE, dissolution_rate=1.2e5, percolation_fraction=0.3,
                                     percolation_width=0.05, rupture_time=1e-8, return_rate=3e4)
    return {"two-state": REFERENCE, "dissolving": dissolving,
            "capillary": dataclasses.replace(dissolving, capillary_number=0.4)}


@pytest.mark.parametrize("name", list(_cards()))
def test_one_device_rates_are_the_array_rates(name):
    p = _cards()[name]
    rng = np.random.default_rng(7)
    edge = [p.gap_min, p.gap_max, p.gap_min - 3 * p.floor_width, 0.0, p.gap_max * 1.5]
    states = []
    for k in range(400):
        d = edge[k % len(edge)] if k < 40 else rng.uniform(p.gap_min - 2 * p.floor_width, 1.2 * p.gap_max)
        excess = [0.0, -0.0, rng.uniform(-2.0, 2000.0)][k % 3]
        v = [0.0, -0.0, rng.uniform(-0.01, 0.01), rng.uniform(-4.0, 4.0), rng.uniform(-200.0, 200.0)][k % 5]
        m = [1.0, 0.0, p.percolation_fraction, rng.uniform(-0.1, 1.1)][k % 4] if p.dissolves else None
        b = [0.0, 1.0, rng.uniform(0.0, 1.0)][k % 3] if p.dissolves else None
        states.append(([d, excess] + ([m, b] if p.dissolves else []), v))
    with np.errstate(all="ignore"):
        for y, v in states:
            as_arrays = model.state_rates(p, [np.array([s]) for s in y], np.array([v]))
            for scalar in (np.float64, float):
                one = model.state_rates(p, [scalar(s) for s in y], scalar(v))
                assert all(_close(np.asarray(r).reshape(1), a) for r, a in zip(one, as_arrays)), (y, v, one)


def test_the_neurons_latch_on_one_device_is_its_array_rate():
    from devicephys.compact import neuron

    p = neuron.LatchParams(0.8, 0.12, 4e4, 1e12, 1e-9, 0.005)
    rng = np.random.default_rng(11)
    for k in range(400):
        v = [0.0, -0.0, 0.8, 0.12, rng.uniform(-2.0, 2.0)][k % 5]
        q = [0.0, 2 * neuron.LOGIT_LIMIT, rng.uniform(-5.0, 105.0)][k % 3]
        for scalar in (np.float64, float):
            assert _close(np.reshape(neuron.latch_rate(p, scalar(v), scalar(q)), 1),
                          neuron.latch_rate(p, np.array([v]), np.array([q]))), (v, q)
            assert _close(np.reshape(neuron.latch_conductance(p, scalar(q)), 1),
                          neuron.latch_conductance(p, np.array([q]))), q
