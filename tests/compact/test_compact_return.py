"""The field's return of dissolved silver (``return_rate``) against its closed forms, ngspice and OpenVAF.

While bridged, the oldest stretch's dissolved fraction ``q = 1 - m`` obeys
``dq/dt = k_d - lam q`` with ``lam = k_f h(V) F(T) beta(d)``: it settles at
``q* = k_d/lam``.  The bridge is held where ``q*`` stays below ``1 - c_p``
(at and above the return hold ``lam (1 - c_p) = k_d``); below it,
``q(t) = (k_d/lam)(1 - exp(-lam t))`` reaches ``1 - c_p`` at
``t = -ln(1 - lam (1 - c_p)/k_d)/lam`` and the bridge breaks, once.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from devicephys.compact import export_veriloga, integrate, measured_release, model, ngspice, va_check
from devicephys.compact.card import DeviceCard
from devicephys.compact.export_spice import subcircuit_names, subcircuit_text
from devicephys.compact.verify import TARGET

from tests.compact.test_compact_dissolution import K_D, P as P0, T_R, _card

#: The isothermal reference with dissolution, its return hold at half its static threshold.
V_HOLD = 0.5 * model.static_threshold(P0)
P = dataclasses.replace(P0, return_rate=measured_release.start_rate(P0, V_HOLD))


def _lam(v: float) -> float:
    return float(model.field_return(P, P.gap_min, v, P.ambient_temperature))


def _bridged(v: float, t_end: float):
    """The fresh bridge (gap_min, m = 1, intact) at constant cell voltage ``v`` [V]; stops where the gap opens."""
    f = integrate._rhs(P, 0.0, 0.0, v, 0.0)
    mid = 0.5 * (P.gap_min + P.gap_max)

    def opened(t, y):
        return y[0] - mid
    opened.terminal = True
    return solve_ivp(f, (0.0, t_end), np.array([P.gap_min, 0.0, 1.0, 0.0]), method="Radau", rtol=1e-9,
                     atol=model.state_tolerances(P), events=opened)


def test_return_hold_is_the_closed_form_and_the_start_rate_inverts_it():
    eps = model.SMOOTH_ABS
    beta = float(model.bridged_fraction(P, P.gap_min))
    h = K_D / (P.return_rate * beta * (1 - P.percolation_fraction))  # 2 sinh(y), y the smoothed |V|/V0
    y = math.asinh(0.5 * h) + eps
    assert model.return_hold(P) == pytest.approx(P.set_time_v0 * math.sqrt(y * y - eps * eps), rel=1e-12)
    assert model.return_hold(P) == pytest.approx(V_HOLD, rel=1e-12)
    # the static hold is the lower of the return's and the regrowth's (the latter: a hot bridge re-growing
    # within t_r, which needs the threshold in this isothermal card)
    assert model.static_hold(P) == pytest.approx(V_HOLD, rel=1e-12)
    assert model.static_hold(P0) == pytest.approx(model.static_threshold(P0), rel=1e-12)


@pytest.mark.parametrize("factor", [0.3, 0.7, 0.9])
def test_a_bridge_below_its_return_hold_breaks_once_at_the_closed_form_time(factor):
    v = factor * V_HOLD
    lam = _lam(v)
    assert lam * (1 - P.percolation_fraction) < K_D
    t_break = -math.log(1 - lam * (1 - P.percolation_fraction) / K_D) / lam
    sol = _bridged(v, 5 * T_R)
    # the flag turns on as m falls through c_p +- w_p/2, at the net dissolution rate there
    slack = 0.5 * P.percolation_width / (K_D - lam * (1 - P.percolation_fraction))
    t_open = float(sol.t_events[0][0])
    assert t_break - slack < t_open < t_break + slack + 20 * P.rupture_time


@pytest.mark.parametrize("factor", [1.1, 1.5, 3.0])
def test_a_bridge_at_or_above_its_return_hold_is_held_at_the_closed_form_metal_fraction(factor):
    v = factor * V_HOLD
    sol = _bridged(v, 20 * T_R)
    assert len(sol.t_events[0]) == 0  # held, no self-rupture
    assert sol.y[2, -1] == pytest.approx(1 - K_D / _lam(v), rel=1e-6)
    assert sol.y[3, -1] < 1e-6


def test_without_return_the_bridge_still_breaks_at_t_r_under_the_same_bias():
    f = integrate._rhs(P0, 0.0, 0.0, 1.5 * V_HOLD, 0.0)
    sol = solve_ivp(f, (0.0, 2 * T_R), np.array([P0.gap_min, 0.0, 1.0, 0.0]), method="Radau", rtol=1e-9,
                    atol=model.state_tolerances(P0))
    assert sol.y[0, -1] > 0.5 * (P0.gap_min + P0.gap_max)  # broken (and retracted) within 2 t_r


def test_a_return_without_the_second_slow_state_is_refused_in_one_line():
    from devicephys.errors import SpecError

    with pytest.raises(SpecError, match="return_rate = 1000.0 1/s needs the second slow state"):
        dataclasses.replace(P0, dissolution_rate=0.0, return_rate=1e3)


def _return_card() -> DeviceCard:
    card = _card()
    values = {**card.values(), "return_rate": P.return_rate, "hold_voltage": V_HOLD}
    return DeviceCard.from_values("returning", values, {k: "test" for k in values})


def test_verilog_a_equations_equal_numpy_with_the_return(tmp_path):
    card = _return_card()
    assert card.model_params().return_rate == P.return_rate
    path = export_veriloga.write(card, tmp_path / "returning.va")
    err = va_check.check(card, path, samples=100)
    assert max(err.values()) < 1e-12, err


def test_a_triangle_behind_a_resistor_sets_holds_and_releases_once_and_ngspice_agrees():
    card = _return_card()
    v_th = model.static_threshold(P)
    # up to 1.3 V_th, held there for 3 t_r (no self-rupture under the return), then down to 0 over 2 t_r
    t1, t2, t3 = 2 * T_R, 5 * T_R, 7 * T_R
    tp, vp, r_s = [0.0, t1, t2, t3], [0.0, 1.3 * v_th, 1.3 * v_th, 0.0], 2e3
    ref = integrate.simulate_series(P, tp, vp, r_s, samples_per_segment=20000)
    on = ref.gap < P.contact_gap
    edges = ref.time[np.flatnonzero(np.diff(on.astype(int))) + 1]
    assert len(edges) == 2, edges  # one set, one release: no relaxation oscillation while the bias holds it
    assert edges[1] > t2  # released on the way down ...
    # ... once the bias has fallen below the return hold (the cell takes nearly all of the source: R_s << R_on)
    assert np.interp(edges[1], tp, vp) < V_HOLD
    name, _ = subcircuit_names(card)
    run = ngspice.run(ngspice.series_netlist(subcircuit_text(card), name, tp, vp, r_s, t3, t3 / 20000),
                      ["i(vsense)", "v(xdev.nx)"])
    gap = P.gap_max - 1e-9 * run.vectors["v(xdev.nx)"]
    on_sp = gap < P.contact_gap
    edges_sp = run.time[np.flatnonzero(np.diff(on_sp.astype(int))) + 1]
    assert len(edges_sp) == 2
    assert np.max(np.abs(edges_sp - edges) / edges) < TARGET


def _triangle_sweep(p, samples: int = 1400):
    """The card's own sweep (0 -> 1.3 V_th -> 0 V) under a compliance that holds its bridged cell at 0.8 V_th
    (above the return hold), behind 100 Ohm, sampled as a measurement (no noise); and the series resistance."""
    from pathlib import Path

    from devicephys.compact import measured

    v_th, r_s = model.static_threshold(p), 100.0
    i_cc = 0.8 * v_th * float(model.cell_conductance(p, p.gap_min))
    t_top = 4 * T_R
    t = np.linspace(0.0, 2 * t_top, samples)
    src = np.interp(t, [0.0, t_top, 2 * t_top], [0.0, 1.3 * v_th, 0.0])

    def table(v, i):
        return measured.Table(Path("sweep.csv"), {"time": t, "voltage": v, "current": i, "source_voltage": src},
                              np.arange(samples) + 2, 1, i_cc, r_s)

    tm, v, i, _ = measured_release.numpy_trace(p, table(src, 0 * src), r_s)
    return table(np.interp(t, tm, v), np.interp(t, tm, i)), r_s


def test_the_return_rate_is_recovered_from_the_release_of_a_sweep_it_generated():
    from devicephys.compact import measured

    sweep, r_s = _triangle_sweep(P)
    m = measured.sweep_parameters(sweep)
    assert m["sets_after_release"] == 0 and m["hold_voltage"] < V_HOLD  # one clean release, below the static hold
    q, info = measured_release.fit_return_rate(dataclasses.replace(P, return_rate=0.0), sweep, m, r_s)
    # the release is known to the sampling step (the data's), and k_f to what moves it by less than that step
    assert abs(info["release_residual_samples"]) < 0.5
    assert q.return_rate == pytest.approx(P.return_rate, rel=0.05)
    # without a return the card releases early (t_r after its set), which is what lets the fit hold it longer
    assert info["release_without_return_s"] < info["release_measured_s"]


def test_a_release_the_return_cannot_reach_is_refused_in_one_line():
    from devicephys.compact import measured
    from devicephys.errors import ConvergenceError

    sweep, r_s = _triangle_sweep(P)
    m = measured.sweep_parameters(sweep)
    # a card that does not release before the measured release without a return (here: it never sets) cannot be
    # brought to it by a return, which only holds a bridge longer: refused, naming why
    never = dataclasses.replace(P, return_rate=0.0, set_time_tau0=1e6 * P.set_time_tau0)
    with pytest.raises(ConvergenceError, match="sweep.csv: without any return .* cannot set this release"):
        measured_release.fit_return_rate(never, sweep, m, r_s)


def test_the_fem_path_takes_the_return_from_the_filament_specs_mott_gurney_drift():
    """With ``dissolved_return`` the FEM returns dissolved Ag+ at |v_MG(E, T)|/l; the card's k_f 2 sinh(|V|/V0) F(T)
    is that rate at the cell's field V/L when V0 is Mott-Gurney hopping's over the whole gap, 2 k_B T L/(e a)."""
    from devicephys import units
    from devicephys.compact import build
    from devicephys.filament.kinetics import HoppingLaw
    from devicephys.filament.spec import FilamentSpec

    spec = FilamentSpec(site_exclusion=True, dissolved_return=True)
    t0, gap = 300.0, spec.insulator_thickness
    values, sources = build.dissolution_constants(spec.model_dump(), t0, 1e-4)
    law = HoppingLaw.from_spec(spec)
    v0_mg = 2 * units.k_B * t0 * gap / (units.e * spec.hop_distance)
    p = dataclasses.replace(P, **values, set_time_v0=v0_mg, activation_energy=spec.migration_barrier,
                            ambient_temperature=t0)
    def card(v, temp):
        return float(model.field_return(p, p.gap_min, v, temp)) / float(model.bridged_fraction(p, p.gap_min))

    for v in (0.15, 0.5, 1.0):
        # the card's |V| is smoothed at 0 (SMOOTH_ABS): a relative change of its argument of SMOOTH_ABS V0 / V
        assert card(v, t0) == pytest.approx(float(law.return_rate(v / gap, t0)), rel=2 * model.SMOOTH_ABS * v0_mg / v)
    # above T_0 the card keeps its V0 (T_0's), where the FEM's field term falls as 1/T: the card's drive is
    # sinh(V/V0) against the FEM's sinh(V T_0 / (V0 T)), and the Arrhenius factors agree
    v, temp = 0.5, 350.0
    shift = math.sinh(v / v0_mg) / math.sinh(v * t0 / (v0_mg * temp))
    assert card(v, temp) == pytest.approx(float(law.return_rate(v / gap, temp)) * shift, rel=2 * model.SMOOTH_ABS * v0_mg / v)
    assert "Mott-Gurney return" in sources["return_rate"] and "dissolved_spread" not in sources["return_rate"]
    # a FEM that follows the dissolved Ag through the matrix: the card's source says its pool does not
    spread = build.dissolution_constants(FilamentSpec(dissolved_spread=True).model_dump(), t0, 1e-4)
    assert spread[0]["return_rate"] == values["return_rate"] and "dissolved_spread" in spread[1]["return_rate"]
    # a FEM whose return also diffuses at zero field: the card keeps the drift alone, and its source says so
    diffusing = build.dissolution_constants(FilamentSpec(dissolved_return_diffusion=True).model_dump(), t0, 1e-4)
    assert diffusing[0]["return_rate"] == values["return_rate"]
    assert "dissolved_return_diffusion" in diffusing[1]["return_rate"]
    # without the return the FEM's dissolved Ag is an immobile pool: no return in the card
    assert build.dissolution_constants(FilamentSpec(dissolved_return=False).model_dump(), t0, 1e-4)[0]["return_rate"] == 0.0
