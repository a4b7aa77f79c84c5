"""A stacked (3-D) photonic network of blinking neurons: input plane, hidden plane, readout plane.

Geometry (all planes square grids of pitch p, centred on one vertical axis):

* plane 0 (z = 0): one blinking input neuron per pixel (``side0`` x ``side0``),
  driven as in :mod:`devicephys.array.classify` (pixel -> drive voltage -> spike count);
* plane 1 (z = h1): a detector cell facing down above every input neuron
  (the receiver of :class:`~devicephys.array.classify.Hardware`), and a
  ``side1`` x ``side1`` grid of hidden blinking neurons;
* plane 2 (z = h1 + h2): a detector cell facing down above every hidden neuron
  and one charge integrator per class.

Links.  Every spike of input i sends Poisson photoelectrons with mean K1[i, k]
into cell k of plane 1 (K1 from geometry, :func:`devicephys.array.classify.cell_coupling`;
the off-diagonal entries are crosstalk to non-target cells in the plane above).
Each cell's photocurrent is fanned out by programmable gains (the trained
weights W1) onto the integrating capacitors of the hidden neurons: a photon
count is detected once and weighted many times, so the fan-out adds no
photon noise.  The gains are electrical: where the charge per photoelectron
that a hidden neuron needs (:func:`required_gain`) exceeds the receiver's
own gain, an amplifier sits between the cell and the hidden neurons.  Operation is pipelined: during one presentation time T the
integrators collect charge; during the next, each integrator's voltage
drives its hidden neuron, which blinks s1 = f(a) times (f: the device's spike
count in T versus drive, from the simulator, a staircase).  Hidden spikes
reach the cells of plane 2 with mean K2[j, k] (crosstalk likewise); input
spikes also reach plane 2 through plane 1 (skip-layer crosstalk, mean K02,
attenuated by plane 1's mean transmittance 1 - fill x absorbed fraction).
Every cell also counts Poisson dark electrons (the receiver's dark current
over one presentation); with ``Hardware.dark_subtraction`` (default) each
cell's integrator is offset by the mean dark charge, calibrated with the
emitters off (an image sensor's dark-frame subtraction), so only the dark
shot noise remains.  The class is the integrator with the largest voltage.

Pre-activations are in units of input spikes: photoelectrons divided by the
intended link's mean K[k, k] (``mu1``, ``mu2``); the drive of hidden neuron
j is V_fire (level_low + clip(a_j, 0, 1) (level_high - level_low)), the same
converter range as the input neurons.

Training (:func:`train`): mini-batch Adam on the cross entropy, forward pass
through the device staircase f and the Poisson photoelectron draws of the
hardware (fresh draws every epoch: the network learns the photon noise and
the crosstalk it meets), backward pass through the expected values (the
straight-through estimator; f's slope from the long-time rate of the same
neuron).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from devicephys.array import classify as cl
from devicephys.array import network as nw
from devicephys.array.card import DeviceNeuron
from devicephys.errors import SpecError
from devicephys.io import available_memory
from devicephys.units import e


@dataclass(frozen=True)
class Stack:
    """Geometry and device of the stacked network (SI units).

    Parameters
    ----------
    hw : Hardware
        Pitch [m], plane-0 to plane-1 spacing ``hw.layer_spacing`` [m], receiver,
        photons per spike, noise and crosstalk switches (shared by both links).
    hidden_side : int
        Hidden neurons per side of plane 1 (``hidden_side``^2 neurons).
    spacing2 : float or None
        Plane-1 to plane-2 spacing [m]; None: the same as ``hw.layer_spacing``.
    skip_crosstalk : bool
        Input light reaching plane 2 through plane 1 (only when ``hw.crosstalk``; the
        grids are centred on each other, so their sides must differ by an even number).
    """

    hw: cl.Hardware = cl.Hardware()
    hidden_side: int = 16
    spacing2: float | None = None
    skip_crosstalk: bool = True

    def __post_init__(self):
        if not isinstance(self.hidden_side, (int, np.integer)) or not 2 <= self.hidden_side <= 64:
            raise SpecError(f"Stack.hidden_side must be an integer in [2, 64], got {self.hidden_side!r}")
        if self.spacing2 is not None and not self.spacing2 > 0:
            raise SpecError(f"Stack.spacing2 must be > 0 m, got {self.spacing2!r}")

    @property
    def h2(self) -> float:
        """Plane-1 to plane-2 spacing [m]."""
        return self.hw.layer_spacing if self.spacing2 is None else self.spacing2

    def ideal(self) -> Stack:
        """The same stack without photon noise and crosstalk."""
        return replace(self, hw=replace(self.hw, noise=False, crosstalk=False))


def grid_coupling(src_side: int, det_side: int, height: float, hw: cl.Hardware, neuron: DeviceNeuron,
                  n_sub: int = 8) -> np.ndarray:
    """Mean photoelectrons per spike from each source of a ``src_side``^2 grid into each detector cell
    of a ``det_side``^2 grid a ``height`` [m] above (both of pitch ``hw.pitch``, centred), shape
    (src_side^2, det_side^2).  Same-size grids give :func:`~devicephys.array.classify.cell_coupling`.
    """
    if (src_side - det_side) % 2:
        raise SpecError(f"grid sides {src_side} and {det_side} must differ by an even number (centred grids)")
    side = max(src_side, det_side)
    k = cl.cell_coupling(side, replace(hw, layer_spacing=height), neuron, n_sub=n_sub)
    return k[np.ix_(_centred(src_side, side), _centred(det_side, side))]


def _centred(inner: int, outer: int) -> np.ndarray:
    """Indices of the centred ``inner``^2 sub-grid of an ``outer``^2 grid (row-major)."""
    o = (outer - inner) // 2
    iy, ix = np.divmod(np.arange(inner * inner), inner)
    return (iy + o) * outer + ix + o


@dataclass
class Optics:
    """The expected couplings of a :class:`Stack` [photoelectrons per spike], their normalisations
    ``mu1``, ``mu2`` (the intended links' K[k, k]) and ``dark``, the mean dark electrons of one cell in
    one presentation (the receiver's dark current x presentation time / e) [1]."""

    k1: np.ndarray
    k2: np.ndarray
    k02: np.ndarray | None
    mu1: float
    mu2: float
    dark: float = 0.0


def optics_memory(side0: int, hidden_side: int) -> int:
    """Bytes :func:`optics_of` holds at its peak: dense float64 K1, K2, K02 and the widest
    :func:`~devicephys.array.classify.cell_coupling` intermediate (side^4 pairs, and 64 patches per offset)."""
    n0, n1 = side0 * side0, hidden_side * hidden_side
    side = max(side0, hidden_side)
    return 8 * (2 * n0 * n0 + n1 * n1 + 2 * n0 * n1 + 3 * 64 * (2 * side) ** 2 * 4)


def optics_of(stack: Stack, neuron: DeviceNeuron, side0: int, memory_limit: int | None = None) -> Optics:
    """Couplings K1 (plane 0 -> 1), K2 (hidden -> plane 2) and K02 (plane 0 -> 2, through plane 1).

    Every source-cell pair of the planes is kept (no coupling radius): the
    crosstalk of a wide spacing reaches far.  Detectors face down, so a source
    in a detector's own plane does not reach it (cos alpha = 0).

    Raises
    ------
    SpecError
        When the dense couplings (:func:`optics_memory`) exceed ``memory_limit``
        [B] (default: the memory available now).
    """
    need = optics_memory(side0, stack.hidden_side)
    have = available_memory() if memory_limit is None else int(memory_limit)
    if need > have:
        raise SpecError(f"the stack's optics ({side0}^2 inputs, {stack.hidden_side}^2 hidden neurons) need about "
                        f"{need / 2**30:.3g} GiB but {have / 2**30:.3g} GiB are available; use fewer inputs "
                        f"(downsample the images) or a smaller Stack.hidden_side")
    hw = replace(stack.hw, coupling_radius_pitches=2.0 * max(side0, stack.hidden_side))  # every pair
    k1 = cl.cell_coupling(side0, hw, neuron)
    k2 = cl.cell_coupling(stack.hidden_side, replace(hw, layer_spacing=stack.h2), neuron)
    mu1, mu2 = float(np.mean(np.diag(k1))), float(np.mean(np.diag(k2)))
    k02 = None
    if hw.crosstalk and stack.skip_crosstalk:
        k02 = plane_transmittance(hw, neuron) * grid_coupling(side0, stack.hidden_side,
                                                              hw.layer_spacing + stack.h2, hw, neuron)
    if not hw.crosstalk:
        k1, k2 = np.diag(np.diag(k1)), np.diag(np.diag(k2))
    dark = hw.receiver().dark_current * hw.timing(neuron)[0] / e
    return Optics(k1, k2.astype(np.float32), k02, mu1, mu2, dark)


def plane_transmittance(hw: cl.Hardware, neuron: DeviceNeuron) -> float:
    """Fraction of the light crossing plane 1 [1]: 1 - fill + fill (1 - R) exp(-alpha t) over the spectrum.

    The detector film passes (1 - R) - eta / zeta (reflection at the peak wavelength,
    eta the spectrally averaged quantum efficiency, zeta the collection efficiency);
    the rest of the cell (1 - fill) is taken as transparent (an upper bound on the skip crosstalk).
    """
    rec = hw.receiver()
    passed = (1.0 - float(rec.reflectance(neuron.peak_wavelength))) - hw.efficiency(neuron) / rec.collection_efficiency
    return 1.0 - hw.fill_factor + hw.fill_factor * max(passed, 0.0)


@dataclass
class Transfer:
    """The hidden neuron's spike count in one presentation [1] versus its drive fraction a in [0, 1] [1].

    ``counts`` tabulated at the drive fractions ``a`` (a drive between levels takes the
    nearest); ``slope`` d(count)/da of the smooth ramp, for the backward pass only.
    """

    a: np.ndarray
    counts: np.ndarray
    slope: np.ndarray

    def __call__(self, a: np.ndarray) -> np.ndarray:
        idx = np.rint(np.clip(a, 0.0, 1.0) * (self.a.size - 1)).astype(np.int64)
        return self.counts[idx]

    def derivative(self, a: np.ndarray) -> np.ndarray:
        inside = (a > 0.0) & (a < 1.0)
        return np.interp(a, self.a, self.slope) * inside


def transfer_of(neuron: DeviceNeuron, hw: cl.Hardware, points: int = 129) -> Transfer:
    """The staircase f(a) from the simulator, and the slope of the ramp through its steps' midpoints.

    The ramp passes through (a at which the count first reaches n, n - 1/2): the
    smooth rate the staircase samples, used only for the backward pass.
    """
    a = np.linspace(0.0, 1.0, points)
    v_fire = neuron.firing_voltage("blinking")
    drive = (hw.level_low + a * (hw.level_high - hw.level_low)) * v_fire
    counts = cl.rate_curve(neuron, drive, *hw.timing(neuron))
    jump = np.flatnonzero(np.diff(counts) > 0) + 1
    if jump.size < 2:
        raise SpecError(f"the blinking neuron fires fewer than 2 distinct counts over the drive range "
                        f"{hw.level_low}..{hw.level_high} x V_fire; raise Hardware.level_high or presentation_time")
    ramp = np.interp(a, a[jump], counts[jump] - 0.5)
    slope = np.gradient(ramp, a)
    slope[a < a[jump[0]]] = 0.0
    return Transfer(a, counts.astype(np.float32), slope.astype(np.float32))


@dataclass
class Weights:
    """Trained programmable gains: W1 [n_in, n_hidden], b1 [n_hidden], W2 [n_hidden, n_class], b2 [n_class]."""

    w1: np.ndarray | None
    b1: np.ndarray | None
    w2: np.ndarray
    b2: np.ndarray

    def copy(self) -> Weights:
        return Weights(*(None if p is None else p.copy() for p in (self.w1, self.b1, self.w2, self.b2)))


def required_gain(wt: Weights, op: Optics, neuron: DeviceNeuron, hw: cl.Hardware, scale: float) -> float:
    """Electrons per photoelectron [1] the largest plane-1 gain must deliver onto a hidden neuron's node.

    One unit of pre-activation spans the hidden drive range, (level_high - level_low) V_fire
    across C + C_d; one photoelectron adds |W1| / (mu1 scale) units.  A photodiode gives 1 and a
    photoconductor tau_c / tau_tr (:class:`~devicephys.array.receiver.Receiver`); a larger value
    needs an amplifier between the detector and the hidden neuron.
    """
    if wt.w1 is None:
        return 0.0
    span = (hw.level_high - hw.level_low) * neuron.firing_voltage("blinking")
    charge = (neuron.capacitance + hw.receiver().capacitance) * span
    return float(np.abs(wt.w1).max() * charge / (e * op.mu1 * scale))


def link_network(images: np.ndarray, k: np.ndarray, neuron: DeviceNeuron, hw: cl.Hardware) -> tuple[nw.Network, float]:
    """Plane 0 -> plane 1 of the stack in the spiking simulator, one independent copy per image.

    Populations ``input`` (blinking neurons driven by the pixels, as in
    :func:`~devicephys.array.classify.expected_counts`) and ``cells`` (one
    charge integrator per plane-1 detector cell: no leak, no threshold); every
    input spike sends Poisson(K[i, k]) photoelectrons into cell k, each adding
    gain e / (C + C_d) to the cell's voltage.  Returns the network and that
    voltage per photoelectron [V].
    """
    n_img, n_in = images.shape
    n_cell = k.shape[1]
    net = nw.Network()
    pps = neuron.photons_per_spike if hw.photons_per_spike is None else hw.photons_per_spike
    net.add(nw.blinking("input", n_img * n_in, neuron, hw.drive(neuron, images.ravel()), photons_per_spike=pps))
    net.add(nw.lif_cuba("cells", n_img * n_cell, tau_m=1e3, v_rest=0.0, v_th=math.inf, v_reset=0.0, t_ref=0.0))
    rec = hw.receiver()
    volt = rec.gain * e / (neuron.capacitance + rec.capacitance)
    i, j = np.nonzero(k > 0)
    offs = np.arange(n_img)
    pre = (offs[:, None] * n_in + i[None, :]).ravel()
    post = (offs[:, None] * n_cell + j[None, :]).ravel()
    indptr, indices, mu = nw.csr_from_pairs(pre, post, n_img * n_in, np.tile(k[i, j], n_img))
    net.add(nw.Projection("input", "cells", indptr, indices, volt, 0.0, "v", mean_photons=mu))
    return net, volt


def _photoelectrons(mean: np.ndarray, noise: bool, rng: np.random.Generator) -> np.ndarray:
    return rng.poisson(mean).astype(np.float32) if noise else mean


def expected_inputs(counts: np.ndarray, op: Optics) -> tuple[np.ndarray, np.ndarray | None]:
    """Expected photoelectrons per presentation in the plane-1 cells (counts K1) and, from the inputs, in the
    plane-2 cells (counts K02, None without skip crosstalk), float32."""
    c = np.asarray(counts, np.float32)
    return c @ op.k1.astype(np.float32), (None if op.k02 is None else c @ op.k02.astype(np.float32))


def forward(counts, wt: Weights, op: Optics, f: Transfer, hw: cl.Hardware, rng: np.random.Generator,
            scale: float, keep: bool = False, means=None):
    """Logits of the stacked network for input spike counts ``counts`` (n_images, n_inputs).

    ``scale`` is the largest input count (pre-activations are counts / scale);
    ``means`` the :func:`expected_inputs` of ``counts`` when already computed.
    With ``hw.noise`` every cell also counts Poisson dark electrons (mean ``op.dark``); with
    ``hw.dark_subtraction`` that mean is taken off each cell's count (its shot noise stays).
    Without a hidden layer (``wt.w1`` None) the plane-1 cells feed the class
    integrators directly (the single-link network).  With ``keep`` also
    returns the intermediate arrays for :func:`train`'s backward pass.
    """
    mean1, mean02 = expected_inputs(counts, op) if means is None else means
    dark = np.float32(op.dark) if hw.noise else np.float32(0.0)
    offset = dark if hw.dark_subtraction else np.float32(0.0)
    x1 = (_photoelectrons(mean1 + dark, hw.noise, rng) - offset) / np.float32(op.mu1 * scale)
    if wt.w1 is None:
        logits = x1 @ wt.w2 + wt.b2
        return (logits, x1, None, None) if keep else logits
    a1 = x1 @ wt.w1 + wt.b1
    s1 = f(a1)
    mean2 = s1 @ op.k2
    if mean02 is not None:
        mean2 = mean2 + mean02
    x2 = (_photoelectrons(mean2 + dark, hw.noise, rng) - offset) / np.float32(op.mu2 * scale)
    logits = x2 @ wt.w2 + wt.b2
    return (logits, x1, a1, x2) if keep else logits


def accuracy(counts, labels, wt, op, f, hw, scale, seed=0) -> float:
    """Fraction of images classified right (one hardware draw, seed ``seed``)."""
    rng = np.random.default_rng(seed)
    return float(np.mean(np.argmax(forward(counts, wt, op, f, hw, rng, scale), axis=1) == labels))


def initial_weights(n_in: int, n_hidden: int, n_class: int, rng: np.random.Generator) -> Weights:
    """Random gains: He-scaled W1 with a bias at the device's threshold region, small W2 (float32).

    ``n_hidden`` 0: no hidden layer (W1, b1 None; W2 is n_in x n_class)."""
    if n_hidden == 0:
        return Weights(None, None, np.zeros((n_in, n_class), np.float32), np.zeros(n_class, np.float32))
    f32 = np.float32
    return Weights(rng.normal(0.0, math.sqrt(2.0 / n_in), (n_in, n_hidden)).astype(f32), np.full(n_hidden, 0.4, f32),
                   (rng.normal(0.0, math.sqrt(1.0 / n_hidden), (n_hidden, n_class)) / 15.0).astype(f32),
                   np.zeros(n_class, f32))


def train(counts: np.ndarray, labels: np.ndarray, op: Optics, f: Transfer, hw: cl.Hardware, *, scale: float,
          start: Weights | None = None, n_hidden: int = 256, epochs: int = 20, batch: int = 128, lr: float = 3e-3,
          weight_decay: float = 1e-3, seed: int = 0) -> Weights:
    """Weights trained with the hardware in the loop (see the module docstring); ``start`` to fine-tune.

    Adam (beta 0.9, 0.999) with the step size falling linearly from ``lr`` to lr/10,
    L2 ``weight_decay`` on the gains, mini-batches of ``batch`` images.

    ``n_hidden`` 0 trains the single-link network (no hidden layer)."""
    rng = np.random.default_rng(seed)
    n_class = int(labels.max()) + 1
    wt = initial_weights(counts.shape[1], n_hidden, n_class, rng) if start is None else start.copy()
    params = [p for p in (wt.w1, wt.b1, wt.w2, wt.b2) if p is not None]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    onehot = np.eye(n_class, dtype=np.float32)[labels]
    mean1, mean02 = expected_inputs(counts, op)
    step, n_steps = 0, epochs * -(-len(labels) // batch)
    for _ in range(epochs):
        order = rng.permutation(len(labels))
        for s in range(0, len(order), batch):
            idx = order[s:s + batch]
            means = (mean1[idx], None if mean02 is None else mean02[idx])
            grads = _gradients(counts[idx], onehot[idx], wt, op, f, hw, rng, scale, means)
            step += 1
            rate = lr * (1.0 - 0.9 * (step - 1) / n_steps)  # linear decay to lr / 10
            c1, c2 = rate / (1 - 0.9**step), 1.0 / (1 - 0.999**step)
            for p, g, mi, vi in zip(params, grads, m, v):
                if p.ndim == 2:
                    g = g + weight_decay * p
                mi *= 0.9
                mi += 0.1 * g
                vi *= 0.999
                vi += 0.001 * g * g
                p -= c1 * mi / (np.sqrt(vi * c2) + 1e-8)
    return wt


def _gradients(counts, onehot, wt, op, f, hw, rng, scale, means):
    """Cross-entropy gradients (straight through the Poisson draws and the staircase)."""
    logits, x1, a1, x2 = forward(counts, wt, op, f, hw, rng, scale, keep=True, means=means)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    d_logits = (p - onehot) / len(counts)
    if wt.w1 is None:
        return [x1.T @ d_logits, d_logits.sum(axis=0)]
    d_x2 = d_logits @ wt.w2.T
    d_a1 = (d_x2 @ op.k2.T) / np.float32(op.mu2 * scale) * f.derivative(a1)
    return [x1.T @ d_a1, d_a1.sum(axis=0), x2.T @ d_logits, d_logits.sum(axis=0)]
