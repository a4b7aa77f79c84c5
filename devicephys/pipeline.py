"""The end-to-end pipeline: filament -> emission -> compact -> array.

Each stage writes into ``OUT/<stage>/``.  A stage is skipped when a finished
output with the same input key exists (the key hashes the stage spec, the keys
of the stages it reads, and the package versions), so a rerun with nothing
changed is quick and an interrupted run resumes after the last finished
stage.  A lock file keeps two runs out of the same folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Literal

from pydantic import model_validator

from devicephys import stages
from devicephys.errors import SpecError, StageUnavailableError
from devicephys.io import atomic_write_text
from devicephys.spec import Spec, option
from devicephys.versions import collect

_DONE = ".stage-complete.json"


class PipelineSpec(Spec):
    """Which preset to start from, and overrides of each stage's spec fields."""

    kind = "pipeline"

    preset: Literal["fast", "full"] = option("fast", "start from each stage's fast (demo) or full (converged) preset")
    filament: dict[str, Any] = option({}, "overrides of FilamentSpec fields (see 'devicephys schema filament')")
    emission: dict[str, Any] = option({}, "overrides of EmissionSpec fields (see 'devicephys schema emission')")
    compact: dict[str, Any] = option({}, "overrides of CompactSpec fields (see 'devicephys schema compact')")
    array: dict[str, Any] = option({}, "overrides of ArraySpec fields (see 'devicephys schema array')")

    @model_validator(mode="after")
    def _check_stage_specs(self) -> "PipelineSpec":
        for stage in stages.STAGES:
            if getattr(self, stage.name) and stage.available():
                try:
                    self.stage_spec(stage.name)
                except SpecError as exc:
                    raise SpecError(f"PipelineSpec.{stage.name}: {exc}", field=stage.name) from None
        return self

    def stage_spec(self, name: str) -> Spec:
        """The spec of stage ``name``: its preset with this pipeline's overrides applied."""
        cls = stages.get(name).spec_class()
        base = cls.fast() if self.preset == "fast" else cls()
        overrides = getattr(self, name)
        return cls.from_dict({**base.to_dict(), **overrides}) if overrides else base


def load_spec(path: str | None, *, full: bool = False) -> PipelineSpec:
    """The pipeline spec in ``path`` (or the default device); ``full`` selects the converged preset."""
    spec = PipelineSpec.from_file(path) if path else PipelineSpec()
    return spec.model_copy(update={"preset": "full"}) if full else spec


def _key(spec: Spec, upstream_keys: list[str]) -> str:
    payload = json.dumps({"spec": spec.to_dict(), "kind": type(spec).__name__, "upstream": upstream_keys,
                          "versions": collect()}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _finished(folder: Path, key: str) -> dict[str, str] | None:
    marker = folder / _DONE
    try:
        record = json.loads(marker.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    files = record.get("files", {})
    if record.get("key") != key or not all((folder / f).is_file() for f in files.values()):
        return None
    return files


@contextmanager
def _lock(out: Path) -> Iterator[None]:
    out.mkdir(parents=True, exist_ok=True)
    fh = open(out / ".lock", "w")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise SpecError(f"another devicephys run is writing to '{out}'; wait for it or choose another --out") from None
    try:
        fh.write(str(os.getpid()))
        fh.flush()
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def run(spec: PipelineSpec, out: Path, *, progress: bool = True, scheduler: str | None = None) -> dict[str, dict]:
    """Run every available stage into ``out``; return a summary per stage."""
    out = Path(out)
    summary: dict[str, dict] = {}
    keys: dict[str, str] = {}
    with _lock(out):
        for stage in stages.STAGES:
            if not stage.available():
                summary[stage.name] = {"status": "not available"}
                print(f"[{stage.name:>8}] skipped: not available in this installation")
                continue
            missing = [n for n in stage.needs if n not in keys]
            if any(summary.get(n, {}).get("status") == "failed" for n in missing):
                summary[stage.name] = {"status": "skipped (upstream failed)"}
                continue
            stage_spec = spec.stage_spec(stage.name)
            key = _key(stage_spec, [keys[n] for n in stage.needs if n in keys])
            folder = out / stage.name
            files = _finished(folder, key)
            t0 = time.perf_counter()
            if files is not None:
                status = "cached"
            else:
                upstream = {n: out / n for n in stage.needs if n in keys}
                written = stage.runner()(stage_spec, folder, upstream=upstream, progress=progress)
                files = {name: os.path.relpath(p, folder) for name, p in written.items()}
                atomic_write_text(folder / _DONE, json.dumps({"key": key, "files": files}, indent=2))
                status = "done"
            keys[stage.name] = key
            summary[stage.name] = {"status": status, "seconds": time.perf_counter() - t0, "files": files}
            print(f"[{stage.name:>8}] {status} in {summary[stage.name]['seconds']:.1f} s -> {folder}")
    _print_table(summary)
    return summary


def _print_table(summary: dict[str, dict]) -> None:
    print("\nstage      status            time [s]")
    for name, row in summary.items():
        secs = f"{row['seconds']:.1f}" if "seconds" in row else "-"
        print(f"{name:<10} {row['status']:<17} {secs:>8}")
