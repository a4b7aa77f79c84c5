"""Typed overrides of a stage's spec, as the pipeline spec holds them.

A pipeline spec overrides some fields of each stage's preset.  Each override
block is a model built from the stage's own spec class: the same fields, types,
units, limits, descriptions and field validators, every field optional, no
field outside the stage's spec.  ``devicephys schema pipeline`` therefore
describes every field a block may hold, and a wrong name or value in a block
is refused when the pipeline spec is read, in one line naming the stage, the
field, the value and the fix.  Rules that involve several fields are checked
when the pipeline builds the stage's full spec (preset plus overrides).

The stage's spec module is imported only when the pipeline spec's schema is
first built (the pipeline spec defers it), so importing :mod:`devicephys.pipeline`
stays light.
"""

from __future__ import annotations

import functools
import importlib
from typing import Annotated, Any, ClassVar, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer

from devicephys.errors import StageUnavailableError
from devicephys.spec import Spec


class Overrides(Spec):
    """Base of the override blocks: only the fields the user set are serialised."""

    kind = "overrides"
    model_config = ConfigDict(validate_default=False)  # an unset field is None, not a value to check
    #: How error messages name the block (``PipelineSpec.<stage>``).
    error_label: ClassVar[str] = ""
    #: The stage spec class the block overrides.
    stage_spec: ClassVar[Optional[type]] = None

    @model_serializer(mode="wrap")
    def _only_set(self, handler) -> dict[str, Any]:
        data = handler(self)
        return {name: value for name, value in data.items() if name in self.model_fields_set}

    def to_overrides(self) -> dict[str, Any]:
        """The fields the user set, in SI units (plain Python, as :meth:`Spec.to_dict`)."""
        return self.to_dict()


def _optional(info) -> tuple[Any, Any]:
    """``(annotation, Field)`` of a stage spec field made optional (default: not set)."""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else None
    annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    # the limits (gt, ge, ...) stay on the value, not on the None that means "not set"
    return Optional[annotation], Field(None, description=info.description, json_schema_extra=extra)


def _field_validators(cls: type[BaseModel]) -> dict[str, Any]:
    """The stage spec's field validators, applied to the same fields of the override block."""
    out = {}
    for name, dec in cls.__pydantic_decorators__.field_validators.items():
        func = getattr(dec.func, "__func__", dec.func)  # the plain function behind the stage's classmethod
        out[name] = field_validator(*dec.info.fields, mode=dec.info.mode)(classmethod(func))
    return out


@functools.lru_cache(maxsize=None)
def overrides_model(spec_path: str, stage: str) -> type[Overrides]:
    """The override block of the stage spec at ``spec_path`` (``"module:Class"``), named for ``stage``.

    Raises :class:`~devicephys.errors.StageUnavailableError` when the spec module cannot be imported.
    """
    from pydantic import create_model

    module, _, attr = spec_path.partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise StageUnavailableError(f"stage '{stage}' is not available ({exc})") from None
    fields = {name: _optional(info) for name, info in cls.model_fields.items()}
    model = create_model(f"{cls.__name__}Overrides", __base__=Overrides, __doc__=(
        f"Overrides of {cls.__name__} fields (every field optional; see 'devicephys schema {stage}')."),
        __validators__=_field_validators(cls), **fields)
    model.error_label = f"PipelineSpec.{stage}"
    model.stage_spec = cls
    return model


class StageOverrides:
    """Annotation of a pipeline spec field: the override block of one stage's spec.

    ``Annotated[dict[str, Any], StageOverrides("filament", "devicephys.filament.spec:FilamentSpec")]``
    validates as :func:`overrides_model` of that spec; a stage whose spec cannot be imported takes a
    plain mapping (checked when the stage is installed).
    """

    def __init__(self, stage: str, spec_path: str):
        self.stage, self.spec_path = stage, spec_path

    def model_class(self) -> type[Overrides] | None:
        """The override block's model, or None when the stage's spec cannot be imported."""
        try:
            return overrides_model(self.spec_path, self.stage)
        except StageUnavailableError:
            return None

    def __get_pydantic_core_schema__(self, source: Any, handler) -> Any:
        model = self.model_class()
        return handler(source) if model is None else handler.generate_schema(model)


def as_dict(block: Any) -> dict[str, Any]:
    """The overrides a pipeline field holds (an override block or a plain mapping) as a dict."""
    if isinstance(block, Overrides):
        return block.to_overrides()
    return dict(block or {})
