"""Clips in the Speech Commands layout and the speaker-disjoint split.

Layout (Warden, *Speech Commands*, arXiv:1804.03209): one folder per word,
``<root>/<word>/<speaker>_nohash_<n>.wav``; the label is the folder name and
the speaker is the file-name part before ``_nohash_`` (the whole stem when
there is none).  Folders whose name starts with ``_`` or ``.``
(``_background_noise_``) are not words.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from devicephys.errors import SpecError


@dataclass(frozen=True)
class Clips:
    """Files of a word set: ``paths``, integer ``labels`` (index into ``words``) and ``speakers``."""

    paths: list[Path]
    labels: np.ndarray
    speakers: list[str]
    words: tuple[str, ...]

    def subset(self, mask: np.ndarray) -> Clips:
        """The clips where ``mask`` is true."""
        idx = np.flatnonzero(mask)
        return Clips([self.paths[i] for i in idx], self.labels[idx], [self.speakers[i] for i in idx], self.words)


def speaker_of(path: Path) -> str:
    """Speaker ID of a clip: the file name before ``_nohash_`` (else the stem)."""
    return path.stem.split("_nohash_")[0]


def load_folder(root: str | Path, words: list[str] | tuple[str, ...] | None = None) -> Clips:
    """All ``.wav`` clips under ``root`` in the Speech Commands layout (``words`` None: every word folder).

    Raises
    ------
    SpecError
        ``root`` missing, no word folder with clips, a requested word absent,
        or fewer than two words.
    """
    root = Path(root)
    if not root.is_dir():
        raise SpecError(f"--speech-commands {root}: no such folder; give a folder with one sub-folder of .wav "
                        f"clips per word (the Speech Commands layout)")
    present = sorted(d.name for d in root.iterdir()
                     if d.is_dir() and not d.name.startswith(("_", ".")) and any(d.glob("*.wav")))
    chosen = tuple(present if words is None else words)
    missing = [w for w in chosen if w not in present]
    if missing:
        raise SpecError(f"--speech-commands {root}: no clips for word(s) {missing}; the folder has {present}")
    if len(chosen) < 2:
        raise SpecError(f"--speech-commands {root}: found word folders {present}; need at least two words, "
                        f"each a sub-folder of .wav clips")
    paths, labels = [], []
    for k, w in enumerate(chosen):
        files = sorted((root / w).glob("*.wav"))
        paths += files
        labels += [k] * len(files)
    return Clips(paths, np.asarray(labels, dtype=np.int64), [speaker_of(p) for p in paths], chosen)


def speaker_split(speakers: list[str], test_fraction: float = 0.25, seed: int = 0) -> np.ndarray:
    """Boolean test mask that holds out whole speakers (a seeded draw of ``test_fraction`` of them).

    Raises
    ------
    SpecError
        Fewer than two speakers, or ``test_fraction`` outside (0, 1).
    """
    if not 0 < test_fraction < 1:
        raise SpecError(f"speaker_split: test_fraction must be in (0, 1), got {test_fraction!r}")
    unique = sorted(set(speakers))
    if len(unique) < 2:
        raise SpecError(f"speaker_split: clips come from {len(unique)} speaker(s); a speaker-disjoint split needs "
                        f"two or more (name files <speaker>_nohash_<n>.wav)")
    n_test = min(len(unique) - 1, max(1, int(round(test_fraction * len(unique)))))
    held = set(np.random.default_rng(seed).permutation(unique)[:n_test])
    return np.array([s in held for s in speakers])


def images(clips: Clips, n_bands: int = 16, n_frames: int = 16, *, progress: bool = False) -> np.ndarray:
    """Front-end images of every clip, flattened band-major, shape (n_clips, n_bands * n_frames), in [0, 1]."""
    from devicephys.speech.frontend import clip_image
    from devicephys.speech.wav import read_wav

    it = clips.paths
    if progress:
        from devicephys.progress import bar

        it = bar(it, desc="speech: front end", unit="clip")
    out = np.empty((len(clips.paths), n_bands * n_frames))
    for i, p in enumerate(it):
        x, rate = read_wav(p)
        out[i] = clip_image(x, rate, n_bands, n_frames).ravel()
    return out
