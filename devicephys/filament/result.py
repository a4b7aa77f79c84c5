"""FilamentResult: traces, set times, relaxation and extracted parameters (NetCDF)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from devicephys.filament.extract import incubation_time
from devicephys.filament.spec import FilamentSpec
from devicephys.result import Result, scalar_var

#: Units and descriptions of the main-drive traces (dimension ``time``).
TRACE_VARS = {
    "voltage": ("V", "voltage across the cell"),
    "source_voltage": ("V", "source voltage before the series resistor"),
    "current": ("A", "current through the cell"),
    "temperature_max": ("K", "peak temperature in the cell"),
    "gap": ("m", "length of the channel below the percolation threshold (filament tip to the opposite electrode)"),
    "filament_radius": ("m", "equivalent radius of the metallic filament"),
    "energy": ("J", "cumulative Joule energy dissipated in the cell"),
}


class FilamentResult(Result):
    """Output of stage 1 (see the module docstring of :mod:`devicephys.filament.stage`)."""

    kind = "filament"
    spec_class = FilamentSpec


def build_dataset(trace, set_voltage, set_time, relax, scalars: dict) -> xr.Dataset:
    """Assemble the dataset.

    Parameters
    ----------
    trace
        :class:`~devicephys.filament.simulate.Trace` of the main drive.
    set_voltage, set_time
        Arrays [V], [s] of the set-time study (NaN where no set happened).
    relax
        Trace after the bias was removed (its ``time`` and ``gap``).
    scalars
        name -> (value, units, description, method[, (uncertainty, uncertainty method)]).
    """
    time = trace.array("time")
    ds = xr.Dataset(coords={"time": ("time", time, {"units": "s", "long_name": "time of the main drive"}),
                            "set_point": ("set_point", np.arange(len(set_voltage)), {"units": "1"}),
                            "relax_time": ("relax_time", relax.array("time"),
                                           {"units": "s", "long_name": "time since the bias was removed"})})
    for name, (unit, text) in TRACE_VARS.items():
        ds[name] = ("time", trace.array(name), {"units": unit, "long_name": text})
    ds["set_voltage"] = ("set_point", np.asarray(set_voltage, float), {"units": "V", "long_name": "constant source voltage"})
    ds["set_time"] = ("set_point", np.asarray(set_time, float),
                      {"units": "s", "long_name": "time until the filament bridges (NaN: not within set_time_limit)"})
    ds["relax_gap"] = ("relax_time", relax.array("gap"), {"units": "m", "long_name": "gap after the bias was removed"})
    for name, (value, unit, text, method, *uncertainty) in scalars.items():
        ds[name] = scalar_var(value, unit, text, method, uncertainty[0] if uncertainty else None)
    return ds


def add_set_transients(ds: xr.Dataset, transients) -> None:
    """Each set-time run's gap against time, on (set_point, set_sample), NaN-padded; in place.

    ``transients``: one (time [s], gap [m]) pair of arrays per set voltage, up to the set (or
    ``set_time_limit``)."""
    n = max((len(t) for t, _ in transients), default=0)
    time, gap = np.full((len(transients), n), np.nan), np.full((len(transients), n), np.nan)
    for k, (t, g) in enumerate(transients):
        time[k, :len(t)], gap[k, :len(g)] = t, g
    ds["set_transient_time"] = (("set_point", "set_sample"), time,
                                {"units": "s", "long_name": "time of the set-time run (NaN after its end)"})
    ds["set_transient_gap"] = (("set_point", "set_sample"), gap,
                               {"units": "m", "long_name": "gap during the set-time run (NaN after its end)"})
    incubation = np.array([incubation_time(t, g) for t, g in transients], dtype=float)
    ds["set_incubation"] = ("set_point", incubation,
                            {"units": "s", "long_name": "time until the gap first shortens in the set-time run (the "
                                                        "first ions have crossed it); NaN if it never does",
                             "method": "first sample of set_transient_gap below its starting value; known to the "
                                       "sample interval before it"})


#: The growing body's quantities at half closure (:class:`~devicephys.filament.balance.BodyBalance`): variable,
#: field, unit, long name.
SET_BODY_VARIABLES = (
    ("set_body_time", "time", "s", "time at which the gap first fell below half its start in the set-time run"),
    ("set_body_metal_fraction", "metal_fraction", "1", "median metal fraction of the growing filament's body"),
    ("set_body_dissolved_fraction", "dissolved_fraction", "1", "median dissolved Ag fraction beside the body"),
    ("set_body_return_ratio", "return_ratio", "1", "the field's return of dissolved Ag over the body's dissolution"),
    ("set_body_voltage_share", "voltage_share", "1", "the body's share of the channel's voltage"),
)


def add_set_body_balance(ds: xr.Dataset, bodies) -> None:
    """Each set-time run's growing body at half closure, on set_point (NaN where the gap never halved); in place.

    ``bodies``: one :class:`~devicephys.filament.balance.BodyBalance` per set voltage."""
    method = ("at the first accepted step of the set-time run whose gap is below half its start: over the nodes of "
              "the metallic run connected to the counter electrode (devicephys.filament.balance.body_balance); the "
              "return is |v_MG(E, T)| / channel_radius x c_s in the node's field, the dissolution k_d(T) c_m / (c_m + "
              "eps), both summed over the body's nodes (a return ratio near 1: the field holds the body at percolation "
              "against its dissolution; near 0: the growth outruns the dissolution)")
    for name, field, unit, long_name in SET_BODY_VARIABLES:
        ds[name] = ("set_point", np.array([getattr(b, field) for b in bodies], dtype=float),
                    {"units": unit, "long_name": long_name, "method": method})


#: Each set-time run's largest ionic space charge (:class:`~devicephys.filament.ion_charge.IonCharge`): variable,
#: field, unit, long name.
SET_ION_VARIABLES = (
    ("set_ion_potential", "potential", "V", "largest potential of the mobile ions' own charge on the channel's axis "
                                            "(uncompensated, every conductor at 0 V) while the gap was open"),
    ("set_ion_potential_ratio", "ratio", "1", "largest ratio of that potential to the voltage the ions' drift crosses "
                                              "(the channel's voltage, at least k_B T / e)"),
    ("set_ion_potential_ratio_median", "ratio_median", "1", "median of that ratio over the run's time while the gap "
                                                            "was open (each accepted step's ratio weighted by its step)"),
    ("set_ion_potential_ratio_time", "time", "s", "time of the largest ratio from the run's start"),
    ("set_ion_potential_ratio_fraction", "ion_fraction", "1", "largest mobile Ag+ fraction on the axis then"),
)


def add_set_ion_charge(ds: xr.Dataset, ions) -> None:
    """Each set-time run's largest ionic space charge, on set_point; in place.  ``ions``: one
    :class:`~devicephys.filament.ion_charge.IonCharge` per set voltage."""
    from devicephys.filament.ion_charge import SPACE_CHARGE_LIMIT

    method = ("after every accepted step of the set-time run while the channel had a gap: Poisson's equation "
              "-div(eps grad psi) = (e / Omega) c_i(z) S(r) on the cell's mesh (P1), the electrodes and the filament's "
              "metal that touches one at 0 V, the insulator's relative permittivity "
              "(devicephys.filament.fem.space_charge); the transport drifts its ions in the applied field alone, "
              f"valid while the ratio is at most {SPACE_CHARGE_LIMIT:g} for most of the run (its time-weighted "
              "median; the ions taken uncompensated, as the transport has them)")
    for name, field, unit, long_name in SET_ION_VARIABLES:
        ds[name] = ("set_point", np.array([getattr(i, field) for i in ions], dtype=float),
                    {"units": unit, "long_name": long_name, "method": method})


def add_opening_reads(ds: xr.Dataset, reads: dict[str, np.ndarray], read_voltage: float, step: float) -> None:
    """The relaxation's reads as the gap opened (``reads`` of :func:`~devicephys.filament.stage._opening_reads`,
    one each ``step`` [m] of the gap), on relax_read; in place."""
    method = (f"V/I at read_voltage = {read_voltage:g} V with the silver frozen (one 1 ns step), at the first "
              f"accepted step of the relaxation each time the gap had opened by another {step:g} m past gap_on")
    ds.coords["relax_read"] = ("relax_read", np.arange(len(reads["time"])), {"units": "1"})
    ds["relax_read_time"] = ("relax_read", reads["time"], {"units": "s", "long_name": "time since the bias was removed"})
    ds["relax_read_gap"] = ("relax_read", reads["gap"], {"units": "m", "long_name": "gap at the read"})
    ds["relax_read_resistance"] = ("relax_read", reads["resistance"], {
        "units": "Ohm", "long_name": "read resistance of the cell as its gap opened", "method": method})
    ds["relax_read_gap_resistance"] = ("relax_read", reads["lumped_resistance"], {
        "units": "Ohm", "long_name": "1/G_gap of the lumped gap law at the read (Simmons tunnelling in series with "
                                     "the neck's contact), which the potential equation carries",
        "method": "ChannelConduction.gap_conductance at the read's gap, neck and cell voltage"})


def add_fire_study(ds: xr.Dataset, voltages, intervals, n_fire: np.ndarray, width: float) -> None:
    """The pulse-integration study: N_fire [1] on (fire_voltage [V], fire_interval [s]); in place."""
    ds.coords["fire_voltage"] = ("fire_voltage", np.asarray(voltages, float), {"units": "V", "long_name": "pulse amplitude"})
    ds.coords["fire_interval"] = ("fire_interval", np.asarray(intervals, float),
                                  {"units": "s", "long_name": "pulse period (start to start)"})
    ds["n_fire"] = (("fire_voltage", "fire_interval"), np.asarray(n_fire, float),
                    {"units": "1", "long_name": f"pulses of width {width:g} s until the filament bridges "
                                                "(NaN: not within fire_pulse_limit)"})


def add_retention_study(ds: xr.Dataset, compliances, runs: dict[str, np.ndarray], hold: float, voltage: float) -> None:
    """The retention study on ``relax_compliance`` [A]: self-rupture time and the held filament; in place."""
    ds.coords["relax_compliance"] = ("relax_compliance", np.asarray(compliances, float),
                                     {"units": "A", "long_name": "compliance current of the set and hold"})
    text = {"relaxation_time_held": ("s", "self-rupture time after the bias is removed (gap > gap_rupture; NaN: "
                                          "no set, or no rupture within relax_duration)"),
            "relaxation_time_held_resolution": ("s", "time step of the relaxation in which the self-rupture was read "
                                                     "(the crossing lies within it)"),
            "neck_radius_held": ("m", "radius of the filament's narrowest metallic cross-section at the end of the hold"),
            "neck_metal_fraction_held": ("1", "metal fraction of the narrowest metallic axis node (c >= the "
                                              "percolation threshold) at the end of the hold"),
            "resistance_on_held": ("Ohm", "cell resistance V/I at the end of the hold"),
            "temperature_max_held": ("K", "peak temperature during the hold")}
    for name, (unit, long_name) in text.items():
        ds[name] = ("relax_compliance", np.asarray(runs[name], float),
                    {"units": unit, "long_name": f"{long_name}; set and {hold:g} s hold at {voltage:g} V"})


def add_lifetime_study(ds: xr.Dataset, biases, runs: dict[str, np.ndarray], duration: float, voltage: float) -> None:
    """The ON-lifetime study on ``hold_bias`` [V]: time to the first rupture under each bias; in place."""
    ds.coords["hold_bias"] = ("hold_bias", np.asarray(biases, float),
                              {"units": "V", "long_name": "constant source voltage held on the bridged filament"})
    text = {"on_lifetime": ("s", "time to the first rupture (gap > gap_rupture; NaN: ON for the whole hold)"),
            "on_lifetime_uncertainty": ("s", "time step of the hold at that rupture (the crossing lies within it)"),
            "on_resets": ("1", "times the gap closed again (gap < gap_on) after a rupture during the hold"),
            "on_voltage": ("V", "median cell voltage while ON (gap < gap_on) during the hold"),
            "on_temperature_max": ("K", "peak temperature during the hold")}
    for name, (unit, long_name) in text.items():
        ds[name] = ("hold_bias", np.asarray(runs[name], float),
                    {"units": unit, "long_name": f"{long_name}; filament bridged at {voltage:g} V, "
                                                 f"then {duration:g} s at each bias"})


def add_sweep_hold_study(ds: xr.Dataset, biases, runs: dict[str, np.ndarray], duration: float) -> None:
    """The hold-window study on ``sweep_hold_bias`` [V]: each bias held from the sweep's falling ramp; in place."""
    ds.coords["sweep_hold_bias"] = ("sweep_hold_bias", np.asarray(biases, float),
                                    {"units": "V", "long_name": "source voltage held from the sweep's falling ramp"})
    text = {"start_on": ("1", "1: ON (gap < gap_on) where the falling ramp passes the bias"),
            "ruptures": ("1", "times the filament went from ON to ruptured (gap > gap_rupture) during the hold"),
            "rupture_time": ("s", "time to the first rupture (NaN: none)"),
            "on_fraction": ("1", "share of the hold with gap < gap_on"),
            "on_voltage": ("V", "median cell voltage while ON during the hold"),
            "temperature_max": ("K", "peak temperature during the hold")}
    for name, (unit, long_name) in text.items():
        ds[f"sweep_hold_{name}"] = ("sweep_hold_bias", np.asarray(runs[name], float),
                                    {"units": unit, "long_name": f"{long_name}; {duration:g} s at each bias"})
    if "replica_on_fraction" in runs:  # sweep_hold_replicas > 1: every run, the unperturbed first
        ds.coords["sweep_hold_replica"] = ("sweep_hold_replica", np.arange(runs["replica_on_fraction"].shape[1]),
                                           {"units": "1", "long_name": "run of the hold (0: the sweep's state as it "
                                                                       "is; others: its Ag moved by about an atom "
                                                                       "per node)"})
        for name, (unit, long_name) in text.items():
            ds[f"sweep_hold_replica_{name}"] = (("sweep_hold_bias", "sweep_hold_replica"),
                                                np.asarray(runs[f"replica_{name}"], float),
                                                {"units": unit, "long_name": f"{long_name}; each run"})


def add_plot_data(ds: xr.Dataset, temperature, axis_z, profiles) -> None:
    """Add the data behind the stage's field plots to ``ds`` (in place).

    Parameters
    ----------
    temperature
        (r, z, T) at the mesh vertices [m, m, K], at the peak current of the main drive.
    axis_z
        Axis nodes of the channel transport [m] (active electrode at 0).
    profiles
        [(time [s], metallic Ag fraction on ``axis_z``), ...] during the main drive.
    """
    r, z, T = (np.asarray(a, float) for a in temperature)
    # One order whatever the mesh partition (serial and MPI runs agree): coordinates rounded to 1 fm first,
    # as a vertex's coordinates differ in their last bits between partitions.
    order = np.lexsort((np.round(r / 1e-15), np.round(z / 1e-15)))
    r, z, T = r[order], z[order], T[order]
    ds.coords["map_node"] = ("map_node", np.arange(r.size), {"units": "1", "long_name": "mesh vertex"})
    ds["map_r"] = ("map_node", r, {"units": "m", "long_name": "radial coordinate of the vertex"})
    ds["map_z"] = ("map_node", z, {"units": "m", "long_name": "axial coordinate of the vertex"})
    ds["map_temperature"] = ("map_node", T, {"units": "K", "long_name": "temperature at the peak current of the main drive"})
    ds.coords["axis_z"] = ("axis_z", np.asarray(axis_z, float), {"units": "m", "long_name": "position on the channel axis"})
    times = np.array([t for t, _ in profiles], float)
    fractions = np.array([c for _, c in profiles], float).reshape(times.size, -1)
    ds.coords["profile_time"] = ("profile_time", times, {"units": "s", "long_name": "time of the Ag profile"})
    ds["axis_metal_fraction"] = (("profile_time", "axis_z"), fractions,
                                 {"units": "1", "long_name": "metallic Ag fraction on the channel axis"})
