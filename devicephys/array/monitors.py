"""What a run records besides spikes, and the state a run ends in (to continue it).

:class:`StateMonitor`
    Any state variable of chosen neurons, recorded as Brian2's StateMonitor
    does: at the start of every ``every``-th step s (before the state update),
    labelled t = s dt.
:func:`population_rate`
    Spikes of a population (or a slice of it) per step / (N dt) [Hz], as
    Brian2's PopulationRateMonitor, computed from the spike record.
:class:`FinalState`
    Everything the step loop carries from one step to the next; ``simulate(...,
    initial=result.final_state)`` continues a run exactly where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from devicephys.errors import SpecError

#: Recordable state variables and their row in the kernel's state (``x`` is stored apart, row 3).
VARIABLES = {"g_e": 0, "g_i": 1, "v": 2, "x": 3}
#: Unit of each variable (g is in V for current-based models, 1 for conductance-based ones).
UNITS = {"g_e": "V or 1", "g_i": "V or 1", "v": "V", "x": "1"}


@dataclass
class StateMonitor:
    """Record ``variables`` of the neurons ``indices`` every ``every`` steps.

    Parameters
    ----------
    indices : array of int
        Global neuron indices (population order of the network).
    variables : tuple of str
        Names from :data:`VARIABLES`: ``"v"`` [V], ``"g_e"``, ``"g_i"`` [V for
        ``lif_cuba``/device neurons, 1 (relative to the leak) for ``lif_coba``], ``"x"`` [1].
    every : int
        Record at the steps s with s % every == 0 (s counted from the first run).
    """

    indices: np.ndarray
    variables: tuple = ("v",)
    every: int = 1

    def __post_init__(self):
        self.indices = np.asarray(self.indices, dtype=np.int64).ravel()
        self.variables = tuple(self.variables)
        for name in self.variables:
            if name not in VARIABLES:
                raise SpecError(f"StateMonitor.variables: unknown variable {name!r}; choose from {list(VARIABLES)}")
        if not self.variables or len(set(self.variables)) != len(self.variables):
            raise SpecError(f"StateMonitor.variables = {self.variables!r}; give distinct names from {list(VARIABLES)}")
        if not isinstance(self.every, (int, np.integer)) or self.every < 1:
            raise SpecError(f"StateMonitor.every = {self.every!r}; give an integer >= 1 (steps)")

    def codes(self) -> np.ndarray:
        """Kernel rows of the variables, int64."""
        return np.array([VARIABLES[v] for v in self.variables], dtype=np.int64)


@dataclass
class FinalState:
    """The state at the end of a run (SI units), to continue it with ``simulate(..., initial=...)``.

    Attributes
    ----------
    step : int
        Steps done since the first run (the continued run starts at this step).
    dt : float
        Time step [s]; a continuation must use the same.
    state : ndarray (3, N)
        g_e, g_i [V or 1] and v [V] of every neuron.
    x : ndarray (N,)
        Filament state of the blinking neurons [1].
    lastspike : ndarray (N,) of int64
        Step of each neuron's last spike.
    buf : ndarray
        Delay ring buffer (inputs in flight, per slot, channel and neuron).
    weights : ndarray or None
        Synaptic weights when some synapses are plastic (they changed during the run).
    a_pre, a_post : ndarray
        STDP traces.
    age : ndarray (N,) or None
        Age of the oldest stretch of the two-state blinking neurons' filaments, in self-rupture times [1]
        (None: zero).
    n_synapses : int
        Synapses of the network that produced it (checked on continuing).
    """

    step: int
    dt: float
    state: np.ndarray
    x: np.ndarray
    lastspike: np.ndarray
    buf: np.ndarray
    n_synapses: int
    weights: np.ndarray | None = None
    a_pre: np.ndarray = field(default_factory=lambda: np.zeros(0))
    a_post: np.ndarray = field(default_factory=lambda: np.zeros(0))
    age: np.ndarray | None = None

    @property
    def time(self) -> float:
        """Time at the end of the run [s]."""
        return self.step * self.dt

    def check_dt(self, dt: float) -> None:
        """Refuse a continuation with another time step [s]."""
        if dt != self.dt:
            raise SpecError(f"simulate: initial state was made with dt = {self.dt!r} s, not {dt!r} s; continue with "
                            f"the same dt")

    def check(self, n_neurons: int, n_synapses: int, dt: float, buf_shape: tuple) -> None:
        """Refuse a continuation on another network or time step (one line naming the mismatch)."""
        self.check_dt(dt)
        if self.state.shape[1] != n_neurons or self.n_synapses != n_synapses or self.buf.shape != buf_shape:
            raise SpecError(f"simulate: initial state is of a network with {self.state.shape[1]} neurons and "
                            f"{self.n_synapses} synapses (delay buffer {self.buf.shape}), not {n_neurons}, "
                            f"{n_synapses} ({buf_shape}); continue the same network")


def population_rate(spike_steps: np.ndarray, spike_index: np.ndarray, start: int, stop: int, step0: int,
                    nsteps: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """``(t [s], rate [Hz])``: spikes of neurons [start, stop) in each step / ((stop - start) dt).

    ``spike_steps`` are absolute steps, the run covers steps [step0, step0 + nsteps).
    """
    sel = (spike_index >= start) & (spike_index < stop)
    count = np.bincount(spike_steps[sel] - step0, minlength=nsteps)
    return (step0 + np.arange(nsteps)) * dt, count / ((stop - start) * dt)
