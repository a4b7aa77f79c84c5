"""The synthesiser's voice list: every espeak-ng variant is a real variant file (no silent fallback)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from devicephys.speech import synth

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("flite") is None,
                                reason="speech synthesisers absent (apt-get install espeak-ng flite)")


def test_every_variant_is_a_variant_file():
    """espeak-ng silently falls back to the plain voice for an unknown variant ('+Mr' for 'Mr serious'),
    which would make two 'speakers' one voice; each listed variant must be a file in espeak's data."""
    data = re.search(r"Data at:\s*(\S+)", subprocess.run(["espeak-ng", "--version"], capture_output=True,
                                                          text=True).stdout).group(1)
    variants = [v for v in synth.espeak_variants() if v]
    assert len(variants) >= 50
    missing = [v for v in variants if not (Path(data) / "voices" / "!v" / v).is_file()]
    assert not missing


def test_plan_has_one_speaker_per_voice_quality():
    items = synth.plan()
    speakers = {it["speaker"] for it in items}
    assert len(speakers) == len(synth.espeak_variants()) + len({v.removesuffix("16") for v in synth.flite_voices()})
    assert all(" " not in it["file"] and it["file"].split("/")[0] in synth.WORDS for it in items)
    assert "awb_time" not in synth.flite_voices()
