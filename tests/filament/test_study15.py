"""Study 15 (retention against the compliance current, in several step controls) and the stage's retention plot."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest

from tests.studies import load_study

COMPLIANCES = [1e-6, 1e-5, 1e-4]


def _study():
    return load_study("15_retention_compliance.py")


def _row(times, fractions, temperatures=(300.0, 300.0, 300.0)):
    return {"relaxation_time_held": np.asarray(times, float), "neck_metal_fraction_held": np.asarray(fractions, float),
            "temperature_max_held": np.asarray(temperatures, float)}


def test_study15_refuses_bad_input_in_one_line(tmp_path, capsys):
    for argv in (["--compliances", "1e-6", "1e-5"], ["--compliances", "1e-6", "1e-5", "0"], ["--jobs", "0"],
                 ["--controls", "coarse"]):
        with pytest.raises(SystemExit) as info:
            _study().main([*argv, "--out", str(tmp_path)])
        assert info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert argv[0] in err


def test_the_power_law_of_an_exact_power_law_and_its_standard_error():
    study = _study()
    i = np.array([1e-6, 3e-6, 1e-5, 3e-5, 1e-4])
    beta, se = study.power_law(i, 4e-5 * i ** 0.25)
    assert beta == pytest.approx(0.25, rel=1e-12) and se == pytest.approx(0.0, abs=1e-12)
    noisy = 4e-5 * i ** 0.25 * np.exp(np.array([0.01, -0.02, 0.015, -0.005, 0.0]))
    beta, se = study.power_law(i, noisy)
    # the standard error of a least-squares slope: sqrt(residual variance / sum (x - mean x)^2)
    x, y = np.log(i), np.log(noisy)
    slope, icept = np.polyfit(x, y, 1)
    resid = y - (slope * x + icept)
    assert beta == pytest.approx(slope, rel=1e-10)
    assert se == pytest.approx(math.sqrt(resid @ resid / 3 / np.sum((x - x.mean()) ** 2)), rel=1e-10)
    assert all(math.isnan(v) for v in study.power_law(i[:2], i[:2]))


def test_the_lower_bound_is_the_closed_form_dissolution_time():
    from devicephys.filament import analytic, kinetics

    study = _study()
    spec = study.spec_for("preset", COMPLIANCES)
    rate = float(kinetics.HoppingLaw.from_spec(spec).dissolution_rate(spec.ambient_temperature))
    bound = study.lower_bound(spec, [0.5, 0.2, np.nan])
    assert bound[0] == pytest.approx(analytic.dissolution_time(0.5, spec.percolation_threshold, rate, kinetics._EPS),
                                     rel=1e-14)
    assert bound[1] == 0.0 and bound[2] == 0.0  # no metallic neck held: no bound


def test_the_checks_on_the_two_finest_controls_within_the_thermal_limit():
    study = _study()
    spec = study.spec_for("preset", COMPLIANCES)
    c_p = spec.percolation_threshold
    rows = {"fine": _row([7.0e-6, 7.3e-6, 11.0e-6], [c_p + 0.06, c_p + 0.08, c_p + 0.2]),
            "finer": _row([7.1e-6, 7.4e-6, 12.0e-6], [c_p + 0.06, c_p + 0.08, c_p + 0.2])}
    found = study.checks(spec, rows)
    rel, target, ok = found["step"]
    assert rel == pytest.approx(1.0 / 12.0) and target == study.RETENTION_TARGET and ok
    rise, allowed, ok = found["trend"]
    assert rise == pytest.approx(12.0 / 7.1 - 1.0) and allowed == pytest.approx(rel) and ok
    assert found["bound"][2]
    # a hold past the insulator's limit (PMMA 543 K) is left out of the step and trend checks
    hot = {k: _row(v["relaxation_time_held"], v["neck_metal_fraction_held"], (300.0, 300.0, 600.0))
           for k, v in rows.items()}
    hot["finer"]["relaxation_time_held"][2] = 30e-6
    rel, _, ok = study.checks(spec, hot)["step"]
    assert rel == pytest.approx(0.1 / 7.1) and ok
    assert not study.checks(spec, {**rows, "finer": _row([7.1e-6, 7.4e-6, 20e-6], [0.36, 0.38, 0.5])})["step"][2]
    flat = {"fine": _row([7.0e-6] * 3, [0.36] * 3), "finer": _row([7.7e-6, 7.7e-6, 7.75e-6], [0.36] * 3)}
    assert not study.checks(spec, flat)["trend"][2]  # 0.6 % rise against a 10 % step difference
    short = {k: _row([1e-7, 7.4e-6, 12e-6], [0.6, 0.38, 0.5]) for k in rows}  # shorter than dissolution alone
    assert not study.checks(spec, short)["bound"][2]


def test_study15_refuses_a_run_written_with_other_compliances(tmp_path):
    study = _study()
    meta = {"control": "fine", "compliances": COMPLIANCES, "settings": list(study.CONTROLS["fine"]), "wall_s": 1.0}
    buf = io.BytesIO()
    np.savez(buf, meta=json.dumps(meta), relaxation_time_held=np.zeros(3))
    (tmp_path / "retention_fine.npz").write_bytes(buf.getvalue())
    data, _ = study.load(tmp_path, "fine", COMPLIANCES)
    assert data["relaxation_time_held"].shape == (3,)
    with pytest.raises(SystemExit, match="run without --resume"):
        study.load(tmp_path, "fine", [1e-6, 1e-4, 1e-3])


def test_the_stage_s_retention_plot_rings_holds_past_the_thermal_limit(tmp_path):
    import xarray as xr

    from devicephys.filament.result import FilamentResult, add_retention_study
    from devicephys.filament.spec import FilamentSpec

    spec = FilamentSpec(relax_compliances=COMPLIANCES)
    runs = {"relaxation_time_held": [7e-6, 8e-6, 12e-6], "relaxation_time_held_resolution": [2e-7] * 3,
            "neck_radius_held": [2e-10, 3e-10, 5e-10], "neck_metal_fraction_held": [0.36, 0.4, 0.5],
            "resistance_on_held": [1.8e4, 1.2e4, 1.9e3], "temperature_max_held": [300.0, 301.0, 604.0]}
    ds = xr.Dataset()
    add_retention_study(ds, COMPLIANCES, {k: np.asarray(v) for k, v in runs.items()}, 2e-6, 2.5)
    assert ds["neck_metal_fraction_held"].attrs["units"] == "1"
    assert ds["relaxation_time_held_resolution"].attrs["units"] == "s"
    from devicephys.filament import plot

    path = plot.retention_study(FilamentResult(spec, ds), tmp_path / "retention_study.png")
    assert path.is_file() and path.stat().st_size > 0
