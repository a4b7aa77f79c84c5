"""Runner of the compact stage: fit, DeviceCard, SPICE and Verilog-A exports, verification."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import xarray as xr
from tqdm.auto import tqdm

from devicephys.compact import build, export_spice, export_veriloga, plot, verify
from devicephys.compact.card import DeviceCard
from devicephys.compact.fit import FILAMENT_VARIABLES, require
from devicephys.compact.fit_emission import EMISSION_VARIABLES
from devicephys.compact.spec import CompactSpec
from devicephys.errors import SpecError, StageUnavailableError
from devicephys.io import atomic_write_text
from devicephys.versions import collect


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


def _verify(card: DeviceCard, spec: CompactSpec, out: Path, progress: bool) -> tuple[dict, dict]:
    checks: dict[str, Any] = {}
    quality: dict[str, Any] = {}
    steps = [("dc_sweep", lambda: verify.dc_sweep(card)),
             ("pulse_train", lambda: verify.pulse_train(card, spec.verify_pulses)),
             ("lif", lambda: verify.lif(card, spec.verify_spikes)),
             ("lif_physical", lambda: verify.lif_physical(card))]
    try:
        for name, job in tqdm(steps, desc="ngspice checks", disable=not progress):
            checks[name] = job()
            quality[name] = checks[name]["metrics"]
    except StageUnavailableError as exc:
        quality["skipped"] = str(exc)
        checks.clear()
    return checks, quality


def _va_quality(card: DeviceCard, va: Path) -> dict:
    from devicephys.compact import va_check

    try:
        errors = va_check.check(card, va)
    except StageUnavailableError as exc:
        return {"skipped": str(exc)}
    return {"checked_by": "OpenVAF (openvaf-py): compiled, residuals compared with the NumPy model",
            "max_relative_difference": errors}


def run(spec: CompactSpec, out: Path, *, upstream: dict[str, Path], progress: bool = True) -> dict[str, Path]:
    """Fit the compact model to the filament and emission results and write its card and exports.

    Returns the written files by name: ``result`` (device_card.json), ``spice``,
    ``veriloga``, ``fit_plot``, and when verified ``verification`` and ``verification_plot``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    filament, p_fil = read_upstream(upstream, "filament", "filament.nc", FILAMENT_VARIABLES)
    emission, p_em = read_upstream(upstream, "emission", "emission.nc", EMISSION_VARIABLES)
    provenance = {"filament_result": p_fil, "emission_result": p_em, "compact_spec": spec.to_dict(),
                  "versions": collect()}
    card = build.fit_device(filament, emission, spec, provenance)
    name, _ = export_spice.subcircuit_names(card)
    files = {"spice": export_spice.write(card, out / f"{name}.lib"),
             "veriloga": export_veriloga.write(card, out / f"{name}.va")}
    card.fit_quality["veriloga"] = _va_quality(card, files["veriloga"])
    if spec.verify:
        checks, quality = _verify(card, spec, out, progress)
        card.fit_quality["ngspice"] = quality
        if checks:
            files["verification_plot"] = plot.verification_figure(checks, out / "ngspice_vs_numpy.png")
    files["result"] = card.save(out / "device_card.json")
    files["fit_plot"] = plot.fit_figure(card, filament, emission, out / "fit.png")
    if spec.verify:
        files["verification"] = atomic_write_text(out / "verification.json",
                                                  json.dumps(card.fit_quality, indent=2, default=float))
    return files
