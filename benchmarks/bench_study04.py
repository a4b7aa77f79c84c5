"""Wall time of study 4 (the stacked photonic network on the bundled MNIST subset, full grid).

Runs ``studies/04_photonic_network_classification.py`` once in a fresh output
folder, prints its wall time, CPU time and the machine's load average, and the
study's accuracy rows.  Target: < 120 s on a 2-core machine (load average
printed: on a shared machine the wall time follows the load).

    .venv/bin/python benchmarks/bench_study04.py
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 120.0


def main() -> int:
    out = Path(tempfile.mkdtemp(prefix="devicephys-study04-"))
    load = os.getloadavg()[0]
    try:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "studies" / "04_photonic_network_classification.py"),
                        "--out", str(out)], check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        wall = time.perf_counter() - t0
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        rows = json.loads((out / "accuracy.json").read_text())
    finally:
        shutil.rmtree(out, ignore_errors=True)
    for r in rows:
        extra = f"  2-D {r['accuracy_2d']:.4f}" if "accuracy_2d" in r else ""
        print(f"pitch {r['pitch'] * 1e6:4.1f} um  h {r['layer_spacing'] * 1e6:4.2f} um  "
              f"photons/spike {r['photons_per_spike']:9.3g}  3-D {r['accuracy']:.4f} "
              f"(naive {r['accuracy_naive']:.4f}, ideal {r['ideal_accuracy']:.4f}){extra}")
    print(f"study 4: {wall:6.1f} s wall, {cpu.ru_utime + cpu.ru_stime:6.1f} s CPU "
          f"(load average {load:.1f} at start; target < {TARGET:.0f} s wall)")
    return 0 if wall < TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
