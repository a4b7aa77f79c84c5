"""Where the hot spot's heat goes, on the real FEM: through the Ag filament into the Ag electrodes.

A thermal boundary (Kapitza) resistance at the Ag/PMMA interfaces lies between no resistance and an
adiabatic matrix; with the matrix made adiabatic (its lattice conductivity ×1e-4) the bridged
filament's thermal resistance rises by 4 % only, so such a resistance cannot change the hot spot by
more.  The filament/electrode interface is Ag/Ag, with no boundary resistance to add.
"""

from __future__ import annotations

import numpy as np
import pytest

from devicephys.filament.spec import FilamentSpec


@pytest.mark.fem
@pytest.mark.slow
def test_an_adiabatic_matrix_raises_the_thermal_resistance_by_under_a_tenth():
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import extract
    from devicephys.filament import simulate as sim

    spec = FilamentSpec.dilute()
    model = sim.CellModel(spec)
    v = max(spec.set_voltages)
    sim.run_drive(model, lambda t: v, spec.set_time_limit, dt_max=spec.set_time_limit * spec.max_step_fraction,
                  stop=lambda s: s["gap"] < spec.gap_on)
    bridged, lattice = model.state(), model.et.medium.kappa_lattice
    original = lattice.x.array.copy()
    r_th = []
    for scale in (1.0, 1e-4):
        model.restore(bridged)
        lattice.x.array[:] = original * scale
        model.et.reset_temperature()
        power: list[float] = []
        trace = sim.run_drive(model, lambda t: v, 1e-7, dt_max=1e-8, dt_first=1e-14, frozen=True,
                              observer=lambda m, s: power.append(m.et.joule_power()))
        r_th.append(extract.thermal_step(trace.array("time")[1:], trace.array("temperature_max")[1:],
                                         np.array(power), spec.ambient_temperature)[0])
    rise = r_th[1] / r_th[0] - 1.0
    assert 0.0 < rise < 0.1
    print(f"R_th {r_th[0]:.4g} K/W, adiabatic matrix {r_th[1]:.4g} K/W (+{rise:.1%})")
