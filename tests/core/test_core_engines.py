"""The real engines work, together in one process: DOLFINx, MEEP, ngspice."""

import pytest

from devicephys import engines


@pytest.mark.fem
@pytest.mark.fdtd
def test_dolfinx_and_meep_in_one_process():
    fem = engines.check_dolfinx()
    fdtd = engines.check_meep()
    # -Δu = 1 on the unit square with u = 0: max u = 0.07367 (series solution);
    # a 4x4 P1 mesh gives a value within ~10 %.
    peak = float(fem["detail"].split("=")[-1])
    assert peak == pytest.approx(0.0737, rel=0.12)
    assert fem["version"].startswith("0.11")
    assert fdtd["version"].startswith("1.")
    assert float(fdtd["detail"].split("=")[-1]) > 0


@pytest.mark.spice
def test_ngspice_divider():
    out = engines.check_ngspice()
    assert float(out["detail"].split("=")[-1].split()[0]) == pytest.approx(0.5, rel=1e-6)
