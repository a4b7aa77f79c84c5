"""Local-error estimate and step-size choice of a backward-Euler time step.

The channel's transport advances the Ag by backward Euler, whose local truncation error over a
step dt is (dt² / 2) c''.  With the two accepted states before the step (c_{n-1} at dt_{n-1}
before c_n) the linear extrapolation c_p = c_n + (dt / dt_{n-1}) (c_n − c_{n-1}) misses the exact
c(t_n + dt) by (c'' / 2) dt (dt + dt_{n-1}), and backward Euler overshoots it by (c'' / 2) dt², so

    LTE ≈ dt / (2 dt + dt_{n-1}) · (c_{n+1} − c_p)

to leading order (Milne's device: the implicit step against an explicit predictor of the same
order; both expansions are Taylor's, so the estimate holds for any smooth c(t)).  The next step
follows from the error's order in dt, as in the step-size control of Hairer, Nørsett & Wanner,
*Solving Ordinary Differential Equations I* (2nd ed., §II.4): dt_new = dt · s (tol / err)^(1/2),
s = 0.9 a safety factor, the change of step bounded to [0.2, 1.5] per step.  Holding the error per
step to tol makes the global error of a smooth solution scale as tol^(1/2), and the number of
steps as tol^(−1/2).
"""

from __future__ import annotations

import math

import numpy as np

SAFETY = 0.9  # [1] the step's share of the one that would meet the tolerance exactly
SHRINK_LIMIT = 0.2  # [1] the most a rejected step is cut in one go
GROWTH_LIMIT = 1.5  # [1] the most a step grows after an accepted one (the change-limit control's growth)


def local_error(c_new: np.ndarray, c_now: np.ndarray, c_before: np.ndarray, dt: float, dt_before: float,
                floor: float | np.ndarray | None = None) -> float:
    """Estimated local truncation error (largest over the nodes) of the backward-Euler step of ``dt`` [s] from
    ``c_now`` to ``c_new``, with ``c_before`` the accepted state ``dt_before`` [s] before ``c_now``.

    Without ``floor`` the error is absolute (in the unit of c); with it, each node's error is taken relative to
    the larger of |c_now|, |c_new| and ``floor`` (a scalar or one per node, in the unit of c) [1]: small values
    are then held to the same relative accuracy as large ones, down to the floor.
    """
    if not (dt > 0.0 and dt_before > 0.0):
        raise ValueError(f"local_error: steps must be positive (dt = {dt!r} s, dt_before = {dt_before!r} s)")
    predicted = c_now + (dt / dt_before) * (c_now - c_before)
    miss = np.abs(c_new - predicted)
    if floor is not None:
        miss = miss / np.maximum(np.maximum(np.abs(c_now), np.abs(c_new)), floor)
    return dt / (2.0 * dt + dt_before) * float(np.max(miss))


def step_factor(error: float, tolerance: float) -> float:
    """Factor [1] by which to scale a step whose estimated local error is ``error`` [1] so that the next one
    meets ``tolerance`` [1]: 0.9 (tol / err)^(1/2), bounded to [0.2, 1.5] (1.5 at zero error)."""
    if error <= 0.0:
        return GROWTH_LIMIT
    return min(GROWTH_LIMIT, max(SHRINK_LIMIT, SAFETY * math.sqrt(tolerance / error)))
