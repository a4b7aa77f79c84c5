"""Study 08: a volatile loop held at its compliance, and the hold that a current compliance gives the neck.

Question: driven as volatile switches are measured (a source-measure unit's current compliance, next to
no series resistor), does the default Ag / PMMA / Ag cell switch once, hold its ON state while biased and
release it at low bias, and are its R_on and hold voltage those of measured cells?

Steps
-----
1. The filament stage on ``examples/volatile.yaml``: the lattice-gas Ag⁺ transport (at most one atom per
   site) with the dissolved Ag drifting back in the field, and the neck's Landauer contact on its
   percolating backbone (conducting share ((c − c_p)/(1 − c_p))^t, t = 2.0, the 3-D conductivity exponent),
   behind ``--compliance`` (10 µA) and a 100 Ω series resistor; the hold-window study at ``--biases``
   (each held from the sweep's falling ramp for 100 µs).
2. The I–V loop on a log-current axis, the time traces, and the hold window (share of each hold ON).
3. Checks, each with a stated target (exit status 1 when one fails):

   * held from the source's peak down the falling ramp, then at most one change, the release, below 0.5 V
     of source (the example's floor of 2e-5 of the sweep converges it: 2e-6 gives the same samples; the
     changes on the rising ramp are counted, not checked; the release itself is not converged in the largest
     step or the Newton tolerance, see studies/09_solver_tolerance.py);
   * the ON branch is the compliance's: the median current while ON above 0.5 V of source is the
     compliance to 1 %;
   * a held window: at least one bias of ``--biases`` holds the ON state for its whole hold, and zero
     bias does not (the filament self-ruptures);
   * the published ranges (``devicephys.ranges``; a sanity check, nothing is tuned to them) for R_on,
     the static hold voltage and the self-rupture time.

Usage: python studies/08_volatile_loop.py [--full] [--compliance 10e-6] [--biases 0 0.05 ...] [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "volatile.yaml"
COMPLIANCE_TOLERANCE = 0.01  # relative: the ON branch's median current against the compliance
DRIVEN = 0.5                 # [V] source above which the ON branch is compared with the compliance
RANGED = ("resistance_on", "hold_voltage", "hold_voltage_static", "relaxation_time")


def spec_for(args):
    """The example's FilamentSpec (fast preset unless ``--full``) with the study's compliance and biases."""
    from devicephys.filament.spec import FilamentSpec

    example = FilamentSpec.from_file(EXAMPLE).model_dump(exclude_unset=True)
    base = FilamentSpec().model_dump() if args.full else FilamentSpec.fast().model_dump()
    return FilamentSpec(**{**base, **example, "compliance_current": args.compliance,
                           "sweep_hold_biases": sorted(args.biases)})


def analyse(spec, ds) -> dict[str, tuple[float, float, bool]]:
    """(simulated, reference, passed) of each check."""
    from devicephys.ranges import RANGES

    gap, current, source = ds["gap"].values, np.abs(ds["current"].values), ds["source_voltage"].values
    on = gap < spec.gap_on
    changes = int(np.sum(np.diff(on.astype(int)) != 0))
    driven = on & (source > DRIVEN)
    median = float(np.median(current[driven])) if driven.any() else math.nan
    share = ds["sweep_hold_on_fraction"].values
    biases = ds["sweep_hold_bias"].values if "sweep_hold_bias" in ds else np.asarray(spec.sweep_hold_biases)
    held = int(np.sum(share >= 1.0))
    zero = share[biases == 0.0]
    peak = int(np.argmax(source))
    print(f"changes between OFF and ON in the sweep: {changes}")
    after = np.flatnonzero(np.diff(on[peak:].astype(int)) != 0)
    released_low = after.size == 0 or (after.size == 1 and source[peak + after[0] + 1] < DRIVEN)
    checks = {"held_then_released_at_low_bias": (float(after.size), 1.0, bool(on[peak] and released_low)),
              "on_branch_at_compliance": (median, spec.compliance_current,
                                          abs(median - spec.compliance_current) <= COMPLIANCE_TOLERANCE
                                          * spec.compliance_current),
              "held_window": (float(held), 1.0, held >= 1 and (zero.size == 0 or bool(np.all(zero < 1.0))))}
    for name in RANGED:
        value = float(ds[name])
        rng = RANGES["hold_voltage" if name == "hold_voltage_static" else name]
        checks[f"range_{name}"] = (value, math.sqrt(rng.low * rng.high), bool(math.isfinite(value) and rng.holds(value)))
    return checks


def figure(spec, ds, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from devicephys.io import save_figure

    t, v, i = ds["time"].values, ds["voltage"].values, np.abs(ds["current"].values)
    src = ds["source_voltage"].values
    rising = np.arange(t.size) <= int(np.argmax(src))
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(15, 4.2))
    a.semilogy(v[rising], np.maximum(i[rising], 1e-22), ".", ms=3, label="rising source")
    a.semilogy(v[~rising], np.maximum(i[~rising], 1e-22), ".", ms=3, label="falling source")
    a.axhline(spec.compliance_current, color="0.6", lw=0.8, ls="--", label="compliance")
    a.set(xlabel="cell voltage [V]", ylabel="|current| [A]", title=f"I–V, first set at {float(ds['threshold_voltage']):.3f} V")
    a.legend(fontsize=8)
    b.plot(t * 1e6, src, label="source")
    b.plot(t * 1e6, v, ".", ms=2, label="cell")
    b.set(xlabel="time [µs]", ylabel="voltage [V]", title="the sweep")
    b2 = b.twinx()
    b2.semilogy(t * 1e6, np.maximum(i, 1e-22), color="C3", lw=0.8)
    b2.set_ylabel("|current| [A]", color="C3")
    b.legend(fontsize=8, loc="upper right")
    biases, share = np.asarray(spec.sweep_hold_biases), ds["sweep_hold_on_fraction"].values
    c.bar(np.arange(biases.size), share, color=["C2" if s >= 1 else "C1" for s in share])
    c.set_xticks(np.arange(biases.size), [f"{x:g}" for x in biases])
    c.set(xlabel="source held [V]", ylabel="share of the hold ON", ylim=(0, 1.05),
          title=f"hold window (static hold {float(ds['hold_voltage_static']):.3f} V)")
    fig.tight_layout()
    return save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    from devicephys.io import atomic_write_text, writable_folder

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help="the full preset (default: fast)")
    p.add_argument("--compliance", type=float, default=1e-5, help="current compliance of the source [A] (default 10 uA)")
    p.add_argument("--biases", type=float, nargs="+", default=[0.0, 0.05, 0.1, 0.2, 0.5, 1.0],
                   help="source voltages [V] of the hold window (each below the 3 V sweep's peak)")
    p.add_argument("--out", default="results/study08", help="output folder")
    args = p.parse_args(argv)
    if not (math.isfinite(args.compliance) and args.compliance > 0):
        p.error(f"--compliance {args.compliance}: must be a positive current in A, e.g. 1e-5")
    if any(not math.isfinite(x) or x < 0 for x in args.biases):
        p.error(f"--biases {args.biases}: each must be a number >= 0 (V)")
    try:
        spec = spec_for(args)
    except Exception as exc:  # a SpecError names the field and the fix
        p.error(str(exc))
    out = writable_folder(args.out)
    import dolfinx_solver  # noqa: F401  (MPI before DOLFINx)

    from devicephys.filament import solve_filament

    ds = solve_filament(spec, progress=True).data
    checks = analyse(spec, ds)
    lines = ["quantity,value,unit"]
    for name, unit in (("threshold_voltage", "V"), ("hold_voltage", "V"), ("hold_voltage_static", "V"),
                       ("hold_window_low", "V"), ("resistance_on", "Ohm"), ("resistance_off", "Ohm"),
                       ("resistance_off_relaxed", "Ohm"), ("relaxation_time", "s"), ("set_time_tau0", "s"),
                       ("set_time_v0", "V"), ("thermal_resistance", "K/W"), ("thermal_time_constant", "s")):
        lines.append(f"{name},{float(ds[name]):.6g},{unit}")
    lines.append(f"temperature_peak,{float(ds['temperature_max'].max()):.6g},K")
    atomic_write_text(out / "volatile.csv", "\n".join(lines) + "\n")
    print("\n".join(line.replace(",", "  ") for line in lines[1:]))
    figure(spec, ds, out / "08_volatile_loop.png")
    ok = True
    for name, (sim, ref, passed) in checks.items():
        ok &= passed
        print(f"check {name}: simulated {sim:.4g}, reference {ref:.4g} -> {'ok' if passed else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
