"""The photodetecting synapse and the link budget against hand calculations; the card contract."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from devicephys.array import illustrative
from devicephys.array.budget import link_budget, receiver_of
from devicephys.array.build import build_array
from devicephys.array.card import illustrative_card, load_card, neuron_from_card
from devicephys.array.receiver import GERMANIUM, SILICON, Receiver
from devicephys.array.spec import ArraySpec
from devicephys.compact.card import DeviceCard
from devicephys.compact.fit import set_time_law
from devicephys.compact.model import static_threshold
from devicephys.errors import SpecError

E, H, C0, EPS0 = 1.602176634e-19, 6.62607015e-34, 299792458.0, 8.8541878128e-12


def _narrow(neuron, peak):
    """The card's neuron emitting a (practically) single line at ``peak`` [m], far above its quantum cutoff."""
    import dataclasses

    return dataclasses.replace(neuron, peak_wavelength=peak, spectral_width=1e-12, threshold_voltage=5.0)


def test_link_budget_of_one_pair_matches_a_hand_calculation():
    """Si p-i-n at 700 nm (Schinke: n = 3.765, k = 1.0623e-2), isotropic emitter 1 um away, 100 photons."""
    neuron = _narrow(neuron_from_card(illustrative_card()), 0.70e-6)
    rec = Receiver("photodiode", SILICON, 2.5e-13, 1e-6, medium_index=1.49)
    b = link_budget(neuron, rec, distance=1e-6, photons_per_spike=100.0, bias_voltage=0.87, fire_voltage=1.0,
                    tau=1e-8)
    n, k, nm = 3.765, 1.0623e-2, 1.49
    alpha = 4 * math.pi * k / 0.70e-6
    eta = (1 - ((n - nm) ** 2 + k**2) / ((n + nm) ** 2 + k**2)) * (1 - math.exp(-alpha * 1e-6))
    incident = 100.0 * 2.5e-13 / (4 * math.pi * 1e-12)
    c_node = 10e-15 + 11.7 * EPS0 * 2.5e-13 / 1e-6
    q = incident * eta * E
    assert b.spectral_efficiency == pytest.approx(eta, rel=1e-4)
    assert b.incident_photons == pytest.approx(incident, rel=1e-12)
    assert b.photoelectrons == pytest.approx(incident * eta, rel=1e-4)
    assert b.node_capacitance == pytest.approx(c_node, rel=1e-6)
    assert b.voltage_kick == pytest.approx(q / c_node, rel=1e-4)
    assert b.fire_charge == pytest.approx(c_node * 0.13, rel=1e-6)
    assert b.margin_db == pytest.approx(10 * math.log10(q / (c_node * 0.13)), abs=1e-3)
    assert b.photons_needed == pytest.approx(100.0 * c_node * 0.13 / q, rel=1e-4)
    assert b.gain == 1.0 and b.gain_needed == pytest.approx(b.spikes_to_fire)


def test_photoconductor_gain_capacitance_and_dark_current_by_hand():
    rec = Receiver("photoconductor", GERMANIUM, 2.5e-13, 0.2e-6, bias=2.0, electrode_gap=0.4e-6,
                   carrier_lifetime=3e-9)
    t_tr = (0.4e-6) ** 2 / (0.39 * 2.0)
    assert rec.transit_time == pytest.approx(t_tr)
    assert rec.gain == pytest.approx(3e-9 / t_tr)
    width = 2.5e-13 / 0.4e-6
    assert rec.capacitance == pytest.approx(16.0 * EPS0 * 0.2e-6 * width / 0.4e-6, rel=1e-6)
    assert rec.dark_current == pytest.approx(E * 2.0e19 * (0.39 + 0.19) * 2.0 * 0.2e-6 * width / 0.4e-6, rel=1e-9)
    diode = Receiver("photodiode", GERMANIUM, 2.5e-13, 1e-6, generation_lifetime=1e-6)
    assert diode.gain == 1.0
    assert diode.dark_current == pytest.approx(E * 2.0e19 * 1e-6 * 2.5e-13 / 2e-6, rel=1e-9)


def test_band_edges_and_quantum_cutoff():
    neuron = neuron_from_card(illustrative_card())
    ge = Receiver("photodiode", GERMANIUM, 2.5e-13, 1e-6)
    si = Receiver("photodiode", SILICON, 2.5e-13, 1e-6)
    assert si.spectral_efficiency(1.45e-6, 0.2e-6) < 1e-3 < 0.1 < ge.spectral_efficiency(1.45e-6, 0.2e-6)
    assert ge.spectral_efficiency(2.5e-6, 0.1e-6) == 0.0  # beyond Ge's band edge
    assert float(si.responsivity(0.7e-6)) == pytest.approx(float(si.quantum_efficiency(0.7e-6)) * E * 0.7e-6 / (H * C0))
    # truncation at h c / (e V): the truncated average equals the hand integral over lambda >= lambda_min
    cut = H * C0 / (E * neuron.threshold_voltage)
    lam = np.linspace(cut, 1.45e-6 + 6 * 0.2e-6 / 2.3548, 20001)
    w = np.exp(-0.5 * ((lam - 1.45e-6) / (0.2e-6 / 2.354820045)) ** 2)
    ref = np.trapezoid(w * ge.quantum_efficiency(lam), lam) / np.trapezoid(w, lam)
    assert ge.spectral_efficiency(1.45e-6, 0.2e-6, neuron.threshold_voltage) == pytest.approx(ref, rel=1e-4)
    with pytest.raises(SpecError, match="quantum cutoff"):
        ge.spectral_efficiency(0.7e-6, 0.01e-6, 1.0)


def test_array_links_carry_the_budget_of_the_receiver():
    spec = ArraySpec(nx=4, ny=4, coupling_radius=1.05e-6)
    neuron = neuron_from_card(illustrative_card())
    arr = build_array(spec, neuron)
    rec = receiver_of(spec)
    b = link_budget(neuron, rec, distance=1e-6, photons_per_spike=neuron.photons_per_spike,
                    bias_voltage=0.87 * neuron.static_threshold, fire_voltage=neuron.static_threshold, tau=neuron.tau,
                    attenuation_length=spec.attenuation_length)
    proj = arr.network.projections[0]
    assert np.allclose(proj.mean_photons, b.photoelectrons, rtol=1e-6)  # float32 storage
    assert np.allclose(proj.weights, b.voltage_kick / b.photoelectrons, rtol=1e-6)
    assert arr.neuron.capacitance == pytest.approx(b.node_capacitance)


def test_illustrative_card_is_a_valid_compact_card_derived_by_the_compact_laws():
    on_disk = DeviceCard.load(illustrative.PATH)  # the compact validator accepts it
    assert on_disk.provenance["origin"] == "illustrative"
    fresh = json.loads(json.dumps(illustrative.card().to_dict()))
    # to 1e-12, not to the bit: NumPy's exp, log and arcsinh differ in the last bit between CPUs (its AVX-512
    # kernels), while a change of the compact laws moves the card by far more
    def same(a, b):
        if isinstance(a, float) and isinstance(b, float):
            return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list) and isinstance(b, list):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        return a == b

    stale = sorted(k for k in fresh["parameters"] if not same(fresh["parameters"][k], on_disk.parameters.get(k)))
    assert not stale, f"the compact laws changed {stale}: run 'python -m devicephys.array.illustrative'"
    neuron = neuron_from_card(on_disk)
    assert neuron.static_threshold == static_threshold(on_disk.model_params())
    assert neuron.blink_time(1.2) == float(set_time_law(1.2, neuron.set_time_tau0, neuron.set_time_v0,
                                                        neuron.relaxation_time))
    # the quantum cutoff: no emitted photon above e V at the operating bias
    assert H * C0 / on_disk.value("peak_wavelength") < E * on_disk.value("threshold_voltage")


def test_card_contract_format_version_and_photons_per_spike(tmp_path):
    data = illustrative_card().to_dict()
    data["parameters"]["photons_per_spike"]["value"] = 7.0
    assert neuron_from_card(data).photons_per_spike == 7.0  # read, not re-derived
    data["format_version"] = 2
    (tmp_path / "card.json").write_text(json.dumps(data))
    with pytest.raises(SpecError, match="format_version"):
        load_card(tmp_path / "card.json")
    old_style = {"format": "devicephys-device-card", "format_version": 1, "name": "x",
                 "parameters": {k: data["parameters"][k] for k in list(data["parameters"])[:16]}}
    with pytest.raises(SpecError, match="lacks parameter"):
        neuron_from_card(old_style)


def test_every_link_counts_only_the_photons_the_card_can_emit():
    """The budget, the array's links and the classifier's hardware cut the card's spectrum at h c/(e V_th).

    The default device's card puts its emission peak (1.655 um, FWHM 0.443 um) just beyond the quantum
    cutoff of its operating bias V_th = 0.7665 V (1.618 um); germanium absorbs strongly only on the
    short side of that cutoff, where no photon is emitted.
    """
    import dataclasses

    from devicephys.array.classify import Hardware

    neuron = dataclasses.replace(neuron_from_card(illustrative_card()), threshold_voltage=0.7665,
                                 peak_wavelength=1.655e-6, spectral_width=0.443e-6)
    spec = ArraySpec(nx=4, ny=4, coupling_radius=1.05e-6)
    rec = receiver_of(spec)
    sigma = 0.443e-6 / 2.354820045
    cut = H * C0 / (E * 0.7665)
    lam = np.linspace(cut, 1.655e-6 + 6 * sigma, 40001)
    w = np.exp(-0.5 * ((lam - 1.655e-6) / sigma) ** 2)
    ref = np.trapezoid(w * rec.quantum_efficiency(lam), lam) / np.trapezoid(w, lam)
    uncut = rec.spectral_efficiency(1.655e-6, 0.443e-6)
    assert ref < uncut / 10  # the cut matters here: most of what Ge absorbs lies above e V_th
    b = link_budget(neuron, rec, distance=1e-6, photons_per_spike=10.0, bias_voltage=0.6, fire_voltage=0.7,
                    tau=1e-8)
    assert b.spectral_efficiency == pytest.approx(ref, rel=1e-3)
    arr = build_array(spec, neuron)
    assert arr.spectral_efficiency == pytest.approx(ref, rel=1e-3)
    hw = Hardware(material="germanium")
    cell = hw.receiver()
    lam_ref = np.trapezoid(w * cell.quantum_efficiency(lam), lam) / np.trapezoid(w, lam)
    assert hw.efficiency(neuron) == pytest.approx(lam_ref, rel=1e-3)


def test_link_margin_over_the_cards_on_spread():
    """A card refitted at both ends of its R_on spread: the array states the link margin at each end, which is
    the budget recomputed at that end's photons per spike (the margin is 10 log10 of a charge linear in it)."""
    from devicephys.array.budget import spread_note

    card = illustrative_card()
    n = card.value("photons_per_spike")
    assert neuron_from_card(card).photons_per_spike_spread is None  # no bracket, no spread
    card.fit_quality["resistance_on_bracket"] = {"low": {"photons_per_spike": 0.5 * n},
                                                 "high": {"photons_per_spike": 40.0 * n}}
    neuron = neuron_from_card(card)
    assert neuron.photons_per_spike_spread == (0.5 * n, 40.0 * n)
    spec = ArraySpec(nx=4, ny=4)
    rec = receiver_of(spec)
    kw = dict(distance=1e-6, bias_voltage=0.87 * neuron.static_threshold, fire_voltage=neuron.static_threshold,
              tau=neuron.tau)
    link = link_budget(neuron, rec, photons_per_spike=n, **kw)
    note, margins = spread_note(link, neuron, n)
    for m, end in zip(margins, neuron.photons_per_spike_spread):
        assert m == pytest.approx(link_budget(neuron, rec, photons_per_spike=end, **kw).margin_db, abs=1e-9)
    assert margins[0] < link.margin_db < margins[1]
    crosses = (margins[0] >= 0) != (margins[1] >= 0)
    assert ("the verdict changes" in note) == crosses and ("the same verdict" in note) != crosses
    # a spec override of the photons per spike is not the card's: no spread is claimed for it
    assert spread_note(link, neuron, 2 * n) == ("", None)
