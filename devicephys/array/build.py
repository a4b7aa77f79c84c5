"""Build the photonic array network of an :class:`ArraySpec` from a DeviceCard."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from devicephys.array import network as nw
from devicephys.array import optics
from devicephys.array.budget import receiver_of
from devicephys.array.card import DeviceNeuron
from devicephys.array.receiver import Receiver
from devicephys.array.spec import ArraySpec
from devicephys.units import e


@dataclass
class PhotonicArray:
    """The network of an ArraySpec with its geometry, receiver and optical figures.

    ``neuron`` is the array's neuron: the card's, with the detector's
    capacitance on its node and the membrane chosen by the spec.
    """

    network: nw.Network
    positions: np.ndarray
    driven: np.ndarray
    crosstalk: dict
    photons_per_spike: float
    mean_photons_intended: float
    spectral_efficiency: float
    receiver: Receiver
    neuron: DeviceNeuron


def detector_of(receiver: Receiver, neuron: DeviceNeuron) -> optics.Detector:
    """The optical detector of ``receiver`` for the card's emission spectrum (:meth:`Receiver.efficiency_for`)."""
    eff = receiver.efficiency_for(neuron)
    return optics.Detector(receiver.area, 1.0, eff, None)


def array_neuron(spec: ArraySpec, neuron: DeviceNeuron, receiver: Receiver) -> DeviceNeuron:
    """The card's neuron with the detector's capacitance on its node and the spec's membrane."""
    node = dataclasses.replace(neuron, capacitance=neuron.capacitance + receiver.capacitance)
    if spec.membrane == "relaxation":
        node = dataclasses.replace(node, series_resistance=node.relaxation_time / node.capacitance)
    return node


def pattern_of(spec: ArraySpec) -> optics.Pattern:
    """The emitter far-field pattern chosen by ``spec.far_field``."""
    if spec.far_field == "vertical_dipole":
        return optics.vertical_dipole
    if spec.far_field == "emission":
        return optics.far_field_from_emission(spec.emission_file)
    return optics.isotropic


def build_array(spec: ArraySpec, card_neuron: DeviceNeuron) -> PhotonicArray:
    """Neurons on the grid, optical links within ``coupling_radius``; nearest neighbours are intended.

    Each neuron has one detector (the spec's receiver) at its own position.  A
    link is *intended* when the detector is a nearest neighbour (in-plane at
    one pitch, or the neuron straight above/below); farther links are
    crosstalk.  One photoelectron lifts the node by G e / (C + C_d) [V]; the
    detector's dark current shifts every neuron's source by I_dark R_s.
    """
    _check_build_memory(spec)
    receiver = receiver_of(spec)
    neuron = array_neuron(spec, card_neuron, receiver)
    pos = optics.grid_positions(spec.nx, spec.ny, spec.layers, spec.pitch, spec.layer_spacing)
    n = len(pos)
    rng = np.random.default_rng(spec.seed)
    driven = rng.random(n) < spec.stimulus_fraction
    v_fire = neuron.firing_voltage(spec.neuron_model)
    dark_shift = receiver.dark_current * neuron.series_resistance
    drive = np.where(driven, spec.drive_level, spec.bias_level) * v_fire + dark_shift
    pps = neuron.photons_per_spike if spec.photons_per_spike is None else spec.photons_per_spike
    make = nw.blinking if spec.neuron_model == "blinking" else nw.threshold_switch
    net = nw.Network()
    net.add(make("array", n, neuron, drive, photons_per_spike=pps))
    i, j = optics.pairs_within(pos, pos, spec.coupling_radius)
    det = detector_of(receiver, neuron)
    mu = optics.mean_photoelectrons(pos[i], pos[j], det, pps, pattern_of(spec), spec.attenuation_length)
    intended = _nearest_neighbour(pos[i], pos[j], spec.pitch, spec.layer_spacing)
    weight = receiver.gain * e / neuron.capacitance
    indptr, indices, mu_s, intended_s = nw.csr_from_pairs(i, j, n, mu, intended)
    net.add(nw.Projection("array", "array", indptr, indices, weight, 0.0, "v", mean_photons=mu_s,
                          intended=intended_s))
    xt = optics.crosstalk(mu, intended, j, n)
    mean_int = float(mu[intended].mean()) if intended.any() else 0.0
    return PhotonicArray(net, pos, driven, xt, pps, mean_int, det.efficiency, receiver, neuron)


def _nearest_neighbour(src: np.ndarray, det: np.ndarray, pitch: float, layer_spacing: float) -> np.ndarray:
    """True where ``det`` is an in-plane nearest neighbour of ``src`` or straight above/below it."""
    dz = np.abs(det[:, 2] - src[:, 2])
    dxy = np.hypot(det[:, 0] - src[:, 0], det[:, 1] - src[:, 1])
    tol = 1e-6
    in_plane = (dz < tol * layer_spacing) & (np.abs(dxy - pitch) < tol * pitch)
    above = (dxy < tol * pitch) & (np.abs(dz - layer_spacing) < tol * layer_spacing)
    return in_plane | above


#: Bytes held per optical link while the array is built (pair indices, distances, mu, masks, CSR copies).
BYTES_PER_LINK_BUILD = 64


def _check_build_memory(spec: ArraySpec) -> None:
    """Refuse, with the estimate, an array whose optical links would not fit in memory."""
    from devicephys.array.simulate import check_memory

    n = spec.nx * spec.ny * spec.layers
    in_plane = math.pi * (spec.coupling_radius / spec.pitch) ** 2
    layers_in_reach = min(spec.layers, 2 * int(spec.coupling_radius / spec.layer_spacing) + 1)
    links = int(n * in_plane * layers_in_reach)
    limit = None if spec.memory_limit is None else int(spec.memory_limit)
    check_memory(BYTES_PER_LINK_BUILD * links + 200 * n, f"building {n} neurons with about {links} optical links", limit)
