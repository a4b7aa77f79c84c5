"""Spoken words classified by the photonic network of blinking neurons.

The network is the array stage's two-layer photonic classifier
(:mod:`devicephys.array.classify`) fed with the speech front end:

1. clip -> log-mel image of 16 bands x 16 word segments
   (:mod:`devicephys.speech.frontend`); the segment axis is a tapped delay
   line, so input neuron (b, t) carries band b during segment t;
2. image -> drive voltages of 256 blinking input neurons on a 16 x 16 grid
   of pitch p, rate-coded over one presentation (:mod:`devicephys.speech.encode`);
3. a layer spacing h above, one detector cell per input neuron (the
   receiver model's Ge photodiode), one sub-detector per word whose gain is
   the trained weight; one charge integrator per word; the word is the
   integrator with the largest charge;
4. every spike sends Poisson photoelectrons into every cell within the
   coupling radius (the intended link and the optical crosstalk), drawn
   exactly by :func:`devicephys.array.classify.photon_readout`.

Weights are multinomial logistic regression trained with the hardware in the
loop (Poisson photoelectron counts through the expected coupling, crosstalk
included).  Beside it: the *ideal network* (same spike counts, expected
photon counts, no crosstalk) and a non-spiking *baseline* (the same logistic
regression on the front-end image itself).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from devicephys.array import classify as cl
from devicephys.array.card import DeviceNeuron
from devicephys.speech import dataset, encode, synth


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
class Trained:
    """Spike counts of the split and the ideal network's weights (W [inputs, words], b, feature scale)."""

    f_train: np.ndarray
    f_test: np.ndarray
    ideal: tuple[np.ndarray, np.ndarray, float]
    ideal_accuracy: float


def train_ideal(neuron: DeviceNeuron, data: SpeechSplit, seed: int = 0) -> Trained:
    """Rate-code the split and train the ideal network on the expected spike counts."""
    ftr = encode.spike_counts(data.x_train, neuron)
    fte = encode.spike_counts(data.x_test, neuron)
    w, b, scale = cl.train(ftr, data.y_train, seed)
    return Trained(ftr, fte, (w, b, scale), cl.ideal_accuracy(fte, data.y_test, w, b, scale))


def photonic_row(neuron: DeviceNeuron, data: SpeechSplit, trained: Trained, hw: cl.Hardware, *, seed: int = 0,
                 copies: int = 2) -> dict:
    """Accuracy of the hardware-in-the-loop network (and of the ideal weights run naively) on ``hw``."""
    side = int(round(math.sqrt(data.x_train.shape[1])))
    n_cls = len(data.words)
    k = cl.cell_coupling(side, hw, neuron)
    rng = np.random.default_rng(seed)
    feats = cl.noisy_features(trained.f_train, k, hw, rng, n_classes=n_cls, copies=copies)
    wa, ba, sa = cl.train(feats, np.tile(data.y_train, copies), seed)
    pred = np.argmax(cl.photon_readout(trained.f_test, wa, ba, sa, k, hw, rng), axis=1)
    naive = np.argmax(cl.photon_readout(trained.f_test, *trained.ideal, k, hw, rng), axis=1)
    pps = neuron.photons_per_spike if hw.photons_per_spike is None else hw.photons_per_spike
    return {"pitch": hw.pitch, "layer_spacing": hw.layer_spacing, "photons_per_spike": float(pps),
            "photons_from": "card" if hw.photons_per_spike is None else "override",
            "photoelectrons_per_spike_intended": float(np.mean(np.diag(k))),
            "crosstalk_ratio": float((k.sum() - np.trace(k)) / np.trace(k)),
            "input_spikes_per_clip": float(trained.f_test.sum(axis=1).mean()),
            "accuracy": float(np.mean(pred == data.y_test)), "accuracy_naive": float(np.mean(naive == data.y_test)),
            "ideal_accuracy": trained.ideal_accuracy, "n_test": int(data.y_test.size),
            "confusion": confusion(pred, data.y_test, n_cls).tolist()}


def sweep(neuron: DeviceNeuron, data: SpeechSplit, grid, *, seed: int = 0, copies: int = 2,
          progress: bool = True) -> list[dict]:
    """One :func:`photonic_row` per (pitch [m], layer spacing [m], photons per spike or None) in ``grid``."""
    trained = train_ideal(neuron, data, seed)
    it = grid
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(grid, desc="speech: hardware sweep", unit="point")
    return [photonic_row(neuron, data, trained, cl.Hardware(pitch=p, layer_spacing=h, photons_per_spike=n),
                         seed=seed, copies=copies) for p, h, n in it]


def binomial_sigma(p: float, n: int) -> float:
    """Standard error of an accuracy p measured on n independent clips."""
    return math.sqrt(max(p * (1 - p), 1e-12) / max(n, 1))
