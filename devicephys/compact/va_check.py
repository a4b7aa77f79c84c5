"""Check the exported Verilog-A against the NumPy model with OpenVAF (PyPI ``openvaf-py``).

OpenVAF compiles the file (syntax and semantics of Verilog-A) and evaluates
each module's residuals at given node voltages.  At many sampled states the
residuals must equal the NumPy model's equations term by term:

* terminal current ``I(anode, cathode)`` = :func:`model.cell_current`;
* resistive residual of ``nx`` = ``1e9 dd/dt`` (nm/s), reactive part = ``x``;
* resistive residual of ``nt`` = ``-C_th dT/dt``, reactive part = ``C_th (T - T_0)``;
* with dissolution, ``nq`` (dissolved fraction ``1 - m``) = ``dm/dt`` and ``nb`` (rupture flag) = ``-db/dt``;
* the ``opt`` branch = :func:`model.optical_power`;
* the latch: terminal current and ``-dq/dt`` (``q``: its state variable).

States and biases are sampled beyond their ranges too, where the limited
exponentials and the clipping act.

No simulator that runs Verilog-A transients is available here (Debian's
ngspice has no OSDI loader), so the transient behaviour is checked through
the SPICE export, whose equations are the same.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from devicephys.compact import model, neuron
from devicephys.compact.card import DeviceCard
from devicephys.errors import StageUnavailableError


def _compile(path: Path):
    try:
        import openvaf_py
    except ImportError:
        raise StageUnavailableError("openvaf-py is not installed; 'pip install openvaf-py' to check Verilog-A") from None
    return {m.name: m for m in openvaf_py.compile_va(str(path))}


def _inputs(module, card: DeviceCard, voltages: dict[str, float]) -> dict[str, float]:
    values = card.values()
    inp = {n: 0.0 for n in module.param_names}
    inp.update(module.get_param_defaults())  # local constants of the file
    inp.update({k: values[k] for k in module.param_names if k in values})
    inp.update(voltages)
    inp["mfactor"] = 1.0
    return inp


def _rel(a: float, b: float, floor: float = 0.0) -> float:
    scale = max(abs(a), abs(b), floor)
    return 0.0 if scale == 0 else abs(a - b) / scale


def check(card: DeviceCard, path: str | Path, *, samples: int = 200, seed: int = 0) -> dict[str, float]:
    """Largest relative difference of each equation between the Verilog-A file and NumPy."""
    from devicephys.compact.export_spice import subcircuit_names

    name, ts = subcircuit_names(card)
    mods = _compile(Path(path))
    if name not in mods or ts not in mods:
        raise ValueError(f"{path} lacks module {name} or {ts}; it has {sorted(mods)}")
    p, lp = card.model_params(), card.latch_params()
    rng = np.random.default_rng(seed)
    err = dict.fromkeys(["current", "gap_rate", "gap_charge", "heat_balance", "heat_charge", "optical_power",
                         "latch_current", "latch_rate"], 0.0)
    travel_nm = (p.gap_max - p.gap_min) * 1e9
    # V(opt) <+ adds a branch unknown after the nodes (anode, cathode, opt, nx, nt, nw): its residual
    opt_branch = next(k for k, n in enumerate(mods[name].nodes) if str(n).startswith("br["))
    for k in range(samples):
        # mostly the operating range, and states and biases beyond it, where the limits act
        # (gap below gap_min, temperature below ambient, drive argument above its cap, latch outside 0..1)
        v = rng.uniform(-1.5, 1.5) * card.value("threshold_voltage") * (40.0 if k % 10 == 9 else 1.0)
        x = rng.uniform(-0.05, 1.05) * travel_nm
        dt = rng.uniform(-50.0, 800.0)
        nodes = {"V(anode,cathode)": v, "V(nx)": x, "V(nt)": dt, "V(opt)": 0.0, "I(opt)": 0.0}
        q = b = 0.0
        if p.dissolves:  # the oldest stretch's dissolved fraction and the rupture flag, beyond their ranges too
            q, b = rng.uniform(-0.05, 1.05), rng.uniform(-0.1, 1.1)
            nodes.update({"V(nq)": q, "V(nb)": b})
        res, _ = mods[name].run_init_eval(_inputs(mods[name], card, nodes))
        gap, temp = p.gap_max - x * 1e-9, p.ambient_temperature + dt
        err["current"] = max(err["current"], _rel(res[0][0], float(model.cell_current(p, gap, v))))
        err["gap_rate"] = max(err["gap_rate"], _rel(res[3][0], 1e9 * float(model.gap_rate(p, gap, v, temp, b))))
        if p.dissolves:  # nodes nq, nb follow nw: residuals -dq/dt = dm/dt and -db/dt
            err["metal_fraction_rate"] = max(err.get("metal_fraction_rate", 0.0),
                                             _rel(res[6][0], float(model.metal_fraction_rate(p, gap, 1.0 - q, b, v, temp)),
                                                  p.dissolution_rate))  # (1 - u) cancels near 0: rate scale k_d
            err["rupture_flag_rate"] = max(err.get("rupture_flag_rate", 0.0),
                                           _rel(res[7][0], -float(model.rupture_flag_rate(p, 1.0 - q, b))))
        err["gap_charge"] = max(err["gap_charge"], _rel(res[3][1], x))
        heat = -p.thermal_capacitance * float(model.temperature_rate(p, gap, v, temp))
        err["heat_balance"] = max(err["heat_balance"], _rel(res[4][0], heat))
        err["heat_charge"] = max(err["heat_charge"], _rel(res[4][1], p.thermal_capacitance * dt))
        ref = float(model.optical_power(p, gap, v, out_of_range="nan"))
        if math.isfinite(ref):  # the law exists only inside the card's emission range (the export holds its edge)
            err["optical_power"] = max(err["optical_power"], _rel(res[opt_branch][0], ref))
        s = rng.uniform(-5.0, 2 * neuron.LOGIT_LIMIT + 5.0)  # the latch's state variable q
        res, _ = mods[ts].run_init_eval(_inputs(mods[ts], card, {"V(anode,cathode)": v, "V(ns)": s}))
        err["latch_current"] = max(err["latch_current"], _rel(res[0][0], float(neuron.latch_conductance(lp, s) * v)))
        err["latch_rate"] = max(err["latch_rate"], _rel(res[2][0], -float(neuron.latch_rate(lp, v, s))))
    return err
