"""Stage 4: array-level spiking simulator of photonically linked blinking neurons.

Modules
-------
spec
    :class:`ArraySpec`, the stage's input.
card
    Reads a DeviceCard (JSON) into neuron parameters; the built-in default card.
network
    Populations (LIF current/conductance-based, threshold-switch LIF, blinking
    neuron) and sparse synapses (CSR, delays, optical links).
optics
    Optical coupling from geometry: far-field pattern, distance, detector.
simulate
    The clock-driven, event-delivering simulator (numba kernel).
classify, mnist
    Offline-trained digit classification on a photonic network; IDX loader.
stage, plot
    The stage runner and its plots.
"""
