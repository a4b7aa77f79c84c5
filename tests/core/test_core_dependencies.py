"""One dependency list: pyproject.toml declares what devicephys needs, env/pins.txt pins exactly those.

pyproject.toml is the source of *which* packages (loose requirements, engines as extras); env/pins.txt
(read by scripts/setup.sh, which keys its cached environment on it) holds the exact version of each.
These tests fail when the two disagree, or when devicephys imports a package that is declared nowhere.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, str | None]:
    """``{canonical name: exact version or None}`` of the pip lines of env/pins.txt."""
    out = {}
    for line in (ROOT / "env" / "pins.txt").read_text().splitlines():
        if line.startswith("pip: "):
            name, _, version = line[5:].strip().partition("==")
            out[canonicalize_name(name)] = version or None
    return out


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirements() -> dict[str, list[Requirement]]:
    """The requirements of pyproject.toml by group: build, run, and each extra."""
    data = _pyproject()
    groups = {"build": data["build-system"]["requires"], "run": data["project"]["dependencies"]}
    groups.update(data["project"].get("optional-dependencies", {}))
    return {group: [Requirement(r) for r in reqs] for group, reqs in groups.items()}


def _declared() -> set[str]:
    return {canonicalize_name(r.name) for reqs in _requirements().values() for r in reqs}


def test_every_requirement_has_a_pin_that_satisfies_it():
    pins = _pins()
    for group, reqs in _requirements().items():
        for req in reqs:
            name = canonicalize_name(req.name)
            assert name in pins, \
                f"pyproject.toml [{group}] requires {req} but env/pins.txt has no 'pip: {req.name}' line"
            if pins[name] is not None:
                assert req.specifier.contains(Version(pins[name]), prereleases=True), \
                    f"env/pins.txt pins {req.name}=={pins[name]}, outside pyproject.toml's {req} [{group}]"


def test_every_pin_is_declared_in_pyproject():
    undeclared = sorted(set(_pins()) - _declared())
    assert not undeclared, f"env/pins.txt pins {undeclared}, which pyproject.toml does not declare; add them there"


def _imported_top_level() -> set[str]:
    """Third-party top-level modules the devicephys package imports (stdlib and devicephys itself left out)."""
    found = set()
    for path in (ROOT / "devicephys").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_bytes())):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "devicephys"}


def _bundled_with_the_engines() -> set[str]:
    """Distributions the FEM engine wheel (the 'fem' extra) requires: its FEniCS components and MPI, whose
    versions its own pin fixes."""
    out = set()
    for req in _requirements().get("fem", []):
        try:
            deps = requires(req.name) or []
        except PackageNotFoundError:
            continue
        out |= {canonicalize_name(Requirement(d).name) for d in deps if "extra ==" not in d}
    return out


def test_every_imported_package_is_declared():
    pins_text = (ROOT / "env" / "pins.txt").read_text()
    debian_built = {line.split()[1] for line in pins_text.splitlines() if line.startswith("debian-source:")}
    providers = packages_distributions()
    allowed = _declared() | _bundled_with_the_engines()
    missing = []
    for module in sorted(_imported_top_level()):
        if module in debian_built:  # MEEP (and MPB) are built from Debian's sources by scripts/setup.sh
            continue
        dists = {canonicalize_name(d) for d in providers.get(module, [])}
        if not dists:  # an optional engine not installed here: its distribution cannot be told
            continue
        if not dists & allowed:
            missing.append(f"{module} (from {', '.join(sorted(dists))})")
    assert not missing, f"devicephys imports {missing}, declared nowhere in pyproject.toml; declare and pin them"
