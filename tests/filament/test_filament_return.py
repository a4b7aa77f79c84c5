"""Dissolved Ag returning in the field (lattice-gas transport), on the real FEM: a sweep then sets.

Without the return the lattice-gas cell does not set during the fast preset's 3 V sweep: the
anode's injection and the Gibbs–Thomson dissolution of the growing filament are comparable at
300 K, and the dissolved Ag is lost.  With it the Ag dissolved on the way up drifts back in the
field and the filament bridges, and once bridged it stays ON to the end of the sweep.  Held at a
small bias after the set, the bridged filament stays ON (the field at its neck returns the Ag as fast
as it dissolves); at zero bias it self-ruptures.
"""

from __future__ import annotations

import numpy as np
import pytest

from devicephys.errors import SpecError
from devicephys.filament.spec import FilamentSpec


def _sweep(**over):
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import simulate as sim

    spec = FilamentSpec(**{**FilamentSpec.fast().model_dump(), "site_exclusion": True, **over})
    model = sim.CellModel(spec)
    trace = sim.run_drive(model, sim.triangle(spec.sweep_voltage, spec.sweep_time), spec.sweep_time,
                          dt_max=spec.sweep_time * spec.max_step_fraction, breakpoints=(spec.sweep_time / 2,))
    return spec, model, trace


@pytest.mark.fem
@pytest.mark.slow
def test_the_returning_silver_sets_the_lattice_gas_cell_and_it_stays_on():
    spec, model, trace = _sweep(dissolved_return=True)
    gap, source = trace.array("gap"), trace.array("source_voltage")
    on = gap < spec.gap_on
    assert on.any()
    first = int(np.argmax(on))
    # after its last rupture it stays ON to the end of the sweep, down to zero bias
    assert on[-1] and source[-1] == 0.0
    assert model.peak_occupancy <= 1.0 + 1e-6
    print(f"set at t = {trace.array('time')[first] * 1e6:.1f} us, source {source[first]:.3f} V; "
          f"ON/OFF changes {int(np.sum(np.diff(on.astype(int)) != 0))}")


@pytest.mark.fem
@pytest.mark.slow
def test_without_the_return_the_lattice_gas_cell_does_not_set():
    spec, _, trace = _sweep(dissolved_return=False)
    assert trace.array("gap").min() > spec.gap_on


def test_the_return_needs_the_lattice_gas():
    with pytest.raises(SpecError, match="dissolved_return"):
        FilamentSpec(dissolved_return=True)


def _sweep_then_hold(bias: float, hold: float):
    """The return mode's fast sweep down to ``bias`` [V] on its falling ramp, then ``bias`` held for ``hold`` [s]."""
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import simulate as sim

    spec = FilamentSpec(**{**FilamentSpec.fast().model_dump(), "site_exclusion": True, "dissolved_return": True})
    model = sim.CellModel(spec)
    ramp = sim.triangle(spec.sweep_voltage, spec.sweep_time)
    start = spec.sweep_time / 2 * (2 - bias / spec.sweep_voltage)  # the falling ramp passes the bias
    trace = sim.run_drive(model, lambda t: ramp(t) if t < start else bias, start + hold,
                          dt_max=spec.sweep_time * spec.max_step_fraction, breakpoints=(spec.sweep_time / 2, start))
    return spec, model, trace, start


@pytest.mark.fem
@pytest.mark.slow
def test_the_returning_silver_holds_the_on_state_under_a_small_bias_and_it_self_ruptures_without():
    # Held at 0.4 V after the sweep's set, the bridged filament stays ON for 200 us, five times the
    # time a filled channel takes to dissolve at 300 K without bias, (1 - c_th) / k_d: the current's
    # field drives the dissolved Ag back.  At zero bias nothing returns and the same filament ruptures.
    spec, model, trace, start = _sweep_then_hold(0.4, 200e-6)
    t, gap = trace.array("time"), trace.array("gap")
    held = t >= start
    assert (gap[t < start] < spec.gap_on).any()  # set during the sweep
    assert (gap[held] < spec.gap_on).all()
    self_rupture = (1 - spec.percolation_threshold) / model.transport.law.dissolution_rate(spec.ambient_temperature)
    assert 200e-6 > 5 * self_rupture
    assert model.peak_occupancy <= 1.0 + 1e-6

    spec, model, trace, start = _sweep_then_hold(0.0, 200e-6)
    t, gap = trace.array("time"), trace.array("gap")
    assert (gap[t < start] < spec.gap_on).any()
    assert gap[-1] > spec.gap_rupture
