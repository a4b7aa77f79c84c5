"""Command line: ``devicephys run|filament|emission|compact|array|schema|validate|info|init``.

Bad input prints one line naming the field, the value and the fix, and exits
with status 2; a solver failure prints one line and exits with status 3.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from devicephys import stages
from devicephys.errors import ConvergenceError, SpecError, StageUnavailableError

EXIT_BAD_INPUT = 2
EXIT_FAILED = 3


def _version() -> str:
    from devicephys import __version__, versions

    return versions.package_version("devicephys") or __version__


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="devicephys", description=(
        "Multiscale modelling of light-emitting memristive neurons: FEM filament physics (DOLFINx), "
        "FDTD gap emission (MEEP), compact models (SPICE/Verilog-A) and photonic spiking arrays."))
    p.add_argument("--version", action="version", version=f"devicephys {_version()}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the whole pipeline (filament -> emission -> compact -> array)")
    run.add_argument("spec", nargs="?", help="pipeline spec (YAML/JSON); default: the built-in default device")
    run.add_argument("--out", default="results", help="output folder (default: results)")
    run.add_argument("--full", action="store_true", help="converged preset instead of the fast demo preset")
    run.add_argument("--scheduler", default=None, help="Dask scheduler address for sweeps (default: local processes)")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.add_argument("--strict", action="store_true",
                     help="a failing row of the joint audit fails the run (exit 3) instead of showing red")

    for stage in stages.STAGES:
        sp = sub.add_parser(stage.name, help=stage.summary)
        sp.add_argument("spec", nargs="?", help=f"{stage.name} spec (YAML/JSON); default: the built-in default device")
        sp.add_argument("--out", required=True, help="output folder")
        sp.add_argument("--fast", action="store_true",
                        help="quick preset (coarse, for a first look); with a spec file, the fields it leaves out")
        if stage.needs:
            sp.add_argument("--from", dest="upstream", default=None,
                            help=f"folder holding the outputs of: {', '.join(stage.needs)}")
        sp.add_argument("--quiet", action="store_true", help="no progress bars")
        if stage.name == "emission":
            sp.add_argument("--device", action="store_true",
                            help="the device's operating-point preset, as 'run' applies it: frequency-domain FEM on "
                                 "the filament's own stack (reads the filament result under --from)")
        if stage.name == "compact":
            sp.add_argument("--measured", metavar="SWEEP.csv", default=None,
                            help="fit the card to this measured DC sweep instead (format: docs/measurements.md)")
            sp.add_argument("--pulses", metavar="PULSES.csv", default=None, help="measured set times (with --measured)")
            sp.add_argument("--compliance", metavar="CURRENT", default=None,
                            help="the sweep's current compliance, e.g. '10 uA' (with --measured; needs --series-resistance)")
            sp.add_argument("--series-resistance", metavar="R", default=None,
                            help="resistance in series with the cell during the sweep, e.g. '100 Ohm' (with --measured; "
                                 "default: read from the load line)")
            sp.add_argument("--capacitance", metavar="C", default=None,
                            help="capacitance across the cell's terminals during the sweep, e.g. '0.094 fF' (with "
                                 "--measured; the ngspice replay of the measured drive puts it across the cell)")

    sch = sub.add_parser("schema", help="print the JSON schema of a spec")
    sch.add_argument("name", choices=stages.names() + ["pipeline"])

    val = sub.add_parser("validate", help="check a spec file without running it")
    val.add_argument("spec")
    val.add_argument("--kind", choices=stages.names() + ["pipeline"], default=None,
                     help="which spec the file holds (default: the file's 'kind' key, else pipeline)")

    sub.add_parser("info", help="versions of the engines and whether each works")

    ini = sub.add_parser("init", help="write a commented default spec file to start from")
    ini.add_argument("kind", choices=stages.names() + ["pipeline"])
    ini.add_argument("--output", "-o", default=None, help="file to write (default: KIND.yaml; '-': standard output)")
    ini.add_argument("--fast", action="store_true", help="the quick preset instead of the default (full) one")
    ini.add_argument("--force", action="store_true", help="overwrite an existing file")
    ini.add_argument("--device", action="store_true",
                     help="emission only: the device's operating-point preset (FEM on the filament's stack)")
    return p


def _stage_spec(stage: stages.Stage, path: str | None, fast: bool, device: bool = False):
    cls = stage.spec_class()
    if path:
        if device:
            raise SpecError(f"--device with the spec file {path}: give one of them (write the device preset to a "
                            f"file with 'devicephys init {stage.name} --device')")
        spec = cls.from_file(path)
        if not (fast and hasattr(cls, "fast")):
            return spec
        given = {k: v for k, v in spec.to_dict().items() if k in spec.model_fields_set}
        return cls.from_dict({**cls.fast().to_dict(), **given})  # the file's fields over the quick preset
    base = cls.fast() if fast else cls()
    return cls.device(base) if device else base


def _upstream_dirs(stage: stages.Stage, spec, folder: str | None) -> dict[str, Path]:
    """The folders of the upstream results ``spec`` reads under ``--from folder``; one line if one is missing."""
    if not stage.needs or folder is None:
        return {}  # the stage says what it needs if it cannot run on its own defaults
    root = Path(folder)
    if not root.is_dir():
        raise SpecError(f"--from {folder}: no such folder; give the output folder of an earlier run")
    needs = stage.needs_for(spec)
    for name, field in stage.switches:
        if name not in needs:
            print(f"devicephys: note: --from {folder}: the {name} result is not read because {field} is false",
                  file=sys.stderr)
    dirs = {}
    for name in needs:
        dirs[name] = root / name if (root / name).is_dir() else root
        result = stages.get(name).result
        if result and not (dirs[name] / result).is_file():
            off = [f for n, f in stage.switches if n == name]
            alt = f", or set {off[0]}: false" if off else ""
            raise SpecError(f"--from {folder}: no {name} result ({result}) in {root} or {root / name}; run "
                            f"'devicephys {name} --out {root / name}' first or point --from at its folder{alt}")
    return dirs


def _cmd_stage(args) -> int:
    from devicephys.pipeline import _lock

    stage = stages.get(args.command)
    spec = _stage_spec(stage, args.spec, args.fast, getattr(args, "device", False))
    if any(getattr(args, k, None) for k in ("measured", "pulses", "compliance", "series_resistance", "capacitance")):
        spec, upstream = _with_measurements(spec, args)
    else:
        upstream = _upstream_dirs(stage, spec, getattr(args, "upstream", None))
    with _lock(Path(args.out)):  # the lock `run` takes on each stage folder: the two keep each other out
        files = stage.runner()(spec, Path(args.out), upstream=upstream, progress=not args.quiet)
    mpi = sys.modules.get("mpi4py.MPI")  # loaded only by the stages that run under MPI
    if mpi is None or mpi.COMM_WORLD.rank == 0:  # under mpirun, rank 0 alone lists the files
        for name, path in files.items():
            print(f"{name:>12}: {path}")
    return 0


def _with_measurements(spec, args) -> tuple[object, dict[str, Path]]:
    """``devicephys compact --measured``: the spec with the files; under --from, a card or FEM/FDTD results as base."""
    if not args.measured:
        raise SpecError("--pulses, --compliance, --series-resistance and --capacitance need --measured SWEEP.csv "
                        "(the DC sweep); add it")
    files = {"sweep": args.measured, "pulses": args.pulses}
    files.update({k: v for k, v in (("compliance_current", args.compliance),
                                    ("series_resistance", args.series_resistance),
                                    ("cell_capacitance", args.capacitance)) if v is not None})
    spec = type(spec).from_dict({**spec.to_dict(), "measured": files})
    if not args.upstream:
        return spec, {}
    root = Path(args.upstream)
    if not root.is_dir():
        raise SpecError(f"--from {args.upstream}: no such folder; give the output folder of an earlier run")
    return spec, {n: root / n if (root / n).is_dir() else root for n in ("filament", "emission", "compact")}


def _cmd_run(args) -> int:
    from devicephys import pipeline

    spec = pipeline.load_spec(args.spec, full=args.full)
    from devicephys.io import writable_folder

    writable_folder(args.out)  # before any stage: --out that is a file or read-only is one line, exit 2
    if args.strict:
        spec = spec.model_copy(update={"strict": True})
    summary = pipeline.run(spec, Path(args.out), progress=not args.quiet, scheduler=args.scheduler)
    absent = [name for name, row in summary.items() if row.get("status") == "not available"]
    for name in absent:
        try:
            stages.get(name).runner()
        except StageUnavailableError as exc:
            print(f"devicephys: {exc}", file=sys.stderr)
    failed = [name for name, row in summary.items() if row.get("status") == "failed"] + absent
    if failed:
        print(f"devicephys: stage(s) failed: {', '.join(failed)} (see the lines above; finished stages are kept)",
              file=sys.stderr)
        return EXIT_FAILED
    return 0


def _spec_class(name: str):
    if name == "pipeline":
        from devicephys.pipeline import PipelineSpec
        return PipelineSpec
    return stages.get(name).spec_class()


def _cmd_schema(args) -> int:
    print(json.dumps(_spec_class(args.name).model_json_schema(), indent=2))
    return 0


def _cmd_validate(args) -> int:
    import yaml

    path = Path(args.spec)
    if not path.is_file():
        raise SpecError(f"spec file '{path}' does not exist; give the path of a .yaml or .json file")
    try:
        data = yaml.safe_load(path.read_text())  # YAML is a superset of JSON
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML/JSON ({str(exc).splitlines()[0]})") from None
    kind = args.kind
    if isinstance(data, dict) and "kind" in data and kind is None:
        kind = data["kind"]
        if kind not in stages.names() + ["pipeline"]:
            raise SpecError(f"{path}: kind = {kind!r} is not a spec kind; choose one of {stages.names() + ['pipeline']}")
    kind = kind or "pipeline"
    cls = _spec_class(kind)
    cls.from_dict({} if data is None else data)  # the spec refuses a 'kind' key naming another kind, as the stage commands do
    print(f"{path}: valid {kind} spec")
    return 0


def _cmd_info(args) -> int:
    from devicephys import engines, versions

    print(f"devicephys {versions.package_version('devicephys') or '?'} (Python {sys.version.split()[0]})")
    status = engines.report()
    for name, st in status.items():
        mark = "ok    " if st["ok"] else "BROKEN"
        extra = f" PETSc {st['petsc']}" if "petsc" in st else ""
        print(f"  {name:<8} {mark} {st.get('version', '-')}{extra}  {st['detail']}")
    return 0 if all(s["ok"] for s in status.values()) else EXIT_FAILED


def _cmd_init(args) -> int:
    from devicephys.io import atomic_write_text
    from devicephys.template import template

    if args.device and args.kind != "emission":
        raise SpecError(f"init {args.kind} --device: only the emission stage has a device preset; drop --device")
    text = template(args.kind, fast=args.fast, device=args.device)
    if args.output == "-":
        print(text, end="")
        return 0
    path = Path(args.output or f"{args.kind}.yaml")
    if path.exists() and not args.force:
        raise SpecError(f"init: '{path}' already exists; give --output OTHER.yaml or --force to overwrite it")
    if path.parent.exists() and not path.parent.is_dir():
        raise SpecError(f"init: '{path.parent}' is not a folder; give --output in a folder")
    atomic_write_text(path, text)
    print(f"wrote {path} (edit it, then: devicephys {'run' if args.kind == 'pipeline' else args.kind} {path} --out DIR)")
    return 0


_COMMANDS = {"run": _cmd_run, "schema": _cmd_schema, "validate": _cmd_validate, "info": _cmd_info, "init": _cmd_init}


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C: finished outputs are kept and the command exits non-zero."""


def _raise_terminated(signum, frame):
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = _COMMANDS.get(args.command, _cmd_stage)
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main else None
    petsc_options = os.environ.get("PETSC_OPTIONS")
    if in_main and "-no_signal_handler" not in (petsc_options or "").split():
        # PETSc, initialised when a stage first imports DOLFINx, would install its own SIGTERM handler, which
        # aborts MPI: the handler above (finished outputs kept, helpers stopped, exit 143) would never run
        os.environ["PETSC_OPTIONS"] = f"{petsc_options or ''} -no_signal_handler".strip()
    try:
        return handler(args)
    except SpecError as exc:
        print(f"devicephys: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except StageUnavailableError as exc:
        print(f"devicephys: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except ConvergenceError as exc:
        print(f"devicephys: solver failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt as exc:
        what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        print(f"devicephys: {what}; finished outputs are kept, rerun to resume", file=sys.stderr)
        return 128 + signal.SIGTERM if isinstance(exc, Terminated) else 130
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
            if petsc_options is None:
                os.environ.pop("PETSC_OPTIONS", None)
            else:
                os.environ["PETSC_OPTIONS"] = petsc_options


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
