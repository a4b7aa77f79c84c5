"""Stage 4: array-level spiking simulator of photonically linked blinking neurons.

Modules
-------
spec
    :class:`ArraySpec`, the stage's input.
card
    Reads a DeviceCard (JSON) into neuron parameters; the built-in illustrative card.
network
    Populations (LIF current/conductance-based, threshold-switch LIF, blinking
    neuron) and sparse synaptic projections (CSR, delays, optical links).
plasticity
    Pair-based STDP on any projection (optical included).
optics
    Optical coupling from geometry: far-field pattern, distance, detector.
kernels, simulate
    The compiled (numba) clock-driven step loop with event-driven delivery,
    memory estimate and refusal, reproducible seeds.
build, stage, result, plot
    The photonic array of an ArraySpec, the stage runner, ArrayResult, plots.
reference
    Reference networks (Vogels–Abbott COBA, a small deterministic network)
    used against Brian2 and in the benchmarks.
classify, mnist
    Offline-trained digit classification on a photonic network; IDX loader.
"""
