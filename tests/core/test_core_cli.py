"""The command line: help, schema, validate, bad input -> one line and exit 2."""

import json
import subprocess
import sys

import pytest

from devicephys import cli


def _run(*args):
    return subprocess.run([sys.executable, "-m", "devicephys", *args], capture_output=True, text=True, timeout=300)


def test_help():
    out = _run("--help")
    assert out.returncode == 0
    for word in ("run", "filament", "emission", "compact", "array", "schema", "validate", "info"):
        assert word in out.stdout


def test_schema_pipeline():
    out = _run("schema", "pipeline")
    assert out.returncode == 0
    schema = json.loads(out.stdout)
    assert "preset" in schema["properties"]


def test_validate_bad_spec_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("preset: turbo\n")
    out = _run("validate", str(bad))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "preset" in lines[0] and "turbo" in lines[0]
    assert "Traceback" not in out.stderr


def test_validate_unknown_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("presett: fast\n")
    assert cli.main(["validate", str(bad)]) == 2


def test_validate_missing_file(tmp_path, capsys):
    assert cli.main(["validate", str(tmp_path / "missing.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_validate_good_spec(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text("kind: pipeline\npreset: fast\n")
    assert cli.main(["validate", str(good)]) == 0


def test_import_is_light():
    code = "import sys, devicephys, devicephys.cli; print(any(m in sys.modules for m in ('dolfinx', 'meep', 'brian2')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False"


@pytest.mark.fem
@pytest.mark.fdtd
@pytest.mark.spice
def test_info_reports_engines():
    out = _run("info")
    assert out.returncode == 0, out.stdout + out.stderr
    for engine in ("dolfinx", "meep", "ngspice", "brian2"):
        assert engine in out.stdout
    assert "BROKEN" not in out.stdout
