"""Data path, speaker-disjoint split and accuracy of the photonic spoken-word classifier."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from devicephys.array.card import load_card, neuron_from_card
from devicephys.errors import SpecError
from devicephys.speech import classify as sc
from devicephys.speech import dataset, synth
from devicephys.speech.wav import SAMPLE_RATE, write_wav

ROOT = Path(__file__).resolve().parents[2]
TARGET = 0.915  # the paper's four-word accuracy


def _study():
    import importlib.util

    spec = importlib.util.spec_from_file_location("study05", ROOT / "studies" / "05_spoken_words.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def neuron():
    return neuron_from_card(load_card(None))


@pytest.fixture(scope="module")
def small_set():
    """The 400-clip synthesised subset (the one study 05 --fast uses; built into the cache once)."""
    missing = [t for t in ("espeak-ng", "flite") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"speech synthesisers absent: {missing} (apt-get install espeak-ng flite)")
    return synth.synthesize(limit=400, progress=False)


def test_synthesized_split_is_speaker_disjoint(small_set):
    clips = dataset.load_folder(small_set, synth.WORDS)
    test = dataset.speaker_split(clips.speakers)
    spk = np.asarray(clips.speakers)
    assert test.any() and (~test).any()
    assert not set(spk[test]) & set(spk[~test])
    # independently of the file names: the synthesiser's voice quality (espeak variant, or flite voice with
    # kal16 = kal) of a test clip is never heard in training, whatever the accent
    import json

    items = {it["file"]: it for it in json.loads((small_set / "manifest.json").read_text())["items"]}

    def quality(path):
        it = items[f"{path.parent.name}/{path.name}"]
        v = it["voice"]
        if it["engine"] == "espeak":
            return "espeak", v.split("+")[1] if "+" in v else ""
        return "flite", v.removesuffix("16")

    side = [{quality(p) for p, t in zip(clips.paths, test) if t == flag} for flag in (True, False)]
    assert side[0] and side[1] and not side[0] & side[1]
    assert set(clips.labels.tolist()) == {0, 1, 2, 3}


def test_speaker_split_holds_out_whole_speakers():
    speakers = [f"s{i % 7}" for i in range(70)]
    test = dataset.speaker_split(speakers, 0.3, seed=3)
    held = {s for s, t in zip(speakers, test) if t}
    assert len(held) == 2 and all(t == (s in held) for s, t in zip(speakers, test))
    with pytest.raises(SpecError, match="two or more"):
        dataset.speaker_split(["a"] * 5)


def _user_folder(root: Path, words, speakers=("alice", "bob", "carol")):
    t = np.arange(SAMPLE_RATE // 2) / SAMPLE_RATE
    for k, w in enumerate(words):
        for s in speakers:
            write_wav(root / w / f"{s}_nohash_0.wav", 0.3 * np.sin(2 * np.pi * (300 + 400 * k) * t))
    write_wav(root / "_background_noise_" / "white.wav", np.zeros(100))
    return root


def test_user_folder_labels_from_folder_names(tmp_path):
    root = _user_folder(tmp_path, ["go", "stop", "left"])
    clips = dataset.load_folder(root)
    assert clips.words == ("go", "left", "stop")  # sorted folder names; _background_noise_ is not a word
    assert len(clips.paths) == 9 and clips.speakers[:3] == ["alice", "bob", "carol"]
    sub = dataset.load_folder(root, ["stop", "go"])
    assert sub.words == ("stop", "go") and list(sub.labels) == [0, 0, 0, 1, 1, 1]
    with pytest.raises(SpecError, match=r"no clips for word\(s\) \['yes'\]"):
        dataset.load_folder(root, ["yes"])


def test_study_on_missing_folder_exits_2(tmp_path, capsys):
    rc = _study().main(["--speech-commands", str(tmp_path / "absent"), "--out", str(tmp_path / "o")])
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("error:")]
    assert rc == 2 and len(lines) == 1 and "no such folder" in lines[0]


@pytest.fixture(scope="module")
def small_rows(small_set, neuron):
    data = sc.split_clips(dataset.load_folder(small_set, synth.WORDS))
    return sc.sweep(neuron, data, [(1e-6, 0.5e-6, 1e3, False), (1e-6, 0.5e-6, None, False)], progress=False), data


def test_stacked_network_learns_words_on_small_subset(small_rows):
    """400 clips, about 100 test clips from unseen speakers: at 1 um pitch, h = 0.5 um and 1e3 photons/spike
    the 3-D network with every non-ideality reaches the paper's 91.5 % less 3 binomial sigma, and with the
    card's own 0.44 photons per spike it falls below the ideal network (photon noise limits it)."""
    rows, data = small_rows
    assert not set(data.speakers_train) & set(data.speakers_test)
    n = rows[0]["n_test"]
    assert rows[0]["accuracy"] >= TARGET - 3 * sc.binomial_sigma(TARGET, n)
    assert rows[1]["accuracy"] < rows[1]["ideal_accuracy"] - 3 * sc.binomial_sigma(rows[1]["ideal_accuracy"], n)
    assert np.asarray(rows[0]["confusion"]).sum() == n


def test_speech_runs_on_the_stacked_network_with_every_non_ideality(small_set, neuron, monkeypatch):
    """The speech path builds the stack's optics (crosstalk within and between planes, dark electrons) and
    runs :func:`devicephys.array.stack.forward` with a hidden layer of device neurons."""
    from devicephys.array import stack as st

    stacks, calls = [], []
    optics_of, forward = st.optics_of, st.forward

    def spy_optics(stack, *a, **k):
        stacks.append(stack)
        return optics_of(stack, *a, **k)

    def spy_forward(counts, wt, op, f, hw, *a, **k):
        calls.append((None if wt.w1 is None else wt.w1.shape, hw.noise, hw.crosstalk, op.k02 is not None, op.dark))
        return forward(counts, wt, op, f, hw, *a, **k)

    monkeypatch.setattr(st, "optics_of", spy_optics)
    monkeypatch.setattr(st, "forward", spy_forward)
    data = sc.split_clips(dataset.load_folder(small_set, synth.WORDS))
    prep = sc.prepare(neuron, data)
    assert prep.ideal3.w1.shape == (256, 256) and prep.ideal2.w1 is None
    calls.clear()
    row = sc.hardware_row(neuron, data, prep, 1e-6, 0.5e-6, 1e2)
    assert stacks[-1].hw.crosstalk and stacks[-1].hw.noise and stacks[-1].skip_crosstalk
    assert stacks[-1].hidden_side == 16 and stacks[-1].h2 == 0.5e-6 and stacks[-1].hw.pitch == 1e-6
    assert (row["crosstalk_ratio"] > 0 and row["skip_crosstalk_ratio"] > 0 and row["dark_electrons_per_cell"] > 0
            and row["photoelectrons_per_clip_plane2"] > 0)
    assert calls and all(c[0] == (256, 256) and c[1] and c[2] and c[3] and c[4] > 0 for c in calls)


@pytest.mark.slow
def test_study_fast_runs(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "studies" / "05_spoken_words.py"), "--fast", "--out",
                          str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert (tmp_path / "spoken_words.png").stat().st_size > 10_000 and (tmp_path / "accuracy.json").is_file()


@pytest.fixture(scope="module")
def full_set(small_set):
    return sc.synthesized_split(progress=False)


@pytest.fixture(scope="module")
def full_rows(neuron, full_set):
    data = full_set
    grid = [(1e-6, 0.5e-6, n, False) for n in (1e3, 1e2, None)]
    return sc.sweep(neuron, data, grid, progress=False), data


@pytest.mark.slow
def test_full_set_reaches_target_at_1um_with_1e2_and_1e3_photons(full_rows):
    """The paper's 91.5 % within the test set's own uncertainty: two binomial sigma of about 860 clips (0.95 %
    each). Measured 93.1 / 92.8 %, 13 and 11 clips above it; training with photon noise in the loop turns a last-bit
    difference of NumPy's exp (another CPU's kernels) into a few clips (1-3 of the small set's 101 test clips, whose
    seeds 0-4 spread over 91.1-93.1 %)."""
    rows, data = full_rows
    n = rows[0]["n_test"]
    assert len(data.speakers_test) >= 20 and n >= 800
    floor = TARGET - 2 * sc.binomial_sigma(TARGET, n)
    assert rows[0]["accuracy"] >= floor and rows[1]["accuracy"] >= floor, (rows[0]["accuracy"], rows[1]["accuracy"])


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="photon budget: the illustrative card emits 0.44 photons per spike; at 1 um "
                                       "pitch and h = 0.5 um 0.014 photoelectrons per spike reach the intended cell, "
                                       "37 photoelectrons per clip in plane 1 and about 70 in plane 2; Poisson noise "
                                       "of so few photoelectrons in two links limits the 3-D network "
                                       "to 55 % (single link 58 %, ideal 94 %)")
def test_full_set_reaches_target_with_card_photons(full_rows):
    rows, _ = full_rows
    assert rows[2]["accuracy"] >= TARGET


@pytest.mark.slow
def test_full_set_reaches_target_with_card_photons_over_a_longer_presentation(neuron, full_set):
    """The card's own photons per spike, every non-ideality, at 1 um pitch: a presentation of 20000 first-blink
    times (about 1 ms with the illustrative card, far shorter than a spoken word) collects 400 times the
    photoelectrons of the default one.  Measured in study 05 (ideal gains of the default presentation as the
    start): 85.5 / 90.6 / 92.8 % at 500 / 3000 / 20000 first-blink times (ideal 94.2 %); here the ideal gains
    are trained at 20000 itself."""
    from devicephys.array import classify as cl

    data = full_set
    row, = sc.sweep(neuron, data, [(1e-6, 0.5e-6, None, False, 20000.0)], progress=False)
    assert row["photons_from"] == "card" and row["presentation_blinks"] == 20000.0
    assert row["presentation_time"] == pytest.approx(400 * cl.Hardware().timing(neuron)[0], rel=1e-12)
    assert row["presentation_time"] < 0.1  # far shorter than a spoken word
    assert row["accuracy"] >= TARGET - 2 * sc.binomial_sigma(TARGET, row["n_test"]), row["accuracy"]  # as above


def test_study_stops_on_a_bad_clip_with_one_line(tmp_path, capsys):
    """One stereo clip in your Speech Commands folder: one line naming the file and the fix, exit 2."""
    from scipy.io import wavfile

    root = _user_folder(tmp_path / "sc", ["high", "low"])
    bad = root / "low" / "dave_nohash_0.wav"
    wavfile.write(bad, SAMPLE_RATE, np.zeros((800, 2), np.int16))
    rc = _study().main(["--speech-commands", str(root), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.splitlines()
    errors = [ln for ln in err if ln.startswith("error:")]
    assert rc == 2 and len(errors) == 1 and str(bad) in errors[0] and "2 channels; need mono" in errors[0]
    assert not (tmp_path / "out" / "accuracy.json").exists()


@pytest.mark.slow
def test_study_on_user_folder_runs(tmp_path):
    """A Speech Commands folder of your own (three 'words' = tones, six speakers) runs end to end."""
    import json

    root = _user_folder(tmp_path / "sc", ["high", "low", "mid"], speakers=[f"p{i}" for i in range(6)])
    out = subprocess.run([sys.executable, str(ROOT / "studies" / "05_spoken_words.py"), "--fast", "--speech-commands",
                          str(root), "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    meta = json.loads((tmp_path / "out" / "accuracy.json").read_text())
    assert meta["words"] == ["high", "low", "mid"] and meta["n_train"] + meta["n_test"] == 18
    assert not set(meta["speakers_train"]) & set(meta["speakers_test"])
