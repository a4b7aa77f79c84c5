"""The studies' worker processes (``devicephys.workers``), their result files and figures (``devicephys.io``)."""

from __future__ import annotations

import sys

import pytest

import numpy as np

from devicephys.io import read_npz, write_npz
from devicephys.workers import report_checks, run_missing, run_processes


def test_each_command_runs_once_in_its_own_process_and_the_lines_name_it(tmp_path, capsys):
    commands = {k: [sys.executable, "-c", f"open({str(tmp_path / f'run{k}')!r}, 'w').write('ok')"] for k in range(3)}
    run_processes(commands, 2, lambda k: f"run {k}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run0", "run1", "run2"]
    out = capsys.readouterr().out
    assert all(out.count(f"run {k}: started") == 1 and out.count(f"run {k}: done") == 1 for k in range(3))


def test_a_failing_run_ends_the_others_and_names_itself(tmp_path):
    slow = [sys.executable, "-c", f"import time; time.sleep(30); open({str(tmp_path / 'late')!r}, 'w')"]
    commands = {"slow": slow, "bad": [sys.executable, "-c", "raise SystemExit(3)"]}
    with pytest.raises(SystemExit, match="run bad failed \\(exit 3\\)"):
        run_processes(commands, 2, lambda k: f"run {k}")
    assert not (tmp_path / "late").exists()  # the slow run was terminated, not waited for


def test_with_resume_only_the_runs_not_yet_written_run_again(tmp_path, capsys):
    def command(k):
        return [sys.executable, "-c", f"open({str(tmp_path / f'run{k}')!r}, 'a').write('x')"]

    (tmp_path / "run1").write_text("kept")
    run_missing({k: command(k) for k in range(3)}, lambda k: tmp_path / f"run{k}", 2, True, lambda k: f"run {k}")
    assert [(tmp_path / f"run{k}").read_text() for k in range(3)] == ["x", "kept", "x"]
    assert "run 1: kept from run1" in capsys.readouterr().out
    run_missing({k: command(k) for k in range(3)}, lambda k: tmp_path / f"run{k}", 2, False, lambda k: f"run {k}")
    assert [(tmp_path / f"run{k}").read_text() for k in range(3)] == ["xx", "keptx", "xx"]  # without: all run


def test_a_result_file_reads_back_its_arrays_and_record(tmp_path):
    meta = {"control": "fine", "settings": [0.01, 0.0025], "step_check": None}
    arrays = {"gap": np.linspace(0.0, 1e-9, 5), "steps": 7, "table": [[1.0, 2.0], [3.0, 4.0]]}
    path = write_npz(tmp_path / "sub" / "run.npz", meta, arrays)
    data, back = read_npz(path)
    assert back == meta and sorted(data) == ["gap", "steps", "table"]
    assert np.array_equal(data["gap"], arrays["gap"]) and int(data["steps"]) == 7 and data["table"].shape == (2, 2)
    assert [p.name for p in path.parent.iterdir()] == ["run.npz"]  # written atomically: no partial file left


def test_the_checks_are_printed_one_line_each_and_fail_the_exit_status(capsys):
    assert report_checks({"step": (0.08, 0.1, True), "bound": (1.2, 1.0, True)}, "fine and finer") == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["check step (fine and finer): 0.08 against 0.1 -> ok",
                   "check bound (fine and finer): 1.2 against 1 -> ok"]
    assert report_checks({"step": (0.2, 0.1, False), "bound": (1.2, 1.0, True)}, "a and b") == 1
    assert "-> FAILED" in capsys.readouterr().out


def test_a_saved_figure_is_closed_when_asked_even_if_the_save_fails(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from devicephys.io import save_figure

    fig, _ = plt.subplots()
    assert save_figure(fig, tmp_path / "a.png", close=True).is_file() and not plt.fignum_exists(fig.number)
    kept, _ = plt.subplots()
    save_figure(kept, tmp_path / "b.png")
    assert plt.fignum_exists(kept.number)  # the default leaves it open
    plt.close(kept)
    bad, _ = plt.subplots()
    with pytest.raises(ValueError):
        save_figure(bad, tmp_path / "c.png", format="no-such-format", close=True)
    assert not plt.fignum_exists(bad.number) and not list(tmp_path.glob("*c*"))
