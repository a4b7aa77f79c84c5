"""Pair-based spike-timing-dependent plasticity (STDP) with all-to-all trace interaction.

Per neuron, a presynaptic trace A_pre (decay tau_pre, +d_pre at each spike of
the neuron as presynaptic partner) and a postsynaptic trace A_post (decay
tau_post, +d_post at each spike as postsynaptic partner).  On a presynaptic
spike a plastic synapse first transmits its current weight, then
w <- clip(w + A_post[j], 0, w_max); on a postsynaptic spike
w <- clip(w + A_pre[i], 0, w_max).  Within a step all presynaptic updates
come before all postsynaptic ones (Brian2's order of the two pathways), so the
rule equals Brian2's classic STDP synapse with event-driven traces.  Plastic
synapses must have no delay.  On optical synapses w is the programmable gain
of the photodetecting synapse (V per photoelectron).  The compiled updates
are ``kernels.decay_traces`` and ``kernels.apply_stdp``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from devicephys.errors import SpecError


@dataclass(frozen=True)
class STDP:
    """STDP rule: time constants [s], trace increments and bound in weight units."""

    tau_pre: float = 20e-3
    tau_post: float = 20e-3
    d_pre: float = 0.01
    d_post: float = -0.0105
    w_max: float = 1.0

    def __post_init__(self):
        for name in ("tau_pre", "tau_post", "w_max"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise SpecError(f"STDP.{name} must be a finite number > 0, got {value!r}")
        for name in ("d_pre", "d_post"):
            if not math.isfinite(getattr(self, name)):
                raise SpecError(f"STDP.{name} must be finite, got {getattr(self, name)!r}")

    def table(self, dt: float) -> np.ndarray:
        """[d_pre, d_post, decay_pre, decay_post, w_max] for the kernel."""
        return np.array([self.d_pre, self.d_post, math.exp(-dt / self.tau_pre), math.exp(-dt / self.tau_post),
                         self.w_max])


def incoming(indices: np.ndarray, plastic: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSC view of the plastic synapses: ``(in_ptr, in_syn)`` listing each neuron's incoming synapse ids."""
    syn = np.nonzero(plastic)[0]
    post = indices[syn]
    order = np.argsort(post, kind="stable")
    in_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(post, minlength=n), out=in_ptr[1:])
    return in_ptr, syn[order].astype(np.int64)
