"""Study 16 (the gap the default cell keeps at zero bias with the return's diffusion): input, checks, files."""

from __future__ import annotations

import numpy as np
import pytest

from devicephys.io import write_npz

from tests.studies import load_study

C_P = 0.3
H = 0.5e-9  # [m] the axial element of the rows below
K_D, K_0 = 1.8e4, 2.5e4  # [1/s]


def _study():
    return load_study("16_residual_gap.py")


def _row(gap_end, spread=0.0, pool_factor=1.0, dt=1e-6):
    """A run whose gap opens to 8.5 nm and settles at ``gap_end`` [m] (+- spread over its last fifth), its stump
    on the last four nodes at c_m = 0.32 with the pool at ``pool_factor`` times its zero-field balance."""
    from devicephys.filament import kinetics

    t = np.linspace(0.0, 1e-3, 101)
    gap = np.where(t < 4e-5, 8.5e-9 * t / 4e-5, gap_end + spread * np.sin(t * 1e5))
    z = np.arange(19) * H
    metal = np.where(np.arange(19) >= 15, 0.32, 0.0)
    pool = np.where(metal > 0, K_D / K_0 * 0.32 / (0.32 + kinetics._EPS) * (1 + K_0 * dt) * pool_factor, 0.0)
    return {"time": t, "gap": gap, "z": z, "metal": metal, "pool": pool, "ions": np.zeros(19), "last_step": dt,
            "dissolution_rate": K_D, "return_rate": K_0, "read_voltage": 0.1, "read_current": 4e-20}


def test_study16_refuses_bad_input_in_one_line(tmp_path, capsys):
    for argv in (["--duration", "0"], ["--duration", "nan"], ["--jobs", "0"], ["--controls", "coarse"]):
        with pytest.raises(SystemExit) as info:
            _study().main([*argv, "--out", str(tmp_path)])
        assert info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert argv[0] in err


def test_the_residual_gap_is_the_median_of_the_last_fifth():
    study = _study()
    median, low, high = study.residual(_row(6.0e-9, spread=0.1e-9))
    assert median == pytest.approx(6.0e-9, abs=0.02e-9) and low == pytest.approx(5.9e-9, abs=2e-12)
    assert high == pytest.approx(6.1e-9, abs=2e-12)
    assert study.element(_row(6e-9)) == pytest.approx(H)


def test_the_balance_is_the_split_steps_zero_field_fixed_point():
    study = _study()
    assert np.allclose(study.balance(_row(6e-9), C_P), 0.0, atol=1e-14)
    off = study.balance(_row(6e-9, pool_factor=1.1), C_P)
    assert off.size == 4 and np.allclose(off, 0.1, rtol=1e-12)


def test_the_checks_on_the_two_finest_controls():
    study = _study()
    rows = {"fine": _row(6.0e-9), "finer": _row(5.6e-9)}
    found = study.checks(rows, C_P)
    step, target, ok = found["step"]
    assert step == pytest.approx(0.4e-9 / H, rel=1e-9) and target == study.GAP_TARGET_ELEMENTS and ok
    assert found["settled"][2] and found["balance"][2]
    assert study.checks({**rows, "finer": _row(5.6e-9, spread=0.2e-9)}, C_P)["settled"][2]  # 0.8 of an element
    assert not study.checks({**rows, "fine": _row(7.0e-9)}, C_P)["step"][2]  # 1.4 nm apart: nearly three elements
    assert not study.checks({**rows, "finer": _row(5.6e-9, spread=0.4e-9)}, C_P)["settled"][2]
    assert not study.checks({**rows, "finer": _row(5.6e-9, pool_factor=1.2)}, C_P)["balance"][2]


def test_study16_refuses_a_run_written_with_another_duration(tmp_path):
    study = _study()
    meta = {"control": "fine", "duration": 1e-3, "settings": list(study.CONTROLS["fine"]), "wall_s": 1.0}
    write_npz(tmp_path / "residual_fine.npz", meta, _row(6e-9))
    assert study.load(tmp_path, "fine", 1e-3)["gap"].shape == (101,)
    with pytest.raises(SystemExit, match="run without --resume"):
        study.load(tmp_path, "fine", 2e-3)


def test_the_figure_is_written(tmp_path):
    study = _study()
    path = study.figure({"fine": _row(6.0e-9), "finer": _row(5.6e-9)}, C_P, 9e-9, tmp_path / "16.png")
    assert path.is_file() and path.stat().st_size > 0
    long = {k: {**row, "time": row["time"] * 100} for k, row in {"finer": _row(5.6e-9)}.items()}  # 0.1 s: linear ms
    path = study.figure(long, C_P, 9e-9, tmp_path / "16_rest.png", reference=long, rest=True)
    assert path.is_file() and path.stat().st_size > 0


def test_the_time_the_channel_empties_and_the_rest_runs_own_files(tmp_path):
    study = _study()
    row = _row(6e-9)
    t = row["time"]
    # the whole 9 nm channel at 0.1 ms, a stump regrown from 0.2 ms, the channel empty for good from 0.5 ms on
    row["gap"] = np.where((t < 1e-4) | ((t >= 2e-4) & (t < 5e-4)), 8.5e-9, 9e-9)
    assert study.emptied(row, 9e-9) == pytest.approx(5e-4, rel=1e-9)  # the first sample at or after 0.5 ms
    assert np.isnan(study.emptied(_row(6e-9), 9e-9))  # metal at the end
    assert study._npz(tmp_path, "fine", rest=True) != study._npz(tmp_path, "fine")
    assert study.spec_for("fine", rest=True).active_electrode_equilibrium
    assert not study.spec_for("fine").active_electrode_equilibrium


def test_a_stale_run_of_the_other_premise_is_not_drawn(tmp_path, capsys):
    study = _study()

    def write(name, duration):
        meta = {"control": "finer", "duration": duration, "settings": list(study.CONTROLS["finer"]), "wall_s": 1.0}
        write_npz(tmp_path / name, meta, _row(6e-9))

    write("residual_finer_rest.npz", 1e-3)
    write("residual_finer.npz", 2e-3)  # the other premise, another duration
    argv = ["--controls", "finer", "--resume", "--electrode-equilibrium", "--duration", "1e-3", "--out", str(tmp_path)]
    assert study.main(argv) == 0
    assert "residual_finer.npz: another duration or step control, not drawn" in capsys.readouterr().out
    assert (tmp_path / "16_residual_gap_rest.png").is_file() and (tmp_path / "residual_rest.csv").is_file()
