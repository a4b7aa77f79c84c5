"""The DeviceCard: the compact model's parameters as JSON, SI units, with provenance.

Layout::

    {"format": "devicephys-device-card", "format_version": 1, "name": str,
     "parameters": {NAME: {"value": float, "unit": str, "description": str, "source": str}},
     "uncertainties": {NAME: float (1-sigma, SI)}, "provenance": {...}, "fit_quality": {...},
     "spectrum": {"wavelength": [m, ...], "photons_per_spike_per_m": [1/m, ...], "source": str}}

``spectrum`` (optional) is the light of the reference spike: the spectrum at the
emitting gap and the spike's bias V(t), times its electron rate I(t)/e,
integrated over the spike, per unit wavelength over the emission window.  Its
integral is ``photons_per_spike``, and without a hot-electron channel it is zero
above the photon energy e V_th (the spike's highest bias).  A detector sees this
spectrum; ``peak_wavelength`` and ``spectral_width`` describe the spectrum at
the threshold alone.

Floats are written with Python's shortest round-trip representation, so a card
loads back exactly.  :data:`PARAMETERS` lists every parameter with its unit,
its meaning and its rule; a card missing one, or with a value that breaks a
rule, is refused with a :class:`~devicephys.errors.SpecError` naming it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from devicephys.compact.model import ModelParams
from devicephys.compact.neuron import LatchParams
from devicephys.errors import SpecError
from devicephys.io import atomic_write_text
from devicephys.strict_json import finite_or_null

FORMAT = "devicephys-device-card"
FORMAT_VERSION = 1

# name: (unit, description, rule) with rule one of "positive", "nonnegative", "finite".
PARAMETERS: dict[str, tuple[str, str, str]] = {
    "threshold_voltage": ("V", "DC threshold voltage of the switch (static, at ambient temperature)", "positive"),
    "hold_voltage": ("V", "DC hold voltage: lowest cell voltage that keeps the hot filament bridged", "positive"),
    "resistance_on": ("Ohm", "cell resistance with the gap closed (gap_min)", "positive"),
    "resistance_off": ("Ohm", "cell resistance with the gap relaxed (gap_max)", "positive"),
    "thermal_resistance": ("K/W", "thermal resistance of the filament hot spot to ambient", "positive"),
    "thermal_capacitance": ("J/K", "thermal capacitance of the hot spot", "positive"),
    "relaxation_time": ("s", "time constant of spontaneous gap relaxation (filament rupture); with dissolution the "
                        "self-rupture time (1 - c_p)/k_d", "positive"),
    "set_time_tau0": ("s", "set-time law t_set = tau0 exp(-V/V0): prefactor", "positive"),
    "set_time_v0": ("V", "set-time law t_set = tau0 exp(-V/V0): voltage scale", "positive"),
    "photons_per_electron": ("1", "external quantum efficiency at the operating point (emission_gap, threshold)", "nonnegative"),
    "emission_gap": ("m", "tunnelling gap at which the junction emits (a metallic contact emits no tunnelling photon)", "positive"),
    "emission_transmission": ("1", "channel transmission G_gap/G0 at the emission gap (shot noise 2eI(1 - T))", "nonnegative"),
    "photons_per_spike": ("1", "photons emitted in the reference LIF spike: integral of eta(d(t), V(t)) I(t)/e over its waveform", "nonnegative"),
    "peak_wavelength": ("m", "vacuum peak emission wavelength at the operating point", "positive"),
    "spectral_width": ("m", "full width at half maximum of the emission spectrum at the operating point", "positive"),
    "neuron_capacitance": ("F", "membrane capacitor of the recommended LIF neuron circuit", "positive"),
    "series_resistance": ("Ohm", "series (input) resistor of the recommended LIF neuron circuit", "positive"),
    "neuron_input_voltage": ("V", "input voltage of the reference LIF spike", "positive"),
    "spike_charge": ("C", "charge per LIF spike C (V_th - V_h)", "positive"),
    "switching_time": ("s", "time constant of the LIF threshold-switch latch (the filament's set time at the reference input)", "positive"),
    "latch_width": ("V", "smoothing width of the LIF threshold-switch latch", "positive"),
    "gap_min": ("m", "closest approach of the filament tip (0: metallic contact)", "nonnegative"),
    "gap_max": ("m", "relaxed gap (filament retracted)", "positive"),
    "decay_constant": ("1/m", "tunnelling decay constant kappa = sqrt(2 m phi)/hbar", "positive"),
    "contact_gap": ("m", "gap where tunnelling joins the contact plateau", "positive"),
    "contact_conductance": ("S", "conductance of the bridged contact (a multiple of G0 = 2e^2/h)", "positive"),
    "filament_resistance": ("Ohm", "ohmic resistance of the filament body", "positive"),
    "leakage_resistance": ("Ohm", "insulator leakage in parallel with the gap", "positive"),
    "activation_energy": ("J", "activation energy of filament growth", "nonnegative"),
    "ambient_temperature": ("K", "heat-sink temperature", "positive"),
    "floor_width": ("m", "width of the smooth floor of the gap at gap_min", "positive"),
    **{f"eta_c{k}": ("1", f"coefficient {k} of ln(eta) in 1, x, u, x^2, x*u, u^2 (x = gap/nm, u = 1 V/|V|)", "finite")
       for k in range(6)},
    "eta_gap_lo": ("m", "lower gap limit of the emission law (the model refuses below it)", "positive"),
    "eta_gap_hi": ("m", "upper gap limit of the emission law (the model refuses above it)", "positive"),
    "eta_bias_lo": ("V", "lower |V| limit of the emission law's data (between eta_bias_cut and it the model refuses)", "positive"),
    "eta_bias_hi": ("V", "upper |V| limit of the emission law (the model refuses above it)", "positive"),
    "eta_bias_cut": ("V", "photon cutoff bias h c/(e lambda_max) of the emission window: eta = 0 for |V| <= it "
                     "(0: no cutoff, hot-electron channel)", "nonnegative"),
    "hot_electron_temperature": ("K", "effective electron temperature of the hot-electron (overbias) channel", "positive"),
    "hot_electron_weight": ("1", "weight of the hot-electron channel relative to inelastic tunnelling", "positive"),
    **{f"lambda_c{k}": ("m", f"coefficient {k} of the peak wavelength in 1, x, x^2 (x = gap/nm)", "finite")
       for k in range(3)},
    "dissolution_rate": ("1/s", "dissolution rate k_d of the filament's oldest stretch (at the active electrode, held at the ambient) (0: one slow state, "
                         "exponential gap relaxation)", "nonnegative"),
    "percolation_fraction": ("1", "metal fraction c_p below which a stretch of the filament stops conducting", "nonnegative"),
    "percolation_width": ("1", "width of the insulator-metal crossover in metal fraction", "nonnegative"),
    "rupture_time": ("s", "duration of a rupture's retraction and reset (numerical: the rupture is abrupt)", "nonnegative"),
    "return_rate": ("1/s", "rate constant k_f of the field's return of dissolved Ag to the bridged filament's oldest "
                    "stretch, per unit hopping drive 2 sinh(|V|/V0) (0: no return, the bridge breaks t_r after each set)",
                    "nonnegative"),
    "capillary_number": ("1", "Gibbs-Thomson number gamma Omega / (k_B T_0 r_ch) of the oldest stretch's dissolution: "
                         "a cylinder of radius r_ch sqrt(m) dissolves at k_d s exp(capillary_number (1/s - 1)), "
                         "s = sqrt(m) with m clipped to [percolation_fraction, 1] (absent or 0: the zero-order k_d)",
                         "nonnegative"),
}

#: The second slow state's parameters (absent: one slow state; ``capillary_number`` absent: zero-order dissolution).
DISSOLUTION = ("dissolution_rate", "percolation_fraction", "percolation_width", "rupture_time", "return_rate",
               "capillary_number")


#: Parameters a card may lack: the hot-electron channel (only when the emission stage has one) and the
#: photon cutoff (cards written before it read as 0, no cutoff).
OPTIONAL = frozenset({"hot_electron_temperature", "hot_electron_weight", "eta_bias_cut", "emission_gap", "emission_transmission",
                      *DISSOLUTION})


def _check_value(name: str, value: Any) -> float:
    unit, _, rule = PARAMETERS[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SpecError(f"DeviceCard parameter {name} = {value!r}: must be a finite number in {unit}; fix the card")
    if rule == "positive" and value <= 0:
        raise SpecError(f"DeviceCard parameter {name} must be > 0 {unit}, got {value!r}; give a positive value")
    if rule == "nonnegative" and value < 0:
        raise SpecError(f"DeviceCard parameter {name} must be >= 0 {unit}, got {value!r}; give a value >= 0")
    return float(value)


@dataclass
class DeviceCard:
    """Compact-model parameters (SI) with their documentation and provenance.

    Attributes
    ----------
    name : str
    parameters : dict
        ``name -> {"value", "unit", "description", "source"}``.
    uncertainties : dict
        ``name -> 1-sigma`` in the parameter's unit.
    provenance, fit_quality : dict
    spectrum : dict or None
        The reference spike's emitted spectrum: ``wavelength`` [m] (ascending),
        ``photons_per_spike_per_m`` [1/m] and ``source`` (see the module docstring).
    """

    name: str
    parameters: dict[str, dict[str, Any]]
    uncertainties: dict[str, float] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    fit_quality: dict[str, Any] = field(default_factory=dict)
    spectrum: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.validate()

    @classmethod
    def from_values(cls, name: str, values: dict[str, float], sources: dict[str, str], **extra: Any) -> "DeviceCard":
        """Build a card from SI values; units and descriptions come from :data:`PARAMETERS`."""
        params = {k: {"value": float(v), "unit": PARAMETERS[k][0], "description": PARAMETERS[k][1],
                      "source": sources.get(k, "")} for k, v in values.items() if k in PARAMETERS}
        return cls(name, params, **extra)

    def validate(self) -> None:
        """Raise SpecError for a missing, unknown or non-physical parameter."""
        missing = [k for k in PARAMETERS if k not in self.parameters and k not in OPTIONAL]
        if missing:
            raise SpecError(f"DeviceCard '{self.name}' lacks parameter(s) {missing}; refit or add them (SI units)")
        for name, entry in self.parameters.items():
            if name not in PARAMETERS:
                raise SpecError(f"DeviceCard parameter {name!r} is unknown; remove it or use one of {sorted(PARAMETERS)}")
            if not isinstance(entry, dict) or "value" not in entry:
                raise SpecError(f"DeviceCard parameter {name}: expected {{'value': ..., 'unit': ...}}, got {entry!r}")
            _check_value(name, entry["value"])
            if entry.get("unit", PARAMETERS[name][0]) != PARAMETERS[name][0]:
                raise SpecError(f"DeviceCard parameter {name} has unit {entry.get('unit')!r}; "
                                f"it must be stored in {PARAMETERS[name][0]!r} (SI)")
        self._check_relations()

    def _check_relations(self) -> None:
        v = self.values()
        if v["hold_voltage"] >= v["threshold_voltage"]:
            raise SpecError(f"DeviceCard hold_voltage ({v['hold_voltage']} V) must be < threshold_voltage "
                            f"({v['threshold_voltage']} V); a threshold switch needs hysteresis")
        if v["gap_min"] >= v["gap_max"]:
            raise SpecError(f"DeviceCard gap_min ({v['gap_min']} m) must be < gap_max ({v['gap_max']} m)")
        if v.get("dissolution_rate", 0.0) > 0:
            bad = [k for k in ("percolation_fraction", "percolation_width", "rupture_time")
                   if not (0 < v.get(k, 0.0) < (1 if k == "percolation_fraction" else math.inf))]
            if bad:
                raise SpecError(f"DeviceCard dissolution_rate = {v['dissolution_rate']} 1/s (two slow states) needs "
                                f"{bad} > 0 (percolation_fraction < 1); refit the card with rupture: dissolution")
        if v["resistance_on"] >= v["resistance_off"]:
            raise SpecError(f"DeviceCard resistance_on ({v['resistance_on']} Ohm) must be < resistance_off "
                            f"({v['resistance_off']} Ohm)")
        if self.spectrum is not None:
            self._check_spectrum(v)

    def _check_spectrum(self, v: dict[str, float]) -> None:
        """The spectrum's samples, its integral against photons_per_spike, and its quantum limit."""
        from devicephys import units

        sp = self.spectrum
        if not isinstance(sp, dict) or "wavelength" not in sp or "photons_per_spike_per_m" not in sp:
            raise SpecError("DeviceCard spectrum: expected {'wavelength': [m], 'photons_per_spike_per_m': [1/m], "
                            "'source': str}; refit the card")
        lam = np.asarray(sp["wavelength"], dtype=float)
        dens = np.asarray(sp["photons_per_spike_per_m"], dtype=float)
        if lam.ndim != 1 or lam.shape != dens.shape or lam.size < 3:
            raise SpecError(f"DeviceCard spectrum: wavelength and photons_per_spike_per_m must be two lists of one "
                            f"length >= 3, got {lam.shape} and {dens.shape}; refit the card")
        if not (np.all(np.isfinite(lam)) and lam[0] > 0 and np.all(np.diff(lam) > 0)):
            raise SpecError("DeviceCard spectrum.wavelength must be positive and ascending [m]; refit the card")
        if not (np.all(np.isfinite(dens)) and np.all(dens >= 0)):
            raise SpecError("DeviceCard spectrum.photons_per_spike_per_m must be finite and >= 0 [1/m]; refit the card")
        total = float(np.trapezoid(dens, lam))
        if not math.isclose(total, v["photons_per_spike"], rel_tol=1e-6, abs_tol=1e-300):
            raise SpecError(f"DeviceCard spectrum integrates to {total:.6g} photons per spike, but "
                            f"photons_per_spike = {v['photons_per_spike']:.6g}; the spectrum belongs to another "
                            "spike or operating point: refit the card")
        if v.get("hot_electron_weight", 0.0) <= 0:
            cut = units.h * units.c0 / (units.e * v["threshold_voltage"])
            if np.any(dens[lam < cut * (1 - 1e-9)] > 0):
                raise SpecError(f"DeviceCard spectrum emits below h c/(e V_th) = {cut:.4g} m (threshold_voltage "
                                f"{v['threshold_voltage']:.4g} V) without a hot-electron channel; the spectrum belongs to "
                                "another operating point: refit the card")

    def value(self, name: str) -> float:
        """Value of parameter ``name`` (SI); an absent optional model parameter has its model default."""
        if name not in self.parameters and name in OPTIONAL and name in ModelParams.names():
            return float(ModelParams.__dataclass_fields__[name].default)
        return float(self.parameters[name]["value"])

    def values(self) -> dict[str, float]:
        """All parameter values (SI) by name."""
        return {k: float(e["value"]) for k, e in self.parameters.items()}

    def model_params(self) -> ModelParams:
        """The physical model's parameters."""
        v = self.values()
        return ModelParams(**{k: v[k] for k in ModelParams.names() if k in v})

    def latch_params(self) -> LatchParams:
        """The LIF threshold switch's parameters."""
        v = self.values()
        return LatchParams(v["threshold_voltage"], v["hold_voltage"], v["resistance_on"], v["resistance_off"],
                           v["switching_time"], v["latch_width"])

    # -- JSON -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out = {"format": FORMAT, "format_version": FORMAT_VERSION, "name": self.name,
               "parameters": self.parameters, "uncertainties": self.uncertainties,
               "provenance": finite_or_null(self.provenance), "fit_quality": finite_or_null(self.fit_quality)}
        if self.spectrum is not None:
            out["spectrum"] = {"wavelength": [float(x) for x in self.spectrum["wavelength"]],
                               "photons_per_spike_per_m": [float(x) for x in self.spectrum["photons_per_spike_per_m"]],
                               "source": str(self.spectrum.get("source", ""))}
        return out

    def spectrum_arrays(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(wavelength [m], photons per spike per metre [1/m]) of the card's spectrum, or None."""
        if self.spectrum is None:
            return None
        return (np.asarray(self.spectrum["wavelength"], dtype=float),
                np.asarray(self.spectrum["photons_per_spike_per_m"], dtype=float))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    def save(self, path: str | Path) -> Path:
        """Write the card as JSON, atomically."""
        return atomic_write_text(path, self.to_json() + "\n")

    @classmethod
    def from_dict(cls, data: Any) -> "DeviceCard":
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise SpecError(f"not a DeviceCard: expected a JSON object with format {FORMAT!r}")
        if data.get("format_version") != FORMAT_VERSION:
            raise SpecError(f"DeviceCard format_version {data.get('format_version')!r} is not supported "
                            f"(this version reads {FORMAT_VERSION}); refit the card")
        if not isinstance(data.get("parameters"), dict):
            raise SpecError("DeviceCard has no 'parameters' object; refit the card")
        return cls(str(data.get("name", "device")), data["parameters"], dict(data.get("uncertainties", {})),
                   dict(data.get("provenance", {})), dict(data.get("fit_quality", {})), data.get("spectrum"))

    @classmethod
    def load(cls, path: str | Path) -> "DeviceCard":
        """Read a card written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise SpecError(f"DeviceCard file '{path}' does not exist; run 'devicephys compact' to make one")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise SpecError(f"DeviceCard file '{path}' is not valid JSON ({exc.msg} at line {exc.lineno})") from None
        return cls.from_dict(data)
