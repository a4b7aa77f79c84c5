"""Nucleation on an inert cathode (``cathode_nucleation``): the state machine, and on the real FEM.

An Ag filament growing towards a Pt counter electrode needs a nucleus first: until the integral of
dt / t_nuc(η_fc, T) reaches 1 the cathode takes no ions.  The nucleation values below are test
inputs (t₀ = 20 ns, ΔG = 0.6 eV, N_c = 3), chosen so that t_nuc spans 0.2–750 µs over 2.75–4 V at
j₀ = 1e6 A/m²; they are not a measured cell's.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from devicephys.filament import electrochem
from devicephys.filament.spec import FilamentSpec
from devicephys.units import eV

NUCLEATION = dict(nucleation_time_prefactor=2e-8, nucleation_barrier=0.6 * eV, critical_nucleus=3)
INERT = dict(counter_electrode="Pt", exchange_current_density=1e6)


def _fake(progress=0.0, nucleated=False, stable=False, cathode_metal=0.0, eta=0.1):
    """What CellModel._nucleation_step reads, without a mesh."""
    return SimpleNamespace(nucleation_progress=progress, nucleated=nucleated, nucleus_stable=stable,
                           nucleation_time=math.nan, time=1e-6, c=np.array([0.0, cathode_metal]),
                           cluster_fraction=0.02, cathode_overpotential=eta,
                           nucleation=electrochem.Nucleation(2e-8, 0.6 * eV, 3, 0.5))


def test_nucleation_progress_crossing_and_loss_of_the_nucleus():
    from devicephys.filament.simulate import _NUCLEATION_OVERSHOOT, CellModel

    model = _fake()
    t_nuc = model.nucleation.time(0.1, 300.0)
    # progress grows by dt / t_nuc; no nucleus before it reaches 1
    (progress, nucleated, stable, _), over = CellModel._nucleation_step(model, 0.25 * t_nuc, 300.0)
    assert progress == pytest.approx(0.25, rel=1e-12) and not nucleated and not over
    # the step that crosses 1 nucleates at the time interpolated in it
    model.nucleation_progress = 0.9
    (progress, nucleated, _, when), over = CellModel._nucleation_step(model, 0.11 * t_nuc, 300.0)
    assert nucleated and not over and when == pytest.approx(1e-6 + 0.1 * t_nuc, rel=1e-12)
    # a step that overshoots by more than the tolerance is flagged (the caller takes a shorter one)
    (_, nucleated, _, when), over = CellModel._nucleation_step(model, 0.2 * t_nuc, 300.0)
    assert nucleated and over and 0.2 > 0.1 + _NUCLEATION_OVERSHOOT
    assert when == pytest.approx(1e-6 + 0.1 * t_nuc, rel=1e-12)
    # a nucleus becomes stable once its deposit holds the N_c + 1 atoms; dissolved below them, it is lost
    grown = _fake(progress=1.0, nucleated=True, cathode_metal=0.05)
    assert CellModel._nucleation_step(grown, 1e-9, 300.0)[0][2]
    lost = _fake(progress=1.0, nucleated=True, stable=True, cathode_metal=0.01)
    assert CellModel._nucleation_step(lost, 1e-9, 300.0)[0][:3] == (0.0, False, False)
    young = _fake(progress=1.0, nucleated=True, stable=False, cathode_metal=0.0)  # not yet grown: kept
    assert CellModel._nucleation_step(young, 1e-9, 300.0)[0][:3] == (1.0, True, False)


def _constant(voltage, **over):
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import extract
    from devicephys.filament import simulate as sim

    spec = FilamentSpec(**{**FilamentSpec.dilute().model_dump(), **INERT, **over})
    model = sim.CellModel(spec)
    seen = []
    trace = sim.run_drive(model, lambda t: voltage, spec.set_time_limit,
                          dt_max=spec.set_time_limit * spec.max_step_fraction, stop=lambda s: s["gap"] < spec.gap_on,
                          observer=lambda m, s: seen.append((m.time, m.nucleated, float(m.c[-1]),
                                                             m.cathode_overpotential)))
    i = extract.set_index(trace.array("gap"), spec.gap_on)
    return spec, model, (float(trace.array("time")[i]) if i is not None else math.nan), seen


@pytest.mark.fem
def test_inert_cathode_takes_no_ions_until_it_nucleates_at_the_atomistic_time():
    spec, model, t_set, seen = _constant(3.25, cathode_nucleation=True, **NUCLEATION)
    before = [s for s in seen if not s[1]]
    assert before and all(s[2] == 0.0 for s in before)  # no metal on the cathode before the nucleus
    # the cathode's overpotential is the ionic circuit's at the pristine 9 nm gap (ambient, the full source
    # voltage but the leakage's nV in R_s), held from the first step (the drive solves φ at its bias before it)
    # until the nucleation
    gap = spec.insulator_thickness - spec.seed_height
    eta = electrochem.SeriesCell.from_spec(spec, model.et.medium.channel_area).solve(3.25, gap, 300.0)[1][2]
    assert all(s[3] == pytest.approx(eta, rel=1e-6) for s in before)
    # so it nucleates at t_nuc(eta), interpolated inside the step that completes it (exact for a constant rate)
    assert model.nucleation_time == pytest.approx(model.nucleation.time(eta, 300.0), rel=1e-6)
    assert 20e-6 < model.nucleation_time < t_set  # t_nuc(0.118 V) = 27.8 us; the set follows it
    print(f"nucleation at {model.nucleation_time * 1e6:.3f} us (eta_fc {eta:.4f} V), set at {t_set * 1e6:.2f} us")


@pytest.mark.fem
@pytest.mark.slow
def test_instant_nucleation_is_the_direct_deposit():
    """t₀ → 0: the cathode nucleates in the first step and the set is the one without nucleation, to rounding."""
    _, _, t_direct, _ = _constant(3.25)
    _, model, t_instant, _ = _constant(3.25, cathode_nucleation=True, **{**NUCLEATION, "nucleation_time_prefactor": 1e-40})
    assert model.nucleation_time <= 2e-7  # within the first step (125 ns)
    assert t_instant == pytest.approx(t_direct, rel=1e-9)


@pytest.mark.fem
@pytest.mark.slow
def test_nucleation_limited_set_time_law_has_the_nucleation_s_voltage_scale():
    """Where the nucleation limits the set, V₀ = k_B T / ((N_c + α) z e) / (dη_fc/dV) (0.151 V here).

    The steps are resolved (``resolve_set``): after the nucleus forms, the piled-up ions bridge the
    gap in 1.4–21 µs, 3–5 % of the set times at 2.75–3.25 V, which moves the fitted V₀ by under 1 %.
    """
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import extract
    from devicephys.filament import simulate as sim
    from devicephys.filament.stage import _set_runs

    volts = [2.75, 3.0, 3.25]
    spec = FilamentSpec(**{**FilamentSpec.dilute().model_dump(), **INERT, "cathode_nucleation": True, **NUCLEATION,
                           "resolve_set": True, "set_voltages": volts})
    model = sim.CellModel(spec)
    times, _, _, _, nucleation, *_ = _set_runs(model, spec, model.state(), False)
    assert np.all(nucleation < times) and np.all(times - nucleation < 0.05 * times)
    _, v0, _ = extract.fit_set_time(np.array(volts), times)
    cell = electrochem.SeriesCell.from_spec(spec, model.et.medium.channel_area)
    gap = spec.insulator_thickness - spec.seed_height
    slope = (cell.solve(3.25, gap, 300.0)[1][2] - cell.solve(2.75, gap, 300.0)[1][2]) / 0.5  # dη_fc / dV [1]
    expected = model.nucleation.voltage_scale(300.0) / slope
    assert v0 == pytest.approx(expected, rel=0.03)
    print(f"V0 = {v0:.4f} V against {expected:.4f} V from the circuit; set times {times * 1e6} us")


@pytest.mark.fem
@pytest.mark.slow
def test_the_stage_records_and_plots_each_run_s_nucleation(tmp_path):
    """The stage (its second process included) writes set_nucleation_time; a sweep that never nucleates is
    refused in one line that says so."""
    pytest.importorskip("dolfinx_solver")
    from devicephys.errors import SpecError
    from devicephys.filament.result import FilamentResult
    from devicephys.filament.stage import run

    base = {**FilamentSpec.dilute().model_dump(), **INERT, "cathode_nucleation": True, **NUCLEATION}
    with pytest.raises(SpecError, match="did not nucleate"):  # t_nuc at the 3 V peak is 146 us, the sweep 200 us
        run(FilamentSpec(**base), tmp_path / "low", progress=False)
    spec = FilamentSpec(**{**base, "sweep_voltage": 4.0, "set_voltages": [3.0, 3.25]})
    files = run(spec, tmp_path / "ok", progress=False)
    data = FilamentResult.load(files["result"]).data
    nucleation, times = data["set_nucleation_time"].values, data["set_time"].values
    assert data["set_nucleation_time"].attrs["units"] == "s"
    assert np.all(nucleation < times)
    # each run nucleates at the closed form t_nuc(η_fc) of the pristine cell's ionic circuit
    cell = electrochem.SeriesCell.from_spec(spec, math.pi * spec.channel_radius**2)
    law = electrochem.Nucleation.from_spec(spec)
    gap = spec.insulator_thickness - spec.seed_height
    for k, volts in enumerate(spec.set_voltages):
        expected = law.time(cell.solve(volts, gap, 300.0)[1][2], 300.0)
        assert nucleation[k] == pytest.approx(expected, rel=1e-6)
    assert files["set_time"].stat().st_size > 0


@pytest.mark.fem
@pytest.mark.slow
def test_pulses_integrate_the_nucleation_without_leak():
    """The nucleation integral grows only under bias and keeps its value between pulses, so a train of
    20 us pulses fires at the pulse that completes t_nuc(η_fc): N_fire = ceil(t_nuc / pulse_width) at any
    interval (the cathode without nucleation sets in the first pulse)."""
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import simulate as sim
    from devicephys.filament.stage import _fire_runs

    gap = 9e-9
    for volts, intervals, counts in (([3.0, 3.25], [40e-6], [8, 2]), ([3.25], [200e-6], [2])):
        spec = FilamentSpec(**{**FilamentSpec.dilute().model_dump(), **INERT, "cathode_nucleation": True, **NUCLEATION,
                               "fire_voltages": volts, "fire_intervals": intervals, "fire_pulse_limit": 12})
        model = sim.CellModel(spec)
        n_fire = _fire_runs(model, spec, model.state(), False)[:, 0]
        cell = electrochem.SeriesCell.from_spec(spec, model.et.medium.channel_area)
        expected = [math.ceil(model.nucleation.time(cell.solve(v, gap, 300.0)[1][2], 300.0) / spec.pulse_width)
                    for v in volts]
        assert n_fire.tolist() == expected
        assert expected == counts  # 3.0 V needs 8 pulses (t_nuc = 146 us); 3.25 V needs 2 at either interval
