"""Export a DeviceCard as SPICE subcircuits (behavioural sources and state capacitors).

Two subcircuits, both for stock ngspice (no XSPICE/OSDI needed):

``NAME anode cathode opt``
    The physical model of :mod:`devicephys.compact.model`.  Internal node
    ``nx`` holds the filament closure ``x = (gap_max - gap)/1 nm`` on a 1 F
    capacitor (so the relaxed device is the zero state and the DC operating
    point at zero bias is trivial); node ``nt`` holds ``T - T_0`` [K] on the
    thermal capacitance, with the thermal resistance to ground and the Joule
    power injected as a current.  Node ``opt`` carries the emitted optical
    power as a voltage, 1 V per W.
``NAME_ts anode cathode``
    The smooth hysteretic threshold switch of the LIF neuron
    (:mod:`devicephys.compact.neuron`); node ``ns`` holds the latch state.

Parameters are written inline as ``.param`` lines with the card's names, SI
values in shortest round-trip form, units and descriptions as comments, so
:func:`read_parameters` recovers the card exactly.
"""

from __future__ import annotations

import re
from pathlib import Path

from devicephys import units
from devicephys.compact.card import PARAMETERS, DeviceCard
from devicephys.compact.model import ModelParams
from devicephys.io import atomic_write_text

_PHYSICAL = ModelParams.names()
_LATCH = ["threshold_voltage", "hold_voltage", "resistance_on", "resistance_off", "switching_time", "latch_width"]


def _param_lines(card: DeviceCard, names: list[str]) -> list[str]:
    lines = []
    for name in names:
        unit, desc, _ = PARAMETERS[name]
        source = card.parameters[name].get("source", "")
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
.func drive(v) {{4*sinh(v/(2*set_time_v0))*sinh(v/(2*set_time_v0))}}
.func arrh(dt) {{exp(-activation_energy/k_boltzmann*(1/(ambient_temperature + dt) - 1/ambient_temperature))}}
.func floorf(x) {{1 - exp(-(gapm(x) - gap_min)/floor_width)}}
.func xnm(x) {{min(max(gapm(x), eta_gap_lo), eta_gap_hi)*1e9}}
.func ub(v) {{1/min(max(abs(v), eta_bias_lo), eta_bias_hi)}}
.func eta(x, v) {{exp(eta_c0 + eta_c1*xnm(x) + eta_c2*ub(v) + eta_c3*xnm(x)*xnm(x) + eta_c4*xnm(x)*ub(v) + eta_c5*ub(v)*ub(v))}}
.func lpeak(x) {{lambda_c0 + lambda_c1*xnm(x) + lambda_c2*xnm(x)*xnm(x)}}
* cell current: tunnelling gap in series with the filament, leakage in parallel
Bcell anode cathode I = gcell(V(nx))*V(anode, cathode)
* filament closure: growth (field and thermally activated) against relaxation
Bgap 0 nx I = 1e9*((gap_max - gap_min)/set_time_tau0*drive(V(anode, cathode))*arrh(V(nt))*floorf(V(nx))
+ - (gap_max - gapm(V(nx)))/relaxation_time)
Cgap nx 0 1
* thermal node: Joule power into C_th, loss through R_th
Bheat 0 nt I = gcell(V(nx))*V(anode, cathode)*V(anode, cathode)
Cth nt 0 {{thermal_capacitance}}
Rth nt 0 {{thermal_resistance}}
* optical power [W] as a voltage on opt
Bopt opt 0 V = eta(V(nx), V(anode, cathode))*abs(gcell(V(nx))*V(anode, cathode))/q_e*planck_c/lpeak(V(nx))
"""

_LATCH_BODY = """\
* ---- equations (s = latch state V(ns) in 0..1, v = V(anode, cathode)) ----
.param latch_offset = {{ln((threshold_voltage - hold_voltage)/latch_width)*latch_width}}
.func vsw(s) {{threshold_voltage + latch_offset - (threshold_voltage - hold_voltage + 2*latch_offset)*s}}
.func sig(z) {{1/(1 + exp(-min(max(z, -700), 700)))}}
Bsw anode cathode I = exp(V(ns)*ln(resistance_off/resistance_on))/resistance_off*V(anode, cathode)
Blatch 0 ns I = (sig((V(anode, cathode) - vsw(V(ns)))/latch_width) - V(ns))/switching_time
Clatch ns 0 1
"""


def subcircuit_text(card: DeviceCard) -> str:
    """SPICE text of both subcircuits of ``card``."""
    name = card.name.replace("-", "_")
    head = [f"* devicephys compact model '{card.name}' (DeviceCard format {card.to_dict()['format_version']})",
            "* SI units throughout; parameters generated from the DeviceCard, do not edit by hand",
            f"* provenance: {_one_line(card.provenance)}"]
    phys = [f".subckt {name} anode cathode opt", *_param_lines(card, _PHYSICAL),
            _PHYSICAL_BODY.format(k_b=units.k_B, hc=units.h * units.c0, q=units.e).rstrip(), f".ends {name}"]
    latch = [f".subckt {name}_ts anode cathode", *_param_lines(card, _LATCH), _LATCH_BODY.format().rstrip(),
             f".ends {name}_ts"]
    return "\n".join(head + [""] + phys + [""] + latch) + "\n"


def _one_line(d: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in d.items() if not isinstance(v, dict))[:400].replace("\n", " ")


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
