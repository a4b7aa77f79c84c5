"""Study 08 end to end (a volatile loop held at its compliance under a 10 µA compliance; its checks and outputs)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.studies import load_study

pytest.importorskip("dolfinx_solver")


def _study():
    return load_study("08_volatile_loop.py")


@pytest.mark.fem
@pytest.mark.slow
def test_study08_passes_its_checks_and_writes_its_table(tmp_path, capsys):
    code = _study().main(["--biases", "0", "0.5", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("-> ok") == 7
    rows = np.genfromtxt(tmp_path / "volatile.csv", delimiter=",", names=True, dtype=None, encoding="utf-8")
    assert "resistance_on" in list(rows["quantity"])
    assert (tmp_path / "08_volatile_loop.png").stat().st_size > 10_000


def test_study08_refuses_bad_input_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        _study().main(["--compliance", "-1", "--out", str(tmp_path)])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--compliance" in err and "positive" in err
