"""Bad input: one clear SpecError naming the field, the value and the fix; exit code 2 from the CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest

from devicephys.errors import SpecError
from devicephys.filament.spec import FilamentSpec


@pytest.mark.parametrize("field,value,words", [
    ("insulator_thickness", "-2 nm", ["insulator_thickness", "> 0"]),
    ("active_electrode_thickness", 0, ["active_electrode_thickness", "> 0"]),
    ("seed_height", "12 nm", ["seed_height", "overlaps"]),
    ("channel_radius", "80 nm", ["channel_radius", "half the cell radius"]),
    ("axis_mesh_size", "3 nm", ["axis_mesh_size", "too coarse"]),
    ("insulator", "Ag", ["insulator", "choose one of"]),
    ("gap_rupture", "0.1 nm", ["gap_rupture", "gap_on"]),
    ("ion_compensation", 1.0, ["ion_compensation", "< 1"]),
])
def test_non_physical_spec_is_refused_with_one_line(field, value, words):
    with pytest.raises(SpecError) as info:
        FilamentSpec(**{field: value})
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message


@pytest.mark.parametrize("fields,words", [
    ({"fire_voltages": [2.0]}, ["fire_intervals", "give both"]),
    ({"fire_intervals": ["50 us"]}, ["fire_voltages", "give both"]),
    ({"fire_voltages": [2.0], "fire_intervals": ["15 us"]}, ["fire_intervals", "pulse_width"]),
    ({"fire_voltages": [-1.0], "fire_intervals": ["50 us"]}, ["fire_voltages", "> 0 V"]),
])
def test_pulse_integration_study_is_refused_with_one_line(fields, words):
    with pytest.raises(SpecError) as info:
        FilamentSpec(**fields)
    assert "\n" not in str(info.value) and all(w in str(info.value) for w in words), str(info.value)
    assert FilamentSpec(fire_voltages=[2.0], fire_intervals=["50 us"]).fire_study


def test_cli_bad_spec_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("insulator_thickness: -1 nm\n")
    out = subprocess.run([sys.executable, "-m", "devicephys", "filament", str(bad), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "insulator_thickness" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.fem
def test_drive_that_never_reaches_threshold(tmp_path):
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import stage

    spec = FilamentSpec.fast().model_copy(update={"sweep_voltage": 0.3, "sweep_time": 20e-6, "field_snapshots": 0})
    with pytest.raises(SpecError) as info:
        stage.run(spec, tmp_path, upstream={}, progress=False)
    assert "sweep_voltage" in str(info.value) and "never reaches threshold" in str(info.value)
    assert (tmp_path / "filament_partial.nc").is_file()
