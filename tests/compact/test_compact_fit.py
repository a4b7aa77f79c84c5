"""Fit by parameter recovery from simulated results, uncertainties, and unidentifiable data."""

from __future__ import annotations

import numpy as np
import pytest

from devicephys.compact import build, fit
from devicephys.compact.spec import CompactSpec
from devicephys.compact.synthetic import REFERENCE
from devicephys.errors import ConvergenceError, SpecError

# Recovered exactly up to solver tolerance: these mechanisms are isolated by their data.
EXACT = {"gap_max": 1e-6, "relaxation_time": 1e-6, "decay_constant": 1e-6, "contact_gap": 1e-6,
         "contact_conductance": 1e-6, "leakage_resistance": 1e-6, "thermal_resistance": 2e-3,
         "thermal_capacitance": 2e-3, "gap_min": 1e-3}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_recovers_isolated_parameters(card, name):
    assert card.value(name) == pytest.approx(getattr(REFERENCE, name), rel=EXACT[name])


def test_set_time_law_recovered_after_the_full_model_refinement(card, filament_ds):
    # The isothermal closed form alone fits the simulated set times to < 1 % but biases tau0
    # (it ignores Joule heating in the last ~0.5 nm of closure); the refinement simulates the
    # full model and recovers tau0 and V0.  E_a follows from the hold voltage read off the
    # sweep, which differs from the static hold by ~2 %: E_a is recovered to ~6 %.
    assert card.fit_quality["set_time"]["max_ln"] < 0.01
    assert card.fit_quality["set_time_full_model"]["max_ln"] < 1e-3
    assert card.value("set_time_v0") == pytest.approx(REFERENCE.set_time_v0, rel=1e-3)
    assert card.value("set_time_tau0") == pytest.approx(REFERENCE.set_time_tau0, rel=0.01)
    assert card.value("activation_energy") == pytest.approx(REFERENCE.activation_energy, rel=0.1)


def test_isothermal_set_time_fit_alone_is_biased_by_heating(filament_ds):
    values, _, out = fit.fit_set_time(filament_ds["set_voltage"].values, filament_ds["set_time"].values,
                                      REFERENCE.relaxation_time)
    assert out.max_abs < 0.01
    assert values["set_time_tau0"] < 0.9 * REFERENCE.set_time_tau0


def test_hold_voltage_reproduced_and_threshold_close_to_the_sweep(card, filament_ds):
    cmp = card.fit_quality["versus_filament_result"]
    assert abs(cmp["hold_voltage"]["relative_difference"]) < 1e-9
    assert abs(cmp["threshold_voltage"]["relative_difference"]) < 0.02
    assert abs(cmp["resistance_on"]["relative_difference"]) < 1e-3


def test_uncertainties_are_finite_and_small_for_well_posed_fits(card):
    for name in ("decay_constant", "relaxation_time", "set_time_v0", "thermal_resistance", "activation_energy"):
        sigma = card.uncertainties[name]
        assert np.isfinite(sigma) and 0 <= sigma < 0.05 * card.value(name)


def test_emission_fit_residuals_reported(card):
    q = card.fit_quality["efficiency"]
    # the compact law's stated target: 20 % (0.2 in ln eta) where the photons are; every stored point is used
    assert q["ln_eta_rms_photon_weighted"] < 0.2 and q["points"] >= 72
    assert np.isfinite(q["ln_eta_max"]) and q["points_at_or_below_cutoff"] == 0


def test_missing_variable_is_named(filament_ds, emission_ds):
    with pytest.raises(SpecError, match="set_time"):
        build.fit_device(filament_ds.drop_vars("set_time"), emission_ds, CompactSpec())
    with pytest.raises(SpecError, match="quantum_efficiency"):
        build.fit_device(filament_ds, emission_ds.drop_vars("quantum_efficiency"), CompactSpec())


def test_conductance_unidentifiable_when_the_gap_never_moves():
    gap = np.full(50, 3e-9) + np.linspace(0, 1e-15, 50)
    v = np.linspace(0.1, 1.0, 50)
    with pytest.raises(ConvergenceError, match="unidentifiable"):
        fit.fit_conductance(gap, v, v * 1e-9, 6.0, 0.15e-9)


def test_activation_energy_unidentifiable_when_hold_exceeds_threshold():
    with pytest.raises(ConvergenceError, match="activation_energy is unidentifiable"):
        fit.activation_energy_from_hold(REFERENCE, 1.2 * 1.73)


def test_set_time_that_rises_with_voltage_is_refused():
    with pytest.raises(ConvergenceError, match="set_time_v0"):
        fit.fit_set_time([1.0, 1.5, 2.0], [1e-6, 2e-6, 4e-6], 1e-5)


def test_coarse_bias_grid_fixes_the_undetermined_term():
    from devicephys.compact import fit_emission, synthetic

    ds = synthetic.emission_dataset(biases=np.array([1.0, 2.0, 3.0]))  # 1 V lies below the photon cutoff
    values, sigmas, quality = fit_emission.fit_efficiency(ds, extension_points=0)
    assert quality["terms_fixed_at_zero"] == ["eta_c5"]
    assert values["eta_c5"] == 0.0 and sigmas["eta_c5"] == 0.0
    # the 1 V points are kept: the law's exact zero below the window's cutoff hc/(e 1000 nm) holds there
    assert values["eta_bias_cut"] == pytest.approx(1239.84198e-9 / 1000e-9) and values["eta_bias_lo"] == 2.0
    assert quality["points_at_or_below_cutoff"] == 8 and quality["eta_at_or_below_cutoff_max"] == 0.0


def test_spectral_width_when_the_peak_leaves_the_wavelength_range():
    from devicephys.compact import fit_emission, synthetic

    full = synthetic.emission_dataset()
    width, how = fit_emission.spectral_width_at(full, 2e-9, 3.5)
    assert width == pytest.approx(80e-9, rel=0.02)  # the toy band's FWHM, far above the cutoff
    cut = synthetic.emission_dataset(wavelengths=np.linspace(400e-9, 650e-9, 101))  # peak 635 nm, cut at 650
    with pytest.raises(ConvergenceError, match="widen"):
        fit_emission.spectral_width_at(cut, 2e-9, 3.5)
    cut["spectral_width"] = ("gap", np.full(cut.sizes["gap"], 81e-9), {"units": "m"})
    width, how = fit_emission.spectral_width_at(cut, 2e-9, 3.5)
    assert width == 81e-9 and "EmissionResult.spectral_width" in how
