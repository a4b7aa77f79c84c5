"""Spoken words classified by the stacked (3-D) photonic network of blinking neurons.

The network is the array stage's stacked network (:mod:`devicephys.array.stack`)
fed with the speech front end:

1. clip -> log-mel image of 16 bands x 16 word segments
   (:mod:`devicephys.speech.frontend`);
2. plane 0: the image drives 256 blinking input neurons on a 16 x 16 grid of
   pitch p, rate-coded over one presentation (:mod:`devicephys.speech.encode`);
3. plane 1, a layer spacing h above: a detector cell (the receiver model's Ge
   photodiode) above every input neuron, fanned out by trained gains onto
   16 x 16 hidden blinking neurons (the device's spike count versus drive is
   their nonlinearity);
4. plane 2, a spacing h above plane 1: a detector cell above every hidden
   neuron, fanned out onto one charge integrator per word; the word is the
   integrator with the largest charge.

Every link draws Poisson photoelectrons with the mean from geometry; every
source reaches every cell of the plane above (crosstalk within a plane pair),
input light also reaches plane 2 through plane 1 (crosstalk between layers),
and every cell counts Poisson dark electrons (:func:`devicephys.array.stack.forward`).

Time.  Speech is temporal, the network is feed-forward: the delay structure
the task needs is the front end's *tapped delay line* over word segments.
The word's span is cut into 16 segments and tap t holds the spectrum of
segment t, so input neuron (band b, tap t) carries band b during segment t
and the whole spectro-temporal pattern reaches plane 1 in one presentation
(a time-delay network laid out in space); the hidden neurons see every
band x time pair at once, and need no recurrence.

Training (:func:`hardware_row`): the *ideal network* (same spike counts and
device staircase, no photon noise, no crosstalk, no dark electrons) is trained
first; for each hardware the network is trained with the hardware in the loop
(:func:`devicephys.array.stack.train`: fresh Poisson draws every epoch,
crosstalk in the forward pass) twice -- the ideal gains fine-tuned, and from
random gains -- and the one with the higher accuracy on the *training* clips
(a fresh hardware draw) is kept; the test clips are not used to choose.
Beside it: the *single-link* (2-D) network of the same stack (no hidden
layer) and a non-spiking *baseline* (logistic regression on the front-end
image itself).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from devicephys.array import classify as cl
from devicephys.array import stack as st
from devicephys.array.card import DeviceNeuron
from devicephys.errors import SpecError
from devicephys.speech import dataset, encode, synth

#: Epochs of in-the-loop training: fine-tuning the ideal gains, and from random gains.
FINE_TUNE_EPOCHS = 10
SCRATCH_EPOCHS = 20


@dataclass(frozen=True)
class SpeechSplit:
    """Front-end images (rows, values in [0, 1]), labels and speakers of a speaker-disjoint split."""

    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    speakers_train: list[str]
    speakers_test: list[str]
    words: tuple[str, ...]


def split_clips(clips: dataset.Clips, *, test_fraction: float = 0.25, seed: int = 0,
                progress: bool = False) -> SpeechSplit:
    """Front-end images of ``clips`` split speaker-disjointly (:func:`devicephys.speech.dataset.speaker_split`)."""
    test = dataset.speaker_split(clips.speakers, test_fraction, seed)
    x = dataset.images(clips, progress=progress)
    spk = np.asarray(clips.speakers)
    return SpeechSplit(x[~test], x[test], clips.labels[~test], clips.labels[test],
                       sorted(set(spk[~test])), sorted(set(spk[test])), clips.words)


def synthesized_split(*, limit: int | None = None, seed: int = 0, progress: bool = True) -> SpeechSplit:
    """The synthesised four-word set (built into the cache on first use), split by speaker."""
    folder = synth.synthesize(limit=limit, seed=seed, progress=progress)
    return split_clips(dataset.load_folder(folder, synth.WORDS), seed=seed, progress=progress)


def confusion(predicted: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Confusion counts, rows = true word, columns = predicted word."""
    m = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(m, (labels, predicted), 1)
    return m


def baseline(data: SpeechSplit, seed: int = 0) -> tuple[float, np.ndarray]:
    """Non-spiking baseline: logistic regression on the front-end images; (accuracy, predictions)."""
    w, b, scale = cl.train(data.x_train, data.y_train, seed)
    pred = np.argmax(data.x_test / scale @ w + b, axis=1)
    return float(np.mean(pred == data.y_test)), pred


@dataclass
class Prepared:
    """Input spike counts of the split, the hidden neurons' transfer and the ideal networks.

    ``scale`` is the largest input spike count [1]; ``ideal3`` / ``ideal2`` the ideal
    3-D (hidden layer) and single-link weights, ``accuracy3`` / ``accuracy2`` their test accuracies;
    ``blinks`` the presentation time in first-blink times (:attr:`Hardware.presentation_blinks`).
    """

    f_train: np.ndarray
    f_test: np.ndarray
    scale: float
    transfer: st.Transfer
    side: int
    hidden_side: int
    ideal3: st.Weights
    ideal2: st.Weights
    accuracy3: float
    accuracy2: float
    blinks: float = cl.Hardware.presentation_blinks


def image_side(n_inputs: int) -> int:
    """Side of the square input plane for ``n_inputs`` image values (bands x segments)."""
    side = int(round(math.sqrt(n_inputs)))
    if side * side != n_inputs:
        raise SpecError(f"speech images have {n_inputs} values; the input plane needs n_bands = n_frames "
                        f"(a square image)")
    return side


def prepare(neuron: DeviceNeuron, data: SpeechSplit, *, hidden_side: int = 16, seed: int = 0,
            blinks: float = cl.Hardware.presentation_blinks, like: Prepared | None = None) -> Prepared:
    """Rate-code the split over a presentation of ``blinks`` first-blink times and train the ideal 3-D and
    single-link networks (no noise, no crosstalk, no dark electrons).  With ``like`` (the preparation of
    another presentation) its ideal gains are reused: they act on counts divided by the largest count, which
    the presentation time scales out."""
    hw = cl.Hardware(presentation_blinks=blinks)
    ftr, fte = encode.spike_counts(data.x_train, neuron, hw), encode.spike_counts(data.x_test, neuron, hw)
    scale = float(ftr.max()) or 1.0
    f = st.transfer_of(neuron, hw)
    side = image_side(data.x_train.shape[1])
    ideal = st.Stack(hw, hidden_side=hidden_side).ideal()
    op = st.optics_of(ideal, neuron, side)
    if like is None:
        w3 = st.train(ftr, data.y_train, op, f, ideal.hw, scale=scale, n_hidden=hidden_side**2, seed=seed)
        w2 = st.train(ftr, data.y_train, op, f, ideal.hw, scale=scale, n_hidden=0, seed=seed)
    else:
        w3, w2 = like.ideal3, like.ideal2
    return Prepared(ftr, fte, scale, f, side, hidden_side, w3, w2,
                    st.accuracy(fte, data.y_test, w3, op, f, ideal.hw, scale),
                    st.accuracy(fte, data.y_test, w2, op, f, ideal.hw, scale), blinks)


def train_in_loop(prep: Prepared, y: np.ndarray, op: st.Optics, hw: cl.Hardware, start: st.Weights,
                  seed: int = 0) -> tuple[st.Weights, str]:
    """Gains trained with ``hw`` in the loop: ``start`` fine-tuned or random gains, the better on the training clips."""
    args = (prep.f_train, y, op, prep.transfer, hw)
    n_hidden = 0 if start.w1 is None else start.w1.shape[1]
    tuned = st.train(*args, scale=prep.scale, start=start, epochs=FINE_TUNE_EPOCHS, seed=seed + 1)
    fresh = st.train(*args, scale=prep.scale, n_hidden=n_hidden, epochs=SCRATCH_EPOCHS, seed=seed + 1)
    score = [st.accuracy(prep.f_train, y, w, op, prep.transfer, hw, prep.scale, seed=seed + 3) for w in (tuned, fresh)]
    if score[0] >= score[1]:
        return tuned, f"ideal gains fine-tuned, {FINE_TUNE_EPOCHS} epochs"
    return fresh, f"from random gains, {SCRATCH_EPOCHS} epochs"


def _plane_two_photoelectrons(prep: Prepared, wt: st.Weights, op: st.Optics, hw: cl.Hardware, seed: int) -> float:
    """Mean photoelectrons per test clip reaching the plane-2 cells (hidden spikes and skip light) [1]."""
    rng = np.random.default_rng(seed)
    _, _, a1, _ = st.forward(prep.f_test, wt, op, prep.transfer, hw, rng, prep.scale, keep=True)
    mean2 = prep.transfer(a1) @ op.k2
    if op.k02 is not None:
        mean2 = mean2 + st.expected_inputs(prep.f_test, op)[1]
    return float(mean2.sum(axis=1).mean())


def hardware_row(neuron: DeviceNeuron, data: SpeechSplit, prep: Prepared, pitch: float, spacing: float,
                 photons_per_spike: float | None, *, single_link: bool = False, seed: int = 0) -> dict:
    """One accuracy row of the stacked network on one hardware (pitch [m], layer spacing [m] of both links,
    photons per spike or None for the card's); with ``single_link`` also the 2-D network's accuracy."""
    hw = cl.Hardware(pitch=pitch, layer_spacing=spacing, photons_per_spike=photons_per_spike,
                     presentation_blinks=prep.blinks)
    op = st.optics_of(st.Stack(hw, hidden_side=prep.hidden_side), neuron, prep.side)
    y, yte = data.y_train, data.y_test
    wt, how = train_in_loop(prep, y, op, hw, prep.ideal3, seed)
    rng = np.random.default_rng(seed + 2)
    pred = np.argmax(st.forward(prep.f_test, wt, op, prep.transfer, hw, rng, prep.scale), axis=1)
    acc = float(np.mean(pred == yte))
    k1, n = op.k1, int(yte.size)
    pps = neuron.photons_per_spike if photons_per_spike is None else float(photons_per_spike)
    row = {"network": f"3-D (16 x 16 input, {prep.hidden_side} x {prep.hidden_side} hidden, readout planes)",
           "pitch": pitch, "layer_spacing": spacing, "photons_per_spike": float(pps),
           "photons_from": "card" if photons_per_spike is None else "override",
           "presentation_blinks": prep.blinks, "presentation_time": hw.timing(neuron)[0],
           "clips_per_second": 1.0 / hw.timing(neuron)[0],
           "photoelectrons_per_spike_intended": op.mu1,
           "crosstalk_ratio": float((k1.sum() - np.trace(k1)) / np.trace(k1)),
           "skip_crosstalk_ratio": float(op.k02.sum() / np.trace(op.k2)) if op.k02 is not None else 0.0,
           "dark_electrons_per_cell": op.dark,
           "input_spikes_per_clip": float(prep.f_test.sum(axis=1).mean()),
           "photoelectrons_per_clip": float((prep.f_test @ k1).sum(axis=1).mean()),
           "photoelectrons_per_clip_plane2": _plane_two_photoelectrons(prep, wt, op, hw, seed + 4),
           "accuracy": acc,
           "accuracy_naive": st.accuracy(prep.f_test, yte, prep.ideal3, op, prep.transfer, hw, prep.scale, seed + 2),
           "ideal_accuracy": prep.accuracy3, "standard_error": binomial_sigma(acc, n), "n_test": n,
           "in_loop_training": how, "hidden_gain_needed": st.required_gain(wt, op, neuron, hw, prep.scale),
           "confusion": confusion(pred, yte, len(data.words)).tolist()}
    if single_link:
        w2, _ = train_in_loop(prep, y, op, hw, prep.ideal2, seed)
        row.update(accuracy_2d=st.accuracy(prep.f_test, yte, w2, op, prep.transfer, hw, prep.scale, seed + 2),
                   ideal_accuracy_2d=prep.accuracy2)
    return row


def sweep(neuron: DeviceNeuron, data: SpeechSplit, grid, *, seed: int = 0, progress: bool = True,
          hidden_side: int = 16) -> list[dict]:
    """One :func:`hardware_row` per (pitch [m], layer spacing [m], photons per spike or None, single_link[,
    presentation blinks]); the ideal networks are trained once per presentation time."""
    with _one_blas_thread():
        preps: dict[float, Prepared] = {}
        it = grid
        if progress:
            from devicephys.progress import bar

            it = bar(grid, desc="speech: hardware sweep", unit="point")
        rows = []
        for p, h, n, two_d, *rest in it:
            blinks = float(rest[0]) if rest else cl.Hardware.presentation_blinks
            if blinks not in preps:
                preps[blinks] = prepare(neuron, data, hidden_side=hidden_side, seed=seed, blinks=blinks,
                                        like=next(iter(preps.values()), None))
            rows.append(hardware_row(neuron, data, preps[blinks], p, h, n, single_link=two_d, seed=seed))
        return rows


def _one_blas_thread():
    """BLAS on one thread while training: the products are small (128 x 256 by 256 x 256), and on a busy
    2-core machine two BLAS threads made the sweep about 5 times slower than one (617 s against 123 s)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def binomial_sigma(p: float, n: int) -> float:
    """Standard error of an accuracy p measured on n independent clips."""
    return math.sqrt(max(p * (1 - p), 1e-12) / max(n, 1))
