"""The end-to-end pipeline: filament -> emission -> compact -> array.

Each stage writes into ``OUT/<stage>/``.  A stage is skipped when a finished
output with the same input key exists (the key hashes the stage spec, the keys
of the stages it reads, and the package versions), so a rerun with nothing
changed is quick and an interrupted run resumes after the last finished
stage.  A lock file keeps two runs out of the same folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Iterator, Literal

import numpy as np
from pydantic import ConfigDict, model_validator

from devicephys import stages, strict_json
from devicephys.emission.spec import DEVICE_PRESET
from devicephys.errors import ConvergenceError, SpecError, StageUnavailableError
from devicephys.io import atomic_write_text, writable_folder
from devicephys.overrides import StageOverrides, as_dict
from devicephys.spec import Spec, option
from devicephys.sweep import SweepSpec, sweep_points
from devicephys.versions import collect, engine_versions

_DONE = ".stage-complete.json"


# Defaults the pipeline applies under the user's overrides.  The optical stage runs the frequency-domain FEM on
# the filament's own stack (devicephys.geometry): the filament (radius ~2 nm) and its sub-nm gaps are finer than an
# affordable FDTD grid, and the window reaches the long wavelengths a ~1 V spike emits.
#: Stage settings of the demo pipeline, applied under the user's overrides.  The array's membrane integrates
#: photon kicks over the filament's relaxation window; its photodetecting synapse is the ArraySpec's physical
#: receiver, whose gain and link budget are outputs of the array stage.
_PIPELINE_DEFAULTS: dict[str, dict[str, Any]] = {"emission": DEVICE_PRESET,
                                                 "array": {"membrane": "relaxation"}}


def _Block(stage: str) -> Any:  # noqa: N802 - an annotation
    """The type of a stage's override block: that stage's spec fields, typed, every one optional."""
    return Annotated[dict[str, Any], StageOverrides(stage, stages.get(stage).spec_path)]


class PipelineSpec(Spec):
    """Which preset to start from, and overrides of each stage's spec fields."""

    kind = "pipeline"

    # the override blocks' schemas are built from the stage specs on first use: importing this module stays light
    model_config = ConfigDict(defer_build=True)

    preset: Literal["fast", "full"] = option("fast", "start from each stage's fast (demo) or full (converged) preset")
    filament: _Block("filament") = option({}, "overrides of FilamentSpec fields (see 'devicephys schema filament')")
    emission: _Block("emission") = option({}, "overrides of EmissionSpec fields (see 'devicephys schema emission'); "
                                              "the pipeline applies EmissionSpec's DEVICE_PRESET underneath "
                                              "(FEM on the filament's stack)")
    compact: _Block("compact") = option({}, "overrides of CompactSpec fields (see 'devicephys schema compact')")
    array: _Block("array") = option({}, "overrides of ArraySpec fields (see 'devicephys schema array')")
    sweeps: list[SweepSpec] = option([], "parameter sweeps run after the pipeline, each on one stage's spec")
    strict: bool = option(False, "a failing row of the joint audit (audit.json, first table of report.html) fails "
                                 "the run (exit 3) instead of showing as a red row")

    @model_validator(mode="after")
    def _check_stage_specs(self) -> "PipelineSpec":
        for stage in stages.STAGES:
            if as_dict(getattr(self, stage.name, {})) and stage.available():
                try:
                    self.stage_spec(stage.name)
                except SpecError as exc:
                    raise SpecError(f"PipelineSpec.{stage.name}: {exc}", field=stage.name) from None
        for i, sweep in enumerate(self.sweeps):  # every swept value is checked before any stage runs
            try:
                stages.get(sweep.stage).spec_class()
            except StageUnavailableError:
                continue  # checked when the stage is installed
            try:
                sweep_points(self.stage_spec(sweep.stage), sweep)
            except SpecError as exc:
                raise SpecError(f"PipelineSpec.sweeps[{i}] ({sweep.stage}.{sweep.field}): {exc}", field="sweeps") from None
        return self


    def stage_spec(self, name: str) -> Spec:
        """The spec of stage ``name``: its preset with this pipeline's overrides applied."""
        cls = stages.get(name).spec_class()
        base = cls.fast() if self.preset == "fast" else cls()
        overrides = {**_PIPELINE_DEFAULTS.get(name, {}), **as_dict(getattr(self, name))}
        return cls.from_dict({**base.to_dict(), **overrides}) if overrides else base


def load_spec(path: str | None, *, full: bool = False) -> PipelineSpec:
    """The pipeline spec in ``path`` (or the default device); ``full`` selects the converged preset."""
    spec = PipelineSpec.from_file(path) if path else PipelineSpec()
    return PipelineSpec.from_dict({**spec.to_dict(), "preset": "full"}) if full else spec  # validated again


def _imported_modules(path: Path, root: Path) -> set[Path]:
    """The ``devicephys`` source files that ``path`` imports directly (absolute and relative imports)."""
    import ast

    found: set[Path] = set()
    package = path.relative_to(root.parent).with_suffix("").parts[:-1]
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = list(package[:len(package) - node.level + 1]) if node.level else []
            mod = base + (node.module.split(".") if node.module else [])
            names = [".".join(mod)] + [".".join(mod + [a.name]) for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] != root.name:
                continue
            target = root.parent.joinpath(*parts)
            for candidate in (target.with_suffix(".py"), target / "__init__.py"):
                if candidate.is_file():
                    found.add(candidate)
    return found


def stage_sources(stage_name: str) -> list[Path]:
    """Every ``devicephys`` module the stage's package imports, directly or not (its own package included)."""
    root = Path(__file__).parent
    todo = sorted((root / stage_name).glob("**/*.py")) + [root / "__init__.py"]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo.extend(_imported_modules(path, root) - seen)
    return sorted(seen)


def _code_digest(stage_name: str) -> str:
    """sha256 of the source of every devicephys module the stage imports: edited code invalidates the cache."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in stage_sources(stage_name):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _key(spec: Spec, upstream_keys: list[str], stage_name: str = "") -> str:
    versions = engine_versions(stage_name) if stage_name else collect()
    payload = json.dumps({"spec": spec.to_dict(), "kind": type(spec).__name__, "upstream": upstream_keys,
                          "versions": versions, "code": _code_digest(stage_name) if stage_name else "",
                          "inputs": _input_digests(spec)},
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _input_digests(spec: Spec) -> dict[str, str]:
    """sha256 of the user's data files the spec names (e.g. measured CSVs): an edited file invalidates the cache."""
    files = spec.input_files() if hasattr(spec, "input_files") else []
    return {str(p): _sha256(Path(p)) for p in files}


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


def _outputs(folder: Path, written: dict[str, Path], since: float) -> list[str]:
    """Paths (relative to ``folder``) of every file the stage wrote: its named outputs and their companions.

    A named output may come with files it refers to (``fields.xdmf`` with ``fields.h5``), so every regular
    file in ``folder`` modified at or after ``since`` (wall-clock seconds; 2 s of slack for coarse
    file-system clocks) is included.  Hidden files (the lock, the completion record) and ``error.log`` are not.
    """
    found = {os.path.relpath(p, folder) for p in written.values()}
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts) and rel.name != "error.log" \
                and path.stat().st_mtime >= since - 2.0:
            found.add(rel.as_posix())
    return sorted(found)


def _finished(folder: Path, key: str, label: str | None = None) -> dict[str, str] | None:
    """The stage's files if a complete, uncorrupted output for ``key`` is in ``folder``.

    Every file recorded at completion (named outputs and their companions) must be present with its sha256.
    """
    record = _record(folder)
    files, digests = record.get("files", {}), record.get("checksums", {})
    if record.get("key") != key or not digests or any(rel not in digests for rel in files.values()):
        return None
    for rel, digest in digests.items():
        path = folder / rel
        if not path.is_file() or _sha256(path) != digest:
            if label is not None:
                print(f"[{label:>8}] cached output {rel} is missing or corrupted; recomputing")
            return None
    return files


def mpi_rank() -> int:
    """This process's MPI rank from the launcher's environment (0 when not under mpirun)."""
    for name in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"):
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 0


@contextmanager
def _lock(out: Path, subfolders: tuple[str, ...] = ()) -> Iterator[None]:
    """Hold ``out/.lock`` and ``out/<sub>/.lock`` for each of ``subfolders`` (exclusive, refused when taken).

    ``run`` locks its folder and every stage folder; a single-stage command locks its own folder, so the two
    keep each other out.  Under MPI only rank 0 locks (all ranks write the same run).
    """
    out = writable_folder(out)
    if mpi_rank() != 0:
        yield
        return
    with contextlib.ExitStack() as stack:
        for folder in (out, *(out / s for s in subfolders)):
            stack.enter_context(_lock_one(writable_folder(folder), out))
        yield


@contextmanager
def _lock_one(folder: Path, out: Path) -> Iterator[None]:
    fh = open(folder / ".lock", "w")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise SpecError(f"another devicephys run is writing to '{folder}'; wait for it or choose another --out "
                        f"than '{out}'") from None
    try:
        fh.write(str(os.getpid()))
        fh.flush()
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def run_cached(stage: stages.Stage, spec: Spec, folder: Path, upstream: dict[str, Path], upstream_keys: list[str],
               *, progress: bool = False, label: str | None = None) -> tuple[str, dict[str, str], str]:
    """Run ``stage`` on ``spec`` into ``folder`` unless a finished, uncorrupted output for the same key is there.

    Returns the status (``"cached"`` or ``"done"``), the named output files (relative to ``folder``) and the
    key.  ``label``: print progress lines under that name (None: silent).
    """
    key = _key(spec, upstream_keys, stage.name)
    files = _finished(folder, key, label)
    if files is not None:
        return "cached", files, key
    if label is not None:
        last = _record(folder).get("seconds")
        hint = f" (last run took {last:.0f} s)" if last else ""
        print(f"[{label:>8}] running{hint} ...", flush=True)
    t0, since = time.perf_counter(), time.time()
    written = stage.runner()(spec, folder, upstream=upstream, progress=progress)
    files = {name: os.path.relpath(p, folder) for name, p in written.items()}
    record = {"key": key, "files": files, "seconds": time.perf_counter() - t0,
              "checksums": {rel: _sha256(folder / rel) for rel in _outputs(folder, written, since)}}
    strict_json.write(folder / _DONE, record)
    return "done", files, key


def _run_stage(stage: stages.Stage, spec: Spec, out: Path, keys: dict[str, str], progress: bool) -> dict:
    needs = stage.needs_for(spec)
    folder = out / stage.name
    t0 = time.perf_counter()
    status, files, keys[stage.name] = run_cached(stage, spec, folder, {n: out / n for n in needs},
                                                 [keys[n] for n in needs], progress=progress, label=stage.name)
    seconds = time.perf_counter() - t0
    print(f"[{stage.name:>8}] {status} in {seconds:.1f} s -> {folder}", flush=True)
    return {"status": status, "seconds": seconds, "files": files}


def run(spec: PipelineSpec, out: Path, *, progress: bool = True, scheduler: str | None = None) -> dict[str, dict]:
    """Run every available stage into ``out``, then the sweeps and the report; return a summary per stage."""
    out = Path(out)
    summary: dict[str, dict] = {}
    keys: dict[str, str] = {}
    with _lock(out, tuple(s.name for s in stages.STAGES if s.available())):
        for stage in stages.STAGES:
            if not stage.available():
                summary[stage.name] = {"status": "not available"}
                print(f"[{stage.name:>8}] skipped: not available in this installation")
                continue
            missing = [n for n in stage.needs_for(spec.stage_spec(stage.name)) if n not in keys]
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
            except ImportError as exc:  # the stage's engine is missing from this installation
                summary[stage.name] = {"status": "failed", "error": f"engine not installed ({exc}); run 'make setup'"}
                print(f"[{stage.name:>8}] FAILED: its engine is not installed ({exc}); run 'make setup'", flush=True)
            except Exception as exc:  # noqa: BLE001 - an internal error: recorded with its traceback, run goes on
                log = _write_traceback(out / stage.name)
                summary[stage.name] = {"status": "failed", "error": f"internal error {type(exc).__name__}: {exc}"}
                print(f"[{stage.name:>8}] FAILED (internal error {type(exc).__name__}: {exc}); traceback in {log}; "
                      "please report it", flush=True)
        summary.update(_run_sweeps(spec, out, keys, scheduler, progress))
        rows = _joint_audit(out, summary, spec.strict)
        _write_report(out, summary, rows)
    _print_table(summary)
    return summary


def _write_traceback(folder: Path) -> Path:
    """Write the current exception's traceback to ``folder/error.log`` (atomically) and return its path."""
    import traceback

    folder.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(folder / "error.log", traceback.format_exc())


def _run_sweeps(spec: PipelineSpec, out: Path, keys: dict[str, str], scheduler: str | None,
                progress: bool) -> dict[str, dict]:
    """Run the spec's sweeps (points cached like stages); return one summary row per sweep."""
    if not spec.sweeps:
        return {}
    from devicephys.sweep import executor, run_sweep, sweep_files

    rows: dict[str, dict] = {}
    with executor(scheduler) as pool:
        for sweep in spec.sweeps:
            name = f"sweep {sweep.stage}.{sweep.field}"
            if not stages.get(sweep.stage).available():
                rows[name] = {"status": "not available", "kind": "sweep"}
                continue
            base = spec.stage_spec(sweep.stage)
            needs = stages.get(sweep.stage).needs_for(base)
            missing = [n for n in needs if n not in keys]
            if missing:
                rows[name] = {"status": f"skipped (needs {', '.join(missing)})", "kind": "sweep"}
                print(f"[{name}] skipped: needs the output of {', '.join(missing)}")
                continue
            t0 = time.perf_counter()
            try:
                ds = run_sweep(base, sweep, out, upstream={n: out / n for n in needs}, pool=pool, progress=progress,
                               upstream_keys=[keys[n] for n in needs])
            except (SpecError, ConvergenceError) as exc:
                rows[name] = {"status": "failed", "error": str(exc), "kind": "sweep"}
                print(f"[{name}] FAILED: {exc}", flush=True)
                continue
            except Exception as exc:  # noqa: BLE001 - an internal error: recorded with its traceback, run goes on
                log = _write_traceback(out / "sweeps" / f"{sweep.stage}-{sweep.field}")
                rows[name] = {"status": "failed", "error": f"internal error {type(exc).__name__}: {exc}", "kind": "sweep"}
                print(f"[{name}] FAILED (internal error {type(exc).__name__}: {exc}); traceback in {log}; "
                      "please report it", flush=True)
                continue
            files = {k: os.path.relpath(v, out) for k, v in sweep_files(out, sweep).items()}
            status = "done" if ds.attrs["points_computed"] else "cached"
            rows[name] = {"status": status, "seconds": time.perf_counter() - t0, "kind": "sweep", "files": files}
            print(f"[{name}] {status} in {rows[name]['seconds']:.1f} s -> {out / files['result']}", flush=True)
    return rows


def _joint_audit(out: Path, summary: dict[str, dict], strict: bool) -> list:
    """Audit every hand-off (:mod:`devicephys.audit`), write ``audit.json``; under ``strict`` a failure is a summary row."""
    from devicephys import audit

    rows = audit.audit(out)
    path = audit.write_audit(out, rows)
    bad = audit.failures(rows)
    unknown = sum(r.status == audit.UNKNOWN for r in rows)
    print(f"[   audit] {len(rows) - len(bad) - unknown} pass, {len(bad)} fail, {unknown} unknown -> {path}", flush=True)
    for r in bad:
        print(f"[   audit]   {r.joint}: {r.constraint}: {r.value} (allowed {r.limit})", flush=True)
    if bad and strict:  # a summary row of its own only when it fails the run
        summary["audit"] = {"status": "failed", "kind": "audit", "files": {"result": path.name},
                            "error": f"{len(bad)} joint constraint(s) fail under --strict; see {path}"}
    return rows


def _write_report(out: Path, summary: dict[str, dict], audit_rows: list | None = None) -> None:
    from devicephys.plot import device_sketch
    from devicephys.report import write_report

    kwargs = {}
    nc = out / "filament" / "filament.nc"
    if nc.is_file():
        import xarray as xr

        ds = xr.load_dataset(nc, engine="h5netcdf")
        names = {"insulator_thickness": "insulator_thickness", "filament_radius_final": "filament_radius",
                 "minimum_gap": "gap"}
        kwargs = {arg: float(ds[var]) for var, arg in names.items() if var in ds and np.isfinite(float(ds[var]))}
        if kwargs.get("filament_radius", 0.0) <= 0:  # no filament formed: none is drawn
            kwargs.pop("filament_radius", None)
            kwargs.pop("gap", None)
    sketch = device_sketch(out / "device_sketch.png", **kwargs)
    path = write_report(out, summary, sketch, audit_rows)
    print(f"report: {path}")


def _print_table(summary: dict[str, dict]) -> None:
    print("\nstage      status            time [s]")
    for name, row in summary.items():
        secs = f"{row['seconds']:.1f}" if "seconds" in row else "-"
        print(f"{name:<10} {row['status']:<17} {secs:>8}")
