"""Ionic series circuit of the set (NumPy/SciPy): Butler–Volmer limits, hopping, continuity, V₀ by element."""

from __future__ import annotations

import math

import numpy as np
import pytest

from devicephys.filament import electrochem, kinetics
from devicephys.units import e, eV, k_B

T = 300.0
KT = k_B * T / e  # [V]
AREA = math.pi * (2e-9) ** 2
BV = electrochem.ButlerVolmer(exchange_current_density=1e4, transfer_coefficient=0.3)
HOP = electrochem.IonHopping(concentration=1.17e28, hop_distance=0.5e-9, attempt_frequency=1e13, barrier=0.44 * eV)


@pytest.mark.parametrize("cathodic", [True, False])
def test_butler_volmer_linear_limit_is_the_charge_transfer_resistance(cathodic):
    """|η| ≪ k_B T / z e: I = I₀ z e η / k_B T (R_ct = k_B T / (z e I₀)), error O(η)."""
    i0 = BV.exchange_current_density * AREA
    for eta in (1e-7, 1e-6):
        ratio = BV.current(eta, AREA, T, cathodic=cathodic) / (i0 * eta / KT)
        assert abs(ratio - 1.0) < 2 * eta / KT  # next term: (2a − 1) η / (2 k_B T / e), |2a − 1| < 1


@pytest.mark.parametrize("cathodic, a", [(True, 0.3), (False, 0.7)])
def test_butler_volmer_tafel_slope(cathodic, a):
    """η ≫ k_B T / z e: d ln I / dη = a z e / k_B T with a = α (reduction) or 1 − α (oxidation)."""
    eta, d = 0.6, 1e-4
    slope = (math.log(BV.current(eta + d, AREA, T, cathodic=cathodic))
             - math.log(BV.current(eta - d, AREA, T, cathodic=cathodic))) / (2 * d)
    assert slope == pytest.approx(a / KT, rel=1e-6)


@pytest.mark.parametrize("cathodic", [True, False])
def test_butler_volmer_overpotential_inverts_the_current(cathodic):
    for eta in np.geomspace(1e-6, 1.5, 25):
        i = BV.current(eta, AREA, T, cathodic=cathodic)
        assert BV.overpotential(i, AREA, T, cathodic=cathodic) == pytest.approx(eta, rel=1e-10, abs=1e-15)
    assert BV.overpotential(0.0, AREA, T, cathodic=cathodic) == 0.0


def test_lumped_hopping_is_the_channel_transport_s_drift():
    """I_hop = z e c A v_MG(η / L): the lumped element and the 1-D transport hop by the same law."""
    law = kinetics.HoppingLaw(hop_distance=0.5e-9, attempt_frequency=1e13, barrier=0.44 * eV,
                              dissolution_frequency=1e13, dissolution_barrier=0.52 * eV)
    gap = 9e-9
    for drop in (1e-3, 0.1, 1.0, 3.0, 15.0, 16.0, 30.0):  # the barrier-less cap starts at 2 E_a L / (e a) = 15.8 V
        v = float(law.drift_velocity(drop / gap, T))
        assert HOP.current(drop, gap, AREA, T) == pytest.approx(e * HOP.concentration * AREA * v, rel=1e-12)
        if drop < 15.8:  # beyond the cap the current saturates and the inverse is ill-conditioned
            assert HOP.drop(HOP.current(drop, gap, AREA, T), gap, AREA, T) == pytest.approx(drop, rel=1e-12)
    assert HOP.drop(e * HOP.concentration * AREA * 0.5e-9 * 1e13, gap, AREA, T) == math.inf


def test_series_circuit_conserves_current_and_voltage():
    cell = electrochem.SeriesCell(BV, BV, HOP, anode_area=10 * AREA, tip_area=AREA, hop_area=AREA)
    for v, gap in ((1e-4, 9e-9), (0.05, 9e-9), (0.3, 9e-9), (1.0, 9e-9), (3.0, 9e-9), (3.0, 0.65e-9)):
        i, (ac, hop, fc) = cell.solve(v, gap, T)
        assert ac + hop + fc == pytest.approx(v, rel=1e-11)
        assert BV.current(ac, 10 * AREA, T, cathodic=False) == pytest.approx(i, rel=1e-9)
        assert HOP.current(hop, gap, AREA, T) == pytest.approx(i, rel=1e-9)
        assert BV.current(fc, AREA, T, cathodic=True) == pytest.approx(i, rel=1e-9)
    assert cell.solve(0.0, 9e-9, T)[0] == 0.0 and cell.hopping_share(0.0, 9e-9, T) == 1.0


def test_two_symmetric_interfaces_with_fast_hopping_match_the_closed_form():
    """α = 1/2, equal areas, hopping with no resistance: η = V/2 at each, I = 2 I₀ sinh(z e V / 4 k_B T)."""
    sym = electrochem.ButlerVolmer(exchange_current_density=1e4, transfer_coefficient=0.5)
    fast = electrochem.IonHopping(concentration=1e40, hop_distance=0.5e-9, attempt_frequency=1e13, barrier=0.44 * eV)
    cell = electrochem.SeriesCell(sym, sym, fast, anode_area=AREA, tip_area=AREA, hop_area=AREA)
    i0 = sym.exchange_current_density * AREA
    for v in (0.01, 0.2, 0.8):
        i, drops = cell.solve(v, 9e-9, T)
        assert i == pytest.approx(2 * i0 * math.sinh(v / (4 * KT)), rel=1e-9)
        assert drops[0] == pytest.approx(v / 2, rel=1e-9) and drops[2] == pytest.approx(v / 2, rel=1e-9)


def test_voltage_scale_adds_up_over_the_elements():
    """V₀ = dV / d ln I of the solved circuit equals the sum of the elements' shares; in the limits each share
    is its own law's: k_B T / (α z e) for a Tafel interface, 2 k_B T L / (z e a) for exponential hopping."""
    cell = electrochem.SeriesCell(BV, BV, HOP, anode_area=1e6 * AREA, tip_area=AREA, hop_area=AREA)
    gap = 9e-9
    for v in (0.3, 1.0, 3.0):
        dv = 1e-4
        numeric = 2 * dv / (math.log(cell.solve(v + dv, gap, T)[0]) - math.log(cell.solve(v - dv, gap, T)[0]))
        scale = cell.voltage_scale(v, gap, T)
        assert scale["total"] == pytest.approx(numeric, rel=1e-5)
        assert scale["total"] == pytest.approx(scale["anode"] + scale["hopping"] + scale["tip"], rel=1e-12)
    slow = electrochem.ButlerVolmer(exchange_current_density=1e-6, transfer_coefficient=0.3)
    tafel = electrochem.SeriesCell(BV, slow, HOP, anode_area=1e6 * AREA, tip_area=AREA, hop_area=AREA)
    assert tafel.voltage_scale(1.0, gap, T)["tip"] == pytest.approx(KT / 0.3, rel=1e-6)
    hop_limited = electrochem.SeriesCell(BV, BV, HOP, anode_area=1e6 * AREA, tip_area=1e6 * AREA, hop_area=AREA)
    assert hop_limited.voltage_scale(8.0, gap, T)["hopping"] == pytest.approx(2 * KT * gap / 0.5e-9, rel=1e-6)


def test_the_spec_s_circuit():
    from devicephys.errors import SpecError
    from devicephys.filament.spec import FilamentSpec

    assert electrochem.SeriesCell.from_spec(FilamentSpec(), AREA) is None  # off unless j0 is given
    cell = electrochem.SeriesCell.from_spec(FilamentSpec(exchange_current_density=1e3, transfer_coefficient=0.4), AREA)
    assert cell.tip.exchange_current_density == 1e3 and cell.anode.transfer_coefficient == 0.4
    # c = c_src n_Ag; Ag's conduction-electron density is its atomic density, 5.86e28 /m³ (Ashcroft–Mermin, Table 1.1)
    assert cell.hopping.concentration == pytest.approx(0.2 * 5.86e28, rel=2e-3)
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(SpecError, match="transfer_coefficient"):
            FilamentSpec(exchange_current_density=1e3, transfer_coefficient=bad)
    with pytest.raises(SpecError, match="exchange_current_density"):
        FilamentSpec(exchange_current_density=-1.0)


def test_the_stage_records_each_set_voltage_s_circuit():
    from devicephys.filament.spec import FilamentSpec
    from devicephys.filament.stage import _ionic_circuit

    spec = FilamentSpec(exchange_current_density=1e4, set_voltages=[0.2, 3.0])
    attrs = _ionic_circuit(electrochem.SeriesCell.from_spec(spec, AREA), spec)
    share, hop, interfaces = attrs["ionic_hopping_share"], attrs["ionic_v0_hopping"], attrs["ionic_v0_interfaces"]
    # 0.2 V: the interfaces take most of it, each near its Tafel share k_B T / (α e) = 0.052 V
    assert share[0] < 0.3 and interfaces[0] == pytest.approx(2 * KT / 0.5, rel=0.15)
    # 3 V over 9 nm: the hopping takes most, at nearly its exponential regime's 2 k_B T L / (e a) = 0.93 V
    assert share[1] > 0.75 and hop[1] == pytest.approx(2 * KT * 9e-9 / 0.5e-9, rel=0.02)


NUC = electrochem.Nucleation(time_prefactor=2e-8, barrier=0.8 * eV, critical_size=3, transfer_coefficient=0.5)


def test_nucleation_time_is_the_atomistic_law():
    """t_nuc = t₀ exp(ΔG / k_B T) exp(−(N_c + α) z e η / k_B T): the e-fold overpotential k_B T / ((N_c + α) z e)."""
    assert NUC.time(0.0, T) == pytest.approx(2e-8 * math.exp(0.8 / KT), rel=1e-12)
    for eta in (0.05, 0.2, 0.4):
        assert NUC.time(eta, T) == pytest.approx(2e-8 * math.exp((0.8 - 3.5 * eta) / KT), rel=1e-12)
    scale = NUC.voltage_scale(T)
    assert scale == pytest.approx(KT / 3.5, rel=1e-12)
    assert math.log(NUC.time(0.1, T) / NUC.time(0.1 + scale, T)) == pytest.approx(1.0, rel=1e-9)
    assert NUC.time(-0.3, T) == NUC.time(0.0, T)  # no nucleation is driven by an anodic overpotential
    assert 0.0 < NUC.time(50.0, T) and math.isfinite(1.0 / NUC.time(50.0, T))  # finite rate at any overpotential
    # (N_c + 1) Ag atoms in a node of the channel: N = 4 atoms of 1.708e-29 m³ in 3.14e-27 m³
    assert NUC.cluster_fraction(3.14e-27, 1.708e-29) == pytest.approx(4 * 1.708e-29 / 3.14e-27, rel=1e-12)


def test_the_spec_s_nucleation_needs_an_inert_cathode_and_the_user_s_values():
    from devicephys.errors import SpecError
    from devicephys.filament.spec import FilamentSpec

    values = dict(nucleation_time_prefactor=2e-8, nucleation_barrier=0.8 * eV, critical_nucleus=3)
    assert electrochem.Nucleation.from_spec(FilamentSpec()) is None
    spec = FilamentSpec(counter_electrode="Pt", exchange_current_density=1e4, cathode_nucleation=True, **values)
    assert electrochem.Nucleation.from_spec(spec) == NUC
    with pytest.raises(SpecError, match="inert counter electrode") as info:
        FilamentSpec(exchange_current_density=1e4, cathode_nucleation=True, **values)
    assert info.value.field == "cathode_nucleation"
    with pytest.raises(SpecError, match="exchange_current_density"):
        FilamentSpec(counter_electrode="Pt", cathode_nucleation=True, **values)
    for name in values:
        with pytest.raises(SpecError, match=name) as info:
            FilamentSpec(counter_electrode="Pt", exchange_current_density=1e4, cathode_nucleation=True,
                         **{k: v for k, v in values.items() if k != name})
        assert info.value.field == name
