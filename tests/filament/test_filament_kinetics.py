"""Channel transport (NumPy): mass conservation, Scharfetter–Gummel exactness, Mott–Gurney law."""

from __future__ import annotations

import numpy as np
import pytest

from devicephys.filament import analytic, kinetics
from devicephys.units import e, eV, k_B

LAW = kinetics.HoppingLaw(hop_distance=0.5e-9, attempt_frequency=1e13, barrier=0.44 * eV,
                          dissolution_frequency=1e13, dissolution_barrier=0.52 * eV, reduction_rate=1e7)


def _grid(n=21, length=10e-9, seed=0):
    rng = np.random.default_rng(seed)
    z = np.sort(np.concatenate([[0.0, length], rng.uniform(0, length, n - 2)]))
    return z


@pytest.mark.parametrize("exclusion", [False, True])
def test_silver_mass_conserved_with_no_flux_ends(exclusion):
    rng = np.random.default_rng(1)
    z = _grid()
    tr = kinetics.ChannelTransport(z, LAW, source=None, exclusion=exclusion)
    c_m = rng.uniform(0, 1, z.size)
    c_i, c_s = rng.uniform(0, 1, z.size) * (1 - c_m), np.zeros(z.size)  # a physical state: c_i + c_m <= 1
    start = tr.mass(c_i, c_m, c_s)
    for k in range(200):
        E = rng.normal(0, 3e8, z.size - 1)
        T = rng.uniform(300, 600, z.size)
        w = tr.reduction_weight(c_m, 0.3)
        c_i, c_m, c_s = tr.step(c_i, c_m, c_s, E, T, 10 ** rng.uniform(-12, -6), w)
    assert tr.mass(c_i, c_m, c_s) == pytest.approx(start, rel=1e-12)
    assert min(c_i.min(), c_m.min(), c_s.min()) >= 0 and c_m.max() <= 1.0
    assert (c_i + c_m).max() <= 1.0 + 1e-9 or not exclusion
    assert c_s.sum() > 0  # dissolution did act


def _steady_profile(c0, n=21, E=2e7, steps=60):
    """Steady ion profile of the no-flux channel (no reactions) from the uniform fraction ``c0``."""
    law = kinetics.HoppingLaw(0.5e-9, 1e13, 0.44 * eV, 0.0, 0.52 * eV, soret_scale=0.0, reduction_rate=0.0)
    z = np.linspace(0, 10e-9, n)
    tr = kinetics.ChannelTransport(z, law, source=None, exclusion=True)
    c_i, c_m, c_s = np.full(n, c0), np.zeros(n), np.zeros(n)
    for _ in range(steps):
        c_i, c_m, c_s = tr.step(c_i, c_m, c_s, np.full(n - 1, E), np.full(n, 300.0), 1.0, np.zeros(n))
    return z, c_i, tr, law.drift_velocity(E, 300.0) / law.diffusivity(300.0)


def test_scharfetter_gummel_gives_the_exact_lattice_gas_profile():
    # No reactions, no-flux ends, uniform E and T: hops need a free site, so the steady state is the
    # Fermi–Dirac profile c / (1 − c) = K exp(v z / D), exactly at the nodes, with K fixed by the mass.
    z, c_i, tr, ratio = _steady_profile(0.4)
    mass = tr.mass(c_i, 0 * c_i, 0 * c_i)
    assert mass == pytest.approx(0.4 * 10e-9, rel=1e-12)
    lo, hi = -60.0, 60.0
    for _ in range(200):  # bisection on ln K
        mid = 0.5 * (lo + hi)
        trial = 1.0 / (1.0 + np.exp(-(mid + ratio * z)))
        lo, hi = (mid, hi) if tr.mass(trial, 0 * z, 0 * z) < mass else (lo, mid)
    expected = 1.0 / (1.0 + np.exp(-(lo + ratio * z)))
    np.testing.assert_allclose(c_i, expected, rtol=1e-8)
    assert expected[-1] / expected[0] > 3 and c_i.max() < 1  # a real gradient, and no site is over-filled


def test_scharfetter_gummel_gives_the_exact_boltzmann_profile_without_exclusion():
    # The dilute transport, no reactions, no-flux ends, uniform E and T: steady c ∝ exp(v z / D) at the nodes, exactly.
    law = kinetics.HoppingLaw(0.5e-9, 1e13, 0.44 * eV, 0.0, 0.52 * eV, soret_scale=0.0, reduction_rate=0.0)
    z = np.linspace(0, 10e-9, 21)
    tr = kinetics.ChannelTransport(z, law, source=None)
    E, T = np.full(z.size - 1, 2e7), np.full(z.size, 300.0)
    c_i, c_m, c_s = np.full(z.size, 0.1), np.zeros(z.size), np.zeros(z.size)
    for _ in range(60):
        c_i, c_m, c_s = tr.step(c_i, c_m, c_s, E, T, 1.0, np.zeros(z.size))
    expected = np.exp(law.drift_velocity(2e7, 300.0) / law.diffusivity(300.0) * z)
    expected *= c_i.sum() / expected.sum()
    np.testing.assert_allclose(c_i, expected, rtol=1e-8)
    assert expected[-1] / expected[0] > 3  # a real gradient


def test_dilute_limit_is_the_boltzmann_profile():
    # At low filling the exclusion is negligible: c ∝ exp(v z / D) to O(c).
    z, c_i, _, ratio = _steady_profile(1e-6)
    expected = np.exp(ratio * z)
    expected *= c_i.sum() / expected.sum()
    np.testing.assert_allclose(c_i, expected, rtol=1e-4)


@pytest.mark.parametrize("field", [1e9, 2e9])
def test_strong_drive_from_the_electrode_never_overfills_the_channel(field):
    # Barrier-less drift (v = a ν = 5 km/s) into a cathode that reduces at only k_r = 1e7 /s: ions
    # queue in front of it.  Every site holds at most one atom: c_i + c_m <= 1 on every node, so
    # the channel holds at most its own length of Ag; the dissolved pool c_s lies outside it.
    # The dilute transport (site_exclusion off, the default) does pile them up: what the result's
    # silver_occupancy_peak and the joint audit report.
    z = np.linspace(0, 10e-9, 26)
    E, T = np.full(z.size - 1, field), np.full(z.size, 300.0)
    dilute = kinetics.ChannelTransport(z, LAW, source=0.2, threshold=0.3)
    c_i, c_m, c_s = np.zeros(z.size), np.zeros(z.size), np.zeros(z.size)
    for _ in range(100):
        c_i, c_m, c_s = dilute.step(c_i, c_m, c_s, E, T, 1e-9, dilute.reduction_weight(c_m, 0.3))
    assert (c_i + c_m).max() > 10
    tr = kinetics.ChannelTransport(z, LAW, source=0.2, threshold=0.3, exclusion=True)
    c_i, c_m, c_s = np.zeros(z.size), np.zeros(z.size), np.zeros(z.size)
    for _ in range(100):
        c_i, c_m, c_s = tr.step(c_i, c_m, c_s, E, T, 1e-9, tr.reduction_weight(c_m, 0.3))
        assert min(c_i.min(), c_m.min()) >= 0 and (c_i + c_m).max() <= 1.0 + 1e-9
    assert tr.mass(c_i, c_m, 0 * c_s) <= z[-1] * (1 + 1e-12)
    assert kinetics.gap_length(z, c_m, 0.3) < z[-1]  # the filament did grow from the cathode


def test_strong_drive_conserves_silver_in_a_closed_channel():
    # No-flux ends, the field pushes every ion against the cathode end: the total is conserved to
    # rounding (the Newton iterate of a conservative flux form) and the ions pack at c_i + c_m = 1.
    z = _grid(seed=3)
    law = kinetics.HoppingLaw(0.5e-9, 1e13, 0.44 * eV, 0.0, 0.52 * eV, reduction_rate=1e7)  # no dissolution
    tr = kinetics.ChannelTransport(z, law, source=None, exclusion=True)
    c_i, c_m, c_s = np.full(z.size, 0.3), np.zeros(z.size), np.zeros(z.size)
    start = tr.mass(c_i, c_m, c_s)
    E, T = np.full(z.size - 1, 2e9), np.full(z.size, 400.0)
    for dt in np.geomspace(1e-12, 1e-6, 60):
        c_i, c_m, c_s = tr.step(c_i, c_m, c_s, E, T, dt, tr.reduction_weight(c_m, 0.3))
    assert tr.mass(c_i, c_m, c_s) == pytest.approx(start, rel=1e-12)
    assert (c_i + c_m).max() <= 1.0 + 1e-9 and (c_i + c_m)[-1] == pytest.approx(1.0, abs=1e-9)


def test_mott_gurney_matches_closed_form_and_einstein_relation():
    E = np.array([1e6, 1e8, 3e8])
    v = LAW.drift_velocity(E, 300.0)
    ref = analytic.mott_gurney_velocity(E, 300.0, 0.5e-9, 1e13, 0.44 * eV)
    np.testing.assert_allclose(v, ref, rtol=1e-12)
    mobility = v[0] / E[0]
    assert mobility == pytest.approx(LAW.diffusivity(300.0) * 1.602176634e-19 / (k_B * 300.0), rel=1e-6)


def test_drift_is_capped_when_the_field_removes_the_barrier():
    huge = LAW.drift_velocity(1e11, 300.0)
    assert huge == pytest.approx(0.5e-9 * 1e13, rel=1e-6)


def test_gap_and_radius_of_a_profile():
    z = np.linspace(0, 4e-9, 5)
    c = np.array([0.0, 0.0, 0.6, 1.0, 1.0])
    # below 0.3 from z=0 to halfway between nodes 1 and 2
    assert kinetics.gap_length(z, c, 0.3) == pytest.approx(1.5e-9)
    assert kinetics.filament_radius(c, 0.3, 2e-9) == pytest.approx(2e-9)
    assert kinetics.filament_radius(np.zeros(5), 0.3, 2e-9) == 0.0




RETURNING = kinetics.HoppingLaw(hop_distance=0.5e-9, attempt_frequency=1e13, barrier=0.44 * eV,
                                dissolution_frequency=1e13, dissolution_barrier=0.52 * eV, reduction_rate=1e7,
                                return_length=2e-9)


@pytest.mark.parametrize("exclusion", [False, True])
def test_silver_mass_conserved_with_the_dissolved_silver_returning(exclusion):
    def run(law):
        rng = np.random.default_rng(3)
        z = _grid()
        tr = kinetics.ChannelTransport(z, law, source=None, exclusion=exclusion)
        c_m = rng.uniform(0, 1, z.size)
        c_i, c_s = rng.uniform(0, 1, z.size) * (1 - c_m), rng.uniform(0, 0.5, z.size)
        start = tr.mass(c_i, c_m, c_s)
        for _ in range(200):
            E = rng.normal(0, 3e8, z.size - 1)
            T = rng.uniform(300, 600, z.size)
            c_i, c_m, c_s = tr.step(c_i, c_m, c_s, E, T, 10 ** rng.uniform(-12, -6), tr.reduction_weight(c_m, 0.3))
        assert tr.mass(c_i, c_m, c_s) == pytest.approx(start, rel=1e-12)
        assert min(c_i.min(), c_m.min(), c_s.min()) >= 0 and c_m.max() <= 1.0
        assert (c_i + c_m).max() <= 1.0 + 1e-9 or not exclusion
        return c_s.sum()

    assert run(RETURNING) < run(LAW)  # the field did bring dissolved Ag back


def _pool_after(law, E, duration, steps):
    """Dissolved pool ∫c_s dz after ``duration`` [s] in a uniform field E [V/m] at 300 K (no metal, no reduction)."""
    n = 11
    z = np.linspace(0, 10e-9, n)
    tr = kinetics.ChannelTransport(z, law, source=None, exclusion=True)
    c_i, c_m, c_s = np.zeros(n), np.zeros(n), np.full(n, 0.2)
    for _ in range(steps):
        c_i, c_m, c_s = tr.step(c_i, c_m, c_s, np.full(n - 1, E), np.full(n, 300.0), duration / steps, np.zeros(n))
    return float(np.dot(tr.volume, c_s)), float(np.dot(tr.volume, np.full(n, 0.2)))


def test_dissolved_silver_returns_at_the_drift_rate_and_not_without_a_field():
    # The pool decays as exp(−k t) with k = |v(E, T)| / ℓ; backward Euler reaches it at first order in dt.
    E = 3e7
    k = abs(RETURNING.drift_velocity(E, 300.0)) / RETURNING.return_length
    assert k == pytest.approx(float(RETURNING.return_rate(E, 300.0)), rel=1e-15)
    duration = 2.0 / k
    exact = np.exp(-k * duration)
    errors = []
    for steps in (20, 40, 80):
        left, start = _pool_after(RETURNING, E, duration, steps)
        errors.append(abs(left / start - exact))
    order = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(order - 1.0) < 0.1), order
    # leading term of backward Euler's error for exp(−k t): exp(−k t) (k t)² / (2 n)
    assert errors[-1] == pytest.approx(exact * (k * duration) ** 2 / (2 * 80), rel=0.1)
    left, start = _pool_after(RETURNING, 0.0, duration, 20)
    assert left == start  # no field: the dissolved Ag stays where it is
    left, start = _pool_after(LAW, E, duration, 20)
    assert left == start  # and without a return length it never comes back


def test_a_bridged_filament_takes_ions_on_the_cathode_side_of_its_neck():
    z = np.linspace(0, 10e-9, 11)
    c_m = np.array([0.9, 0.8, 0.7, 0.6, 0.35, 0.5, 0.7, 0.8, 0.9, 0.9, 0.95])  # bridged, neck at node 4
    w = kinetics.ChannelTransport(z, RETURNING, source=0.2, threshold=0.3).reduction_weight(c_m, 0.3)
    np.testing.assert_array_equal(w, (np.arange(11) >= 4).astype(float))
    # the same without the return, while the neck's forward field drives ions across it (qaE > k_B T)
    tr = kinetics.ChannelTransport(z, LAW, source=0.2, threshold=0.3)
    T = np.full(11, 300.0)
    e_drive = k_B * 300.0 / (e * LAW.hop_distance)
    E = np.zeros(10)
    E[4] = 1.01 * e_drive  # the edge from the neck towards the cathode
    np.testing.assert_array_equal(tr.reduction_weight(c_m, 0.3, E, T), (np.arange(11) >= 4).astype(float))
    # below that (or at zero bias) the bridged filament is one metal body and takes ions only at the cathode
    E[4] = 0.99 * e_drive
    np.testing.assert_array_equal(tr.reduction_weight(c_m, 0.3, E, T), (np.arange(11) == 10).astype(float))
    np.testing.assert_array_equal(tr.reduction_weight(c_m, 0.3, np.zeros(10), T), (np.arange(11) == 10).astype(float))
    # a hotter neck needs a stronger field
    E[4] = 1.01 * e_drive
    np.testing.assert_array_equal(tr.reduction_weight(c_m, 0.3, E, 2 * T), (np.arange(11) == 10).astype(float))


def test_with_the_bridged_supply_a_bridged_filament_takes_ions_on_all_its_metal():
    """``bridged_supply``: a bridged filament takes ions on every metal node, the active electrode's side of its
    neck included, driven or not; a filament that has not bridged (a stub on the cathode, one on the active
    electrode) takes them as without it."""
    z = np.linspace(0, 10e-9, 11)
    bridged = np.array([0.9, 0.8, 0.7, 0.6, 0.35, 0.5, 0.7, 0.8, 0.9, 0.9, 0.95])  # neck at node 4
    T = np.full(11, 300.0)
    E = np.zeros(10)
    E[4] = 10 * k_B * 300.0 / (e * LAW.hop_distance)  # a driven neck
    plain = kinetics.ChannelTransport(z, LAW, source=0.2, threshold=0.3)
    supplied = kinetics.ChannelTransport(z, LAW, source=0.2, threshold=0.3, bridged_supply=True)
    np.testing.assert_array_equal(plain.reduction_weight(bridged, 0.3, E, T), (np.arange(11) >= 4).astype(float))
    for field in (E, np.zeros(10)):
        np.testing.assert_array_equal(supplied.reduction_weight(bridged, 0.3, field, T), np.ones(11))
    open_gap = bridged.copy()
    open_gap[4] = 0.1  # two stubs, the gap at node 4
    np.testing.assert_array_equal(supplied.reduction_weight(open_gap, 0.3, E, T),
                                  plain.reduction_weight(open_gap, 0.3, E, T))


def test_the_smooth_neck_takes_ions_in_proportion_to_the_net_forward_share_of_its_hops():
    z = np.linspace(0, 10e-9, 11)
    c_m = np.array([0.9, 0.8, 0.7, 0.6, 0.35, 0.5, 0.7, 0.8, 0.9, 0.9, 0.95])  # bridged, neck at node 4
    tr = kinetics.ChannelTransport(z, LAW, source=0.2, threshold=0.3, smooth_neck=True)
    T = np.full(11, 300.0)
    e_drive = k_B * 300.0 / (e * LAW.hop_distance)
    cathode_side = np.arange(11) >= 4
    for ratio in (0.0, 0.5, 0.99, 1.01, 3.0, 100.0):
        E = np.zeros(10)
        E[4] = ratio * e_drive
        share = np.tanh(0.5 * ratio)  # (f - b) / (f + b) with f, b = exp(±q a E / 2 k_B T)
        f, b = np.exp(0.5 * ratio), np.exp(-0.5 * ratio)
        assert share == pytest.approx((f - b) / (f + b), rel=1e-12)
        assert tr.neck_share(c_m, E, T) == pytest.approx(share, rel=1e-12)
        w = tr.reduction_weight(c_m, 0.3, E, T)
        expected = np.where(cathode_side, share, 0.0)
        expected[-1] = 1.0  # the cathode node takes ions whatever the neck
        np.testing.assert_allclose(w, expected, rtol=1e-12, atol=0)
    # continuous across the threshold q a E = k_B T, where the threshold form jumps from 0 to 1
    below, above = (tr.neck_share(c_m, np.where(np.arange(10) == 4, r * e_drive, 0.0), T) for r in (0.99, 1.01))
    assert abs(above - below) < 0.01
    # a reverse field does not drive it; without fields (None) it counts as driven, as the threshold form
    assert tr.neck_share(c_m, np.where(np.arange(10) == 4, -5 * e_drive, 0.0), T) == 0.0
    np.testing.assert_array_equal(tr.reduction_weight(c_m, 0.3), cathode_side.astype(float))


def _escape_pool(steps: int, duration: float, E: float = 0.0):
    """A pool c_s = 0.5 beside an empty channel (no metal, no ions) after ``duration`` [s] in ``steps`` steps of
    backward Euler, at a uniform field ``E`` [V/m] and 300 K, with the return and the escape."""
    law = kinetics.HoppingLaw(0.5e-9, 1e13, 0.44 * eV, 1e13, 0.52 * eV, reduction_rate=1e7, return_length=2e-9,
                              escape=True)
    z = np.linspace(0, 10e-9, 11)
    tr = kinetics.ChannelTransport(z, law, source=None, exclusion=True)
    c_i, c_m, c_s = np.zeros(z.size), np.zeros(z.size), np.full(z.size, 0.5)
    for _ in range(steps):
        c_i, c_m, c_s = tr.step(c_i, c_m, c_s, np.full(z.size - 1, E), np.full(z.size, 300.0), duration / steps,
                                np.zeros(z.size))
    return law, tr, c_i, c_s


def test_the_escaping_pool_decays_at_d_over_l_squared():
    """At zero field nothing returns and the pool escapes at k = D/l^2: backward Euler gives (1 + k dt)^-n exactly,
    converging at first order to exp(-k t) (the error halves with the step)."""
    law, _, c_i, c_s = _escape_pool(1, 1e-6)
    k = law.diffusivity(300.0) / 2e-9**2
    assert law.escape_rate(300.0) == pytest.approx(k, rel=1e-15)
    assert 1 / k == pytest.approx(3.9e-5, rel=0.05)  # the 39 us the spec states for the default cell
    t = 40e-6
    errors = []
    for n in (10, 20, 40):
        _, _, c_i, c_s = _escape_pool(n, t)
        assert np.all(c_i == 0.0)
        np.testing.assert_allclose(c_s, 0.5 / (1 + k * t / n) ** n, rtol=1e-13)
        errors.append(abs(c_s[0] - 0.5 * np.exp(-k * t)))
    assert errors[0] / errors[1] == pytest.approx(2.0, rel=0.1) and errors[1] / errors[2] == pytest.approx(2.0, rel=0.1)


def test_the_return_and_the_escape_share_the_pool():
    """In a field both act on the pool, each at its rate, implicitly over the step: of c_s, k_ret dt / (1 + (k_ret
    + k_esc) dt) returns to the ions and k_esc dt / (1 + (k_ret + k_esc) dt) escapes; the channel's transport then
    moves the returned ions without losing any (no-flux ends, nothing to reduce on)."""
    E, dt = 3e8, 1e-9
    law, tr, c_i, c_s = _escape_pool(1, dt, E)
    k_ret, k_esc = float(law.return_rate(E, 300.0)), float(law.escape_rate(300.0))
    assert k_ret > k_esc > 0
    pool = 0.5 * tr.volume.sum()
    denominator = 1 + (k_ret + k_esc) * dt
    assert tr.mass(c_i, 0 * c_i, 0 * c_i) == pytest.approx(pool * k_ret * dt / denominator, rel=1e-12)
    assert tr.mass(0 * c_i, 0 * c_i, c_s) == pytest.approx(pool / denominator, rel=1e-12)


def test_the_bridged_transfer_is_butler_volmer_at_each_nodes_overpotential():
    """``transfer``: on a bridged filament every node's reduction weight is exp(−α e η / k_B T) and its dissolution
    factor exp((1 − α) e η / k_B T), η = φ_axis − φ_matrix; 1 and 1 at η = 0 (the transport's own k_r and k_d);
    each capped at the surface's attempt frequency; none on a filament that has not bridged or without ``transfer``."""
    z = np.linspace(0, 10e-9, 11)
    c_m = np.array([0.9, 0.8, 0.7, 0.6, 0.35, 0.5, 0.7, 0.8, 0.9, 0.9, 0.95])  # bridged, neck at node 4
    T = np.linspace(300.0, 400.0, 11)
    alpha = 0.3
    tr = kinetics.ChannelTransport(z, LAW, source=0.2, threshold=0.3, transfer=alpha)
    phi_axis = np.linspace(0.3, 0.0, 11)
    eta = np.linspace(-0.2, 0.2, 11)  # cathodic on the active electrode's side, anodic on the counter's: any pattern
    w, f = tr.transfer_factors(c_m, 0.3, phi_axis, phi_axis - eta, T)
    x = e * eta / (k_B * T)
    np.testing.assert_allclose(w, np.exp(-alpha * x), rtol=1e-12)
    np.testing.assert_allclose(f, np.exp((1 - alpha) * x), rtol=1e-12)
    np.testing.assert_allclose(w * f, np.exp((1 - 2 * alpha) * x), rtol=1e-12)  # not a constant: two branches
    w0, f0 = tr.transfer_factors(c_m, 0.3, phi_axis, phi_axis, T)
    np.testing.assert_array_equal(w0, np.ones(11))
    np.testing.assert_array_equal(f0, np.ones(11))
    # barrier-less at most: neither rate above the dissolution's attempt frequency
    w_big, f_big = tr.transfer_factors(c_m, 0.3, phi_axis, phi_axis - np.linspace(-5, 5, 11), T)
    assert np.all(LAW.reduction_rate * w_big <= LAW.dissolution_frequency * (1 + 1e-12))
    assert np.all(LAW.dissolution_rate(T) * f_big <= LAW.dissolution_frequency * (1 + 1e-12))
    assert LAW.reduction_rate * w_big[0] == pytest.approx(LAW.dissolution_frequency, rel=1e-12)
    assert LAW.dissolution_rate(T[-1]) * f_big[-1] == pytest.approx(LAW.dissolution_frequency, rel=1e-12)
    open_gap = c_m.copy()
    open_gap[4] = 0.1
    assert tr.transfer_factors(open_gap, 0.3, phi_axis, phi_axis - eta, T) is None
    plain = kinetics.ChannelTransport(z, LAW, source=0.2, threshold=0.3)
    assert plain.transfer_factors(c_m, 0.3, phi_axis, phi_axis - eta, T) is None


def test_the_transfers_rates_enter_the_step_as_their_closed_form():
    """One small backward-Euler step with no field and no gradients: the metal changes by dt (k_r w c_i − k_d f)
    on every node, the dissolved part joins the pool, and Ag is conserved."""
    z = np.linspace(0, 10e-9, 11)
    tr = kinetics.ChannelTransport(z, LAW, source=None, threshold=0.3, exclusion=True, transfer=0.5)
    c_m, c_i, c_s = np.full(11, 0.8), np.full(11, 0.05), np.zeros(11)
    T = np.full(11, 300.0)
    eta = np.linspace(-0.1, 0.1, 11)
    w, f = tr.transfer_factors(c_m, 0.3, np.zeros(11), -eta, T)
    dt = 1e-12
    ci, cm, cs = tr.step(c_i, c_m, c_s, np.zeros(10), T, dt, w, dissolve=f)
    # the zero-order dissolution as the transport linearises it, k_d c_m / (c_m + ε)
    reduced = dt * LAW.reduction_rate * w * c_i
    dissolved = dt * LAW.dissolution_rate(T) * f * c_m / (c_m + kinetics._EPS)
    # backward Euler's error is O(dt k) = 1e-4 of each term (k_r w dt <= 7e-5 here); the two nearly cancel at places
    np.testing.assert_allclose(cm - c_m, reduced - dissolved, rtol=0, atol=1e-4 * np.max(reduced + dissolved))
    np.testing.assert_allclose(cs, dissolved, rtol=1e-4)
    assert tr.mass(ci, cm, cs) == pytest.approx(tr.mass(c_i, c_m, c_s), rel=1e-13)
