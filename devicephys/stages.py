"""The registry of pipeline stages and the contract each stage implements.

Each stage package provides

* a spec class (``devicephys.<stage>.spec``) derived from :class:`~devicephys.spec.Spec`
  whose defaults describe the built-in default device, with a ``fast()``
  class method returning a quick preset (demo and tests);
* a runner ``run(spec, out, *, upstream, progress) -> dict[str, Path]`` that
  writes the stage's outputs into the folder ``out`` and returns them by name;
  the key ``"result"`` is the main result file.  ``upstream`` maps the names of
  earlier stages to the folders holding their outputs.

The registry names them by import path so that ``import devicephys`` and the
CLI stay fast: a stage's heavy engine is imported only when it runs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

from devicephys.errors import SpecError, StageUnavailableError


@dataclass(frozen=True)
class Stage:
    """One stage of the pipeline.

    Attributes
    ----------
    name
        CLI and folder name.
    spec_path, runner_path
        ``"module:attribute"`` of the spec class and of the runner.
    needs
        Names of the stages whose outputs this stage reads.
    summary
        One line for ``--help``.
    result
        File name of the stage's main result in its output folder.
    switches
        ``{upstream stage: boolean spec field}``: that upstream output is read only when the field is true.
    """

    name: str
    spec_path: str
    runner_path: str
    needs: tuple[str, ...]
    summary: str
    result: str = ""
    switches: tuple[tuple[str, str], ...] = ()

    def needs_for(self, spec: Any) -> tuple[str, ...]:
        """The upstream stages whose outputs ``spec`` reads (``needs`` less those its switches turn off)."""
        off = {name for name, field in self.switches if not getattr(spec, field, True)}
        return tuple(n for n in self.needs if n not in off)

    def spec_class(self) -> type:
        return _load(self.spec_path, self.name)

    def runner(self) -> Callable[..., dict[str, Any]]:
        return _load(self.runner_path, self.name)

    def available(self) -> bool:
        try:
            self.spec_class()
            self.runner()
        except StageUnavailableError:
            return False
        return True


def _load(path: str, stage: str) -> Any:
    module, _, attr = path.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise StageUnavailableError(f"stage '{stage}' is not available ({exc}); run 'make setup' to install its engine") from None


STAGES: tuple[Stage, ...] = (
    Stage("filament", "devicephys.filament.spec:FilamentSpec", "devicephys.filament.stage:run", (),
          "FEM electrothermal model of Ag filament formation and rupture (DOLFINx)", "filament.nc"),
    Stage("emission", "devicephys.emission.spec:EmissionSpec", "devicephys.emission.stage:run", ("filament",),
          "plasmonic gap emission: LDOS, efficiency, spectra (MEEP FDTD or DOLFINx frequency-domain FEM)", "emission.nc",
          (("filament", "use_filament"),)),
    Stage("compact", "devicephys.compact.spec:CompactSpec", "devicephys.compact.stage:run", ("filament", "emission"),
          "compact model fitted to stages 1-2, exported to SPICE and Verilog-A", "device_card.json"),
    Stage("array", "devicephys.array.spec:ArraySpec", "devicephys.array.stage:run", ("compact",),
          "array-level spiking simulator of photonically linked neurons", "array.nc"),
)


def get(name: str) -> Stage:
    """The stage called ``name``."""
    for stage in STAGES:
        if stage.name == name:
            return stage
    raise SpecError(f"unknown stage '{name}'; choose one of {[s.name for s in STAGES]}")


def names() -> list[str]:
    return [s.name for s in STAGES]
