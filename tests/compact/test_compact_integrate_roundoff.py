"""The NumPy reference integrator near the thermal node's round-off.

``tests/data/card_thermal_roundoff.json`` is the card fitted (``devicephys compact --fast``, verification off)
to a default-device FEM run whose gap voltage was found by Brent's method instead of bisection: it differs from
the demo card by 3e-7 in the threshold.  Integrated in absolute temperature, the picosecond thermal node turned
the ~1e-13 K resolution of T near 300 K into K/s of noise in dT/dt; LSODA then crept along the gap floor at
6.5e-13 s per step (440,000 right-hand-side calls in one pulse segment without reaching its end), and the
compact stage's pulse-train check never finished.  Integrated in the excess temperature T - T_0, the same
pulse train takes about 2,200 steps.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "card_thermal_roundoff.json"

SCRIPT = f"""
import numpy as np
from devicephys.compact import integrate
from devicephys.compact.card import DeviceCard
from devicephys.compact.fit import set_time_law
card = DeviceCard.load({str(DATA)!r})
v, p = card.values(), card.model_params()
amp = 1.3 * v["threshold_voltage"]
width = 0.45 * float(set_time_law(amp, v["set_time_tau0"], v["set_time_v0"], v["relaxation_time"]))
tp, vp = integrate.pulse_train_pwl(amp, width, width + 0.15 * v["relaxation_time"], 3, rise=width / 50,
                                   delay=0.1 * width)
tr = integrate.simulate_series(p, tp, vp, 0.2 * v["resistance_on"], samples_per_segment=None)
assert abs(tr.time[-1] - tp[-1]) <= 1e-12 * tp[-1] and np.all(np.isfinite(tr.temperature))
print(len(tr.time), float(tr.gap.min()), float(tr.temperature.max()), float(tr.temperature.min() - p.ambient_temperature))
"""


def test_pulse_train_at_the_gap_floor_does_not_stall():
    """The whole three-pulse train integrates in a bounded number of steps (the stall never ended: a 120 s
    guard, against about 1 s)."""
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    steps, gap_min, t_max, undershoot = out.stdout.split()
    assert int(steps) < 20_000, steps  # adaptive steps over the whole train
    assert float(gap_min) > -1e-11 and float(t_max) > 300.0  # the soft floor (floor_width 1e-11 m) at gap_min = 0
    assert float(undershoot) > -1e-6  # never below the ambient by more than the solver's tolerance (3e-7 K)
