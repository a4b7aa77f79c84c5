"""The Newton residual without its no-op lifting: the same vector as DOLFINx's ``assemble_residual``, bit for bit.

:func:`devicephys.filament.fem.solve._residual_lifting_when_needed` leaves out the lifting −J(x)(g − x) when every
Dirichlet dof of ``x`` already holds its value g (it adds zeros then), and lifts as before when one does not (a
Dirichlet source moved by the drive).  Real DOLFINx on the analytic rod (source and counter contacts Dirichlet).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("dolfinx_solver")

from devicephys.filament.fem import solve  # noqa: E402  (loads MPI, then DOLFINx)

from dolfinx.fem import petsc as fem_petsc  # noqa: E402

pytestmark = pytest.mark.fem

RADIUS, LENGTH, T0 = 2e-9, 10e-9, 300.0


class _Metal:
    """σ(T) [S/m] of silver with κ = L₀ σ T: a nonlinear Jacobian, so a lifting that ran would show."""

    def sigma(self, T, c):
        return 6.3e7 / (1 + 3.8e-3 * (T - T0))

    def kappa(self, sigma, T):
        return 2.44e-8 * sigma * T

    def rho_cp(self, c):
        return 2.5e6


def _residuals(p, x, lifts: list[int]):
    """(this module's residual, DOLFINx's) at ``x``, and the lifting's calls counted into ``lifts``."""
    prob = p.problem
    lifts[0] = 0
    ours = solve._residual_lifting_when_needed(prob.b)
    b_ours, b_ref = prob.b.duplicate(), prob.b.duplicate()
    ours(prob.solver, x, b_ours, prob.u, prob.F, prob.J, p._dirichlet(coupled=True))
    n = lifts[0]
    fem_petsc.assemble_residual(prob.solver, x, b_ref, prob.u, prob.F, prob.J, p._dirichlet(coupled=True))
    return b_ours.array.copy(), b_ref.array.copy(), n


@pytest.fixture
def rod(monkeypatch):
    lifts = [0]
    real = fem_petsc.apply_lifting

    def counted(*args, **kwargs):
        lifts[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(fem_petsc, "apply_lifting", counted)
    data = solve.rod_mesh(RADIUS, LENGTH, 2, 16)
    p = solve.ElectroThermal(data, _Metal(), ambient=T0, current_window=(0.0, LENGTH))
    assert p.steady(0.2)  # a solved, heated state: x holds the Dirichlet values
    return p, lifts


def test_residual_at_dirichlet_values_skips_the_lifting_and_matches_dolfinx(rod):
    p, lifts = rod
    p._to_coupled()
    x = p.problem.x
    x.array[:] = p.u.x.array[: x.getLocalSize()]
    fixed = np.concatenate([bc.dof_indices()[0] for bc in p._dirichlet(coupled=True)])
    free = np.setdiff1d(np.arange(x.getLocalSize()), fixed)
    x.array[free] += 1.0  # off the steady state (1 V, 1 K) at every free dof; the Dirichlet dofs keep their values
    ours, ref, n_ours = _residuals(p, x, lifts)
    assert n_ours == 0  # nothing to lift: left out
    assert lifts[0] == 1  # DOLFINx's lifted (zeros)
    assert np.array_equal(ours, ref)
    assert np.max(np.abs(ref)) > 0


def test_residual_off_the_dirichlet_values_lifts_and_matches_dolfinx(rod):
    p, lifts = rod
    p.v_src.value = 0.35  # the source's Dirichlet value moves with the drive: x no longer holds it
    p._to_coupled()
    x = p.problem.x
    x.array[:] = p.u.x.array[: x.getLocalSize()]
    ours, ref, n_ours = _residuals(p, x, lifts)
    assert n_ours == 1  # lifted
    assert np.array_equal(ours, ref)
    assert np.max(np.abs(ref)) > 1e-6 * np.max(np.abs(ours)) > 0
