"""A DeviceCard fitted to measured CSV files; bad columns and units are refused clearly."""

from __future__ import annotations

import numpy as np
import pytest

from devicephys.compact import measured
from devicephys.errors import SpecError


def _write_sweep(path, ds, current_unit="mA", scale=1e3):
    rows = ["time [s],voltage [V],current [%s]" % current_unit]
    for t, v, i in zip(ds["time"].values, ds["voltage"].values, ds["current"].values):
        rows.append(f"{float(t)!r},{float(v)!r},{float(i * scale)!r}")
    path.write_text("\n".join(rows) + "\n")
    return path


def _write_pulses(path, ds):
    rows = ["voltage [V],set_time [ns]"]
    rows += [f"{float(v)!r},{float(t * 1e9)!r}" for v, t in zip(ds["set_voltage"].values, ds["set_time"].values)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_measured_card_reproduces_the_measured_device(tmp_path, filament_ds, card):
    sweep = _write_sweep(tmp_path / "sweep.csv", filament_ds)
    pulses = _write_pulses(tmp_path / "pulses.csv", filament_ds)
    got = measured.fit_measured(sweep, pulses, card, "measured-device")
    m = got.fit_quality["measured"]
    assert m["threshold_voltage"] == pytest.approx(float(filament_ds["threshold_voltage"]), rel=1e-9)
    assert m["hold_voltage"] == pytest.approx(float(filament_ds["hold_voltage"]), rel=1e-9)
    assert got.value("hold_voltage") == pytest.approx(m["hold_voltage"], rel=1e-6)
    assert got.value("resistance_on") == pytest.approx(m["resistance_on"], rel=1e-6)
    assert got.value("resistance_off") == pytest.approx(m["resistance_off"], rel=1e-6)
    assert abs(got.fit_quality["threshold_model_vs_measured"]) < 0.02
    assert got.value("set_time_v0") == pytest.approx(card.value("set_time_v0"), rel=1e-3)
    assert got.value("set_time_tau0") == pytest.approx(card.value("set_time_tau0"), rel=1e-2)
    assert "measured" in got.parameters["set_time_v0"]["source"]


def test_bad_columns_units_and_values(tmp_path, filament_ds):
    ok = _write_sweep(tmp_path / "s.csv", filament_ds)
    with pytest.raises(SpecError, match="column 'set_time"):
        measured.read_csv(ok, {"voltage": "V", "set_time": "s"})
    bad_unit = _write_sweep(tmp_path / "u.csv", filament_ds, current_unit="mV", scale=1.0)
    with pytest.raises(SpecError, match=r"unit \[mV\].*not convertible to A"):
        measured.read_csv(bad_unit, {"voltage": "V", "current": "A"})
    no_unit = tmp_path / "n.csv"
    no_unit.write_text("voltage,current\n1,2\n")
    with pytest.raises(SpecError, match="name \\[unit\\]"):
        measured.read_csv(no_unit, {"voltage": "V", "current": "A"})
    text = tmp_path / "t.csv"
    text.write_text("voltage [V],current [A]\n1,2\n1,abc\n")
    with pytest.raises(SpecError, match="line 3"):
        measured.read_csv(text, {"voltage": "V", "current": "A"})
    with pytest.raises(SpecError, match="not a threshold-switching sweep"):
        measured.sweep_parameters(np.linspace(0.1, 1, 20), np.linspace(0.1, 1, 20) * 1e-6)
