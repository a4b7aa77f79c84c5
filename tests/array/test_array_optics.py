"""Optical coupling: photon budget over a closed sphere, spectra, Poisson arrivals, crosstalk."""

from __future__ import annotations

import math

import numpy as np
import pytest

from devicephys.array import network as nw
from devicephys.array import optics
from devicephys.array.build import build_array
from devicephys.array.card import illustrative_card, neuron_from_card
from devicephys.array.simulate import simulate
from devicephys.array.spec import ArraySpec


def _sphere(m, radius):
    k = np.arange(m) + 0.5
    phi = np.arccos(1 - 2 * k / m)
    theta = math.pi * (1 + 5**0.5) * k
    return radius * np.column_stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)])


@pytest.mark.parametrize("pattern", [optics.isotropic, optics.vertical_dipole,
                                     optics.tabulated(np.linspace(0, math.pi, 181),
                                                      np.cos(np.linspace(0, math.pi, 181)) ** 2 + 0.1)])
def test_detectors_tiling_a_sphere_collect_every_photon(pattern):
    """Photon budget: detectors covering a sphere around the emitter receive N_ph x absorption x QE."""
    m, radius = 20000, 5e-6
    det = _sphere(m, radius)
    area = 4 * math.pi * radius**2 / m  # one detector per point, together they close the sphere
    d = optics.Detector(area, 0.5, 0.8, None)
    mu = optics.mean_photoelectrons(np.zeros((m, 3)), det, d, 100.0, pattern)
    total = mu.sum()
    assert total == pytest.approx(100.0 * 0.5 * 0.8, rel=2e-3)


def test_detector_normal_gives_cosine_acceptance():
    d_up = optics.Detector(1e-14, 1.0, 1.0, (0.0, 0.0, -1.0))
    d_iso = optics.Detector(1e-14, 1.0, 1.0, None)
    det = np.array([[3e-6, 0, 4e-6]])
    ratio = optics.mean_photoelectrons(np.zeros((1, 3)), det, d_up, 1.0) / optics.mean_photoelectrons(
        np.zeros((1, 3)), det, d_iso, 1.0)
    assert ratio[0] == pytest.approx(0.8)


def test_photon_arrivals_are_poisson():
    """Counts at 300 detectors from one emitter: mean = spikes x mu and Fano factor 1."""
    neuron = neuron_from_card(illustrative_card())
    net = nw.Network()
    net.add(nw.threshold_switch("src", 1, neuron, 1.5 * neuron.threshold_voltage))
    net.add(nw.lif_cuba("det", 300, tau_m=1e-7, v_rest=0.0, v_th=1e9, v_reset=0.0, t_ref=0.0))
    mu = 0.7
    net.add(nw.Projection("src", "det", np.array([0, 300]), np.arange(300), 1e-3, 0.0, "v",
                          mean_photons=np.full(300, mu)))
    r = simulate(net, 1e-5, 1e-9, seed=4, progress=False)
    spikes = int(np.sum(r.spike_index == 0))
    counts = r.detected_photons[1:]
    lam = spikes * mu
    assert counts.mean() == pytest.approx(lam, abs=4 * math.sqrt(lam / 300))
    fano = counts.var(ddof=1) / counts.mean()
    assert abs(fano - 1) < 4 * math.sqrt(2 / 299)


def test_crosstalk_falls_with_pitch():
    neuron = neuron_from_card(illustrative_card())
    ratios = [build_array(ArraySpec(nx=8, ny=8, pitch=p, coupling_radius=3.5 * p), neuron).crosstalk["ratio"]
              for p in (0.6e-6, 1e-6, 2e-6)]
    # with 1/r^2 coupling the unintended/intended ratio depends only on geometry ratios; with
    # attenuation it falls with pitch
    assert ratios[0] > ratios[1] > ratios[2] > 0


def test_same_seed_same_spikes_other_seed_other_spikes():
    spec = ArraySpec(nx=10, ny=10, duration=3e-6, dt=1e-9)
    neuron = neuron_from_card(illustrative_card())
    runs = [simulate(build_array(spec, neuron).network, 3e-6, 1e-9, seed=s, progress=False)
            for s in (1, 1, 2)]
    assert np.array_equal(runs[0].spike_index, runs[1].spike_index)
    assert np.array_equal(runs[0].spike_times, runs[1].spike_times)
    assert not (runs[0].spike_index.size == runs[2].spike_index.size
                and np.array_equal(runs[0].spike_index, runs[2].spike_index)
                and np.array_equal(runs[0].detected_photons, runs[2].detected_photons))


def test_far_field_from_an_emission_result_file(tmp_path):
    import xarray as xr

    angle = np.linspace(0, math.pi / 2, 91)
    pattern = np.vstack([np.sin(angle) ** 2, np.cos(angle) ** 2])  # two gaps, arbitrary scale
    ds = xr.Dataset({"far_field": (("gap", "angle"), pattern * 7.0, {"units": "1/sr"})},
                    coords={"gap": ("gap", [1e-9, 2e-9], {"units": "m"}), "angle": ("angle", angle, {"units": "rad"})})
    path = tmp_path / "emission.nc"
    ds.to_netcdf(path, engine="h5netcdf")
    for gap, ref in ((1e-9, np.sin), (2.2e-9, np.cos)):
        fn = optics.far_field_from_emission(path, gap)
        theta = np.linspace(0, math.pi / 2, 2001)
        assert np.trapezoid(fn(theta) * 2 * math.pi * np.sin(theta), theta) == pytest.approx(1.0, rel=1e-3)
        assert fn(np.array([0.3]))[0] / fn(np.array([0.6]))[0] == pytest.approx(ref(0.3) ** 2 / ref(0.6) ** 2, rel=1e-3)
        assert fn(np.array([2.0]))[0] == 0.0  # no light into the lower half-space the table does not cover


def test_stacked_layers_link_each_neuron_to_the_one_above():
    neuron = neuron_from_card(illustrative_card())
    spec = ArraySpec(nx=4, ny=4, layers=2, pitch=1e-6, layer_spacing=0.5e-6, coupling_radius=1.2e-6)
    arr = build_array(spec, neuron)
    proj = arr.network.projections[0]
    pre = np.repeat(np.arange(32), np.diff(proj.indptr))
    post = proj.indices
    d = arr.positions[post] - arr.positions[pre]
    vertical = (np.hypot(d[:, 0], d[:, 1]) < 1e-12) & np.isclose(np.abs(d[:, 2]), 0.5e-6)
    assert np.all(proj.intended[vertical]) and vertical.sum() == 32  # one partner across the layers each
    inplane = proj.intended & ~vertical
    assert np.all(np.isclose(np.linalg.norm(d[inplane], axis=1), 1e-6))
    # isotropic emitter, 1/r^2 and attenuation: the partner at 0.5 um gets 4 exp(0.5 um / L) times one at 1 um
    expected = 4.0 * math.exp(0.5e-6 / spec.attenuation_length)
    assert proj.mean_photons[vertical].mean() / proj.mean_photons[inplane].mean() == pytest.approx(expected, rel=1e-5)
