"""Versions of the packages and engines that produced a result."""

from __future__ import annotations

import sys
from importlib import metadata

_BASE = ("devicephys", "numpy", "scipy", "xarray", "pydantic")


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
