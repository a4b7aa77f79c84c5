"""The array's neuron, read from a DeviceCard through the compact stage's card module.

One contract: :class:`devicephys.compact.card.DeviceCard` loads and validates
the card (format, ``format_version``, every parameter, units, relations), and
the compact laws give what the array derives from it (the static threshold,
the set-time law, the LIF discharge).  Nothing here re-reads the JSON or
re-states a law.

Without a card the built-in *illustrative* card (``data/illustrative_card.json``,
see :mod:`devicephys.array.illustrative`) is used, and one line on stderr
says so.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from devicephys.compact.card import DeviceCard
from devicephys.compact.fit import set_time_law
from devicephys.compact.model import static_threshold
from devicephys.compact.neuron import LatchParams, lif_analytic
from devicephys.errors import SpecError

ILLUSTRATIVE_CARD = Path(__file__).with_name("data") / "illustrative_card.json"
_told = False


@dataclass(frozen=True)
class DeviceNeuron:
    """Neuron parameters taken from a card, all SI.

    Attributes
    ----------
    capacitance : float
        Neuron node capacitance C [F] (the card's LIF capacitor, plus a detector's when one is attached).
    series_resistance : float
        Charging resistor R_s [Ohm]; membrane time constant is R_s C.
    threshold_voltage, hold_voltage : float
        Switch turns ON at V_th and OFF at V_h [V].
    resistance_on, resistance_off : float
        Switch resistances [Ohm].
    relaxation_time : float
        Filament self-rupture time [s] (leak of the blinking neuron's growth).
    set_time_tau0, set_time_v0 : float
        Set-time law t_set = tau0 exp(-V/V0) [s], [V].
    static_threshold : float
        Lowest DC voltage at which the filament closes [V] (compact ``static_threshold``).
    photons_per_spike : float
        The card's mean photons emitted per spike [1].
    peak_wavelength, spectral_width : float
        Emission peak and FWHM [m] at the card's operating point (the emission gap, biased at V_th).
    name, origin : str
        Card name and its provenance origin ('illustrative' for the built-in card).
    dissolution : bool
        A card of two slow states: the blinking neuron's filament breaks ``relaxation_time`` after its growth
        began.  The card's field's return of dissolved silver (``return_rate``) acts on a bridged filament
        only (in proportion to G_gap/G_c), and the blinking neuron resets its filament at the blink, when it
        bridges: the return does not enter its growth.
    spectrum : tuple of two arrays or None
        The card's reference spike's emitted spectrum: wavelengths [m] and photons per spike
        per metre [1/m] (:class:`~devicephys.compact.card.DeviceCard`); None when the
        card has none, and a detector then sees the Gaussian of ``peak_wavelength`` and
        ``spectral_width`` cut at h c/(e V_th).
    photons_per_spike_spread : tuple of two floats or None
        Photons per spike of the card refitted at the lower and upper end of its R_on's spread (the card's
        ``fit_quality.resistance_on_bracket``) [1]; None when the card has no such bracket.
    """

    capacitance: float
    series_resistance: float
    threshold_voltage: float
    hold_voltage: float
    resistance_on: float
    resistance_off: float
    relaxation_time: float
    set_time_tau0: float
    set_time_v0: float
    static_threshold: float
    photons_per_spike: float
    peak_wavelength: float
    spectral_width: float
    name: str = "card"
    origin: str = ""
    dissolution: bool = False
    spectrum: tuple | None = field(default=None, compare=False, repr=False)
    photons_per_spike_spread: tuple | None = field(default=None, compare=False)

    @property
    def tau(self) -> float:
        """Charging time constant R_s C [s]."""
        return self.series_resistance * self.capacitance

    @property
    def time_scale(self) -> float:
        """Shortest of R_s C and the relaxation time [s]: sets default time steps and run lengths."""
        return min(self.tau, self.relaxation_time)

    def blink_time(self, voltage: float) -> float:
        """First blink [s] of the blinking neuron held at ``voltage`` [V] from x = 0 (compact set-time law)."""
        return float(set_time_law(voltage, self.set_time_tau0, self.set_time_v0, self.relaxation_time, self.dissolution))

    def time_scale_for(self, model: str, overdrive: float = 1.3) -> float:
        """Time scale [s] of ``model`` that sets default time steps and run lengths.

        Threshold switch: :attr:`time_scale`.  Blinking neuron: its first blink
        at ``overdrive`` x the firing voltage.
        """
        if model == "threshold_switch":
            return self.time_scale
        return self.blink_time(overdrive * self.firing_voltage("blinking"))

    @property
    def emission_bias(self) -> float:
        """Bias [V] at which the card's spectrum was computed: V_th, its operating point.

        No inelastic tunnelling photon carries more than e V: wavelengths below
        h c / (e V_th) are not emitted, whatever the Gaussian the card's peak and
        FWHM describe puts there.
        """
        return self.threshold_voltage

    def firing_voltage(self, model: str) -> float:
        """Lowest constant source voltage [V] at which the neuron fires: V_th, or the static threshold."""
        return self.threshold_voltage if model == "threshold_switch" else self.static_threshold

    def discharge_time(self, drive: float = 0.0) -> float:
        """Time [s] for the ON switch to discharge C from V_th to V_h with the source ``drive`` [V] connected.

        The compact LIF law (:func:`devicephys.compact.neuron.lif_analytic`); a
        drive too low to fire by itself is raised to the lowest that does (the
        discharge then ends a little later than it would at ``drive``).
        """
        latch = LatchParams(self.threshold_voltage, self.hold_voltage, self.resistance_on, self.resistance_off,
                            1.0, 1.0)
        lowest = self.threshold_voltage * (1.0 + self.series_resistance / self.resistance_off) * (1.0 + 1e-9)
        return lif_analytic(latch, max(drive, lowest), self.series_resistance, self.capacitance)["discharge_time"]


def load_card(path: str | Path | None) -> DeviceCard:
    """The validated card in ``path``, or the built-in illustrative card (announced on stderr) when None."""
    global _told
    if path is None:
        if not _told:
            print("devicephys: no DeviceCard given; using the built-in ILLUSTRATIVE card (not fitted to any device)",
                  file=sys.stderr)
            _told = True
        return DeviceCard.load(ILLUSTRATIVE_CARD)
    return DeviceCard.load(path)


def illustrative_card() -> DeviceCard:
    """The built-in illustrative card (no message)."""
    return DeviceCard.load(ILLUSTRATIVE_CARD)


def neuron_from_card(card: DeviceCard | dict, where: str = "DeviceCard") -> DeviceNeuron:
    """The array neuron of ``card`` (a :class:`DeviceCard`, or its JSON dict, validated here).

    Raises
    ------
    SpecError
        The card's validation error, prefixed by ``where``.
    """
    if not isinstance(card, DeviceCard):
        try:
            card = DeviceCard.from_dict(card)
        except SpecError as exc:
            raise SpecError(f"{where}: {exc}") from None
    v = card.values()
    if not v["photons_per_spike"] >= 0 or not math.isfinite(v["photons_per_spike"]):
        raise SpecError(f"{where}: photons_per_spike = {v['photons_per_spike']!r} must be a finite number >= 0")
    return DeviceNeuron(
        capacitance=v["neuron_capacitance"], series_resistance=v["series_resistance"],
        threshold_voltage=v["threshold_voltage"], hold_voltage=v["hold_voltage"],
        resistance_on=v["resistance_on"], resistance_off=v["resistance_off"], relaxation_time=v["relaxation_time"],
        set_time_tau0=v["set_time_tau0"], set_time_v0=v["set_time_v0"],
        static_threshold=static_threshold(card.model_params()), photons_per_spike=v["photons_per_spike"],
        peak_wavelength=v["peak_wavelength"], spectral_width=v["spectral_width"], name=card.name,
        origin=str(card.provenance.get("origin", "")), dissolution=card.model_params().dissolves,
        spectrum=card.spectrum_arrays(), photons_per_spike_spread=_spread(card))


def _spread(card: DeviceCard) -> tuple[float, float] | None:
    """Photons per spike at the two ends of the card's R_on bracket, when it has both."""
    bracket = card.fit_quality.get("resistance_on_bracket") or {}
    ends = [bracket.get(side, {}).get("photons_per_spike") for side in ("low", "high")]
    if any(x is None or not math.isfinite(float(x)) for x in ends):
        return None
    return float(ends[0]), float(ends[1])
