"""Export a DeviceCard as SPICE subcircuits (behavioural sources and state capacitors).

Two subcircuits, both for stock ngspice (no XSPICE/OSDI needed):

``NAME anode cathode opt``
    The physical model of :mod:`devicephys.compact.model`.  Internal node
    ``nx`` holds the filament closure ``x = (gap_max - gap)/1 nm`` on a 1 F
    capacitor (so the relaxed device is the zero state and the DC operating
    point at zero bias is trivial); with dissolution, nodes ``nq`` (the dissolved
    fraction ``1 - m`` of the oldest stretch) and ``nb`` (the rupture flag), both
    0 for the fresh device; node ``nt`` holds ``T - T_0`` [K] on the
    thermal capacitance, with the thermal resistance to ground and the Joule
    power injected as a current.  Node ``opt`` carries the emitted optical
    power as a voltage, 1 V per W.
``NAME_ts anode cathode``
    The smooth hysteretic threshold switch of the LIF neuron
    (:mod:`devicephys.compact.neuron`); node ``ns`` holds the latch state
    through its logit (``q``; the state ``s = 1/(1 + exp(L - q))`` is in (0, 1)
    whatever the node does), ``q = 0`` (OFF) at 0 V.

Numerically well posed in a circuit simulator's default settings: every
exponential has a limited argument (the gap floor continues linearly below
``gap_min``, the drive's argument is capped at :data:`model.DRIVE_ARG_MAX`,
the Arrhenius factor sees no temperature below ambient), the conductances are
bounded, the closure returns into 0..gap_max-gap_min nm, and the latch state
is bounded by construction.  The file needs no ``.options`` line.

Parameters are written inline as ``.param`` lines with the card's names, SI
values in shortest round-trip form, units and descriptions as comments, so
:func:`read_parameters` recovers the card exactly.  The header names the card,
its format version, the devicephys version and the card's provenance.
"""

from __future__ import annotations

import re
from pathlib import Path

import devicephys
from devicephys import units
from devicephys.compact import model, neuron
from devicephys.compact.card import DISSOLUTION, PARAMETERS, DeviceCard
from devicephys.compact.model import ModelParams
from devicephys.io import atomic_write_text

_PHYSICAL = ModelParams.names()
#: Half-width of the physical subcircuit's step-control watch above gap_min [floor widths].
FLOOR_WATCH_WIDTH = 3.0
#: Half-width of the step-control watch around the hold voltage [latch widths].
WATCH_WIDTH = 10.0
_LATCH = ["threshold_voltage", "hold_voltage", "resistance_on", "resistance_off", "switching_time", "latch_width"]


def physical_names(card: DeviceCard) -> list[str]:
    """The physical subcircuit's parameters: without dissolution, the second slow state's are left out; at the
    zero-order dissolution (``capillary_number`` 0), the capillary number."""
    p = card.model_params()
    if not p.dissolves:
        return [n for n in _PHYSICAL if n not in DISSOLUTION]
    return _PHYSICAL if p.capillary_number > 0 else [n for n in _PHYSICAL if n != "capillary_number"]


def _param_lines(card: DeviceCard, names: list[str]) -> list[str]:
    lines = []
    for name in names:
        unit, desc, _ = PARAMETERS[name]
        source = card.parameters.get(name, {}).get("source", "")
        lines.append(f"* {name} [{unit}]: {desc}" + (f" (source: {source})" if source else ""))
        lines.append(f".param {name} = {card.value(name)!r}")
    return lines


_PHYSICAL_BODY = """\
* ---- equations (x = closure [nm], T - T0 = V(nt) [K], v = V(anode, cathode) [V]) ----
.param k_boltzmann = {k_b!r}
.param planck_c = {hc!r}
.param q_e = {q!r}
.func gapm(x) {{gap_max - x*1e-9}}
.func ggap(x) {{contact_conductance/(1 + exp(min(2*decay_constant*(gapm(x) - contact_gap), 700)))}}
.func gcell(x) {{1/leakage_resistance + ggap(x)/(1 + filament_resistance*ggap(x))}}
.func sarg(v) {{min(abs(v)/(2*set_time_v0), {dmax!r})}}
.func drive(v) {{4*sinh(sarg(v))*sinh(sarg(v))}}
.func arrh(dt) {{exp(-activation_energy/k_boltzmann*(1/(ambient_temperature + max(dt, 0)) - 1/ambient_temperature))}}
* smooth floor at gap_min, continued linearly below it (a restoring rate, no overflow)
.func zfl(x) {{(gap_min - gapm(x))/floor_width}}
.func floorf(x) {{1 - exp(min(zfl(x), 0)) - max(zfl(x), 0)}}
* photon yield: (1 - eta_bias_cut/|v|)^2 exp(P), exactly 0 at or below the photon cutoff eta_bias_cut.
* The law holds inside gap eta_gap_lo..eta_gap_hi and |v| eta_bias_lo..eta_bias_hi (the card's range);
* outside it this export holds the gap and bias at the range's edge (a simulator needs a continuous
* function) and the NumPy reference refuses: read V(opt) only where the waveform stays in the range.
.func xnm(x) {{min(max(gapm(x), eta_gap_lo), eta_gap_hi)*1e9}}
.func ub(v) {{1/min(max(abs(v), eta_bias_lo), eta_bias_hi)}}
.func rise(v) {{max(1 - eta_bias_cut/max(abs(v), 1e-30), 0)}}
.func eta(x, v) {{rise(v)*rise(v)*exp(eta_c0 + eta_c1*xnm(x) + eta_c2*ub(v) + eta_c3*xnm(x)*xnm(x) + eta_c4*xnm(x)*ub(v) + eta_c5*ub(v)*ub(v))}}
.func lpeak(x) {{lambda_c0 + lambda_c1*xnm(x) + lambda_c2*xnm(x)*xnm(x)}}
* cell current: tunnelling gap in series with the filament, leakage in parallel
Bcell anode cathode I = gcell(V(nx))*V(anode, cathode)
{growth}* thermal node: Joule power into C_th, loss through R_th
Bheat 0 nt I = gcell(V(nx))*V(anode, cathode)*V(anode, cathode)
Cth nt 0 {{thermal_capacitance}}
Rth nt 0 {{thermal_resistance}}
* optical power [W] as a voltage on opt
Bopt opt 0 V = eta(V(nx), V(anode, cathode))*abs(gcell(V(nx))*V(anode, cathode))/q_e*planck_c/lpeak(V(nx))
* step-control watch, no effect on the circuit: V(nw) follows tanh((gap - gap_min - W w_f)/(W w_f)),
* W = {watch!r}, w_f = floor_width, on the thermal time R_th C_th, so the simulator's truncation-error control
* resolves the approach to the floor instead of stepping the gap below gap_min
Bwatch 0 nw I = (tanh((gapm(V(nx)) - gap_min - {watch!r}*floor_width)/({watch!r}*floor_width)) - V(nw))
+ /(thermal_resistance*thermal_capacitance)
Cwatch nw 0 1
"""

_RELAXING_GROWTH = """\
* filament closure: growth (field and thermally activated) against relaxation
Bgap 0 nx I = 1e9*((gap_max - gap_min)/set_time_tau0*drive(V(anode, cathode))*arrh(V(nt))*floorf(V(nx))
+ - (gap_max - gapm(V(nx)))/relaxation_time)
Cgap nx 0 1
"""

_DISSOLVING_GROWTH = """\
* second slow state: node nq holds the dissolved fraction 1 - m of the filament's oldest stretch, node nb the
* rupture flag b (0 intact, 1 breaking); both 0 for the fresh device.  The stretch dissolves at
* dissolution_rate while a filament exists; below percolation (m < percolation_fraction) the flag latches on,
* the filament retracts and, once retracted, m resets to 1; the flag turns off when the reset is done.
* A rupture resets m within a few rupture_time: over many cycles run with .options reltol=1e-5 (at the
* default 1e-3 those steps are not converged and each reset can shift the next rupture by 1 % of its time).
.func rmp(z) {{min(max(z, 0), 1)*min(max(z, 0), 1)*(3 - 2*min(max(z, 0), 1))}}
.func exists(x) {{1 - exp(-(max(x, 0)*1e-9/floor_width)*(max(x, 0)*1e-9/floor_width))}}
.func hop(v) {{2*sinh(min(sqrt((v/set_time_v0)*(v/set_time_v0) + {eps2!r}) - {eps!r}, {dmax2!r}))}}
.func level(b) {{percolation_fraction + 0.5*percolation_width + (1 - percolation_fraction)*b}}
{capillary_func}* filament closure: growth (field and thermally activated) until the oldest stretch breaks, then retraction
Bgap 0 nx I = 1e9*((gap_max - gap_min)/set_time_tau0*hop(V(anode, cathode))*arrh(V(nt))*floorf(V(nx))*(1 - V(nb))
+ - (gap_max - gapm(V(nx)))*V(nb)/rupture_time)
Cgap nx 0 1
* the field returns the dissolved silver while the gap is bridged (ggap/contact_conductance), by the same hopping
Bdis 0 nq I = (dissolution_rate{capillary}*exists(V(nx))
+ - return_rate*hop(V(anode, cathode))*arrh(V(nt))*ggap(V(nx))/contact_conductance*V(nq))*(1 - V(nb))
+ - V(nq)*V(nb)*(1 - exists(V(nx)))/rupture_time
Cdis nq 0 1
Bflag 0 nb I = (rmp((level(V(nb)) - 1 + V(nq))/percolation_width)*(1 - V(nb))
+ - rmp((2*{tol!r} - V(nq))/{tol!r})*V(nb))/rupture_time
Cflag nb 0 1
"""

_CAPILLARY_FUNC = """\
* the stretch's Gibbs-Thomson factor: a cylinder of radius r_ch s, s = sqrt(m), m = 1 - V(nq) clipped to
* [percolation_fraction, 1] (below percolation the thinnest body's radius), dissolves at s exp(capillary_number (1/s - 1))
.func caps(q) {sqrt(min(max(1 - q, percolation_fraction), 1))}
.func capf(q) {caps(q)*exp(capillary_number*(1/caps(q) - 1))}
"""

_LATCH_BODY = """\
* ---- equations (node ns holds q = L + logit(s), L = {L!r}: q = 0 is OFF; s = sgy(q) stays in (0, 1);
* v = V(anode, cathode)) ----
* devicephys.compact.neuron's latch: it turns ON only where |v| exceeds threshold_voltage (the threshold
* falls to hold_voltage as s rises, so a switch once started completes) and OFF only where |v| is below
* hold_voltage; in between both rates are exactly zero and the state is held, so no step of any length
* can release it early.  The conductance switches by a smoothstep of s between s = {lo!r} and {hi!r}:
* exactly 1/resistance_off (OFF) and 1/resistance_on (ON) on the branches
.func sgy(q) {{1/(1 + exp({L!r} - min(max(q, 0), {L2!r})))}}
.func uhs(s) {{min(max((s - {lo!r})/{span!r}, 0), 1)}}
.func hsw(s) {{uhs(s)*uhs(s)*(3 - 2*uhs(s))}}
.func lramp(x) {{min(max(x, 0), 1)*min(max(x, 0), 1)*(3 - 2*min(max(x, 0), 1))}}
.func kon(v, q) {{lramp((abs(v) - threshold_voltage + (threshold_voltage - hold_voltage)*sgy(q))/latch_width)}}
.func koff(v) {{lramp((hold_voltage - abs(v))/latch_width)}}
Bsw anode cathode I = exp(hsw(sgy(V(ns)))*ln(resistance_off/resistance_on))/resistance_off*V(anode, cathode)
Blatch 0 ns I = (kon(V(anode, cathode), V(ns))*({L2!r} - V(ns)) - koff(V(anode, cathode))*V(ns))/switching_time
Clatch ns 0 1
* step-control watch, no effect on the circuit: V(nw) follows tanh((|v| - hold_voltage)/({watch!r} latch_width))
* on the switching time, so the simulator's truncation-error control resolves the approach to the release
* instead of stepping past hold_voltage (a late release lengthens the next charge)
Bwatch 0 nw I = (tanh((abs(V(anode, cathode)) - hold_voltage)/({watch!r}*latch_width)) - V(nw))/switching_time
Cwatch nw 0 1
"""


def header_lines(card: DeviceCard, comment: str = "*") -> list[str]:
    """Header comment lines: the card's name, format version, devicephys version and provenance."""
    head = [f"{comment} devicephys compact model '{card.name}'",
            f"{comment} DeviceCard format {card.to_dict()['format_version']}, written by devicephys "
            f"{devicephys.__version__}; SI units throughout; generated from the card, do not edit by hand",
            f"{comment} needs no .options line (limited exponentials, bounded states)"]
    prov = provenance_lines(card.provenance)
    head += [f"{comment} provenance:"] + [f"{comment}   {line}" for line in prov] if prov else \
        [f"{comment} provenance: none recorded in the card"]
    return head


def provenance_lines(prov: dict, prefix: str = "", limit: int = 60) -> list[str]:
    """``key.sub = value`` lines of the scalar entries of ``prov`` (nested dicts flattened), at most ``limit``."""
    out: list[str] = []
    for key, value in prov.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out += provenance_lines(value, f"{name}.", limit)
        elif isinstance(value, (list, tuple)):
            out.append(f"{name} = [{', '.join(str(v) for v in value)}]")
        else:
            out.append(f"{name} = {value}")
    return [" ".join(line.split())[:200] for line in out][:limit]


def _latch_body(card: DeviceCard) -> str:
    return _LATCH_BODY.format(lo=neuron.SWITCH_LO, hi=neuron.SWITCH_HI, span=neuron.SWITCH_HI - neuron.SWITCH_LO,
                              L=neuron.LOGIT_LIMIT, L2=2 * neuron.LOGIT_LIMIT, watch=WATCH_WIDTH).rstrip()


def subcircuit_text(card: DeviceCard) -> str:
    """SPICE text of both subcircuits of ``card``."""
    name, ts = subcircuit_names(card)
    p = card.model_params()
    capillary = p.dissolves and p.capillary_number > 0
    growth = (_DISSOLVING_GROWTH.format(dmax2=2 * model.DRIVE_ARG_MAX, tol=model.RESET_TOLERANCE,
                                        eps=model.SMOOTH_ABS, eps2=model.SMOOTH_ABS**2,
                                        capillary="*capf(V(nq))" if capillary else "",
                                        capillary_func=_CAPILLARY_FUNC if capillary else "")
              if p.dissolves else _RELAXING_GROWTH)
    body = _PHYSICAL_BODY.format(k_b=units.k_B, hc=units.h * units.c0, q=units.e, dmax=model.DRIVE_ARG_MAX,
                                watch=FLOOR_WATCH_WIDTH, growth=growth)
    phys = [f".subckt {name} anode cathode opt", *_param_lines(card, physical_names(card)), body.rstrip(), f".ends {name}"]
    use = ["* use in a LIF neuron (switch across C, charged through R_s): no .options or maximum step needed,",
           "* but the .tran step (ngspice's default maximum step) must resolve the discharge, t_d = R_on C",
           "* ln(V_th/V_h): within 1 % of t_c + t_d (devicephys.compact.neuron.lif_analytic) for R_on C >>",
           "* switching_time, measured with steps up to t_d/6.6 (trap and gear, reltol 1e-3..1e-6)"]
    latch = [f".subckt {ts} anode cathode", *use, *_param_lines(card, _LATCH), _latch_body(card), f".ends {ts}"]
    return "\n".join(header_lines(card) + [""] + phys + [""] + latch) + "\n"


def subcircuit_names(card: DeviceCard) -> tuple[str, str]:
    """Names of the physical and the threshold-switch subcircuits."""
    name = card.name.replace("-", "_")
    return name, f"{name}_ts"


def write(card: DeviceCard, path: str | Path) -> Path:
    """Write the subcircuits to ``path`` (``.lib`` or ``.sp``), atomically."""
    return atomic_write_text(path, subcircuit_text(card))


_PARAM = re.compile(r"^\.param\s+(\w+)\s*=\s*([-+0-9.eE]+|inf|nan)\s*$", re.MULTILINE)


def read_parameters(text: str) -> dict[str, float]:
    """Numeric ``.param`` values of an exported file (names as in the card)."""
    out: dict[str, float] = {}
    for name, value in _PARAM.findall(text):
        out[name] = float(value)
    return out
