"""Cold and warm `devicephys run` (what `make demo` runs once the environment exists).

Cold: a fresh output folder, every stage computed.  Warm: the same command
again, every stage taken from the cache.  Prints both wall times and their
ratio; targets: cold < 600 s, warm < 10 s on a 2-core machine.

    .venv/bin/python benchmarks/bench_demo.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed_run(out: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "devicephys", "run", "--out", str(out), "--quiet"], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> int:
    out = Path(tempfile.mkdtemp(prefix="devicephys-demo-"))
    try:
        cold = timed_run(out)
        warm = sorted(timed_run(out) for _ in range(3))[1]
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print(f"cold demo: {cold:7.1f} s  (target < 600 s)")
    print(f"warm demo: {warm:7.2f} s  (median of 3; target < 10 s)")
    print(f"cold / warm = {cold / warm:.0f}x")
    return 0 if cold < 600 and warm < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
