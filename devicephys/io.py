"""Atomic file writes: write to a temporary file in the same folder, then rename.

An interrupted run therefore never leaves a half-written file under the final
name: readers see either the old file or the complete new one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it over ``path``.

    The temporary file keeps the final suffix so that writers choosing a
    format by extension (NetCDF, PNG, XDMF) work unchanged.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".partial{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; results get the usual permissions
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically; return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_npz(path: str | Path, meta: dict, arrays: dict) -> Path:
    """Write ``arrays`` (name -> array-like) and the JSON-serialisable record ``meta`` to one .npz at ``path``,
    atomically; :func:`read_npz` reads them back.  Return the path."""
    import io
    import json

    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, meta=json.dumps(meta), **{k: np.asarray(v) for k, v in arrays.items()})
    return atomic_write_bytes(path, buf.getvalue())


def read_npz(path: str | Path) -> tuple[dict, dict]:
    """(arrays, meta) of an .npz written by :func:`write_npz`."""
    import json

    import numpy as np

    with np.load(path) as f:
        return {k: f[k] for k in f.files if k != "meta"}, json.loads(str(f["meta"]))


def save_figure(fig, path: str | Path, *, close: bool = False, **kwargs) -> Path:
    """Save a matplotlib figure atomically (PNG by default, 150 dpi); with ``close``, close it afterwards, whether
    the save succeeded or not."""
    kwargs.setdefault("dpi", 150)
    kwargs.setdefault("bbox_inches", "tight")
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, **kwargs)
    finally:
        if close:
            import matplotlib.pyplot as plt

            plt.close(fig)
    return Path(path)


def writable_folder(path: str | Path, what: str = "--out") -> Path:
    """Create the output folder ``path`` and check that files can be written in it; return it.

    Raises
    ------
    SpecError
        ``path`` is a file, lies under a file, or cannot be written (read-only
        file system, no permission): one line naming the path, the reason and the fix.
    """
    from devicephys.errors import SpecError

    path = Path(path)
    blocker = next((p for p in [path, *path.parents] if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        where = "is a file" if blocker == path else f"lies under the file '{blocker}'"
        raise SpecError(f"{what} {path}: {where}, not a folder; choose a folder path for {what}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-check.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SpecError(f"{what} {path}: cannot write there ({reason}); choose a folder on a writable file system") from None
    return path


def available_memory() -> int:
    """Memory available to a new allocation [B] (MemAvailable of /proc/meminfo, else total)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
