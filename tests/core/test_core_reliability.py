"""Reliability as a new user meets it: sweeps, bad output paths, locks, checksums, dependencies, consistency.

Pipeline mechanics run on tiny real stages (a resistor divider, Joule heat,
a lamp whose optics may or may not read the source's output) registered in
place of the physics stages, so each check takes seconds.
"""

from __future__ import annotations

import concurrent.futures as cf
import errno
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from devicephys import cli, pipeline, stages
from devicephys.errors import SpecError
from devicephys.result import Result, scalar_var
from devicephys.spec import Spec, option, quantity
from devicephys.sweep import SweepSpec, run_sweep, sweep_points

README = Path(__file__).resolve().parents[2] / "README.md"


class SourceSpec(Spec):
    kind = "source"
    bias: float = quantity(1.0, "V", "source voltage", gt=0)
    resistance: float = quantity(1e3, "Ohm", "series resistance", gt=0)
    taps: list[float] = quantity([1.0, 2.0], "V", "tap voltages of a divider chain", min_length=1)
    fail: bool = option(False, "refuse to run (a stand-in for a solver failure)")

    @classmethod
    def fast(cls):
        return cls()


class LampSpec(Spec):
    kind = "lamp"
    efficiency: float = quantity(0.1, "1", "light out per electrical power in", gt=0, le=1)
    use_source: bool = option(True, "take the power from the source stage's output")

    @classmethod
    def fast(cls):
        return cls()


class ToyResult(Result):
    kind = "toy"
    spec_class = SourceSpec


def run_source(spec, out, *, upstream, progress=True):
    if spec.fail:
        raise SpecError("SourceSpec.fail = True: asked to fail; set fail: false")
    out = Path(out)
    current = spec.bias / (2 * spec.resistance)
    ds = xr.Dataset({"current": scalar_var(current, "A", "current through the divider", "Ohm's law"),
                     "tap_sum": scalar_var(sum(spec.taps), "V", "sum of the tap voltages", "sum"),
                     "bias": scalar_var(spec.bias, "V", "source voltage as applied", "from the spec")})
    files = {"fields": out / "fields.xdmf", "result": ToyResult(spec, ds).save(out / "source.nc")}
    (out / "fields.h5").write_bytes(np.arange(64, dtype=float).tobytes())  # companion the .xdmf refers to
    (out / "fields.xdmf").write_text("<Xdmf><DataItem>fields.h5:/data</DataItem></Xdmf>")
    return files


def run_lamp(spec, out, *, upstream, progress=True):
    power = 1e-3
    if spec.use_source:
        current = float(xr.load_dataset(upstream["source"] / "source.nc", engine="h5netcdf")["current"])
        power = current**2 * 1e3
    ds = xr.Dataset({"light": scalar_var(spec.efficiency * power, "W", "emitted power", "efficiency x power")})
    return {"result": ToyResult(SourceSpec(), ds).save(Path(out) / "lamp.nc")}


def run_meter(spec, out, *, upstream, progress=True):
    current = float(xr.load_dataset(upstream["source"] / "source.nc", engine="h5netcdf")["current"])
    ds = xr.Dataset({"reading": scalar_var(current, "A", "meter reading", "copied")})
    return {"result": ToyResult(spec, ds).save(Path(out) / "meter.nc")}


@pytest.fixture
def toy(monkeypatch):
    here = __name__
    registry = (stages.Stage("source", f"{here}:SourceSpec", f"{here}:run_source", (), "toy source", "source.nc"),
                stages.Stage("lamp", f"{here}:LampSpec", f"{here}:run_lamp", ("source",), "toy lamp", "lamp.nc",
                             (("source", "use_source"),)),
                stages.Stage("meter", f"{here}:SourceSpec", f"{here}:run_meter", ("source",), "toy meter", "meter.nc"))
    monkeypatch.setattr(stages, "STAGES", registry)

    class ToyPipeline(pipeline.PipelineSpec):
        source: dict = {}
        lamp: dict = {}
        meter: dict = {}

    return ToyPipeline


# -- sweeps ------------------------------------------------------------------------------------------------

def test_sweep_values_are_checked_before_any_stage_runs(toy, tmp_path):
    with pytest.raises(SpecError, match=r"sweeps\[0\].*-3 Ohm"):
        toy(sweeps=[{"stage": "source", "field": "resistance", "values": ["1 kOhm", "-3 Ohm"]}])
    with pytest.raises(SpecError, match="no such field"):
        toy(sweeps=[{"stage": "source", "field": "gap", "values": [1e-9]}])
    assert not any(tmp_path.iterdir())


def test_readme_sweep_example_is_valid_and_sweeps_real_fields():
    block = re.search(r"```yaml\n(preset: fast\nsweeps:\n.*?)```", README.read_text(), re.S)
    assert block, "README has no sweep example"
    spec = pipeline.PipelineSpec.from_yaml(block.group(1))
    assert spec.sweeps
    for sweep in spec.sweeps:
        points = sweep_points(spec.stage_spec(sweep.stage), sweep)
        values = [getattr(p, sweep.field) for p in points]
        assert len(set(map(str, values))) == len(sweep.values)  # each value reaches the stage spec


def test_sweep_of_a_list_field_and_a_flag(toy, tmp_path):
    pool = cf.ThreadPoolExecutor(1)  # the process pool is exercised by the pipeline test below
    ds = run_sweep(SourceSpec(), SweepSpec(stage="source", field="taps", values=[["1 V", "2 V"], [3.0, "500 mV"]]),
                   tmp_path, progress=False, pool=pool)
    np.testing.assert_allclose(ds["tap_sum"].values, [3.0, 3.5])
    assert list(ds["taps"].values) == ["(1, 2)", "(3, 0.5)"] and ds["taps"].attrs["units"] == "V"
    assert (tmp_path / "sweep_source_taps.png").stat().st_size > 1000
    lamp = run_sweep(LampSpec(use_source=False), SweepSpec(stage="lamp", field="use_source", values=[False]),
                     tmp_path, progress=False, pool=pool)
    pool.shutdown()
    np.testing.assert_allclose(lamp["light"].values, [1e-4])
    assert list(lamp["use_source"].values) == ["False"]


def test_sweep_points_are_cached_and_shown_in_the_report(toy, tmp_path):
    spec = toy(sweeps=[{"stage": "source", "field": "bias", "values": ["1 V", "2 V"]}])
    first = pipeline.run(spec, tmp_path, progress=False)
    row = first["sweep source.bias"]
    assert row["status"] == "done"
    gathered = xr.load_dataset(tmp_path / row["files"]["result"], engine="h5netcdf")
    np.testing.assert_allclose(gathered["current"].values, [5e-4, 1e-3])
    np.testing.assert_allclose(gathered["result_bias"].values, gathered["bias"].values)  # a scalar named as the field
    again = pipeline.run(spec, tmp_path, progress=False)
    assert again["sweep source.bias"]["status"] == "cached"
    page = (tmp_path / "report.html").read_text()
    assert "<h2>sweeps</h2>" in page and "sweep source.bias" in page and page.count("data:image/png") >= 2
    point = tmp_path / "sweeps" / "source-bias" / "001" / "source.nc"
    point.write_bytes(point.read_bytes()[:50])  # a truncated point is recomputed, the other reused
    third = pipeline.run(spec, tmp_path, progress=False)
    assert third["sweep source.bias"]["status"] == "done"
    assert xr.load_dataset(tmp_path / "sweep_source_bias.nc", engine="h5netcdf").attrs["points_computed"] == 1


# -- output paths --------------------------------------------------------------------------------------------

def _cli(*args):
    return subprocess.run([sys.executable, "-m", "devicephys", *args], capture_output=True, text=True, timeout=300)


def test_out_that_is_a_file_is_one_line_exit_2(tmp_path, capsys):
    blocker = tmp_path / "taken"
    blocker.write_text("x")
    res = _cli("array", "--fast", "--out", str(blocker))
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2 and len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert str(blocker) in lines[0] and "is a file, not a folder" in lines[0]
    assert cli.main(["run", "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"lies under the file '{blocker}'" in err[0]


def test_out_on_a_read_only_file_system_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)  # what a read-only mount answers to creating a file
    assert cli.main(["run", "--out", str(tmp_path / "out")]) == 2
    assert cli.main(["array", "--fast", "--out", str(tmp_path / "one")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("Read-only file system" in line and "writable" in line for line in err)


# -- locks ----------------------------------------------------------------------------------------------------

def test_stage_command_and_run_keep_each_other_out(toy, tmp_path, capsys):
    with pipeline._lock(tmp_path, ("source", "lamp", "meter")):  # what `run --out tmp_path` holds
        assert cli.main(["source", "--out", str(tmp_path / "source")]) == 2
    assert "another devicephys run" in capsys.readouterr().err
    assert not (tmp_path / "source" / "source.nc").exists()
    with pipeline._lock(tmp_path / "lamp"):  # what `lamp --out tmp_path/lamp` holds
        with pytest.raises(SpecError, match="another devicephys run"):
            pipeline.run(toy(), tmp_path, progress=False)
    assert cli.main(["source", "--out", str(tmp_path / "source")]) == 0  # free again


# -- checksums -------------------------------------------------------------------------------------------------

def test_truncated_companion_file_is_not_reported_as_cached(toy, tmp_path):
    pipeline.run(toy(), tmp_path, progress=False)
    record = json.loads((tmp_path / "source" / pipeline._DONE).read_text())
    assert {"fields.h5", "fields.xdmf", "source.nc"} <= set(record["checksums"])
    h5 = tmp_path / "source" / "fields.h5"
    h5.write_bytes(h5.read_bytes()[:100])
    summary = pipeline.run(toy(), tmp_path, progress=False)
    assert summary["source"]["status"] == "done" and h5.stat().st_size == 512


# -- stage dependencies ----------------------------------------------------------------------------------------

def test_a_failed_stage_skips_only_the_stages_that_read_it(toy, tmp_path):
    summary = pipeline.run(toy(source={"fail": True}, lamp={"use_source": False}), tmp_path, progress=False)
    assert summary["source"]["status"] == "failed"
    assert summary["lamp"]["status"] == "done"
    assert summary["meter"]["status"].startswith("skipped (needs source")


def test_pipeline_emission_needs_the_filament_unless_told_otherwise():
    spec = pipeline.PipelineSpec()  # the optics of the device's own stack and filament
    assert stages.get("emission").needs_for(spec.stage_spec("emission")) == ("filament",)
    alone = pipeline.PipelineSpec(emission={"use_filament": False})
    assert stages.get("emission").needs_for(alone.stage_spec("emission")) == ()


# -- consistency -----------------------------------------------------------------------------------------------

def test_validate_and_the_stage_command_agree_on_kind(tmp_path, capsys):
    from devicephys.array.spec import ArraySpec

    good = tmp_path / "array.yaml"
    good.write_text("kind: array\nnx: 4\nny: 4\n")
    assert cli.main(["validate", str(good)]) == 0
    assert ArraySpec.from_file(good).nx == 4
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("kind: filament\nnx: 4\n")
    assert cli.main(["validate", "--kind", "array", str(wrong)]) == 2
    with pytest.raises(SpecError, match="kind = 'filament'.*'array' spec"):
        ArraySpec.from_file(wrong)
    assert "kind = 'filament'" in capsys.readouterr().err


def test_emission_from_a_folder_without_a_filament_result_says_so(tmp_path, capsys):
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    assert cli.main(["emission", "--fast", "--out", str(tmp_path / "e"), "--from", str(empty)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no filament result (filament.nc)" in err[0] and "use_filament: false" in err[0]


def test_set_voltages_accept_units_and_unit_errors_name_the_fix():
    from devicephys.filament.spec import FilamentSpec

    assert FilamentSpec(set_voltages=["2.5 V", "3000 mV", 3.5]).set_voltages == [2.5, 3.0, 3.5]
    with pytest.raises(SpecError, match=r"set_voltages = '3 nm'.*e\.g\. '1\.5 V'"):
        FilamentSpec(set_voltages=["3 nm", "4 V"])
    with pytest.raises(SpecError, match=r"gap_on = '1 V'.*write it in m .*e\.g\. '10 nm'"):
        FilamentSpec(gap_on="1 V")


def test_version():
    res = _cli("--version")
    assert res.returncode == 0 and re.fullmatch(r"devicephys \d+\.\d+\.\d+\S*", res.stdout.strip()), res.stdout


def test_memory_refusal_names_the_fields():
    from devicephys.array.build import _check_build_memory
    from devicephys.array.spec import ArraySpec

    with pytest.raises(SpecError, match=r"GiB.*ArraySpec\.nx, ny or layers.*memory_limit"):
        _check_build_memory(ArraySpec(nx=4096, ny=4096, coupling_radius=20e-6, memory_limit=8e9))


@pytest.mark.slow
@pytest.mark.fdtd
def test_readme_emission_sweep_runs(tmp_path):
    """The README's emission sweep on the real stage (three FDTD runs of the fast preset; ~7 min on 2 busy cores)."""
    block = re.search(r"```yaml\n(preset: fast\nsweeps:\n.*?)```", README.read_text(), re.S)
    spec = pipeline.PipelineSpec.from_yaml(block.group(1))
    sweep = next(s for s in spec.sweeps if s.stage == "emission")
    ds = run_sweep(spec.stage_spec("emission"), sweep, tmp_path, progress=False)
    radii = ds[sweep.field].values
    assert len(radii) == len(sweep.values) and ds[sweep.field].attrs["units"] == "m"
    np.testing.assert_allclose(ds[f"result_{sweep.field}"].values, radii)  # the pipeline's emission keeps its own tip
    assert all(np.isfinite(ds[n].values).all() for n in ds.data_vars)
    assert (tmp_path / f"sweep_emission_{sweep.field}.png").is_file()
