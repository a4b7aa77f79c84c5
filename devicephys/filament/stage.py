"""Stage 1 runner: main drive, set-time study, relaxation, thermal step, extraction, files.

Protocols (all from the pristine cell, channel empty, at ambient temperature):

1. main drive (``spec.drive``): triangular sweep 0 → V_peak → 0, one pulse or
   a pulse train; traces of V, I, T_max, gap, filament radius and energy;
   fields (φ, T, Ag) at ``field_snapshots`` times in ``fields.xdmf``;
2. set time: constant source voltage until the gap first falls below
   ``gap_on`` (or ``set_time_limit``), for each of ``set_voltages``;
3. relaxation: from the bridged state of the highest set voltage, the bias is
   removed and the gap recorded for ``relax_duration``; the cell is read at
   ``read_voltage`` each 0.1 nm its gap opens, and once relaxed;
4. thermal step: the same bridged filament, frozen, from ambient temperature
   under the same source voltage: R_th and τ_th of the hot spot.
5. pulse integration (when ``fire_voltages`` is given): trains of pulses of
   each amplitude and period from the pristine cell; N_fire, the pulse at
   which the filament bridges (the blinking neuron integrating its inputs).
6. retention against compliance (when ``relax_compliances`` is given): at each
   compliance current a set at the highest set voltage, a hold of
   ``relax_hold`` and the self-rupture time at zero bias.
7. static threshold (when ``static_threshold`` is true): the lowest constant
   source voltage that sets the pristine cell within ``set_time_limit``, by
   bisection.
8. ON lifetime under bias (when ``hold_biases`` is given): from the relaxation's
   bridged state, each constant source voltage for ``relax_duration``; the time
   to the first rupture.
9. hold window (when ``sweep_hold_biases`` is given, drive: sweep): from the
   sweep's state where its falling ramp passes each bias, that bias held for
   ``relax_duration``; the window's edges and the static hold.  With
   ``sweep_hold_replicas`` R > 1 each bias is held R times, from the sweep's
   state and from copies with their Ag moved by about an atom per node, and the
   hold is read where the runs' mean ON share falls through 1/2
   (``hold_voltage_ensemble``, with a bootstrap standard deviation).

Under MPI (``mpirun -np N devicephys filament ...``) every rank runs this module
on its part of the mesh; the solver's decisions are collective, so all ranks
take the same steps.  Rank 0 alone writes ``filament.nc`` and the plots and
shows progress; ``fields.xdmf`` is written by all ranks together.  In a serial run on
two or more cores, protocols 2-4 run in a second process beside the main drive, with
the serial order's numbers (:mod:`devicephys.filament.side`).  The wall time of
each part is recorded as ``wall_time_<part>_s`` in ``filament.nc``.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

from devicephys.errors import ConvergenceError, SpecError
from devicephys.filament import extract
from devicephys.filament.ion_charge import warning as ion_warning
from devicephys.filament.result import (FilamentResult, add_fire_study, add_lifetime_study, add_opening_reads,
                                         add_plot_data, add_retention_study, add_set_body_balance, add_set_ion_charge,
                                         add_set_transients, add_sweep_hold_study, build_dataset)
from devicephys.filament.spec import FilamentSpec
from devicephys.versions import engine_versions


def _on_root(comm, write, what: str):
    """``write()`` on rank 0 only; its return value (or its failure) is shared with every rank."""
    if comm.size == 1:
        return write()
    value, failed = None, None
    if comm.rank == 0:
        try:
            value = write()
        except BaseException as exc:
            failed = exc
    ok = comm.bcast(failed is None, root=0)
    if failed is not None:
        raise failed
    if not ok:
        raise RuntimeError(f"rank 0 failed to write {what}; see its error")
    return comm.bcast(value, root=0)


def _bar(progress: bool, total: float, desc: str):
    if not progress:
        return None
    from devicephys.progress import bar

    return bar(total=total, desc=desc, unit="s", unit_scale=True,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}")


def _main_drive(model, spec: FilamentSpec, fields: str | Path | None, progress: bool):
    from devicephys.filament import simulate as sim
    from devicephys.filament.fem.solve import FieldWriter

    holds = []  # (time [s], bias [V]) where the sweep's falling ramp passes each of sweep_hold_biases
    if spec.drive == "sweep":
        duration, wave, corners = spec.sweep_time, sim.triangle(spec.sweep_voltage, spec.sweep_time), (spec.sweep_time / 2,)
        holds = sorted((_falling_ramp_time(spec, v), v) for v in spec.sweep_hold_biases)
    else:
        count = 1 if spec.drive == "pulse" else spec.pulse_count
        edge = 0.02 * spec.pulse_width
        wave = sim.pulses(spec.pulse_voltage, spec.pulse_width, spec.pulse_period, count, edge)
        corners = sim.pulse_breakpoints(spec.pulse_width, spec.pulse_period, count, edge)
        duration = (count - 1) * spec.pulse_period + spec.pulse_width + edge + spec.relax_duration
    # hold_states: {bias: (time [s], state) of the last sample before the falling ramp passes it} (the study
    # integrates the ramp on from there: breakpoints at the biases would change the main drive's steps, and a
    # flickering filament's history with them); first_set: (source [V], state, filament radius [m]) at the
    # first sample with gap < gap_on (the bridged state when no set-time run bridges)
    keep = {"peak_current": -1.0, "T": None, "profiles": [], "hold_states": {}, "first_set": None,
            "last": (0.0, model.state(), False) if holds else None, "bridged": False}
    writer = FieldWriter(model.et, str(fields)) if fields is not None and spec.field_snapshots else None
    times = list(np.linspace(0, duration, spec.field_snapshots + 2)[1:-1]) if writer is not None else []
    profile_times = list(np.linspace(0, duration, 9)[1:])

    def observe(m, sample):
        if keep["first_set"] is None and sample["gap"] < spec.gap_on:
            keep["first_set"] = (float(sample["source_voltage"]), m.state(), float(sample["filament_radius"]))
        if holds:
            while holds and sample["time"] >= holds[0][0] * (1 - 1e-12):
                keep["hold_states"][holds.pop(0)[1]] = keep["last"]
            keep["bridged"] = extract.bridged_after([sample["gap"]], spec.gap_on, spec.gap_rupture, keep["bridged"])
            keep["last"] = (sample["time"], m.state(), keep["bridged"])
        if sample["current"] > keep["peak_current"]:
            keep["peak_current"], keep["T"] = sample["current"], m.et.T.x.array.copy()
        while times and sample["time"] >= times[0]:
            writer.write(times.pop(0))
        while profile_times and sample["time"] >= profile_times[0]:
            keep["profiles"].append((profile_times.pop(0), m.c.copy()))

    bar = _bar(progress, duration, f"filament {spec.drive}")
    complete = False
    try:
        # with resolve_set the floor follows the elapsed time until the first set (the set is resolved: sim.set_floor)
        floor = sim.set_floor(spec, duration, lambda: keep["first_set"] is not None) if spec.resolve_set else None
        trace = sim.run_drive(model, wave, duration, dt_max=duration * spec.max_step_fraction, breakpoints=corners,
                              progress=bar, observer=observe, dt_floor=floor)
        complete = True
    finally:
        if bar is not None:
            bar.close()
        if writer is not None:
            writer.close(complete)
    return trace, keep


def _constant_set(model, spec: FilamentSpec, voltage: float, desc: str, progress: bool, observer=None):
    """Trace of a constant source ``voltage`` [V] from the model's state, stopped at the set (gap < gap_on)
    or at ``set_time_limit``: the set-time study's protocol (``observer`` as in
    :func:`~devicephys.filament.simulate.run_drive`)."""
    from devicephys.filament import simulate as sim

    bar = _bar(progress, spec.set_time_limit, desc)
    try:
        return sim.run_drive(model, lambda t: voltage, spec.set_time_limit,
                             dt_max=spec.set_time_limit * spec.max_step_fraction,
                             stop=lambda s: s["gap"] < spec.gap_on, progress=bar, observer=observer,
                             dt_floor=sim.set_floor(spec, spec.set_time_limit) if spec.resolve_set else None)
    finally:
        if bar is not None:
            bar.close()


def _set_runs(model, spec: FilamentSpec, pristine, progress: bool, label: str = ""):
    """(set times [s], bridged state at the highest voltage that set, steps forced at the floor per run,
    each run's (time [s], gap [m]) samples, each run's last nucleation time [s] from its start (NaN: the
    cathode did not nucleate, or needs no nucleation), each run's growing body at half closure
    (:class:`~devicephys.filament.balance.BodyBalance`, NaN where the gap never halved), each run's largest ionic
    space charge (:class:`~devicephys.filament.ion_charge.IonCharge`))."""
    from devicephys.filament.balance import BodyBalance, HalfClosure
    from devicephys.filament.ion_charge import IonCharge, IonChargePeak

    times, bridged, forced, transients, nucleation, bodies, ions = [], None, [], [], [], [], []
    for v in spec.set_voltages:
        model.restore(pristine)
        before, start = model.forced_steps, model.time
        half, charge = HalfClosure(model), IonChargePeak(model)

        def observe(m, sample, half=half, charge=charge):
            half(m, sample)
            charge(m, sample)

        trace = _constant_set(model, spec, v, f"{label}set at {v:g} V", progress, observer=observe)
        bodies.append(half.result or BodyBalance.missing())
        ions.append(charge.result or IonCharge.missing())
        forced.append(model.forced_steps - before)
        transients.append((trace.array("time"), trace.array("gap")))
        nucleation.append(model.nucleation_time - start if model.nucleation_time >= start else math.nan)
        i = extract.set_index(trace.array("gap"), spec.gap_on)
        times.append(float(trace.array("time")[i]) if i is not None else math.nan)
        if i is not None:
            bridged = (v, model.state(), float(trace.array("filament_radius")[i]))
    return np.array(times), bridged, forced, transients, np.array(nucleation), bodies, ions


def _static_threshold(model, spec: FilamentSpec, pristine, set_times: np.ndarray, progress: bool,
                      probes: list | None = None, pools: list | None = None):
    """(V_th,static, half-width) [V]: the lowest constant source voltage that sets within ``set_time_limit``.

    Bisection from [0, the lowest set voltage that set]: each probe is a constant-voltage run from the
    pristine cell (the set-time study's protocol), stopped at the set; the bracket halves until its
    half-width is at most ``static_threshold_tolerance``.  Assumes that a cell which sets at a voltage
    also sets above it (within the bracket).  (None, None) if no set voltage set.  ``probes`` (a list) gets
    each probe's (source voltage [V], set time [s]; NaN: no set); ``pools`` (a list) each probe's largest dissolved
    pool beside one axis node over its run [1 per channel volume] (the one-compartment pool's; 0 without one).
    """
    setting = [v for v, t in zip(spec.set_voltages, set_times) if np.isfinite(t)]
    if not setting:
        return None, None
    lo, hi = 0.0, min(setting)
    while 0.5 * (hi - lo) > spec.static_threshold_tolerance:
        v = 0.5 * (lo + hi)
        model.restore(pristine)
        peak = [0.0]

        def observe(m, sample, peak=peak):
            if m.pool_capacity is not None:
                peak[0] = max(peak[0], float(np.max(m.c_s)))

        trace = _constant_set(model, spec, v, f"static threshold: {v:.3g} V", progress, observer=observe)
        i = extract.set_index(trace.array("gap"), spec.gap_on)
        if probes is not None:
            probes.append((v, math.nan if i is None else float(trace.array("time")[i])))  # as in _set_runs
        if pools is not None:
            pools.append(peak[0])
        if i is None:
            lo = v
        else:
            hi = v
    return 0.5 * (lo + hi), 0.5 * (hi - lo)


def _static_pool_note(probes: list, pools: list, model) -> str:
    """What the static threshold's bisection says of the one-compartment pool's premise: the probes whose runs held
    more dissolved Ag beside one axis node than the pool's capacity ("" where none did, or without such a pool)."""
    from devicephys.filament.simulate import _over_capacity  # the model's own test (loaded with the model)

    capacity = model.pool_capacity
    over = [(v, t, peak) for (v, t), peak in zip(probes, pools) if _over_capacity(peak, capacity)]
    if not over:
        return ""
    runs = ", ".join(f"{v:.3g} V ({'set' if math.isfinite(t) else 'no set'}, {peak:.3g})" for v, t, peak in over)
    return (f"; outside the one-compartment pool's premise in the probes at {runs}: more dissolved Ag beside one "
            f"axis node than the {capacity:.3g} channel volumes it holds (silver_pool_warning; dissolved_spread: true "
            "follows it through the matrix)")


def _fire_runs(model, spec: FilamentSpec, pristine, progress: bool) -> np.ndarray:
    """N_fire [1] per (fire_voltages, fire_intervals): pulses from the pristine cell until the gap falls below gap_on.

    Each run is a train of ``fire_pulse_limit`` trapezoidal pulses (``pulse_width``, edges 2 % of it)
    stopped at the set; the pulse during which the gap closed is N_fire (NaN: no set within the limit).
    Between pulses the bias is 0 V and the filament relaxes: N_fire counts how the cell integrates pulses.
    """
    from devicephys.filament import simulate as sim

    edge = 0.02 * spec.pulse_width
    n_fire = np.full((len(spec.fire_voltages), len(spec.fire_intervals)), np.nan)
    # the step limits of one pulse (max_step_fraction and min_step_fraction of pulse_width) in every run: the
    # runs differ by their waveform alone (trains of one amplitude are identical until their first pulse ends),
    # and a run does not change with fire_pulse_limit or the other periods
    dt_max, dt_floor = spec.pulse_width * spec.max_step_fraction, spec.pulse_width * spec.min_step_fraction
    for i, v in enumerate(spec.fire_voltages):
        for j, period in enumerate(spec.fire_intervals):
            model.restore(pristine)
            count = spec.fire_pulse_limit
            duration = (count - 1) * period + spec.pulse_width + edge
            bar = _bar(progress, duration, f"pulses of {v:g} V every {period:.3g} s")
            try:
                trace = sim.run_drive(model, sim.pulses(v, spec.pulse_width, period, count, edge), duration,
                                      dt_max=dt_max, dt_floor=dt_floor,
                                      breakpoints=sim.pulse_breakpoints(spec.pulse_width, period, count, edge),
                                      stop=lambda s: s["gap"] < spec.gap_on, progress=bar)
            finally:
                if bar is not None:
                    bar.close()
            k = extract.set_index(trace.array("gap"), spec.gap_on)
            if k is not None:
                n_fire[i, j] = math.floor(float(trace.array("time")[k]) / period) + 1
    return n_fire


def _retention_runs(spec: FilamentSpec, progress: bool) -> dict[str, np.ndarray]:
    """Self-rupture time against the compliance current (``relax_compliances``).

    At each compliance (a fresh cell: the compliance is part of the electrothermal problem) the
    pristine cell is set at the highest set voltage, held there for ``relax_hold`` after the gap
    closes, and relaxed at zero bias for ``relax_duration``.  Returns arrays over the compliances:
    the self-rupture time (gap > gap_rupture) and the step in which it was read, the neck's radius and
    metal fraction (the narrowest metallic node's), V/I at the end of the hold, and the peak temperature
    of the hold.
    """
    from devicephys.filament import simulate as sim

    names = ("relaxation_time_held", "relaxation_time_held_resolution", "neck_radius_held",
             "neck_metal_fraction_held", "resistance_on_held", "temperature_max_held")
    runs = {name: np.full(len(spec.relax_compliances), np.nan) for name in names}
    v = max(spec.set_voltages)
    for k, i_cc in enumerate(spec.relax_compliances):
        model = sim.CellModel(spec.model_copy(update={"compliance_current": i_cc}))
        trace = _constant_set(model, spec, v, f"retention at {i_cc:.3g} A: set at {v:g} V", progress)
        if extract.set_index(trace.array("gap"), spec.gap_on) is None:
            continue
        held = sim.run_drive(model, lambda t: v, spec.relax_hold, dt_max=spec.relax_hold * spec.max_step_fraction)
        runs["neck_radius_held"][k] = model.conduction.neck_radius(model.c)
        metal = model.c[model.c >= spec.percolation_threshold]
        runs["neck_metal_fraction_held"][k] = float(metal.min()) if metal.size else math.nan
        runs["resistance_on_held"][k] = abs(held.array("voltage")[-1] / held.array("current")[-1])
        runs["temperature_max_held"][k] = float(np.max(held.array("temperature_max")))
        relax = sim.run_drive(model, lambda t: 0.0, spec.relax_duration,
                              dt_max=spec.relax_duration * spec.max_step_fraction, dt_first=1e-12)
        runs["relaxation_time_held"][k] = extract.crossing_time(relax.array("time"), relax.array("gap"),
                                                                spec.gap_rupture)
        runs["relaxation_time_held_resolution"][k] = extract.crossing_resolution(relax.array("time"),
                                                                                 relax.array("gap"), spec.gap_rupture)
    return runs


def _relaxation(model, spec: FilamentSpec, bridged, progress: bool, bias: float = 0.0, desc: str = "relaxation",
                read: bool = False, dt_max: float | None = None):
    """Trace of a constant source ``bias`` [V] (0: the bias removed) for ``relax_duration`` from the bridged state,
    with largest step ``dt_max`` [s] (default ``relax_duration`` x ``max_step_fraction``).

    With ``read``, ``trace.read`` holds (gap [m], cell voltage [V], current [A]) of the relaxed cell read at
    ``read_voltage`` with its silver frozen (one 1 ns step; the potential follows the bias at once), as a
    measurement reads the OFF state after the cell relaxed; voltage and current are NaN when the relaxed
    cell is not open (gap ≤ gap_rupture).  ``trace.reads`` holds the same read of the cell as the gap opened
    (:func:`_opening_reads`).
    """
    from devicephys.filament import simulate as sim

    model.restore(bridged[1])
    bar = _bar(progress, spec.relax_duration, desc)
    kept: list = []  # (time since the bias was removed [s], gap [m], state) as the gap opens, for the reads

    def keep(m, sample) -> None:
        gap = sample["gap"]
        if gap > spec.gap_on and (not kept or gap >= kept[-1][1] + OPENING_READ_STEP):
            kept.append((m.time - start, gap, m.state()))

    start = model.time
    try:
        trace = sim.run_drive(model, lambda t: bias, spec.relax_duration,
                              dt_max=spec.relax_duration * spec.max_step_fraction if dt_max is None else dt_max,
                              dt_first=1e-12, progress=bar, observer=keep if read else None)
    finally:
        if bar is not None:
            bar.close()
    if read:
        gap = float(trace.array("gap")[-1])
        trace.read = (gap, math.nan, math.nan)
        if gap > spec.gap_rupture:
            trace.read = (gap, *_read(model, spec))
        trace.reads = _opening_reads(model, spec, kept)
    return trace


#: Gap step [m] between the reads of the opening gap: on the default cell the read rises by about half a decade per
#: 0.1 nm (9.4 decades from 0.50 to 2.13 nm; the image force lowers the barrier below W - chi), so the reads resolve
#: its decades.
OPENING_READ_STEP = 0.1e-9


def _read(model, spec: FilamentSpec) -> tuple[float, float]:
    """(cell voltage [V], current [A]) of the model's state read at ``read_voltage`` with its silver frozen (one
    1 ns step: the potential follows the bias at once, the silver does not move)."""
    from devicephys.filament import simulate as sim

    probe = sim.run_drive(model, lambda t: spec.read_voltage, 1e-9, dt_max=1e-9, dt_first=1e-9, frozen=True)
    return float(probe.array("voltage")[-1]), float(probe.array("current")[-1])


def _reads_of(relax) -> tuple[np.ndarray, np.ndarray]:
    """(time [s], read resistance [Ohm]) of a relaxation's opening reads (empty without them)."""
    reads = getattr(relax, "reads", None)
    return (reads["time"], reads["resistance"]) if reads else (np.zeros(0), np.zeros(0))


def _read_spacing(relax) -> float:
    """Largest interval [s] between the opening reads (NaN with fewer than two)."""
    t = _reads_of(relax)[0]
    return float(np.max(np.diff(t))) if t.size > 1 else math.nan


def _opening_reads(model, spec: FilamentSpec, kept: list) -> dict[str, np.ndarray]:
    """The cell read at ``read_voltage`` at each kept state of the relaxation (one each time the gap has
    opened by :data:`OPENING_READ_STEP` past gap_on): time [s], gap [m], V/I [Ohm], and the lumped gap law's
    1/G_gap [Ohm] (Simmons tunnelling across the gap in series with the neck's contact,
    :meth:`~devicephys.filament.conduction.ChannelConduction.gap_conductance`, at the read's cell voltage),
    which the potential equation carries.  The model is left in the relaxation's final state."""
    final = model.state()
    reads = {name: np.full(len(kept), np.nan) for name in ("time", "gap", "resistance", "lumped_resistance")}
    try:
        for k, (t, gap, state) in enumerate(kept):
            model.restore(state)
            v, i = _read(model, spec)
            g_gap = model.conduction.gap_conductance(gap, v, model.c)[0]
            reads["time"][k], reads["gap"][k] = t, gap
            reads["resistance"][k] = v / i if i != 0.0 else math.nan
            reads["lumped_resistance"][k] = 1.0 / g_gap if g_gap > 0.0 else math.inf
    finally:
        model.restore(final)
    return reads


def _lifetime_runs(model, spec: FilamentSpec, bridged, progress: bool) -> dict[str, np.ndarray]:
    """The ON state's lifetime under each of ``hold_biases`` [V]: the relaxation's protocol at that bias.

    From the filament bridged at the highest set voltage, the source is held at each bias for
    ``relax_duration``: the first time the gap exceeds ``gap_rupture`` (linear interpolation between
    samples; its uncertainty is that sample interval), how often the gap closed again afterwards,
    the median cell voltage while ON and the peak temperature.  At 0 V this is the self-rupture time.
    """
    names = ("on_lifetime", "on_lifetime_uncertainty", "on_resets", "on_voltage", "on_temperature_max")
    runs = {name: np.full(len(spec.hold_biases), np.nan) for name in names}
    for k, v in enumerate(spec.hold_biases):
        trace = _relaxation(model, spec, bridged, progress, v, f"ON lifetime at {v:g} V", dt_max=spec.hold_step)
        t, g, volts = trace.array("time"), trace.array("gap"), trace.array("voltage")
        runs["on_lifetime"][k] = extract.crossing_time(t, g, spec.gap_rupture)
        runs["on_lifetime_uncertainty"][k] = extract.crossing_resolution(t, g, spec.gap_rupture)
        runs["on_resets"][k] = extract.closures_after_rupture(g, spec.gap_on, spec.gap_rupture)
        on = g < spec.gap_on
        runs["on_voltage"][k] = float(np.median(np.abs(volts[on]))) if on.any() else math.nan
        runs["on_temperature_max"][k] = float(np.max(trace.array("temperature_max")))
    return runs


def _lifetime_scalars(spec: FilamentSpec, runs: dict[str, np.ndarray], voltage: float) -> dict:
    """The hold voltage [V] of the ON-lifetime study (:func:`_lifetime_runs`): the lowest of ``hold_biases`` at
    which the ON state lives through the whole hold, with the bias tried below it (where it ruptured) as its
    bracket, and the cell voltage held there."""
    biases = np.asarray(spec.hold_biases, float)
    ruptured = np.isfinite(runs["on_lifetime"]).astype(int)
    low, _, below = extract.hold_window(biases, np.ones_like(biases), ruptured)
    cell = float(runs["on_voltage"][biases == low][0]) if math.isfinite(low) else math.nan
    step = spec.hold_step
    how = (f"lowest of hold_biases {sorted(biases.tolist())} V at which the filament bridged at {voltage:g} V does "
           f"not rupture (gap > gap_rupture = {spec.gap_rupture:g} m) in relax_duration = {spec.relax_duration:g} s, "
           f"largest step {step:g} s (hold_step_fraction); NaN: none, or the lowest bias tried holds")
    if math.isfinite(low) and not math.isfinite(below):
        low = cell = math.nan  # held at every bias tried: the edge lies below them
    bracket = (low - below if math.isfinite(low) else math.nan,
               "distance to the bias tried below it, where the ON state ruptured: the edge lies between them")
    return {"hold_voltage_lifetime": (low, "V", "hold voltage from the ON lifetime", how, bracket),
            "hold_voltage_lifetime_cell": (cell, "V", "cell voltage of the ON state held at hold_voltage_lifetime",
                                           "median cell voltage while ON during that hold")}


#: [1] k_d dt above which the sweep's largest step is noted as damping the set: a backward-Euler step longer than the
#: Gibbs-Thomson dissolution time 1/k_d.  The default cell's rising ramp (studies/17_sweep_rate.py) against its
#: finest step control: k_d dt = 0.046 -> 3.4 % high, 0.46 -> 3-11 %, 4.6 -> 56 %, 46 -> 2.9x, 460 -> 5.6x.
SWEEP_STEP_DISSOLUTIONS = 1.0


def sweep_step_note(spec: FilamentSpec) -> str | None:
    """A note when the sweep's largest step (``sweep_time`` x ``max_step_fraction``) exceeds
    :data:`SWEEP_STEP_DISSOLUTIONS` Gibbs-Thomson dissolution times 1/k_d at the ambient temperature, else None."""
    from devicephys.filament.kinetics import HoppingLaw

    k_d = float(HoppingLaw.from_spec(spec).dissolution_rate(spec.ambient_temperature))
    dt = spec.sweep_time * spec.max_step_fraction
    if k_d * dt <= SWEEP_STEP_DISSOLUTIONS:
        return None
    return (f"the sweep's largest step, sweep_time x max_step_fraction = {dt:.3g} s, is {k_d * dt:.3g} Gibbs-Thomson "
            f"dissolution times 1/k_d (k_d = {k_d:.4g} 1/s at the ambient temperature): a backward-Euler step that "
            "long damps the growth the set is made of and raises the sweep's threshold (on the default cell +56 % at "
            "k_d dt = 4.6, 2.9x at 46: docs/filament.md, The threshold against the sweep rate); give max_step_fraction <= "
            f"{SWEEP_STEP_DISSOLUTIONS / (k_d * spec.sweep_time):.3g}")


def _falling_ramp_time(spec: FilamentSpec, voltage: float) -> float:
    """Time [s] at which the triangular sweep's falling ramp passes the source ``voltage`` [V]."""
    half = spec.sweep_time / 2
    return half + (1.0 - voltage / spec.sweep_voltage) * half


def _sweep_hold_runs(model, spec: FilamentSpec, states: dict, progress: bool) -> dict[str, np.ndarray]:
    """The hold-window study: from the main sweep's state where its falling ramp passes each of
    ``sweep_hold_biases`` [V], that source voltage held for ``relax_duration`` (:func:`extract.hold_run`).

    Per bias the first run starts from the sweep's state as it is (the arrays named as in
    :func:`extract.hold_run`); with ``sweep_hold_replicas`` R > 1 the runs 1..R-1 start from that state with
    its metal moved by about an atom per node (:meth:`CellModel.perturb_silver`, seed (bias index, run)), and
    ``replica_<name>`` holds every run's summary, shape (biases, R), run 0 included.
    """
    from devicephys.filament import simulate as sim

    names = ("start_on", "ruptures", "rupture_time", "on_fraction", "on_voltage", "temperature_max")
    n, replicas = len(spec.sweep_hold_biases), spec.sweep_hold_replicas
    each = {name: np.full((n, replicas), np.nan) for name in names}
    ramp = sim.triangle(spec.sweep_voltage, spec.sweep_time)
    for k, v in enumerate(spec.sweep_hold_biases):
        t_last, state, bridged = states[v]
        lead = max(_falling_ramp_time(spec, v) - t_last, 0.0)  # the ramp's rest down to v [s]
        for r in range(replicas):
            model.restore(state)
            if r > 0:
                model.perturb_silver(np.random.default_rng((k, r)))
            desc = f"hold after the sweep at {v:g} V" + (f" ({r + 1}/{replicas})" if replicas > 1 else "")
            bar = _bar(progress, lead + spec.relax_duration, desc)
            try:
                trace = sim.run_drive(model, lambda t, v=v, t_last=t_last, lead=lead: ramp(t_last + t) if t < lead
                                      else v, lead + spec.relax_duration,
                                      dt_max=spec.hold_step, breakpoints=(lead,),
                                      progress=bar)
            finally:
                if bar is not None:
                    bar.close()
            t = trace.array("time")
            held = t >= lead * (1 - 1e-12)
            gap = trace.array("gap")
            # ON or OFF at the hold's start by the sweep's own hysteresis (gap_on, then gap_rupture), carried over
            # the rest of the ramp: a bridged gap sits near gap_on and may end the ramp just above it
            start = extract.bridged_after(gap[~held], spec.gap_on, spec.gap_rupture, bridged)
            summary = extract.hold_run(t[held] - lead, gap[held], trace.array("voltage")[held],
                                       spec.gap_on, spec.gap_rupture, start_on=start)
            summary["temperature_max"] = float(np.max(trace.array("temperature_max")[held]))
            for name, value in summary.items():
                each[name][k, r] = value
    runs = {name: each[name][:, 0].copy() for name in names}
    if replicas > 1:
        runs.update({f"replica_{name}": each[name] for name in names})
    return runs


def _hold_window_scalars(spec: FilamentSpec, runs: dict[str, np.ndarray]) -> dict:
    """The hold window's edges [V] and the static hold voltage [V] from :func:`_sweep_hold_runs`."""
    biases = np.asarray(spec.sweep_hold_biases, float)
    low, high, below = extract.hold_window(biases, runs["start_on"], runs["ruptures"])
    cell = float(runs["on_voltage"][biases == low][0]) if math.isfinite(low) else math.nan
    held = (f"held: the filament starts ON (gap < gap_on = {spec.gap_on:g} m) where the sweep's falling ramp "
            f"passes the source voltage and does not rupture (gap > gap_rupture = {spec.gap_rupture:g} m) in "
            f"{spec.relax_duration:g} s at it; biases tried {sorted(biases.tolist())} V")
    bracket = ("the bias tried below it, not held: the window's edge lies between them" if math.isfinite(below)
               else "none (the lowest bias tried is held)")
    ensemble = _hold_ensemble_scalars(spec, runs) if "replica_on_fraction" in runs else {}
    return {
        **ensemble,
        "hold_window_low": (low, "V", "lowest source voltage that holds the ON state", f"lowest bias {held}; NaN: none",
                            (low - below if math.isfinite(below) else math.nan, f"distance to {bracket}")),
        "hold_window_high": (high, "V", "highest source voltage that holds the ON state",
                             f"highest bias {held}; NaN: none (the biases between the two edges need not all be "
                             "held: see sweep_hold_start_on and sweep_hold_ruptures)"),
        "hold_voltage_static": (cell, "V", "static hold voltage",
                                "median cell voltage of the ON state held at hold_window_low (its source voltage)"),
    }


def _hold_ensemble_scalars(spec: FilamentSpec, runs: dict[str, np.ndarray]) -> dict:
    """The hold voltage [V] from the hold-window study's replicas (``sweep_hold_replicas`` > 1)."""
    biases = np.asarray(spec.sweep_hold_biases, float)
    shares = runs["replica_on_fraction"]
    v50, above = extract.share_crossing(biases, shares)
    spread, found = extract.share_crossing_spread(biases, shares)
    cell = (float(np.nanmedian(runs["replica_on_voltage"][biases == above][0]))
            if math.isfinite(above) and np.isfinite(runs["replica_on_voltage"][biases == above][0]).any() else math.nan)
    replicas = shares.shape[1]
    method = (f"source voltage at which the mean ON share (gap < gap_on = {spec.gap_on:g} m) of {replicas} holds of "
              f"{spec.relax_duration:g} s per bias, from the sweep's state and from {replicas - 1} copies with their Ag "
              "moved by about an atom per node, falls through 1/2 coming down in bias (linear between the biases "
              f"{sorted(biases.tolist())} V); NaN: the share is above 1/2 at every bias (the hold lies below the lowest) "
              "or below it at the highest")
    return {
        "hold_voltage_ensemble": (v50, "V", "hold voltage (mean ON share of the replicas)", method,
                                  (spread, f"standard deviation over bootstrap resamples of the holds per bias "
                                           f"({found:.0%} of them cross); not included: the bias spacing's "
                                           "linear interpolation")),
        "hold_voltage_ensemble_cell": (cell, "V", "cell voltage of the ON state at the ensemble hold",
                                       "median over the holds of the median cell voltage while ON, at the bias above "
                                       "hold_voltage_ensemble (at the lowest bias when the hold lies below it)"),
    }


def sweep_hold_window(model, spec: FilamentSpec, progress: bool = False):
    """The stage's DC sweep on ``model`` (a fresh cell) and its hold-window study at ``spec.sweep_hold_biases``, the
    same drives as in :func:`solve_filament`: (sweep trace, per-bias runs {name: array}, {scalar: (value [V],
    uncertainty [V])}) with the scalars ``hold_window_low``, ``hold_window_high`` and ``hold_voltage_static``
    (uncertainty NaN where the stage states none)."""
    if spec.drive != "sweep" or not spec.sweep_hold_biases:
        raise SpecError(f"FilamentSpec.sweep_hold_biases = {spec.sweep_hold_biases} (drive: {spec.drive}): the hold "
                        "window needs drive: sweep and at least one bias, e.g. [0.2, 0.3, 0.4]", field="sweep_hold_biases")
    trace, keep = _main_drive(model, spec, None, progress)
    runs = _sweep_hold_runs(model, spec, keep["hold_states"], progress)
    scalars = {name: (row[0], row[4][0] if len(row) > 4 else math.nan)
               for name, row in _hold_window_scalars(spec, runs).items()}
    return trace, runs, scalars


def _thermal_step(model, spec: FilamentSpec, bridged):
    from devicephys.filament import simulate as sim

    model.restore(bridged[1])
    model.et.reset_temperature()
    power: list[float] = []
    duration = 1e-7
    # samples at least 16 per decade of time from 10 fs: the 1 - 1/e crossing (τ_th) is then read within a
    # sample interval of 15 % of its time (the step control alone doubles the step each time)
    samples = tuple(np.geomspace(1e-14, duration, 16 * 7 + 1)[1:-1])
    trace = sim.run_drive(model, lambda t: bridged[0], duration, dt_max=duration / 10, dt_first=1e-14, frozen=True,
                          breakpoints=samples, observer=lambda m, s: power.append(m.et.joule_power()))
    t, T = trace.array("time")[1:], trace.array("temperature_max")[1:]
    return (*extract.thermal_step(t, T, np.array(power), spec.ambient_temperature),
            *extract.thermal_step_uncertainty(t, T, np.array(power), spec.ambient_temperature),
            *extract.thermal_mean_time(t, T, spec.ambient_temperature))


def rising_ramp_threshold(spec: FilamentSpec, progress: bool = False, desc: str = "rising ramp") -> dict[str, float]:
    """The sweep's rising ramp from a pristine cell of ``spec`` to its first set, with the step floor at
    ``min_step_fraction`` of the time elapsed (:func:`~devicephys.filament.simulate.set_floor`), so that the
    spec's step control, not the floor, sets the steps up to the set.

    Returns ``threshold`` (the cell voltage before the first set, as ``threshold_voltage``) [V], ``source`` (the
    source voltage at the set, as ``threshold_source_voltage``) [V], both NaN when the ramp does not set, and
    ``steps`` (the steps taken) [1].  ``progress``: a bar named ``desc`` over the ramp's time.  A ramp stepped
    too coarsely for its set (:func:`sweep_step_note`) gets that note as a warning line on standard error first.
    """
    from mpi4py import MPI

    from devicephys.filament import simulate as sim
    from devicephys.filament.simulate import CellModel

    note = sweep_step_note(spec)
    if note is not None and MPI.COMM_WORLD.rank == 0:
        print(f"warning: {desc}: {note}", file=sys.stderr, flush=True)
    model = CellModel(spec)
    bar = _bar(progress, spec.sweep_time / 2, desc)
    try:
        trace = sim.run_drive(model, sim.triangle(spec.sweep_voltage, spec.sweep_time), spec.sweep_time / 2,
                              dt_max=spec.sweep_time * spec.max_step_fraction, stop=lambda s: s["gap"] < spec.gap_on,
                              dt_floor=sim.set_floor(spec, spec.sweep_time), progress=bar)
    finally:
        if bar is not None:
            bar.close()
    g = trace.array("gap")
    i = extract.set_index(g, spec.gap_on)
    if i is None:
        return {"threshold": math.nan, "source": math.nan, "steps": float(len(trace) - 1)}
    return {"threshold": extract.threshold_voltage(trace.array("voltage"), g, spec.gap_on, "sweep_voltage"),
            "source": float(trace.array("source_voltage")[i]), "steps": float(len(trace) - 1)}


def checked_spec(spec: FilamentSpec) -> FilamentSpec:
    """``spec`` under its step check (``step_check`` = x): the local error held to x while the channel has a gap
    (``step_error_tolerance``), the Ag change per step to x where it is tighter than the spec's own
    (``max_concentration_change``; the bridged neck, which the local error leaves to it), on the dissolved pool too
    (``pool_change_limit``), the step floor at ``min_step_fraction`` of the time elapsed until the set
    (``resolve_set``), no snapshots.  At x = 0.01 this is the step control of ``examples/converged_step.yaml``."""
    x = spec.step_check
    return spec.model_copy(update={"step_error_tolerance": x, "max_concentration_change": min(spec.max_concentration_change, x),
                                   "pool_change_limit": True, "resolve_set": True, "field_snapshots": 0})


def step_check_set_runs(spec: FilamentSpec, first: int = 0, stop: int | None = None, relax: bool = True,
                        progress: bool = False) -> dict:
    """The set-time study under ``spec.step_check`` (:func:`checked_spec`) at ``set_voltages[first:stop]``, on a
    model of its own, and (``relax``) the self-rupture at zero bias from the state bridged at the highest of them
    that set (as the stage's own relaxation).

    Returns ``set_times`` [s] (NaN where a voltage did not set), ``relaxation_time`` [s] (None when none of them set
    or ``relax`` is False; NaN when the gap did not reach ``gap_rupture``) and ``bridged`` (that state, or None).  A
    run that fails to converge gives NaN for all of them (with a note on stderr): the check never stops the stage.
    Each set run starts from the pristine cell, so the voltages may be shared between processes.
    """
    from devicephys.filament.simulate import CellModel

    check = checked_spec(spec)
    voltages = list(check.set_voltages[first:stop])
    try:
        model = CellModel(check)
        set_times, bridged = _set_runs(model, check.model_copy(update={"set_voltages": voltages}), model.state(),
                                       progress, "step check: ")[:2]
        return {"set_times": set_times, "bridged": bridged,
                "relaxation_time": step_check_relaxation(model, check, bridged) if relax and bridged else None}
    except ConvergenceError as exc:
        _check_failed("set-time study or relaxation", exc)
        return {"set_times": np.full(len(voltages), math.nan), "bridged": None, "relaxation_time": math.nan}


def step_check_relaxation(model, check: FilamentSpec, bridged) -> float:
    """Self-rupture time [s] at zero bias from ``bridged`` on ``model`` under the checked spec ``check``."""
    trace = _relaxation(model, check, bridged, False)
    return extract.crossing_time(trace.array("time"), trace.array("gap"), check.gap_rupture)


def step_check_ramp(spec: FilamentSpec, progress: bool = False) -> dict[str, float]:
    """:func:`rising_ramp_threshold` under ``spec.step_check`` (:func:`checked_spec`); NaN (with a note on stderr)
    when it failed to converge."""
    try:
        return rising_ramp_threshold(checked_spec(spec), progress, "step check: rising ramp")
    except ConvergenceError as exc:
        _check_failed("sweep's ramp", exc)
        return {"threshold": math.nan, "source": math.nan, "steps": math.nan}


def _check_failed(what: str, exc: Exception) -> None:
    from mpi4py import MPI

    if MPI.COMM_WORLD.rank == 0:
        print(f"note: the step check's {what} did not converge ({exc}); its values are NaN (raise step_check)",
              file=sys.stderr, flush=True)


def measured_ramp_prediction(spec: FilamentSpec, runs, sweep_set: float) -> tuple:
    """The scalar ``threshold_source_predicted_measured`` (value [V], unit, name, method, (uncertainty [V], its
    method)): the sweep's set predicted as the memoryless rate integral of the measured constant-voltage set times
    ``runs`` [(source voltage [V], set time [s] or NaN)] (the set-time study and the static threshold's probes), not
    of the law (:func:`extract.ramp_set_voltage_measured`).  NaN, with the reason in the method, where the runs do not
    measure the integral: no voltage below the lowest that set which did not set, or the set above the highest."""
    rate = spec.sweep_voltage / (spec.sweep_time / 2)
    by_v = dict(sorted((float(v), float(t)) for v, t in runs))  # one run per voltage (the probes lie below the study's)
    v, t = np.array(list(by_v)), np.array(list(by_v.values()))
    name, unit = "sweep set voltage predicted from the measured set times", "V"
    method = (f"source voltage at which the sweep's ramp ({rate:g} V/s) uses up the set times measured at constant "
              f"source voltage ({', '.join(f'{x:.3g}' for x in v)} V: the set-time study and the static threshold's "
              "probes), ln t_set interpolated linearly between them: rate integral of a memoryless set, counted from "
              f"the lowest voltage that set (the sweep set at {sweep_set:.4g} V; studies/13_set_memory.py)")
    sets = np.isfinite(t) & (t > 0)
    if not sets.any() or sets[0]:
        return (math.nan, unit, name, method + "; NaN: no voltage below the lowest that set failed to set, so the "
                "integral's start is not measured", (math.nan, "-"))
    try:
        value = extract.ramp_set_voltage_measured(v, t, rate)
        coarse = extract.ramp_set_voltage_every_other(v, t, rate)
    except ValueError as exc:
        return (math.nan, unit, name, method + f"; NaN: {exc}", (math.nan, "-"))
    if not math.isfinite(value):
        method += "; NaN: the integral stays below 1 up to the highest set voltage (nothing is extrapolated)"
    return (value, unit, name, method,
            (abs(value - coarse) if math.isfinite(coarse) else math.nan,
             "difference from the same prediction on every other voltage that set (the lowest and highest kept): "
             "the interpolation's sensitivity to the voltages measured"))


def _scalars(spec, trace, set_times, relax, bridged, thermal, static=(None, None), check=None) -> dict:
    v, i, g, src = (trace.array(n) for n in ("voltage", "current", "gap", "source_voltage"))
    field = "sweep_voltage" if spec.drive == "sweep" else "pulse_voltage"
    v_th = extract.threshold_voltage(v, g, spec.gap_on, field)
    r_on, r_off = extract.on_off_resistance(v, i, g, spec.gap_on, spec.gap_rupture)
    s_on, s_off = extract.on_off_spread(v, i, g, spec.gap_on, spec.gap_rupture)
    g_read, v_read, i_read = relax.read or (math.nan, math.nan, math.nan)
    r_read = v_read / i_read if (math.isfinite(i_read) and i_read != 0.0) else math.nan
    v_hold = extract.hold_voltage(v, g, src, spec.gap_on, spec.gap_rupture)
    hold_none = extract.hold_missing(v, g, src, spec.gap_on, spec.gap_rupture, spec.drive)
    first = extract.set_index(g, spec.gap_on)
    off_method = (f"median V/I over samples with gap > {spec.gap_rupture:g} m and |V| > 10 mV after the first set "
                  "(the formed cell's residual gap), or over all such samples if the cell never set")
    if (first is not None and not extract.off_samples(v, i, g, spec.gap_on, spec.gap_rupture)[first:].any()
            and math.isfinite(r_read)):
        # the cell set and stayed ON to the drive's end: its formed OFF state is the relaxed cell's, read
        r_off, s_off = r_read, math.nan
        off_method = ("the drive holds ON from its first set to its end, so it has no formed OFF sample: the "
                      f"relaxed cell's V/I at read_voltage = {spec.read_voltage:g} V (resistance_off_relaxed)")
    if np.count_nonzero(np.isfinite(set_times) & (set_times > 0)) >= 2:
        tau0, v0, rms = extract.fit_set_time(np.array(spec.set_voltages), set_times)
        s_tau0, s_v0 = extract.set_time_uncertainty(np.array(spec.set_voltages), set_times)
    else:  # see solve_filament: the set-time law is not fitted
        tau0 = v0 = rms = s_tau0 = s_v0 = math.nan
    r_th, tau_th, s_rth, s_tauth, tau_mean, s_mean = thermal
    rt, rg = relax.array("time"), relax.array("gap")
    t_relax = extract.crossing_time(rt, rg, spec.gap_rupture)
    g_on, g_r = spec.gap_on, spec.gap_rupture
    step = "the source-voltage step of the drive's samples at the event (the switch lies within it)"
    spread = "half the interquartile range of V/I over the same samples"
    fit_se = "standard error of the least squares (residual variance over n - 2 degrees of freedom; NaN below 3 set voltages)"
    sampled = "the sample interval in which the crossing is interpolated"
    # read at the release, where the trajectories of a compliance-regulated neck part with the solver's round-off
    # and with the largest time step
    path = ("; not included: the effect of the Newton tolerance and of the largest time step, which move the "
            "release by more on the default cell (studies/09_solver_tolerance.py)")
    # the set is a runaway that the step control resolves through max_concentration_change, not the sampling
    control = (f"; not included: the step control's error (max_concentration_change = "
               f"{spec.max_concentration_change:g} per step; on the default cell 0.05 puts the set 4 % above the "
               "1.33 V of the converged transient, step_error_tolerance 0.01 within 0.4 %: studies/12_step_control.py)")
    if spec.step_error_tolerance is not None:
        control = (f"; not included: the step control's error (local error held to {spec.step_error_tolerance:g} "
                   "per step, relative to each Ag fraction; on the default cell 0.01 puts the set 0.4 % above the "
                   "converged transient's 1.33 V: studies/12_step_control.py)")
    checked = _checked_scalars(spec, check, v_th, tau0, v0, t_relax) if check is not None else {}
    if check is not None and check["ramp"] is not None:
        c_th = check["ramp"]["threshold"]
        sets = f"sets at {c_th:.5g} V (threshold_voltage_step_check)" if math.isfinite(c_th) else "did not set"
        control = (f"; the step control's error, measured in this run: the same ramp from the pristine cell under "
                   f"the step check (step_check = {spec.step_check:g}) {sets}")
    ramp = {}
    first = extract.set_index(g, g_on)
    if spec.drive == "sweep" and first is not None and math.isfinite(v0) and v0 > 0:
        rate = spec.sweep_voltage / (spec.sweep_time / 2)
        v_start, s_start = (static[0], static[1]) if static[0] is not None else (0.0, 0.0)
        start = (f"from the static threshold {v_start:.3g} V (below it the cell never sets)" if static[0] is not None
                 else "from 0 V (static_threshold: true starts it at the static threshold)")
        ramp = {
            "threshold_source_voltage": (float(src[first]), "V", "source voltage at the sweep's first set",
                                         f"source voltage at the first sample with gap < gap_on = {g_on:g} m",
                                         (extract.threshold_resolution(src, g, g_on), step)),
            "threshold_source_predicted": (
                extract.ramp_set_voltage(tau0, v0, rate, v_start), "V", "sweep set voltage predicted from the set-time law",
                f"source voltage at which the sweep's ramp ({rate:g} V/s) uses up the fitted set time "
                f"tau0 exp(-V/V0), extrapolated below the set voltages: rate integral of a memoryless set {start}",
                (extract.ramp_set_voltage_uncertainty(np.array(spec.set_voltages), set_times, rate, v_start, s_start),
                 "the set-time fit's covariance (intercept and slope correlated) and the static threshold's "
                 "half-width, propagated")),
        }
    return {**ramp, **checked,
        "threshold_voltage": (v_th, "V", "threshold voltage", f"largest cell voltage before the gap first fell below gap_on = {g_on:g} m during the {spec.drive}",
                              (extract.threshold_resolution(src, g, g_on), step + control)),
        "hold_voltage": (v_hold, "V", "hold voltage",
                         "cell voltage at the last ON sample (gap < gap_on) before the first rupture (gap > "
                         "gap_rupture) after the source peak" + (f"; NaN: {hold_none}" if hold_none else ""),
                         (extract.hold_resolution(src, g, g_on, g_r),
                          step + path + "; the hold window's hold_voltage_static (sweep_hold_biases) moves less")),
        "resistance_on": (r_on, "Ohm", "ON resistance", f"median V/I over samples with gap < {g_on:g} m", (s_on, spread)),
        **{f"resistance_on_{name}": (q, "Ohm", f"{name} of the ON resistance's samples",
                                     f"{name} of V/I over the samples resistance_on is the median of (its spread is "
                                     "skewed: the quartiles, not the median -+ half their range, bound its middle half)")
           for name, q in zip(("lower_quartile", "upper_quartile"),
                              extract.on_resistance_quartiles(v, i, g, spec.gap_on))},
        "resistance_off": (r_off, "Ohm", "OFF resistance", off_method, (s_off, spread + path)),
        "resistance_off_relaxed": (r_read, "Ohm", "OFF resistance of the relaxed cell",
                                   f"V/I at read_voltage = {spec.read_voltage:g} V with the silver frozen, after "
                                   f"relax_duration at zero bias from the bridged state (gap then {g_read:.4g} m); NaN "
                                   f"when the relaxed cell is not open (gap <= gap_rupture = {g_r:g} m)"),
        "resistance_off_tunnelling_time": (
            extract.tunnelling_end_time(*_reads_of(relax), r_read), "s",
            "time after the bias is removed until the opening gap's tunnelling falls to the relaxed cell's leakage",
            f"the relaxation's reads at read_voltage = {spec.read_voltage:g} V as the gap opened (relax_read_*): the "
            "first time the read resistance rises through half the relaxed cell's (resistance_off_relaxed), "
            "interpolated in log R (NaN: never, or no relaxed read); until then the formed cell's OFF state is a "
            "tunnelling gap, after it the matrix's leakage",
            (_read_spacing(relax), "the read interval in which the crossing is interpolated")),
        "thermal_resistance": (r_th, "K/W", "thermal resistance of the hot spot", f"(T_max - T_amb)/P after 100 ns at {bridged[0]:g} V with the bridged filament frozen",
                               (s_rth, "change of the rise over the step response's last sample interval, over P (distance from steady state)")),
        "thermal_time_constant": (tau_th, "s", "thermal time constant", "time for T_max to reach 1-1/e of its rise in the same step response", (s_tauth, sampled)),
        "thermal_time_constant_mean": (tau_mean, "s", "mean thermal time of the hot spot",
                                       "first moment of the same step response, the integral of 1 - rise/final rise "
                                       "over its 100 ns (Elmore's delay: each component's time weighted by its share "
                                       "of the rise), as backward Euler's right sums over its steps (exact for the "
                                       "linear heat equation)", (s_mean, "the difference of the left and right sums "
                                                                         "over the samples (bounds a sampled "
                                                                         "monotone rise's integral)")),
        "set_time_tau0": (tau0, "s", "prefactor of t_set = tau0 exp(-V/V0)", f"least squares on ln t_set over the set voltages (rms residual of ln t {rms:.3g})", (s_tau0, fit_se)),
        "set_time_v0": (v0, "V", "voltage scale of t_set = tau0 exp(-V/V0)", "same fit", (s_v0, fit_se)),
        "relaxation_time": (t_relax, "s", "self-rupture time after the bias is removed", f"time for the gap to exceed gap_rupture = {g_r:g} m at zero bias, from the bridged state at {bridged[0]:g} V",
                            (extract.crossing_resolution(rt, rg, g_r), sampled)),
        "filament_radius_final": (bridged[2], "m", "filament radius when it bridges", f"equivalent radius at the set event at {bridged[0]:g} V"),
        "minimum_gap": (float(np.min(g)), "m", "smallest gap of the main drive", "minimum of the gap trace"),
        "insulator_thickness": (spec.insulator_thickness, "m", "insulator thickness", "from the spec"),
    }


def _checked_scalars(spec: FilamentSpec, check: dict, v_th: float, tau0: float, v0: float, t_relax: float) -> dict:
    """The step check's threshold, set-time law and self-rupture beside the main drive's, with their relative
    deviations."""
    c = checked_spec(spec)
    how = (f"step_error_tolerance = {c.step_error_tolerance:g}, max_concentration_change = "
           f"{c.max_concentration_change:g} and resolve_set, from the pristine cell")
    own = ("the main drive's step control's error, to within the check's own (on the default cell at 0.01, "
           "examples/converged_step.yaml's step control: docs/filament.md, The step check)")
    out = {}
    times = np.asarray(check["set_times"], float)
    if np.count_nonzero(np.isfinite(times) & (times > 0)) >= 2:
        c_tau0, c_v0, c_rms = extract.fit_set_time(np.array(spec.set_voltages), times)
    else:
        c_tau0 = c_v0 = c_rms = math.nan
    out["set_time_tau0_step_check"] = (c_tau0, "s", "prefactor of the set-time law, step control checked",
                                       f"least squares on ln t_set of the set-time study again under {how} (rms "
                                       f"residual of ln t {c_rms:.3g})")
    out["set_time_v0_step_check"] = (c_v0, "V", "voltage scale of the set-time law, step control checked", "same fit")
    out["set_time_tau0_step_deviation"] = (tau0 / c_tau0 - 1.0, "1", "set-time prefactor's deviation from its step "
                                           "check", f"set_time_tau0 / set_time_tau0_step_check - 1: {own}")
    out["set_time_v0_step_deviation"] = (v0 / c_v0 - 1.0, "1", "set-time voltage scale's deviation from its step "
                                         "check", f"set_time_v0 / set_time_v0_step_check - 1: {own}")
    c_relax = float(check["relaxation_time"])
    out["relaxation_time_step_check"] = (c_relax, "s", "self-rupture time, step control checked",
                                         f"time for the gap to exceed gap_rupture at zero bias from the state that "
                                         f"the checked set-time study bridged at its highest voltage, under {how}")
    out["relaxation_time_step_deviation"] = (t_relax / c_relax - 1.0, "1", "self-rupture time's deviation from its "
                                             "step check", f"relaxation_time / relaxation_time_step_check - 1: {own}")
    ramp = check["ramp"]
    if ramp is not None:
        run = f"the sweep's rising ramp again, to its first set, under {how} ({ramp['steps']:.0f} steps)"
        out["threshold_voltage_step_check"] = (ramp["threshold"], "V", "threshold voltage, step control checked",
                                               f"largest cell voltage before the first set of {run}")
        out["threshold_source_voltage_step_check"] = (ramp["source"], "V", "source voltage at the set, step control "
                                                      "checked", f"source voltage at the first set of {run}")
        out["threshold_step_deviation"] = (v_th / ramp["threshold"] - 1.0, "1", "threshold's deviation from its step "
                                           "check", f"threshold_voltage / threshold_voltage_step_check - 1: {own}")
    return out


def _ionic_circuit(ionic, spec: FilamentSpec) -> dict[str, list[float]]:
    """Each set voltage's ionic series circuit over the pristine gap at ambient temperature (result attributes).

    ``ionic_hopping_share`` [1]: η_hop / V; ``ionic_v0_hopping`` and ``ionic_v0_interfaces`` [V]: the
    hopping's and the two interfaces' shares of the set-time voltage scale V₀ = dV / d ln I there.
    """
    gap, temperature = spec.insulator_thickness - spec.seed_height, spec.ambient_temperature
    scales = [ionic.voltage_scale(v, gap, temperature) for v in spec.set_voltages]
    return {"ionic_hopping_share": [ionic.hopping_share(v, gap, temperature) for v in spec.set_voltages],
            "ionic_v0_hopping": [s["hopping"] for s in scales],
            "ionic_v0_interfaces": [s["anode"] + s["tip"] for s in scales]}


def solve_filament(spec: FilamentSpec, *, progress: bool = True, fields: str | Path | None = None) -> FilamentResult:
    """Run stage 1 in memory and return its :class:`FilamentResult`.

    Parameters
    ----------
    spec
        The cell, the drive and the numerics.
    progress
        Show progress bars (rank 0 only under MPI).
    fields
        Optional XDMF path for the (φ, T, Ag) snapshots of the main drive
        (``spec.field_snapshots`` of them); written by every rank together.

    Returns
    -------
    FilamentResult
        Traces, set times, relaxation, extracted scalars, and the data behind the
        stage's plots (temperature map at peak current, Ag profiles on the axis).

    Raises
    ------
    ConvergenceError
        The main drive failed; ``exc.partial`` holds a FilamentResult of the traces
        reached so far.
    SpecError
        The drive never bridged the gap (``exc.partial`` as above).
    KeyboardInterrupt
        Ctrl-C (or SIGTERM under the command line): ``exc.partial`` holds the main drive's trace, as far as it
        went, or whole when the stage was interrupted after it.
    """
    reached: dict = {}
    try:
        return _solve_filament(spec, progress, fields, reached)
    except KeyboardInterrupt as exc:
        trace = reached.get("main_drive", getattr(exc, "trace", None))
        if trace is not None and len(trace) > 1:
            exc.partial = _partial_result(spec, trace)
        raise


def _solve_filament(spec: FilamentSpec, progress: bool, fields, reached: dict) -> FilamentResult:
    """:func:`solve_filament`; ``reached["main_drive"]`` is set to the main drive's trace once it is complete."""
    from devicephys.filament.simulate import CellModel
    from devicephys.filament.fem.solve import temperature_map

    clock = _Clock()
    model = CellModel(spec)
    clock.lap("setup")
    comm = model.data.domain.comm
    progress = progress and comm.rank == 0
    pristine = model.state()
    from devicephys.filament import side

    # the set-time study, relaxation and thermal step in a second process beside the main drive (the same
    # numbers; see devicephys.filament.side); started after this model compiled its forms (a shared JIT cache)
    beside = side.SideRun(spec) if side.available(comm) else None
    try:
        trace, keep = _main_drive(model, spec, fields, progress)
        reached["main_drive"] = trace
        clock.lap(spec.drive)
        g = trace.array("gap")
        field = "sweep_voltage" if spec.drive == "sweep" else "pulse_voltage"
        if extract.set_index(g, spec.gap_on) is None:
            try:
                extract.threshold_voltage(trace.array("voltage"), g, spec.gap_on, field)  # raises SpecError
            except SpecError as exc:
                if model.nucleation is not None and not model.nucleated:  # what held the set back
                    exc.args = (f"{exc.args[0]}; the inert cathode did not nucleate (nucleation progress "
                                f"{model.nucleation_progress:.3g} of 1)",)
                exc.partial = _partial_result(spec, trace)
                raise
            except Exception as exc:
                exc.partial = _partial_result(spec, trace)
                raise
        # the step check's ramp here, after the main drive, and with a second process its lowest set voltage, while
        # that process runs its other set voltages (each from the pristine cell: the same numbers either way)
        ramp_check = (step_check_ramp(spec, progress)
                      if spec.step_check is not None and spec.drive == "sweep" else None)
        clock.lap("step_check_ramp", ramp_check is not None)
        split = beside is not None and spec.step_check is not None and len(spec.set_voltages) > 1
        first_check = step_check_set_runs(spec, 0, 1, relax=False, progress=progress) if split else None
        clock.lap("step_check_first_set_run", split)
        done = beside.collect(progress) if beside is not None else None
    except ConvergenceError as exc:
        partial = getattr(exc, "trace", None)
        if partial is not None and len(partial) > 1:
            exc.partial = _partial_result(spec, partial)
        raise
    finally:
        if beside is not None:
            beside.close()
    if beside is not None and done is None and comm.rank == 0:
        print(f"note: the second process gave no result ({beside.failure}); running its studies here",
              file=sys.stderr, flush=True)
    clock.lap("second_process_wait", beside is not None)  # after the main drive, until its result came
    side_parts = {name: (counts, wall) for name, counts, wall in done["parts"]} if done is not None else {}

    def from_side(name: str) -> bool:
        """Absorb part ``name`` of the second process (in the serial order); False when it did not run it."""
        if name not in side_parts:
            return False
        model.absorb(side_parts[name][0])
        clock.times[name] = side_parts[name][1]  # its wall time in the second process
        return True

    if from_side("set_runs"):
        set_times, bridged, set_forced, set_transients, set_nucleation, set_bodies, set_ions = done["set"]
    else:
        (set_times, bridged, set_forced, set_transients, set_nucleation, set_bodies,
         set_ions) = _set_runs(model, spec, pristine, progress)
        clock.lap("set_runs")
    bridged_from = f"the set-time run at {bridged[0]:g} V" if bridged is not None else ""
    if bridged is None:
        # No constant source bridged the pristine cell within set_time_limit (a filament whose contact dissolves
        # under the set current: the lattice-gas return mode behind 5 kOhm); the later studies start from the
        # main drive's own first bridged state, and the set-time law is not fitted.
        bridged = keep["first_set"]
        bridged_from = f"the {spec.drive}'s first set (source {bridged[0]:.4g} V): no set-time run bridged"
    hold_runs = _sweep_hold_runs(model, spec, keep["hold_states"], progress) if spec.sweep_hold_biases else None
    clock.lap("sweep_hold_study", bool(spec.sweep_hold_biases))
    if from_side("relaxation"):
        relax = done["relax"]
    else:
        relax = _relaxation(model, spec, bridged, progress, read=True)
        clock.lap("relaxation")
    if from_side("thermal_step"):
        thermal = done["thermal"]
    else:
        thermal = _thermal_step(model, spec, bridged)
        clock.lap("thermal_step")
    check = None
    if spec.step_check is not None:
        if first_check is not None and from_side("step_check_set_runs"):
            rest = done["check_set_runs"]
            relax_check = rest["relaxation_time"]
            if relax_check is None and first_check["bridged"] is not None:  # only the lowest voltage set
                relax_check = step_check_relaxation(CellModel(checked_spec(spec)), checked_spec(spec),
                                                    first_check["bridged"])
            check = {"set_times": np.concatenate([first_check["set_times"], rest["set_times"]]),
                     "relaxation_time": relax_check, "ramp": ramp_check}
        else:
            check = {**step_check_set_runs(spec, progress=progress), "ramp": ramp_check}
            clock.lap("step_check_set_runs")
        if check["relaxation_time"] is None:
            check["relaxation_time"] = math.nan
    n_fire = _fire_runs(model, spec, pristine, progress) if spec.fire_study else None
    clock.lap("fire_study", spec.fire_study)
    lifetime = _lifetime_runs(model, spec, bridged, progress) if spec.hold_biases else None
    clock.lap("lifetime_study", bool(spec.hold_biases))
    retention = _retention_runs(spec, progress) if spec.relax_compliances else None
    clock.lap("retention_study", bool(spec.relax_compliances))
    probes, pools = [], []
    static = (_static_threshold(model, spec, pristine, set_times, progress, probes, pools) if spec.static_threshold
              else (None, None))
    clock.lap("static_threshold", spec.static_threshold)
    scalars = _scalars(spec, trace, set_times, relax, bridged, thermal, static, check)
    if static[0] is not None and "threshold_source_voltage" in scalars:
        scalars["threshold_source_predicted_measured"] = measured_ramp_prediction(
            spec, [*probes, *zip(spec.set_voltages, set_times)], scalars["threshold_source_voltage"][0])
    if hold_runs is not None:
        scalars.update(_hold_window_scalars(spec, hold_runs))
    if lifetime is not None:
        scalars.update(_lifetime_scalars(spec, lifetime, bridged[0]))
    if static[0] is not None:
        scalars["threshold_voltage_static"] = (
            static[0], "V", "static threshold voltage",
            f"lowest constant source voltage that sets the pristine cell within set_time_limit = "
            f"{spec.set_time_limit:g} s: middle of the final bisection bracket"
            + _static_pool_note(probes, pools, model),
            (static[1], "half-width of the final bisection bracket"))
    ds = build_dataset(trace, spec.set_voltages, set_times, relax, scalars)
    if check is not None:
        ds["set_time_step_check"] = ("set_point", np.asarray(check["set_times"], float), {
            "units": "s", "long_name": "set time, step control checked",
            "method": f"the set-time study again from the pristine cell under the step check (step_check = "
                      f"{spec.step_check:g}) (NaN: no set within set_time_limit)"})
    add_set_transients(ds, set_transients)
    add_set_body_balance(ds, set_bodies)
    add_set_ion_charge(ds, set_ions)
    # with ion_compensation the ions drift in their own field: the charge-free premise the warning is about is unused
    ion_text = ion_warning(spec.set_voltages, set_ions) if spec.ion_compensation is None else ""
    ds.attrs["ion_space_charge_warning"] = ion_text
    if spec.ion_compensation is not None:
        ds.attrs["ion_compensation"] = float(spec.ion_compensation)
    if ion_text:
        model._warn("ion_space_charge", ion_text)
    if getattr(relax, "reads", None) is not None:
        add_opening_reads(ds, relax.reads, spec.read_voltage, OPENING_READ_STEP)
    if spec.cathode_nucleation:
        ds["set_nucleation_time"] = ("set_point", set_nucleation, {
            "units": "s", "long_name": "nucleation time on the inert cathode",
            "method": "time at which the cathode's nucleation progress, the integral of dt / t_nuc(eta_fc, T), "
                      "last reached 1 in each set-time run, the nucleation the set grew from (a deposit that "
                      "dissolved below the critical cluster lost its nucleus; NaN: none within the run)"})
    if n_fire is not None:
        add_fire_study(ds, spec.fire_voltages, spec.fire_intervals, n_fire, spec.pulse_width)
    if lifetime is not None:
        add_lifetime_study(ds, spec.hold_biases, lifetime, spec.relax_duration, bridged[0])
    if retention is not None:
        add_retention_study(ds, spec.relax_compliances, retention, spec.relax_hold, max(spec.set_voltages))
    if hold_runs is not None:
        add_sweep_hold_study(ds, spec.sweep_hold_biases, hold_runs, spec.relax_duration)
    ds.attrs["bridged_state"] = bridged_from
    # steps of each set-time run accepted at the floor although the Ag fraction changed by more than allowed
    ds.attrs["set_time_forced_steps"] = list(set_forced)
    if any(set_forced) and not spec.resolve_set:
        ds.attrs["set_time_step_note"] = (
            f"the set-time runs took {sum(set_forced)} steps at the drive's floor (min_step_fraction x set_time_limit "
            f"= {spec.min_step_fraction * spec.set_time_limit:g} s), where a forced step damps the set's runaway: the set "
            "times are limited by that floor (on the fast preset 3.7-4.7x too long); resolve_set: true resolves them")
        for name in ("set_time_tau0", "set_time_v0"):  # the report shows each number's method
            ds[name].attrs["method"] += "; not converged in the time step: " + ds.attrs["set_time_step_note"]
    note = sweep_step_note(spec) if spec.drive == "sweep" else None
    if note is not None:
        ds.attrs["sweep_step_note"] = note
        for name in ("threshold_voltage", "threshold_source_voltage"):
            if name in ds:
                ds[name].attrs["method"] += "; not converged in the time step: " + note
        if comm.rank == 0:
            print(f"warning: {note}", flush=True)
    if math.isnan(scalars["set_time_v0"][0]):
        ds.attrs["set_time_warning"] = (f"fewer than two of set_voltages {spec.set_voltages} V bridged the pristine "
                                        f"cell (gap < gap_on) within set_time_limit = {spec.set_time_limit:g} s: "
                                        "the set-time law is not fitted (NaN)")
        if comm.rank == 0:
            print(f"warning: {ds.attrs['set_time_warning']}", flush=True)
    ds.attrs["unknowns"] = model.unknowns
    ds.attrs.update(model.solver_statistics())
    ds.attrs.update(model.temperature_flags())
    ds.attrs.update(model.occupancy_flags())
    ds.attrs.update(model.pool_flags())
    if model.ionic is not None:
        ds.attrs.update(_ionic_circuit(model.ionic, spec))
    if keep["T"] is not None:
        model.et.T.x.array[:] = keep["T"]
    add_plot_data(ds, temperature_map(model.et), model.transport.z, keep["profiles"])  # collective
    clock.lap("extraction")
    ds.attrs.update(clock.attrs())
    return FilamentResult(spec, ds, engine_versions("filament"))


class _Clock:
    """Wall time [s] of the stage's parts, as ``wall_time_<part>_s`` attributes (rank 0's clock)."""

    def __init__(self):
        self.times: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, part: str, ran: bool = True) -> None:
        now = time.perf_counter()
        if ran:
            self.times[part] = now - self._last
        self._last = now

    def attrs(self) -> dict[str, float]:
        return {f"wall_time_{k}_s": float(v) for k, v in self.times.items()}


def run(spec: FilamentSpec, out: Path, *, upstream: dict[str, Path] | None = None,
        progress: bool = True) -> dict[str, Path]:
    """Solve stage 1 (:func:`solve_filament`), save ``filament.nc``, plot; ``fields.xdmf`` too."""
    from mpi4py import MPI

    from devicephys.filament import plot

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    comm = MPI.COMM_WORLD
    fields = out / "fields.xdmf" if spec.field_snapshots else None
    partial_file = out / "filament_partial.nc"
    try:
        result = solve_filament(spec, progress=progress, fields=fields)
    except (ConvergenceError, SpecError, KeyboardInterrupt) as exc:
        partial = getattr(exc, "partial", None)
        if partial is None:
            raise
        saved = _on_root(comm, lambda: partial.save(partial_file), "filament_partial.nc")
        if isinstance(exc, ConvergenceError):
            raise ConvergenceError(f"main drive: {exc}", saved=str(saved)) from None
        if isinstance(exc, KeyboardInterrupt) and comm.rank == 0:
            t = partial.data["time"].values
            print(f"devicephys: the {spec.drive}'s {len(t)} samples up to t = {t[-1]:.4g} s are kept in {saved}",
                  file=sys.stderr, flush=True)
        raise
    if comm.rank == 0 and partial_file.exists():
        partial_file.unlink()  # an earlier run's: this run finished

    def write() -> dict[str, Path]:
        files = {"result": result.save(out / "filament.nc")}
        files.update(plot.all_plots(result, out))
        return files

    files = _on_root(comm, write, "filament.nc and the plots")
    if fields is not None:
        files["fields"] = fields
    return files


def _partial_result(spec: FilamentSpec, trace) -> FilamentResult:
    """The traces reached so far, as a FilamentResult (saved as ``filament_partial.nc``)."""
    import xarray as xr

    from devicephys.filament.result import TRACE_VARS

    ds = xr.Dataset(coords={"time": ("time", trace.array("time"), {"units": "s"})})
    for name, (unit, text) in TRACE_VARS.items():
        ds[name] = ("time", trace.array(name), {"units": unit, "long_name": text})
    return FilamentResult(spec, ds, engine_versions("filament"))
