"""The illustrative DeviceCard: literature-order Ag/PMMA parameters pushed through the compact laws.

The card file ``data/illustrative_card.json`` is written by :func:`write`
(``python -m devicephys.array.illustrative``) and checked against it by the
tests.  The primary parameters below are chosen inside their published
ranges (see the sources); every derived number (threshold, hold, R_on, R_off,
the reference LIF circuit, photons per spike) comes from the compact stage's
own laws, so the card passes the compact validator and agrees with itself.
It is NOT fitted to any device: its provenance says ``illustrative``.
"""

from __future__ import annotations

import math
from pathlib import Path

from devicephys import units
from devicephys.compact import model
from devicephys.compact.build import neuron_parameters
from devicephys.compact.card import DeviceCard
from devicephys.compact.model import ModelParams
from devicephys.compact.spec import CompactSpec

PATH = Path(__file__).with_name("data") / "illustrative_card.json"

#: Threshold voltage the kinetics are placed at [V]: upper end of 0.2-1 V (Wang et al., Nat. Mater. 16, 101 (2017)).
THRESHOLD = 1.0
#: Voltage scale of the set-time law [V]: upper end of 0.04-0.1 V (Menzel et al., PCCP 2013).
SET_TIME_V0 = 0.1
#: Self-rupture time [s]: microseconds (Wang et al., Nat. Commun. 10 (2019); Midya et al., Adv. Mater. 2017).
RELAXATION = 1e-6
#: Photons per tunnelling electron [1]: planar-junction range 1e-7..1e-5 (Kern et al., Nat. Photon. 2015).
PHOTONS_PER_ELECTRON = 1e-5
#: Peak and FWHM of the emission [m]: longer than the quantum-cutoff wavelength h c/(e V_th) = 1.24 um at 1 V.
PEAK_WAVELENGTH, SPECTRAL_WIDTH = 1.45e-6, 0.2e-6
#: Neuron capacitor [F]: what fits the 1 um pitch, a ~1 um^2 metal-insulator-metal capacitor at ~10 fF/um^2.
NEURON_CAPACITANCE = 10e-15


def parameters() -> ModelParams:
    """Primary compact-model parameters of the illustrative Ag/PMMA cell (SI)."""
    # tau0 places the static threshold 2 V0 asinh(sqrt(tau0/tau_r)/2) at THRESHOLD
    tau0 = RELAXATION * (2.0 * math.sinh(THRESHOLD / (2.0 * SET_TIME_V0))) ** 2
    return ModelParams(
        gap_min=0.15e-9, gap_max=5e-9,
        decay_constant=math.sqrt(2 * units.m_e * 4.3 * units.eV) / units.hbar,  # Ag work function 4.3 eV
        contact_gap=0.3e-9, contact_conductance=units.G0, filament_resistance=300.0, leakage_resistance=1e12,
        relaxation_time=RELAXATION, set_time_tau0=tau0, set_time_v0=SET_TIME_V0,
        activation_energy=0.7 * units.eV, ambient_temperature=300.0,
        thermal_resistance=1.6e7, thermal_capacitance=6.25e-17, floor_width=0.01e-9,
        eta_c0=math.log(PHOTONS_PER_ELECTRON), lambda_c0=PEAK_WAVELENGTH)


_SOURCES = {
    "set_time_v0": "illustrative: upper end of 0.04-0.1 V (Menzel et al., PCCP 2013)",
    "relaxation_time": "illustrative: microsecond self-rupture (Wang et al., Nat. Commun. 2019)",
    "set_time_tau0": "illustrative: places the static threshold at 1 V (Wang et al., Nat. Mater. 2017: 0.2-1 V)",
    "decay_constant": "sqrt(2 m_e phi)/hbar with the Ag work function phi = 4.3 eV",
    "contact_conductance": "one conductance quantum G0 (Terabe et al., Nature 2005)",
    "leakage_resistance": "illustrative: OFF resistance range 1e11-1e14 Ohm (Midya et al. 2017)",
    "thermal_resistance": "illustrative: 1.6e7 K/W, a published compact-model value (range 1e5-2e7 K/W)",
    "thermal_capacitance": "illustrative: tau_th = 1 ns (0.1-10 ns)",
    "activation_energy": "illustrative: Ag migration barrier of order 0.7 eV",
    "photons_per_electron": "illustrative: planar tunnel junctions 1e-7..1e-5 (Kern et al., Nat. Photon. 2015)",
    "peak_wavelength": "illustrative: longer than the quantum-cutoff wavelength h c / (e V_th) = 1.24 um",
    "spectral_width": "illustrative",
    "neuron_capacitance": "illustrative: a ~1 um^2 MIM capacitor (~10 fF/um^2) fits the 1 um pitch",
}


def card() -> DeviceCard:
    """The illustrative card, derived through the compact laws."""
    p = parameters()
    neuron, n_src = neuron_parameters(p, CompactSpec(neuron_capacitance=NEURON_CAPACITANCE))
    eta = float(model.quantum_efficiency(p, p.gap_min, neuron["threshold_voltage"]))
    optics = {"photons_per_electron": eta, "photons_per_spike": eta * neuron["spike_charge"] / units.e,
              "peak_wavelength": float(model.peak_wavelength(p, p.gap_min)), "spectral_width": SPECTRAL_WIDTH}
    values = {**p.as_dict(), **neuron, **optics}
    sources = {k: _SOURCES.get(k, n_src.get(k, "illustrative (not fitted)")) for k in values}
    sources["photons_per_spike"] = "photons_per_electron x spike_charge / e"
    provenance = {"origin": "illustrative", "fitted": False,
                  "note": "literature-order values through the compact laws; run the pipeline for a fitted card",
                  "written_by": "python -m devicephys.array.illustrative"}
    return DeviceCard.from_values("illustrative-Ag-PMMA", values, sources, provenance=provenance)


def write(path: Path = PATH) -> Path:
    """Write the illustrative card to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return card().save(path)


if __name__ == "__main__":
    print(write())
