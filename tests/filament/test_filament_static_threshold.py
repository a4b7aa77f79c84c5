"""The static threshold (``static_threshold``): the lowest constant voltage that sets within the time limit.

On the fast preset the cell sets at a constant 0.75 V (after 554 µs) but not at 0.5 V within 1 ms: the
growth must outrun the Gibbs–Thomson dissolution, and the set time diverges towards that voltage.  The
sweep's dynamic threshold (2.08 V) lies far above it: the 3 V / 100 µs ramp passes 0.75 V in 25 µs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from devicephys.filament.spec import FilamentSpec


@pytest.mark.fem
@pytest.mark.slow
def test_the_bisection_brackets_the_lowest_setting_voltage():
    pytest.importorskip("dolfinx_solver")
    from devicephys.filament import extract
    from devicephys.filament import simulate as sim
    from devicephys.filament.stage import _static_threshold

    spec = FilamentSpec(**{**FilamentSpec.dilute().model_dump(), "static_threshold": True,
                           "static_threshold_tolerance": 0.2})
    model = sim.CellModel(spec)
    pristine = model.state()
    set_times = np.array([1.03e-5, 6.5e-6, 4.06e-6])  # the set-time study at 3, 3.5, 4 V
    v, half = _static_threshold(model, spec, pristine, set_times, progress=False)
    assert half <= 0.2 and v + half <= min(spec.set_voltages)

    def sets(volts):
        model.restore(pristine)
        trace = sim.run_drive(model, lambda t: volts, spec.set_time_limit,
                              dt_max=spec.set_time_limit * spec.max_step_fraction,
                              stop=lambda s: s["gap"] < spec.gap_on)
        return extract.set_index(trace.array("gap"), spec.gap_on) is not None

    assert sets(v + half) and not sets(v - half)  # the bracket's ends, run again
    assert math.isclose(v, 0.5625) and math.isclose(half, 0.1875)  # [0, 3] V halved four times: [0.375, 0.75] V


def test_the_measured_prediction_integrates_the_probes_and_the_set_study_and_says_when_it_cannot():
    # runs off an exact law from 0.2 V up, none at 0.125 V: the memoryless set is the law's closed form counted from
    # 0.2 V, whatever the order or repetition of the runs
    from devicephys.filament import extract
    from devicephys.filament.stage import measured_ramp_prediction

    spec = FilamentSpec.fast()
    tau0, v0 = 9.7e-5, 0.81
    rate = spec.sweep_voltage / (spec.sweep_time / 2)
    law = lambda v: tau0 * math.exp(-v / v0)  # noqa: E731
    probes = [(0.5, law(0.5)), (0.25, law(0.25)), (0.125, math.nan), (0.2, law(0.2))]
    runs = [*probes, *((v, law(v)) for v in spec.set_voltages)]
    value, unit, _, method, (sigma, _) = measured_ramp_prediction(spec, runs, 1.38)
    assert unit == "V" and value == pytest.approx(extract.ramp_set_voltage(tau0, v0, rate, 0.2), rel=1e-12)
    assert sigma == pytest.approx(0.0, abs=1e-12)  # the exponential is interpolated exactly on any grid
    assert "0.125" in method and "1.38" in method
    # every probe set: where the cell stops setting is not measured, so neither is the integral's start
    value, *_, method, _ = measured_ramp_prediction(spec, [(0.2, law(0.2)), *((v, law(v)) for v in spec.set_voltages)],
                                                    1.38)
    assert math.isnan(value) and "start is not measured" in method
    # a voltage that did not set above one that did: refused, not bridged
    value, *_, method, _ = measured_ramp_prediction(spec, [(0.1, math.nan), (0.2, law(0.2)), (0.5, math.nan),
                                                           *((v, law(v)) for v in spec.set_voltages)], 1.38)
    assert math.isnan(value) and "0.5" in method
