"""Axisymmetric (r, z) model against the full 3-D model of the same cell (slow)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("dolfinx_solver")

from devicephys.filament.mesh import CellGeometry  # noqa: E402
from devicephys.filament.spec import FilamentSpec  # noqa: E402

pytestmark = [pytest.mark.fem, pytest.mark.slow]


def _bridged(spec, dim):
    from devicephys.filament.fem import solve

    data = solve.cell_mesh(CellGeometry.from_spec(spec), dim=dim)
    p = solve.ElectroThermal(data, solve.CellMedium(data, spec), ambient=spec.ambient_temperature,
                             series_resistance=0.0, current_window=(spec.seed_height, spec.insulator_thickness))
    from devicephys.filament.conduction import ChannelConduction

    z = np.linspace(spec.seed_height, spec.insulator_thickness, 50)
    c = np.ones_like(z)  # a bridged metallic channel of radius r_ch: point contact + size-effect wire
    p.medium.gap_conductivity.value = ChannelConduction.from_spec(spec, p.medium.channel_area).gap_conductivity(
        z, c, 0.0, 0.0)
    p.set_concentration(lambda x: np.ones(x.shape[1]))  # c(z); the medium confines it to r_ch
    assert p.steady(0.05)  # 50 mV straight across the cell (no series resistor)
    return p.current(), p.max_temperature(), data.domain.topology.index_map(dim).size_global


def test_axisymmetric_matches_3d():
    spec = FilamentSpec.fast().model_copy(update={"far_mesh_size": 40e-9, "axis_mesh_size": 0.5e-9})
    i2, t2, n2 = _bridged(spec, 2)
    i3, t3, n3 = _bridged(spec, 3)
    print(f"2-D: I = {i2:.5g} A, Tmax = {t2:.2f} K ({n2} cells); 3-D: I = {i3:.5g} A, Tmax = {t3:.2f} K ({n3} cells)")
    assert t2 - spec.ambient_temperature > 5  # a real hot spot
    assert i3 == pytest.approx(i2, rel=0.10)
    assert t3 - spec.ambient_temperature == pytest.approx(t2 - spec.ambient_temperature, rel=0.15)
