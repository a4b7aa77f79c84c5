"""Axisymmetric (r, z) model against the full 3-D model of the same cell (slow)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("dolfinx_solver")

from devicephys.filament.mesh import CellGeometry  # noqa: E402
from devicephys.filament.spec import FilamentSpec  # noqa: E402

pytestmark = [pytest.mark.fem, pytest.mark.slow]


def _bridged(spec, dim):
    from devicephys.filament import solve

    data = solve.cell_mesh(CellGeometry.from_spec(spec), dim=dim)
    p = solve.ElectroThermal(data, solve.CellMedium(data, spec), ambient=spec.ambient_temperature,
                             series_resistance=0.0, current_window=(spec.seed_height, spec.insulator_thickness))
    rch, zaxis = spec.channel_radius, dim - 1

    def filament(x):  # a bridged metallic channel of radius r_ch
        r = np.hypot(x[0], x[1]) if dim == 3 else np.abs(x[0])
        return 1.0 / (1.0 + np.exp(np.clip((r - rch) / (0.1 * rch), -50, 50)))

    p.set_concentration(filament)
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
