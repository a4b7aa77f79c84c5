"""Element-wise helpers of the compact model with a scalar path: NumPy's results, without a ufunc call per scalar.

The card's integrators (``solve_ivp`` in the fits, the replays and the neuron's checks) evaluate one device's rates
once per stage of every step, hundreds of thousands of times per fit.  On one device's NumPy scalars a binary ufunc
(``np.minimum``, ``np.maximum``) costs about 2 us and ``np.clip`` 4-8 us, and an operation on a 0-d array a ufunc
call where a scalar's costs a tenth of that.  These helpers select between two scalars in Python with NumPy's rule
(NaN propagates; on a tie ``np.minimum`` and ``np.maximum`` give the second argument, ``np.clip`` the value; the sign
of zero included), and keep scalars as NumPy scalars (the same IEEE arithmetic, inf and NaN rather than Python's
exceptions).  Arrays go to NumPy.  ``tests/compact/test_compact_model_scalar.py`` holds each to NumPy's bit for bit.
"""

from __future__ import annotations

import numpy as np

#: Scalar types that the helpers select between without a ufunc call.
SCALARS = (float, np.float64)


def as_float(x):
    """``np.asarray(x, dtype=float)``, but a scalar stays (or becomes) a NumPy float64 scalar."""
    if type(x) is np.float64:
        return x
    if type(x) is float:
        return np.float64(x)
    return np.asarray(x, dtype=float)


def minimum(a, b):
    """``np.minimum(a, b)``."""
    if type(a) in SCALARS and type(b) in SCALARS:
        return a if (a < b or a != a) else b
    return np.minimum(a, b)


def maximum(a, b):
    """``np.maximum(a, b)``."""
    if type(a) in SCALARS and type(b) in SCALARS:
        return a if (a > b or a != a) else b
    return np.maximum(a, b)


def clip(x, lo: float, hi: float):
    """``np.clip(x, lo, hi)`` for scalar bounds ``lo`` <= ``hi``.

    A faster spelling of the model's existing clips, each a definition rather than a range guard (a smoothstep's
    saturation, the latch's logit bound, the FEM's rule that metal below c_p takes the thinnest body's radius); it
    adds no clipping of its own and must not be used to hold a fitted law inside its data.
    """
    if type(x) in SCALARS:
        y = x if (x >= lo or x != x) else lo
        return y if (y <= hi or y != y) else hi
    return np.clip(x, lo, hi)
