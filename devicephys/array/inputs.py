"""Spike sources: Poisson trains and given spike times (Brian2's PoissonGroup and SpikeGeneratorGroup).

Both are :class:`~devicephys.array.network.Population` objects, so they are
added to a :class:`~devicephys.array.network.Network` and projected from
(whole or sliced) like neurons; they have no state of their own.

``poisson``
    Neuron i spikes in a step when a uniform number u < dt * rate_i (Brian2's
    ``rand() < dt*rates``).  u is a counter-based hash of (seed, step, i), so a
    run continued from its final state draws the same numbers as one long run.
``spikegen``
    Neuron ``indices[k]`` spikes at step ``int((times[k] + 1e-3 dt) / dt)``,
    Brian2's snapping of SpikeGeneratorGroup times to the step grid.  A run
    refuses spikes outside its own steps and a neuron spiking twice in one step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from devicephys.array.network import Population
from devicephys.errors import SpecError

#: Parameters a spike source carries to satisfy :class:`Population` (not used by the kernels).
_SOURCE_PARAMS = {"tau_m": 1.0, "t_ref": 0.0, "v_reset": 0.0}


@dataclass
class PoissonGroup(Population):
    """Independent Poisson spike trains, one per neuron.

    Attributes
    ----------
    rates : ndarray, shape (size,)
        Mean firing rate of each source [Hz] (>= 0; rate x dt <= 1 in a run).
    """

    rates: np.ndarray | float = 0.0

    def __post_init__(self):
        super().__post_init__()
        arr = np.asarray(self.rates, dtype=float)
        if arr.ndim not in (0, 1) or (arr.ndim == 1 and arr.size != self.size):
            raise SpecError(f"PoissonGroup '{self.name}'.rates has shape {arr.shape}; give a scalar or ({self.size},) [Hz]")
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise SpecError(f"PoissonGroup '{self.name}'.rates must be finite and >= 0 Hz")
        self.rates = np.broadcast_to(arr, (self.size,)).astype(float)

    def probabilities(self, dt: float) -> np.ndarray:
        """Spike probability per step of ``dt`` [s]: ``dt * rates`` [1] (refused above 1)."""
        p = dt * self.rates
        if p.size and p.max() > 1.0:
            raise SpecError(f"PoissonGroup '{self.name}': rate {self.rates.max():g} Hz x dt {dt:g} s = {p.max():g} > 1 "
                            f"spike per step; lower the rate or dt")
        return p


@dataclass
class SpikeGeneratorGroup(Population):
    """Neurons that spike at given times.

    Attributes
    ----------
    indices : ndarray of int
        Local neuron index of each spike.
    times : ndarray
        Time of each spike [s] from the start of the first run (t = 0).
    """

    indices: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    times: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self):
        super().__post_init__()
        self.set_spikes(self.indices, self.times)

    def set_spikes(self, indices, times) -> None:
        """Replace the spikes (e.g. for a continued run); ``times`` [s] finite and >= 0."""
        idx = np.asarray(indices)
        t = np.asarray(times, dtype=float)
        if idx.ndim != 1 or t.shape != idx.shape:
            raise SpecError(f"SpikeGeneratorGroup '{self.name}': indices {idx.shape} and times {t.shape} must be "
                            f"1-D and of equal length")
        if idx.size and (not np.issubdtype(idx.dtype, np.integer) or idx.min() < 0 or idx.max() >= self.size):
            raise SpecError(f"SpikeGeneratorGroup '{self.name}'.indices must be integers in [0, {self.size})")
        bad = ~np.isfinite(t) | (t < 0)
        if np.any(bad):
            raise SpecError(f"SpikeGeneratorGroup '{self.name}'.times[{int(np.argmax(bad))}] = "
                            f"{float(t[np.argmax(bad)])!r} s; spike times must be finite and >= 0 s")
        self.indices, self.times = idx.astype(np.int64), t

    def steps(self, dt: float) -> np.ndarray:
        """Step of each spike: ``int((t + 1e-3 dt) / dt)`` (Brian2's snapping to the step grid)."""
        return np.asarray((self.times + 1e-3 * dt) / dt, dtype=np.int64)

    def schedule(self, dt: float, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """``(steps, local indices)`` sorted by step then index, for a run over steps ``[start, stop)``.

        Raises
        ------
        SpecError
            A spike outside the run's steps, or a neuron spiking twice in one step.
        """
        steps = self.steps(dt)
        off = (steps < start) | (steps >= stop)
        if np.any(off):
            k = int(np.argmax(off))
            raise SpecError(f"SpikeGeneratorGroup '{self.name}'.times[{k}] = {float(self.times[k])!r} s (step {steps[k]}) is "
                            f"outside this run's steps [{start}, {stop}) of dt = {dt!r} s; give times inside the run "
                            f"(set_spikes before continuing a run)")
        order = np.lexsort((self.indices, steps))
        steps, idx = steps[order], self.indices[order]
        dup = (np.diff(steps) == 0) & (np.diff(idx) == 0)
        if np.any(dup):
            k = int(np.argmax(dup))
            raise SpecError(f"SpikeGeneratorGroup '{self.name}': neuron {idx[k]} spikes twice in step {steps[k]} "
                            f"(dt = {dt!r} s); remove the duplicate or lower dt")
        return steps, idx


def poisson_input(name: str, size: int, rates) -> PoissonGroup:
    """``size`` Poisson spike sources with ``rates`` [Hz] (scalar or one per source)."""
    return PoissonGroup(name, size, "poisson", dict(_SOURCE_PARAMS), 0.0, 0.0, rates=rates)


def spike_generator(name: str, size: int, indices, times) -> SpikeGeneratorGroup:
    """``size`` sources; source ``indices[k]`` spikes at ``times[k]`` [s] (snapped to the step grid)."""
    return SpikeGeneratorGroup(name, size, "spikegen", dict(_SOURCE_PARAMS), 0.0, 0.0, indices=indices, times=times)
