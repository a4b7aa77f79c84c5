"""Commented default spec files, as ``devicephys init KIND`` writes them.

Every field of the spec is written with its description and unit as a
comment above it, at the value of the chosen preset, so that a new user edits
a complete, valid file instead of starting from the schema.
"""

from __future__ import annotations

import yaml

from devicephys import stages

#: What each kind of file is for (first comment line).
_PURPOSE = {"pipeline": "the whole pipeline: 'devicephys run FILE --out DIR'"}


def _flow(value) -> str:
    """``value`` as one line of YAML (flow style)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 30, sort_keys=False)
    return "\n".join(line for line in text.splitlines() if line != "...").strip()


def spec_class(kind: str):
    """The spec class of ``kind`` (a stage name or 'pipeline')."""
    if kind == "pipeline":
        from devicephys.pipeline import PipelineSpec
        return PipelineSpec
    return stages.get(kind).spec_class()


def template(kind: str, *, fast: bool = False, device: bool = False) -> str:
    """YAML text of the ``kind`` spec at its full (default) or fast preset, every field commented.

    Parameters
    ----------
    kind
        A stage name (``filament``, ``emission``, ``compact``, ``array``) or ``pipeline``.
    fast
        Write the stage's quick preset instead of its default (full) one; the
        pipeline file then selects ``preset: fast`` (its default anyway).
    device
        The emission stage's device preset (its ``device`` method) on top of the chosen preset.
    """
    cls = spec_class(kind)
    spec = cls.fast() if fast and hasattr(cls, "fast") else cls()
    if device:
        spec = cls.device(spec)
    values = spec.to_dict()
    preset = "fast" if fast else ("default" if kind == "pipeline" else "default (full)")
    preset += " + device" if device else ""
    purpose = _PURPOSE.get(kind, f"one stage: 'devicephys {kind} FILE --out DIR'")
    lines = [f"# {cls.__name__}: {purpose}.",
             f"# Written by 'devicephys init {kind}{' --fast' if fast else ''}{' --device' if device else ''}' at the "
             f"{preset} preset; "
             "every field may be removed (it then takes that preset's value).",
             "# Quantities take a number in SI units or a string with a unit, e.g. \"10 nm\", \"300 K\", \"0.44 eV\".",
             f"# All fields, units and limits: 'devicephys schema {kind}'.", "",
             "# which spec this file holds ('devicephys validate FILE' reads it; a stage command refuses another kind)",
             f"kind: {kind}"]
    for name, info in cls.model_fields.items():
        if name not in values:
            continue
        lines.append("# " + (info.description or name).replace("\n", "\n# "))
        lines.append(f"{name}: {_flow(values[name])}")
    return "\n".join(lines) + "\n"
