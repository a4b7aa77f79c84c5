"""A designer's LIF netlist around the exported ``.lib`` under an ngspice option matrix (shared by tests).

Largest interspike-interval error against t_c + t_d on the synthetic test card
(tau_s = 2.89 us, R_on = 15.7 kOhm), ngspice 39, .tran step = period/1000, five
intervals per cell; "max step" = t_d/100 (the discharge through R_on C)::

    circuit (V_in/V_th, R_s, C)   options            max step    no max step
    1.5,  1 MOhm,   470 nF        defaults           0.25 %      0.60 %
                                  trap 1e-3..1e-6    0.24-0.40 % 0.60-1.13 %
                                  gear 1e-3..1e-6    0.03-0.39 % 0.82-1.27 %
    2.0,  220 kOhm, 1 uF          defaults           0.27 %      0.01 %
                                  trap / gear        0.11-0.47 % 0.01-0.46 %
    1.75, 3.3 MOhm, 220 nF        defaults           0.34 %      1.58 %
                                  trap 1e-3..1e-6    0.11-0.34 % 0.33-5.3 %
                                  gear 1e-3..1e-6    0.17-0.42 % 0.27-7.0 %

made with ``python -c`` over :func:`cells` and :func:`run_cell` (the slow test
runs the same cells).  Without a maximum step ngspice's default step control
(trtol = 7) crosses the release at V_h in steps comparable to R_on C, so the
release voltage, and the next charge time, is off; with it every cell is
within 0.5 %.  The capacitor never went negative in any cell.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from devicephys.compact import export_spice, neuron, ngspice
from devicephys.compact.card import DeviceCard

#: User circuits (V_in / V_th, R_s [Ohm], C [F]), unlike the card's reference neuron; each has
#: R_on C >> tau_s (the instant-switch period t_c + t_d applies) and R_on (V_in/V_h - 1) < R_s << R_off.
CIRCUITS = [(1.5, 1.0e6, 470e-9), (2.0, 220e3, 1.0e-6), (1.75, 3.3e6, 220e-9)]
METHODS = ["trap", "gear"]
RELTOLS = [1e-3, 1e-4, 1e-5, 1e-6]
#: Output step of the netlist's .tran [periods], and its maximum step [discharge times t_d] (None: not given).
OUTPUT_STEP, MAX_STEPS = 1e-3, [None, 1e-2]
#: Periods simulated after the first spike (the first interval starts from 0 V and is not compared).
PERIODS = 5


def cells():
    """Every (circuit, method, reltol, max step) of the matrix; method None is ngspice's defaults."""
    full = [(c, m, r, s) for c, m, r, s in itertools.product(CIRCUITS, METHODS, RELTOLS, MAX_STEPS)]
    return [(c, None, None, s) for c in CIRCUITS for s in MAX_STEPS] + full


def run_cell(card: DeviceCard, lib: Path, circuit, method, reltol, max_step) -> dict:
    """Period errors [1] against t_c + t_d, latch state range and lowest capacitor voltage [V] of one cell."""
    lp = card.latch_params()
    factor, r_s, c = circuit
    v_in = factor * lp.threshold_voltage
    theory = neuron.lif_analytic(lp, v_in, r_s, c)
    period = theory["period"]
    t_stop = theory["charge_time"] + (PERIODS + 0.5) * period
    options = "" if method is None else f"method={method} reltol={reltol!r}"
    _, ts = export_spice.subcircuit_names(card)
    net = ngspice.user_lif_netlist(lib, ts, v_in, r_s, c, OUTPUT_STEP * period, t_stop, options=options,
                                   max_step=None if max_step is None else max_step * theory["discharge_time"])
    run = ngspice.run(net, ["v(mem)", "v(xsw.ns)"])
    q, v = run.vectors["v(xsw.ns)"], run.vectors["v(mem)"]
    s = neuron.latch_state(q)
    spikes = neuron.upward_crossings(run.time, s, 0.5)
    errors = np.diff(spikes) / period - 1.0
    return {"spikes": int(len(spikes)), "period_error_max": float(np.max(np.abs(errors))) if len(errors) else np.inf,
            "state_min": float(s.min()), "state_max": float(s.max()),
            "logit_min": float(q.min()), "logit_max": float(q.max()), "voltage_min": float(v.min()),
            "period": period, "points": int(len(run.time)), "seconds": run.seconds}
