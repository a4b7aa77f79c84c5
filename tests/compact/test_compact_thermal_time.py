"""Which time of the filament's thermal step the card's thermal pole carries (``CompactSpec.thermal_time``)."""

from __future__ import annotations

import numpy as np
import pytest

from devicephys.compact import build, synthetic
from devicephys.compact.spec import CompactSpec
from devicephys.errors import SpecError
from devicephys.result import scalar_var
from tests.compact.test_compact_fem_path import fem_like


def _emission():
    return synthetic.emission_dataset(wavelengths=np.linspace(2e-6, 10e-6, 241), band_scale=9.0)


def test_the_card_carries_the_crossing_by_default_and_the_first_moment_on_request():
    ds = fem_like()
    tau = float(ds["thermal_time_constant"])
    # a response with a slow share, as behind an electrode/substrate interface: its first moment 60 times the crossing
    ds["thermal_time_constant_mean"] = scalar_var(60 * tau, "s", "thermal time constant mean", method="test")
    crossing = build.fit_device(ds, _emission(), CompactSpec(verify=False)).values()
    moment = build.fit_device(ds, _emission(), CompactSpec(verify=False, thermal_time="moment")).values()
    assert crossing["thermal_capacitance"] * crossing["thermal_resistance"] == pytest.approx(tau, rel=1e-12)
    assert moment["thermal_capacitance"] * moment["thermal_resistance"] == pytest.approx(60 * tau, rel=1e-12)
    assert moment["thermal_resistance"] == crossing["thermal_resistance"]  # the pole's time alone moves


def test_the_moment_is_refused_in_one_line_on_a_result_without_it():
    with pytest.raises(SpecError) as err:
        build.fit_device(fem_like(), _emission(), CompactSpec(verify=False, thermal_time="moment"))
    assert err.value.field == "thermal_time" and "\n" not in str(err.value)
    assert "thermal_time_constant_mean" in str(err.value) and "thermal_time: crossing" in str(err.value)
