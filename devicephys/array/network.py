"""Populations of neurons and sparse synaptic projections between them.

Neuron models (the state update is in :mod:`devicephys.array.kernels`):

``lif_cuba``
    dv/dt = (v_rest - v + g_e + g_i) / tau_m, dg_e/dt = -g_e/tau_e, dg_i/dt = -g_i/tau_i
    (g in volts), integrated exactly.  The memristive threshold-switch neuron
    (R_s into C, a switch across C) is this model with v_rest = drive voltage,
    tau_m = R_s C, threshold V_th, reset V_h and refractory = discharge time.
``lif_coba``
    dv/dt = (v_rest - v + g_e (E_e - v) + g_i (E_i - v)) / tau_m, g relative to the leak
    (dimensionless), exponential-Euler for v and exact decay for g; with
    ``method="euler"`` forward Euler for v and for g (``lif_cuba`` likewise), in
    Brian2's operation order for its ``method='euler'``.
``poisson``, ``spikegen``
    Spike sources (:mod:`devicephys.array.inputs`): independent Poisson trains
    and given spike times.

The refractory period is counted in whole steps as Brian2 does: a neuron that
spiked at step s0 is refractory at step s while s - s0 < int((t_ref + 1e-3 dt) / dt).
A :class:`Subgroup` (``population[a:b]``) is a contiguous slice of a
population; a :class:`Projection` may start and end on subgroups.
``blinking``
    The filament-integrating neuron: v charges as in ``lif_cuba``; the filament
    growth x in [0, 1] obeys dx/dt = 4 sinh^2(v/(2 V_0))/tau_0 - x/tau_r, the
    compact model's growth law at the ambient temperature (its set time tends
    to tau_0 exp(-V/V_0) for V >> V_0; self-rupture time tau_r); it fires (blinks)
    when x reaches 1, then x = 0 and v = V_h.  With ``t_rupture`` > 0 (a card of two
    slow states, ``rupture: dissolution``): dx/dt = 2 sinh(|v|/V_0)/tau_0 (growth
    alone) while the filament's oldest stretch ages, da/dt = 1/t_rupture from
    the start of growth; at a = 1 the filament breaks (x = a = 0, no blink).

Synapses are CSR matrices (row = presynaptic neuron) with per-synapse weights,
delays [s] and a target channel: ``"e"`` (g_e), ``"i"`` (g_i) or ``"v"``
(a direct jump of v: a charge packet q gives q/C).  Optical projections also
carry ``mean_photons``: the expected detected photoelectrons per presynaptic
spike; the simulator draws Poisson counts and multiplies by the weight [V per
photoelectron].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from devicephys.array.card import DeviceNeuron
from devicephys.array.plasticity import STDP
from devicephys.errors import SpecError

MODELS = ("lif_cuba", "lif_coba", "blinking", "poisson", "spikegen")
CHANNELS = ("e", "i", "v")
#: Column order of the per-population parameter table handed to the kernel.
PARAMS = ("tau_m", "v_th", "v_reset", "t_ref", "tau_e", "tau_i", "E_e", "E_i", "method", "tau0", "V0", "tau_r",
          "t_rupture")
_DEFAULTS = {"tau_e": 5e-3, "tau_i": 10e-3, "E_e": 0.0, "E_i": -0.08, "method": 0.0,
             "tau0": 1.0, "V0": 1.0, "tau_r": 1.0, "v_th": math.inf, "t_rupture": 0.0}
#: Integrators of the LIF models (``method``).
METHODS = {"exponential_euler": 0.0, "euler": 1.0}


@dataclass
class Population:
    """A group of neurons sharing one model and its parameters.

    Parameters
    ----------
    name : str
        Unique name.
    size : int
        Number of neurons.
    model : str
        One of :data:`MODELS`.
    params : dict
        Keys of :data:`PARAMS` (SI: s, V; ``method`` by name for ``lif_coba``).
    v_rest : float or ndarray
        Resting / drive potential per neuron [V].
    v_init : float or ndarray
        Initial membrane potential [V]; ``g_e_init``, ``g_i_init`` likewise.
    photons_per_spike : float
        Mean photons emitted per spike [1] (0 for electrical neurons).
    """

    name: str
    size: int
    model: str
    params: dict
    v_rest: float | np.ndarray
    v_init: float | np.ndarray
    g_e_init: float | np.ndarray = 0.0
    g_i_init: float | np.ndarray = 0.0
    photons_per_spike: float = 0.0

    def __post_init__(self):
        if self.model not in MODELS:
            raise SpecError(f"Population '{self.name}'.model = {self.model!r}; choose one of {MODELS}")
        if not isinstance(self.size, (int, np.integer)) or self.size < 1:
            raise SpecError(f"Population '{self.name}'.size must be an integer >= 1, got {self.size!r}")
        for key in ("tau_m", "t_ref"):
            if key not in self.params:
                raise SpecError(f"Population '{self.name}': parameter '{key}' is required")
        for key, value in self.params.items():
            if key not in PARAMS:
                raise SpecError(f"Population '{self.name}': unknown parameter '{key}'; use one of {PARAMS}")
            if key != "method" and not (isinstance(value, (int, float)) and (math.isfinite(value) or key == "v_th")):
                raise SpecError(f"Population '{self.name}'.{key} = {value!r} must be a finite number")
        for key in ("tau_m", "tau_e", "tau_i", "tau0", "V0", "tau_r"):
            if key in self.params and self.params[key] <= 0:
                raise SpecError(f"Population '{self.name}'.{key} must be > 0, got {self.params[key]!r}")
        if self.params.get("t_rupture", 0.0) < 0:
            raise SpecError(f"Population '{self.name}'.t_rupture must be >= 0 s (0: one slow state), got "
                            f"{self.params['t_rupture']!r}")
        if self.params["t_ref"] < 0:
            raise SpecError(f"Population '{self.name}'.t_ref must be >= 0 s, got {self.params['t_ref']!r}")
        for key in ("v_rest", "v_init", "g_e_init", "g_i_init"):
            arr = np.asarray(getattr(self, key), dtype=float)
            if arr.ndim not in (0, 1) or (arr.ndim == 1 and arr.size != self.size):
                raise SpecError(f"Population '{self.name}'.{key} has shape {arr.shape}; give a scalar or ({self.size},)")
            if not np.all(np.isfinite(arr)):
                raise SpecError(f"Population '{self.name}'.{key} contains non-finite values")

    def param_row(self, dt: float) -> np.ndarray:
        """Parameters as one float64 row in :data:`PARAMS` order (t_ref in steps)."""
        values = {**_DEFAULTS, **self.params}
        if isinstance(values["method"], str):
            if values["method"] not in METHODS:
                raise SpecError(f"Population '{self.name}'.method = {values['method']!r}; choose one of {list(METHODS)}")
            values["method"] = METHODS[values["method"]]
        values["t_ref"] = float(refractory_steps(values["t_ref"], dt))
        return np.array([float(values[k]) for k in PARAMS])

    def __getitem__(self, item: slice) -> "Subgroup":
        """The neurons ``item`` (a slice with step 1) as a :class:`Subgroup`."""
        if not isinstance(item, slice) or item.step not in (None, 1):
            raise SpecError(f"Population '{self.name}'[{item!r}]: give a contiguous slice such as [10:20]")
        start, stop, _ = item.indices(self.size)
        if stop <= start:
            raise SpecError(f"Population '{self.name}'[{start}:{stop}] is empty; give start < stop <= {self.size}")
        return Subgroup(self.name, start, stop)


def refractory_steps(t_ref: float, dt: float) -> int:
    """Refractory period ``t_ref`` [s] in whole steps of ``dt`` [s], as Brian2's ``timestep(t_ref, dt)``.

    ``int((t_ref + 1e-3 dt) / dt)``: the period is truncated to whole steps (a
    multiple of dt within 1e-3 dt counts as that multiple).
    """
    return int((t_ref + 1e-3 * dt) / dt)


@dataclass(frozen=True)
class Subgroup:
    """Neurons ``[start, stop)`` (local indices) of population ``name``."""

    name: str
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


def lif_cuba(name: str, size: int, *, tau_m: float, v_rest, v_th: float, v_reset: float, t_ref: float,
             tau_e: float = 5e-3, tau_i: float = 10e-3, v_init=None, method: str = "exact") -> Population:
    """Current-based LIF with exponential synapses (all SI: s, V).

    ``method`` is ``"exact"`` (exact integration) or ``"euler"`` (forward Euler for v, g_e and g_i).
    """
    if method not in ("exact", "euler"):
        raise SpecError(f"Population '{name}'.method = {method!r}; choose 'exact' or 'euler'")
    params = dict(tau_m=tau_m, v_th=v_th, v_reset=v_reset, t_ref=t_ref, tau_e=tau_e, tau_i=tau_i)
    if method == "euler":
        params["method"] = method
    return Population(name, size, "lif_cuba", params, v_rest, v_reset if v_init is None else v_init)


def lif_coba(name: str, size: int, *, tau_m: float, v_rest, v_th: float, v_reset: float, t_ref: float,
             tau_e: float, tau_i: float, E_e: float, E_i: float, method: str = "exponential_euler",
             v_init=None, g_e_init=0.0, g_i_init=0.0) -> Population:
    """Conductance-based LIF with exponential synapses; g relative to the leak."""
    params = dict(tau_m=tau_m, v_th=v_th, v_reset=v_reset, t_ref=t_ref, tau_e=tau_e, tau_i=tau_i,
                  E_e=E_e, E_i=E_i, method=method)
    return Population(name, size, "lif_coba", params, v_rest, v_reset if v_init is None else v_init,
                      g_e_init, g_i_init)


def threshold_switch(name: str, size: int, neuron: DeviceNeuron, drive, *, photons_per_spike: float | None = None,
                     v_init=None) -> Population:
    """The memristive threshold-switch LIF neuron from a card, driven by ``drive`` [V]."""
    drive_max = float(np.max(drive))
    params = dict(tau_m=neuron.tau, v_th=neuron.threshold_voltage, v_reset=neuron.hold_voltage,
                  t_ref=neuron.discharge_time(drive_max), tau_e=neuron.tau, tau_i=neuron.tau)
    pps = neuron.photons_per_spike if photons_per_spike is None else photons_per_spike
    v0 = neuron.hold_voltage if v_init is None else v_init
    return Population(name, size, "lif_cuba", params, drive, v0, photons_per_spike=pps)


def blinking(name: str, size: int, neuron: DeviceNeuron, drive, *, photons_per_spike: float | None = None,
             v_init=None) -> Population:
    """The filament-integrating ("blinking") neuron from a card, driven by ``drive`` [V]."""
    drive_max = float(np.max(drive))
    params = dict(tau_m=neuron.tau, v_reset=neuron.hold_voltage, t_ref=neuron.discharge_time(drive_max),
                  tau0=neuron.set_time_tau0, V0=neuron.set_time_v0, tau_r=neuron.relaxation_time,
                  tau_e=neuron.tau, tau_i=neuron.tau)
    if neuron.dissolution:  # two slow states: the self-rupture time of the oldest stretch
        params["t_rupture"] = neuron.relaxation_time
    pps = neuron.photons_per_spike if photons_per_spike is None else photons_per_spike
    v0 = neuron.hold_voltage if v_init is None else v_init
    return Population(name, size, "blinking", params, drive, v0, photons_per_spike=pps)


@dataclass
class Projection:
    """Synapses from population ``pre`` to ``post`` as a CSR matrix.

    Parameters
    ----------
    pre, post : str or Subgroup
        Population names, or subgroups (``population[a:b]``) of them: the rows
        of the matrix are then the neurons of the presynaptic slice and
        ``indices`` count from the start of the postsynaptic slice.
    indptr : ndarray of int64, shape (n_pre + 1,)
    indices : ndarray of int32
        Index of the postsynaptic neuron of each synapse, local to ``post`` (or its slice).
    weights : ndarray of float32 or float
        Increment of the channel per event (V, or 1 for ``lif_coba`` g), or per
        photoelectron for optical projections.
    delay : float or ndarray
        Transmission delay [s] (>= 0).
    channel : str
        ``"e"``, ``"i"`` or ``"v"``.
    mean_photons : ndarray or None
        Expected detected photoelectrons per presynaptic spike (optical links).
    intended : ndarray of bool or None
        For optical links, False marks crosstalk to unintended neighbours.
    plastic : bool
        Weights follow the network's STDP rule (delay must be 0).
    pre_range, post_range : (int, int) or None
        Local ``[start, stop)`` of the pre/postsynaptic slice (set from a
        :class:`Subgroup`); None is the whole population.
    """

    pre: str | Subgroup
    post: str | Subgroup
    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray | float
    delay: float | np.ndarray = 0.0
    channel: str = "e"
    mean_photons: np.ndarray | None = None
    intended: np.ndarray | None = None
    plastic: bool = False
    pre_range: tuple[int, int] | None = None
    post_range: tuple[int, int] | None = None

    def __post_init__(self):
        if isinstance(self.pre, Subgroup):
            self.pre, self.pre_range = self.pre.name, (self.pre.start, self.pre.stop)
        if isinstance(self.post, Subgroup):
            self.post, self.post_range = self.post.name, (self.post.start, self.post.stop)
        self.indptr = np.ascontiguousarray(self.indptr, dtype=np.int64)
        self.indices = np.ascontiguousarray(self.indices, dtype=np.int32)
        n = self.indices.size
        if self.indptr.ndim != 1 or self.indptr[0] != 0 or self.indptr[-1] != n or np.any(np.diff(self.indptr) < 0):
            raise SpecError(f"Projection {self.pre}->{self.post}: indptr must start at 0, be non-decreasing and end "
                            f"at len(indices) = {n}")
        self.weights = _per_synapse(self.weights, n, np.float32, f"Projection {self.pre}->{self.post}.weights")
        self.delay = _per_synapse(self.delay, n, np.float64, f"Projection {self.pre}->{self.post}.delay")
        if np.any(self.delay < 0):
            raise SpecError(f"Projection {self.pre}->{self.post}.delay must be >= 0 s")
        if self.channel not in CHANNELS:
            raise SpecError(f"Projection {self.pre}->{self.post}.channel = {self.channel!r}; choose one of {CHANNELS}")
        if self.plastic and np.any(self.delay > 0):
            raise SpecError(f"Projection {self.pre}->{self.post}: plastic synapses must have delay 0 s")
        if self.mean_photons is not None:
            self.mean_photons = _per_synapse(self.mean_photons, n, np.float32, "mean_photons")
            if np.any(self.mean_photons < 0):
                raise SpecError(f"Projection {self.pre}->{self.post}.mean_photons must be >= 0")

    @property
    def n_pre(self) -> int:
        return self.indptr.size - 1

    @property
    def n_synapses(self) -> int:
        return self.indices.size

    def span(self, end: str, size: int) -> tuple[int, int]:
        """Local ``[start, stop)`` of the ``"pre"`` or ``"post"`` end in a population of ``size`` neurons."""
        rng = self.pre_range if end == "pre" else self.post_range
        return (0, size) if rng is None else rng


def _per_synapse(value, n: int, dtype, what: str) -> np.ndarray:
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        arr = np.full(n, arr, dtype=dtype)
    if arr.shape != (n,):
        raise SpecError(f"{what} has shape {arr.shape}; give a scalar or one value per synapse ({n},)")
    if not np.all(np.isfinite(arr)):
        raise SpecError(f"{what} contains non-finite values")
    return np.ascontiguousarray(arr)


def csr_from_pairs(pre: np.ndarray, post: np.ndarray, n_pre: int, *values: np.ndarray):
    """CSR ``(indptr, indices, *values)`` from synapse pairs (sorted by ``pre``, stable)."""
    pre = np.asarray(pre, dtype=np.int64)
    if pre.size and (pre.min() < 0 or pre.max() >= n_pre):
        raise SpecError(f"presynaptic index out of range [0, {n_pre})")
    order = np.argsort(pre, kind="stable")
    indptr = np.zeros(n_pre + 1, dtype=np.int64)
    np.cumsum(np.bincount(pre, minlength=n_pre), out=indptr[1:])
    return (indptr, np.asarray(post, dtype=np.int32)[order], *(np.asarray(v)[order] for v in values))


@dataclass
class Network:
    """Populations and projections; neurons are numbered population by population."""

    populations: list[Population] = field(default_factory=list)
    projections: list[Projection] = field(default_factory=list)
    #: STDP rule of the projections marked ``plastic`` (see :mod:`devicephys.array.plasticity`).
    stdp: STDP | None = None

    def add(self, item):
        """Add a :class:`Population` or a :class:`Projection` (checked against the populations)."""
        if isinstance(item, Population):
            if item.name in self.offsets():
                raise SpecError(f"population name '{item.name}' is used twice; give each a unique name")
            self.populations.append(item)
        elif isinstance(item, Projection):
            self._check_projection(item)
            self.projections.append(item)
        else:
            raise TypeError(f"cannot add {type(item).__name__} to a Network")
        return item

    def _check_projection(self, item: Projection) -> None:
        sizes = {p.name: p.size for p in self.populations}
        for end in (item.pre, item.post):
            if end not in sizes:
                raise SpecError(f"Projection {item.pre}->{item.post}: no population named '{end}'")
        (a, b), (c, d) = item.span("pre", sizes[item.pre]), item.span("post", sizes[item.post])
        for name, (lo, hi) in ((item.pre, (a, b)), (item.post, (c, d))):
            if not 0 <= lo < hi <= sizes[name]:
                raise SpecError(f"Projection {item.pre}->{item.post}: slice [{lo}:{hi}] is outside population "
                                f"'{name}' of {sizes[name]} neurons")
        if item.n_pre != b - a:
            raise SpecError(f"Projection {item.pre}->{item.post}: indptr has {item.n_pre} rows but "
                            f"'{item.pre}'[{a}:{b}] has {b - a} neurons")
        if item.n_synapses and (item.indices.min() < 0 or item.indices.max() >= d - c):
            raise SpecError(f"Projection {item.pre}->{item.post}: a target index is outside [0, {d - c})")

    def sizes(self) -> dict[str, int]:
        """Number of neurons of each population."""
        return {p.name: p.size for p in self.populations}

    def offsets(self) -> dict[str, int]:
        """Global index of the first neuron of each population."""
        out, start = {}, 0
        for p in self.populations:
            out[p.name] = start
            start += p.size
        return out

    @property
    def n_neurons(self) -> int:
        return sum(p.size for p in self.populations)

    @property
    def n_synapses(self) -> int:
        return sum(p.n_synapses for p in self.projections)
