"""The backward-Euler step's local-error estimate and the step-size choice (``devicephys.filament.stepping``),
checked on the logistic equation c' = k c (1 − c), whose exact solution is known: the estimate against the
step's true local error, and the global error of an integration under the control against its tolerance."""

import math

import numpy as np
import pytest

from devicephys.filament import stepping

K = 3.0  # [1/s] rate of the logistic growth


def exact(t: float, c0: float = 0.01) -> float:
    return c0 * math.exp(K * t) / (1.0 - c0 + c0 * math.exp(K * t))


def backward_euler(c: float, dt: float) -> float:
    """c_new − dt k c_new (1 − c_new) = c, the root in [0, 1]."""
    a, b = dt * K, 1.0 - dt * K
    return (-b + math.sqrt(b * b + 4.0 * a * c)) / (2.0 * a)


@pytest.mark.parametrize("ratio", [1.0, 0.5, 2.0])
def test_local_error_estimate_approaches_the_true_local_error(ratio):
    """From exact states at t − dt_before and t, the estimate over a step dt against |BE step − exact|: the ratio
    tends to 1 as dt shrinks (its own error is O(dt) relative), for equal and unequal steps."""
    t = 0.9  # c'' well away from zero (c'' = 0 at c = 1/2, t = 1.53 s)
    misses = []
    for dt in (1e-2, 1e-3, 1e-4):
        before = ratio * dt
        c_before, c_now = np.array([exact(t - before)]), np.array([exact(t)])
        c_new = np.array([backward_euler(exact(t), dt)])
        true = abs(c_new[0] - exact(t + dt))
        estimate = stepping.local_error(c_new, c_now, c_before, dt, before)
        misses.append(abs(estimate / true - 1.0))
    assert misses[-1] < 1e-3
    assert misses[1] / misses[0] < 0.2 and misses[2] / misses[1] < 0.2  # O(dt): a tenfold smaller step, ~10x


def integrate(tol: float, end: float = 3.0) -> tuple[float, int]:
    """Backward Euler on the logistic from c(0) = 0.01 to ``end`` [s] under the error control; (error at the end, steps)."""
    t, c, dt = 0.0, 0.01, 1e-3
    history = None
    steps = 0
    while t < end - 1e-14:
        step = min(dt, end - t)
        c_new = backward_euler(c, step)
        error = 0.0 if history is None else stepping.local_error(np.array([c_new]), np.array([c]),
                                                                  np.array([history[0]]), step, history[1])
        if error > tol:
            dt = step * stepping.step_factor(error, tol)
            continue
        history, c, t = (c, step), c_new, t + step
        steps += 1
        dt = step * stepping.step_factor(error, tol)
    return abs(c - exact(end)), steps


def test_global_error_under_the_control_scales_as_the_square_root_of_the_tolerance():
    """Holding the local error per step to tol gives steps ∝ tol^(1/2) and a global error ∝ tol^(1/2) for a
    first-order method: measured over two decades of tol, the exponent within 0.1 of 1/2, and the error at
    each tol below the tolerance's square root (the error constant of this problem is below one)."""
    tols = [1e-5, 1e-6, 1e-7]
    errors, steps = zip(*(integrate(tol) for tol in tols))
    slope = np.polyfit(np.log(tols), np.log(errors), 1)[0]
    assert abs(slope - 0.5) < 0.1, (errors, slope)
    steps_slope = np.polyfit(np.log(tols), np.log(steps), 1)[0]
    assert abs(steps_slope + 0.5) < 0.1, (steps, steps_slope)
    assert all(e < math.sqrt(tol) for e, tol in zip(errors, tols))


def test_step_factor_is_bounded_and_meets_the_tolerance_at_second_order():
    assert stepping.step_factor(0.0, 1e-3) == stepping.GROWTH_LIMIT
    assert stepping.step_factor(1e-3, 1e-3) == pytest.approx(stepping.SAFETY)
    assert stepping.step_factor(4e-3, 1e-3) == pytest.approx(stepping.SAFETY / 2)
    assert stepping.step_factor(1.0, 1e-6) == stepping.SHRINK_LIMIT
    assert stepping.step_factor(1e-12, 1e-3) == stepping.GROWTH_LIMIT


def test_local_error_refuses_a_step_that_is_not_positive():
    with pytest.raises(ValueError, match="dt_before"):
        stepping.local_error(np.zeros(2), np.zeros(2), np.zeros(2), 1e-3, 0.0)


def test_relative_error_takes_each_node_against_its_own_size_down_to_the_floor():
    """Two nodes with the same absolute miss: without a floor the error is absolute; with one, the small node's
    error counts relative to its size, or to the floor where that is larger."""
    c_before, c_now = np.array([0.0, 0.0]), np.array([0.5, 1e-3])
    miss = np.array([1e-4, 1e-4])
    predicted = c_now + (c_now - c_before)  # equal steps
    c_new = predicted + miss
    absolute = stepping.local_error(c_new, c_now, c_before, 1.0, 1.0)
    assert absolute == pytest.approx(1e-4 / 3)
    relative = stepping.local_error(c_new, c_now, c_before, 1.0, 1.0, floor=1e-6)
    assert relative == pytest.approx(1e-4 / 2.1e-3 / 3, rel=1e-9)  # the small node, against its new value 2.1e-3
    floored = stepping.local_error(c_new, c_now, c_before, 1.0, 1.0, floor=np.array([1e-6, 1e-2]))
    assert floored == pytest.approx(1e-4 / 1e-2 / 3)
