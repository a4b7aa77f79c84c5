"""Reading and writing one-word WAV clips (16 kHz mono, as in Speech Commands).

Every problem with a file is one :class:`~devicephys.errors.SpecError` line
that names the file and the fix (the CLI and the study exit with status 2).
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np

from devicephys.errors import SpecError
from devicephys.io import atomic_path

#: Sample rate the front end expects [Hz] (Speech Commands' rate).
SAMPLE_RATE = 16000
_FIX_RATE = "resample it to 16 kHz (e.g. sox IN.wav -r 16000 OUT.wav)"


def read_wav(path: str | Path, require_rate: int | None = SAMPLE_RATE) -> tuple[np.ndarray, int]:
    """Samples of a mono WAV file as floats (full scale 1) and its sample rate [Hz].

    Parameters
    ----------
    path : str or Path
        The WAV file (PCM 8/16/32-bit integer or 32/64-bit float).
    require_rate : int or None
        Required sample rate [Hz]; None accepts any.

    Raises
    ------
    SpecError
        Missing or unreadable file, more than one channel, no samples, or a
        sample rate other than ``require_rate``.
    """
    from scipy.io import wavfile

    path = Path(path)
    if not path.is_file():
        raise SpecError(f"WAV file '{path}' does not exist or is not a file; give the path of a 16 kHz mono .wav file")
    if path.stat().st_size == 0:
        raise SpecError(f"WAV file '{path}' is empty (0 bytes); re-record it or remove it from the folder")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            rate, data = wavfile.read(path)
        except (ValueError, EOFError, OSError, struct.error) as exc:
            why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise SpecError(f"WAV file '{path}' is unreadable ({why}); re-export it as 16 kHz mono PCM WAV") from None
    if any("EOF" in str(w.message) or "prematurely" in str(w.message) for w in caught):
        raise SpecError(f"WAV file '{path}' is truncated (its data ends before the header says); re-export it")
    if data.ndim == 2 and data.shape[1] != 1:
        raise SpecError(f"WAV file '{path}' has {data.shape[1]} channels; need mono: mix it down "
                        f"(e.g. sox IN.wav -c 1 OUT.wav)")
    data = data.reshape(-1)
    if data.size == 0:
        raise SpecError(f"WAV file '{path}' holds no samples; re-record it or remove it from the folder")
    if require_rate is not None and rate != require_rate:
        raise SpecError(f"WAV file '{path}' has sample rate {rate} Hz, need {require_rate} Hz; {_FIX_RATE}")
    return _to_float(data), int(rate)


def _to_float(data: np.ndarray) -> np.ndarray:
    if data.dtype == np.uint8:
        return (data.astype(float) - 128.0) / 128.0
    if np.issubdtype(data.dtype, np.integer):
        return data.astype(float) / float(np.iinfo(data.dtype).max + 1)
    return data.astype(float)


def write_wav(path: str | Path, x: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    """Write ``x`` (full scale 1, clipped) as 16-bit PCM mono at ``rate`` [Hz], atomically."""
    from scipy.io import wavfile

    pcm = np.round(np.clip(np.asarray(x, float), -1.0, 32767 / 32768) * 32768).astype(np.int16)
    with atomic_path(path) as tmp:
        wavfile.write(tmp, rate, pcm)
    return Path(path)
