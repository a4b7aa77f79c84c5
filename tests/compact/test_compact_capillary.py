"""The card's second slow state with the FEM's Gibbs-Thomson radius dependence (``capillary_number``).

The oldest stretch, a cylinder of radius r_ch sqrt(m), dissolves at k_d s exp(Lambda (1/s - 1)), s = sqrt(m) with m
clipped to [c_p, 1], Lambda = gamma Omega / (k_B T_0 r_ch): the finite-element filament's ``gibbs_thomson_radius``
rule at the ambient.  Checked: the factor against the FEM's own, the self-rupture time against an independent
integration of the stretch's thinning, the bridge's rupture and its hold by the field's return in NumPy, the
relaxation oscillation in ngspice against NumPy, the Verilog-A equations in OpenVAF, and the card built from a
FEM result with the option.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy.constants import N_A
from scipy.integrate import solve_ivp

from devicephys import materials, units
from devicephys.compact import build, export_veriloga, integrate, measured_release, model, ngspice, va_check
from devicephys.compact.card import DeviceCard
from devicephys.compact.export_spice import physical_names, read_parameters, subcircuit_names, subcircuit_text
from devicephys.compact.spec import CompactSpec
from devicephys.compact.synthetic import REFERENCE, emission_dataset
from devicephys.compact.verify import TARGET
from devicephys.errors import SpecError
from devicephys.filament import kinetics
from devicephys.filament.spec import FilamentSpec
from devicephys.units import eV

FEM = FilamentSpec(gibbs_thomson_radius=True)
T0 = REFERENCE.ambient_temperature
AG = materials.get("Ag")
GAMMA_OMEGA = AG["surface_energy"] * AG["molar_mass"] / (AG["density"] * N_A)  # [J m]
LAMBDA = GAMMA_OMEGA / (units.k_B * T0 * FEM.channel_radius)
K_D = FEM.dissolution_frequency * math.exp(-FEM.dissolution_barrier / (units.k_B * T0))
C_P = FEM.percolation_threshold
T_R = model.thinning_time(K_D, C_P, LAMBDA)
#: The reference device with the FEM's radius-dependent dissolution, isothermal (E_a = 0).
P = dataclasses.replace(REFERENCE, activation_energy=0.0, relaxation_time=T_R, dissolution_rate=K_D,
                        percolation_fraction=C_P, percolation_width=FEM.percolation_width,
                        rupture_time=1e-4 * T_R, capillary_number=LAMBDA)
#: The percolation crossover in time: the rupture falls within +- half its width in metal fraction, crossed at the
#: stretch's fastest rate near c_p.
CROSSOVER = 0.5 * FEM.percolation_width / (K_D * float(model.capillary_factor(C_P, C_P, LAMBDA)))


def test_the_cards_factor_is_the_fems_at_the_ambient():
    law = kinetics.HoppingLaw(hop_distance=0.5e-9, attempt_frequency=1e13, barrier=0.44 * eV,
                              dissolution_frequency=1e13, dissolution_barrier=0.52 * eV, reduction_rate=1e7)
    tr = kinetics.ChannelTransport(np.linspace(0.0, 10e-9, 11), law, source=None, threshold=C_P, exclusion=True,
                                   capillary=(GAMMA_OMEGA, FEM.channel_radius))
    m = np.array([0.0, 0.1, C_P, 0.4, 0.55, 0.7, 0.9, 1.0])
    assert model.dissolution_factor(P, m) == pytest.approx(tr.capillary_factor(m, np.full(m.size, T0)), rel=1e-13)
    # Ag in the 2 nm channel at 300 K: Lambda = 2.58; the zero-order card's factor is 1
    assert LAMBDA == pytest.approx(2.577, abs=2e-3)
    assert np.all(model.dissolution_factor(dataclasses.replace(P, capillary_number=0.0), m) == 1.0)


def test_self_rupture_time_is_the_stretchs_thinning_from_one_to_percolation():
    # an independent integration of dm/dt = -k_d f(m) (Radau), stopped at c_p
    def crossed(t, y):
        return y[0] - C_P
    crossed.terminal = True
    sol = solve_ivp(lambda t, y: [-K_D * float(model.capillary_factor(y[0], C_P, LAMBDA))], (0.0, 10 * T_R), [1.0],
                    method="Radau", rtol=1e-11, atol=1e-13, events=crossed)
    assert model.self_rupture_time(P) == pytest.approx(float(sol.t_events[0][0]), rel=1e-8)
    # thinner bodies dissolve faster: shorter than the zero-order (1 - c_p)/k_d, longer than at the largest factor
    zero_order = (1 - C_P) / K_D
    assert zero_order / float(model.capillary_factor(C_P, C_P, LAMBDA)) < T_R < zero_order
    assert T_R / zero_order == pytest.approx(0.65, abs=0.01)  # the FEM's uniform body at 300 K
    assert model.thinning_time(K_D, C_P, 0.0) == zero_order


def test_a_fresh_bridge_self_ruptures_at_the_thinning_time():
    f = integrate._rhs(P, 0.0, 0.0, 0.0, 0.0)

    def opened(t, y):
        return y[0] - 0.5 * (P.gap_min + P.gap_max)
    opened.terminal = True
    sol = solve_ivp(f, (0.0, 3 * T_R), np.array([P.gap_min, 0.0, 1.0, 0.0]), method="Radau", rtol=1e-9,
                    atol=model.state_tolerances(P), events=opened)
    assert T_R - CROSSOVER < float(sol.t_events[0][0]) < T_R + CROSSOVER + 20 * P.rupture_time


def test_holding_ratio_is_the_minimum_over_the_stretch():
    m = np.linspace(C_P, 1.0, 400001)[:-1]
    brute = float(np.min(model.capillary_factor(m, C_P, LAMBDA) / (1 - m)))
    assert model.holding_ratio(P) == pytest.approx(brute, rel=1e-8)
    assert model.holding_ratio(P) <= float(model.capillary_factor(C_P, C_P, LAMBDA)) / (1 - C_P)
    assert model.holding_ratio(dataclasses.replace(P, capillary_number=0.0)) == 1 / (1 - C_P)


@pytest.mark.parametrize("factor, held", [(1.03, True), (0.97, False)])
def test_the_fields_return_holds_the_bridge_from_its_static_hold(factor, held):
    """A return rate whose static hold is half the threshold: the bridge at a constant bias 3 % above it lives
    through ten self-rupture times; 3 % below it breaks."""
    hold = 0.5 * model.static_threshold(P)
    p = dataclasses.replace(P, return_rate=measured_release.start_rate(P, hold))
    assert model.return_hold(p) == pytest.approx(hold, rel=1e-9)
    f = integrate._rhs(p, 0.0, 0.0, factor * hold, 0.0)

    def opened(t, y):
        return y[0] - 0.5 * (p.gap_min + p.gap_max)
    opened.terminal = True
    sol = solve_ivp(f, (0.0, 10 * T_R), np.array([p.gap_min, 0.0, 1.0, 0.0]), method="Radau", rtol=1e-9,
                    atol=model.state_tolerances(p), events=opened)
    assert (sol.t_events[0].size == 0) == held


def _card() -> DeviceCard:
    from tests.compact.test_compact_dissolution import _card as dissolving_card

    return dissolving_card(P, "capillary")


def test_capillary_card_round_trips_through_both_exports():
    card = _card()
    assert card.model_params() == P
    assert "capillary_number" in physical_names(card)
    for back in (read_parameters(subcircuit_text(card)), export_veriloga.read_parameters(export_veriloga.module_text(card))):
        for name in physical_names(card):
            assert back[name] == card.value(name), name


def test_verilog_a_equations_equal_numpy_with_the_radius_dependence(tmp_path):
    card = _card()
    err = va_check.check(card, export_veriloga.write(card, tmp_path / "capillary.va"), samples=100)
    assert max(err.values()) < 1e-12, err


def _edges(time, gap):
    on = gap < P.contact_gap
    return time[np.flatnonzero(np.diff(on.astype(int))) + 1]


@pytest.mark.spice
def test_relaxation_oscillation_with_the_radius_dependence_in_ngspice_and_numpy():
    """Behind 2 kOhm at 1.2 V_th the cell sets, lives until its oldest stretch has thinned to percolation (the
    thinning time after growth began), re-forms and breaks again; ngspice's edges agree with NumPy's."""
    card = _card()
    v_s, r_s = 1.2 * model.static_threshold(P), 2e3
    t_stop = 2.2 * T_R
    tp, vp = [0.0, 1e-9, t_stop], [0.0, v_s, v_s]
    ref = integrate.simulate_series(P, tp, vp, r_s, samples_per_segment=20000)
    ev = _edges(ref.time, ref.gap)
    assert len(ev) == 4  # set, rupture, set, rupture
    assert T_R - CROSSOVER < ev[1] < T_R + CROSSOVER + 20 * P.rupture_time
    name, _ = subcircuit_names(card)
    run = ngspice.run(ngspice.series_netlist(subcircuit_text(card), name, tp, vp, r_s, t_stop, t_stop / 20000),
                      ["v(xdev.nx)"])
    ev_sp = _edges(run.time, P.gap_max - 1e-9 * run.vectors["v(xdev.nx)"])
    assert len(ev_sp) == len(ev)
    assert np.max(np.abs(ev_sp - ev) / ev) < TARGET


def _fem_result(**update):
    from tests.compact.test_compact_fem_path import fem_like

    ds = fem_like()
    spec = json.loads(ds.attrs["spec"])
    spec.update({k: getattr(FEM, k) for k in ("dissolution_frequency", "dissolution_barrier", "percolation_threshold",
                                               "percolation_width", "dissolved_return", "gibbs_thomson_radius",
                                               "channel_radius", "active_electrode", "hop_distance",
                                               "attempt_frequency", "migration_barrier")})
    spec.update(dissolved_return=True, **update)
    ds.attrs["spec"] = json.dumps(spec)
    return ds


def test_a_fem_result_with_the_radius_dependence_gives_the_card_its_capillary_number():
    ds = _fem_result()
    spec = build.fem_spec(ds)
    assert build.rupture_mode(CompactSpec(), spec) == "dissolution"
    t0 = float(ds["temperature_max"].values[0])
    values, sources = build.dissolution_constants(spec, t0, 1e-4)
    want = GAMMA_OMEGA / (units.k_B * t0 * FEM.channel_radius)
    assert values["capillary_number"] == pytest.approx(want, rel=1e-12)
    assert values["relaxation_time"] == pytest.approx(model.thinning_time(values["dissolution_rate"], C_P, want),
                                                      rel=1e-12)
    assert "not fitted" in sources["capillary_number"] and "Tyson" in sources["capillary_number"]
    # the device's own interface energy, where the spec gives one
    values, sources = build.dissolution_constants({**spec, "interface_energy": 0.5}, t0, 1e-4)
    assert values["capillary_number"] == pytest.approx(want * 0.5 / AG["surface_energy"], rel=1e-12)
    assert "FilamentSpec.interface_energy" in sources["capillary_number"]
    # the zero-order FEM: no capillary number on the card
    values, _ = build.dissolution_constants({**spec, "gibbs_thomson_radius": False}, t0, 1e-4)
    assert "capillary_number" not in values
    emission = emission_dataset(wavelengths=np.linspace(2e-6, 10e-6, 241), band_scale=9.0)
    card = build.fit_device(ds, emission, CompactSpec(verify=False))
    assert card.value("capillary_number") == pytest.approx(want, rel=1e-12)
    assert card.value("relaxation_time") == pytest.approx(model.self_rupture_time(card.model_params()), rel=1e-12)


def test_a_factor_beyond_the_fems_cap_is_refused():
    """The FEM caps the dissolution at the barrier-less attempt frequency; the card has no cap, so a stretch whose
    rate at percolation would exceed it is refused in one line naming the option."""
    spec = build.fem_spec(_fem_result(dissolution_barrier=0.01 * eV))
    with pytest.raises(SpecError, match="dissolution_frequency.*use rupture: relaxation"):
        build.dissolution_constants(spec, T0, 1e-4)


def test_capillary_number_without_the_second_slow_state_is_refused():
    with pytest.raises(SpecError, match="capillary_number"):
        dataclasses.replace(REFERENCE, capillary_number=2.0)
    with pytest.raises(SpecError, match="capillary_number"):
        dataclasses.replace(P, capillary_number=-1.0)


def test_the_chain_example_is_the_fast_default_cell_with_the_radius_dependence():
    from pathlib import Path

    from devicephys.pipeline import PipelineSpec

    spec = PipelineSpec.from_file(Path(__file__).resolve().parents[2] / "examples" / "gibbs_thomson_chain.yaml")
    assert spec.stage_spec("filament") == FilamentSpec.fast().model_copy(update={"gibbs_thomson_radius": True})
    assert spec.stage_spec("compact").rupture == "auto"
    assert build.rupture_mode(spec.stage_spec("compact"), spec.stage_spec("filament").model_dump()) == "dissolution"


def test_the_replays_explanations_name_the_radius_dependence():
    from devicephys.compact import fem_drive

    context = {"card_min_gap": P.gap_min, "fem_peak_temperature": 390.0, "card_peak_temperature": 310.0}
    fem = {"gap_on": 2 * P.gap_min}
    text = fem_drive.missing_physics("relaxation_time", {}, {}, context, P, fem)
    assert "Gibbs-Thomson factor" in text and f"{T_R:.3g} s" in text
    held = dataclasses.replace(P, return_rate=measured_release.start_rate(P, 0.5 * model.static_threshold(P)))
    text = fem_drive.missing_physics("hold_voltage", {}, {}, context, held, fem)
    assert f"{K_D * float(model.capillary_factor(C_P, C_P, LAMBDA)):.3g} 1/s" in text
