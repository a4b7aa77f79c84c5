"""Reader of MNIST-style IDX files that the user supplies (no download).

IDX layout: two zero bytes, a type code (0x08 unsigned byte, 0x09 signed byte,
0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), the number of
dimensions, then each dimension as a big-endian uint32, then the data
(big-endian).  Gzipped files (``.gz``) are read too.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from devicephys.errors import SpecError

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in the IDX file ``path`` (shape from its header).

    Raises
    ------
    SpecError
        Missing file, bad magic number, unknown type code or a size that does
        not match the header.
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"IDX file '{path}' does not exist; give the path of an MNIST .idx (or .gz) file")
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise SpecError(f"'{path}' is not an IDX file (its first two bytes must be zero)")
    code, ndim = raw[2], raw[3]
    if code not in _TYPES:
        raise SpecError(f"'{path}': unknown IDX type code 0x{code:02X}; expected one of "
                        f"{[hex(c) for c in _TYPES]}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise SpecError(f"'{path}': truncated IDX header")
    shape = tuple(int(x) for x in np.frombuffer(raw[4:header], dtype=">u4"))
    dtype = np.dtype(_TYPES[code])
    count = int(np.prod(shape)) if shape else 1
    if len(raw) - header != count * dtype.itemsize:
        raise SpecError(f"'{path}': header says {shape} x {dtype.itemsize} B but the file holds "
                        f"{len(raw) - header} B of data; the file is damaged")
    return np.frombuffer(raw[header:], dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file (used to make small test files)."""
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _TYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        raise SpecError(f"write_idx: dtype {array.dtype} has no IDX type code")
    head = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    data = array.astype(np.dtype(_TYPES[code])).tobytes()
    Path(path).write_bytes(head + data)
    return Path(path)


def load_mnist(images: str | Path, labels: str | Path, *, downsample: int = 1):
    """Images scaled to [0, 1] by the type's full scale (flattened, optionally ``downsample`` x ``downsample`` block-averaged) and labels."""
    x = read_idx(images)
    y = read_idx(labels)
    full = float(np.iinfo(x.dtype).max) if np.issubdtype(x.dtype, np.integer) else max(float(x.max()), 1e-12)
    if x.ndim != 3 or y.ndim != 1 or x.shape[0] != y.shape[0]:
        raise SpecError(f"MNIST files: images {x.shape} and labels {y.shape} must be (n, rows, cols) and (n,)")
    if downsample > 1:
        n, r, c = x.shape
        r2, c2 = r // downsample, c // downsample
        x = x[:, :r2 * downsample, :c2 * downsample].reshape(n, r2, downsample, c2, downsample).mean(axis=(2, 4))
    x = x.astype(float)
    return np.clip(x.reshape(x.shape[0], -1) / full, 0.0, 1.0), y.astype(np.int64)
