"""Study 4: a photonically linked network of blinking neurons classifies handwritten digits.

Question: how does the accuracy of an offline-trained network depend on the
array pitch (optical crosstalk) and on the photons each spike emits (Poisson
photon noise), compared with the same network without device non-idealities?

Method (see devicephys.array.classify):
  1. 8x8 scikit-learn digits -> drive voltages of 64 blinking input neurons
     (0.87 to 1.3 times the card's firing voltage; rate code over 50 card
     time scales, 5 us for the built-in card; neuron parameters from the card);
  2. weights = multinomial logistic regression on the expected spike counts,
     trained either naively or through the expected optical coupling K
     ("crosstalk-aware");
  3. the weights become the gains of the photodetecting synapses a layer
     spacing above; every spike sends Poisson(K_ik / 10) photoelectrons into
     each sub-detector of every cell k in range (K_ii intended, the rest
     crosstalk), simulated by the array simulator.

Final check (theory): with no photon noise and no crosstalk the simulated
photonic network must reproduce the ideal classifier's accuracy (the
expected-count algebra) within 3 percentage points, and crosstalk must fall
with pitch.  Run with --fast for a quick version.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from devicephys.array import classify as cl
from devicephys.array.card import load_card, neuron_from_card
from devicephys.io import save_figure


def sweep(neuron, data, pitches, photon_budgets, n_test, seed=0):
    """Accuracy table rows: (pitch, photons/spike, crosstalk, mu_intended, naive, aware)."""
    xtr, xte, ytr, yte = data
    xte, yte = xte[:n_test], yte[:n_test]
    side = int(round(np.sqrt(xtr.shape[1])))
    hw0 = cl.Hardware()
    ftr = cl.expected_counts(xtr, neuron, hw0)
    w, b, scale = cl.train(ftr, ytr, seed)
    rows = []
    for pitch in pitches:
        for pps in photon_budgets:
            hw = cl.Hardware(pitch=pitch, photons_per_spike=pps)
            k = cl.cell_coupling(side, hw, neuron)
            naive = cl.evaluate(xte, yte, w, b, scale, neuron, hw, seed=seed, k_mat=k)
            wa, ba, _ = cl.train(cl.crosstalk_features(ftr, k), ytr, seed)
            aware = cl.evaluate(xte, yte, wa, ba, scale, neuron, hw, seed=seed, k_mat=k)
            rows.append((pitch, neuron.photons_per_spike if pps is None else pps, naive["crosstalk_ratio"],
                         naive["mean_photoelectrons_intended"], naive["accuracy"], aware["accuracy"]))
            print(f"pitch {pitch * 1e6:4.1f} um  photons/spike {rows[-1][1]:8.1f}  crosstalk {rows[-1][2]:6.3f}  "
                  f"mu_int {rows[-1][3]:7.3f}  naive {naive['accuracy']:.3f}  aware {aware['accuracy']:.3f}")
    return rows, (w, b, scale, ftr)


def reference_checks(neuron, data, n_test, trained, seed=0):
    """Ideal accuracy and the noiseless, crosstalk-free photonic network's accuracy."""
    xtr, xte, ytr, yte = data
    xte, yte = xte[:n_test], yte[:n_test]
    w, b, scale, _ = trained
    fte = cl.expected_counts(xte, neuron, cl.Hardware())
    ideal = cl.ideal_accuracy(fte, yte, w, b, scale)
    clean = cl.evaluate(xte, yte, w, b, scale, neuron, cl.Hardware(noise=False, crosstalk=False), seed=seed)
    return ideal, clean["accuracy"]


def _mnist(paths, n_samples):
    """MNIST from user-supplied IDX files, 4x4 block-averaged, split 70/30 (stratified)."""
    from sklearn.model_selection import train_test_split

    from devicephys.array.mnist import load_mnist

    x, y = load_mnist(paths[0], paths[1], downsample=4)
    x, y = x[:n_samples], y[:n_samples]
    return train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)


def plot(rows, ideal, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = np.asarray(rows, dtype=float)
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for k, pps in enumerate(np.unique(rows[:, 1])):
        sel = rows[:, 1] == pps
        color = f"C{k}"
        ax.plot(rows[sel, 0] * 1e6, rows[sel, 5] * 100, "o-", color=color,
                label=f"{pps:.3g} photons/spike, crosstalk-aware")
        ax.plot(rows[sel, 0] * 1e6, rows[sel, 4] * 100, "x--", color=color, alpha=0.6,
                label=f"{pps:.3g} photons/spike, naive")
    ax.axhline(ideal * 100, color="k", lw=1, label="ideal network (no device non-idealities)")
    ax.set_xlabel("pitch_um")
    ax.set_ylabel("test accuracy [%]")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7)
    save_figure(fig, path)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fast", action="store_true", help="two pitches, one photon budget, 120 test digits")
    p.add_argument("--card", default=None, help="device_card.json (default: the built-in illustrative card)")
    p.add_argument("--out", default="results/study04", help="folder for the plot")
    p.add_argument("--mnist", nargs=2, metavar=("IMAGES_IDX", "LABELS_IDX"), default=None,
                   help="use MNIST IDX files you supply (block-averaged 4x4 to 7x7 pixels) instead of the digits")
    p.add_argument("--mnist-samples", type=int, default=6000, help="MNIST images used (train + test)")
    args = p.parse_args(argv)
    neuron = neuron_from_card(load_card(args.card))
    data = _mnist(args.mnist, args.mnist_samples) if args.mnist else cl.load_digits(seed=0)
    if args.fast:
        pitches, budgets, n_test = [1e-6, 3e-6], [1000.0], 120
    else:
        pitches, budgets, n_test = [0.5e-6, 1e-6, 2e-6, 3e-6], [None, 100.0, 1000.0, 10000.0], len(data[3])
    rows, trained = sweep(neuron, data, pitches, budgets, n_test)
    ideal, clean = reference_checks(neuron, data, n_test, trained)
    print(f"ideal network accuracy {ideal:.3f}; photonic network without noise and crosstalk {clean:.3f}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plot(rows, ideal, out / "accuracy_vs_pitch.png")
    xt = [r[2] for r in rows if r[1] == rows[0][1]]
    ok = abs(clean - ideal) <= 0.03 and all(a > b for a, b in zip(xt, xt[1:]))
    print("CHECK", "passed" if ok else "FAILED", f"(|clean - ideal| = {abs(clean - ideal):.3f} <= 0.03; "
          f"crosstalk falls with pitch: {xt})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
