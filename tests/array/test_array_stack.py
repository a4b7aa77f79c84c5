"""The stacked (3-D) photonic network: couplings against closed forms, Poisson links, MNIST at the paper's accuracy."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from devicephys.array import classify as cl
from devicephys.array import optics
from devicephys.array import stack as st
from devicephys.array.card import illustrative_card, neuron_from_card
from devicephys.errors import SpecError

NEURON = neuron_from_card(illustrative_card())
PAPER = 0.9227  # reported MNIST accuracy of the 3-D photonic network


def _closed_form(side, hw, pps):
    """N_ph eta Omega / (4 pi) for every (source, cell) pair: isotropic emitter, exact rectangle solid angle."""
    a = math.sqrt(hw.fill_factor) * hw.pitch
    iy, ix = np.divmod(np.arange(side * side), side)
    out = np.zeros((side * side, side * side))
    for i in range(side * side):
        for k in range(side * side):
            dx, dy = (ix[k] - ix[i]) * hw.pitch, (iy[k] - iy[i]) * hw.pitch
            omega = optics.rectangle_solid_angle(dx - a / 2, dx + a / 2, dy - a / 2, dy + a / 2, hw.layer_spacing)
            out[i, k] = pps * hw.efficiency(NEURON) * omega / (4 * math.pi)
    return out


def test_coupling_converges_to_the_rectangle_solid_angle_at_second_order():
    """K from patch sums against the exact solid angle of each cell: midpoint-rule error falls 4x per halving."""
    hw = cl.Hardware(pitch=1e-6, layer_spacing=0.5e-6, coupling_radius_pitches=10.0)
    exact = _closed_form(4, hw, 100.0)
    err = [np.abs(cl.cell_coupling(4, hw, NEURON, 100.0, n_sub=n) / exact - 1).max() for n in (4, 8, 16)]
    assert 3.5 < err[0] / err[1] < 4.5 and 3.5 < err[1] / err[2] < 4.5
    assert err[2] < 2e-3


def test_small_cells_far_away_follow_inverse_square_and_cos_cubed():
    """a << H: K_ii -> N eta a^2 / (4 pi H^2) and K_ik / K_ii -> (1 + d^2 / H^2)^(-3/2) (isotropic emitter)."""
    hw = cl.Hardware(pitch=1e-6, fill_factor=0.01, layer_spacing=20e-6, coupling_radius_pitches=10.0)
    k = cl.cell_coupling(3, hw, NEURON, 1000.0)
    h, a2 = hw.layer_spacing, hw.fill_factor * hw.pitch**2
    assert k[0, 0] == pytest.approx(1000.0 * hw.efficiency(NEURON) * a2 / (4 * math.pi * h**2), rel=1e-4)
    d = math.hypot(2e-6, 2e-6)  # corner to corner of the 3 x 3 grid
    assert k[0, 8] / k[0, 0] == pytest.approx((1 + d**2 / h**2) ** -1.5, rel=1e-4)


def test_crosstalk_grows_with_spacing_and_skip_light_crosses_plane_one():
    base = cl.Hardware(photons_per_spike=100.0)
    ratios = []
    for h in (0.5e-6, 1e-6, 2e-6):
        op = st.optics_of(st.Stack(replace(base, layer_spacing=h), hidden_side=4), NEURON, 6)
        ratios.append((op.k1.sum() - np.trace(op.k1)) / np.trace(op.k1))
    assert ratios[0] < ratios[1] < ratios[2]
    stack = st.Stack(base, hidden_side=4, spacing2=0.7e-6)
    op = st.optics_of(stack, NEURON, 6)
    t = st.plane_transmittance(base, NEURON)
    assert 1 - base.fill_factor < t < 1
    direct = st.grid_coupling(6, 4, 0.5e-6 + 0.7e-6, replace(base, coupling_radius_pitches=20.0), NEURON)
    assert np.allclose(op.k02, t * direct, rtol=1e-12)
    assert st.optics_of(stack.ideal(), NEURON, 6).k02 is None  # no crosstalk, no skip light


@pytest.mark.parametrize("subtract", [False, True])
def test_photoelectron_counts_are_poisson_with_the_coupling_mean(subtract):
    """One image presented 4000 times: plane-1 counts have mean counts K1 + dark electrons and Fano factor 1;
    with dark subtraction the mean dark count is taken off (mean counts K1) and its shot noise stays
    (variance counts K1 + dark)."""
    hw = cl.Hardware(photons_per_spike=30.0, dark_subtraction=subtract)
    op = st.optics_of(st.Stack(hw, hidden_side=4), NEURON, 6)
    counts = np.tile(np.arange(36, dtype=float) % 7, (4000, 1))
    wt = st.initial_weights(36, 16, 3, np.random.default_rng(0))
    _, x1, _, _ = st.forward(counts, wt, op, st.transfer_of(NEURON, hw), hw, np.random.default_rng(1), 6.0,
                             keep=True)
    n1 = x1 * op.mu1 * 6.0 + (op.dark if subtract else 0.0)  # the cells' electron counts
    t, _ = hw.timing(NEURON)
    assert op.dark == pytest.approx(hw.receiver().dark_current * t / 1.602176634e-19, rel=1e-12)
    mean = counts[0] @ op.k1 + op.dark  # photoelectrons and the receiver's dark electrons
    assert np.allclose(n1, np.rint(n1), atol=1e-3)  # whole electrons
    assert np.all(np.abs(n1.mean(axis=0) - mean) <= 4.5 * np.sqrt(mean / 4000))
    fano = n1.var(axis=0, ddof=1) / n1.mean(axis=0)
    assert abs(fano.mean() - 1) < 4 * math.sqrt(2 / 3999 / 36)


def test_hidden_transfer_is_the_simulated_spike_count():
    hw = cl.Hardware()
    f = st.transfer_of(NEURON, hw, points=17)
    v_fire = NEURON.firing_voltage("blinking")
    ref = cl.rate_curve(NEURON, (hw.level_low + f.a * (hw.level_high - hw.level_low)) * v_fire, *hw.timing(NEURON))
    assert np.array_equal(f(f.a), ref) and np.all(np.diff(f.counts) >= 0) and f.counts[-1] > 5
    assert np.all(f.derivative(np.array([-0.1, 1.1])) == 0)


def test_bad_stack_input_is_refused():
    with pytest.raises(SpecError, match="hidden_side"):
        st.Stack(hidden_side=1)
    with pytest.raises(SpecError, match="spacing2"):
        st.Stack(spacing2=-1e-6)
    with pytest.raises(SpecError, match="differ by an even number"):
        st.grid_coupling(5, 4, 1e-6, cl.Hardware(), NEURON)
    with pytest.raises(SpecError, match=r"need about [0-9.]+ GiB but 0.0931 GiB are available; use fewer inputs"):
        st.optics_of(st.Stack(), NEURON, 300, memory_limit=100_000_000)


def test_coupling_depends_on_geometry_ratios_only():
    """No attenuation: scaling pitch and spacing together leaves every solid angle, hence K, unchanged."""
    small = cl.cell_coupling(5, cl.Hardware(pitch=0.5e-6, layer_spacing=0.5e-6), NEURON, 10.0)
    large = cl.cell_coupling(5, cl.Hardware(pitch=1e-6, layer_spacing=1e-6), NEURON, 10.0)
    assert np.allclose(small, large, rtol=1e-12, atol=0)


@pytest.fixture(scope="module")
def mnist():
    xtr, xte, ytr, yte = cl.load_mnist_subset(seed=0)
    hw = cl.Hardware()
    ftr, fte = cl.expected_counts(xtr, NEURON, hw), cl.expected_counts(xte, NEURON, hw)
    scale = float(ftr.max())
    f = st.transfer_of(NEURON, hw)
    ideal = st.Stack(hw).ideal()
    op = st.optics_of(ideal, NEURON, 28)
    w = st.train(ftr, ytr, op, f, ideal.hw, scale=scale, seed=0)
    return ftr, fte, ytr, yte, scale, f, w, st.accuracy(fte, yte, w, op, f, ideal.hw, scale)


def test_mnist_ideal_3d_network_reaches_the_paper(mnist):
    """Bundled MNIST subset (3500 / 1500): the ideal 3-D network's accuracy is at least the paper's 92.27 %."""
    *_, acc = mnist
    assert acc >= PAPER, f"ideal {acc:.4f} (standard error {math.sqrt(acc * (1 - acc) / 1500):.4f})"


def test_mnist_at_1um_pitch_with_enough_photons_reaches_the_paper(mnist):
    """1 um pitch, 0.5 um spacing, 1e3 photons/spike, Poisson noise, crosstalk, skip light: trained in the loop,
    at least 92.27 % and within 3 standard errors of the ideal network."""
    ftr, fte, ytr, yte, scale, f, w, ideal = mnist
    hw = cl.Hardware(photons_per_spike=1e3)
    op = st.optics_of(st.Stack(hw), NEURON, 28)
    tuned = st.train(ftr, ytr, op, f, hw, scale=scale, start=w, epochs=4, seed=1)
    acc = st.accuracy(fte, yte, tuned, op, f, hw, scale, seed=2)
    se = math.sqrt(ideal * (1 - ideal) / len(yte))
    assert acc >= PAPER and abs(acc - ideal) <= 3 * math.sqrt(2) * se, f"{acc:.4f} vs ideal {ideal:.4f}"


def test_mnist_with_the_cards_photons_over_a_longer_presentation_reaches_the_paper(mnist):
    """The illustrative card's own 0.44 photons per spike, 1 um pitch, h = 0.5 um, Poisson photons, dark electrons,
    crosstalk, skip light: a presentation of 5000 first-blink times (100 times the default, 255 us) collects 100
    times the photoelectrons, and the network trained in the loop reaches the paper's 92.27 %.  The ideal gains of
    the default presentation are the starting point (they act on counts over the largest count).  Measured (same
    seeds): 42.6 % at 50, 92.5 % at 3000 first-blink times (ideal 93.5 %)."""
    *_, w, _ = mnist
    xtr, xte, ytr, yte = cl.load_mnist_subset(seed=0)
    hw = cl.Hardware(presentation_blinks=5000.0)
    ftr, fte = cl.expected_counts(xtr, NEURON, hw), cl.expected_counts(xte, NEURON, hw)
    scale = float(ftr.max())
    f = st.transfer_of(NEURON, hw)
    op = st.optics_of(st.Stack(hw), NEURON, 28)
    assert op.dark == pytest.approx(100 * st.optics_of(st.Stack(cl.Hardware()), NEURON, 28).dark, rel=1e-12)
    tuned = st.train(ftr, ytr, op, f, hw, scale=scale, start=w, epochs=4, seed=1)
    acc = st.accuracy(fte, yte, tuned, op, f, hw, scale, seed=2)
    assert acc >= PAPER, f"{acc:.4f} (standard error {math.sqrt(acc * (1 - acc) / len(yte)):.4f})"


def test_spiking_simulator_delivers_the_stack_link_photoelectrons():
    """The plane-0 -> plane-1 link in the spike-by-spike simulator: 300 copies of one 6 x 6 image give each
    cell Poisson photoelectrons with mean (input spike counts) K1, each adding the receiver's charge / C."""
    from devicephys.array.simulate import simulate

    hw = cl.Hardware(photons_per_spike=20.0)
    op = st.optics_of(st.Stack(hw, hidden_side=4), NEURON, 6)
    image = (np.arange(36) % 5) / 4.0
    copies = np.tile(image, (300, 1))
    net, volt = st.link_network(copies, op.k1, NEURON, hw)
    t, dt = hw.timing(NEURON)
    n_in = copies.size
    r = simulate(net, t, dt, seed=5, record=n_in + np.arange(copies.size), record_every=int(round(t / dt)) - 1,
                 progress=False)
    got = r.detected_photons[n_in:].reshape(300, 36)
    mean = cl.expected_counts(image[None, :], NEURON, hw)[0] @ op.k1
    assert np.all(np.abs(got.mean(axis=0) - mean) <= 4.5 * np.sqrt(mean / 300))
    fano = got.var(axis=0, ddof=1) / got.mean(axis=0)
    assert abs(fano.mean() - 1) < 4 * math.sqrt(2 / 299 / 36)
    assert np.allclose(r.trace_v[-1].reshape(300, 36), got * volt, rtol=1e-5, atol=1e-5 * volt)
