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

    spec = FilamentSpec(**{**FilamentSpec.dilute().model_dump(), "site_exclusion": True, **over})  # behind 5 kOhm and 1 mA
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
    # after its last set it stays bridged to the end of the sweep, down to zero bias: its gap does not open past
    # the stage's rupture criterion again (it may flicker across gap_on: the bridged gap sits at 0.25-0.3 nm,
    # and where it ends relative to gap_on moves with the rounding of the solvers)
    last = int(np.flatnonzero(np.diff(on.astype(int)) == 1)[-1]) + 1 if on[0] == 0 else 0
    assert source[-1] == 0.0 and gap[last:].max() < spec.gap_rupture
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
        FilamentSpec(dissolved_return=True, site_exclusion=False)


@pytest.mark.fem
@pytest.mark.slow
def test_the_returning_silver_holds_the_on_state_under_a_small_bias_and_it_self_ruptures_without(tmp_path):
    # The stage's hold-window study: held at 0.4 V from where the sweep's falling ramp passes it, the
    # bridged filament stays ON for 200 us, five times the time a filled channel takes to dissolve at
    # 300 K without bias, (1 - c_th) / k_d: the current's field drives the dissolved Ag back.  At zero
    # bias nothing returns and the same filament ruptures.  Within 2 us no constant 1.5 or 2 V source bridges the pristine
    # cell, so the later studies start from the sweep's own first set, and the stage says so.
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import plot
    from devicephys.filament import simulate as sim
    from devicephys.filament.stage import solve_filament

    spec = FilamentSpec(**{**FilamentSpec.dilute().model_dump(), "site_exclusion": True, "dissolved_return": True,
                           "set_voltages": [1.5, 2.0], "set_time_limit": 2e-6, "relax_duration": 200e-6,
                           "sweep_hold_biases": [0.0, 0.4]})
    result = solve_filament(spec, progress=False)
    d = result.data
    assert "sweep's first set" in d.attrs["bridged_state"] and "not fitted" in d.attrs["set_time_warning"]
    assert np.isnan(result.scalar("set_time_v0"))
    start_on, ruptures = d["sweep_hold_start_on"].values, d["sweep_hold_ruptures"].values
    # ON (by the sweep's hysteresis: below gap_on, not since opened past gap_rupture) where the falling ramp
    # passes 0 V and 0.4 V; held at 0.4 V, ruptured at 0 V
    assert start_on.tolist() == [1.0, 1.0]
    assert ruptures[1] == 0 and d["sweep_hold_on_fraction"].values[1] > 0.99
    assert ruptures[0] >= 1
    law = sim.CellModel(spec).transport.law
    assert spec.relax_duration > 5 * (1 - spec.percolation_threshold) / law.dissolution_rate(spec.ambient_temperature)
    assert result.scalar("hold_window_low") == 0.4 and result.scalar("hold_window_high") == 0.4
    assert 0 < result.scalar("hold_voltage_static") < 0.4
    assert plot.all_plots(result, tmp_path)["hold_window"].is_file()
    print(f"hold after the sweep at {d['sweep_hold_bias'].values} V: ON fraction {d['sweep_hold_on_fraction'].values}, "
          f"ruptures {ruptures}, cell voltage ON {d['sweep_hold_on_voltage'].values} V")


def test_the_escape_needs_the_return():
    with pytest.raises(SpecError, match="dissolved_escape"):
        FilamentSpec(dissolved_escape=True, dissolved_return=False, site_exclusion=True)
    assert FilamentSpec(dissolved_escape=True).dissolved_escape


def test_the_escape_example_is_a_valid_spec():
    from pathlib import Path

    spec = FilamentSpec.from_file(Path(__file__).resolve().parents[2] / "examples" / "dissolved_escape.yaml")
    assert spec.dissolved_escape and spec.dissolved_return and spec.static_threshold


@pytest.mark.fem
@pytest.mark.slow
def test_the_escaping_pool_stops_the_slow_set():
    """At 0.3 V the default cell's set lives on the dissolved Ag the field returns to the growing body (the body
    held at percolation for hundreds of microseconds, docs/filament.md "Why the law misses below 1 V"); with the pool
    escaping at D/l^2 (39 us at 300 K, far shorter than that set) the return starves and the cell does not set
    within set_time_limit, while at 2.5 V, where the growth outruns the dissolution, the set time moves by less
    than 5 %: there the return is about a seventh of the body's dissolution, and during the ~5 us set the escape
    (39 us) takes at most 1 - exp(-5/39) = 12 % of the pool, so the body's budget changes by about 2 %."""
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import simulate as sim
    from devicephys.filament import stage

    def set_time(escape: bool, volts: float) -> float:
        spec = FilamentSpec.fast().model_copy(update={"dissolved_escape": escape})
        model = sim.CellModel(spec)
        trace = stage._constant_set(model, spec, volts, "set", False)
        gap = trace.array("gap")
        return float(trace.array("time")[-1]) if gap[-1] < spec.gap_on else float("nan")

    slow, starved = set_time(False, 0.3), set_time(True, 0.3)
    print(f"0.3 V: {slow * 1e6:.4g} us without the escape, {starved * 1e6:.4g} us with it")
    assert 5 * 39e-6 < slow < FilamentSpec.fast().set_time_limit and np.isnan(starved)
    fast, escaped = set_time(False, 2.5), set_time(True, 2.5)
    assert escaped == pytest.approx(fast, rel=0.05)
