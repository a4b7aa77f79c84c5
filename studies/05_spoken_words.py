"""Study 5: the photonic network of blinking neurons recognises four spoken words.

Question: what accuracy does the photonically linked network reach on the
spoken words "yes", "no", "up", "down" -- the paper's four-class speech task
-- at a given pitch and photon yield per spike, with Poisson photon noise,
optical crosstalk and the physical receiver, next to the same network without
non-idealities and a non-spiking baseline?

Data: synthesised with espeak-ng and flite (every English voice and variant,
speaking rates, pitches, white noise at 30/20/10 dB SNR; built once into the
cache), split so that no test speaker is heard in training; or your own
Speech Commands folder with --speech-commands DIR (label = sub-folder name).

Method (see devicephys.speech):
  1. clip -> log-mel image, 16 bands x 16 segments of the word (a tapped
     delay line: input neuron (b, t) carries band b in segment t), 60 dB
     range mapped to [0, 1];
  2. image -> drive of 256 blinking input neurons (rate code over 50
     first-blink times), a 16 x 16 grid of pitch p;
  3. a layer spacing h = 0.5 um above, one Ge photodiode cell per input
     neuron, one sub-detector per word (gain = trained weight), one charge
     integrator per word;
  4. weights: logistic regression with the hardware in the loop; photon
     counts drawn exactly (Poisson per sub-detector, crosstalk included).

Output (--out): accuracy.json (one row per pitch and photon yield, with the
ideal network, the baseline and the confusion matrices) and spoken_words.png
(accuracy versus pitch, versus photons per spike, confusion matrix).

Final check (stated target, the paper's 91.5 %): on the synthesised set at
1 um pitch and 1e3 photons per spike, the network with every non-ideality
reaches >= 91.5 % (with --fast, on about 100 test clips, >= 91.5 % less 3
binomial standard errors).  On your own data: within 3 binomial standard errors of
the ideal network at the largest photon yield.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from devicephys.array.card import load_card, neuron_from_card
from devicephys.errors import SpecError
from devicephys.io import atomic_write_text, save_figure
from devicephys.speech import classify as sc
from devicephys.speech import dataset

TARGET = 0.915
REFERENCE = (1e-6, 1e3)  # pitch [m], photons per spike of the stated check


def load(args) -> sc.SpeechSplit:
    """The synthesised set (a 400-clip subset with --fast) or the user's folder, split by speaker."""
    if args.speech_commands:
        clips = dataset.load_folder(args.speech_commands, args.words)
        return sc.split_clips(clips, seed=args.seed, progress=True)
    return sc.synthesized_split(limit=400 if args.fast else None, seed=args.seed)


def plot(rows, base, words, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(14, 4.2))
    budgets = sorted({r["photons_per_spike"] for r in rows})
    for c, pps in enumerate(budgets):
        sel = sorted((r for r in rows if r["photons_per_spike"] == pps), key=lambda r: r["pitch"])
        ax[0].plot([r["pitch"] * 1e6 for r in sel], [r["accuracy"] * 100 for r in sel], "o-", color=f"C{c}",
                   label=f"{pps:.3g} photons/spike")
    pitch0 = min(abs(r["pitch"] - 1e-6) for r in rows)
    at1 = sorted((r for r in rows if abs(r["pitch"] - 1e-6) == pitch0), key=lambda r: r["photons_per_spike"])
    ax[1].semilogx([r["photons_per_spike"] for r in at1], [r["accuracy"] * 100 for r in at1], "o-", color="C0",
                   label="hardware in the loop")
    ax[1].semilogx([r["photons_per_spike"] for r in at1], [r["accuracy_naive"] * 100 for r in at1], "x--",
                   color="C1", label="ideal weights, naive")
    for a in ax[:2]:
        a.axhline(rows[0]["ideal_accuracy"] * 100, color="k", lw=1, label="ideal network")
        a.axhline(base * 100, color="C2", ls="-.", lw=1, label="logistic regression (log-mel)")
        a.axhline(TARGET * 100, color="grey", ls=":", lw=1, label="paper (91.5 %)")
        a.axhline(100 / len(words), color="grey", lw=0.5)
        a.set_ylim(0, 100)
        a.set_ylabel("test accuracy [%]")
        a.legend(fontsize=7)
    ax[0].set_xlabel("pitch_um")
    ax[1].set_xlabel(f"photons per spike (pitch {at1[0]['pitch'] * 1e6:.3g} um)")
    ref = reference_row(rows)
    m = np.asarray(ref["confusion"])
    ax[2].imshow(m / np.maximum(m.sum(axis=1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1)
    for (i, j), v in np.ndenumerate(m):
        ax[2].text(j, i, str(v), ha="center", va="center", fontsize=9,
                   color="white" if v > 0.5 * m.sum(axis=1)[i] else "black")
    ax[2].set_xticks(range(len(words)), words)
    ax[2].set_yticks(range(len(words)), words)
    ax[2].set_xlabel("predicted")
    ax[2].set_ylabel("spoken")
    ax[2].set_title(f"{ref['pitch'] * 1e6:.3g} um, {ref['photons_per_spike']:.3g} photons/spike: "
                    f"{ref['accuracy'] * 100:.1f} %", fontsize=9)
    save_figure(fig, path)
    plt.close(fig)


def reference_row(rows) -> dict:
    """The row nearest to 1 um pitch and 1e3 photons per spike."""
    return min(rows, key=lambda r: (abs(np.log(r["pitch"] / REFERENCE[0])),
                                    abs(np.log(r["photons_per_spike"] / REFERENCE[1]))))


def check(rows, synthesized: bool, fast: bool = False) -> tuple[bool, str]:
    """The stated target (see the module docstring); --fast's 100-clip test set resolves it to 3 binomial sigma."""
    if synthesized:
        r = reference_row(rows)
        need = TARGET - (3 * sc.binomial_sigma(TARGET, r["n_test"]) if fast else 0.0)
        return r["accuracy"] >= need, (f"{r['accuracy']:.4f} >= {need:.4f} at {r['pitch'] * 1e6:.3g} um, "
                                       f"{r['photons_per_spike']:.3g} photons/spike (ideal {r['ideal_accuracy']:.4f})")
    top = max(r["photons_per_spike"] for r in rows)
    r = min((r for r in rows if r["photons_per_spike"] == top), key=lambda r: r["pitch"])
    margin = 3 * sc.binomial_sigma(r["ideal_accuracy"], r["n_test"])
    return r["accuracy"] >= r["ideal_accuracy"] - margin, (f"{r['accuracy']:.4f} >= ideal {r['ideal_accuracy']:.4f} "
                                                           f"- 3 sigma {margin:.4f} at {top:.3g} photons/spike")


def run(args) -> int:
    start = time.perf_counter()
    neuron = neuron_from_card(load_card(args.card))
    data = load(args)
    print(f"{len(data.y_train)} train clips ({len(data.speakers_train)} speakers), {len(data.y_test)} test clips "
          f"({len(data.speakers_test)} other speakers), words {list(data.words)}")
    if args.fast:
        grid = [(p, 0.5e-6, n) for p in (1e-6, 3e-6) for n in (None, 1e3)]
    else:
        grid = [(p, 0.5e-6, n) for p in (0.5e-6, 1e-6, 2e-6, 3e-6) for n in (None, 1e2, 1e3, 1e4)]
    rows = sc.sweep(neuron, data, grid, seed=args.seed)
    base, _ = sc.baseline(data, args.seed)
    for r in rows:
        r["baseline_accuracy"] = base
        print(f"pitch {r['pitch'] * 1e6:4.1f} um  photons/spike {r['photons_per_spike']:9.3g}  crosstalk "
              f"{r['crosstalk_ratio']:6.3f}  in-the-loop {r['accuracy']:.4f}  naive {r['accuracy_naive']:.4f}")
    print(f"ideal network {rows[0]['ideal_accuracy']:.4f}; logistic regression on the log-mel image {base:.4f}; "
          f"{time.perf_counter() - start:.0f} s")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"words": list(data.words), "n_train": int(len(data.y_train)), "n_test": int(len(data.y_test)),
            "speakers_train": data.speakers_train, "speakers_test": data.speakers_test,
            "source": args.speech_commands or "synthesized", "rows": rows}
    atomic_write_text(out / "accuracy.json", json.dumps(meta, indent=1) + "\n")
    plot(rows, base, data.words, out / "spoken_words.png")
    ok, text = check(rows, not args.speech_commands, args.fast)
    print("CHECK", "passed" if ok else "FAILED", f"({text})")
    return 0 if ok else 1


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fast", action="store_true", help="a 400-clip synthesised subset, two pitches, two photon yields")
    p.add_argument("--card", default=None, help="device_card.json (default: the built-in illustrative card)")
    p.add_argument("--out", default="results/study05", help="folder for the plot and accuracy.json")
    p.add_argument("--speech-commands", default=None, metavar="DIR",
                   help="your Speech Commands folder (one sub-folder of 16 kHz mono .wav clips per word)")
    p.add_argument("--words", nargs="+", default=None, help="words (sub-folders) to use from --speech-commands")
    p.add_argument("--seed", type=int, default=0, help="seed of the split, the synthesis and the photon draws")
    args = p.parse_args(argv)
    try:
        return run(args)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
