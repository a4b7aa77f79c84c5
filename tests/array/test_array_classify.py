"""The photonic classifier: exact photon readout against the simulator; stacked layers; the MNIST subset."""

from __future__ import annotations

import math

import numpy as np
import pytest

from devicephys.array import classify as cl
from devicephys.array.build import build_array
from devicephys.array.card import illustrative_card, neuron_from_card
from devicephys.array.simulate import simulate
from devicephys.array.spec import ArraySpec

NEURON = neuron_from_card(illustrative_card())


@pytest.fixture(scope="module")
def digits():
    xtr, xte, ytr, yte = cl.load_digits(seed=0)
    hw = cl.Hardware(photons_per_spike=30.0)
    ftr = cl.expected_counts(xtr, NEURON, hw)
    w, b, scale = cl.train(ftr, ytr, 0)
    return xte[:200], yte[:200], w, b, scale, hw


def _simulated_outputs(images, w, b, scale, hw, seed):
    k = cl.cell_coupling(8, hw, NEURON)
    photons_scale = scale * float(np.mean(np.diag(k))) / w.shape[1]
    net, volt = cl.photonic_network(images, w, b, k, NEURON, hw, photons_scale)
    t, dt = hw.timing(NEURON)
    n_in = images.size
    out = n_in + np.arange(images.shape[0] * w.shape[1])
    sim = simulate(net, t, dt, seed=seed, record=out, record_every=int(round(t / dt)) - 1, progress=False)
    return sim.trace_v[-1].reshape(images.shape[0], w.shape[1]) / volt, k


def test_noiseless_readout_equals_the_simulated_network(digits):
    x, y, w, b, scale, hw0 = digits
    hw = cl.Hardware(photons_per_spike=30.0, noise=False)
    sim, k = _simulated_outputs(x[:40], w, b, scale, hw, 0)
    counts = cl.expected_counts(x[:40], NEURON, hw)
    exact = cl.photon_readout(counts, w, b, scale, k, hw, np.random.default_rng(0))
    assert np.allclose(sim, exact, rtol=2e-5, atol=2e-5 * np.abs(exact).max())  # float32 synapses


def test_noisy_readout_has_the_simulators_accuracy(digits):
    """Same images, photon-starved hardware: the two accuracies differ by less than 3 standard errors."""
    x, y, w, b, scale, hw = digits
    sim, k = _simulated_outputs(x, w, b, scale, hw, 3)
    acc_sim = np.mean(np.argmax(sim, axis=1) == y)
    counts = cl.expected_counts(x, NEURON, hw)
    acc = np.mean(np.argmax(cl.photon_readout(counts, w, b, scale, k, hw, np.random.default_rng(4)), axis=1) == y)
    p = 0.5 * (acc + acc_sim)
    assert abs(acc - acc_sim) <= 3 * math.sqrt(2 * p * (1 - p) / len(y))
    assert acc < cl.ideal_accuracy(counts, y, w, b, scale)  # photon noise costs accuracy here


def test_stacked_layers_far_apart_are_two_single_planes():
    single = build_array(ArraySpec(nx=5, ny=5, layers=1), NEURON).network.projections[0]
    far = build_array(ArraySpec(nx=5, ny=5, layers=2, layer_spacing=1e-3), NEURON)
    proj = far.network.projections[0]
    pre = np.repeat(np.arange(50), np.diff(proj.indptr))
    assert np.all(pre // 25 == proj.indices // 25)  # no link between the layers
    for layer in (0, 1):
        assert np.array_equal(np.diff(proj.indptr[layer * 25:layer * 25 + 26]), np.diff(single.indptr))
        keep = pre // 25 == layer
        assert np.array_equal(proj.indices[keep] - 25 * layer, single.indices)
        assert np.allclose(proj.mean_photons[keep], single.mean_photons, rtol=1e-6)


def test_vertical_coupling_falls_as_inverse_square_of_the_spacing():
    mu = []
    for h in (2e-6, 4e-6):
        arr = build_array(ArraySpec(nx=3, ny=3, layers=2, layer_spacing=h, coupling_radius=1.01 * h,
                                    attenuation_length=1.0), NEURON)
        proj = arr.network.projections[0]
        pre = np.repeat(np.arange(18), np.diff(proj.indptr))
        d = arr.positions[proj.indices] - arr.positions[pre]
        vertical = np.isclose(np.abs(d[:, 2]), h) & (np.hypot(d[:, 0], d[:, 1]) < 1e-12)
        mu.append(proj.mean_photons[vertical].mean())
    assert mu[0] / mu[1] == pytest.approx(4.0 * math.exp(2e-6 / 1.0), rel=1e-5)


def test_mnist_subset_is_the_bundled_5000_images():
    xtr, xte, ytr, yte = cl.load_mnist_subset(seed=0)
    assert xtr.shape == (3500, 784) and xte.shape == (1500, 784)
    assert np.array_equal(np.bincount(ytr), np.full(10, 350)) and np.array_equal(np.bincount(yte), np.full(10, 150))
    assert 0.0 <= xtr.min() and xtr.max() == 1.0


def test_presentation_time_scales_counts_and_dark_electrons():
    """Ten times the presentation: ten times the spikes of every input level (within the one spike per period
    that a finite window cuts off, so within 10 counts), the same rate, ten times the dark electrons."""
    from devicephys.array import stack as st

    short, long = cl.Hardware(), cl.Hardware(presentation_blinks=10 * cl.Hardware.presentation_blinks)
    assert long.timing(NEURON)[0] == pytest.approx(10 * short.timing(NEURON)[0], rel=1e-12)
    x = np.linspace(0.0, 1.0, 65)
    c_short, c_long = cl.expected_counts(x, NEURON, short), cl.expected_counts(x, NEURON, long)
    assert c_short.max() >= 10 and np.all(np.abs(c_long - 10 * c_short) <= 10), np.abs(c_long - 10 * c_short).max()
    assert np.all(c_long[x < 1e-9] == 0)  # silence stays silent
    dark = [st.optics_of(st.Stack(hw), NEURON, 4).dark for hw in (short, long)]
    assert dark[1] == pytest.approx(10 * dark[0], rel=1e-12)
    with pytest.raises(Exception, match="presentation_blinks"):
        cl.Hardware(presentation_blinks=0.0)
