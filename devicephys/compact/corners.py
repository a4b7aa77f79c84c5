"""The card at either end of its ON state's spread, written as circuit models beside the card's own.

The card's R_on is the median of an ON state that spreads as widely as itself, and its bracket
(``fit_quality.resistance_on_bracket``, :func:`devicephys.compact.build.resistance_on_bracket`) holds
the card refitted at the two ends (the quartiles of the ON samples, or R_on -+ its 1-sigma): the
contact conductance solved for each end, the rest held, the reference neuron and the optics
recomputed.  A circuit designer simulates the neuron at both ends beside the card itself; this
module builds those two cards (:func:`end_card`) and writes their SPICE and Verilog-A files
(:func:`write_ends`) under their own subcircuit and module names, ``NAME_ron_low`` and
``NAME_ron_high``, so that all three load into one netlist.  An end the bracket has no card for
(its row carries a note: below the filament body's resistance, a reference neuron that does not
oscillate, an emitting gap outside the emission result) is not written.
"""

from __future__ import annotations

from pathlib import Path

from devicephys.compact import build, export_spice, export_veriloga
from devicephys.compact.card import DeviceCard
from devicephys.compact.spec import CompactSpec

#: The bracket's sides and the suffix of their cards' names.
SUFFIX = {"low": "ron_low", "high": "ron_high"}


def end_card(card: DeviceCard, side: str, spec: CompactSpec) -> DeviceCard | None:
    """The card at the ``side`` ("low" or "high") end of its R_on bracket, or None where it has none.

    Its contact conductance is solved for the end's R_on (:func:`devicephys.compact.build.refit_at_resistance_on`),
    its reference neuron recomputed (:func:`devicephys.compact.build.neuron_parameters`) and its optics' scalars
    taken from the bracket's row; every other parameter is the card's.  Each changed parameter's source says so;
    the card carries no uncertainties (it is itself the bound) and no spike spectrum.
    """
    bracket = card.fit_quality.get("resistance_on_bracket") or {}
    row = bracket.get(side)
    if not row or "note" in row:
        return None
    r_on = float(row["resistance_on"])
    q = build.refit_at_resistance_on(card.model_params())(r_on)
    neuron, _ = build.neuron_parameters(q, spec)
    base = card.values()
    values = {**base, **q.as_dict(), **neuron, **{k: row[k] for k in build.BRACKET_OPTICS if k in row}}
    ends = bracket.get("ends") or "the card's R_on bracket"
    at = f"R_on's {side} end, {r_on:.6g} Ohm ({ends})"
    sources = {k: e.get("source", "") for k, e in card.parameters.items()}
    for k, v in values.items():
        if k in base and v == base[k]:
            continue
        if k == "contact_conductance":
            sources[k] = f"solved for {at}: G_cell(gap_min) = 1/R_on, every other parameter the card's"
        elif k in build.BRACKET_OPTICS:
            sources[k] = f"the card's optics recomputed at {at} (fit_quality.resistance_on_bracket of '{card.name}')"
        elif k in neuron:
            sources[k] = f"the reference neuron recomputed at {at}"
    # the card's own provenance, its flat entries (the nested ones, e.g. the compact spec, stay in the card)
    inherited = {f"card_{k}": v for k, v in card.provenance.items() if not isinstance(v, dict)}
    provenance = {"card": card.name, "resistance_on_end": side, "resistance_on": r_on, "ends": ends, **inherited}
    return DeviceCard.from_values(f"{card.name}_{SUFFIX[side]}", values, sources, provenance=provenance,
                                  fit_quality={"resistance_on_end": {"side": side, **row}})


def write_ends(card: DeviceCard, spec: CompactSpec, out: Path) -> dict[str, Path]:
    """SPICE and Verilog-A files of the card at both ends of its R_on bracket, in ``out``.

    Returns them by name (``spice_ron_low``, ``veriloga_ron_low``, ``spice_ron_high``, ``veriloga_ron_high``); empty
    where the card has no bracket, without the end it has no card for.
    """
    files: dict[str, Path] = {}
    for side, suffix in SUFFIX.items():
        end = end_card(card, side, spec)
        if end is None:
            continue
        name, _ = export_spice.subcircuit_names(end)
        files[f"spice_{suffix}"] = export_spice.write(end, Path(out) / f"{name}.lib")
        files[f"veriloga_{suffix}"] = export_veriloga.write(end, Path(out) / f"{name}.va")
    return files
