"""Nanoscale conduction laws against closed forms: Landauer staircase, Sharvin, size effect, Simmons (NumPy)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import jn_zeros

from devicephys import materials
from devicephys.filament import conduction as cd
from devicephys.filament.kinetics import gap_length
from devicephys.units import G0, e, eV, h, m_e

AG = materials.get("Ag")
K_F = AG["fermi_wavevector"]


def test_conductance_quantum():
    assert G0 == pytest.approx(77.48e-6, rel=1e-4)
    assert 1 / G0 == pytest.approx(12906.4, rel=1e-5)


def test_landauer_staircase_of_a_circular_constriction():
    # Modes open at the Bessel zeros j_{m,n} = k_F a, m = 0 once and m >= 1 twice (±m):
    # 2.405 (N=1), 3.832 (3), 5.136 (5), 5.520 (6), 6.380 (8), 7.016 (10).
    edges = [jn_zeros(0, 1)[0], jn_zeros(1, 1)[0], jn_zeros(2, 1)[0], jn_zeros(0, 2)[1], jn_zeros(3, 1)[0],
             jn_zeros(1, 2)[1]]
    plateaus = [1, 3, 5, 6, 8, 10]
    mids = [0.5 * (a + b) for a, b in zip(edges, edges[1:] + [7.5])]
    radii = np.array([2.0] + mids) / K_F
    np.testing.assert_array_equal(cd.mode_count(radii, K_F), [0] + plateaus)
    # the smoothed count sits on the plateaus (the narrowest, 5.14-5.52, is 9.6 widths from each edge:
    # logistic tails exp(-9.6) ~ 7e-5) and is monotonic in between
    np.testing.assert_allclose(cd.smooth_mode_count(radii[1:], K_F, width=0.02), plateaus, atol=2e-4)
    a = np.linspace(0.1e-9, 1.0e-9, 400)
    assert np.all(np.diff(cd.smooth_mode_count(a, K_F)) > 0)
    # G = N G0 for the prescribed constriction
    np.testing.assert_allclose(1 / cd.contact_resistance(radii[1:], K_F, width=0.02), np.array(plateaus) * G0,
                               rtol=1e-4)


def test_mode_count_follows_weyl_and_sharvin_at_large_radius():
    ka = np.linspace(40, 80, 2001)
    staircase = cd.mode_count(ka / K_F, K_F)
    # the staircase scatters about Weyl's law by O(ka) modes; its mean agrees with it to about 1 %
    ratio = np.mean(staircase / cd.weyl_mode_count(ka / K_F, K_F))
    assert ratio == pytest.approx(1.0, abs=0.01)
    # Sharvin's (k_F a/2)^2 is the leading term: the perimeter correction is 2/(k_F a)
    a = 60 / K_F
    assert cd.weyl_mode_count(a, K_F) / cd.sharvin_mode_count(a, K_F) == pytest.approx(1 - 2 / 60, rel=1e-12)


def test_sharvin_resistance_equals_four_thirds_rho_lambda_over_area():
    # Free electrons: 1/(G0 (k_F a/2)^2) = (4/3) rho lambda / (pi a^2) with rho lambda = 3 pi / (G0 k_F^2).
    # k_F (Ashcroft-Mermin) and rho lambda (CRC rho, Gall's lambda) are independent sources: they agree to 1 %.
    rho_lambda = AG["mean_free_path"] / AG["electrical_conductivity"]
    assert rho_lambda == pytest.approx(3 * math.pi / (G0 * K_F**2), rel=0.01)


def test_size_effect_limits():
    lam = AG["mean_free_path"]
    assert cd.size_effect_factor(1e3 * lam, lam) == pytest.approx(1 + 0.75e-3, rel=1e-12)  # bulk
    assert cd.size_effect_factor(lam, lam, specularity=1.0) == 1.0  # specular surfaces: no size effect
    # thin-wire limit: the mean free path is limited to 4d/3
    d = 1e-3 * lam
    assert cd.size_effect_factor(d, lam) * d / lam == pytest.approx(0.75, rel=2e-3)


def test_filament_resistance_is_contact_plus_wire():
    rho = 1 / AG["electrical_conductivity"]
    lam = AG["mean_free_path"]
    a = 1e-9
    assert cd.filament_resistance(a, 0.0, rho, lam, K_F) == pytest.approx(float(cd.contact_resistance(a, K_F)))
    long = cd.filament_resistance(a, 1e-6, rho, lam, K_F)
    wire = rho * (1 + 0.75 * lam / (2 * a)) * 1e-6 / (math.pi * a**2)
    assert long == pytest.approx(wire + float(cd.contact_resistance(a, K_F)), rel=1e-12)


@pytest.mark.parametrize("gap", [1e-9, 2e-9])
def test_simmons_matches_intermediate_voltage_closed_form(gap):
    phi0 = 1.76 * eV
    v = np.array([0.01, 0.1, 0.5, 1.0, 1.5])  # eV < phi0
    np.testing.assert_allclose(cd.simmons_current_density(v, gap, phi0), cd.simmons_intermediate(v, gap, phi0),
                               rtol=0.01)


def test_simmons_low_voltage_limit():
    gap, phi0, v = 1.5e-9, 1.76 * eV, 1e-4
    j = float(cd.simmons_current_density(v, gap, phi0))
    assert j / v == pytest.approx(cd.simmons_low_voltage_conductance(gap, phi0), rel=0.01)
    # Simmons' printed low-voltage law, to the next order 2/(A sqrt(phi0))
    a_root = 4 * math.pi * gap * math.sqrt(2 * m_e * phi0) / h
    printed = math.sqrt(2 * m_e * phi0) / gap * (e / h) ** 2 * math.exp(-a_root)
    assert j / v == pytest.approx(printed * (1 - 2 / a_root), rel=0.01)


def test_simmons_with_image_force():
    gap, phi0, k = 1.5e-9, 1.76 * eV, 2.6
    for v in (0.01, 0.5, 1.0):
        mean, width = cd.barrier_mean(v, gap, phi0, k)
        lam = cd.image_strength(gap, k)
        s1 = (gap - width) / 2 if v == 0 else None  # noqa: F841 (turning points found below)
        # turning points are zeros of the barrier, and the mean is its exact integral between them
        xs = np.linspace(1e-14, gap - 1e-14, 200001)
        phi = cd.barrier_profile(xs, v, gap, phi0, k)
        inside = xs[phi > 0]
        lo, hi = inside[0], inside[-1]
        assert hi - lo == pytest.approx(width, abs=2 * (xs[1] - xs[0]))
        exact = (phi0 * (hi - lo) - e * v * (hi**2 - lo**2) / (2 * gap)
                 - 1.15 * lam * gap * math.log(hi * (gap - lo) / (lo * (gap - hi)))) / (hi - lo)
        assert mean == pytest.approx(exact, rel=1e-3)
    # the barrier collapses (top at or below the Fermi level) exactly where a dense grid says so (tops of
    # -0.03 to +0.24 eV here)
    for gap_c, v in ((0.5e-9, 0.05), (0.55e-9, 0.05), (0.6e-9, 0.5), (1e-9, 2.0), (1e-9, 2.5), (1.5e-9, 3.0)):
        xs = np.linspace(1e-3, 1 - 1e-3, 100001) * gap_c
        top = float(np.max(cd.barrier_profile(xs, v, gap_c, phi0, k)))
        mean, width = cd.barrier_mean(v, gap_c, phi0, k)
        assert (width == 0.0) == (top <= 0.0), (gap_c, v, top, width)
    # the image force lowers the barrier: more current; the current is odd in V
    j_img, j_bare = cd.simmons_current_density([0.5, -0.5], gap, phi0, k), cd.simmons_current_density(0.5, gap, phi0)
    assert j_img[0] > 10 * j_bare
    assert j_img[1] == pytest.approx(-j_img[0], rel=1e-12)


def test_channel_gap_conductivity_integrates_to_the_gap_conductance():
    ch = cd.ChannelConduction(2e-9, 0.3, 0.003, K_F, 1.76 * eV, 2.6)
    z = np.linspace(0, 9e-9, 91)
    c = np.where(z > 1.5e-9, 1.0, 0.0)
    gap = gap_length(z, c, 0.3)
    d_eff = ch.insulating_length(z, c)
    assert d_eff == pytest.approx(gap, rel=0.02)  # a sharp crossover: the insulating length is the gap
    g_gap, g_contact = ch.gap_conductance(gap, 0.5, c)
    assert g_contact == pytest.approx(float(cd.smooth_mode_count(2e-9, K_F)) * G0)
    assert ch.gap_conductivity(z, c, gap, 0.5) * ch.area / d_eff == pytest.approx(g_gap, rel=1e-12)
    g_t = cd.tunnel_conductance(0.5, gap, 1.76 * eV, 2.6, math.pi * (2e-9) ** 2)
    assert 1 / g_gap == pytest.approx(1 / g_t + 1 / g_contact, rel=1e-12)
    # bridged: only the point contact remains
    assert ch.gap_conductance(0.0, 0.5, np.ones_like(z))[0] == pytest.approx(g_contact)


def test_backbone_contact_thins_through_the_single_mode_contact():
    """With the conducting share ((c_n − c_p)/(1 − c_p))^t of the neck (t = 2, 3-D percolation) the contact of a
    2 nm channel (144 modes when full) passes through one mode, G₀, as the neck's metal fraction c_n falls to c_p;
    the compact neck r_ch √c_n keeps at least r_ch √c_p (about 40 modes)."""
    r_ch, c_p, w = 2e-9, 0.3, 0.03
    compact = cd.ChannelConduction(r_ch, c_p, w, K_F, 1.76 * eV, 2.6)
    backbone = cd.ChannelConduction(r_ch, c_p, w, K_F, 1.76 * eV, 2.6, exponent=2.0)
    full = np.ones(5)
    assert backbone.neck_radius(full) == pytest.approx(r_ch, rel=1e-12) == compact.neck_radius(full)
    # far above the threshold the softplus is the plain difference: a = r_ch (c_n - c_p)/(1 - c_p) for t = 2
    c_n = np.array([1.0, 0.65, 1.0])
    assert backbone.neck_radius(c_n) == pytest.approx(r_ch * (0.65 - c_p) / (1 - c_p), rel=1e-5)
    assert compact.neck_radius(c_n) == pytest.approx(r_ch * math.sqrt(0.65), rel=1e-12)
    grid = np.linspace(c_p, 1.0, 701)
    radii = np.array([backbone.neck_radius(np.array([1.0, c, 1.0])) for c in grid])
    assert np.all(np.diff(radii) > 0)  # monotone: more metal, a wider backbone
    modes = cd.smooth_mode_count(radii, K_F)
    assert modes[0] < 0.01 and modes[-1] > 100  # closed at c_p, the full channel's modes at 1
    assert np.any((modes > 0.9) & (modes < 1.1))  # through the first plateau, N = 1
    assert float(cd.smooth_mode_count(compact.neck_radius(np.array([c_p])), K_F)) > 30
    # smooth across the threshold (the softplus), never negative
    assert cd.backbone_share(c_p - 0.1, c_p, w, 2.0) == pytest.approx((w * math.log1p(math.exp(-0.1 / w)) / 0.7) ** 2)
    assert cd.backbone_share(c_p + 0.5, c_p, w, 2.0) == pytest.approx((0.5 / 0.7) ** 2, rel=1e-6)
