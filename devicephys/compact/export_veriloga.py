"""Export a DeviceCard as Verilog-A (LRM 2.4) with the same equations as the NumPy model.

Two modules, mirroring the SPICE subcircuits (:mod:`devicephys.compact.export_spice`):
``NAME(anode, cathode, opt)`` — the physical model with internal nodes ``nx``
(closure in nm), ``nt`` (temperature rise in K), the step-control watch ``nw`` and, with
dissolution, ``nq`` and ``nb`` (the oldest stretch's dissolved fraction, the rupture flag) — and
``NAME_ts(anode, cathode)`` — the LIF threshold switch with internal node ``ns``
(the logit of the latch state, offset so that 0 V is OFF) and the step-control
watch node ``nw`` (no effect on the circuit).
Branches are smooth (``exp``, ``sinh``, ``min``/``max`` clipping; no ``if`` on a
state) and numerically well posed like the SPICE export: every exponential
has a limited argument and the states enter the equations clipped to their
ranges.  Constants are written as local parameters equal to the NumPy ones,
so the two implementations agree to rounding.  Parameters carry the card's
names, SI values in round-trip form, ranges, and the unit and description in a
comment: :func:`read_parameters` recovers the card exactly.
"""

from __future__ import annotations

import re
from pathlib import Path

from devicephys import units
from devicephys.compact import model, neuron
from devicephys.compact.card import PARAMETERS, DeviceCard
from devicephys.compact.export_spice import (_LATCH, FLOOR_WATCH_WIDTH, WATCH_WIDTH, header_lines, physical_names,
                                             subcircuit_names)
from devicephys.io import atomic_write_text

_RANGE = {"positive": " from (0:inf)", "nonnegative": " from [0:inf)", "finite": ""}


def _params(card: DeviceCard, names: list[str]) -> list[str]:
    out = []
    for name in names:
        unit, desc, rule = PARAMETERS[name]
        out.append(f"    // {name} [{unit}]: {desc}")
        out.append(f"    parameter real {name} = {card.value(name)!r}{_RANGE[rule]};")
    return out


_PHYSICAL_BODY = """\
    localparam real k_boltzmann = {k_b!r};  // [J/K]
    localparam real planck_c = {hc!r};  // h c [J m]
    localparam real q_e = {q!r};  // [C]
    real v, x, dtemp, gapm, ggap, gcell, sarg, drive, arrh, zfl, floorf, xnm, ub, rise, eta, lpeak, icell{extra};
    analog begin
        v = V(anode, cathode);
        x = V(nx);        // filament closure (gap_max - gap) [nm]
        dtemp = V(nt);    // temperature rise T - T0 [K]
        gapm = gap_max - x * 1e-9;
        ggap = contact_conductance / (1 + exp(min(2 * decay_constant * (gapm - contact_gap), 700)));
        gcell = 1 / leakage_resistance + ggap / (1 + filament_resistance * ggap);
        sarg = min(abs(v) / (2 * set_time_v0), {dmax!r});  // capped drive argument
        drive = 4 * sinh(sarg) * sinh(sarg);
        arrh = exp(-activation_energy / k_boltzmann * (1 / (ambient_temperature + max(dtemp, 0)) - 1 / ambient_temperature));
        // smooth floor at gap_min, continued linearly below it (no overflow)
        zfl = (gap_min - gapm) / floor_width;
        floorf = 1 - exp(min(zfl, 0)) - max(zfl, 0);
        // photon yield (1 - eta_bias_cut/|v|)^2 exp(P), exactly 0 at or below the photon cutoff; the law holds
        // inside the card's range (eta_gap_lo..eta_gap_hi, eta_bias_lo..eta_bias_hi): outside it the gap and bias
        // are held at the range's edge (continuity for the simulator) and the NumPy reference refuses
        xnm = min(max(gapm, eta_gap_lo), eta_gap_hi) * 1e9;
        ub = 1 / min(max(abs(v), eta_bias_lo), eta_bias_hi);
        rise = max(1 - eta_bias_cut / max(abs(v), 1e-30), 0);
        eta = rise * rise * exp(eta_c0 + eta_c1 * xnm + eta_c2 * ub + eta_c3 * xnm * xnm + eta_c4 * xnm * ub + eta_c5 * ub * ub);
        lpeak = lambda_c0 + lambda_c1 * xnm + lambda_c2 * xnm * xnm;
        icell = gcell * v;
        I(anode, cathode) <+ icell;
{growth}        // thermal node
        I(nt) <+ ddt(thermal_capacitance * V(nt));
        I(nt) <+ V(nt) / thermal_resistance - icell * v;
        // optical power [W] as a voltage on opt (1 V per W)
        V(opt) <+ eta * abs(icell) / q_e * planck_c / lpeak;
        // step-control watch, no effect on the circuit: resolves the approach to the floor
        I(nw) <+ ddt(V(nw));
        I(nw) <+ -(tanh((gapm - gap_min - {watch!r} * floor_width) / ({watch!r} * floor_width)) - V(nw))
                 / (thermal_resistance * thermal_capacitance);
    end
"""

_RELAXING_GROWTH = """\
        // closure rate [nm/s]: growth (field and thermally activated) against relaxation
        I(nx) <+ ddt(V(nx));
        I(nx) <+ -1e9 * ((gap_max - gap_min) / set_time_tau0 * drive * arrh * floorf - (gap_max - gapm) / relaxation_time);
"""

_DISSOLVING_GROWTH = """\
        // second slow state: nq = dissolved fraction 1 - m of the oldest stretch, nb = rupture flag (0 intact)
        b = V(nb);  // stays in [0, 1] by its own rate (no clip: no kink where it rests)
        z = max(x, 0) * 1e-9 / floor_width;
        exists = 1 - exp(-z * z);  // a filament exists (C1 at none)
        z = v / set_time_v0;
        hop = 2 * sinh(min(sqrt(z * z + {eps2!r}) - {eps!r}, {dmax2!r}));  // the FEM's single sinh, non-polar, smooth
        z = min(max((percolation_fraction + 0.5 * percolation_width + (1 - percolation_fraction) * b - 1 + V(nq))
                    / percolation_width, 0), 1);
        kon = z * z * (3 - 2 * z);  // latch on below percolation (level rises with b: a rupture completes)
        z = min(max((2 * {tol!r} - V(nq)) / {tol!r}, 0), 1);
        koff = z * z * (3 - 2 * z);  // off once the reset is done
        // closure rate [nm/s]: growth until the oldest stretch breaks, then retraction
        I(nx) <+ ddt(V(nx));
        I(nx) <+ -1e9 * ((gap_max - gap_min) / set_time_tau0 * hop * arrh * floorf * (1 - b) - (gap_max - gapm) * b / rupture_time);
        I(nq) <+ ddt(V(nq));
        // dissolution against the field's return of the dissolved silver while bridged (ggap / contact_conductance)
{capillary}        I(nq) <+ -((dissolution_rate{capf} * exists - return_rate * hop * arrh * ggap / contact_conductance * V(nq)) * (1 - b)
                   - V(nq) * b * (1 - exists) / rupture_time);
        I(nb) <+ ddt(V(nb));
        I(nb) <+ -(kon * (1 - b) - koff * b) / rupture_time;
"""

_CAPILLARY = """\
        // the stretch's Gibbs-Thomson factor: a cylinder of radius r_ch caps, caps = sqrt(m), m clipped to
        // [percolation_fraction, 1] (below percolation the thinnest body's radius)
        caps = sqrt(min(max(1 - V(nq), percolation_fraction), 1));
        capf = caps * exp(capillary_number * (1 / caps - 1));
"""

_LATCH_BODY = """\
    // devicephys.compact.neuron's latch: ON only above threshold_voltage (the threshold falls to
    // hold_voltage as s rises: a started switch completes), OFF only below hold_voltage, held in between
    real v, q, s, u, hs, x, kon, koff;
    analog begin
        v = V(anode, cathode);
        q = V(ns);        // L + logit of the latch state (0: OFF)
        s = 1 / (1 + exp({L!r} - min(max(q, 0), {L2!r})));  // latch state in (0, 1)
        u = min(max((s - {lo!r}) / {span!r}, 0), 1);
        hs = u * u * (3 - 2 * u);  // smoothstep: conductance exactly 1/R_off (OFF) and 1/R_on (ON)
        x = min(max((abs(v) - threshold_voltage + (threshold_voltage - hold_voltage) * s) / latch_width, 0), 1);
        kon = x * x * (3 - 2 * x);
        x = min(max((hold_voltage - abs(v)) / latch_width, 0), 1);
        koff = x * x * (3 - 2 * x);
        I(anode, cathode) <+ exp(hs * ln(resistance_off / resistance_on)) / resistance_off * v;
        I(ns) <+ ddt(V(ns));
        I(ns) <+ -(kon * ({L2!r} - q) - koff * q) / switching_time;
        // step-control watch, no effect on the circuit: resolves the approach to the release
        I(nw) <+ ddt(V(nw));
        I(nw) <+ -(tanh((abs(v) - hold_voltage) / ({watch!r} * latch_width)) - V(nw)) / switching_time;
    end
"""


def _latch_body(card: DeviceCard) -> str:
    return _LATCH_BODY.format(lo=neuron.SWITCH_LO, span=neuron.SWITCH_HI - neuron.SWITCH_LO,
                              L=neuron.LOGIT_LIMIT, L2=2 * neuron.LOGIT_LIMIT, watch=WATCH_WIDTH).rstrip()


def module_text(card: DeviceCard) -> str:
    """Verilog-A text of both modules of ``card``."""
    name, ts = subcircuit_names(card)
    head = [*header_lines(card, "//"), "// Verilog-A, LRM 2.4", '`include "disciplines.vams"', ""]
    p = card.model_params()
    dissolves = p.dissolves
    capillary = dissolves and p.capillary_number > 0
    growth = (_DISSOLVING_GROWTH.format(dmax2=2 * model.DRIVE_ARG_MAX, tol=model.RESET_TOLERANCE,
                                        eps=model.SMOOTH_ABS, eps2=model.SMOOTH_ABS**2,
                                        capillary=_CAPILLARY if capillary else "", capf=" * capf" if capillary else "")
              if dissolves else _RELAXING_GROWTH)
    phys = [f"module {name}(anode, cathode, opt);", "    inout anode, cathode;", "    output opt;",
            "    electrical anode, cathode, opt, nx, nt, nw" + (", nq, nb;" if dissolves else ";"),
            *_params(card, physical_names(card)),
            _PHYSICAL_BODY.format(k_b=units.k_B, hc=units.h * units.c0, q=units.e, dmax=model.DRIVE_ARG_MAX,
                                  watch=FLOOR_WATCH_WIDTH, growth=growth,
                                  extra=(", b, exists, hop, z, kon, koff" + (", caps, capf" if capillary else "")
                                         if dissolves else "")).rstrip(),
            "endmodule", ""]
    latch = [f"module {ts}(anode, cathode);", "    inout anode, cathode;", "    electrical anode, cathode, ns, nw;",
             *_params(card, _LATCH), _latch_body(card), "endmodule"]
    return "\n".join(head + phys + latch) + "\n"


def write(card: DeviceCard, path: str | Path) -> Path:
    """Write the Verilog-A file to ``path``, atomically."""
    return atomic_write_text(path, module_text(card))


_PARAM = re.compile(r"^\s*parameter\s+real\s+(\w+)\s*=\s*([-+0-9.eE]+)", re.MULTILINE)


def read_parameters(text: str) -> dict[str, float]:
    """Values of the ``parameter real`` declarations of an exported file."""
    return {name: float(value) for name, value in _PARAM.findall(text)}
