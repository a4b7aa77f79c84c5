"""The ions' own field on the cell (real DOLFINx): the Green's matrix from the ions' Poisson solve, and a coupled step.

``CellModel.ion_green`` (ψ on the axis nodes per unit ion fraction at each node, conductors grounded) reproduces
``CellModel.ion_potential`` of any state by linearity; it grounds the filament's metal when the metal touches an
electrode; with ``ion_compensation`` the transport drifts its ions in that field too, and uncompensated ions near the
active electrode push back the next ones (space-charge limited injection: fewer ions enter in one step).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("dolfinx_solver")

from devicephys.errors import SpecError  # noqa: E402
from devicephys.filament import simulate as sim  # noqa: E402
from devicephys.filament.spec import FilamentSpec  # noqa: E402

pytestmark = pytest.mark.fem


@pytest.fixture(scope="module")
def cell():
    return sim.CellModel(FilamentSpec.fast().model_copy(update={"ion_compensation": 0.0}))


def test_green_matrix_reproduces_the_ions_potential(cell):
    m = cell
    rng = np.random.default_rng(7)
    m.c[:] = 0.0
    m.c_i[:] = 1e-3 * rng.random(m.c_i.size)
    G = m.ion_green()
    z, psi = m.ion_potential()
    np.testing.assert_allclose(G @ m.c_i, np.interp(m.transport.z, z, psi), rtol=1e-9, atol=1e-12 * psi.max())
    assert psi.max() > 0.1  # volts: the field it adds is not negligible at these fractions
    assert m.ion_green() is G  # kept while the metal stays
    m.c[:4] = 0.9  # a metallic run from the seed's tip: grounded, its rows zero, the matrix recomputed
    held = m.ion_green()
    assert held is not G
    assert np.all(held[:4] == 0.0) and np.abs(G[:4]).max() > 0.0
    m.c[:], m.c_i[:] = 0.0, 0.0


def test_uncompensated_ions_limit_their_own_injection(cell):
    spec = cell.spec
    entered = {}
    for f in (None, 0.0):
        m = sim.CellModel(spec.model_copy(update={"ion_compensation": f}))
        m.start_drive(1.0)
        for _ in range(5):
            ok, _ = m.try_step(2e-6, 1.0, force=True)
            assert ok
        entered[f] = float(np.sum(m.transport.volume * m.c_i))
    assert entered[0.0] > 0.0
    assert entered[0.0] < 0.5 * entered[None]


def test_ion_compensation_needs_the_lattice_gas():
    with pytest.raises(SpecError) as info:
        FilamentSpec(ion_compensation=0.5, site_exclusion=False, dissolved_return=False)
    message = str(info.value)
    assert "\n" not in message and "ion_compensation" in message and "site_exclusion: true" in message
