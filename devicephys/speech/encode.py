"""Spike code of the front-end image: a RATE code on blinking input neurons.

Each cell (band b, segment t) of the clip's image drives one blinking input
neuron; the cell value x in [0, 1] sets the neuron's drive voltage through the
array stage's converter (:meth:`devicephys.array.classify.Hardware.drive`),
and the neuron blinks at the rate the set-time law gives for that drive over
one presentation.  The time axis of the word is laid out across the input
neurons: the front end's ``n_frames`` segments act as a tapped delay line
(tap t holds the spectrum of the t-th segment of the word), so the whole
spectro-temporal pattern reaches the stack's plane 1 in one presentation
(the delay structure the task needs in time; see :mod:`devicephys.speech.classify`).

Why a rate code and not a latency code:

* every stage of the stacked network sums photoelectrons on a charge
  integrator over the presentation (a hidden neuron's capacitor, a class
  integrator); what it can use is the *number* of spikes, not their timing;
* every spike delivers a Poisson number of photoelectrons with a small mean
  (below one per spike at the card's photon yield), so a value carried by
  one spike's arrival time (latency code) would be lost in that noise, while
  n spikes give a count whose relative noise falls as 1/sqrt(n);
* the blinking neuron's rate is a monotone function of its drive (zero below
  the firing voltage), which makes silence (x = 0) give no spikes at all.
"""

from __future__ import annotations

import numpy as np

from devicephys.array import classify as cl
from devicephys.array import network as nw
from devicephys.array.card import DeviceNeuron
from devicephys.array.simulate import simulate


def spike_counts(images: np.ndarray, neuron: DeviceNeuron, hw: cl.Hardware | None = None) -> np.ndarray:
    """Spike counts of the input neurons in one presentation, same shape as ``images`` (values in [0, 1])."""
    return cl.expected_counts(np.asarray(images, float), neuron, hw or cl.Hardware())


def spike_trains(image: np.ndarray, neuron: DeviceNeuron, hw: cl.Hardware | None = None, *,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(spike times [s], input-neuron index) of one clip's image, from the array simulator."""
    hw = hw or cl.Hardware()
    x = np.asarray(image, float).ravel()
    net = nw.Network()
    net.add(nw.blinking("input", x.size, neuron, hw.drive(neuron, x)))
    t, dt = hw.timing(neuron)
    r = simulate(net, t, dt, seed=seed, progress=False)
    return np.asarray(r.spike_times), np.asarray(r.spike_index)
