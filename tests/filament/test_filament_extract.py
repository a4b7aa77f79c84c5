"""Extraction of device parameters from traces (NumPy only, hand-made traces)."""

import math

import numpy as np
import pytest

from devicephys.filament import extract

GAP_ON, GAP_RUPTURE = 0.25e-9, 1e-9


def test_hold_voltage_is_taken_at_the_first_rupture_after_the_peak():
    source = np.array([0.0, 1.0, 2.0, 3.0, 2.0, 1.5, 1.0, 0.5, 0.0])
    cell = np.array([0.0, 1.0, 2.0, 0.03, 0.02, 1.5, 0.01, 0.005, 0.0])
    gap = np.array([9, 9, 9, 0, 0, 9, 0, 0, 0]) * 1e-9  # ruptures at 1.5 V, flickers back ON below
    assert extract.hold_voltage(cell, gap, source, GAP_ON, GAP_RUPTURE) == 0.02


def test_hold_voltage_is_nan_when_the_filament_never_ruptures():
    source = np.array([0.0, 2.0, 1.0, 0.0])
    gap = np.array([9, 0, 0, 0]) * 1e-9
    assert math.isnan(extract.hold_voltage(source, gap, source, GAP_ON, GAP_RUPTURE))


def test_a_missing_hold_says_why():
    source = np.array([0.0, 2.0, 1.0, 0.2, 0.0])
    cell = np.array([0.0, 2.0, 0.3, 0.05, 0.0])
    on_to_the_end = np.array([9, 0, 0, 0, 0]) * 1e-9
    why = extract.hold_missing(cell, on_to_the_end, source, GAP_ON, GAP_RUPTURE, "sweep")
    assert "sweep's end" in why and "0.05 V" in why
    never_on = np.full(5, 9e-9)
    assert "not ON" in extract.hold_missing(cell, never_on, source, GAP_ON, GAP_RUPTURE)
    between = np.array([9, 0, 0, 0.5, 0.5]) * 1e-9  # opens past gap_on but not to gap_rupture
    assert "between gap_on and gap_rupture" in extract.hold_missing(cell, between, source, GAP_ON, GAP_RUPTURE)
    ruptures = np.array([9, 0, 0, 9, 9]) * 1e-9
    assert extract.hold_missing(cell, ruptures, source, GAP_ON, GAP_RUPTURE) == ""


def test_threshold_voltage_is_the_largest_cell_voltage_before_bridging():
    v = np.array([0.0, 1.0, 2.0, 0.01])
    gap = np.array([9, 9, 5, 0]) * 1e-9
    assert extract.threshold_voltage(v, gap, GAP_ON) == 2.0


def test_set_time_fit_recovers_exponential_law():
    v = np.array([2.0, 2.5, 3.0, 3.5])
    tau0, v0, rms = extract.fit_set_time(v, 1e-3 * np.exp(-v / 0.4))
    assert tau0 == pytest.approx(1e-3, rel=1e-9) and v0 == pytest.approx(0.4, rel=1e-9) and rms < 1e-12



def test_off_resistance_is_the_formed_cells_residual_gap():
    # pristine leakage (1e18 Ohm) before the first set, a tunnelling residual gap (1e12 Ohm) after the rupture
    v = np.array([0.5, 1.0, 1.5, 2.0, 0.05, 1.5, 1.0, 0.5])
    r = np.array([1e18, 1e18, 1e18, 1e18, 300.0, 1e12, 1e12, 1e12])
    gap = np.array([9, 9, 8, 5, 0, 2, 2, 2]) * 1e-9
    r_on, r_off = extract.on_off_resistance(v, v / r, gap, GAP_ON, GAP_RUPTURE)
    assert r_on == pytest.approx(300.0) and r_off == pytest.approx(1e12)
    # a cell that never bridged: its only OFF state is the pristine one
    assert extract.on_off_resistance(v[:4], v[:4] / r[:4], gap[:4], GAP_ON, GAP_RUPTURE)[1] == pytest.approx(1e18)


def test_threshold_voltage_before_a_tunnelling_switch():
    # the current jumps (cell voltage collapses) at a 0.3 nm gap, before the gap falls below gap_on
    v = np.array([1.0, 2.0, 2.2, 0.12, 0.09])
    gap = np.array([9, 3.3, 1.3, 0.3, 0]) * 1e-9
    assert extract.threshold_voltage(v, gap, GAP_ON) == 2.2


def test_set_time_standard_errors_match_the_regression_s_covariance():
    rng = np.random.default_rng(3)
    v = np.linspace(2.0, 4.0, 7)
    t = 1e-4 * np.exp(-v / 0.8) * np.exp(rng.normal(0, 0.1, v.size))
    s_tau0, s_v0 = extract.set_time_uncertainty(v, t)
    (slope, intercept), cov = np.polyfit(v, np.log(t), 1, cov="unscaled")
    s2 = np.sum((np.log(t) - (intercept + slope * v)) ** 2) / (v.size - 2)
    tau0, v0, _ = extract.fit_set_time(v, t)
    assert s_v0 == pytest.approx(np.sqrt(s2 * cov[0, 0]) * v0**2, rel=1e-10)
    assert s_tau0 == pytest.approx(np.sqrt(s2 * cov[1, 1]) * tau0, rel=1e-10)
    exact = 1e-4 * np.exp(-v / 0.8)
    assert extract.set_time_uncertainty(v, exact)[1] == pytest.approx(0.0, abs=1e-9)
    assert all(math.isnan(x) for x in extract.set_time_uncertainty(v[:2], t[:2]))


def test_event_resolutions_are_the_sample_steps_around_the_event():
    source = np.array([0.0, 0.5, 1.0, 1.5, 1.0, 0.5, 0.0])
    gap = np.array([9, 9, 9, 0.1, 0.1, 2.0, 2.0]) * 1e-9
    assert extract.threshold_resolution(source, gap, GAP_ON) == 0.5
    assert extract.hold_resolution(source, gap, GAP_ON, GAP_RUPTURE) == 0.5
    assert math.isnan(extract.hold_resolution(source, np.full(7, 9e-9), GAP_ON, GAP_RUPTURE))
    t = np.array([0.0, 1.0, 3.0, 7.0])
    assert extract.crossing_resolution(t, np.array([0.0, 0.2, 0.6, 1.0]), 0.5) == 2.0
    assert extract.half_interquartile_range(np.array([1.0, 2.0, 3.0, 4.0, 5.0])) == 1.0


@pytest.mark.parametrize("v_start", [0.0, 0.7])
def test_ramp_set_voltage_solves_the_rate_integral(v_start):
    from scipy.integrate import quad
    from scipy.optimize import brentq

    tau0, v0, rate = 1.7e-4, 1.08, 3e4  # [s], [V], [V/s]: the fast preset's law and sweep
    got = extract.ramp_set_voltage(tau0, v0, rate, v_start)

    def used(v):  # ∫ dt / t_set(rate t) from the ramp's passing v_start to its reaching v
        return quad(lambda t: math.exp(rate * t / v0) / tau0, v_start / rate, v / rate, epsabs=0, epsrel=1e-12)[0]

    assert got == pytest.approx(brentq(lambda v: used(v) - 1.0, v_start, 10.0, xtol=1e-14), rel=1e-10)
    assert extract.ramp_set_voltage(tau0, v0, rate, v_start) > v_start


def test_rate_integral_of_measured_set_times_is_exact_for_the_law_and_refuses_what_was_not_measured():
    from scipy.integrate import quad

    tau0, v0, rate = 9.7e-5, 0.81, 3e4  # [s], [V], [V/s]: the fast preset's law and sweep
    v = np.array([0.1, 0.2, 0.45, 0.9, 1.2, 1.6, 2.5])
    t = tau0 * np.exp(-v / v0)
    t[0] = np.nan  # no set at 0.1 V: nothing below 0.2 V counts
    # log-linear interpolation of the exponential law is the law: the closed form counted from 0.2 V
    assert extract.ramp_set_voltage_measured(v, t, rate) == pytest.approx(
        extract.ramp_set_voltage(tau0, v0, rate, 0.2), rel=1e-12)
    # every other voltage that set, the lowest and highest kept: the same range, so for the law the same answer
    assert extract.ramp_set_voltage_every_other(v, t, rate) == pytest.approx(
        extract.ramp_set_voltage_measured(v, t, rate), rel=1e-12)
    assert math.isnan(extract.ramp_set_voltage_every_other(v[:2], t[:2], rate))  # one voltage set: no integral
    grid, total = extract.ramp_set_integral(v[::-1], t[::-1], rate)  # any order
    assert grid[0] == 0.2 and total[0] == 0.0
    assert total[-1] == pytest.approx(quad(lambda x: math.exp(x / v0) / (rate * tau0), 0.2, 2.5, epsrel=1e-12)[0],
                                      rel=1e-12)
    # set times that do not change with voltage: the integral is linear in it, (V - V_1) / (rate t)
    flat = extract.ramp_set_integral(np.array([1.0, 2.0]), np.array([2e-5, 2e-5]), rate)[1]
    assert flat[-1] == pytest.approx(1.0 / (rate * 2e-5), rel=1e-12)
    assert extract.ramp_set_voltage_measured(np.array([1.0, 2.0]), np.array([2e-5, 2e-5]), rate) == pytest.approx(
        1.0 + rate * 2e-5, rel=1e-12)  # 1 V + the 0.6 V the ramp covers in one set time
    # the set above the highest measured voltage: not extrapolated
    assert math.isnan(extract.ramp_set_voltage_measured(v[:3], t[:3], rate))
    # a voltage that did not set above one that did would be bridged by the interpolation
    holed = t.copy()
    holed[3] = np.nan
    with pytest.raises(ValueError, match="0.9"):
        extract.ramp_set_integral(v, holed, rate)
    with pytest.raises(ValueError, match="rate"):
        extract.ramp_set_integral(v, t, 0.0)
    with pytest.raises(ValueError, match="each once"):  # a repeated voltage would make a zero-width segment
        extract.ramp_set_integral(np.array([0.1, 0.5, 0.5, 1.0]), np.array([np.nan, 1e-4, 1e-4, 3e-5]), rate)


def test_ramp_set_voltage_uncertainty_is_the_fit_covariance_propagated():
    # three set times off an exact law: Monte Carlo of the fit's noise against the linearised propagation
    v = np.array([3.0, 3.5, 4.0])
    law = 1.7e-4 * np.exp(-v / 1.08)
    noisy = law * np.exp(np.array([0.02, -0.03, 0.015]))
    rate, v_start = 3e4, 0.7
    sigma = extract.ramp_set_voltage_uncertainty(v, noisy, rate, v_start)
    tau0, v0, _ = extract.fit_set_time(v, noisy)
    resid = np.log(noisy) - (math.log(tau0) - v / v0)
    s = math.sqrt(np.sum(resid**2) / (v.size - 2))
    rng = np.random.default_rng(7)
    draws = []
    for _ in range(4000):
        t = tau0 * np.exp(-v / v0) * np.exp(rng.normal(0.0, s, v.size))
        a, b, _ = extract.fit_set_time(v, t)
        draws.append(extract.ramp_set_voltage(a, b, rate, v_start))
    # linearised vs sampled spread of the same fit (4000 draws: the sample std to ~1.2 %); 5 % for the curvature
    assert sigma == pytest.approx(np.std(draws), rel=0.05)
    assert math.isnan(extract.ramp_set_voltage_uncertainty(v[:2], noisy[:2], rate))  # no residual degree of freedom
    # the static threshold's half-width adds in quadrature with weight w / (w + u)
    wider = extract.ramp_set_voltage_uncertainty(v, noisy, rate, v_start, 0.05)
    assert wider > sigma


def test_incubation_time_is_the_first_shorter_gap():
    t = np.array([0.0, 1e-6, 2e-6, 3e-6])
    assert extract.incubation_time(t, np.array([9e-9, 9e-9, 8.9e-9, 9e-9])) == 2e-6
    assert math.isnan(extract.incubation_time(t, np.full(4, 9e-9)))
    assert extract.incubation_time(t, np.array([9e-9, 9e-9 * (1 - 1e-12), 8e-9, 7e-9])) == 2e-6  # rounding is not a step


def test_hold_run_starts_from_the_hysteresis_state_of_the_drive_before():
    on, rupture = 0.25e-9, 1e-9
    # bridged, then flickering across gap_on without opening past gap_rupture: still ON
    assert extract.bridged_after(np.array([2e-9, 0.2e-9, 0.3e-9, 0.28e-9]), on, rupture)
    assert not extract.bridged_after(np.array([0.2e-9, 1.2e-9, 0.5e-9]), on, rupture)
    assert extract.bridged_after(np.array([0.5e-9]), on, rupture, start=True)
    t = np.array([0.0, 1e-6, 2e-6, 3e-6])
    gap = np.array([0.28e-9, 0.5e-9, 1.5e-9, 2e-9])  # starts just above gap_on, then ruptures
    alone = extract.hold_run(t, gap, np.zeros(4), on, rupture)
    assert alone["start_on"] == 0.0 and alone["ruptures"] == 0.0  # by gap_on alone it was never ON
    carried = extract.hold_run(t, gap, np.zeros(4), on, rupture, start_on=True)
    assert carried["start_on"] == 1.0 and carried["ruptures"] == 1.0
    assert 1e-6 < carried["rupture_time"] < 2e-6
    # a gap already past gap_rupture starts OFF whatever came before
    assert extract.hold_run(t, gap + 1e-9, np.zeros(4), on, rupture, start_on=True)["start_on"] == 0.0


def test_tunnelling_end_time_interpolates_in_log_r():
    from devicephys.filament.extract import tunnelling_end_time

    t = np.array([1.0, 2.0, 3.0, 4.0])
    r = np.array([1e6, 1e10, 1e14, 2e14])
    # half of 2e14 is 1e14, reached at t = 3 exactly; half of 4e14 (2e14) between 3 and 4, log-linearly: at 4
    assert tunnelling_end_time(t, r, 2e14) == pytest.approx(3.0)
    assert tunnelling_end_time(t, r, 4e14) == pytest.approx(4.0)
    # 1e12 lies halfway in log between 1e10 and 1e14
    assert tunnelling_end_time(t, r, 2e12) == pytest.approx(2.5)
    assert math.isnan(tunnelling_end_time(t, r, 1e16))  # the reads never reach the leakage
    assert math.isnan(tunnelling_end_time(t, r, math.nan))
    assert math.isnan(tunnelling_end_time(t[:0], r[:0], 1e14))
