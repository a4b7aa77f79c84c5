"""Measured CSV files: units converted, the sweep read as an experimenter would, bad files refused in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from devicephys.cli import main
from devicephys.compact import measured
from devicephys.errors import SpecError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "measured"


def _write_sweep(path, ds, current_unit="mA", scale=1e3, header=None):
    rows = [header or f"time [us],voltage [V],current [{current_unit}]"]
    for t, v, i in zip(ds["time"].values, ds["voltage"].values, ds["current"].values):
        rows.append(f"{float(t) * 1e6!r},{float(v)!r},{float(i * scale)!r}")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_example_files_in_si(tmp_path):
    sweep = measured.read_sweep(EXAMPLES / "sweep.csv")
    raw = np.genfromtxt(EXAMPLES / "sweep.csv", delimiter=",", comments="#", skip_header=4)
    assert sweep["time"] == pytest.approx(raw[:, 0] * 1e-6, rel=1e-15)  # us -> s
    assert sweep["current"] == pytest.approx(raw[:, 2] * 1e-3, rel=1e-15)  # mA -> A
    assert sweep.lines[0] == 5  # three comment lines and the header come first
    pulses = measured.read_pulses(EXAMPLES / "pulses.csv")
    assert np.all(pulses["set_time"] < 1e-4) and np.sum(np.isfinite(pulses["relaxation_time"])) == 1


def test_synthetic_sweep_read_like_the_simulation(tmp_path, filament_ds):
    m = measured.sweep_parameters(measured.read_sweep(_write_sweep(tmp_path / "s.csv", filament_ds)))
    # the synthetic fixture splits ON/OFF at the geometric mean with the smallest conductance, the reader with the
    # median of the first tenth (robust to noise): on this gradual closure the switching sample moves by one step
    step = np.max(np.abs(np.diff(filament_ds["voltage"].values[:int(np.argmax(filament_ds["current"].values))])))
    assert abs(m["threshold_voltage"] - float(filament_ds["threshold_voltage"])) <= step
    assert m["resistance_on"] == pytest.approx(float(filament_ds["resistance_on"]), rel=0.02)
    assert not m["resistance_off_lower_bound"]


@pytest.mark.parametrize("header, message", [
    ("time [us],voltage [V]", r"s.csv line 1: column 'current \[A\]' is missing .*add it"),
    ("time [us],voltage [V],current [mV]", r"s.csv line 1: column 'current' has unit \[mV\].*not convertible to A"),
    ("time,voltage [V],current [mA]", r"s.csv line 1: column header 'time' must read 'name \[unit\]'"),
])
def test_bad_header(tmp_path, filament_ds, header, message):
    path = _write_sweep(tmp_path / "s.csv", filament_ds, header=header)
    with pytest.raises(SpecError, match=message):
        measured.read_sweep(path)


def test_bad_rows(tmp_path, filament_ds):
    path = _write_sweep(tmp_path / "s.csv", filament_ds)
    lines = path.read_text().splitlines()
    lines[7] = lines[5]  # line 8 repeats line 6's time
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SpecError, match=r"s.csv line 8: time .* is not after .*sort it or remove repeated lines"):
        measured.read_sweep(path)
    lines[7] = "1e-3,abc,2"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SpecError, match=r"s.csv line 8: column 'voltage' is not a number \('abc'\)"):
        measured.read_sweep(path)
    bad = tmp_path / "p.csv"
    bad.write_text("voltage [V],set_time [ns]\n3,100\n3.5,-2\n")
    with pytest.raises(SpecError, match=r"p.csv line 3: set_time = .* must be > 0"):
        measured.read_pulses(bad)


def test_sweeps_that_do_not_switch_or_do_not_release(tmp_path):
    t = np.linspace(0, 1e-3, 50)
    v = 2 * np.minimum(t, t[-1] - t) / t[-1]
    flat = tmp_path / "flat.csv"
    flat.write_text("time [s],voltage [V],current [A]\n" + "".join(f"{a:.9g},{b:.9g},{b * 1e-6:.9g}\n" for a, b in zip(t, v)))
    with pytest.raises(SpecError, match=r"flat.csv line \d+: the sweep never switches the device .* higher voltage"):
        measured.sweep_parameters(measured.read_sweep(flat))
    stuck = tmp_path / "stuck.csv"
    i = np.where(t > 0.3e-3, v * 1e-2, v * 1e-9)  # switches on and stays on
    stuck.write_text("time [s],voltage [V],current [A]\n" + "".join(f"{a:.9g},{b:.9g},{c:.9g}\n" for a, b, c in zip(t, v, i)))
    with pytest.raises(SpecError, match=r"stuck.csv line 51: the device is still ON at the end of the sweep"):
        measured.sweep_parameters(measured.read_sweep(stuck))


def test_cli_bad_file_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("time [s],voltage [V],current [V]\n0,0,0\n")
    code = main(["compact", "--measured", str(bad), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "bad.csv line 1: column 'current' has unit [V]" in err
    assert main(["compact", "--measured", str(tmp_path / "none.csv"), "--out", str(tmp_path / "o")]) == 2
    assert "no such file" in capsys.readouterr().err
