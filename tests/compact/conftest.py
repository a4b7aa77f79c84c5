"""Fixtures of the compact-stage tests: synthetic upstream results and a fitted card (made once)."""

from __future__ import annotations

import pytest

from devicephys.compact import build, synthetic
from devicephys.compact.spec import CompactSpec


@pytest.fixture(scope="session")
def filament_ds():
    """Filament-result dataset simulated from the known reference parameters."""
    return synthetic.filament_dataset()


@pytest.fixture(scope="session")
def emission_ds():
    """Emission-result dataset from the toy spectrum."""
    return synthetic.emission_dataset()


@pytest.fixture(scope="session")
def card(filament_ds, emission_ds):
    """DeviceCard fitted to the synthetic results."""
    return build.fit_device(filament_ds, emission_ds, CompactSpec())
