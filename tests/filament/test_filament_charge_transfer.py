"""Charge transfer in series with the hopping (``exchange_current_density``), on the real FEM.

The ionic series circuit takes part of the gap voltage for the two interfaces' charge transfer, so
the ions hop in a weaker field and the filament bridges later; with fast charge transfer (a large
j₀) the interfaces take nothing and the set is the hopping-only one.
"""

from __future__ import annotations

import math

import pytest

from devicephys.filament.spec import FilamentSpec


def _set(voltage, **over):
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import extract
    from devicephys.filament import simulate as sim

    spec = FilamentSpec(**{**FilamentSpec.dilute().model_dump(), **over})
    model = sim.CellModel(spec)
    shares = []
    trace = sim.run_drive(model, lambda t: voltage, spec.set_time_limit,
                          dt_max=spec.set_time_limit * spec.max_step_fraction, stop=lambda s: s["gap"] < spec.gap_on,
                          observer=lambda m, s: shares.append(m.hopping_share))
    i = extract.set_index(trace.array("gap"), spec.gap_on)
    return (float(trace.array("time")[i]) if i is not None else math.nan), shares, model


@pytest.mark.fem
@pytest.mark.slow
def test_charge_transfer_delays_the_set_and_fast_transfer_recovers_the_hopping_only_set():
    t_hop, shares_hop, _ = _set(3.0)
    assert all(s == 1.0 for s in shares_hop)
    # j0 = 1e16 A/m² (I₀ = 0.13 A): even the barrier-less hopping current, z e c A a ν = 1.2e-4 A, crosses
    # the two interfaces at 2 k_B T I / (e I₀) < 1e-4 V (T < 600 K), against a gap voltage above 0.1 V
    t_fast, shares_fast, _ = _set(3.0, exchange_current_density=1e16)
    assert min(shares_fast) > 1 - 1e-3
    assert t_fast == pytest.approx(t_hop, rel=1e-3)
    t_slow, shares_slow, model = _set(3.0, exchange_current_density=1e4)
    assert t_slow > 2 * t_hop
    # the share the run applied is the lumped circuit's at the channel's voltage and temperature
    _, phi, T = model.et.axis_values(model.z_lo, model.z_hi)
    assert model._hopping_share(phi, T) == pytest.approx(model.hopping_share)
    # the lumped circuit's share at 3 V over the pristine 9 nm gap at ambient (0.787; the first step's gap
    # voltage is 3 V less the pA leakage's drop in R_s); lower as the gap's voltage falls when it nearly closes
    spec = model.spec
    pristine = model.ionic.hopping_share(3.0, spec.insulator_thickness - spec.seed_height, spec.ambient_temperature)
    assert shares_slow[1] == pytest.approx(pristine, abs=1e-3)
    assert 0.0 < min(shares_slow) < max(shares_slow[1:]) < 1.0
    print(f"set at 3 V: hopping only {t_hop * 1e6:.2f} us, j0 = 1e16 A/m2 {t_fast * 1e6:.2f} us, "
          f"j0 = 1e4 A/m2 {t_slow * 1e6:.2f} us (hopping share {min(shares_slow[1:]):.3f}-{max(shares_slow[1:]):.3f})")
