"""Study 03: circuit co-simulation of the fitted compact model in ngspice.

Question: does the compact model, fitted to the filament and emission results
and exported as a SPICE subcircuit, behave in a real circuit simulator exactly
as its NumPy reference — and does the LIF neuron built from it fire at the
rate the threshold-switch theory predicts?

Steps
-----
1. Fit the compact model (``devicephys.compact``) to the filament and emission
   results in ``--from DIR``.  Without ``--from`` the study makes *synthetic*
   results from known parameters (a stand-in, labelled as such in the card).
2. Export SPICE and Verilog-A, run ngspice on a DC sweep, a pulse train and the
   reference LIF neuron, and overlay ngspice and NumPy.
3. Sweep the LIF input voltage V_in.  Theory (instant switch, R_off >> R_s)::

       period = t_c + t_d,   t_c = R_s C ln[(V_in - V_h)/(V_in - V_th)]
       t_d = (R_s || R_on) C ln[(V_th - V_on)/(V_h - V_on)],  V_on = V_in R_on/(R_s + R_on)

   and no spike at all for V_in <= V_th.  The latch needs about one switching
   time (the filament's set time) to open and close, which lengthens each
   period by 0.06-0.09 % when R_on C is 1000 switching times: the capacitor is
   raised to that where needed (``neuron.theory_capacitance``).
4. Check: ngspice versus NumPy within 1 % (currents, spike times) and the
   simulated periods versus theory within 1 %; exit status 1 otherwise.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from devicephys import strict_json
from devicephys.compact import neuron, ngspice, synthetic
from devicephys.compact.card import DeviceCard
from devicephys.compact.export_spice import subcircuit_names, subcircuit_text
from devicephys.compact.spec import CompactSpec
from devicephys.compact.stage import run as run_compact
from devicephys.io import save_figure

TOLERANCE = 0.01


def lif_period_sweep(card: DeviceCard, factors) -> list[dict]:
    """LIF period [s] at V_in = factor x V_th: theory, NumPy and ngspice."""
    lp, v = card.latch_params(), card.values()
    # the card's circuit, its capacitor raised where needed so the latch (the filament's set time) is
    # much faster than the discharge: t_c + t_d is the theory of an instant switch
    c, r_s = neuron.theory_capacitance(lp, v["neuron_capacitance"]), v["series_resistance"]
    _, ts = subcircuit_names(card)
    rows = []
    for factor in factors:
        v_in = factor * lp.threshold_voltage
        theory = neuron.lif_analytic(lp, v_in, r_s, c)
        horizon = 3.6 * theory["period"] if math.isfinite(theory["period"]) else 20 * r_s * c
        ref = neuron.simulate_lif(lp, v_in, r_s, c, horizon, v_start=lp.hold_voltage)
        spice = ngspice.run(ngspice.lif_netlist(subcircuit_text(card), ts, v_in, r_s, c, horizon, horizon / 8000),
                            ["v(xsw.ns)"])
        t_sp = neuron.upward_crossings(spice.time, neuron.latch_state(spice.vectors["v(xsw.ns)"]), 0.5)
        rows.append({"v_in": v_in, "theory": theory["period"],
                     "numpy": float(np.mean(np.diff(ref["spike_times"]))) if len(ref["spike_times"]) > 1 else math.inf,
                     "ngspice": float(np.mean(np.diff(t_sp))) if len(t_sp) > 1 else math.inf,
                     "spikes_numpy": len(ref["spike_times"]), "spikes_ngspice": len(t_sp)})
    return rows


def plot(card: DeviceCard, rows: list[dict], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    v_th = card.value("threshold_voltage")
    grid = np.linspace(v_th * 1.02, max(r["v_in"] for r in rows) * 1.05, 200)
    lp, v = card.latch_params(), card.values()
    c = neuron.theory_capacitance(lp, v["neuron_capacitance"])  # the capacitor the sweep used
    theory = [neuron.lif_analytic(lp, x, v["series_resistance"], c)["period"] for x in grid]
    ax[0].semilogy(grid, np.array(theory) * 1e6, "-", label="theory t_c + t_d")
    fin = [r for r in rows if math.isfinite(r["numpy"])]
    ax[0].semilogy([r["v_in"] for r in fin], [r["numpy"] * 1e6 for r in fin], "o", label="NumPy")
    ax[0].semilogy([r["v_in"] for r in fin], [r["ngspice"] * 1e6 for r in fin], "x", ms=9, label="ngspice")
    ax[0].axvline(v_th, color="0.6", ls=":", label="V_th (no firing below)")
    ax[0].set(xlabel="V_in [V]", ylabel="period [µs]", title=f"LIF neuron: period versus input (C = {c:.3g} F)")
    ax[0].legend(fontsize=8)
    err = [abs(r["ngspice"] / r["theory"] - 1) * 100 for r in fin]
    ax[1].plot([r["v_in"] for r in fin], err, "o-", label="|ngspice/theory - 1|")
    ax[1].plot([r["v_in"] for r in fin], [abs(r["numpy"] / r["theory"] - 1) * 100 for r in fin], "s--",
               label="|NumPy/theory - 1|")
    ax[1].axhline(TOLERANCE * 100, color="r", lw=0.8, label="1 % tolerance")
    ax[1].set(xlabel="V_in [V]", ylabel="error [%]", title="agreement with t_c + t_d")
    ax[1].legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path, close=True)


def check(card: DeviceCard, rows: list[dict]) -> list[str]:
    """Failures of the co-simulation checks (empty when all hold)."""
    problems = []
    q = card.fit_quality.get("ngspice", {})
    if "skipped" in q:
        return [f"ngspice not run: {q['skipped']}"]
    for name, key in (("dc_sweep", "current_rms_error_rel_peak"), ("pulse_train", "current_rms_error_rel_peak"),
                      ("pulse_train", "switch_time_max_error_rel"), ("lif", "spike_time_max_error_rel")):
        if not q[name][key] < TOLERANCE:
            problems.append(f"{name}.{key} = {q[name][key]:.3g} >= {TOLERANCE}")
    for r in rows:
        below = r["v_in"] <= card.value("threshold_voltage")
        if below and (r["spikes_numpy"] or r["spikes_ngspice"]):
            problems.append(f"fired at V_in = {r['v_in']:.4g} V <= V_th")
        if not below:
            for who in ("numpy", "ngspice"):
                if not abs(r[who] / r["theory"] - 1) < TOLERANCE:
                    problems.append(f"{who} period at V_in = {r['v_in']:.4g} V off theory by "
                                    f"{abs(r[who] / r['theory'] - 1):.3%}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="fewer input voltages and shorter checks")
    parser.add_argument("--from", dest="upstream", default=None, help="folder with filament/ and emission/ results")
    parser.add_argument("--out", default="results/study03", help="output folder")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.upstream:
        root = Path(args.upstream)
        upstream = {s: (root / s if (root / s).is_dir() else root) for s in ("filament", "emission")}
    else:
        print("no --from given: using SYNTHETIC filament/emission results made from known parameters")
        upstream = synthetic.write_upstream(out / "synthetic_upstream")
    spec = CompactSpec.fast() if args.fast else CompactSpec()
    files = run_compact(spec, out / "compact", upstream=upstream, progress=not args.fast)
    card = DeviceCard.load(files["result"])
    factors = (0.99, 1.1, 1.6) if args.fast else (0.95, 0.99, 1.02, 1.05, 1.1, 1.2, 1.35, 1.5)
    rows = lif_period_sweep(card, factors)
    figure = plot(card, rows, out / "03_circuit_cosimulation.png")
    strict_json.write(out / "03_lif_periods.json", rows)
    print(strict_json.dumps(card.fit_quality.get("ngspice", {}), indent=1)[:2000])
    for r in rows:
        print(f"V_in = {r['v_in']:.4f} V: period theory {r['theory']:.6g} s, NumPy {r['numpy']:.6g} s, "
              f"ngspice {r['ngspice']:.6g} s")
    problems = check(card, rows)
    print(f"plot: {figure}")
    if problems:
        print("CHECK FAILED:\n  " + "\n  ".join(problems))
        return 1
    print(f"CHECK PASSED: ngspice = NumPy and periods = theory within {TOLERANCE:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
