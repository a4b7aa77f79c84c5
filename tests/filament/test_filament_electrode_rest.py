"""The active electrode at rest in equilibrium with the channel (``active_electrode_equilibrium``).

Without the option the active electrode holds no ions at zero and reverse field: every ion that reaches it is
taken.  With it the electrode is flat Ag at rest, whose interface holds the channel's equilibrium ion fraction
without the channel's Gibbs–Thomson excess, c_eq = (k_d/k_r) exp(−γΩ/(r_ch k_B T)), exchanged with the first node
by the hopping's Scharfetter–Gummel half-cell (onto a free site, as the oxidation's ions).  Checked: c_eq against
its closed form from the material data, the exchange's three limits (zero, strong forward, strong reverse field), an
ion column at zero field settling to c_eq (and draining without the option) in both the lattice-gas and the dilute
step, a stub on the electrode held at c_eq at zero field, and the refusal without a surface energy.
"""

from __future__ import annotations

import numpy as np
import pytest

from devicephys.filament import kinetics
from devicephys.filament import simulate as sim
from devicephys.filament.spec import FilamentSpec
from devicephys.units import eV

# [J] γΩ/r_ch of the default cell, from independent constants: Ag's surface energy 1.25 J/m² (Tyson & Miller 1977),
# molar mass 107.8682 g/mol, density 10490 kg/m³, Avogadro's number, channel radius 2 nm
GAMMA_OMEGA_OVER_R = 1.25 * 107.8682e-3 / (10490.0 * 6.02214076e23) / 2e-9
K_B = 1.380649e-23  # [J/K]


def _law() -> kinetics.HoppingLaw:
    return kinetics.HoppingLaw(0.5e-9, 1e13, 0.44 * eV, 1e13, 0.52 * eV, reduction_rate=1e7)


def _transport(rest: float | None, exclusion: bool = True, n: int = 10) -> kinetics.ChannelTransport:
    return kinetics.ChannelTransport(np.linspace(0.0, 9e-9, n), _law(), source=0.2, threshold=0.3,
                                     exclusion=exclusion, electrode_rest=rest)


def test_the_rest_fraction_is_the_channels_equilibrium_without_its_gibbs_thomson_excess():
    spec = FilamentSpec.fast().model_copy(update=dict(active_electrode_equilibrium=True))
    assert sim._electrode_rest(spec) == pytest.approx(GAMMA_OMEGA_OVER_R, rel=1e-9)
    assert sim._electrode_rest(FilamentSpec.fast()) is None
    tr = _transport(GAMMA_OMEGA_OVER_R)
    for T in (300.0, 400.0):
        k_d = 1e13 * np.exp(-0.52 * eV / (K_B * T))
        expected = k_d / 1e7 * np.exp(-GAMMA_OMEGA_OVER_R / (K_B * T))
        assert float(tr.rest_fraction(T)) == pytest.approx(expected, rel=1e-12)
    assert float(tr.rest_fraction(300.0)) == pytest.approx(1.40e-4, rel=0.01)  # the value the spec's text states
    assert float(_transport(None).rest_fraction(300.0)) == 0.0


def test_the_exchange_at_zero_strong_forward_and_strong_reverse_field():
    tr, off = _transport(GAMMA_OMEGA_OVER_R), _transport(None)
    T, h = 300.0, tr.h[0]
    c_eq, D = float(tr.rest_fraction(T)), float(tr.law.diffusivity(T))
    a, b, r = tr._reservoir_exchange(0.0, T)
    assert (a, b) == off._reservoir_exchange(0.0, T)[:2]  # the oxidation and the return are unchanged
    assert off._reservoir_exchange(0.0, T)[2] == 0.0
    assert r == pytest.approx(D / h * c_eq, rel=1e-12) and b == pytest.approx(D / h, rel=1e-12)
    E = 2e9  # Pe > 40: drift alone to e^(-Pe)
    v = float(tr.law.drift_velocity(E, T))
    assert v * h / D > 40
    assert tr._reservoir_exchange(E, T)[2] == pytest.approx(v * c_eq, rel=1e-12)
    assert tr._reservoir_exchange(-E, T)[2] < 1e-15 * v * c_eq


@pytest.mark.parametrize("exclusion", [True, False])
def test_at_zero_field_an_ion_column_settles_at_the_rest_fraction_or_drains_without_it(exclusion):
    n, T = 10, 300.0
    E, temps, w = np.zeros(n - 1), np.full(n, T), np.zeros(n)  # no metal: nothing reduces
    for start in (0.0, 0.01):
        for rest in (GAMMA_OMEGA_OVER_R, None):
            tr = _transport(rest, exclusion, n)
            c_i, c_m, c_s = np.full(n, start), np.zeros(n), np.zeros(n)
            # 400 x 50 us: the column's slowest mode (one open end: 4 L^2 / pi^2 D = 0.33 ms at 300 K) decays by
            # e^-60; backward Euler's steady state is the continuous one whatever the step
            for _ in range(400):
                c_i, c_m, c_s = tr.step(c_i, c_m, c_s, E, temps, 50e-6, w)
            if rest is None:
                assert c_i.max() < 1e-12 * max(start, 1.0)  # the electrode takes every ion
            else:  # uniform at c_eq; in the lattice gas the rest's ions need a free site: c = c_eq (1 - c)
                c_eq = float(tr.rest_fraction(T))
                assert c_i == pytest.approx(c_eq / (1.0 + c_eq) if exclusion else c_eq, rel=1e-9)


def test_a_stub_on_the_electrode_holds_the_rest_fraction_at_zero_field():
    n, T = 10, 300.0
    c_m = np.zeros(n)
    c_m[:3] = 0.9  # a metal stub on the active electrode, not bridged
    E, temps = np.zeros(n - 1), np.full(n, T)
    tr = _transport(GAMMA_OMEGA_OVER_R)
    nodes, value = tr._clamp_anode_metal(c_m, E, temps)
    assert list(nodes) == [0, 1, 2] and value == pytest.approx(float(tr.rest_fraction(T)), rel=1e-12)
    assert np.all(_transport(None)._clamp_anode_metal(c_m, E, temps)[1] == 0.0)
    # under forward field it holds the oxidation's c_src as before
    forward = np.full(n - 1, 1e9)
    assert tr._clamp_anode_metal(c_m, forward, temps)[1] == pytest.approx(0.1, rel=1e-12)  # 1 - c_m caps c_src


def test_the_example_is_the_return_diffusion_example_with_the_electrode_at_rest():
    # docs/filament.md's side-by-side runs of the two examples differ in this option alone
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "examples"
    rest = FilamentSpec.from_file(examples / "electrode_equilibrium.yaml")
    base = FilamentSpec.from_file(examples / "return_diffusion.yaml")
    assert rest.active_electrode_equilibrium and not base.active_electrode_equilibrium
    assert rest == base.model_copy(update={"active_electrode_equilibrium": True})


@pytest.mark.fem
def test_the_cell_model_passes_the_option_to_its_transport():
    pytest.importorskip("dolfinx_solver")
    spec = FilamentSpec.fast().model_copy(update=dict(active_electrode_equilibrium=True))
    assert sim.CellModel(spec).transport.electrode_rest == pytest.approx(GAMMA_OMEGA_OVER_R, rel=1e-9)
    assert sim.CellModel(FilamentSpec.fast()).transport.electrode_rest is None


def test_without_a_surface_energy_the_option_is_refused_in_one_line():
    from devicephys.errors import SpecError

    with pytest.raises(SpecError) as err:
        FilamentSpec(active_electrode_equilibrium=True, active_electrode="Au", counter_electrode="Au")
    assert err.value.field == "active_electrode_equilibrium" and "\n" not in str(err.value)
    assert "give interface_energy" in str(err.value)
    spec = FilamentSpec(active_electrode_equilibrium=True, interface_energy=0.5, active_electrode="Au",
                        counter_electrode="Au")
    assert sim._electrode_rest(spec) > 0.0
