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
from devicephys.errors import ConvergenceError, SpecError
from devicephys.io import atomic_write_text
from devicephys.spec import Spec, option
from devicephys.sweep import SweepSpec
from devicephys.versions import collect

_DONE = ".stage-complete.json"


# Defaults the pipeline applies under the user's overrides.  The FEM filament
# (radius ~2 nm) is finer than an affordable FDTD grid (1-2 nm), so the optical
# stage keeps its own tip radius unless the spec sets use_filament: true together
# with a fine enough grid_step.
#: Stage settings of the demo pipeline, applied under the user's overrides.  The array's membrane integrates
#: photon kicks over the filament's relaxation window; its photodetecting synapse is the ArraySpec's physical
#: receiver, whose gain and link budget are outputs of the array stage.
_PIPELINE_DEFAULTS: dict[str, dict[str, Any]] = {"emission": {"use_filament": False},
                                                 "array": {"membrane": "relaxation"}}


class PipelineSpec(Spec):
    """Which preset to start from, and overrides of each stage's spec fields."""

    kind = "pipeline"

    preset: Literal["fast", "full"] = option("fast", "start from each stage's fast (demo) or full (converged) preset")
    filament: dict[str, Any] = option({}, "overrides of FilamentSpec fields (see 'devicephys schema filament')")
    emission: dict[str, Any] = option({}, "overrides of EmissionSpec fields (see 'devicephys schema emission'); "
                                          "use_filament defaults to false in the pipeline")
    compact: dict[str, Any] = option({}, "overrides of CompactSpec fields (see 'devicephys schema compact')")
    array: dict[str, Any] = option({}, "overrides of ArraySpec fields (see 'devicephys schema array')")
    sweeps: list[SweepSpec] = option([], "parameter sweeps run after the pipeline, each on one stage's spec")

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
        overrides = {**_PIPELINE_DEFAULTS.get(name, {}), **getattr(self, name)}
        return cls.from_dict({**base.to_dict(), **overrides}) if overrides else base


def load_spec(path: str | None, *, full: bool = False) -> PipelineSpec:
    """The pipeline spec in ``path`` (or the default device); ``full`` selects the converged preset."""
    spec = PipelineSpec.from_file(path) if path else PipelineSpec()
    return spec.model_copy(update={"preset": "full"}) if full else spec


#: Modules every stage's numbers depend on (besides the stage's own package).
_CORE_MODULES = ("materials.py", "units.py", "spec.py", "result.py", "io.py")


def _code_digest(stage_name: str) -> str:
    """sha256 of the source of the stage's package and the core modules: edited code invalidates the cache."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    files = sorted((root / stage_name).glob("**/*.py")) + [root / m for m in _CORE_MODULES]
    for path in files:
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _key(spec: Spec, upstream_keys: list[str], stage_name: str = "") -> str:
    payload = json.dumps({"spec": spec.to_dict(), "kind": type(spec).__name__, "upstream": upstream_keys,
                          "versions": collect(), "code": _code_digest(stage_name) if stage_name else ""},
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _record(folder: Path) -> dict:
    try:
        return json.loads((folder / _DONE).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def _finished(folder: Path, key: str) -> dict[str, str] | None:
    """The stage's files if a complete, uncorrupted output for ``key`` is in ``folder``."""
    record = _record(folder)
    files, digests = record.get("files", {}), record.get("sha256", {})
    if record.get("key") != key:
        return None
    for name, rel in files.items():
        path = folder / rel
        if not path.is_file() or _sha256(path) != digests.get(name):
            print(f"[{folder.name:>8}] cached output {rel} is missing or corrupted; recomputing")
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


def _run_stage(stage: stages.Stage, spec: Spec, out: Path, keys: dict[str, str], progress: bool) -> dict:
    key = _key(spec, [keys[n] for n in stage.needs if n in keys], stage.name)
    folder = out / stage.name
    t0 = time.perf_counter()
    files = _finished(folder, key)
    if files is not None:
        status = "cached"
    else:
        last = _record(folder).get("seconds")
        hint = f" (last run took {last:.0f} s)" if last else ""
        print(f"[{stage.name:>8}] running{hint} ...", flush=True)
        upstream = {n: out / n for n in stage.needs if n in keys}
        written = stage.runner()(spec, folder, upstream=upstream, progress=progress)
        files = {name: os.path.relpath(p, folder) for name, p in written.items()}
        record = {"key": key, "files": files, "seconds": time.perf_counter() - t0,
                  "sha256": {name: _sha256(folder / rel) for name, rel in files.items()}}
        atomic_write_text(folder / _DONE, json.dumps(record, indent=2))
        status = "done"
    keys[stage.name] = key
    seconds = time.perf_counter() - t0
    print(f"[{stage.name:>8}] {status} in {seconds:.1f} s -> {folder}", flush=True)
    return {"status": status, "seconds": seconds, "files": files}


def run(spec: PipelineSpec, out: Path, *, progress: bool = True, scheduler: str | None = None) -> dict[str, dict]:
    """Run every available stage into ``out``, then the sweeps and the report; return a summary per stage."""
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
            if missing:
                summary[stage.name] = {"status": f"skipped (needs {', '.join(missing)})"}
                print(f"[{stage.name:>8}] skipped: needs the output of {', '.join(missing)}")
                continue
            try:
                summary[stage.name] = _run_stage(stage, spec.stage_spec(stage.name), out, keys, progress)
            except (SpecError, ConvergenceError) as exc:
                # keep going: later independent stages, the report and the summary still get written
                summary[stage.name] = {"status": "failed", "error": str(exc)}
                print(f"[{stage.name:>8}] FAILED: {exc}", flush=True)
            except Exception as exc:  # noqa: BLE001 - an internal error: recorded with its traceback, run goes on
                log = _write_traceback(out / stage.name)
                summary[stage.name] = {"status": "failed", "error": f"internal error {type(exc).__name__}: {exc}"}
                print(f"[{stage.name:>8}] FAILED (internal error {type(exc).__name__}: {exc}); traceback in {log}; "
                      "please report it", flush=True)
        _run_sweeps(spec, out, scheduler, progress)
        _write_report(out, summary)
    _print_table(summary)
    return summary


def _write_traceback(folder: Path) -> Path:
    """Write the current exception's traceback to ``folder/error.log`` (atomically) and return its path."""
    import traceback

    folder.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(folder / "error.log", traceback.format_exc())


def _run_sweeps(spec: PipelineSpec, out: Path, scheduler: str | None, progress: bool) -> None:
    if not spec.sweeps:
        return
    from devicephys.sweep import executor, run_sweep

    with executor(scheduler) as pool:
        for sweep in spec.sweeps:
            stage = stages.get(sweep.stage)
            upstream = {n: out / n for n in stage.needs}
            run_sweep(spec.stage_spec(sweep.stage), sweep, out, upstream=upstream, pool=pool, progress=progress)


def _write_report(out: Path, summary: dict[str, dict]) -> None:
    from devicephys.plot import device_sketch
    from devicephys.report import write_report

    kwargs = {}
    nc = out / "filament" / "filament.nc"
    if nc.is_file():
        import xarray as xr

        ds = xr.load_dataset(nc, engine="h5netcdf")
        names = {"insulator_thickness": "insulator_thickness", "filament_radius_final": "filament_radius",
                 "minimum_gap": "gap"}
        kwargs = {arg: float(ds[var]) for var, arg in names.items() if var in ds and float(ds[var]) > 0}
    sketch = device_sketch(out / "device_sketch.png", **kwargs)
    path = write_report(out, summary, sketch)
    print(f"report: {path}")


def _print_table(summary: dict[str, dict]) -> None:
    print("\nstage      status            time [s]")
    for name, row in summary.items():
        secs = f"{row['seconds']:.1f}" if "seconds" in row else "-"
        print(f"{name:<10} {row['status']:<17} {secs:>8}")
