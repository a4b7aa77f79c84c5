"""The dissolved Ag's return as drift-diffusion (``dissolved_return_diffusion``).

The pool beside the channel returns over the channel radius l at the Scharfetter–Gummel coefficient of the ions'
own hopping, (D/l²) Pe/(1 − e^(−Pe)) with Pe = |v| l/D: the steady drift-diffusion flux across a layer of width l
into a perfect sink.  Checked against a finite-difference solve of that layer, its two limits, the fixed point of
the channel's split step at zero field (the pool beside a metal column settles where the return balances the
dissolution, k_d/k_0 of the channel, first order in the step), and, on the real FEM, the default cell's relaxation:
the dissolution stops and a stump stays on the counter electrode.
"""

from __future__ import annotations

import numpy as np
import pytest

from devicephys.errors import SpecError
from devicephys.filament import kinetics
from devicephys.filament.spec import FilamentSpec
from devicephys.units import eV

ELL = 2e-9  # [m] the return's length (the default channel radius)


def _law(diffusion: bool = True, escape: bool = False) -> kinetics.HoppingLaw:
    return kinetics.HoppingLaw(0.5e-9, 1e13, 0.44 * eV, 1e13, 0.52 * eV, reduction_rate=1e7, return_length=ELL,
                               escape=escape, return_diffusion=diffusion)


def _layer_flux(v: float, D: float, n: int = 4001) -> float:
    """Steady flux [m/s per unit fraction] of drift v [m/s] and diffusion D [m²/s] across [0, l] from c = 1 into
    c = 0, by central finite differences on n nodes (second order; no Scharfetter–Gummel in it)."""
    from scipy.sparse import diags
    from scipy.sparse.linalg import spsolve

    h = ELL / (n - 1)
    inner = n - 2  # D c'' - v c' = 0 on the inner nodes
    lower, main, upper = D / h**2 + v / (2 * h), -2 * D / h**2, D / h**2 - v / (2 * h)
    A = diags([np.full(inner - 1, lower), np.full(inner, main), np.full(inner - 1, upper)], [-1, 0, 1], format="csc")
    rhs = np.zeros(inner)
    rhs[0] = -lower * 1.0  # c(0) = 1
    c = np.concatenate(([1.0], spsolve(A, rhs), [0.0]))
    J = v * c - D * np.gradient(c, h, edge_order=2)
    return float(np.mean(J))  # constant at steady state; the mean averages the discretisation's ripple


def test_the_return_is_the_steady_drift_diffusion_flux_across_the_channel_radius():
    law = _law()
    T = 300.0
    D = float(law.diffusivity(T))
    for E in (0.0, 2e7, 1e8, 3e8):  # Pe = 0, 0.3, 1.8, 9 at 300 K
        v = float(abs(law.drift_velocity(E, T)))
        rate = float(law.return_rate(np.array([E]), T)[0])
        assert rate == pytest.approx(_layer_flux(v, D) / ELL, rel=1e-5)  # second order in h: ~ (Pe h / l)^2


def test_its_limits_are_the_pure_diffusion_and_the_drift_alone():
    law, drift = _law(), _law(diffusion=False)
    T = np.array([300.0, 400.0])
    # zero field: the ions' diffusion over l, the rate at which the escape (an independent method) leaves
    assert law.return_rate(np.zeros(2), T) == pytest.approx(_law(escape=True).escape_rate(T), rel=1e-12)
    assert np.all(drift.return_rate(np.zeros(2), T) == 0.0)
    # a strong field: the drift alone, to e^(-Pe) (Pe > 40 here)
    strong = np.array([2e9, -2e9])
    assert law.return_rate(strong, 300.0) == pytest.approx(drift.return_rate(strong, 300.0), rel=1e-15)
    # never below the drift alone, even in |E|, rising with it
    E = np.linspace(-5e8, 5e8, 101)
    assert np.all(law.return_rate(E, 300.0) >= drift.return_rate(E, 300.0) * (1.0 - 1e-14))
    assert law.return_rate(E, 300.0) == pytest.approx(law.return_rate(-E, 300.0), rel=1e-14)
    assert np.all(np.diff(law.return_rate(E[50:], 300.0)) > 0)


def _settle(law: kinetics.HoppingLaw, dt: float, c_m0: float = 0.95, n: int = 6):
    """(c_i, c_m, c_s) of a uniform metal column at zero field and 300 K after 3 ms of steps dt (no source, the
    whole column takes ions: w = 1; the slowest mode of the three fractions has decayed below 1e-10 by then)."""
    tr = kinetics.ChannelTransport(np.linspace(0.0, 2.5e-9, n), law, source=None, threshold=0.3, exclusion=True)
    c_i, c_m, c_s = np.zeros(n), np.full(n, c_m0), np.zeros(n)
    start = tr.mass(c_i, c_m, c_s)
    for _ in range(int(round(3e-3 / dt))):
        c_i, c_m, c_s = tr.step(c_i, c_m, c_s, np.zeros(n - 1), np.full(n, 300.0), dt, np.ones(n))
    assert tr.mass(c_i, c_m, c_s) == pytest.approx(start, rel=1e-12)
    return c_i, c_m, c_s


def test_at_zero_field_the_pool_beside_metal_settles_where_the_return_balances_the_dissolution():
    law = _law()
    k_d, k_0 = float(law.dissolution_rate(300.0)), float(law.return_rate(np.zeros(1), 300.0)[0])
    errors = []
    for dt in (4e-6, 1e-6):
        c_i, c_m, c_s = _settle(law, dt)
        f = c_m / (c_m + kinetics._EPS)  # the dissolution's saturation R_dis = k_d c_m / (c_m + eps)
        # the split step's fixed point: the return's implicit factor (1 + k_0 dt) on the balance c_s k_0 = k_d f
        assert c_s == pytest.approx(k_d / k_0 * f * (1.0 + k_0 * dt), rel=1e-9)
        assert c_i == pytest.approx(k_d * f / law.reduction_rate, rel=1e-9)  # reduction balances the dissolution
        assert c_m == pytest.approx(0.95 - c_s - c_i, rel=1e-9)  # metal stays: the dissolution stopped
        errors.append(abs(c_s[0] / (k_d / k_0 * f[0]) - 1.0))
    assert errors[0] / errors[1] == pytest.approx(4.0, rel=0.02)  # first order in the step: k_0 dt
    # the drift alone leaves the pool where it is: the column dissolves entirely
    c_i, c_m, c_s = _settle(_law(diffusion=False), 4e-6)
    assert c_m.max() < 1e-3 and c_s == pytest.approx(0.95 - c_i, rel=1e-12)


@pytest.mark.parametrize("over", [dict(dissolved_return=False), dict(dissolved_spread=True)])
def test_the_diffusive_return_needs_the_one_compartment_return(over):
    with pytest.raises(SpecError) as err:
        FilamentSpec(dissolved_return_diffusion=True, **over)
    assert err.value.field == "dissolved_return_diffusion" and "\n" not in str(err.value)


def test_the_example_is_a_valid_spec():
    from pathlib import Path

    spec = FilamentSpec.from_file(Path(__file__).resolve().parents[2] / "examples" / "return_diffusion.yaml")
    assert spec.dissolved_return_diffusion and spec.dissolved_return


@pytest.mark.fem
def test_with_the_diffusive_return_the_relaxed_default_cell_keeps_a_stump_on_the_counter_electrode():
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import simulate as sim
    from devicephys.filament import stage

    spec = FilamentSpec.fast().model_copy(update=dict(dissolved_return_diffusion=True, relax_duration=200e-6))
    model = sim.CellModel(spec)
    stage._constant_set(model, spec, 2.5, "set", False)
    sim.run_drive(model, lambda t: 2.5, spec.relax_hold, dt_max=spec.relax_hold * spec.max_step_fraction)
    relax = sim.run_drive(model, lambda t: 0.0, spec.relax_duration,
                          dt_max=spec.relax_duration * spec.max_step_fraction, dt_first=1e-12)
    gap = relax.array("gap")
    assert gap.max() > spec.gap_rupture  # it self-ruptures
    # the dissolution stops: metal stays on the counter electrode (the channel's last node), above percolation, and
    # the gap ends shorter than the insulator by more than a node (without the return's diffusion the channel
    # empties in 39 us, docs/filament.md "The OFF state as the gap opens")
    h = spec.insulator_thickness / (model.c.size - 1)
    assert model.c[-1] > spec.percolation_threshold
    assert gap[-1] < spec.insulator_thickness - spec.seed_height - 2 * h
