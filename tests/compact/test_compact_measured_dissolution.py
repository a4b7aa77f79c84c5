"""The measured path with a two-slow-state base card (``rupture: dissolution``), on the example files.

The example sweep is the FEM's own: its ON state breaks under bias (the oldest stretch of the filament
falls below percolation) and re-forms, three times before the sweep ends.  A card of one slow state
releases only on the falling ramp; a card with the oldest stretch's dissolution releases under bias.
Its dissolution rate comes from the measured self-rupture time, k_d = (1 - c_p)/t_r.  Slow: two fits
of the set-time law by simulation (about 80 s).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from devicephys.compact import build, measured, measured_fit, measured_stage
from devicephys.compact.card import DeviceCard
from devicephys.compact.spec import CompactSpec
from devicephys.filament.spec import FilamentSpec

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _releases_under_bias(table: measured.Table, source_min: float) -> int:
    on = table["voltage"] < 0.5 * table["source_voltage"]
    off_edges = np.flatnonzero(on[:-1] & ~on[1:])
    return int(np.sum(table["source_voltage"][off_edges] > source_min))


@pytest.fixture(scope="module")
def fitted():
    sweep = measured.read_sweep(ROOT / "examples/measured/sweep.csv")
    pulses = measured.read_pulses(ROOT / "examples/measured/pulses.csv")
    base = DeviceCard.load(ROOT / "examples/measured/device_card.json")
    cards = {name: measured_fit.fit_card(sweep, pulses, b, CompactSpec(verify=False))
             for name, b in (("one", base), ("two", build.with_dissolution(base, FilamentSpec().model_dump())))}
    return sweep, pulses, cards


def test_dissolution_rate_from_the_measured_self_rupture(fitted):
    _, pulses, cards = fitted
    t_r = float(np.median(pulses["relaxation_time"][np.isfinite(pulses["relaxation_time"])]))
    v = cards["two"].values()
    assert v["relaxation_time"] == t_r
    assert v["dissolution_rate"] == pytest.approx((1 - v["percolation_fraction"]) / t_r, rel=1e-12)
    assert "self-rupture" in cards["two"].parameters["dissolution_rate"]["source"]


def test_two_state_card_releases_under_bias_like_the_measurement(fitted):
    sweep, _, cards = fitted
    level = 1.0  # [V] well above the one-state card's release on the falling ramp (0.77 V source)
    measured_count = _releases_under_bias(sweep, level)
    assert measured_count == 2  # at 2.90 V and 1.90 V source
    one = measured_stage.replay(cards["one"], sweep, spice=False)["numpy"]["waveform"]
    two = measured_stage.replay(cards["two"], sweep, spice=False)["numpy"]["waveform"]
    assert _releases_under_bias(one, level) == 0
    assert _releases_under_bias(two, level) >= measured_count
