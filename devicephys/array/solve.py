"""The array stage's one in-memory entry point: :func:`simulate_array`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from devicephys.array.card import load_card, neuron_from_card
from devicephys.array.result import ArrayResult, make_result
from devicephys.array.spec import ArraySpec
from devicephys.compact.card import DeviceCard
from devicephys.units import e


def _card(card: DeviceCard | str | Path | None) -> tuple[DeviceCard, str]:
    if isinstance(card, DeviceCard):
        return card, f"DeviceCard '{card.name}'"
    path = None if card is None else Path(card)
    return load_card(path), str(path) if path else "built-in illustrative card"


def simulate_array(spec: ArraySpec, card: DeviceCard | str | Path | None = None, *,
                   progress: bool = False) -> ArrayResult:
    """Simulate the photonic array of ``spec`` with the neurons of ``card``.

    Parameters
    ----------
    spec
        The array, its optics and its receiver.
    card
        A :class:`~devicephys.compact.card.DeviceCard`, the path of a
        ``device_card.json``, or None for the built-in illustrative card
        (announced on stderr).
    progress
        Show a progress bar.

    Returns
    -------
    ArrayResult
        Spikes, rates, photon counts, traces and the figures: firing, optics,
        receiver and the nearest-neighbour link budget (in-plane and, with
        stacked layers, vertical).
    """
    from devicephys.array.build import build_array, pattern_of
    from devicephys.array.budget import budget_of, margin_versus_pitch, spread_note
    from devicephys.array.receiver import emitted_spectrum
    from devicephys.array.simulate import simulate

    card_obj, where = _card(card)
    neuron = neuron_from_card(card_obj, where=where)
    arr = build_array(spec, neuron)
    n = arr.network.n_neurons
    traced = np.linspace(0, n - 1, min(spec.n_traces, n)).astype(np.int64) if spec.n_traces else None
    duration, dt = spec.timing(arr.neuron.time_scale_for(spec.neuron_model))
    sim = simulate(arr.network, duration, dt, seed=spec.seed, record=traced, progress=progress,
                   memory_limit=None if spec.memory_limit is None else int(spec.memory_limit))
    pattern = pattern_of(spec)
    budgets = {"link": budget_of(spec, neuron, arr.receiver, arr.photons_per_spike, pattern)}
    if spec.layers > 1:
        budgets["vertical_link"] = budget_of(spec, neuron, arr.receiver, arr.photons_per_spike, pattern,
                                             vertical=True)
    figures = {**_run_figures(sim, arr), **_budget_figures(budgets)}
    result = make_result(spec, sim, arr.positions, arr.driven, figures, neuron.name)
    pitches = spec.pitch * np.geomspace(0.5, 8.0, 25)
    margin = margin_versus_pitch(spec, neuron, arr.receiver, arr.photons_per_spike, pattern, pitches)
    result.data = result.data.assign_coords(budget_pitch=("budget_pitch", pitches, {"units": "m"}))
    result.data["link_margin_vs_pitch"] = ("budget_pitch", margin, {
        "units": "dB", "long_name": "nearest-neighbour link margin 10 log10(Q / Q_fire) versus pitch"})
    lam, dens = emitted_spectrum(neuron)
    result.data = result.data.assign_coords(spectrum_wavelength=("spectrum_wavelength", np.asarray(lam, float),
                                                                 {"units": "m", "long_name": "vacuum wavelength"}))
    result.data["emitted_spectrum"] = ("spectrum_wavelength", np.asarray(dens, float) / np.trapezoid(dens, lam), {
        "units": "1/m", "long_name": "emitted photons per unit wavelength, normalised to one photon",
        "source": "the card's spectrum (its reference spike's)" if neuron.spectrum is not None else
                  "Gaussian of the card's peak_wavelength and spectral_width, cut at h c/(e threshold_voltage)"})
    result.data["detector_quantum_efficiency"] = ("spectrum_wavelength", arr.receiver.quantum_efficiency(lam), {
        "units": "1", "long_name": f"photoelectrons per incident photon of the {arr.receiver.describe()}"})
    result.data.attrs["card_origin"] = neuron.origin
    note, margins = spread_note(budgets["link"], neuron, arr.photons_per_spike)
    result.data.attrs["link_verdict"] = budgets["link"].verdict() + note
    if margins is not None:
        result.data.attrs["link_margin_over_on_spread_db"] = margins
    return result


def _run_figures(sim, arr) -> dict:
    rec = arr.receiver
    return {
        "mean_rate": (float(sim.rates().mean()), "Hz", "mean firing rate", "spikes / (neurons x duration)"),
        "photons_per_spike": (arr.photons_per_spike, "1", "mean photons emitted per spike",
                              "the card's photons_per_spike, or the spec override"),
        "mean_photons_intended": (arr.mean_photons_intended, "1", "mean photoelectrons per spike on an intended link",
                                  "optics.mean_photoelectrons"),
        "crosstalk_ratio": (arr.crosstalk["ratio"], "1", "unintended / intended photoelectrons",
                            "sum over detectors of crosstalk mu / sum of nearest-neighbour mu"),
        "crosstalk_db": (arr.crosstalk["ratio_db"], "dB", "crosstalk ratio in dB", "10 log10(crosstalk_ratio)"),
        "spectral_efficiency": (arr.spectral_efficiency, "1", "detector photoelectrons per incident photon over the "
                                "emission spectrum", "receiver.efficiency_for: over the card's spike spectrum (or its Gaussian cut "
                                "at h c/(e V_th))"),
        "receiver_gain": (rec.gain, "1", f"gain of the {rec.describe()}", "1 (photodiode) or tau_c/tau_tr"),
        "receiver_capacitance": (rec.capacitance, "F", "detector capacitance on the neuron node", "receiver"),
        "receiver_dark_current": (rec.dark_current, "A", "detector dark current", "receiver"),
        "kick_per_photoelectron": (rec.gain * e / arr.neuron.capacitance, "V",
                                   "node voltage step per photoelectron", "G e / (C + C_d)"),
        "synaptic_events": (float(sim.synaptic_events), "1", "spike deliveries through synapses", "counted"),
        "wall_time": (sim.wall_time, "s", "time in the simulation loop", "perf_counter"),
        "events_per_second": (sim.synaptic_events / max(sim.wall_time, 1e-12), "1/s", "synaptic events per wall second",
                              "synaptic_events / wall_time"),
    }


_BUDGET_UNITS = {"distance": "m", "photons_per_spike": "1", "incident_photons": "1", "spectral_efficiency": "1",
                 "photoelectrons": "1", "gain": "1", "charge": "C", "node_capacitance": "F", "voltage_kick": "V",
                 "fire_charge": "C", "margin_db": "dB", "spikes_to_fire": "1", "photons_needed": "1",
                 "gain_needed": "1", "dark_current": "A", "dark_electrons": "1"}


def _budget_figures(budgets: dict) -> dict:
    out = {}
    for prefix, b in budgets.items():
        for key, value in b.as_dict().items():
            out[f"{prefix}_{key}"] = (value, _BUDGET_UNITS[key], f"{prefix.replace('_', ' ')} budget: {key}",
                                      "devicephys.array.budget.link_budget")
    return out
