"""Recovery from data the compact model did not generate: the FEM stage's own sweep and set times.

``examples/measured/*.csv`` hold the FEM filament stage's DC sweep and set times (fast preset) with
instrument noise added (``tests/data/measured_fem_reference.json`` gives the noise model, the FEM's
own extracted numbers and the command that made both).  Read back as measurements, they must give the
FEM's numbers within the noise; the card fitted to them must reproduce the measured set times and,
driven like the measurement (source through the series resistor) in NumPy and in ngspice, the
measured threshold within 5 %.  The measured hold (the cell voltage as the FEM's ON state ruptures
under a 2.9 V source) is not reproduced, and the tests below show why: under that source the card
has one stable, partly bridged steady state, which its replay tracks in NumPy and ngspice alike; it
releases only on the falling ramp.  (The measured path classifies ON by the load line, the cell taking
less than half of the source: tests/compact/test_compact_measured.py checks it on analytic sweeps.)
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from devicephys.cli import main
from devicephys.compact import integrate, measured, measured_stage
from devicephys.compact.card import DeviceCard

ROOT = Path(__file__).resolve().parents[2]
SWEEP, PULSES = ROOT / "examples/measured/sweep.csv", ROOT / "examples/measured/pulses.csv"
REF = json.loads((ROOT / "tests/data/measured_fem_reference.json").read_text())
NOISE, FEM, CLEAN = REF["noise"], REF["fem"], REF["noise_free_extraction"]


@pytest.fixture(scope="module")
def sweep():
    return measured.read_sweep(SWEEP)


@pytest.fixture(scope="module")
def m(sweep):
    return measured.sweep_parameters(sweep)


def test_threshold_and_hold_within_the_voltage_noise(m):
    # both are single samples of the cell voltage: the same samples as the FEM's, plus 1 mV noise (3 sigma)
    assert abs(m["threshold_voltage"] - FEM["threshold_voltage"]) <= 3 * NOISE["voltage_V"]
    assert abs(m["hold_voltage"] - FEM["hold_voltage"]) <= 3 * NOISE["voltage_V"]


def test_on_resistance_within_noise_and_the_on_set_difference(m):
    # the FEM classifies ON by its gap, a measurement electrically; the tolerance is the difference of the ON
    # sets on the noise-free traces, CLEAN - FEM, recorded when the fixture was written (by the conductance
    # criterion the measured path used then; the noise-free traces are not kept), plus 3 standard errors of the
    # median for the noise
    offset = abs(CLEAN["resistance_on"] - FEM["resistance_on"])
    assert abs(m["resistance_on"] - FEM["resistance_on"]) <= offset + 3 * m["resistance_on_sigma"]


def test_off_resistance_below_the_noise_floor_is_a_lower_bound(m):
    # the FEM's OFF current (~1e-18 A) is far below the 1 pA floor: only a lower bound is measurable.  The floor
    # is estimated from the relaxed samples' scatter: within 3 standard errors (relative 1/sqrt(2 n)) of the
    # noise added, and the bound is |V| / (3 floor) over the OFF samples at the floor
    assert m["resistance_off_lower_bound"]
    n = max(3, (m["first_on"] - 1) // 10)
    assert abs(m["current_noise"] / NOISE["current_floor_A"] - 1) <= 3 / math.sqrt(2 * n)
    assert FEM["resistance_off"] > m["resistance_off"] > 0.1 / (3 * NOISE["current_floor_A"])


def test_exponential_set_time_law_within_the_noise():
    pulses = measured.read_pulses(PULSES)
    got = measured.exponential_set_time_law(pulses["voltage"], pulses["set_time"])
    v = np.asarray(REF["fem_set_voltage"])
    # standard errors of the line ln t = ln tau0 - V/V0 for log-normal scatter sigma_ln at these voltages
    s_slope = NOISE["time_ln"] / math.sqrt(np.sum((v - v.mean()) ** 2))
    s_icpt = NOISE["time_ln"] * math.sqrt(1 / len(v) + v.mean() ** 2 / np.sum((v - v.mean()) ** 2))
    assert abs(1 / got["set_time_v0"] - 1 / FEM["set_time_v0"]) <= 3 * s_slope
    assert abs(math.log(got["set_time_tau0"] / FEM["set_time_tau0"])) <= 3 * s_icpt


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """docs/measurements.md's ``devicephys compact --measured ... --pulses ... --from examples/measured`` (no ngspice checks).

    ``examples/measured/device_card.json`` is the card fitted to the same FEM run (the base card).
    """
    tmp = tmp_path_factory.mktemp("measured")
    (tmp / "spec.yaml").write_text("kind: compact\nverify: false\n")
    code = main(["compact", str(tmp / "spec.yaml"), "--measured", str(SWEEP), "--pulses", str(PULSES),
                 "--from", str(ROOT / "examples/measured"), "--out", str(tmp / "out"), "--quiet"])
    return code, tmp / "out"


def test_card_reproduces_the_measurements(run, m):
    code, out = run
    assert code == 0
    for name in ("device_card.json", "base_device_card.json", "default_device.lib", "default_device.va",
                 "measured_vs_model.png"):
        assert (out / name).is_file(), name
    card = DeviceCard.load(out / "device_card.json")
    assert card.value("resistance_on") == pytest.approx(m["resistance_on"], rel=1e-6)
    assert card.value("hold_voltage") == pytest.approx(m["hold_voltage"], rel=1e-6)
    fit = card.fit_quality["set_time_fit"]
    assert fit["pulses_rms_ln"] <= 3 * NOISE["time_ln"]  # the set times within their scatter
    assert abs(fit["sweep_threshold_relative"]) <= 0.05
    # tau_r maps the measured self-rupture time as the FEM path maps the FEM's (5 % scatter, 3 sigma)
    base = DeviceCard.load(out / "base_device_card.json")
    assert card.value("relaxation_time") == pytest.approx(base.value("relaxation_time"), rel=3 * NOISE["time_ln"])
    for name in ("set_time_tau0", "set_time_v0", "resistance_on", "activation_energy"):
        assert card.uncertainties[name] > 0, name
    # the relaxed current (~1e-19 A) is below the 1 pA floor: the self-rupture criterion is the noise's, said in the source
    assert m["switch_off_noise_limited"] and "noise floor" in card.parameters["relaxation_time"]["source"]
    # the FEM's ON state re-forms after the rupture read as the hold: the activation energy's source says so
    assert m["sets_after_release"] >= 1 and "flicker sample" in card.parameters["activation_energy"]["source"]


def test_replay_in_numpy_reproduces_the_threshold(run):
    card = DeviceCard.load(run[1] / "device_card.json")
    got = card.fit_quality["replay"]["numpy"]
    assert abs(got["threshold_voltage_relative"]) <= 0.05
    # --from holds a card, no filament result, and no --capacitance was given: none across the cell, and it says so
    assert card.fit_quality["replay"]["cell_capacitance"] == 0.0
    assert card.fit_quality["replay"]["cell_capacitance_source"].startswith("none: no cell_capacitance given")


@pytest.mark.spice
def test_replay_in_ngspice_reproduces_the_threshold(run, sweep):
    card = DeviceCard.load(run[1] / "device_card.json")
    got = measured_stage.replay(card, sweep, numpy=False)["ngspice"]
    assert abs(got["threshold_voltage_relative"]) <= 0.05
    numpy = card.fit_quality["replay"]["numpy"]
    assert got["threshold_voltage"] == pytest.approx(numpy["threshold_voltage"], rel=0.01)  # the two simulators agree
    # after the switch too: no step-control artefact keeps the model ON in either
    assert got["model_voltage_at_measured_release"] == pytest.approx(numpy["model_voltage_at_measured_release"], rel=0.01)


def test_model_under_the_release_source_has_one_stable_partly_bridged_state(run, sweep, m):
    # held at the source of the measured release (2.9 V) the card has exactly one steady state on the load line,
    # stable and ON (its resistance below the series resistor's): with one slow state (the thermal node's
    # R_th C_th is ~0.2 ps) nothing can leave it, so the model cannot release where the FEM did.  The
    # integrator, from the relaxed cell, settles on it.
    card = DeviceCard.load(run[1] / "device_card.json")
    p, rep = card.model_params(), card.fit_quality["replay"]
    v_s, r_s = float(sweep["source_voltage"][m["last_on"]]), rep["series_resistance"]
    assert rep["numpy"]["source_at_measured_release"] == v_s
    states = measured_stage.load_line_states(p, v_s, r_s)
    assert len(states) == 1 and states[0]["stable"]
    assert states[0]["resistance"] < 1 / card.fit_quality["measured"]["switch_on_conductance"]
    assert p.thermal_resistance * p.thermal_capacitance < 1e-9
    slow = 1 / abs(states[0]["rate_slope"])
    trace = integrate.simulate_series(p, [0.0, 200 * slow + 1e-4], [v_s, v_s], r_s, samples_per_segment=None)
    # rtol 1e-9 on the gap; the settling error after 200 time constants is far below it
    assert trace.gap[-1] == pytest.approx(states[0]["gap"], rel=1e-6)
    assert trace.voltage[-1] == pytest.approx(states[0]["voltage"], rel=1e-4)


def test_replay_of_the_measured_drive_tracks_that_state(run, sweep, m):
    # on the measured ramp the gap lags the moving steady state d* by (dd*/dt)/|slope|; the cell voltage
    # (~ R_cell, exponential in the gap) then differs by about 2 kappa times that lag: allow twice that
    card = DeviceCard.load(run[1] / "device_card.json")
    p, rep = card.model_params(), card.fit_quality["replay"]
    k, r_s = m["last_on"], rep["series_resistance"]
    here, before = (measured_stage.load_line_states(p, float(sweep["source_voltage"][j]), r_s)[0] for j in (k, k - 1))
    lag = abs(here["gap"] - before["gap"]) / (sweep["time"][k] - sweep["time"][k - 1]) / abs(here["rate_slope"])
    got = rep["numpy"]["model_voltage_at_measured_release"]
    assert abs(got / here["voltage"] - 1) <= 2 * 2 * p.decay_constant * lag
    # and it is far from the measured ON state: the measured hold sample is the FEM's rupture transient
    assert got > 3 * m["hold_voltage"]
    # the card releases later, on the falling ramp, where its partly bridged state's resistance passes the
    # series resistor's (the load-line criterion), at a higher cell voltage than the FEM's rupture transient
    assert "hold_note" not in rep["numpy"] and rep["numpy"]["hold_voltage"] > m["hold_voltage"]


def test_replay_cut_before_the_release_says_why_the_model_stays_on(run, sweep, m):
    # the measured drive cut while the source is still above the card's release (0.77 V): the replay reports the
    # stable ON state of the load line at the measured release's source
    card = DeviceCard.load(run[1] / "device_card.json")
    cut = int(np.flatnonzero(sweep["source_voltage"] > 1.0)[-1]) + 1
    short = measured.Table(sweep.path, {k: sweep[k][:cut] for k in ("time", "voltage", "current", "source_voltage")},
                           sweep.lines[:cut], sweep.header_line)
    got = measured_stage.replay(card, short, spice=False)["numpy"]
    assert "does not switch off" in got["hold_note"] and "partly bridged steady state" in got["hold_note"]
    assert len(got["stable_on_states"]) == 1  # the state the test above finds, which the replay tracks


@pytest.mark.xfail(strict=True, reason="the FEM's ON state ends by dissolution after ~30 us whatever the bias and re-forms "
                   "within ~2 us (a relaxation oscillation under DC); this card has one slow state (the gap): under the "
                   "5.42 kOhm drive it stays on its one stable, partly bridged steady state (tests above) and releases "
                   "only on the falling ramp, where that state's resistance passes the series resistor's.  With the "
                   "second slow state (rupture: dissolution) the card releases under bias "
                   "(test_compact_measured_dissolution.py), but its hold is the ON cell voltage at its constant R_on "
                   "(15.2 mV) where the FEM's resistance rises to 138 Ohm as its oldest stretch thins (68 mV): the card "
                   "lacks the thinning stretch's resistance")
def test_replay_reproduces_the_hold(run):
    card = DeviceCard.load(run[1] / "device_card.json")
    assert abs(card.fit_quality["replay"]["numpy"]["hold_voltage_relative"]) <= 0.05


def test_report_shows_the_measured_card_beside_its_fem_card(run, tmp_path):
    from devicephys import report

    shutil.copytree(run[1], tmp_path / "compact")
    page = report.write_report(tmp_path, {}).read_text()
    assert "Measured card versus the first-principles (FEM/FDTD) card" in page
    card, base = (DeviceCard.load(run[1] / f) for f in ("device_card.json", "base_device_card.json"))
    diff = (base.value("resistance_on") / card.value("resistance_on") - 1) * 100
    assert f"<td>resistance_on</td><td class=num>{report._fmt(card.value('resistance_on'))}</td>" in page
    assert f"{diff:+.1f} %" in page
    # the measured R_off is a lower bound (OFF current at the noise floor): compared as a bound, not in percent
    assert "<td>resistance_off</td><td class=num>≥ " in page and "yes (above the bound)" in page
