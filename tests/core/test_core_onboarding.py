"""Onboarding: `devicephys init KIND` writes a commented spec file, and every command block of the README and of
the pages in docs/ runs as written.

Their ```bash blocks are run in a scratch folder whose ``.venv/bin``
leads to the interpreter running the tests.  Blocks that only inspect or
write specs run in the default suite; blocks that compute (the stage chain,
MPI) are slow tests; ``make`` (its ``make test`` is this suite, ``make demo``
is tests/core/test_core_demo_e2e.py) and conda (not on this machine) are not run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from devicephys import cli
from devicephys.template import spec_class

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("filament", "emission", "compact", "array", "pipeline")
#: devicephys sub-commands that only read or write specs (seconds).
CHEAP = {"init", "validate", "schema", "info", "--help"}


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_init_writes_the_preset_with_every_field_commented(tmp_path, kind, fast, capsys):
    path = tmp_path / f"{kind}.yaml"
    assert cli.main(["init", kind, "--output", str(path)] + (["--fast"] if fast else [])) == 0
    cls = spec_class(kind)
    want = cls.fast() if fast and hasattr(cls, "fast") else cls()
    assert cls.from_file(path) == want
    lines = path.read_text().splitlines()
    for name in want.to_dict():
        i = next(k for k, line in enumerate(lines) if line.startswith(f"{name}:"))
        assert lines[i - 1].startswith("# "), f"{name} has no comment"
    assert cli.main(["validate", str(path), "--kind", kind]) == 0
    assert cli.main(["validate", str(path)]) == 0  # the file names its kind
    assert f"valid {kind} spec" in capsys.readouterr().out


@pytest.mark.parametrize("fast", [False, True])
def test_emission_device_preset_is_the_pipelines(tmp_path, fast, capsys):
    """`init emission --device` and `emission --device` give the emission spec `run` uses on that preset."""
    from devicephys.emission.spec import EmissionSpec
    from devicephys.pipeline import PipelineSpec

    want = PipelineSpec(preset="fast" if fast else "full").stage_spec("emission")
    assert want.engine == "fem" and want.use_filament
    path = tmp_path / "emission.yaml"
    assert cli.main(["init", "emission", "--device", "--output", str(path)] + (["--fast"] if fast else [])) == 0
    assert EmissionSpec.from_file(path) == want
    stage = cli.stages.get("emission")
    assert cli._stage_spec(stage, None, fast, device=True) == want
    with pytest.raises(cli.SpecError, match="--device"):
        cli._stage_spec(stage, str(path), fast, device=True)
    assert cli.main(["init", "filament", "--device", "--output", str(tmp_path / "f.yaml")]) == 2
    assert "drop --device" in capsys.readouterr().err


def test_fast_with_a_spec_file_fills_the_fields_it_leaves_out(tmp_path):
    """`devicephys filament FILE --fast`: the file's fields over the quick preset (not the full one)."""
    from devicephys.filament.spec import FilamentSpec

    path = tmp_path / "f.yaml"
    path.write_text("insulator_thickness: 12 nm\n")
    stage = cli.stages.get("filament")
    fast, full = cli._stage_spec(stage, str(path), True), cli._stage_spec(stage, str(path), False)
    assert fast.insulator_thickness == full.insulator_thickness == pytest.approx(12e-9)
    assert fast.far_mesh_size == FilamentSpec.fast().far_mesh_size != full.far_mesh_size
    assert full.far_mesh_size == FilamentSpec().far_mesh_size


def test_init_refuses_to_overwrite(tmp_path, capsys):
    path = tmp_path / "filament.yaml"
    path.write_text("insulator_thickness: 12 nm\n")
    assert cli.main(["init", "filament", "--output", str(path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert path.read_text() == "insulator_thickness: 12 nm\n"
    assert cli.main(["init", "filament", "--output", str(path), "--force"]) == 0


#: The pages whose command blocks a user runs as written: the README, then the documentation in docs/.
PAGES = ("README.md", "docs/filament.md", "docs/chain.md", "docs/measurements.md", "docs/validation.md",
         "docs/limitations.md")


def test_every_documentation_page_is_listed():
    """A page added to docs/ has its command blocks run too."""
    assert {str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")} == set(PAGES[1:])


def test_documentation_links_resolve():
    """Every relative link of the README and the docs pages names a file of the checkout (images, studies, pages)."""
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", (ROOT / page).read_text()):
            if "://" not in target and not ((ROOT / page).parent / target).exists():
                broken.append(f"{page}: {target}")
    assert not broken, broken


def _blocks() -> list[str]:
    return [b for page in PAGES for b in re.findall(r"```bash\n(.*?)```", (ROOT / page).read_text(), flags=re.S)]


def _commands(block: str) -> list[str]:
    return [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]


def _kind(block: str) -> str:
    """'skip', 'cheap' or 'slow' for a command block."""
    cmds = _commands(block)
    if any(c.startswith(("make", "conda", "pip ")) for c in cmds):
        return "skip"
    cheap = all(re.search(r"devicephys (\S+)", c) and re.search(r"devicephys (\S+)", c).group(1) in CHEAP for c in cmds)
    return "cheap" if cheap else "slow"


def _venv_shim(folder: Path) -> None:
    """``folder/.venv/bin``: python, devicephys and mpirun of the environment running the tests."""
    bin_dir = folder / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    shims = {"python": f'exec "{sys.executable}" "$@"', "devicephys": f'exec "{sys.executable}" -m devicephys "$@"'}
    mpirun = Path(sys.executable).parent / "mpirun"
    if mpirun.exists():
        shims["mpirun"] = f'exec "{mpirun}" "$@"'
    for name, body in shims.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)


def _run_blocks(folder: Path, kinds: set[str], timeout: float) -> None:
    _venv_shim(folder)
    (folder / "examples").symlink_to(ROOT / "examples")  # the README's example files, as in a checkout
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for block in _blocks():
        if _kind(block) not in kinds:
            continue
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=folder, capture_output=True, text=True,
                             timeout=timeout, env=env)
        assert run.returncode == 0, f"command block failed:\n{block}\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"


def test_readme_blocks_are_classified():
    kinds = [_kind(b) for b in _blocks()]
    assert "cheap" in kinds and "slow" in kinds
    assert any("devicephys init" in b for b in _blocks() if _kind(b) == "cheap")


def test_readme_cheap_blocks_run_as_written(tmp_path):
    _run_blocks(tmp_path, {"cheap"}, 600)
    for name in ("filament.yaml", "emission.yaml", "filament.schema.json"):
        assert (tmp_path / name).is_file()


@pytest.mark.slow
@pytest.mark.fem
@pytest.mark.fdtd
@pytest.mark.spice
def test_readme_every_block_runs_as_written(tmp_path):
    _run_blocks(tmp_path, {"cheap", "slow"}, 3600)
    for stage in ("filament", "emission", "compact", "array"):
        assert any((tmp_path / "out" / stage).iterdir()), stage
