"""The dissolution's Gibbs–Thomson radius dependence (``gibbs_thomson_radius``): closed form, ceiling, a thinning
body's time to percolation against its quadrature, the midpoint factor against the scheme's own step error, the
spec, and the self-rupture on the real FEM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.constants import N_A
from scipy.integrate import quad

from devicephys import materials
from devicephys.errors import SpecError
from devicephys.filament import kinetics
from devicephys.filament.simulate import _capillary
from devicephys.filament.spec import FilamentSpec
from devicephys.units import eV, k_B

LAW = kinetics.HoppingLaw(hop_distance=0.5e-9, attempt_frequency=1e13, barrier=0.44 * eV,
                          dissolution_frequency=1e13, dissolution_barrier=0.52 * eV, reduction_rate=1e7)
AG = materials.get("Ag")
GAMMA_OMEGA = AG["surface_energy"] * AG["molar_mass"] / (AG["density"] * N_A)  # [J m]
RADIUS, C_P = 2e-9, 0.3


def _transport(law=LAW, n=11):
    return kinetics.ChannelTransport(np.linspace(0.0, 10e-9, n), law, source=None, threshold=C_P, exclusion=True,
                                     capillary=(GAMMA_OMEGA, RADIUS))


def _closed_form(c, T):
    rho = RADIUS * np.sqrt(c)
    return (rho / RADIUS) * np.exp(GAMMA_OMEGA * (1 / rho - 1 / RADIUS) / (k_B * T))


def test_the_factor_is_the_cylinders_gibbs_thomson_excess_through_its_perimeter():
    tr = _transport()
    c = np.array([0.0, 0.1, 0.3, 0.45, 0.7, 1.0, 1.0, 0.9, 0.5, 0.31, 0.2])
    for T in (300.0, 350.0, 500.0):
        got = tr.capillary_factor(c, np.full(c.size, T))
        want = _closed_form(np.clip(c, C_P, 1.0), T)
        assert got == pytest.approx(want, rel=1e-13)
    # the filled channel is k_d's body; below percolation the thinnest body's radius; thinner dissolves faster
    T = np.full(c.size, 300.0)
    f = tr.capillary_factor(c, T)
    assert f[5] == 1.0 and f[0] == f[1] == f[2] == f[10]
    assert f[2] > f[3] > f[4] > f[5]
    # at 300 K: γΩ / (k_B T r_ch) = 2.58 for Ag (1.25 J/m², Ω = 1.708e-29 m³) in a 2 nm channel
    assert GAMMA_OMEGA / (k_B * 300.0 * RADIUS) == pytest.approx(2.577, abs=2e-3)
    assert f[2] == pytest.approx(np.sqrt(0.3) * np.exp(2.577 * (1 / np.sqrt(0.3) - 1)), rel=2e-3)
    # off: no factor
    plain = kinetics.ChannelTransport(np.linspace(0.0, 10e-9, 11), LAW, source=None, threshold=C_P)
    assert plain.capillary_factor(c, T) is None


def test_the_dissolution_rate_stops_at_the_barrier_less_attempt_frequency():
    slow_barrier = kinetics.HoppingLaw(0.5e-9, 1e13, 0.44 * eV, dissolution_frequency=1e6,
                                       dissolution_barrier=0.001 * eV, reduction_rate=1e7)
    tr = _transport(slow_barrier)
    c = np.full(11, 0.3)
    T = np.full(11, 300.0)
    k_dis = tr._dissolution(T, c)
    assert k_dis * (c + kinetics._EPS) == pytest.approx(np.full(11, 1e6), rel=1e-12)  # ν_d, not k_d × 4.6
    tr = _transport()
    k_d = LAW.dissolution_rate(300.0)
    assert tr._dissolution(T, c) * (c + kinetics._EPS) == pytest.approx(k_d * _closed_form(0.3, 300.0), rel=1e-12)


@pytest.mark.parametrize("T", [300.0, 400.0])
def test_a_thinning_body_reaches_percolation_at_its_quadrature_time_at_first_order(T):
    # A filled channel with no ions, no field, no return: dc/dt = -k_d g(c) c / (c + ε) (the zero-order rate's
    # regularisation), so it reaches c_p after t* = ∫_{c_p}^1 (c + ε) dc / (c k_d g(c)).  Backward Euler on the
    # linearised rate: first order in dt.
    k_d, eps = LAW.dissolution_rate(T), kinetics._EPS
    t_star = quad(lambda c: (c + eps) / (c * k_d * _closed_form(c, T)), C_P, 1.0, epsabs=0, epsrel=1e-12)[0]
    zero_order = quad(lambda c: (c + eps) / (c * k_d), C_P, 1.0, epsabs=0, epsrel=1e-12)[0]
    assert t_star < 0.8 * zero_order  # the radius dependence shortens it: 0.65 at 300 K, 0.75 at 400 K
    tr = _transport()
    n = tr.z.size
    errors = []
    for steps in (200, 400, 800):
        dt = 1.25 * t_star / steps
        c_i, c_m, c_s = np.zeros(n), np.ones(n), np.zeros(n)
        t = 0.0
        while c_m[0] > C_P:
            before = c_m[0]
            c_i, c_m, c_s = tr.step(c_i, c_m, c_s, np.zeros(n - 1), np.full(n, T), dt, np.zeros(n))
            t += dt
        crossing = t - dt * (C_P - c_m[0]) / (before - c_m[0])  # linear within the crossing step
        errors.append(abs(crossing - t_star) / t_star)
        assert tr.mass(c_i, c_m, c_s) == pytest.approx(10e-9, rel=1e-12)  # the metal went to the pool
    assert errors[-1] < 5e-3
    assert errors[0] / errors[1] == pytest.approx(2.0, abs=0.1) and errors[1] / errors[2] == pytest.approx(2.0, abs=0.1)


def test_the_spec_builds_the_capillary_from_the_active_electrodes_metal():
    spec = FilamentSpec(gibbs_thomson_radius=True)
    gamma_omega, radius = _capillary(spec)
    assert gamma_omega == pytest.approx(GAMMA_OMEGA, rel=1e-15) and radius == spec.channel_radius
    assert _capillary(FilamentSpec()) is None
    with pytest.raises(SpecError, match="gibbs_thomson_radius.*surface energy.*give interface_energy"):
        FilamentSpec(gibbs_thomson_radius=True, active_electrode="Au", counter_electrode="Au")
    # a device's own interface energy replaces the metal's surface energy (and the metal then needs none)
    gamma_omega, _ = _capillary(FilamentSpec(gibbs_thomson_radius=True, interface_energy=0.5))
    assert gamma_omega == pytest.approx(GAMMA_OMEGA * 0.5 / 1.25, rel=1e-15)
    au = materials.get("Au")
    gamma_omega, _ = _capillary(FilamentSpec(gibbs_thomson_radius=True, interface_energy=0.5, active_electrode="Au",
                                             counter_electrode="Au"))
    assert gamma_omega == pytest.approx(0.5 * au["molar_mass"] / (au["density"] * N_A), rel=1e-15)
    # the example is the default cell with the option (and the stage's holds)
    example = FilamentSpec.from_file(Path(__file__).resolve().parents[2] / "examples" / "gibbs_thomson.yaml")
    given = {"gibbs_thomson_radius", "static_threshold", "hold_biases", "hold_step_fraction"}
    assert example.gibbs_thomson_radius and example.interface_energy is None
    assert {k: v for k, v in example.model_dump().items() if k not in given} == \
        {k: v for k, v in FilamentSpec().model_dump().items() if k not in given}


@pytest.mark.fem
def test_on_the_fem_the_radius_dependence_shortens_the_self_rupture_within_its_bounds():
    """On the real FEM (fast preset, the default cell): the filament set at 2.5 V self-ruptures at 0 V sooner with
    the dissolution's radius dependence than without (no node's factor is below 1 at these temperatures), and no
    sooner than the zero-order run's time over the largest factor, the thinnest body's g(c_p) at the ambient (4.6)."""
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import simulate as sim
    from devicephys.filament import stage

    lifetimes, peaks = {}, {}
    for radius in (False, True):
        spec = FilamentSpec(**{**FilamentSpec.fast().model_dump(), "gibbs_thomson_radius": radius,
                               "field_snapshots": 0, "hold_biases": [0.0]})
        model = sim.CellModel(spec)
        stage._constant_set(model, spec, 2.5, "set", False)
        runs = stage._lifetime_runs(model, spec, (2.5, model.state()), False)
        lifetimes[radius], peaks[radius] = runs["on_lifetime"][0], runs["on_temperature_max"][0]
    assert np.isfinite(lifetimes[False]) and np.isfinite(lifetimes[True])
    largest = float(_closed_form(C_P, spec.ambient_temperature))
    assert largest == pytest.approx(4.6, abs=0.05)
    assert lifetimes[False] / largest < lifetimes[True] < lifetimes[False]
    assert max(peaks.values()) < 770.0  # where the factor stays above 1 (γΩ / k_B T r_ch > 1)


def test_the_factor_at_the_steps_midpoint_adds_no_step_error_of_its_own():
    # The same thinning body at 14 / 28 / 56 steps (the fast preset's change limit, 0.05, takes about 14 from the
    # filled channel to percolation): with the radius factor at the step's midpoint the relative error of the time to
    # percolation is the zero-order scheme's own (its backward Euler on the linearised rate) to within 5 % of it; with
    # the factor at the step's start it was half as large again (12.3 % against 8.2 % at 14 steps).
    T, eps = 300.0, kinetics._EPS
    k_d = LAW.dissolution_rate(T)

    def error(tr, g, steps):
        t_star = quad(lambda c: (c + eps) / (c * k_d * g(c)), C_P, 1.0, epsabs=0, epsrel=1e-12)[0]
        n, dt, t = tr.z.size, t_star / steps, 0.0
        c_i, c_m, c_s = np.zeros(n), np.ones(n), np.zeros(n)
        while c_m[0] > C_P:
            before = c_m[0]
            c_i, c_m, c_s = tr.step(c_i, c_m, c_s, np.zeros(n - 1), np.full(n, T), dt, np.zeros(n))
            t += dt
        return (t - dt * (C_P - c_m[0]) / (before - c_m[0])) / t_star - 1.0

    plain = kinetics.ChannelTransport(np.linspace(0.0, 10e-9, 11), LAW, source=None, threshold=C_P, exclusion=True)
    for steps in (14, 28, 56):
        scheme = error(plain, lambda c: 1.0, steps)
        assert scheme > 0.01  # the scheme's own error is there to compare with
        assert error(_transport(), lambda c: _closed_form(c, T), steps) == pytest.approx(scheme, rel=0.05)
