"""Fit a DeviceCard to a user's measured data (CSV files with units in the header).

CSV layout: a header row naming each column with its unit in brackets, e.g.
``time [s],voltage [V],current [mA]``; units with SI prefixes are converted to
SI.  Two kinds of file:

DC sweep (cell voltage up and down through a compliance resistor)
    columns ``voltage`` [V] and ``current`` [A], in time order.  Gives
    the threshold (highest cell voltage before switching on), the hold
    voltage (lowest cell voltage still on), R_on and R_off (medians of V/I on
    each branch).
Pulse responses
    columns ``voltage`` [V] and ``set_time`` [s] (one row per pulse amplitude),
    optionally ``relaxation_time`` [s].  Gives the set-time law.

Measurements carry no gap, so the tunnelling geometry (``decay_constant``,
``contact_gap``, ``gap_min``, ``gap_max``) and the thermal node come from a
*base card* (e.g. the one fitted to the FEM/FDTD results).  Onto it the
measured circuit-level behaviour is mapped consistently: leakage = R_off, the
contact conductance so that ``1/G_cell(gap_min) = R_on``, the set-time law, the
relaxation time when given, and the activation energy from the hold voltage
(set-time law refined with the full model, as in :mod:`devicephys.compact.build`).
The card's threshold is then the model's own; its difference from the measured
threshold is reported in ``fit_quality``.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from devicephys import units
from devicephys.compact import fit
from devicephys.compact.card import DeviceCard
from devicephys.compact.model import ModelParams
from devicephys.errors import SpecError
from devicephys.units import UnitError, parse_quantity

_HEADER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\[(.*)\]\s*$")


def read_csv(path: str | Path, columns: dict[str, str], optional: dict[str, str] | None = None) -> dict[str, np.ndarray]:
    """Columns of a CSV file in SI units.

    Parameters
    ----------
    path
        CSV file whose header names columns as ``name [unit]``.
    columns, optional
        Required and optional column names mapped to their SI unit.
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"measurement file '{path}' does not exist")
    with open(path, newline="") as fh:
        rows = [r for r in csv.reader(fh) if r and not r[0].lstrip().startswith("#")]
    if len(rows) < 2:
        raise SpecError(f"{path.name}: needs a header row 'name [unit],...' and data rows")
    header = {}
    for k, cell in enumerate(rows[0]):
        m = _HEADER.match(cell)
        if not m:
            raise SpecError(f"{path.name}: column header {cell!r} must read 'name [unit]', e.g. 'current [mA]'")
        header[m.group(1)] = (k, m.group(2).strip())
    wanted = {**columns, **(optional or {})}
    out = {}
    for name, si in wanted.items():
        if name not in header:
            if name in columns:
                raise SpecError(f"{path.name}: column '{name} [{si}]' is missing; found {sorted(header)}")
            continue
        k, unit = header[name]
        try:
            scale = parse_quantity(f"1 {unit}", si)
        except UnitError:
            raise SpecError(f"{path.name}: column '{name}' has unit [{unit}], which is not convertible to {si}; "
                            f"write it in {si} or a prefixed {si}") from None
        out[name] = _column(path, rows[1:], k, name) * scale
    return out


def _column(path: Path, rows, k: int, name: str) -> np.ndarray:
    values = []
    for line, row in enumerate(rows, start=2):
        try:
            values.append(float(row[k]))
        except (ValueError, IndexError):
            raise SpecError(f"{path.name} line {line}: column '{name}' is not a number "
                            f"({row[k] if k < len(row) else 'missing'!r})") from None
    arr = np.array(values)
    if not np.all(np.isfinite(arr)):
        raise SpecError(f"{path.name}: column '{name}' holds NaN or infinite values; remove those rows")
    return arr


def sweep_parameters(voltage, current) -> dict[str, float]:
    """Threshold and hold voltage [V], R_on and R_off [Ohm] from a measured DC sweep."""
    v, i = np.asarray(voltage, float), np.asarray(current, float)
    ok = np.abs(v) > 1e-3 * np.abs(v).max()
    g = np.where(ok, i / np.where(ok, v, 1.0), np.nan)
    if np.nanmin(g) <= 0 or np.nanmax(g) / np.nanmin(g) < 10:
        raise SpecError("DC sweep: the conductance changes by less than 10x (or is not positive); "
                        "this is not a threshold-switching sweep with positive voltage")
    on = ok & (g > math.sqrt(np.nanmax(g) * np.nanmin(g)))
    first = int(np.argmax(on))
    if first == 0 or not np.any(~on[first:] & ok[first:]):
        raise SpecError("DC sweep: needs OFF samples before switching on and after switching off (sweep up and down)")
    return {"threshold_voltage": float(v[:first].max()), "hold_voltage": float(v[on].min()),
            "resistance_on": float(np.median(1 / g[on])), "resistance_off": float(np.median(1 / g[ok & ~on]))}


def _map_onto(base: ModelParams, sweep: dict[str, float], pulses: dict[str, np.ndarray]) -> ModelParams:
    g_cell = 1 / sweep["resistance_on"] - 1 / sweep["resistance_off"]
    if base.filament_resistance * g_cell >= 1:
        raise SpecError(f"measured R_on = {sweep['resistance_on']:.4g} Ohm is below the base card's filament "
                        f"resistance {base.filament_resistance:.4g} Ohm; use a base card with a thicker filament")
    g_gap = g_cell / (1 - base.filament_resistance * g_cell)
    g_c = g_gap * (1 + math.exp(2 * base.decay_constant * (base.gap_min - base.contact_gap)))
    p = replace(base, leakage_resistance=sweep["resistance_off"], contact_conductance=g_c)
    if "relaxation_time" in pulses:
        p = replace(p, relaxation_time=float(np.median(pulses["relaxation_time"])))
    st, _, _ = fit.fit_set_time(pulses["voltage"], pulses["set_time"], p.relaxation_time)
    p = replace(p, **st)
    p = replace(p, activation_energy=fit.activation_energy_from_hold(p, sweep["hold_voltage"]))
    p, _, _ = fit.refine_set_time(p, sweep["hold_voltage"], pulses["voltage"], pulses["set_time"])
    return p


def fit_measured(sweep_csv: str | Path, pulses_csv: str | Path, base: DeviceCard, name: str) -> DeviceCard:
    """A DeviceCard from measured CSV files, with geometry and thermal node from ``base``."""
    from devicephys.compact import build
    from devicephys.compact.spec import CompactSpec

    sw = read_csv(sweep_csv, {"voltage": "V", "current": "A"})
    pulses = read_csv(pulses_csv, {"voltage": "V", "set_time": "s"}, {"relaxation_time": "s"})
    measured = sweep_parameters(sw["voltage"], sw["current"])
    p = _map_onto(base.model_params(), measured, pulses)
    values = base.values()
    spec = CompactSpec(name=name, neuron_capacitance=values["neuron_capacitance"])
    neuron, n_src = build.neuron_parameters(p, spec)
    values.update(p.as_dict())
    values.update(neuron)
    values["photons_per_spike"] = values["photons_per_electron"] * values["spike_charge"] / units.e
    sources = {k: e.get("source", "") + " (base card)" for k, e in base.parameters.items()}
    src = f"measured: {Path(sweep_csv).name}, {Path(pulses_csv).name}"
    sources.update({k: src for k in ("leakage_resistance", "contact_conductance", "set_time_tau0", "set_time_v0",
                                      "activation_energy")})
    sources.update(n_src)
    quality = {"measured": measured,
               "threshold_model_vs_measured": (neuron["threshold_voltage"] - measured["threshold_voltage"])
               / measured["threshold_voltage"]}
    return DeviceCard.from_values(name, values, sources, provenance={"measurements": [str(Path(sweep_csv).name),
                                  str(Path(pulses_csv).name)], "base_card": base.name}, fit_quality=quality)
