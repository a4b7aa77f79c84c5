"""The stage contract, the DeviceCard reader, the IDX loader, and bad input."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from devicephys.array import network as nw
from devicephys.array import simulate_array
from devicephys.array.card import illustrative_card, load_card, neuron_from_card
from devicephys.array.mnist import load_mnist, read_idx, write_idx
from devicephys.array.reference import random_wiring
from devicephys.array.result import ArrayResult
from devicephys.array.simulate import estimate_memory, simulate
from devicephys.array.spec import ArraySpec
from devicephys.array.stage import run
from devicephys.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]


def _card(tmp_path, **changes):
    card = illustrative_card().to_dict()
    for k, v in changes.items():
        if v is None:
            del card["parameters"][k]
        else:
            card["parameters"][k]["value"] = v
    folder = tmp_path / "compact"
    folder.mkdir(exist_ok=True)
    (folder / "device_card.json").write_text(json.dumps(card))
    return folder


def test_stage_runs_fast_preset_with_a_card(tmp_path):
    files = run(ArraySpec.fast(), tmp_path / "out", upstream={"compact": _card(tmp_path, photons_per_spike=2.5)},
                progress=False)
    assert set(files) == {"result", "raster", "rates", "photon_map", "link_budget"}
    assert all(Path(p).is_file() and Path(p).stat().st_size > 0 for p in files.values())
    res = ArrayResult.load(files["result"])
    ds = res.data
    assert all("units" in ds[v].attrs for v in list(ds.data_vars) + list(ds.coords))
    assert res.scalar("photons_per_spike") == 2.5  # the card's number, not re-derived
    assert ds["spike_time"].size > 0 and res.scalar("crosstalk_ratio") > 0
    assert res.spec == ArraySpec.fast()
    assert res.scalar("receiver_gain") == 1.0 and res.units("link_margin_db") == "dB"
    assert res.scalar("link_photons_per_spike") == 2.5


def test_simulate_array_is_the_in_memory_entry_point():
    card = illustrative_card()
    res = simulate_array(ArraySpec(nx=6, ny=6, layers=2, duration_scales=10), card)
    assert isinstance(res, ArrayResult) and res.data["rate"].size == 72
    assert res.data.attrs["device_card"] == card.name and res.data.attrs["card_origin"] == "illustrative"
    assert res.data.attrs["link_verdict"].startswith("photons cannot carry a spike with this device")
    assert res.scalar("vertical_link_distance") == pytest.approx(0.5e-6)
    # nearer partner above: more photoelectrons than the in-plane neighbour at 1 um
    assert res.scalar("vertical_link_photoelectrons") > res.scalar("link_photoelectrons")


def test_stage_standalone_uses_builtin_card_and_says_so(tmp_path, capfd, monkeypatch):
    from devicephys.array import card as card_module

    monkeypatch.setattr(card_module, "_told", False)
    files = run(ArraySpec(nx=6, ny=6, duration_scales=10), tmp_path, upstream={}, progress=False)
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ILLUSTRATIVE" in err[0]
    assert ArrayResult.load(files["result"]).data.attrs["device_card"] == illustrative_card().name


def test_cli_bad_spec_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "a.yaml"
    bad.write_text("pitch: -1 um\n")
    out = subprocess.run([sys.executable, "-m", "devicephys", "array", str(bad), "--out", str(tmp_path / "o"),
                          "--from", str(tmp_path)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "pitch" in out.stderr


def test_cli_refuses_a_card_the_compact_validator_refuses(tmp_path):
    _card(tmp_path, gap_min=None)
    spec = tmp_path / "array.yaml"
    spec.write_text("nx: 4\nny: 4\nduration_scales: 5\n")
    out = subprocess.run([sys.executable, "-m", "devicephys", "array", str(spec), "--out", str(tmp_path / "o"),
                          "--from", str(tmp_path), "--quiet"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "gap_min" in out.stderr


@pytest.mark.parametrize("changes,word", [({"hold_voltage": 1.5}, "hold_voltage"),
                                          ({"neuron_capacitance": -1e-12}, "neuron_capacitance"),
                                          ({"set_time_v0": None}, "set_time_v0")])
def test_bad_cards_are_refused_with_the_parameter_named(tmp_path, changes, word):
    folder = _card(tmp_path, **changes)
    with pytest.raises(SpecError, match=word):
        neuron_from_card(load_card(folder / "device_card.json"))


@pytest.mark.parametrize("kwargs,word", [(dict(dt=1e-3, duration=1e-4), "dt"), (dict(stimulus_fraction=2), "stimulus"),
                                         (dict(detector_area=2e-12), "detector_area"), (dict(nx=0), "nx"),
                                         (dict(far_field="emission"), "emission_file"),
                                         (dict(absorber_thickness=-1e-6), "absorber_thickness"),
                                         (dict(carrier_lifetime=1.0), "carrier_lifetime"),
                                         (dict(receiver="photoconductor", electrode_gap=1e-6), "electrode_gap"),
                                         (dict(receiver_material="indium"), "receiver_material")])
def test_bad_specs(kwargs, word):
    with pytest.raises(SpecError, match=word):
        ArraySpec(**kwargs)


def test_inconsistent_shapes_are_refused():
    with pytest.raises(SpecError, match="indptr"):
        nw.Projection("a", "a", np.array([0, 2]), np.array([0]), 1.0)
    with pytest.raises(SpecError, match="weights"):
        nw.Projection("a", "a", np.array([0, 2]), np.array([0, 1]), np.ones(3))
    with pytest.raises(SpecError, match="v_rest"):
        nw.lif_cuba("a", 3, tau_m=1e-2, v_rest=np.zeros(4), v_th=1.0, v_reset=0.0, t_ref=0.0)
    with pytest.raises(SpecError, match="tau_m"):
        nw.lif_cuba("a", 3, tau_m=-1e-2, v_rest=0.0, v_th=1.0, v_reset=0.0, t_ref=0.0)
    net = nw.Network()
    net.add(nw.lif_cuba("a", 2, tau_m=1e-2, v_rest=0.0, v_th=1.0, v_reset=0.0, t_ref=0.0))
    with pytest.raises(SpecError, match="rows"):
        net.add(nw.Projection("a", "a", np.array([0, 1, 1, 1]), np.array([0]), 1.0))
    with pytest.raises(SpecError, match="outside"):
        net.add(nw.Projection("a", "a", np.array([0, 1, 1]), np.array([5]), 1.0))
    with pytest.raises(SpecError, match="dt"):
        simulate(net, 1e-3, 0.0, progress=False)


def test_too_large_network_is_refused_with_the_estimate():
    need = estimate_memory(10**6, 10**11)
    assert need > 1e12
    with pytest.raises(SpecError, match=r"needs about [0-9.]+ GiB"):
        random_wiring(10**6, 10**6, 0.1, 0)
    net = nw.Network()
    net.add(nw.lif_cuba("a", 1000, tau_m=1e-2, v_rest=0.0, v_th=1.0, v_reset=0.0, t_ref=0.0))
    with pytest.raises(SpecError, match="GiB"):
        simulate(net, 1e-3, 1e-4, progress=False, memory_limit=10_000)


def test_idx_round_trip_and_mnist_loader(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    write_idx(tmp_path / "img.idx", images)
    write_idx(tmp_path / "lab.idx", labels)
    assert np.array_equal(read_idx(tmp_path / "img.idx"), images)
    raw = (tmp_path / "img.idx").read_bytes()
    assert raw[:4] == bytes([0, 0, 8, 3]) and int.from_bytes(raw[4:8], "big") == 5
    x, y = load_mnist(tmp_path / "img.idx", tmp_path / "lab.idx", downsample=4)
    assert x.shape == (5, 49) and y.tolist() == [3, 1, 4, 1, 5] and 0 <= x.min() and x.max() <= 1
    assert np.isclose(x[0, 0] * 255, images[0, :4, :4].mean())
    (tmp_path / "bad.idx").write_bytes(raw[:-3])
    with pytest.raises(SpecError, match="damaged"):
        read_idx(tmp_path / "bad.idx")
    with pytest.raises(SpecError, match="does not exist"):
        read_idx(tmp_path / "nope.idx")


def test_study_fast_mode_reaches_its_stated_target(tmp_path):
    """MNIST subset: with plentiful photons the hardware-in-the-loop network is within 3 binomial standard
    errors of the ideal network; with the card's own photon budget it is written down, whatever it is."""
    out = subprocess.run([sys.executable, str(ROOT / "studies" / "04_photonic_network_classification.py"), "--fast",
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "CHECK passed" in out.stdout and (tmp_path / "accuracy_vs_pitch.png").is_file()
    rows = json.loads((tmp_path / "accuracy.json").read_text())
    assert {"pitch", "photons_per_spike", "accuracy", "ideal_accuracy", "layer_spacing"} <= set(rows[0])
    top = next(r for r in rows if r["pitch"] == 1e-6 and r["photons_from"] == "override")
    p, n = top["ideal_accuracy"], top["n_test"]
    assert n == 600 and p > 0.8
    assert top["accuracy"] >= p - 3 * math.sqrt(p * (1 - p) / n)
    card_row = next(r for r in rows if r["pitch"] == 1e-6 and r["photons_from"] == "card")
    assert card_row["photons_per_spike"] == pytest.approx(illustrative_card().value("photons_per_spike"))


def test_cli_runs_the_fast_preset_from_a_compact_folder(tmp_path):
    folder = _card(tmp_path)
    spec = tmp_path / "array.yaml"
    spec.write_text("nx: 8\nny: 8\nduration_scales: 20\npitch: 1.5 um\n")
    out = subprocess.run([sys.executable, "-m", "devicephys", "array", str(spec), "--out", str(tmp_path / "o"),
                          "--from", str(tmp_path), "--quiet"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    res = ArrayResult.load(tmp_path / "o" / "array.nc")
    assert res.spec.pitch == pytest.approx(1.5e-6) and res.data["rate"].size == 64
    assert folder.is_dir() and (tmp_path / "o" / "photon_map.png").is_file()


def test_memory_estimate_matches_what_the_simulator_allocates():
    import tracemalloc

    from devicephys.array import reference as ref
    from devicephys.array import simulate as sm

    net = ref.coba(20000, seed=0, out_degree=100, keep_pairs=False).network
    sm.simulate(net, 1e-3, 1e-4, progress=False)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        sm.simulate(net, 2e-3, 1e-4, progress=False)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    est = sm.estimate_memory(net.n_neurons, net.n_synapses, spike_capacity=max(4 * net.n_neurons, 1 << 16),
                             largest_projection=max(p.n_synapses for p in net.projections))
    assert 0.95 * peak <= est <= 1.5 * peak


def test_study_runs_on_user_supplied_mnist_idx_files(tmp_path):
    """The study's MNIST path on a small synthetic IDX pair: two classes (bright top / bright bottom)."""
    rng = np.random.default_rng(1)
    n = 200
    labels = rng.integers(0, 2, n).astype(np.uint8)
    images = rng.integers(0, 40, size=(n, 28, 28)).astype(np.uint8)
    for k in range(n):
        rows = slice(0, 14) if labels[k] == 0 else slice(14, 28)
        images[k, rows] += 180
    write_idx(tmp_path / "img.idx", images)
    write_idx(tmp_path / "lab.idx", labels)
    out = subprocess.run([sys.executable, str(ROOT / "studies" / "04_photonic_network_classification.py"), "--fast",
                          "--mnist", str(tmp_path / "img.idx"), str(tmp_path / "lab.idx"), "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "CHECK passed" in out.stdout


def test_too_large_array_is_refused_before_building(tmp_path):
    with pytest.raises(SpecError, match=r"building 16777216 neurons .* needs about [0-9.]+ GiB"):
        run(ArraySpec(nx=4096, ny=4096, coupling_radius=20e-6, memory_limit=8e9), tmp_path, upstream={},
            progress=False)
