"""A designer's LIF netlist around the exported ``.lib`` under an ngspice option matrix (shared by tests).

Largest interspike-interval error against t_c + t_d on the synthetic test card
(tau_s = 2.89 us, R_on = 15.7 kOhm), ngspice 39, .tran step = period/1000, five
intervals per cell; "max step" = t_d/100 (the discharge through R_on C)::

    circuit (V_in/V_th, R_s, C)   options            max step    no max step
    1.5,  1 MOhm,   470 nF        defaults           0.20 %      0.10 %
                                  trap 1e-3..1e-6    0.07-0.20 % 0.02-0.10 %
                                  gear 1e-3..1e-6    0.07-0.08 % 0.04-0.06 %
    2.0,  220 kOhm, 1 uF          defaults           0.19 %      0.10 %
                                  trap / gear        0.03-0.19 % 0.02-0.10 %
    1.75, 3.3 MOhm, 220 nF        defaults           0.28 %      0.12 %
                                  trap 1e-3..1e-6    0.10-0.28 % 0.05-0.12 %
                                  gear 1e-3..1e-6    0.10 %      0.04-0.10 %

made with ``python -c`` over :func:`cells` and :func:`run_cell` (the slow test
runs the same cells).  The capacitor never went negative in any cell.  Before
the latch held its state inside the hysteresis window (``neuron``'s docstring),
the no-max-step column read up to 7.0 % (the .tran step crossed the discharge in
steps of about t_d/7, and a retried step converged on the OFF branch above V_h).
The .tran step itself (ngspice's default maximum step) must resolve the
discharge: at period/100 (longer than t_d in the 1.75 circuit) ngspice crosses
the whole discharge in one step and the error is up to 22 %.
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
