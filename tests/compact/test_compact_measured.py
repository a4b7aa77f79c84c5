"""Measured CSV files: units converted, the sweep read as an experimenter would, bad files refused in one line."""

from __future__ import annotations

import math
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


R_S, R_ON, V_T = 5e3, 200.0, 0.08  # series resistor [Ohm], ON resistance [Ohm], tunnelling voltage scale [V]


def _g_off(v):
    """OFF conductance [S] of a closing tunnelling gap: 1e-19 S at 0 V, rising e-fold per 0.08 V (11 decades by 2 V)."""
    return 1e-19 * np.exp(np.abs(v) / V_T)


def _tunnelling_sweep(flicker_at=2.5, set_at=2.0, release_below=0.5, n=601, flicker_down=None):
    """Source triangle 0 -> 3 V -> 0 through R_S; the cell sets at ``set_at`` (source), is OFF for one sample at
    ``flicker_at`` on the way up, and releases when the source falls below ``release_below`` [V]."""
    from scipy.optimize import brentq

    t = np.linspace(0.0, 100e-6, n)
    src = 3.0 * np.minimum(t, t[-1] - t) / (t[-1] / 2)
    k_peak = int(np.argmax(src))
    on = np.zeros(n, bool)
    on[(np.arange(n) <= k_peak) & (src >= set_at)] = True
    on[(np.arange(n) > k_peak) & (src >= release_below)] = True
    on[int(np.argmin(np.abs(np.where(np.arange(n) < k_peak, src, 9) - flicker_at)))] = False
    if flicker_down is not None:  # one OFF sample on the falling ramp, ON again after it
        on[int(np.argmin(np.abs(np.where(np.arange(n) > k_peak, src, 9) - flicker_down)))] = False
    v = np.empty(n)
    for k in range(n):
        if on[k]:
            v[k] = src[k] * R_ON / (R_ON + R_S)
        else:  # load line: V + R_S G(V) V = V_src
            v[k] = brentq(lambda x: x + R_S * _g_off(x) * x - src[k], 0.0, src[k] + 1e-30) if src[k] > 0 else 0.0
    i = np.where(on, v / R_ON, _g_off(v) * v)
    return t, v, i, src, on


def _table(t, v, i, src=None):
    cols = {"time": t, "voltage": v, "current": i}
    if src is not None:
        cols["source_voltage"] = src
    return measured.Table(Path("synthetic.csv"), cols, np.arange(t.size) + 2, 1)


def test_load_line_reads_the_set_not_the_tunnelling_rise():
    t, v, i, src, on = _tunnelling_sweep()
    m = measured.sweep_parameters(_table(t, v, i, src))
    first = int(np.argmax(on))
    assert m["criterion"] == "load line" and m["first_on"] == first
    assert m["threshold_voltage"] == v[first - 1]  # the largest cell voltage before the set (the ramp is monotonic)
    release = int(np.flatnonzero(on)[-1])
    assert m["last_on"] == release  # the flicker on the way up is not the release
    assert m["hold_voltage"] == pytest.approx(src[release] * R_ON / (R_ON + R_S), rel=1e-12)
    assert m["resistance_on"] == pytest.approx(R_ON, rel=1e-12)
    assert m["switch_on_conductance"] == pytest.approx(1 / R_S, rel=1e-12)
    assert m["sets_after_release"] == 0  # a clean release
    # OFF after the first set: the flicker sample and the relaxed tail (its currents resolved: no noise)
    off = ~on & (np.abs(src) > 1e-2 * src.max())
    off[:first] = False
    assert not m["resistance_off_lower_bound"]
    assert m["resistance_off"] == pytest.approx(1 / float(np.median(_g_off(v[off]))), rel=1e-9)


def test_conductance_criterion_without_a_source_reads_the_tunnelling_rise():
    # without the source column the split is the geometric mean of the ON and relaxed conductances: across a
    # tunnelling gap the OFF conductance reaches it before the set, at V = V_T ln(split / 1e-19 S)
    t, v, i, src, on = _tunnelling_sweep()
    m = measured.sweep_parameters(_table(t, v, i))
    ok = np.abs(v) > 1e-3 * np.abs(v).max()
    early = np.flatnonzero(ok)[:int(ok.sum()) // 10]
    split = math.sqrt(1 / R_ON * float(np.median(_g_off(v[early]))))
    assert m["criterion"] == "conductance" and m["switch_on_conductance"] == pytest.approx(split, rel=1e-9)
    v_cross = V_T * math.log(split / 1e-19)
    step = float(np.max(np.diff(src)))
    assert v_cross - step <= m["threshold_voltage"] < v_cross < v[int(np.argmax(on)) - 1]


def test_off_resistance_at_the_noise_floor_is_a_lower_bound():
    t, v, i, src, on = _tunnelling_sweep()
    noise = 1e-12
    i_n = i + np.random.default_rng(7).normal(0, noise, i.size)
    m = measured.sweep_parameters(_table(t, v, i_n, src))
    assert m["resistance_off_lower_bound"]
    n = max(3, (m["first_on"] - 1) // 10)
    assert abs(m["current_noise"] / noise - 1) <= 3 / math.sqrt(2 * n)
    off = ~on & (np.abs(src) > 1e-2 * src.max())
    off[:m["first_on"]] = False
    low = off & (np.abs(i_n) <= 3 * m["current_noise"])
    assert m["resistance_off"] == pytest.approx(float(np.median(np.abs(v[low]))) / (3 * m["current_noise"]), rel=1e-12)
    assert m["resistance_off"] < float(np.median(1 / _g_off(v[off])))  # a bound below the true OFF resistance
    # the relaxed current (below 1e-17 A) is at the floor: the switch-off conductance is the noise's, and says so
    assert m["switch_off_noise_limited"]


def test_load_line_sweeps_that_do_not_switch_or_start_on():
    t, v, i, src, on = _tunnelling_sweep(set_at=9.0, flicker_at=9.0, release_below=9.0)  # never sets
    with pytest.raises(SpecError, match=r"synthetic.csv line \d+: the sweep never switches the device \(the cell "
                                        r"voltage stays above half of the source voltage"):
        measured.sweep_parameters(_table(t, v, i, src))
    t, v, i, src, on = _tunnelling_sweep(set_at=0.0, release_below=0.5)  # ON from the first sample
    with pytest.raises(SpecError, match=r"synthetic.csv line \d+: the device is ON from the first samples"):
        measured.sweep_parameters(_table(t, v, i, src))


def test_load_line_current_of_the_wrong_sign():
    t, v, i, src, on = _tunnelling_sweep()
    with pytest.raises(SpecError, match=r"synthetic.csv line \d+: the current flows against the drop across the "
                                        r"series resistor .*check the current column's sign"):
        measured.sweep_parameters(_table(t, v, -i, src))


def test_flicker_after_the_peak_is_read_as_the_hold_and_flagged():
    # an OFF sample on the falling ramp (source 2 V) is the first switch-off after the peak: the hold is read
    # there, as the FEM stage reads it, and the one re-set after it says that it is a flicker sample
    t, v, i, src, on = _tunnelling_sweep(flicker_down=2.0)
    m = measured.sweep_parameters(_table(t, v, i, src))
    k_peak = int(np.argmax(src))
    k_off = k_peak + int(np.argmax(~on[k_peak:]))
    assert m["last_on"] == k_off - 1
    assert m["sets_after_release"] == 1


def test_ramp_rate_of_the_sweep_residual_at_the_top_of_the_sweep():
    """The fit's sweep residual converts a time into a voltage by the drive's rate at the threshold: the source's
    slope into the next sample, the one before where the set comes at the source's top, and the mean rate of the
    rise where the source is flat there."""
    from devicephys.compact.measured_fit import ramp_rate

    t = np.arange(7) * 1e-6

    def table(src):
        return measured.Table(Path("s.csv"), {"time": t, "voltage": src, "current": src * 1e-9, "source_voltage": src},
                              np.arange(7) + 2, 1)

    rising = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0])
    top = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 1.5, 1.0])
    flat = np.array([0.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    m = {"first_on": 5, "threshold_time": t[4], "threshold_voltage": 2.0}
    assert ramp_rate(table(rising), m) == pytest.approx(0.5e6)
    assert ramp_rate(table(top), m) == pytest.approx(0.5e6)  # from the sample before
    assert ramp_rate(table(flat), m) == pytest.approx(2.0 / 4e-6)  # the mean rise
    assert math.isnan(ramp_rate(table(np.zeros(7)), {**m, "threshold_voltage": 0.0}))


def test_rupture_dissolution_gives_a_one_state_base_card_its_second_state(tmp_path):
    """``rupture: dissolution`` with a base card of one slow state (``--from`` a card folder) is not ignored."""
    from devicephys.compact import measured_stage
    from devicephys.compact.spec import CompactSpec

    upstream = {"compact": Path(__file__).resolve().parents[2] / "examples/measured"}
    one, said_one, _ = measured_stage.base_card(CompactSpec(verify=False), upstream, tmp_path)
    two, said_two, _ = measured_stage.base_card(CompactSpec(rupture="dissolution", verify=False), upstream, tmp_path)
    assert not one.model_params().dissolves and "second slow state" not in said_one
    assert two.model_params().dissolves and "second slow state (rupture: dissolution)" in said_two
    assert two.value("contact_conductance") == one.value("contact_conductance")  # the rest of the card is kept


def test_the_split_under_a_compliance_does_not_hang_on_the_largest_current_sample():
    # under a compliance every ON sample carries I_cc to parts in 1e6, while their conductances span the ON state's
    # spread; the sample just after the set (a neck still forming, 120 kOhm) overshoots I_cc by 2e-5 (a capacitor's
    # discharge into the cell).  The split takes the median ON conductance of the top currents, so that sample does
    # not move it, nor the tunnelling sample before the set that lies between the one-sample and the median splits.
    i_cc, n = 1e-5, 401
    t = np.linspace(0.0, 100e-6, n)
    src = 2.0 * np.minimum(t, t[-1] - t) / (t[-1] / 2)
    k_set, k_rel = int(np.argmax(src >= 1.4)), n - 1 - int(np.argmax(src[::-1] >= 0.3))
    rng = np.random.default_rng(7)
    r_on = np.exp(rng.uniform(math.log(20e3), math.log(60e3), n))  # the ON state's spread [Ohm]
    r_on[k_set] = 120e3
    on = (np.arange(n) >= k_set) & (np.arange(n) <= k_rel)
    i = np.where(on, i_cc * (1 - 1e-6 * rng.uniform(size=n)), 1e-12 * src)  # OFF: 1e-12 S
    v = np.where(on, i * r_on, src)
    i[k_set - 1] = 4e-9 * v[k_set - 1]  # the tunnelling rise just before the set: 4e-9 S
    splits, thresholds = [], []
    for bump in (0.0, 2e-5):
        i_b = i.copy()
        i_b[k_set] *= 1 + bump
        table = measured.Table(Path("synthetic.csv"), {"time": t, "voltage": v, "current": i_b, "source_voltage": src},
                               np.arange(n) + 2, 1, i_cc, 100.0)
        m = measured.sweep_parameters(table)
        splits.append(m["switch_on_conductance"])
        thresholds.append(m["threshold_voltage"])
    g_on = float(np.median(1 / r_on[on]))
    assert splits[0] == splits[1] == pytest.approx(math.sqrt(g_on * 1e-12), rel=1e-5)
    assert thresholds[0] == thresholds[1] == v[k_set - 1]  # the 4e-9 S sample is OFF: below sqrt(g_on 1e-12)
    assert 4e-9 > math.sqrt(1e-12 / 120e3)  # the one-sample split (the bumped sample's) would call it ON
