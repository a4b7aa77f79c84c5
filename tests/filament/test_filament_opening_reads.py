"""The cell read as its gap opens after the bias is removed (real DOLFINx, fast preset, default cell).

From the filament bridged at 2.5 V the bias is removed (the stage's relaxation) and the cell is read at
``read_voltage`` each time its gap has opened by another 0.1 nm.  What the physics fixes:

* while the tunnelling across the gap carries the read (its resistance a thousandth of the relaxed cell's
  or less), the potential equation carries the lumped gap law 1/G_gap (Simmons in series with the neck's
  contact): a P1 element holding the filament's tip conducts with the arithmetic mean of σ over it, so
  the tip is resolved to a fraction of an element, and the read must equal the law at a gap shifted by
  less than a tenth of the axial element (the criterion of test_filament_conduction_fem.py);
* the read rises by decades as the gap opens (not read by read: the neck thins as the gap opens, and its
  contact's area enters the tunnelling), and ends at the matrix's leakage (the relaxed cell's read);
* the tunnelling's end, where the read passes half the relaxed cell's, lies after the self-rupture
  (the gap must first open past gap_rupture) and before the gap reaches the whole insulator.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("dolfinx_solver")

from devicephys.filament import extract  # noqa: E402
from devicephys.filament.spec import FilamentSpec  # noqa: E402

pytestmark = pytest.mark.fem


@pytest.fixture(scope="module")
def relaxed():
    from devicephys.filament import simulate as sim
    from devicephys.filament import stage

    spec = FilamentSpec.fast()
    model = sim.CellModel(spec)
    stage._constant_set(model, spec, 2.5, "set", False)
    assert model.gap() < spec.gap_on
    bridged = (2.5, model.state(), math.nan)
    return spec, stage._relaxation(model, spec, bridged, False, read=True)


def test_reads_follow_the_opening_gap(relaxed):
    spec, relax = relaxed
    t, gap = relax.reads["time"], relax.reads["gap"]
    assert t.size >= 10
    assert np.all(np.diff(t) > 0) and np.all(gap > spec.gap_on)
    assert np.all(np.diff(gap) >= 0.1e-9 * (1 - 1e-12))
    r = relax.reads["resistance"]
    assert np.all(np.isfinite(r) & (r > 0))


def test_the_tunnelling_read_is_the_gap_law(relaxed):
    spec, relax = relaxed
    relaxed_read = relax.read[1] / relax.read[2]
    gap, r, lumped = (relax.reads[k] for k in ("gap", "resistance", "lumped_resistance"))
    tunnel = np.flatnonzero(r < 1e-3 * relaxed_read)
    assert tunnel.size >= 6 and r[tunnel].max() > 1e6 * r[tunnel].min()  # over six decades at least
    slope = np.gradient(np.log(lumped[tunnel]), gap[tunnel])  # d ln R / d gap of the law [1/m]
    shift = np.log(r[tunnel] / lumped[tunnel]) / slope
    print("equivalent gap error [nm]:", np.round(shift * 1e9, 4))
    assert np.all(slope > 0)
    assert np.all(np.abs(shift) < 0.1 * spec.axis_mesh_size)


def test_the_reads_end_at_the_leakage_after_the_rupture(relaxed):
    spec, relax = relaxed
    relaxed_read = relax.read[1] / relax.read[2]
    r, t = relax.reads["resistance"], relax.reads["time"]
    assert r[-1] == pytest.approx(relaxed_read, rel=0.01)  # the empty channel: the matrix's leakage alone
    end = extract.tunnelling_end_time(t, r, relaxed_read)
    rupture = extract.crossing_time(relax.array("time"), relax.array("gap"), spec.gap_rupture)
    full = extract.crossing_time(relax.array("time"), relax.array("gap"), spec.insulator_thickness - spec.seed_height)
    print(f"rupture {rupture * 1e6:.3g} us, tunnelling ends {end * 1e6:.3g} us, channel empty {full * 1e6:.3g} us")
    assert rupture < end < full


def test_a_drive_ends_within_its_clock_rounding():
    """A 1 ns read at a clock of microseconds: the clock's rounding leaves it ~1e-21 s short of the end, a step
    the clock cannot take (the drive stepped forever before it counted the rounding)."""
    from devicephys.filament.simulate import _drive_done

    short = [t for t in np.linspace(1.0e-5, 2.0e-5, 2001) if (t + 1e-9) - t < 1e-9 * (1 - 1e-12)]
    assert short  # such clocks exist
    for t in short[:50]:
        assert _drive_done(t + 1e-9, t, 1e-9)
    assert not _drive_done(1e-5 + 0.5e-9, 1e-5, 1e-9)
    assert not _drive_done(1e-5 + 1e-9 * (1 - 1e-9), 1e-5, 1e-9)
