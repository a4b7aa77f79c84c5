"""Versions of the packages and engines that produced a result.

:func:`collect` gives the core Python packages; :func:`engine_versions` adds the
engines a stage computes with (DOLFINx and its PETSc build for the filament stage,
MEEP for the emission stage, ngspice for the compact stage, Brian2 where installed),
read without importing them, so that a cache key can be made before a stage runs and
an engine upgrade invalidates the cached results.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import shutil
import subprocess
import sys
from importlib import metadata

_BASE = ("devicephys", "numpy", "scipy", "xarray", "pydantic")

#: Engines (distribution names, or ``meep``/``ngspice`` read specially) per stage.
_ENGINES = {
    "filament": ("dolfinx-solver-real", "fenics-dolfinx", "fenics-basix", "fenics-ffcx", "fenics-ufl", "mpi4py", "gmsh"),
    "emission": ("meep", "dolfinx-solver-real", "fenics-dolfinx", "gmsh"),  # MEEP (fdtd), DOLFINx and gmsh (fem)
    "compact": ("ngspice", "openvaf-py"),
    "array": ("numba", "brian2"),
}


def package_version(name: str) -> str | None:
    """Installed version of distribution ``name``, or None."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def collect(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Versions of Python, the core packages and any ``extra`` engines already known."""
    out = {"python": sys.version.split()[0]}
    for name in _BASE:
        version = package_version(name)
        if version:
            out[name] = version
    out.update(extra or {})
    return out


@functools.lru_cache(maxsize=None)
def meep_version() -> str | None:
    """MEEP's ``__version__``, read from its package source (MEEP built from source has no metadata)."""
    spec = importlib.util.find_spec("meep")
    if spec is None or not spec.origin:
        return None
    with open(spec.origin, encoding="utf-8", errors="replace") as fh:
        match = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", fh.read(), re.M)
    return match.group(1) if match else "unknown"


@functools.lru_cache(maxsize=None)
def ngspice_version() -> str | None:
    """Version printed by ``ngspice -v``, or None when ngspice is not on PATH."""
    exe = shutil.which("ngspice")
    if exe is None:
        return None
    try:
        banner = subprocess.run([exe, "-v"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    match = re.search(r"ngspice-(\S+)", banner.stdout + banner.stderr)
    return match.group(1) if match else "unknown"


def _engine(name: str) -> str | None:
    if name == "meep":
        return meep_version()
    if name == "ngspice":
        return ngspice_version()
    return package_version(name)


def loaded_petsc_version() -> str | None:
    """Version of the PETSc library in use, if petsc4py is already loaded (never imports it)."""
    petsc4py = sys.modules.get("petsc4py.PETSc")
    if petsc4py is None:
        return None
    return ".".join(str(x) for x in petsc4py.Sys.getVersion())


def engine_versions(stage: str) -> dict[str, str]:
    """Core versions plus those of the engines stage ``stage`` computes with (absent ones left out).

    The PETSc version is added when PETSc is loaded in this process (after a filament solve).
    """
    extra = {name: v for name in _ENGINES.get(stage, ()) if (v := _engine(name)) is not None}
    if stage == "filament" and (petsc := loaded_petsc_version()):
        extra["petsc"] = petsc
    return collect(extra)
