"""Front end, WAV reader and rate code of the speech path against known signals."""

from __future__ import annotations

import numpy as np
import pytest

from devicephys.array.card import load_card, neuron_from_card
from devicephys.errors import SpecError
from devicephys.speech import encode, frontend
from devicephys.speech.wav import SAMPLE_RATE, read_wav, write_wav


def _tone(freq: float, seconds: float = 0.5, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return amp * np.sin(2 * np.pi * freq * t)


@pytest.mark.parametrize("band", [0, 3, 8, 15])
def test_pure_tone_lands_in_its_mel_band(band):
    centers = frontend.band_centers(16)
    power, _ = frontend.mel_power(_tone(centers[band]), SAMPLE_RATE, 16)
    assert np.argmax(power.mean(axis=0)) == band
    # a tone half-way (in mel) between two centres is shared by exactly those two bands
    lo = min(band, 14)
    mid = frontend.mel_to_hz(0.5 * (frontend.hz_to_mel(centers[lo]) + frontend.hz_to_mel(centers[lo + 1])))
    p = frontend.mel_power(_tone(mid), SAMPLE_RATE, 16)[0].mean(axis=0)
    assert set(np.argsort(p)[-2:]) == {lo, lo + 1}


def test_full_scale_tone_band_power_is_calibrated():
    """A sine of amplitude A at a band centre gives its mean square A^2/2 in that band (Parseval)."""
    c = frontend.band_centers(16)[6]
    p = frontend.mel_power(_tone(c, amp=1.0), SAMPLE_RATE, 16)[0][5:-5, 6].mean()
    # Hann main lobe: +-2 bins of 31 Hz = +-62 Hz on a triangle of half-width >= 270 Hz: weight >= 0.77
    assert 0.77 * 0.5 < p <= 0.5 * 1.001


def test_tone_image_is_brightest_in_its_band():
    img = frontend.clip_image(_tone(frontend.band_centers(16)[10]), SAMPLE_RATE)
    assert img.shape == (16, 16)
    assert np.all(np.argmax(img, axis=0) == 10)


def test_silence_gives_no_spikes(tmp_path):
    write_wav(tmp_path / "silence.wav", np.zeros(SAMPLE_RATE))
    x, rate = read_wav(tmp_path / "silence.wav")
    img = frontend.clip_image(x, rate)
    assert not img.any()
    neuron = neuron_from_card(load_card(None))
    assert encode.spike_counts(img, neuron).sum() == 0
    times, index = encode.spike_trains(img, neuron)
    assert times.size == 0 and index.size == 0
    # and a loud tone does make the input layer spike (the test can fail)
    assert encode.spike_counts(frontend.clip_image(_tone(1000.0), SAMPLE_RATE), neuron).sum() > 0


def _wav_bytes(tmp_path, name, rate, data):
    from scipy.io import wavfile

    wavfile.write(tmp_path / name, rate, data)
    return tmp_path / name


@pytest.mark.parametrize("case, needle", [
    ("rate", "sample rate 8000 Hz, need 16000 Hz"),
    ("stereo", "2 channels; need mono"),
    ("empty", "holds no samples"),
    ("unreadable", "is unreadable"),
    ("zero_bytes", "is empty (0 bytes)"),
    ("truncated", "is truncated"),
    ("missing", "does not exist"),
])
def test_bad_wav_is_one_clear_line(tmp_path, case, needle):
    if case == "rate":
        path = _wav_bytes(tmp_path, "a.wav", 8000, np.zeros(800, np.int16))
    elif case == "stereo":
        path = _wav_bytes(tmp_path, "a.wav", SAMPLE_RATE, np.zeros((800, 2), np.int16))
    elif case == "empty":
        path = _wav_bytes(tmp_path, "a.wav", SAMPLE_RATE, np.zeros(0, np.int16))
    elif case == "zero_bytes":
        path = tmp_path / "a.wav"
        path.write_bytes(b"")
    elif case == "truncated":
        path = _wav_bytes(tmp_path, "a.wav", SAMPLE_RATE, np.zeros(1000, np.int16))
        path.write_bytes(path.read_bytes()[:100])
    elif case == "unreadable":
        path = tmp_path / "a.wav"
        path.write_bytes(b"this is not a RIFF file at all")
    else:
        path = tmp_path / "absent.wav"
    with pytest.raises(SpecError) as err:
        read_wav(path)
    msg = str(err.value)
    assert needle in msg and str(path) in msg and "\n" not in msg


def test_wav_round_trip(tmp_path):
    x = _tone(440.0)
    y, rate = read_wav(write_wav(tmp_path / "t.wav", x))
    assert rate == SAMPLE_RATE and np.max(np.abs(y - x)) <= 1 / 32768
