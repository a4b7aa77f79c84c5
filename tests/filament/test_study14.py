"""Study 14 (the dissolved Ag's treatments and the spread's radial grid): its input checks, specs and check."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.studies import load_study


def _study():
    return load_study("14_dissolved_spread.py")


def test_study14_refuses_bad_input_in_one_line(tmp_path, capsys):
    for argv, names in ((["--voltages", "0.5", "-1"], "--voltages"), (["--jobs", "0"], "--jobs"),
                        (["--variants", "nonsense"], "--variants"), (["--wall-hold", "-1"], "--wall-hold")):
        with pytest.raises(SystemExit) as info:
            _study().main([*argv, "--out", str(tmp_path)])
        assert info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert names in err, err


def test_the_variants_are_the_fast_preset_with_one_treatment_each():
    study = _study()
    pool, escape, spread, fine = (study.spec_for(n) for n in ("pool", "escape", "spread", "spread_quarter"))
    assert not pool.dissolved_escape and not pool.dissolved_spread and pool.dissolved_return
    assert escape.dissolved_escape and not escape.dissolved_spread
    assert spread.dissolved_spread and spread.spread_first_width is None and spread.spread_growth == 1.25
    assert fine.spread_first_width == pytest.approx(0.25 * spread.hop_distance) and fine.spread_growth < 1.25
    checked = study.spec_for("spread", 0.01)
    assert checked.dissolved_spread and checked.step_error_tolerance == 0.01 and checked.resolve_set
    assert study.spec_for("spread_warm").ambient_temperature == pytest.approx(pool.ambient_temperature + 0.3)
    assert all(s.field_snapshots == 0 and s.axis_mesh_size == pool.axis_mesh_size for s in (escape, spread, fine))
    drift, drift_fine = study.spec_for("spread_drift"), study.spec_for("spread_drift_quarter")
    assert drift.spread_drift and drift.dissolved_spread and drift.spread_first_width is None
    assert drift_fine.spread_drift and drift_fine.spread_first_width == fine.spread_first_width
    assert not spread.spread_drift and not fine.spread_drift
    plating = study.spec_for("spread_plating")
    assert plating.counter_plating and plating.spread_drift and not drift.counter_plating
    transfer = study.spec_for("spread_transfer")
    assert transfer.bridged_transfer and transfer.counter_plating and not plating.bridged_transfer
    mesh = study.spec_for("spread_drift_mesh")
    assert mesh.spread_drift and mesh.axis_mesh_size == pytest.approx(0.5 * drift.axis_mesh_size)
    assert drift.channel_edge == drift_fine.channel_edge == "cut" and spread.channel_edge == "smooth"
    assert study.spec_for("pool_cut").channel_edge == "cut" and not study.spec_for("pool_cut").dissolved_spread


def test_the_grid_check_counts_a_set_on_one_grid_only_as_failed():
    study = _study()
    ok = {"spread": np.array([math.nan, 100e-6, 10e-6]), "spread_quarter": np.array([math.nan, 103e-6, 10.2e-6])}
    worst, passed = study.grid_check(ok)
    assert worst == pytest.approx(0.03) and passed
    bad = {"spread": np.array([300e-6, 100e-6]), "spread_quarter": np.array([math.nan, 100e-6])}
    assert study.grid_check(bad) == (math.inf, False)
