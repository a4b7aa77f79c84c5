"""Benchmark of the compact model: NumPy over 1e5 devices, and ngspice on one device.

Prints, measured side by side in one run (medians of repeats):

* the vectorised NumPy step (:func:`devicephys.compact.integrate.step_many`)
  for N = 1e3, 1e4, 1e5 devices driven by a pulse train: time per step and per
  device-step;
* one device through the same pulse train: ngspice (exported subcircuit)
  against the NumPy stiff-solver reference, and the LIF neuron likewise;
* the card with its second slow state (``rupture: dissolution``) behind a resistor
  at 1.2 x its static threshold: two set-rupture cycles, ngspice against NumPy;
* the measured path under a current compliance (``examples/measured_volatile``, its card fitted here):
  the first ``--lsoda-samples`` sweep segments integrated by BDF (the replay's integrator) and by
  LSODA alone (its former one), then the whole replay in NumPy and in ngspice;
* one device's rates (:func:`devicephys.compact.model.state_rates`, what every integrator step calls), the
  dissolving card's, through the scalar path (NumPy scalars, the element-wise selections in Python) against the
  same state as one-element arrays (through the ufuncs, as one device's scalars went before the scalar path);
* the photons per spike along the card's reference spike (the synthetic emission result's kernel): the
  efficiency of every waveform sample from spectra computed a chunk of biases at a time
  (:func:`devicephys.compact.emission_point.efficiency_along`) against one spectrum per sample
  (:func:`devicephys.compact.emission_point.efficiency_at` in a loop, as the card took them before); both equal
  to the last bit, checked here.

Run: ``python benchmarks/bench_compact.py [--devices 100000] [--steps 200] [--lsoda-samples 8]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from devicephys.compact import build, integrate, model, neuron, ngspice, synthetic, verify
from devicephys.compact.export_spice import subcircuit_names, subcircuit_text
from devicephys.compact.spec import CompactSpec
from devicephys.filament.spec import FilamentSpec


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_numpy(card, devices: int, steps: int) -> float:
    """Median seconds per step of ``step_many`` for ``devices`` devices."""
    p, v = card.model_params(), card.values()
    rng = np.random.default_rng(1)
    amp = 1.3 * v["threshold_voltage"] * rng.uniform(0.9, 1.1, devices)
    r_s = 0.2 * v["resistance_on"]
    period = 2e-6
    dt = period / 100

    def run():
        gap, temp = np.full(devices, p.gap_max), np.full(devices, p.ambient_temperature)
        for k in range(steps):
            drive = amp if (k % 100) < 30 else 0.0
            gap, temp, _ = integrate.step_many(p, gap, temp, drive, r_s, dt)

    return _median_time(run, 3) / steps


def bench_single(card) -> list[tuple[str, float, float]]:
    """(name, NumPy seconds, ngspice seconds) for the pulse train and the LIF neuron."""
    v = card.values()
    rows = []
    out = verify.pulse_train(card, 4)
    pulse = out["pulse"]
    tp, vp = integrate.pulse_train_pwl(pulse["amplitude"], pulse["width"], pulse["period"], 4,
                                       rise=pulse["width"] / 50, delay=0.1 * pulse["width"])
    r_s = 0.2 * v["resistance_on"]
    t_np = _median_time(lambda: integrate.simulate_series(card.model_params(), tp, vp, r_s,
                                                          samples_per_segment=400), 3)
    name, ts = subcircuit_names(card)
    net = ngspice.series_netlist(subcircuit_text(card), name, tp, vp, r_s, float(tp[-1]), float(tp[-1]) / 4000)
    t_sp = _median_time(lambda: ngspice.run(net, ["i(vsense)"]), 3)
    rows.append(("pulse train, 4 pulses", t_np, t_sp))
    lp = card.latch_params()
    theory = neuron.lif_analytic(lp, v["neuron_input_voltage"], v["series_resistance"], v["neuron_capacitance"])
    t_end = 5.5 * theory["period"]
    t_np = _median_time(lambda: neuron.simulate_lif(lp, v["neuron_input_voltage"], v["series_resistance"],
                                                    v["neuron_capacitance"], t_end, v_start=0.0), 3)
    net = ngspice.lif_netlist(subcircuit_text(card), ts, v["neuron_input_voltage"], v["series_resistance"],
                              v["neuron_capacitance"], t_end, theory["period"] / 4000)
    t_sp = _median_time(lambda: ngspice.run(net, ["v(xsw.ns)"]), 3)
    rows.append(("LIF neuron, 5 spikes", t_np, t_sp))
    two = build.with_dissolution(card, FilamentSpec().model_dump())
    p2 = two.model_params()
    t_r = p2.relaxation_time
    v_s = 1.2 * model.static_threshold(p2)
    tp, vp = [0.0, 1e-9, 2.2 * t_r], [0.0, v_s, v_s]  # two set-rupture cycles behind R_s
    r_s = 0.2 * v["resistance_on"]
    t_np = _median_time(lambda: integrate.simulate_series(p2, tp, vp, r_s, samples_per_segment=4000), 3)
    name, _ = subcircuit_names(two)
    net = ngspice.series_netlist(subcircuit_text(two), name, tp, vp, r_s, tp[-1], tp[-1] / 20000)
    t_sp = _median_time(lambda: ngspice.run(net, ["i(vsense)"]), 3)
    rows.append(("two-state card, 2 cycles", t_np, t_sp))
    return rows


def bench_compliance(lsoda_samples: int) -> list[tuple[str, float]]:
    """Seconds of the measured replay's pieces under the volatile example's compliance (module docstring)."""
    from pathlib import Path

    from scipy.integrate import solve_ivp

    from devicephys.compact import fem_drive, measured, measured_fit, measured_stage
    from devicephys.compact.card import DeviceCard

    root = Path(__file__).resolve().parents[1]
    sweep = measured.read_sweep(root / "examples/measured_volatile/sweep.csv", compliance_current=1e-5,
                                series_resistance=100.0)
    card = measured_fit.fit_card(sweep, measured.read_pulses(root / "examples/measured_volatile/pulses.csv"),
                                 DeviceCard.load(root / "examples/measured/device_card.json"), CompactSpec(verify=False))
    p, drive = card.model_params(), fem_drive.Drive(100.0, 1e-5)
    tp, vp = sweep["time"], sweep["source_voltage"]

    def segments(method: str) -> None:
        y = np.array([p.gap_max, 0.0])
        for k in range(lsoda_samples):
            slope = (vp[k + 1] - vp[k]) / (tp[k + 1] - tp[k])
            sol = solve_ivp(fem_drive._rhs(p, drive, tp[k], vp[k], slope), (tp[k], tp[k + 1]), y, method=method,
                            rtol=fem_drive.RTOL, atol=model.state_tolerances(p), first_step=1e-12)
            y = sol.y[:, -1]

    rows = [(f"first {lsoda_samples} segments, BDF", _median_time(lambda: segments("BDF"), 3)),
            (f"first {lsoda_samples} segments, LSODA", _median_time(lambda: segments("LSODA"), 1))]
    rows.append(("whole replay, NumPy (BDF)", _median_time(lambda: measured_stage.replay(card, sweep, spice=False), 3)))
    rows.append(("whole replay, ngspice (Gear)", _median_time(lambda: measured_stage.replay(card, sweep, numpy=False), 3)))
    return rows


def bench_rates(card, calls: int = 20000) -> tuple[float, float]:
    """Median seconds per :func:`model.state_rates` call of one device: (scalar path, one-element arrays)."""
    import dataclasses

    p = card.model_params()
    if not p.dissolves:
        p = dataclasses.replace(p, dissolution_rate=1.2e5, percolation_fraction=0.3, percolation_width=0.05,
                                rupture_time=1e-8, return_rate=3e4)
    y = [np.float64(0.5 * (p.gap_min + p.gap_max)), np.float64(1.0), np.float64(0.9), np.float64(0.1)]
    ya, v = [np.array([s]) for s in y], np.float64(1.2)

    def scalar():
        for _ in range(calls):
            model.state_rates(p, y, v)

    def arrays():
        for _ in range(calls):
            model.state_rates(p, ya, v)

    return _median_time(scalar, 5) / calls, _median_time(arrays, 5) / calls


def bench_photons(samples: int = 20000) -> tuple[float, float, int]:
    """Median seconds of one spike's efficiencies over ``samples`` waveform samples: (chunked, one per sample)."""
    from devicephys.compact import emission_point

    kernel = emission_point.optical_kernel(synthetic.emission_dataset())
    gap = float(np.median(kernel.gap))
    top = min(kernel.bias_max, 2.0)
    bias = top * np.exp(-np.linspace(0.0, 3.0, samples))  # a discharge from the top bias, through the cutoff

    def chunked():
        return emission_point.efficiency_along(kernel, np.full_like(bias, gap), bias)

    def one_by_one():
        return np.array([emission_point.efficiency_at(kernel, gap, float(v)) for v in bias])

    assert np.array_equal(chunked(), one_by_one()), "the chunked efficiencies differ from the one-bias ones"
    return _median_time(chunked, 5), _median_time(one_by_one, 3), samples


def main() -> None:
    parser = argparse.ArgumentParser(description="compact-model benchmark")
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--lsoda-samples", type=int, default=8,
                        help="sweep segments of the compliance example integrated by LSODA (the 6th alone took 51 s)")
    args = parser.parse_args()
    card = build.fit_device(synthetic.filament_dataset(), synthetic.emission_dataset(), CompactSpec())
    print(f"ngspice: {ngspice.version()}")
    print(f"{'devices':>10} {'s/step':>12} {'ns/device-step':>16}")
    for n in sorted({1_000, 10_000, args.devices}):
        t = bench_numpy(card, n, args.steps)
        print(f"{n:>10d} {t:>12.3e} {t / n * 1e9:>16.2f}")
    print(f"\n{'single device':<24} {'NumPy ref [s]':>14} {'ngspice [s]':>12} {'ngspice/NumPy':>14}")
    for name, t_np, t_sp in bench_single(card):
        print(f"{name:<24} {t_np:>14.3f} {t_sp:>12.3f} {t_sp / t_np:>14.2f}")
    t_scalar, t_array = bench_rates(card)
    print(f"\n{'one device, state_rates':<24} {'scalar [us]':>12} {'arrays [us]':>12} {'arrays/scalar':>14}")
    print(f"{'dissolving card':<24} {t_scalar * 1e6:>12.2f} {t_array * 1e6:>12.2f} {t_array / t_scalar:>14.2f}")
    t_chunk, t_each, n = bench_photons()
    print(f"\n{'one spike, photons per electron':<32} {'chunked [ms]':>12} {'per sample [ms]':>16} {'ratio':>7}")
    print(f"{f'{n} waveform samples':<32} {t_chunk * 1e3:>12.2f} {t_each * 1e3:>16.2f} {t_each / t_chunk:>7.1f}")
    rows = bench_compliance(args.lsoda_samples)
    print(f"\n{'measured replay under a compliance':<38} {'[s]':>10} {'/ BDF segments':>15}")
    for name, t in rows:
        print(f"{name:<38} {t:>10.3f} {t / rows[0][1]:>15.1f}")


if __name__ == "__main__":
    main()
