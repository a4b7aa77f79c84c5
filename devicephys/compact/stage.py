"""Runner of the compact stage: fit, DeviceCard, SPICE and Verilog-A exports, verification."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import xarray as xr

from devicephys import strict_json
from devicephys.compact import build, corners, export_spice, export_veriloga, parallel, plot, verify
from devicephys.compact.card import DeviceCard
from devicephys.compact.fit import FILAMENT_VARIABLES, require
from devicephys.compact.fit_emission import EMISSION_VARIABLES
from devicephys.compact.spec import CompactSpec
from devicephys.errors import SpecError, StageUnavailableError
from devicephys.versions import engine_versions


def read_upstream(upstream: dict[str, Path], stage: str, filename: str, names) -> tuple[xr.Dataset, dict]:
    """Load ``upstream[stage]/filename`` and check its variables; returns the data and its provenance."""
    if stage not in upstream:
        raise SpecError(f"the compact stage needs the {stage} stage's output; give --from DIR holding {filename}")
    path = Path(upstream[stage]) / filename
    if not path.is_file():
        raise SpecError(f"'{path}' does not exist; run 'devicephys {stage}' first or point --from at its folder")
    try:
        ds = xr.load_dataset(path, engine="h5netcdf")
    except Exception as exc:  # noqa: BLE001 - any read failure means a bad file
        raise SpecError(f"'{path}' is not readable NetCDF ({type(exc).__name__}); rerun the {stage} stage") from None
    require(ds, names, f"{stage} result '{path.name}'")
    prov = {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "kind": ds.attrs.get("devicephys_kind", "?"), "versions": _json(ds.attrs.get("versions", "{}")),
            "spec": _json(ds.attrs.get("spec", "{}"))}
    if "synthetic" in ds.attrs:
        prov["synthetic"] = ds.attrs["synthetic"]
    return ds, prov


def _json(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, json.JSONDecodeError):
        return str(text)


#: The ngspice checks of a card, run a few at a time (:mod:`devicephys.compact.parallel`).
CHECKS = ("dc_sweep", "pulse_train", "lif", "lif_physical")


def _verify(card: DeviceCard, spec: CompactSpec, out: Path, progress: bool,
            filament: xr.Dataset | None = None) -> tuple[dict, dict, dict | None]:
    """The ngspice checks (:data:`CHECKS`) and, with ``filament`` where the card has a FEM-drive replay, that
    replay in ngspice: (checks, their quality, the replay's row or None), each check's result as run one after the
    other (:func:`devicephys.compact.parallel.run_jobs`)."""
    steps = [("dc_sweep", lambda: verify.dc_sweep(card)),
             ("pulse_train", lambda: verify.pulse_train(card, spec.verify_pulses)),
             ("lif", lambda: verify.lif(card, spec.verify_spikes)),
             ("lif_physical", lambda: verify.lif_physical(card))]
    if filament is not None and "rows" in card.fit_quality.get("fem_drive", {}):
        steps.append(("fem_drive", lambda: _fem_drive_spice(card, filament)))
    try:
        done = parallel.run_jobs(steps, threads=parallel.workers(len(steps)), desc="ngspice checks",
                                 progress=progress)
    except StageUnavailableError as exc:  # no ngspice: none of the checks runs, nor the replay
        return {}, {"skipped": str(exc)}, ({"skipped": str(exc)} if len(steps) > len(CHECKS) else None)
    checks = {name: done[name] for name in CHECKS}
    quality: dict[str, Any] = {name: checks[name]["metrics"] for name in CHECKS}
    quality["verdict"] = verify.overall(dict(quality))
    return checks, quality, done.get("fem_drive")


def _fem_drive_spice(card: DeviceCard, filament: xr.Dataset) -> dict:
    """The exported subcircuit under the FEM's drive in ngspice, against the NumPy replay."""
    from devicephys.compact import fem_drive_spice
    from devicephys.errors import ConvergenceError

    try:
        return fem_drive_spice.replay(card, filament, build.fem_spec(filament))
    except StageUnavailableError as exc:
        return {"skipped": str(exc)}
    except ConvergenceError as exc:
        return {"passes": False, "failed": str(exc)}


def _va_quality(card: DeviceCard, va: Path) -> dict:
    from devicephys.compact import va_check

    try:
        errors = va_check.check(card, va)
    except StageUnavailableError as exc:
        return {"skipped": str(exc)}
    return {"checked_by": "OpenVAF (openvaf-py): compiled, residuals compared with the NumPy model",
            "max_relative_difference": errors}


def _as_dataset(obj, stage: str, names) -> tuple[xr.Dataset, dict]:
    """A stage result (in memory) or its dataset, as the file holds it, with its provenance."""
    from devicephys.result import Result

    if isinstance(obj, Result):
        ds = obj.data.copy()
        ds.attrs = {**ds.attrs, "devicephys_kind": obj.kind, "spec": obj.spec.to_json(),
                    "versions": json.dumps(obj.versions, sort_keys=True)}
    elif isinstance(obj, xr.Dataset):
        ds = obj
    else:
        raise SpecError(f"fit_compact: the {stage} input must be a {stage} result or its xarray Dataset, "
                        f"got {type(obj).__name__}; pass what solve_{stage} returned")
    require(ds, names, f"{stage} result")
    prov = {"kind": ds.attrs.get("devicephys_kind", "?"), "versions": _json(ds.attrs.get("versions", "{}")),
            "spec": _json(ds.attrs.get("spec", "{}"))}
    if "synthetic" in ds.attrs:
        prov["synthetic"] = ds.attrs["synthetic"]
    return ds, prov


def fit_compact(filament, emission, spec: CompactSpec, *, sources: dict | None = None) -> DeviceCard:
    """Fit the compact model to a filament and an emission result; the stage's in-memory entry point.

    Parameters
    ----------
    filament, emission
        :class:`~devicephys.filament.result.FilamentResult` and
        :class:`~devicephys.emission.result.EmissionResult` (or their datasets as
        read from ``filament.nc`` / ``emission.nc``).
    spec
        The fit's options.
    sources
        Provenance of the inputs (file names and checksums) when they came from files;
        recorded in the card instead of what can be read from the results themselves.

    Returns
    -------
    DeviceCard
        Fitted parameters with uncertainties and provenance (not yet verified in ngspice).
    """
    fil, p_fil = _as_dataset(filament, "filament", FILAMENT_VARIABLES)
    em, p_em = _as_dataset(emission, "emission", EMISSION_VARIABLES)
    sources = sources or {}
    provenance = {"filament_result": sources.get("filament_result", p_fil),
                  "emission_result": sources.get("emission_result", p_em),
                  "compact_spec": spec.to_dict(), "versions": engine_versions("compact")}
    return build.fit_device(fil, em, spec, provenance)


def run(spec: CompactSpec, out: Path, *, upstream: dict[str, Path], progress: bool = True) -> dict[str, Path]:
    """Fit the compact model (:func:`fit_compact`) to the upstream results and write its card and exports.

    Returns the written files by name: ``result`` (device_card.json), ``spice``, ``veriloga``, the same for the
    card at both ends of its R_on bracket (``spice_ron_low``, ``veriloga_ron_low``, ``spice_ron_high``,
    ``veriloga_ron_high``: :mod:`devicephys.compact.corners`), one figure per fitted law (``fit_conductance``,
    ``fit_set_time``, ``fit_relaxation``,
    ``fit_heating``, ``fit_photon_yield``, ``fit_peak_wavelength``; ``fit_resistance_on``, the card's light over
    the ON state's spread, for a finite-element filament), and when verified ``verification`` and
    one figure per ngspice check (``ngspice_dc_sweep``, ``ngspice_pulse_train``, ``ngspice_lif``,
    ``ngspice_lif_filament``).
    With ``spec.measured`` the card is fitted to those measurements (:mod:`devicephys.compact.measured_stage`).
    """
    if spec.measured is not None:
        from devicephys.compact import measured_stage

        return measured_stage.run(spec, out, upstream=upstream, progress=progress)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    filament, p_fil = read_upstream(upstream, "filament", "filament.nc", FILAMENT_VARIABLES)
    emission, p_em = read_upstream(upstream, "emission", "emission.nc", EMISSION_VARIABLES)
    card = fit_compact(filament, emission, spec, sources={"filament_result": p_fil, "emission_result": p_em})
    name, _ = export_spice.subcircuit_names(card)
    files = {"spice": export_spice.write(card, out / f"{name}.lib"),
             "veriloga": export_veriloga.write(card, out / f"{name}.va")}
    card.fit_quality["veriloga"] = _va_quality(card, files["veriloga"])
    files.update(corners.write_ends(card, spec, out))
    if spec.verify:
        checks, quality, replay = _verify(card, spec, out, progress, filament)
        card.fit_quality["ngspice"] = quality
        if checks:
            files.update(plot.verification_figures(checks, out))
        if replay is not None:
            card.fit_quality["fem_drive"]["ngspice"] = replay
    files["result"] = card.save(out / "device_card.json")
    files.update(plot.fit_figures(card, filament, emission, out))
    spread = plot.resistance_on_panel(card, filament, emission, spec, out / "fit_resistance_on.png")
    if spread is not None:
        files["fit_resistance_on"] = spread
    if spec.verify:
        files["verification"] = strict_json.write(out / "verification.json", card.fit_quality)
    return files
