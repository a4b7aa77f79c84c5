"""Stage 4: array-level spiking simulator of photonically linked blinking neurons.

Modules
-------
spec
    :class:`ArraySpec`, the stage's input.
solve
    :func:`simulate_array`, the stage's one typed in-memory entry point.
card, illustrative
    The array neuron from a DeviceCard (read and validated by the compact
    stage's card module); the built-in illustrative card file.
receiver, budget
    The photodetecting synapse (photodiode or photoconductor) and the link
    budget photons -> photoelectrons -> charge -> voltage kick.
network
    Populations (LIF current/conductance-based, threshold-switch LIF, blinking
    neuron) and sparse synaptic projections (CSR, delays, optical links).
inputs, monitors
    Poisson and spike-generator input populations; state monitors of any
    variable and population rates (Brian2's conventions).
plasticity
    Pair-based STDP on any projection (optical included).
optics
    Optical coupling from geometry: far-field pattern, distance, detector.
kernels, simulate
    The compiled (numba) clock-driven step loop with event-driven delivery,
    memory estimate and refusal, reproducible seeds.
build, stage, result, plot
    The photonic array of an ArraySpec, the stage runner (solve, save, plot), ArrayResult, plots.
reference
    Reference networks (Vogels–Abbott COBA, a small deterministic network)
    used against Brian2 and in the benchmarks.
classify, mnist
    Offline-trained digit classification on a photonic network; IDX loader.
stack
    The stacked (3-D) photonic network: input, hidden and readout planes with
    photonic links between them (geometry, crosstalk, Poisson photons), trained
    with the hardware in the loop.
"""

from devicephys.array.result import ArrayResult
from devicephys.array.solve import simulate_array
from devicephys.array.spec import ArraySpec

__all__ = ["ArrayResult", "ArraySpec", "simulate_array"]
