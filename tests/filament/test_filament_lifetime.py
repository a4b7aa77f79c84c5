"""The ON state's lifetime under a constant bias (``hold_biases``), on the real FEM.

From the filament bridged at the highest set voltage, each bias is held for ``relax_duration`` and
the first rupture timed.  At 0 V the protocol is the relaxation's, so it must give the stage's own
self-rupture time to the last bit (the bridged state is restored completely between runs).  The
fast preset's ON state lives longer under a 1.5 V source than at zero bias (the neck takes ions
while its field drives them), but it still ruptures: the model has no hold voltage above which
the ON state lasts.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from devicephys.errors import SpecError
from devicephys.filament import extract
from devicephys.filament.spec import FilamentSpec


def test_closures_after_rupture_counts_re_sets_from_a_bridged_start():
    on, off, mid = 0.0, 2e-9, 0.5e-9  # gap_on 0.25 nm, gap_rupture 1 nm
    assert extract.closures_after_rupture([on, mid, on, mid], 0.25e-9, 1e-9) == 0  # never ruptured
    assert extract.closures_after_rupture([on, off, mid, on, off, off], 0.25e-9, 1e-9) == 1
    assert extract.closures_after_rupture([on, off, on, off, on], 0.25e-9, 1e-9) == 2
    assert extract.closures_after_rupture([on, off, mid, off], 0.25e-9, 1e-9) == 0  # mid is not ON


@pytest.mark.parametrize("bad", [[-0.5], [float("nan")]])
def test_hold_biases_must_be_forward_and_finite(bad):
    with pytest.raises(SpecError, match="hold_biases") as err:
        FilamentSpec(hold_biases=bad)
    assert err.value.field.startswith("hold_biases")


@pytest.mark.fem
@pytest.mark.slow
def test_lifetime_at_zero_bias_is_the_self_rupture_and_a_bias_prolongs_it(tmp_path):
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import plot
    from devicephys.filament.stage import solve_filament

    spec = FilamentSpec(**{**FilamentSpec.dilute().model_dump(), "hold_biases": [0.0, 1.5]})
    result = solve_filament(spec, progress=False)
    d = result.data
    life, sigma = d["on_lifetime"].values, d["on_lifetime_uncertainty"].values
    assert d["on_lifetime"].attrs["units"] == "s" and d["hold_bias"].attrs["units"] == "V"
    # 0 V is the relaxation's protocol from the same restored state: the same trajectory
    assert life[0] == result.scalar("relaxation_time")
    assert 0 < sigma[0] < life[0]
    # under 1.5 V the neck is refilled for a while, and the ON state outlives the zero-bias one by more
    # than the two readings' sample intervals; it still ends within relax_duration
    assert math.isfinite(life[1]) and life[1] - life[0] > sigma[0] + sigma[1]
    assert np.all(d["on_voltage"].values[1:] > 0) and d["on_temperature_max"].values[1] > spec.ambient_temperature
    print(f"ON lifetime at {d['hold_bias'].values} V: {life * 1e6} us (+- {sigma * 1e6}), "
          f"re-sets {d['on_resets'].values}, ON cell voltage {d['on_voltage'].values} V")
    assert plot.all_plots(result, tmp_path)["lifetime_study"].is_file()


def test_the_holds_largest_step_is_hold_step_fraction_of_the_hold_and_defaults_to_max_step_fraction():
    spec = FilamentSpec.fast()
    assert spec.hold_step == spec.relax_duration * spec.max_step_fraction
    fine = spec.model_copy(update={"hold_step_fraction": 1 / 2000})
    assert fine.hold_step == pytest.approx(spec.relax_duration / 2000, rel=1e-15)
    with pytest.raises(SpecError, match="hold_step_fraction"):
        FilamentSpec(hold_step_fraction=0.0)


def test_the_lifetime_hold_is_the_lowest_bias_held_through_the_hold_bracketed_by_the_one_below():
    from devicephys.filament.stage import _lifetime_scalars

    spec = FilamentSpec(hold_biases=[0.1, 0.15, 0.2, 0.25])
    runs = {"on_lifetime": np.array([2e-5, 3e-5, np.nan, np.nan]), "on_voltage": np.array([0.1, 0.15, 0.19, 0.24])}
    out = _lifetime_scalars(spec, runs, 2.5)
    value, unit, _, method, (bracket, _) = out["hold_voltage_lifetime"]
    assert (value, unit) == (0.2, "V") and bracket == pytest.approx(0.05) and "2.5 V" in method
    assert out["hold_voltage_lifetime_cell"][0] == 0.19
    # held everywhere: the edge lies below the biases tried; held nowhere: above them
    for life in ([np.nan] * 4, [1e-6] * 4):
        out = _lifetime_scalars(spec, {**runs, "on_lifetime": np.array(life)}, 2.5)
        assert math.isnan(out["hold_voltage_lifetime"][0]) and math.isnan(out["hold_voltage_lifetime_cell"][0])
