"""Least squares with parameter uncertainties and an identifiability check."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from devicephys.errors import ConvergenceError


@dataclass(frozen=True)
class FitOutcome:
    """Best-fit parameters (in the fit's own coordinates), 1-sigma errors and residual statistics."""

    names: tuple[str, ...]
    x: np.ndarray
    sigma: np.ndarray
    rms: float
    max_abs: float
    n_points: int


def fit(residuals, x0, names: list[str], what: str, *, cond_limit: float = 1e10, diff_step: float | None = None) -> FitOutcome:
    """Minimise ``sum(residuals(x)**2)`` from ``x0``; 1-sigma from the Jacobian.

    Raises
    ------
    ConvergenceError
        When the solver fails or a parameter is unidentifiable (the scaled
        Jacobian is rank deficient): the message names that parameter.
    """
    x0 = np.asarray(x0, float)
    res = least_squares(residuals, x0, method="lm", x_scale="jac", max_nfev=4000 * len(x0), diff_step=diff_step)
    if not res.success or not np.all(np.isfinite(res.x)):
        raise ConvergenceError(f"{what}: least squares did not converge ({res.message}); "
                               "check the data or start values")
    n, p = res.fun.size, len(x0)
    if n <= p:
        raise ConvergenceError(f"{what}: {n} data points for {p} parameters {names}; more data are needed")
    jac = res.jac
    _check_identifiable(jac, names, what, cond_limit)
    s2 = float(res.fun @ res.fun) / (n - p)
    cov = np.linalg.pinv(jac.T @ jac) * s2
    sigma = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    return FitOutcome(tuple(names), res.x, sigma, float(np.sqrt(np.mean(res.fun ** 2))),
                      float(np.max(np.abs(res.fun))), n)


def _check_identifiable(jac, names, what, cond_limit) -> None:
    norms = np.linalg.norm(jac, axis=0)
    dead = [names[k] for k in range(len(names)) if norms[k] == 0]
    if dead:
        raise ConvergenceError(f"{what}: parameter {dead[0]} is unidentifiable (the data do not depend on it); "
                               "add data that vary it or fix it")
    scaled = jac / norms
    _, sv, vt = np.linalg.svd(scaled, full_matrices=False)
    if sv[-1] == 0 or sv[0] / sv[-1] > cond_limit:
        worst = names[int(np.argmax(np.abs(vt[-1])))]
        raise ConvergenceError(f"{what}: parameter {worst} is unidentifiable (condition number "
                               f"{sv[0] / max(sv[-1], 1e-300):.1e}); add data that constrain it or fix it")
