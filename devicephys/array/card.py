"""Read a DeviceCard (``device_card.json``) into the neuron parameters of the array.

The compact stage writes the card; this module reads the JSON directly and
does not import :mod:`devicephys.compact`.  When no card is given the array
stage uses :data:`DEFAULT_CARD`, an *illustrative* card whose numbers are of
the order reported for Ag-based diffusive threshold switches and plasmonic
tunnel junctions; they are not fitted, and the card says so in its provenance.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from devicephys.errors import SpecError
from devicephys.units import e

#: Card parameters the array stage needs, with their SI units.
REQUIRED: dict[str, str] = {
    "threshold_voltage": "V", "hold_voltage": "V", "resistance_on": "Ohm", "resistance_off": "Ohm",
    "relaxation_time": "s", "set_time_tau0": "s", "set_time_v0": "V",
    "photons_per_electron": "1", "peak_wavelength": "m", "spectral_width": "m",
    "neuron_capacitance": "F", "series_resistance": "Ohm",
}

_DEFAULT_VALUES = {
    # name: (value SI, unit, description)
    "threshold_voltage": (0.40, "V", "threshold-switch set voltage"),
    "hold_voltage": (0.10, "V", "voltage below which the filament ruptures"),
    "resistance_on": (1.0e4, "Ohm", "ON resistance of the bridged filament"),
    "resistance_off": (1.0e10, "Ohm", "OFF resistance (tunnelling gap)"),
    "thermal_resistance": (1.0e6, "K/W", "thermal resistance of the filament"),
    "thermal_capacitance": (1.0e-15, "J/K", "thermal capacitance of the filament"),
    "relaxation_time": (1.0e-6, "s", "self-rupture (relaxation) time"),
    "set_time_tau0": (1.0e-3, "s", "prefactor of t_set = tau0 exp(-V/V0)"),
    "set_time_v0": (0.05, "V", "voltage scale of t_set = tau0 exp(-V/V0)"),
    "photons_per_electron": (1.0e-5, "1", "external quantum efficiency at the operating point"),
    "photons_per_spike": (18.7, "1", "photons of the reference spike (C (V_th - V_h) eta / e)"),
    "peak_wavelength": (7.0e-7, "m", "peak of the emission spectrum"),
    "spectral_width": (1.5e-7, "m", "FWHM of the emission spectrum"),
    "neuron_capacitance": (1.0e-12, "F", "LIF neuron capacitor"),
    "series_resistance": (1.0e5, "Ohm", "LIF neuron series (charging) resistor"),
    "spike_charge": (3.0e-13, "C", "charge through the filament per spike, C (V_th - V_h)"),
}

#: Built-in card-like default: illustrative literature-order values, NOT fitted.
DEFAULT_CARD: dict = {
    "format": "devicephys-device-card", "format_version": 1, "name": "illustrative-Ag-PMMA",
    "parameters": {k: {"value": v, "unit": u, "description": d,
                       "source": "illustrative literature-order value (not fitted); run the compact stage for a fitted card"}
                   for k, (v, u, d) in _DEFAULT_VALUES.items()},
    "uncertainties": {}, "provenance": {"origin": "devicephys.array.card.DEFAULT_CARD"}, "fit_quality": {},
}


@dataclass(frozen=True)
class DeviceNeuron:
    """Neuron parameters derived from a card, all SI.

    Attributes
    ----------
    capacitance : float
        Neuron capacitor C [F].
    series_resistance : float
        Charging resistor R_s [Ohm]; membrane time constant is R_s C.
    threshold_voltage, hold_voltage : float
        Switch turns ON at V_th and OFF at V_h [V].
    resistance_on : float
        ON resistance of the switch [Ohm].
    relaxation_time : float
        Filament self-rupture time [s] (leak of the blinking neuron's growth).
    set_time_tau0, set_time_v0 : float
        Set-time law t_set = tau0 exp(-V/V0) [s], [V].
    photons_per_electron : float
        External quantum efficiency [1].
    peak_wavelength, spectral_width : float
        Emission peak and FWHM [m].
    name : str
        Card name.
    """

    capacitance: float
    series_resistance: float
    threshold_voltage: float
    hold_voltage: float
    resistance_on: float
    relaxation_time: float
    set_time_tau0: float
    set_time_v0: float
    photons_per_electron: float
    peak_wavelength: float
    spectral_width: float
    name: str = "card"

    @property
    def tau(self) -> float:
        """Charging time constant R_s C [s]."""
        return self.series_resistance * self.capacitance

    @property
    def spike_charge(self) -> float:
        """Charge through the filament per spike, C (V_th - V_h) [C]."""
        return self.capacitance * (self.threshold_voltage - self.hold_voltage)

    @property
    def photons_per_spike(self) -> float:
        """Mean photons emitted per spike, eta Q / e [1]."""
        return self.photons_per_electron * self.spike_charge / e

    @property
    def time_scale(self) -> float:
        """Shortest of R_s C and the relaxation time [s]: sets default time steps and run lengths."""
        return min(self.tau, self.relaxation_time)

    def blink_time(self, voltage: float) -> float:
        """First blink [s] of the blinking neuron held at ``voltage`` [V] from x = 0 (inf below its firing voltage).

        x(t) = a (1 - exp(-t/tau_r)) with a = 4 sinh^2(V/(2 V_0)) tau_r/tau_0 reaches 1 at -tau_r ln(1 - 1/a).
        """
        a = 4.0 * math.sinh(0.5 * voltage / self.set_time_v0) ** 2 * self.relaxation_time / self.set_time_tau0
        return -self.relaxation_time * math.log1p(-1.0 / a) if a > 1 else math.inf

    def time_scale_for(self, model: str, overdrive: float = 1.3) -> float:
        """Time scale [s] of ``model`` that sets default time steps and run lengths.

        Threshold switch: :attr:`time_scale`.  Blinking neuron: its first blink
        at ``overdrive`` x the firing voltage (the membrane and the growth are
        integrated exactly, so R_s C need not be resolved).
        """
        if model == "threshold_switch":
            return self.time_scale
        return self.blink_time(overdrive * self.firing_voltage("blinking"))

    def firing_voltage(self, model: str) -> float:
        """Lowest constant source voltage [V] at which the neuron fires.

        Threshold switch: V_th.  Blinking neuron: growth 4 sinh^2(V/(2 V_0))/tau_0
        must beat relaxation 1/tau_r, so V* = 2 V_0 asinh(sqrt(tau_0/tau_r)/2)
        (the compact model's static threshold at the ambient temperature).
        """
        if model == "threshold_switch":
            return self.threshold_voltage
        return 2.0 * self.set_time_v0 * math.asinh(0.5 * math.sqrt(self.set_time_tau0 / self.relaxation_time))

    def discharge_time(self, drive: float = 0.0) -> float:
        """Time [s] for the ON switch to discharge C from V_th to V_h.

        With the source ``drive`` [V] still connected through R_s, the node
        relaxes towards v_inf = drive R_on / (R_s + R_on) with tau = (R_s || R_on) C.
        """
        r_par = self.series_resistance * self.resistance_on / (self.series_resistance + self.resistance_on)
        v_inf = drive * self.resistance_on / (self.series_resistance + self.resistance_on)
        if self.hold_voltage <= v_inf:
            return math.inf
        return r_par * self.capacitance * math.log((self.threshold_voltage - v_inf) / (self.hold_voltage - v_inf))


def _value(card: dict, name: str, where: str) -> float:
    params = card.get("parameters", {})
    if name not in params:
        raise SpecError(f"{where}: DeviceCard parameter '{name}' is missing; the compact stage must write it")
    entry = params[name]
    value = entry.get("value") if isinstance(entry, dict) else entry
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SpecError(f"{where}: DeviceCard parameter '{name}' = {value!r} is not a finite number; fix the card")
    unit = entry.get("unit") if isinstance(entry, dict) else None
    if unit is not None and unit != REQUIRED.get(name, unit):
        raise SpecError(f"{where}: DeviceCard parameter '{name}' has unit '{unit}', expected '{REQUIRED[name]}'")
    return float(value)


def neuron_from_card(card: dict, where: str = "DeviceCard") -> DeviceNeuron:
    """Build :class:`DeviceNeuron` from a parsed card, checking physics.

    Raises
    ------
    SpecError
        A missing, non-finite or non-physical parameter (names it and the rule).
    """
    if card.get("format") != "devicephys-device-card":
        raise SpecError(f"{where}: 'format' is {card.get('format')!r}, expected 'devicephys-device-card'")
    vals = {name: _value(card, name, where) for name in REQUIRED}
    positive = [n for n in REQUIRED if n not in ("hold_voltage", "threshold_voltage", "photons_per_electron")]
    if vals["photons_per_electron"] < 0:
        raise SpecError(f"{where}: parameter 'photons_per_electron' must be >= 0, got {vals['photons_per_electron']!r}")
    for name in positive:
        if vals[name] <= 0:
            raise SpecError(f"{where}: parameter '{name}' must be > 0 {REQUIRED[name]}, got {vals[name]!r}; fix the card")
    if not 0 < vals["hold_voltage"] < vals["threshold_voltage"]:
        raise SpecError(f"{where}: need 0 < hold_voltage < threshold_voltage, got {vals['hold_voltage']!r} V and "
                        f"{vals['threshold_voltage']!r} V; fix the card")
    return DeviceNeuron(
        capacitance=vals["neuron_capacitance"], series_resistance=vals["series_resistance"],
        threshold_voltage=vals["threshold_voltage"], hold_voltage=vals["hold_voltage"],
        resistance_on=vals["resistance_on"], relaxation_time=vals["relaxation_time"],
        set_time_tau0=vals["set_time_tau0"], set_time_v0=vals["set_time_v0"],
        photons_per_electron=vals["photons_per_electron"], peak_wavelength=vals["peak_wavelength"],
        spectral_width=vals["spectral_width"], name=str(card.get("name", "card")))


def load_card(path: str | Path | None) -> dict:
    """The card in ``path`` (``device_card.json``), or :data:`DEFAULT_CARD` when ``path`` is None."""
    if path is None:
        return DEFAULT_CARD
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"DeviceCard '{path}' does not exist; run the compact stage or omit it for the built-in card")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise SpecError(f"DeviceCard '{path}' is not valid JSON ({exc.msg} at line {exc.lineno}); rewrite it") from None
