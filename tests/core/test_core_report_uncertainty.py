"""The report's scalar tables show each number with its uncertainty and how that was obtained."""

from __future__ import annotations

import xarray as xr

from devicephys import report
from devicephys.result import scalar_var


def test_scalars_table_shows_the_uncertainty(tmp_path):
    ds = xr.Dataset({"threshold_voltage": scalar_var(2.077, "V", "threshold voltage", "largest voltage before the set",
                                                     (0.0086, "the sampling step")),
                     "minimum_gap": scalar_var(1e-10, "m", "smallest gap", "minimum of the trace"),
                     "relaxation_time": scalar_var(3.9e-5, "s", "self-rupture", "crossing", (float("nan"), "none"))})
    ds.to_netcdf(tmp_path / "r.nc", engine="h5netcdf")
    page = report._scalars_table(tmp_path / "r.nc")
    assert "<td class=num>2.077 ± 0.0086</td>" in page and "(uncertainty: the sampling step)" in page
    assert "<td class=num>1e-10</td>" in page  # no uncertainty given
    assert "<td class=num>3.9e-05</td>" in page  # a NaN uncertainty is not shown
