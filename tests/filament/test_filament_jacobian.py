"""The coupled φ–T Jacobian that DOLFINx assembles is the derivative of the residual (central differences).

Where the coupled Newton fails on the sweep, it is not the Jacobian: at the sweep's first failure (1.81 V,
gap 2.7 nm) central differences agree with it to 1e-10, and the failure comes from a time step's Ag update
that moves φ by 0.83 V around the tip, about which Newton linearises the Joule source (quadratic in ∇φ).
This checks the same on a filament heated while bridged, whose neck has just opened a 0.9 nm gap, with the
potential not yet re-solved: the kind of state a coupled Newton step starts from (T_max 354 K).  Measured:
relative differences of 3e-13 to 2e-9 per field's rows, for perturbations of φ, T and both.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("dolfinx_solver")

from devicephys.filament.simulate import CellModel  # noqa: E402
from devicephys.filament.spec import DILUTE_CELL, FilamentSpec  # noqa: E402

pytestmark = pytest.mark.fem


def test_coupled_jacobian_matches_central_differences():
    spec = FilamentSpec.fast().model_copy(update=DILUTE_CELL)  # 1 mA behind 5 kOhm: a hot channel, T's terms count
    model = CellModel(spec)
    z = model.transport.z
    length = spec.insulator_thickness - spec.seed_height
    grown = np.ones_like(z)  # bridged
    model._sync_concentration(grown, 2.0)
    et = model.et
    for _ in range(3):  # heat the cell under 2 V (steps of 0.2 us)
        assert et.solve(2.0, 2e-7)
        et.accept()
    assert et.max_temperature() > spec.ambient_temperature + 1.0
    model._sync_concentration(np.where(z < spec.seed_height + 0.9 * length, 1.0, 0.0), 2.0)  # the neck opens a gap

    # the coupled Newton's unknowns are (φ, T) node by node: φ in the even rows, T in the odd ones
    snes, n = et.problem.solver, et.V.dofmap.index_map.size_local
    et._to_coupled()
    x0 = et.problem.x.duplicate()
    x0.array[:] = et.u.x.array[:2 * n]
    rows_phi, rows_T = slice(0, None, 2), slice(1, None, 2)
    f0 = et.problem.b.duplicate()
    snes.computeFunction(x0, f0)
    snes.computeJacobian(x0, et.problem.A, et.problem.P_mat)
    rng = np.random.default_rng(7)
    for scale_phi, scale_T in ((1e-3, 0.0), (0.0, 1.0), (1e-3, 1.0)):  # [V], [K]
        d = x0.duplicate()
        d.array[rows_phi] = scale_phi * rng.standard_normal(n)
        d.array[rows_T] = scale_T * rng.standard_normal(n)
        jd = x0.duplicate()
        et.problem.A.mult(d, jd)
        # central differences of steps eps * d (10 uV, 10 mK): truncation ~ (step / scale)^2 with the residual's
        # scales of nonlinearity in phi (I_cc R_s = 5 V in the compliance, quadratic Joule term) and in T
        # (1/alpha ~ 250 K): below 1e-8; round-off ~ 1e-16 |F| / (eps |J d|).  1e-6 bounds both.
        eps = 1e-2
        fp, fm = f0.duplicate(), f0.duplicate()
        xp, xm = x0.copy(), x0.copy()
        xp.axpy(eps, d)
        xm.axpy(-eps, d)
        snes.computeFunction(xp, fp)
        snes.computeFunction(xm, fm)
        fd = (fp.array - fm.array) / (2 * eps)
        for rows in (rows_phi, rows_T):
            scale = np.linalg.norm(jd.array[rows])
            if scale > 0:
                assert np.linalg.norm(fd[rows] - jd.array[rows]) <= 1e-6 * scale
