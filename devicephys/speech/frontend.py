"""Auditory front end: a log-mel filter bank from NumPy/SciPy, and a fixed band x frame image per clip.

Power spectrum of 25 ms Hann frames every 10 ms, summed by triangular filters
equally spaced on the mel scale m(f) = 2595 log10(1 + f / 700 Hz) (the HTK
convention; O'Shaughnessy, *Speech Communication*, 1987).  A clip becomes an
image of ``n_bands`` x ``n_frames``: the word is located by its frame energy
(frames within ``endpoint_db`` of the loudest), its span is divided into
``n_frames`` equal segments (a time normalisation that absorbs the speaking
rate), each segment's mean band power is expressed in dB below the clip's
loudest cell, and mapped to [0, 1] over ``dynamic_range_db``.  A clip with no
frame above the absolute floor (digital silence) gives an all-zero image.
"""

from __future__ import annotations

import numpy as np

from devicephys.errors import SpecError

FRAME_LENGTH = 0.025  # s
FRAME_HOP = 0.010  # s
#: Lowest and highest filter edge [Hz] (below the 8 kHz Nyquist of 16 kHz audio).
F_MIN, F_MAX = 100.0, 7600.0
#: Mean-square amplitude below which a frame is silent (-90 dB full scale, under 16-bit quantisation).
SILENCE_FLOOR = 1e-9


def hz_to_mel(f):
    """Mel value of frequency ``f`` [Hz] (HTK formula)."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, float) / 700.0)


def mel_to_hz(m):
    """Frequency [Hz] of mel value ``m``."""
    return 700.0 * (10.0 ** (np.asarray(m, float) / 2595.0) - 1.0)


def band_edges(n_bands: int, f_min: float = F_MIN, f_max: float = F_MAX) -> np.ndarray:
    """The ``n_bands + 2`` filter corner frequencies [Hz]; band k peaks at edges[k + 1]."""
    if not 0 <= f_min < f_max:
        raise SpecError(f"mel bank: need 0 <= f_min < f_max, got {f_min!r}, {f_max!r}")
    return mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_bands + 2))


def band_centers(n_bands: int, f_min: float = F_MIN, f_max: float = F_MAX) -> np.ndarray:
    """Peak frequency of each triangular filter [Hz]."""
    return band_edges(n_bands, f_min, f_max)[1:-1]


def mel_filterbank(n_bands: int, n_fft: int, rate: int, f_min: float = F_MIN, f_max: float = F_MAX) -> np.ndarray:
    """Triangular filter weights, shape (n_bands, n_fft // 2 + 1), peak 1 at each band's centre."""
    f = np.arange(n_fft // 2 + 1) * rate / n_fft
    e = band_edges(n_bands, f_min, min(f_max, rate / 2))
    lo, mid, hi = e[:-2, None], e[1:-1, None], e[2:, None]
    return np.clip(np.minimum((f - lo) / (mid - lo), (hi - f) / (hi - mid)), 0.0, None)


def frames(x: np.ndarray, rate: int) -> np.ndarray:
    """25 ms frames every 10 ms (the last partial frame zero-padded), shape (n_frames, frame length)."""
    n, hop = int(round(FRAME_LENGTH * rate)), int(round(FRAME_HOP * rate))
    count = max(1, 1 + int(np.ceil(max(x.size - n, 0) / hop)))
    padded = np.zeros((count - 1) * hop + n)
    padded[: x.size] = x
    idx = np.arange(n)[None, :] + hop * np.arange(count)[:, None]
    return padded[idx]


def mel_power(x: np.ndarray, rate: int, n_bands: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """(band power per frame, shape (n_frames, n_bands); mean-square amplitude per frame) of ``x``.

    Band power is the filter-weighted periodogram normalised by Parseval
    (2 |X_k|^2 / (n_fft sum w^2)), so a sine of amplitude A at a band's centre
    gives its mean-square amplitude A^2 / 2 in that band (the triangle is ~1
    over the window's main lobe).
    """
    fr = frames(np.asarray(x, float), rate)
    win = np.hanning(fr.shape[1])
    n_fft = int(2 ** np.ceil(np.log2(fr.shape[1])))
    spec = np.abs(np.fft.rfft(fr * win, n_fft, axis=1)) ** 2 * (2.0 / (n_fft * np.sum(win**2)))
    return spec @ mel_filterbank(n_bands, n_fft, rate).T, np.mean(fr**2, axis=1)


def clip_image(x: np.ndarray, rate: int, n_bands: int = 16, n_frames: int = 16, *, dynamic_range_db: float = 60.0,
               endpoint_db: float = 30.0) -> np.ndarray:
    """The clip as an (n_bands, n_frames) image in [0, 1] (see the module docstring)."""
    power, energy = mel_power(x, rate, n_bands)
    loud = energy > max(SILENCE_FLOOR, float(energy.max()) * 10 ** (-endpoint_db / 10))
    if not loud.any():
        return np.zeros((n_bands, n_frames))
    first, last = np.flatnonzero(loud)[[0, -1]]
    span = power[first:last + 1]
    # n_frames equal segments of the word's span (fractional frame boundaries, by linear weights)
    edges = np.linspace(0.0, span.shape[0], n_frames + 1)
    cum = np.vstack([np.zeros(n_bands), np.cumsum(span, axis=0)])
    at = np.array([np.interp(edges, np.arange(span.shape[0] + 1), cum[:, b]) for b in range(n_bands)]).T
    seg = np.diff(at, axis=0) / np.diff(edges)[:, None]
    db = 10.0 * np.log10(np.maximum(seg, 1e-30) / seg.max())
    return np.clip(1.0 + db / dynamic_range_db, 0.0, 1.0).T
