"""A four-word spoken-command set synthesised with espeak-ng and flite (nothing downloaded).

Words "yes", "no", "up", "down", spoken by

* espeak-ng: every English voice that synthesises on this machine (the
  ``gmw/`` accents; MBROLA voices are skipped when the MBROLA binary is
  absent) crossed with every voice variant (``!v/``, plus the plain voice);
* flite: every built-in voice except the limited-domain ``awb_time`` (it can
  only say clock times); ``kal`` and ``kal16`` are one speaker at two rates.

Each utterance draws a speaking rate, a pitch and an additive white-noise
SNR from fixed grids with a seeded generator.  The *speaker* of an utterance
is the espeak variant (the voice quality: pitch range, formants, breathiness;
the accent is crossed with it) or the flite voice; the train/test split
(:func:`devicephys.speech.dataset.speaker_split`) holds whole speakers out.

The set is written once, in the Speech Commands layout
(``<word>/<speaker>_nohash_<tag>.wav``, 16 kHz mono 16-bit), into
``<cache>/speech/synth-v2`` where ``<cache>`` is ``$DEVICEPHYS_CACHE`` (default
``~/.cache/devicephys``).  It is built in a temporary folder and renamed into
place, so an interrupted run leaves no partial set under the final name.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from devicephys.errors import SpecError
from devicephys.speech.wav import SAMPLE_RATE, read_wav, write_wav

WORDS = ("yes", "no", "up", "down")
#: espeak-ng speaking rates [words per minute] and pitch settings [0-99, 50 = voice default].
ESPEAK_RATES = (120, 150, 175, 210)
ESPEAK_PITCHES = (25, 40, 55, 70, 85)
#: flite duration stretch [1] and mean F0 [Hz].
FLITE_STRETCH = (0.8, 1.0, 1.25)
FLITE_F0 = (90.0, 120.0, 160.0, 200.0)
#: Additive white-noise SNRs [dB] (inf: clean), relative to the speech power over the whole clip.
SNRS_DB = (np.inf, 30.0, 20.0, 10.0)
FLITE_RENDITIONS = 8
SET_NAME = "synth-v2"


def cache_dir() -> Path:
    """The project's cache folder: ``$DEVICEPHYS_CACHE``, else ``~/.cache/devicephys`` (as the set-up's)."""
    return Path(os.environ.get("DEVICEPHYS_CACHE") or Path.home() / ".cache" / "devicephys")


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise SpecError(f"the synthesised speech set needs '{tool}' on PATH; install the Debian package {tool} "
                        f"(apt-get install {tool}) or give a Speech Commands folder")
    return path


def _voice_files(args: list[str]) -> list[str]:
    """The File column of ``espeak-ng --voices=...``: the words after VoiceName up to "(" (names may hold spaces)."""
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout.splitlines()[1:]
    files = []
    for line in out:
        words = line.split()[4:]
        stop = next((i for i, w in enumerate(words) if w.startswith("(")), len(words))
        if stop:
            files.append(" ".join(words[:stop]))
    return files


def espeak_voices() -> list[str]:
    """English espeak-ng voices (file names such as ``gmw/en-US``) that synthesise here."""
    files = sorted(set(_voice_files([_need("espeak-ng"), "--voices=en"])))
    # MBROLA voices (mb/) need the separate mbrola binary; !v/ entries are variants, crossed below
    return [f for f in files if not f.startswith(("mb/", "!v/"))]


def espeak_variants() -> list[str]:
    """espeak-ng voice variants (``Storm``, ``klatt``, ...) plus ``""`` for the plain voice."""
    files = _voice_files([_need("espeak-ng"), "--voices=variant"])
    return [""] + sorted({f.split("/", 1)[1] for f in files if f.startswith("!v/")})


def flite_voices() -> list[str]:
    """flite's built-in voices, less the limited-domain ``awb_time``."""
    out = subprocess.run([_need("flite"), "-lv"], capture_output=True, text=True, check=True).stdout
    return [v for v in out.split(":", 1)[1].split() if v != "awb_time"]


def _speaker(engine: str, name: str) -> str:
    name = {"kal16": "kal"}.get(name, name) if engine == "flite" else (name or "plain")
    return f"{engine}-{name}".replace("_", "-").replace(" ", "-")


def plan(seed: int = 0) -> list[dict]:
    """Every utterance to synthesise: engine, voice, speaker, word, rate, pitch, SNR and file name."""
    rng = np.random.default_rng(seed)
    items = []
    for voice in espeak_voices():
        for variant in espeak_variants():
            for word in WORDS:
                items.append({"engine": "espeak", "voice": voice + (f"+{variant}" if variant else ""),
                              "speaker": _speaker("espeak", variant), "word": word,
                              "rate": int(rng.choice(ESPEAK_RATES)), "pitch": int(rng.choice(ESPEAK_PITCHES)),
                              "snr_db": float(rng.choice(SNRS_DB)), "accent": voice.split("/")[-1]})
    for voice in flite_voices():
        for word in WORDS:
            for _ in range(FLITE_RENDITIONS):
                items.append({"engine": "flite", "voice": voice, "speaker": _speaker("flite", voice), "word": word,
                              "rate": float(rng.choice(FLITE_STRETCH)), "pitch": float(rng.choice(FLITE_F0)),
                              "snr_db": float(rng.choice(SNRS_DB)), "accent": voice})
    for n, it in enumerate(items):
        it["seed"] = int(seed * 1_000_003 + n)
        snr = "clean" if np.isinf(it["snr_db"]) else f"snr{it['snr_db']:g}"
        it["file"] = f"{it['word']}/{it['speaker']}_nohash_{n:05d}-{it['accent']}-{snr}.wav"
    return items


def _render(item: dict, tmp: Path) -> np.ndarray:
    """Synthesise one utterance to a float waveform at 16 kHz (full scale 1)."""
    from scipy.signal import resample_poly

    out = tmp / f"{item['seed']}.wav"
    if item["engine"] == "espeak":
        cmd = [_need("espeak-ng"), "-v", item["voice"], "-s", str(item["rate"]), "-p", str(item["pitch"]),
               "-w", str(out), item["word"]]
    else:
        cmd = [_need("flite"), "-voice", item["voice"], "--setf", f"duration_stretch={item['rate']}",
               "--setf", f"int_f0_target_mean={item['pitch']}", "-t", item["word"], "-o", str(out)]
    subprocess.run(cmd, capture_output=True, check=True)
    x, rate = read_wav(out, require_rate=None)
    out.unlink()
    if rate != SAMPLE_RATE:
        g = np.gcd(rate, SAMPLE_RATE)
        x = resample_poly(x, SAMPLE_RATE // g, rate // g)
    return x


def add_noise(x: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """``x`` plus white Gaussian noise at ``snr_db`` [dB] below the clip's mean power (inf: unchanged)."""
    if np.isinf(snr_db):
        return x
    power = float(np.mean(x**2))
    return x + rng.normal(0.0, np.sqrt(power * 10 ** (-snr_db / 10)), x.size)


def _make_one(item: dict, folder: Path, tmp: Path) -> None:
    x = add_noise(_render(item, tmp), item["snr_db"], np.random.default_rng(item["seed"]))
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    write_wav(folder / item["file"], x * (0.5 / peak) if peak > 0 else x)


def synthesize(folder: Path | None = None, *, seed: int = 0, limit: int | None = None, progress: bool = True,
               workers: int = 2) -> Path:
    """Build the set (if not already there) and return its folder.

    ``limit`` keeps a seeded random draw of ``limit`` utterances of the plan
    (a small subset for tests and ``--fast``; words and speakers stay mixed).
    """
    folder = Path(folder) if folder else cache_dir() / "speech" / (SET_NAME if limit is None else f"{SET_NAME}-{limit}")
    if (folder / "manifest.json").is_file():
        return folder
    items = plan(seed)
    if limit is not None and limit < len(items):
        keep = np.sort(np.random.default_rng(seed + 1).choice(len(items), limit, replace=False))
        items = [items[i] for i in keep]
    folder.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for w in WORDS:
            (build / w).mkdir()
        bar = _bar(len(items), progress)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(lambda it: _make_one(it, build, build), items):
                if bar is not None:
                    bar.update()
        if bar is not None:
            bar.close()
        (build / "manifest.json").write_text(json.dumps({"seed": seed, "words": list(WORDS), "items": items},
                                                        indent=0) + "\n")
        try:
            os.replace(build, folder)
        except OSError:
            if not (folder / "manifest.json").is_file():  # another process finished first: use its set
                raise
    finally:
        if build.exists():
            shutil.rmtree(build)
    return folder


def _bar(total: int, progress: bool):
    if not progress:
        return None
    from devicephys.progress import bar

    return bar(total=total, desc="speech: synthesis", unit="clip")
