"""The photonic link budget of one neuron pair: photons emitted -> photoelectrons -> charge -> voltage kick.

For an emitter and a detector a distance r apart (the detector facing the
emitter)::

    N_inc = N_ph F(theta) (A / r^2) exp(-r / L_att)      photons reaching the detector
    mu    = N_inc eta_spec                              photoelectrons (Poisson mean)
    Q     = mu G e                                      charge into the neuron's node
    dV    = Q / (C + C_d)                               voltage kick
    Q_fire = (C + C_d) (V_fire - V_bias)                 charge that lifts a biased neuron to its firing voltage
    margin = 10 log10(Q / Q_fire)  [dB]

With N_ph = eta_emit C (V_th - V_h) / e (the card's photons per spike) and
C_d << C the capacitance cancels: margin ~ eta_emit F (A/r^2) eta_spec G
(V_th - V_h) / (V_fire - V_bias), so only the emission efficiency, the
geometry, the detector and its gain can close the link.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from devicephys.array import optics
from devicephys.array.card import DeviceNeuron
from devicephys.array.receiver import ABSORBERS, Receiver
from devicephys.units import e


def receiver_of(spec) -> Receiver:
    """The photodetecting synapse described by an :class:`~devicephys.array.spec.ArraySpec`."""
    return Receiver(spec.receiver, ABSORBERS[spec.receiver_material], spec.detector_area, spec.absorber_thickness,
                    collection_efficiency=spec.collection_efficiency, medium_index=spec.medium_index,
                    generation_lifetime=spec.generation_lifetime, bias=spec.receiver_bias,
                    electrode_gap=spec.electrode_gap, carrier_lifetime=spec.carrier_lifetime)


@dataclass(frozen=True)
class LinkBudget:
    """One link's budget (SI); see the module docstring.

    Attributes
    ----------
    distance : m
    photons_per_spike, incident_photons, photoelectrons : 1
    spectral_efficiency : 1
        Photoelectrons per incident photon over the emitted spectrum.
    gain : 1
    charge, fire_charge : C
    node_capacitance : F
    voltage_kick : V
    margin_db : dB
    spikes_to_fire : 1
        Spikes of this one neighbour whose expected charge equals Q_fire.
    photons_needed, gain_needed : 1
        Photons per spike (at this gain) or gain (at these photons) for a 0 dB margin.
    dark_current : A
    dark_electrons : 1
        Dark-current electrons per membrane time constant.
    """

    distance: float
    photons_per_spike: float
    incident_photons: float
    spectral_efficiency: float
    photoelectrons: float
    gain: float
    charge: float
    node_capacitance: float
    voltage_kick: float
    fire_charge: float
    margin_db: float
    spikes_to_fire: float
    photons_needed: float
    gain_needed: float
    dark_current: float
    dark_electrons: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def verdict(self) -> str:
        """One sentence: can one spike of this neighbour fire a biased neuron, and what would it take."""
        head = (f"one spike delivers {self.photoelectrons:.3g} photoelectrons x gain {self.gain:.3g} = "
                f"{self.charge / e:.3g} electrons at {self.distance * 1e6:.3g} um, against "
                f"{self.fire_charge / e:.3g} to fire (margin {self.margin_db:.1f} dB)")
        dark = ""
        if self.dark_electrons * e >= self.fire_charge:
            dark = (f"; the dark current alone delivers {self.dark_electrons:.3g} electrons per membrane time, "
                    f"enough to fire every neuron")
        if self.margin_db >= 0:
            return f"photons carry a spike: {head}{dark}"
        return (f"photons cannot carry a spike with this device: {head}; it would take {self.photons_needed:.3g} "
                f"photons per spike or a receiver gain of {self.gain_needed:.3g}{dark}")


def spread_note(link: LinkBudget, neuron: DeviceNeuron, photons_per_spike: float) -> tuple[str, list[float] | None]:
    """The link margin [dB] at the two ends of the card's ON spread, as a clause for the verdict, and the margins.

    The margin is linear in the photons per spike (the spectrum's shape held: the bracket moves the emitter's
    transmission, not its gap), so each end's is ``margin + 10 log10(N_end / N)``.  Empty where the card has no
    spread or the array does not take the card's own photons per spike.
    """
    spread = neuron.photons_per_spike_spread
    if spread is None or photons_per_spike != neuron.photons_per_spike or not photons_per_spike > 0 \
            or not math.isfinite(link.margin_db) or min(spread) <= 0:
        return "", None
    margins = [link.margin_db + 10 * math.log10(n / photons_per_spike) for n in spread]
    same = all((m >= 0) == (link.margin_db >= 0) for m in margins)
    return (f"; over the card's ON spread ({spread[0]:.3g} to {spread[1]:.3g} photons per spike) the margin is "
            f"{margins[0]:.1f} to {margins[1]:.1f} dB, " + ("the same verdict" if same else "the verdict changes")
            ), margins


def link_budget(neuron: DeviceNeuron, receiver: Receiver, *, distance: float, photons_per_spike: float,
                bias_voltage: float, fire_voltage: float, tau: float, theta: float = math.pi / 2,
                pattern: optics.Pattern = optics.isotropic, attenuation_length: float = math.inf) -> LinkBudget:
    """Budget of the link from an emitter to a detector ``distance`` [m] away at polar angle ``theta`` [rad].

    ``neuron`` is the card's neuron (without the detector); ``bias_voltage`` and
    ``fire_voltage`` [V] the receiving neuron's source voltage and firing
    voltage; ``tau`` [s] its membrane time constant (dark-electron count).
    """
    eta = receiver.efficiency_for(neuron)
    src = np.zeros((1, 3))
    det = np.array([[distance * math.sin(theta), 0.0, distance * math.cos(theta)]])
    incident = float(optics.mean_photoelectrons(src, det, optics.Detector(receiver.area, 1.0, 1.0, None),
                                                photons_per_spike, pattern, attenuation_length)[0])
    mu = incident * eta
    c_node = neuron.capacitance + receiver.capacitance
    q = mu * receiver.gain * e
    q_fire = c_node * (fire_voltage - bias_voltage)
    ratio = q / q_fire if q_fire > 0 else math.inf
    return LinkBudget(
        distance=distance, photons_per_spike=photons_per_spike, incident_photons=incident, spectral_efficiency=eta,
        photoelectrons=mu, gain=receiver.gain, charge=q, node_capacitance=c_node, voltage_kick=q / c_node,
        fire_charge=q_fire, margin_db=10 * math.log10(ratio) if ratio > 0 else -math.inf,
        spikes_to_fire=1.0 / ratio if ratio > 0 else math.inf,
        photons_needed=photons_per_spike / ratio if ratio > 0 else math.inf,
        gain_needed=receiver.gain / ratio if ratio > 0 else math.inf,
        dark_current=receiver.dark_current, dark_electrons=receiver.dark_current * tau / e)


def budget_of(spec, neuron: DeviceNeuron, receiver: Receiver, photons_per_spike: float, pattern: optics.Pattern,
              *, distance: float | None = None, vertical: bool = False) -> LinkBudget:
    """The budget of an ArraySpec's nearest-neighbour link (in-plane at ``distance`` or the pitch, or vertical)."""
    v_fire = neuron.firing_voltage(spec.neuron_model)
    r = spec.layer_spacing if vertical else (spec.pitch if distance is None else distance)
    tau = neuron.relaxation_time if spec.membrane == "relaxation" else neuron.tau
    return link_budget(neuron, receiver, distance=r, photons_per_spike=photons_per_spike,
                       bias_voltage=spec.bias_level * v_fire, fire_voltage=v_fire, tau=tau,
                       theta=0.0 if vertical else math.pi / 2, pattern=pattern,
                       attenuation_length=spec.attenuation_length)


def margin_versus_pitch(spec, neuron: DeviceNeuron, receiver: Receiver, photons_per_spike: float,
                        pattern: optics.Pattern, pitches) -> np.ndarray:
    """Nearest-neighbour margin [dB] for each pitch [m] (in-plane)."""
    return np.array([budget_of(spec, neuron, receiver, photons_per_spike, pattern, distance=p).margin_db
                     for p in pitches])
