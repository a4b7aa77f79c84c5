"""The array stage runner: DeviceCard -> photonic array -> spikes, photons, plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from devicephys.array.card import load_card, neuron_from_card
from devicephys.array.spec import ArraySpec


def card_path(upstream: dict[str, Path] | None) -> Path | None:
    """``upstream['compact']/device_card.json``, or None (built-in card) when there is no upstream."""
    if upstream and "compact" in upstream:
        return Path(upstream["compact"]) / "device_card.json"
    return None


def run(spec: ArraySpec, out: Path, *, upstream: dict[str, Path] | None = None, progress: bool = True) -> dict[str, Path]:
    """Simulate the array of ``spec`` and write ``array.nc`` and three PNG plots into ``out``.

    Returns
    -------
    dict
        ``result`` (array.nc), ``raster``, ``rates``, ``photon_map`` (PNG paths).
    """
    from devicephys.array import plot
    from devicephys.array.build import build_array
    from devicephys.array.result import make_result
    from devicephys.array.simulate import simulate

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = card_path(upstream)
    card = load_card(path)
    neuron = with_membrane(neuron_from_card(card, where=str(path) if path else "built-in card"), spec.membrane)
    arr = build_array(spec, neuron)
    n = arr.network.n_neurons
    traced = np.linspace(0, n - 1, min(spec.n_traces, n)).astype(np.int64) if spec.n_traces else None
    duration, dt = spec.timing(neuron.time_scale_for(spec.neuron_model))
    sim = simulate(arr.network, duration, dt, seed=spec.seed, record=traced, progress=progress,
                   memory_limit=None if spec.memory_limit is None else int(spec.memory_limit))
    figures = {
        "mean_rate": (float(sim.rates().mean()), "Hz", "mean firing rate", "spikes / (neurons x duration)"),
        "photons_per_spike": (arr.photons_per_spike, "1", "mean photons emitted per spike",
                              "card photons_per_electron x C (V_th - V_h) / e, or the spec override"),
        "mean_photons_intended": (arr.mean_photons_intended, "1", "mean photoelectrons per spike on an intended link",
                                  "optics.mean_photoelectrons"),
        "crosstalk_ratio": (arr.crosstalk["ratio"], "1", "unintended / intended photoelectrons",
                            "sum over detectors of crosstalk mu / sum of nearest-neighbour mu"),
        "crosstalk_db": (arr.crosstalk["ratio_db"], "dB", "crosstalk ratio in dB", "10 log10(crosstalk_ratio)"),
        "spectral_efficiency": (arr.spectral_efficiency, "1", "detector QE averaged over the emission spectrum",
                                "Gaussian spectrum (card peak, FWHM) x step QE at the cutoff"),
        "synaptic_events": (float(sim.synaptic_events), "1", "spike deliveries through synapses", "counted"),
        "wall_time": (sim.wall_time, "s", "time in the simulation loop", "perf_counter"),
        "events_per_second": (sim.synaptic_events / max(sim.wall_time, 1e-12), "1/s", "synaptic events per wall second",
                              "synaptic_events / wall_time"),
    }
    if spec.digits_test_samples:
        figures.update(_digits(spec, neuron, arr.spectral_efficiency, arr.photons_per_spike))
    result = make_result(spec, sim, arr.positions, arr.driven, figures, neuron.name)
    files = {"result": result.save(out / "array.nc")}
    files["raster"] = plot.raster(result, out / "raster.png")
    files["rates"] = plot.rate_histogram(result, out / "rate_histogram.png")
    files["photon_map"] = plot.photon_map(result, out / "photon_map.png")
    return files


def with_membrane(neuron, membrane: str):
    """``neuron`` with its series resistor chosen by ``ArraySpec.membrane`` ('card' keeps the card's)."""
    import dataclasses

    if membrane == "relaxation":
        return dataclasses.replace(neuron, series_resistance=neuron.relaxation_time / neuron.capacitance)
    return neuron


def _digits(spec: ArraySpec, neuron, spectral_efficiency: float, photons_per_spike: float) -> dict:
    """Accuracy of the photonic digit classifier at the spec's pitch and detector (crosstalk-aware weights)."""
    from devicephys.array import classify as cl

    pps = spec.digits_photons_per_spike or photons_per_spike
    hw = cl.Hardware(pitch=spec.pitch, layer_spacing=spec.layer_spacing, absorption=spec.detector_absorption,
                     efficiency=spectral_efficiency, photons_per_spike=pps)
    x_tr, x_te, y_tr, y_te = cl.load_digits(seed=spec.seed)
    x_te, y_te = x_te[:spec.digits_test_samples], y_te[:spec.digits_test_samples]
    f_tr = cl.expected_counts(x_tr, neuron, hw)
    k_mat = cl.cell_coupling(8, hw, pps)
    w, b, scale = cl.train(cl.crosstalk_features(f_tr, k_mat), y_tr, spec.seed)
    got = cl.evaluate(x_te, y_te, w, b, scale, neuron, hw, seed=spec.seed, k_mat=k_mat)
    w0, b0, s0 = cl.train(f_tr, y_tr, spec.seed)
    ideal = cl.ideal_accuracy(cl.expected_counts(x_te, neuron, hw), y_te, w0, b0, s0)
    how = f"{len(y_te)} scikit-learn test digits, photonic network simulated (classify.evaluate)"
    return {
        "digits_accuracy": (got["accuracy"], "1", "digit accuracy with photon noise and crosstalk", how),
        "digits_accuracy_ideal": (ideal, "1", "digit accuracy without device non-idealities", "expected counts"),
        "digits_crosstalk_ratio": (got["crosstalk_ratio"], "1", "detector-cell crosstalk / intended light",
                                   "classify.cell_coupling"),
        "digits_photons_per_spike": (pps, "1", "photons per spike used for the digits task", "spec or card"),
    }
