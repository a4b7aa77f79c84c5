"""Dissolved Ag returning in the field (lattice-gas transport), on the real FEM: a sweep then sets.

Without the return the lattice-gas cell does not set during the fast preset's 3 V sweep: the
anode's injection and the Gibbs–Thomson dissolution of the growing filament are comparable at
300 K, and the dissolved Ag is lost.  With it the Ag dissolved on the way up drifts back in the
field and the filament bridges, and once bridged it stays ON to the end of the sweep.
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
