"""The stage contract end to end: spec, run() on synthetic upstream folders, CLI, bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devicephys.compact import export_spice, synthetic
from devicephys.compact.card import DeviceCard
from devicephys.compact.spec import CompactSpec
from devicephys.compact.stage import run
from devicephys.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    return synthetic.write_upstream(tmp_path_factory.mktemp("upstream"))


def test_spec_defaults_fast_and_bad_values():
    assert CompactSpec.kind == "compact"
    assert CompactSpec.fast().verify_pulses < CompactSpec().verify_pulses
    assert CompactSpec(neuron_capacitance="2 pF").neuron_capacitance == pytest.approx(2e-12)
    with pytest.raises(SpecError, match="neuron_capacitance"):
        CompactSpec(neuron_capacitance=-1.0)
    with pytest.raises(SpecError, match="input_overdrive"):
        CompactSpec(input_overdrive=0.5)


def test_run_writes_card_exports_and_plots(upstream, tmp_path):
    files = run(CompactSpec(verify=False, refine_set_time=False), tmp_path / "out", upstream=upstream, progress=False)
    panels = {"fit_conductance", "fit_set_time", "fit_relaxation", "fit_heating", "fit_photon_yield",
              "fit_peak_wavelength"}
    assert {"result", "spice", "veriloga"} | panels <= set(files)
    card = DeviceCard.load(files["result"])
    assert card.provenance["filament_result"]["file"] == "filament.nc"
    assert "synthetic" in card.provenance["filament_result"]
    back = export_spice.read_parameters(files["spice"].read_text())
    assert back["threshold_voltage"] == card.value("threshold_voltage")
    assert all(files[k].stat().st_size > 10_000 for k in panels)
    assert "skipped" not in card.fit_quality["veriloga"]  # openvaf-py is a test dependency
    assert max(card.fit_quality["veriloga"]["max_relative_difference"].values()) < 1e-12


def test_series_resistance_that_cannot_oscillate_is_refused(upstream, tmp_path):
    with pytest.raises(SpecError, match="series_resistance"):
        run(CompactSpec(verify=False, refine_set_time=False, series_resistance=10.0), tmp_path, upstream=upstream, progress=False)


def test_missing_upstream_file_or_variable(upstream, tmp_path):
    with pytest.raises(SpecError, match="filament.nc"):
        run(CompactSpec(verify=False, refine_set_time=False), tmp_path / "o", upstream={"filament": tmp_path, "emission": tmp_path},
            progress=False)
    import xarray as xr

    bad = tmp_path / "bad" / "filament"
    bad.mkdir(parents=True)
    ds = xr.load_dataset(upstream["filament"] / "filament.nc", engine="h5netcdf").drop_vars("relax_gap")
    ds.to_netcdf(bad / "filament.nc", engine="h5netcdf")
    with pytest.raises(SpecError, match="relax_gap"):
        run(CompactSpec(verify=False, refine_set_time=False), tmp_path / "o", upstream={"filament": bad, "emission": upstream["emission"]},
            progress=False)


@pytest.mark.spice
@pytest.mark.skipif(shutil.which("ngspice") is None, reason="ngspice is not installed")
def test_cli_with_spec_file(upstream, tmp_path):
    # (the ngspice verification inside the stage runs in the study test; here the CLI path and a spec file)
    root = upstream["filament"].parent
    spec = tmp_path / "compact.yaml"
    spec.write_text("name: cli-device\nneuron_capacitance: 20 pF\nverify: false\nrefine_set_time: false\n")
    out = tmp_path / "cli"
    proc = subprocess.run([sys.executable, "-m", "devicephys", "compact", str(spec), "--quiet", "--from", str(root),
                           "--out", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    card = json.loads((out / "device_card.json").read_text())
    assert card["name"] == "cli-device"
    assert card["parameters"]["neuron_capacitance"]["value"] == pytest.approx(20e-12)
    assert (out / "cli_device.lib").is_file() and (out / "cli_device.va").is_file()


def test_cli_bad_input_exit_code_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "devicephys", "compact", "--from", str(tmp_path), "--out",
                           str(tmp_path / "o")], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2
    assert "filament.nc" in proc.stderr and "Traceback" not in proc.stderr
