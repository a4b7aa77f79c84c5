"""The studies' worker processes (``devicephys.workers.run_processes``)."""

from __future__ import annotations

import sys

import pytest

from devicephys.workers import run_processes


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
