"""The emission stage end to end on the fast preset (one shared FDTD sweep), and its fast model."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from devicephys import units
from devicephys.emission.interpolant import EmissionInterpolant
from devicephys.emission.result import EmissionResult
from devicephys.emission.spec import EmissionSpec
from devicephys.errors import SpecError

pytestmark = pytest.mark.fdtd
pytest.importorskip("meep")


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    from devicephys.emission import stage

    out = tmp_path_factory.mktemp("emission")
    files = stage.run(EmissionSpec.fast(), out, upstream={}, progress=False)
    return files, EmissionResult.load(files["result"])


def test_stage_writes_result_and_plots(fast_run):
    files, res = fast_run
    assert {"result", "optics_plot", "spectra_plot", "far_field_plot"} <= set(files)
    assert all(p.is_file() and p.stat().st_size > 0 for p in files.values())
    ds = res.data
    for name in list(ds.data_vars) + list(ds.coords):
        assert "units" in ds[name].attrs, name
    assert ds["spectrum"].dims == ("gap", "bias", "wavelength")
    assert ds["quantum_efficiency"].dims == ("gap", "bias")
    assert ds["far_field"].dims == ("gap", "angle")
    assert res.scalar("tip_radius") == EmissionSpec.fast().tip_radius
    import meep

    assert res.versions["meep"] == meep.__version__  # the engine that computed it, read back from emission.nc
    # solver statistics: every run stopped because its fields decayed to the spec's target
    assert np.all(ds["fdtd_decay_reached"] <= EmissionSpec.fast().field_decay), ds["fdtd_decay_reached"].values
    assert np.all(ds["fdtd_time_steps"] > 0) and np.all(ds["fdtd_simulated_time"] > EmissionSpec.fast().min_run_time)


def test_total_power_from_ldos_and_flux_box_agree(fast_run):
    ds = fast_run[1].data
    ratio = ds["purcell_flux_fdtd"].values / ds["purcell_fdtd"].values
    print("flux-box / LDOS total power per FDTD gap:", [f"{r.min():.3f}..{r.max():.3f}" for r in ratio])
    # 16 nm gap = 8 cells: the box is 2 cells from dipole and metal; 10 nm gap = 5 cells: only 1 cell.
    # Below 700 nm (strong Purcell) the two agree closely; beyond, where F is small, both are noisy.
    blue = fast_run[1].data["wavelength"].values < 700e-9
    np.testing.assert_allclose(ratio[1][blue], 1.0, atol=0.02)
    np.testing.assert_allclose(ratio[0][blue], 1.0, atol=0.2)
    assert np.median(np.abs(ratio[1] - 1)) < 0.02


def test_far_field_of_small_gap_antenna_is_dipole_like(fast_run):
    ds = fast_run[1].data
    theta = ds["angle"].values
    pattern = ds["far_field"].values[0]
    assert np.trapezoid(pattern * 2 * np.pi * np.sin(theta), theta) == pytest.approx(1.0, rel=1e-6)
    # the device (< 100 nm) is much smaller than the wavelength: pattern ~ 3 sin^2 / (8 pi)
    np.testing.assert_allclose(pattern, 3 * np.sin(theta) ** 2 / (8 * np.pi), atol=0.012)


def test_spectra_respect_quantum_cutoff_and_grow_with_bias(fast_run):
    ds = fast_run[1].data
    lam, bias = ds["wavelength"].values, ds["bias"].values
    j = int(np.argmin(np.abs(bias - 2.0)))
    # photon energy above eV by more than 15 k_B T (T = 300 K): the thermal tail is below exp(-15)
    above = units.h * units.c0 / lam > units.e * bias[j] + 15 * units.k_B * 300.0
    spec = ds["spectrum"].values[:, j]
    assert np.all(spec[:, above] < 1e-6 * spec.max(axis=1, keepdims=True))
    qe = ds["quantum_efficiency"].values
    assert np.all(qe > 0) and np.all(np.diff(qe, axis=1) > 0)
    assert np.all((ds["radiative_efficiency_fdtd"].values > 0) & (ds["radiative_efficiency_fdtd"].values < 1))


def test_fast_model_agreement_and_disagreement_with_fdtd(fast_run):
    ds = fast_run[1].data
    lam = ds["wavelength"].values
    from devicephys.emission import fastmodel

    model = fastmodel.GapPlasmonModel(tip_radius=ds["tip_radius"].item(), index=ds["insulator_index"].item(),
                                      metal="Ag", xi=ds["fastmodel_xi"].item(), gap_ref=0, purcell_ref=0,
                                      purcell_exponent=0, logit_eta_ref=0, logit_eta_slope=0, linewidth=0)
    peaks_model = model.peak_wavelength(ds["fdtd_gap"].values)
    peaks_fdtd = ds["peak_wavelength_fdtd"].values
    print("peak wavelength FDTD", peaks_fdtd * 1e9, "fast model", peaks_model * 1e9)
    # agrees: the resonance position at the calibrated gaps within 5 %
    np.testing.assert_allclose(peaks_model, peaks_fdtd, rtol=0.05)
    # does not agree: the trend between these wide gaps (FDTD red-shifts as the gap opens: the rod/disk antenna
    # mode dominates when d ~ R; the gap-mode model blue-shifts) and the off-resonance background at long
    # wavelengths, which the Lorentzian model lacks
    assert np.sign(np.diff(peaks_fdtd))[0] != np.sign(np.diff(peaks_model))[0]
    gaps = ds["fdtd_gap"].values
    spec = EmissionSpec.fast()
    full = fastmodel.calibrate(gaps, lam, ds["purcell_fdtd"].values, ds["radiative_efficiency_fdtd"].values,
                               tip_radius=spec.tip_radius, index=spec.insulator_index, metal="Ag")
    far_red = lam > 750e-9
    ratio = full.purcell(gaps, lam)[:, far_red] / ds["purcell_fdtd"].values[:, far_red]
    print("fast model / FDTD Purcell beyond 750 nm:", ratio.min(), ratio.max())
    # the Lorentzian has no off-resonance background: below the FDTD at every far-red point (measured 0.42-0.77
    # on the fast preset; the claim is the sign, not that margin)
    assert ratio.max() < 1.0


def test_interpolant_is_constrained_and_refuses_extrapolation(fast_run):
    ds = fast_run[1].data
    interp = EmissionInterpolant.from_dataset(ds)
    gaps = np.linspace(ds["gap"].values[0], ds["gap"].values[-1], 37)
    assert np.all(interp.purcell(gaps) > 0)
    eta = interp.radiative_efficiency(gaps)
    assert np.all((eta > 0) & (eta < 1))
    qe = interp.quantum_efficiency(gaps, 2.5)
    assert np.all(qe > 0)
    node = interp.quantum_efficiency(ds["gap"].values[3], ds["bias"].values[1])
    assert node == pytest.approx(ds["quantum_efficiency"].values[3, 1], rel=1e-9)
    with pytest.raises(SpecError, match="outside"):
        interp.purcell(10 * ds["gap"].values[-1])


def test_cli_rejects_unresolved_gap_with_exit_code_2(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("fdtd_gaps: ['2 nm']\ngrid_step: 1 nm\n")
    proc = subprocess.run([sys.executable, "-m", "devicephys", "emission", str(spec), "--out", str(tmp_path / "o"),
                           "--from", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "grid_step <=" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_spec_refuses_wavelengths_outside_metal_fit():
    with pytest.raises(SpecError, match="validity range"):
        EmissionSpec(wavelength_min="200 nm")
