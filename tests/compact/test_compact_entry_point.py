"""``devicephys.compact.fit_compact``: the compact stage's in-memory entry point."""

from __future__ import annotations

import pytest

import devicephys.compact
from devicephys import versions
from devicephys.compact.card import DeviceCard
from devicephys.compact.spec import CompactSpec
from devicephys.errors import SpecError


def test_fit_compact_in_memory_equals_the_stage_fit(filament_ds, emission_ds):
    from devicephys.compact import build

    spec = CompactSpec(verify=False, refine_set_time=False)
    card = devicephys.compact.fit_compact(filament_ds, emission_ds, spec)
    assert isinstance(card, DeviceCard)
    reference = build.fit_device(filament_ds, emission_ds, spec)
    assert card.parameters == reference.parameters and card.uncertainties == reference.uncertainties
    assert card.provenance["versions"].get("ngspice") == versions.ngspice_version()


def test_fit_compact_refuses_a_wrong_input():
    with pytest.raises(SpecError, match="filament input must be"):
        devicephys.compact.fit_compact([1, 2], None, CompactSpec())
