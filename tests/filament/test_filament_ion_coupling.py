"""The channel transport with the ions in their own field (Poisson–Nernst–Planck along the axis).

:attr:`devicephys.filament.kinetics.ChannelTransport.green` (ψ = G c_i) against:

- the charge-free step: G = 0 gives the banded step's result (the dense Newton is the same equations);
- its own Jacobian: the dense coupling against a finite difference of the residual;
- Poisson–Boltzmann: uncompensated ions in a closed slab between grounded plates relax to the zero-flux
  equilibrium of the hopping law, d ln(c / (1 − c))/dz = (2/a) sinh(q a E / 2 k_B T), E = −ψ′,
  ε ψ″ = −(e/Ω) c, ψ(0) = ψ(L) = 0, the ions' number kept, here solved independently by ``scipy.integrate.solve_bvp``
  to 1e-9: the transport's nodes converge to it at second order (Scharfetter–Gummel and P1 Poisson);
- Ag conservation in a driven, reducing channel.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_bvp

from devicephys.filament import kinetics
from devicephys.units import e, eps0, k_B

L, T0, EPS, OMEGA, A_HOP = 10e-9, 300.0, 2.6 * eps0, 1.7e-29, 0.25e-9  # [m], [K], [F/m], [m³], [m]
LAW = kinetics.HoppingLaw(A_HOP, 1e13, 0.5 * e, 1e13, 1.0 * e)


def slab_green(z: np.ndarray) -> np.ndarray:
    """G [V per unit fraction] of the slab between grounded plates at z[0] and z[-1]: P1 Galerkin, c interpolated
    linearly between the nodes (nodally exact in 1-D)."""
    n, h = z.size, np.diff(z)
    K, M = np.zeros((n, n)), np.zeros((n, n))
    for i, hi in enumerate(h):
        K[i:i + 2, i:i + 2] += np.array([[1.0, -1.0], [-1.0, 1.0]]) / hi
        M[i:i + 2, i:i + 2] += hi / 6 * np.array([[2.0, 1.0], [1.0, 2.0]])
    G = np.zeros((n, n))
    G[1:-1] = np.linalg.solve(K[1:-1, 1:-1], M[1:-1]) * e / (EPS * OMEGA)
    return G


def closed_slab(n: int, c0: float, green: bool = True):
    z = np.linspace(0.0, L, n)
    tr = kinetics.ChannelTransport(z, LAW, None, None, exclusion=True)
    if green:
        tr.green = slab_green(z)
    return tr, np.full(n, c0)


def test_zero_green_is_the_banded_step():
    n = 31
    z = np.linspace(0.0, L, n)
    tr = kinetics.ChannelTransport(z, LAW, 0.2, 0.5, exclusion=True)
    c_i, c_m, c_s = np.full(n, 1e-3), np.zeros(n), np.zeros(n)
    c_m[-5:] = 0.9
    E, T, w = np.full(n - 1, 5e7), np.full(n, T0), np.zeros(n)
    w[-6] = 1.0
    ref = tr.step(c_i, c_m, c_s, E, T, 1e-6, w)
    tr.green = np.zeros((n, n))
    got = tr.step(c_i, c_m, c_s, E, T, 1e-6, w)
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-14)
    assert np.max(np.abs(got[0] - c_i)) > 1e-4  # the step did move the ions


def test_the_anodes_held_layer_is_not_in_the_ions_field():
    """The ions held at the active electrode's fraction (here the anode's Nernst layer on the first node) are that
    electrode's interface layer, whose potential drop the layer's overpotential already carries: the step is the
    step with their column of G removed, and the layer's own charge does not push its ions back into the
    electrode (it would: uncompensated, its field on the first edge is twice the applied one, reversed)."""
    n = 19
    z = np.linspace(0.0, L, n)
    tr = kinetics.ChannelTransport(z, LAW, 0.2, 0.3, exclusion=True)
    tr.layer = 0.2
    c_i, c_m, c_s = np.zeros(n), np.zeros(n), np.zeros(n)
    c_i[0] = 0.2
    E, T, w = np.full(n - 1, 2.0 / L), np.full(n, T0), np.zeros(n)
    G = 0.1 * slab_green(z)
    G[1:-1, 0] = G[1:-1, 1]  # the layer's charge seen beside the electrode (the slab's own column 0 is zero)
    assert -(G[1, 0] - G[0, 0]) * 0.2 / (L / (n - 1)) < -1.5 * E[0]  # counted, it would reverse the first edge
    tr.green = G
    got = tr.step(c_i, c_m, c_s, E, T, 1e-6, w)
    without = G.copy()
    without[:, 0] = 0.0
    tr.green = without
    ref = tr.step(c_i, c_m, c_s, E, T, 1e-6, w)
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-18)
    assert got[0][0] == pytest.approx(0.2) and got[0][1] > 1e-6  # held, and its ions leave it
    _, jac = tr._coupled_residual(got[0], c_i, E, T, 1.0, 0.0, np.zeros(n), 1e-6, (np.array([0]), np.array([0.2])))
    np.testing.assert_array_equal(jac[1:, 0], np.r_[jac[1, 0], np.zeros(n - 2)])  # only the banded neighbour


def test_coupled_jacobian_matches_finite_differences():
    n = 15
    z = np.linspace(0.0, L, n)
    tr = kinetics.ChannelTransport(z, LAW, 0.2, None, exclusion=True)
    tr.green = slab_green(z)
    rng = np.random.default_rng(3)
    x = 1e-4 * (1.0 + rng.random(n))
    c_old, E, T = np.full(n, 1e-4), np.full(n - 1, 3e7), np.full(n, T0)
    args = (c_old, E, T, 1.0, 0.0, np.zeros(n), 1e-6, None)
    res, jac = tr._coupled_residual(x, *args)
    fd = np.zeros((n, n))
    for k in range(n):
        d = 1e-6 * x[k]
        up, dn = x.copy(), x.copy()
        up[k] += d
        dn[k] -= d
        fd[:, k] = (tr._coupled_residual(up, *args)[0] - tr._coupled_residual(dn, *args)[0]) / (2 * d)
    far = np.abs(np.subtract.outer(np.arange(n), np.arange(n))) > 1
    assert np.abs(jac[far]).max() > 0.1 * np.abs(np.diagonal(jac, 1)).max()  # every node's ions move every flux
    np.testing.assert_allclose(jac, fd, rtol=1e-5, atol=1e-6 * np.abs(fd).max())


def poisson_boltzmann(c0: float):
    """The closed slab's equilibrium c(z) [1], solved to 1e-9 in units of L, k_B T / e and c0."""
    vt = k_B * T0 / e
    lam = e * c0 * L**2 / (EPS * OMEGA * vt)  # ψ″ = −λ c/c0 (ψ in k_B T/e, z in L)
    alpha = e * A_HOP * vt / (2 * k_B * T0 * L)  # q a E / 2 k_B T per unit −dψ/dz (same units)

    def rhs(x, y):  # y = (ψ, ψ′, ln(c/(1−c)), ∫c/c0)
        c = 1.0 / (1.0 + np.exp(-y[2]))
        return np.vstack([y[1], -lam * c / c0, (2 * L / A_HOP) * np.sinh(-alpha * y[1]), c / c0])

    def bc(ya, yb):
        return np.array([ya[0], yb[0], ya[3], yb[3] - 1.0])

    x = np.linspace(0.0, 1.0, 101)
    y = np.zeros((4, x.size))
    y[2], y[3] = np.log(c0), x
    sol = solve_bvp(rhs, bc, x, y, tol=1e-9, max_nodes=200000)
    assert sol.status == 0, sol.message
    return lambda z: 1.0 / (1.0 + np.exp(-sol.sol(z / L)[2])), lam


def relax(tr, c, steps=40, dt=1e-9):
    n = c.size
    c_m, c_s, E, T, w = np.zeros(n), np.zeros(n), np.zeros(n - 1), np.full(n, T0), np.zeros(n)
    for _ in range(steps):  # backward Euler with the step doubling: the last steps are far beyond every rate
        c, c_m, c_s = tr.step(c, c_m, c_s, E, T, dt, w)
        dt *= 2
    return c


def test_closed_slab_relaxes_to_poisson_boltzmann_at_second_order():
    c0 = 1e-5  # ψ about 2 k_B T / e: the nonlinear regime, the field's sinh argument below 0.1
    exact, lam = poisson_boltzmann(c0)
    assert lam > 10  # the ions' own potential is several k_B T / e: screening is strong
    errors = []
    for n in (11, 21, 41, 81):
        tr, c = closed_slab(n, c0)
        got = relax(tr, c)
        np.testing.assert_allclose(np.sum(tr.volume * got), c0 * L, rtol=1e-12)  # the ions are kept
        errors.append(np.max(np.abs(got - exact(tr.z))) / c0)
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[-1] < 3e-3, errors
    assert np.all(rates > 1.8), (errors, rates)
    # the ions left the slab's middle for its plates (4.4x on the default numbers): the charge-free drift would
    # have kept them uniform
    tr, c = closed_slab(41, c0, green=False)
    np.testing.assert_allclose(relax(tr, c), c0, rtol=1e-9)
    assert exact(np.array([0.0]))[0] / exact(np.array([L / 2]))[0] > 3


def test_coupled_drive_conserves_silver():
    """A closed channel (no source) whose ions drift to a metal front and reduce there, in their own field too: the
    Ag (ions, metal, pool) is kept to rounding at every step."""
    n = 41
    z = np.linspace(0.0, L, n)
    tr = kinetics.ChannelTransport(z, LAW, None, 0.5, exclusion=True)
    tr.green = slab_green(z)
    c_i, c_m, c_s = np.full(n, 1e-3), np.zeros(n), np.zeros(n)
    c_m[-3:] = 1.0
    c_i[-3:] = 0.0
    E, T, w = np.full(n - 1, 1e8), np.full(n, T0), np.zeros(n)
    w[-4] = 1.0
    total0 = tr.mass(c_i, c_m, c_s)
    dt = 1e-9
    for _ in range(30):
        c_i, c_m, c_s = tr.step(c_i, c_m, c_s, E, T, dt, w)
        assert tr.mass(c_i, c_m, c_s) == pytest.approx(total0, rel=1e-12)
        dt *= 1.5
    assert c_m[-4] > 0.01  # the ions reduced at the front (most of the channel's 0.038 per node)


def test_coupled_transient_converges_at_first_order_in_the_step():
    """Backward Euler's order: the closed slab's ions over one dielectric relaxation time ε/(e n μ) (2.5 ms here; they
    move by 1.5 c₀ in it), in 8-64 equal steps against 2048: the error halves with the step (rates within 10 % of 1)."""
    n, c0, t_end = 41, 1e-5, 2.5e-3

    def run(steps):
        tr, c = closed_slab(n, c0)
        c_m, c_s, E, T, w = np.zeros(n), np.zeros(n), np.zeros(n - 1), np.full(n, T0), np.zeros(n)
        for _ in range(steps):
            c, c_m, c_s = tr.step(c, c_m, c_s, E, T, t_end / steps, w)
        return c

    ref = run(2048)
    assert np.max(np.abs(ref - c0)) > c0  # the transient is not over
    errors = np.array([np.max(np.abs(run(k) - ref)) / c0 for k in (8, 16, 32, 64)])
    rates = np.log2(errors[:-1] / errors[1:])
    assert np.all(np.abs(rates - 1.0) < 0.1), (errors, rates)
