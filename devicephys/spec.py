"""Base class of every stage's specification: immutable, validated, with units.

A spec field that holds a physical quantity is declared with :func:`quantity`,
which records its SI unit and description.  Such a field accepts a number
(already SI) or a string with a unit (``"1.5 nm"``); strings are converted to
SI floats when the spec is built.  NaN and infinities are refused everywhere.
Invalid input raises :class:`~devicephys.errors.SpecError` naming the field,
the value, the rule and the fix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from devicephys.errors import SpecError
from devicephys.units import UnitError, parse_quantity


def quantity(default: Any, unit: str, description: str, **rules: Any) -> Any:
    """A spec field holding a physical quantity in SI ``unit``.

    ``rules`` are pydantic numeric constraints (``gt``, ``ge``, ``lt``, ``le``).
    """
    return Field(default, description=f"{description} [{unit}]", json_schema_extra={"unit": unit}, **rules)


def option(default: Any, description: str, **rules: Any) -> Any:
    """A spec field that is not a physical quantity (a name, a count, a flag)."""
    return Field(default, description=description, **rules)


_RULE_TEXT = {
    "greater_than": ("must be > {gt}", "gt"),
    "greater_than_equal": ("must be >= {ge}", "ge"),
    "less_than": ("must be < {lt}", "lt"),
    "less_than_equal": ("must be <= {le}", "le"),
}


class Spec(BaseModel):
    """Immutable, validated description of one computation."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, validate_default=True)

    #: Name used in schemas, the CLI and result files.
    kind: ClassVar[str] = "spec"

    @model_validator(mode="before")
    @classmethod
    def _parse_units(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = _strip_kind(cls, dict(data))
        for name, info in cls.model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            unit = extra.get("unit")
            if unit is None or name not in out:
                continue
            value = out[name]
            if isinstance(value, (list, tuple)):  # a list of quantities: each element may carry a unit
                out[name] = [_parse_one(cls, name, v, unit) for v in value]
            else:
                out[name] = _parse_one(cls, name, value, unit)
        return out

    def __init__(self, **data: Any):
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _spec_error(type(self), exc) from None

    # -- serialisation -------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dictionary in SI units (round-trips through :meth:`from_dict`)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: Any) -> "Spec":
        """Build and validate a spec from a dictionary (values may carry units)."""
        if not isinstance(data, dict):
            raise SpecError(f"{cls.__name__}: expected a mapping of field names to values, got {type(data).__name__}")
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_json(cls, text: str) -> "Spec":
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise SpecError(f"{cls.__name__}: not valid JSON ({exc.msg} at line {exc.lineno})") from None

    @classmethod
    def from_yaml(cls, text: str) -> "Spec":
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SpecError(f"{cls.__name__}: not valid YAML ({str(exc).splitlines()[0]})") from None
        return cls.from_dict({} if data is None else data)

    @classmethod
    def from_file(cls, path: str | Path) -> "Spec":
        """Read a ``.yaml``/``.yml`` or ``.json`` spec file."""
        path = Path(path)
        if not path.is_file():
            raise SpecError(f"spec file '{path}' does not exist; give the path of a .yaml or .json file")
        text = path.read_text()
        if path.suffix.lower() == ".json":
            return cls.from_json(text)
        return cls.from_yaml(text)

    def save(self, path: str | Path) -> Path:
        """Write the spec as YAML or JSON (by suffix), atomically."""
        from devicephys.io import atomic_write_text

        path = Path(path)
        text = self.to_json() if path.suffix.lower() == ".json" else self.to_yaml()
        return atomic_write_text(path, text)

    def units(self) -> dict[str, str]:
        """SI unit of every quantity field."""
        out = {}
        for name, info in type(self).model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            if "unit" in extra:
                out[name] = extra["unit"]
        return out


def _strip_kind(cls: type[Spec], data: dict[str, Any]) -> dict[str, Any]:
    """Drop a ``kind`` key naming this spec's kind (spec files may carry one); refuse another kind."""
    if "kind" not in data or "kind" in cls.model_fields:
        return data
    kind = data.pop("kind")
    if kind != cls.kind:
        raise SpecError(f"{cls.__name__}.kind = {kind!r}: this is a {cls.kind!r} spec; set kind: {cls.kind} or "
                        f"remove the key, or give the file to the command that reads {kind!r} specs", field="kind")
    return data


def _parse_one(cls: type[Spec], name: str, value: Any, unit: str) -> Any:
    """One value of the quantity field ``name``: a string with a unit becomes an SI float."""
    if isinstance(value, bool):
        raise SpecError(f"{_label(cls)}.{name} = {value!r}: a boolean is not a quantity; "
                        f"give a number in {unit} or a string like '1.5 {unit}'", field=name)
    if isinstance(value, str):
        try:
            return parse_quantity(value, unit)
        except UnitError as exc:
            raise SpecError(f"{_label(cls)}.{name} = {value!r}: {exc}", field=name) from None
    return value


def _label(cls: type) -> str:
    """How messages name ``cls`` (its ``error_label``, e.g. ``PipelineSpec.filament``, else its class name)."""
    return getattr(cls, "error_label", "") or cls.__name__


def _nested_model(info: Any) -> type[BaseModel] | None:
    """The model class a field holds (itself, inside Optional/Annotated, or an override block), if any."""
    for meta in info.metadata:
        if hasattr(meta, "model_class"):  # an override block (devicephys.overrides.StageOverrides)
            return meta.model_class()
    todo = [info.annotation]
    while todo:
        tp = todo.pop()
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            return tp
        todo.extend(get_args(tp))
    return None


def _owner(cls: type[BaseModel], loc: tuple) -> tuple[type[BaseModel], str]:
    """The model class that declares the field at ``loc`` (nested models followed) and the field's name."""
    owner, name = cls, str(loc[0]) if loc else ""
    for part in loc[1:]:
        info = owner.model_fields.get(name)
        inner = _nested_model(info) if info is not None else None
        if inner is None:
            break
        owner, name = inner, str(part)
    return owner, name


def _unit_of(cls: type[Spec], field: str) -> str:
    info = cls.model_fields.get(field)
    if info is not None and isinstance(info.json_schema_extra, dict):
        return info.json_schema_extra.get("unit", "")
    return ""


def _spec_error(cls: type[Spec], exc: ValidationError) -> SpecError:
    """One line for the first problem: field, value, rule and fix."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ())) or "<spec>"
    owner, top = _owner(cls, tuple(err.get("loc", ())))
    unit = _unit_of(owner, top)
    value = err.get("input")
    kind = err.get("type", "")
    ctx = err.get("ctx", {}) or {}
    where = f"{_label(cls)}.{loc}"
    if kind == "extra_forbidden":
        known = ", ".join(sorted(owner.model_fields))
        msg = f"{where}: unknown field (value {value!r}); remove it or use one of: {known}"
    elif kind in _RULE_TEXT:
        template, key = _RULE_TEXT[kind]
        rule = template.format(**{key: ctx.get(key)})
        msg = f"{where} {rule} {unit}".rstrip() + f", got {value!r}; give a value that {rule.replace('must be', 'is')}"
    elif kind in ("finite_number",):
        msg = f"{where} must be a finite number, got {value!r}; give a finite value in {unit or 'the field unit'}"
    elif kind == "missing":
        msg = f"{where} is required; add it to the spec"
    elif kind in ("model_type", "dict_type"):
        msg = f"{where} = {value!r}: expected a mapping of field names to values; give e.g. {{field: value}}"
    elif isinstance(ctx.get("error"), SpecError):
        return _in_block(cls, tuple(err["loc"]), ctx["error"])
    elif kind == "value_error":
        msg = f"{where} = {value!r}: {ctx.get('error', err.get('msg', 'invalid value'))}"
    else:
        expect = f" in {unit}" if unit else ""
        msg = f"{where} = {value!r}: {err.get('msg', 'invalid value')}; give a valid value{expect}"
    return SpecError(msg, field=loc)


def _in_block(cls: type[Spec], loc: tuple, exc: SpecError) -> SpecError:
    """A field validator's one-line error, named as ``cls`` is named when ``cls`` has an ``error_label``.

    The override block of a stage (``PipelineSpec.compact``) reuses the stage spec's validators, whose
    messages name the stage spec (``CompactSpec.measured.sweep``): they are renamed to the block.
    """
    label, text = getattr(cls, "error_label", ""), str(exc)
    if not label or text.startswith(label):
        return exc
    own = getattr(cls, "stage_spec", None)
    if own is not None and text.startswith(f"{own.__name__}."):
        return SpecError(label + text[len(own.__name__):], field=exc.field)
    return SpecError(f"{'.'.join([label, *map(str, loc)])}: {text}", field=exc.field)
