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


@pytest.mark.fem
def test_a_sink_conductance_adds_its_interface_resistance_in_series():
    # The default cell's filament bridged at 2.5 V, its step response with ideal sinks and behind an electrode /
    # substrate interface of conductance h: all the heat (ballistic included) crosses both contacts' area A in
    # parallel, so R_th grows by 1/(h A), and the electrodes' own time constant (rho c_p t_e / h, 0.74 ns at 1e8)
    # carries only that share of the rise: tau_th, read at 1 - 1/e of it, stays the filament's picoseconds.
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import extract
    from devicephys.filament import simulate as sim

    base = FilamentSpec.fast()
    model = sim.CellModel(base)
    v = 2.5
    sim.run_drive(model, lambda t: v, base.set_time_limit, dt_max=base.set_time_limit * base.max_step_fraction,
                  stop=lambda s: s["gap"] < base.gap_on)
    bridged, area = model.state(), 2 * model.et.contact_area  # both contacts, the same disc
    found = {}
    for h in (None, 1e8, 1e7):
        spec = FilamentSpec(**base.model_copy(update={"sink_conductance": h}).model_dump())
        m = sim.CellModel(spec)
        m.restore(bridged)
        m.et.reset_temperature()
        power: list[float] = []
        trace = sim.run_drive(m, lambda t: v, 1e-7, dt_max=1e-8, dt_first=1e-14, frozen=True,
                              observer=lambda mm, s: power.append(mm.et.joule_power()))
        found[h] = extract.thermal_step(trace.array("time")[1:], trace.array("temperature_max")[1:],
                                        np.array(power), spec.ambient_temperature)
    print({h: (f"{r:.4g} K/W", f"{t:.3g} s") for h, (r, t) in found.items()})
    for h in (1e8, 1e7):
        assert found[h][0] - found[None][0] == pytest.approx(1 / (h * area), rel=0.02)
        assert found[None][1] < found[h][1] < 1e-10  # slower, still below the published 0.1-10 ns
