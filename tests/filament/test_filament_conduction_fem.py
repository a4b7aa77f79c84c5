"""The cell's potential equation carries the filament's point contact, size-effect wire and tunnelling gap.

A prescribed filament profile c(z) on the default cell with a compact neck (``contact_exponent`` 0:
the contact's radius r_ch sqrt(c), which the closed form takes; fast mesh), solved by the
real DOLFINx model at low bias, against the lumped laws of
:mod:`devicephys.filament.conduction`:

* bridged (c = 1 and c = 0.5): R = 1/(N G0) + ρ_wire L / A_eff.  The wire term
  uses the channel cross-section as the field carries it (A_eff = ∫ψ dA, about
  3 % above π r_ch² for the soft channel edge); what remains is the spreading
  resistance into the two electrodes, ρ_Ag/(4 r_ch) each (Maxwell), 2 Ω of 230 Ω,
  and the percolation crossover at the electrode faces: 2 % tolerance.
* open by a gap d: R = 1/G_gap(d, V) in series with the metal stub.  A P1
  element has one gradient, so the element holding the filament's tip conducts
  with the arithmetic mean of σ over it: the tip's position is resolved to a
  fraction of an element.  As R varies by a factor ~3.7 per 0.1 nm of gap, the
  check is on the equivalent gap error ln(R_FEM / R) / (d ln R / dd), which
  must stay below a tenth of the axial element size.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("dolfinx_solver")

from devicephys import materials  # noqa: E402
from devicephys.filament import conduction as cd  # noqa: E402
from devicephys.filament.spec import FilamentSpec  # noqa: E402

pytestmark = pytest.mark.fem
TOLERANCE = 0.02


@pytest.fixture(scope="module")
def model():
    from devicephys.filament.simulate import CellModel

    return CellModel(FilamentSpec.fast().model_copy(update={"contact_exponent": 0.0}))


def _resistance(model, c: np.ndarray, volts: float) -> float:
    model.c = c
    for _ in range(3):  # the gap conductance uses the previous solution's voltage: iterate to consistency
        model._sync_concentration()
        assert model.et.steady(volts)
    return model.et.cell_voltage() / model.et.current()


@pytest.mark.parametrize("fraction", [1.0, 0.5])
def test_bridged_filament_is_point_contact_plus_wire(model, fraction):
    spec, ag = model.spec, materials.get("Ag")
    r = _resistance(model, np.full_like(model.c, fraction), 0.01)
    a = spec.channel_radius * math.sqrt(fraction)
    length = spec.insulator_thickness - spec.seed_height
    rho = (1 + ag["temperature_coefficient"] * (spec.ambient_temperature - 293.0)) / ag["electrical_conductivity"]
    wire = float(cd.wire_resistivity(rho, ag["mean_free_path"], 2 * a)) * length / (fraction * model.conduction.area)
    contact = float(cd.contact_resistance(a, ag["fermi_wavevector"]))
    print(f"c = {fraction}: R_FEM = {r:.2f} Ohm, contact {contact:.2f} + wire {wire:.2f} Ohm")
    assert r == pytest.approx(contact + wire, rel=TOLERANCE)


@pytest.mark.parametrize("gap", [1.0e-9, 1.5e-9])
def test_open_filament_is_a_tunnelling_gap(model, gap):
    z = model.transport.z
    c = np.where(z > z[0] + gap, 1.0, 0.0)
    r = _resistance(model, c, 0.2)
    d = model.gap()
    v = model.et.cell_voltage()
    g_gap, _ = model.conduction.gap_conductance(d, v, c)
    step = 0.01e-9
    slope = math.log(model.conduction.gap_conductance(d - step, v, c)[0]
                     / model.conduction.gap_conductance(d + step, v, c)[0]) / (2 * step)  # d ln R / dd
    shift = math.log(r * g_gap) / slope
    print(f"gap {d * 1e9:.2f} nm: R_FEM = {r:.4g} Ohm, 1/G_gap = {1 / g_gap:.4g} Ohm, "
          f"equivalent gap error {shift * 1e9:.4f} nm")
    assert slope > 0
    assert abs(shift) < 0.1 * model.spec.axis_mesh_size
