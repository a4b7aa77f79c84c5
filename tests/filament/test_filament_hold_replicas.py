"""Replicas of the hold-window study (``sweep_hold_replicas``): holds from states perturbed by an atom per node.

Near its hold the default cell's ON state flickers, and which trajectory a hold takes depends on the last
bits of its state; the replicas sample that spread, and the stage reads the hold from their mean ON share.
Checked here: the perturbation (Ag conserved, an atom's size, seeded, bounds untouched) on the real model,
and the crossing of the mean share and its bootstrap spread on shares whose answers are known.  The study
on the FEM runs in study 09's slow test (``--hold-replicas``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from devicephys.errors import SpecError
from devicephys.filament import extract
from devicephys.filament.spec import FilamentSpec


def test_the_mean_share_crossing_is_interpolated_coming_down_in_bias():
    biases = [0.4, 0.1, 0.3, 0.2]  # any order
    shares = np.array([[1.0, 1.0], [0.0, 0.2], [0.8, 1.0], [0.2, 0.4]])  # means 1, 0.1, 0.9, 0.3
    v, above = extract.share_crossing(biases, shares)
    assert v == pytest.approx(0.2 + (0.5 - 0.3) / (0.9 - 0.3) * 0.1, rel=1e-12) and above == 0.3
    # a dip below 1/2 at a high bias is the crossing met first coming down
    v, above = extract.share_crossing([0.1, 0.2, 0.3], [[1.0], [0.0], [1.0]])
    assert v == pytest.approx(0.25) and above == 0.3


def test_no_crossing_says_where_the_hold_lies():
    v, above = extract.share_crossing([0.1, 0.2], np.ones((2, 3)))
    assert math.isnan(v) and above == 0.1  # held everywhere: the hold lies below the lowest bias
    v, above = extract.share_crossing([0.1, 0.2], np.zeros((2, 3)))
    assert math.isnan(v) and math.isnan(above)  # held nowhere


def test_the_bootstrap_spread_is_zero_for_identical_runs_and_grows_with_their_scatter():
    biases = [0.1, 0.2, 0.3]
    same = np.array([[0.1] * 4, [0.3] * 4, [0.9] * 4])
    spread, found = extract.share_crossing_spread(biases, same)
    assert spread < 1e-15 and found == 1.0  # the same crossing every time (to rounding)
    scattered = np.array([[0.1] * 4, [0.0, 0.2, 0.4, 0.6], [0.9] * 4])
    spread2, _ = extract.share_crossing_spread(biases, scattered)
    assert spread2 > 0.0
    assert extract.share_crossing_spread(biases, scattered) == (spread2, _)  # seeded


def test_replicas_need_the_hold_biases():
    with pytest.raises(SpecError, match="sweep_hold_replicas") as err:
        FilamentSpec(sweep_hold_replicas=3)
    assert err.value.field == "sweep_hold_replicas"
    with pytest.raises(Exception, match="sweep_hold_replicas"):
        FilamentSpec(sweep_hold_biases=[0.3], sweep_hold_replicas=0)


@pytest.mark.fem
def test_the_perturbation_moves_about_an_atom_per_node_and_conserves_silver():
    from devicephys.filament import simulate as sim

    model = sim.CellModel(FilamentSpec.fast())
    z = model.transport.z
    c = np.clip(0.6 - 0.5 * np.abs(z - z.mean()) / (z[-1] - z[0]), 0.0, 1.0)  # a neck-less metal profile
    c[:2] = 0.0  # two bare nodes, below the margin: never moved
    model.c, model.c_i = c.copy(), np.full_like(c, 0.01)
    before = model.transport.mass(model.c_i, model.c, model.c_s)
    atom = model.atom_fraction()
    # one Ag atom (1.7e-29 m^3) in a node of the fast preset's 2 nm channel, 0.5 nm of axis: 0.27 % of it
    assert float(np.median(atom)) == pytest.approx(1.708e-29 / (model.et.medium.channel_area * 0.5e-9), rel=0.02)
    largest = model.perturb_silver(np.random.default_rng((0, 1)))
    delta = model.c - c
    assert model.transport.mass(model.c_i, model.c, model.c_s) == pytest.approx(before, rel=1e-14)
    assert 0.0 < largest <= 6 * atom.max() and np.all(np.abs(delta) <= 6 * atom + 1e-18)
    assert np.sqrt(np.mean((delta[2:] / atom[2:]) ** 2)) == pytest.approx(1.0, abs=0.35)  # about one atom rms
    assert np.all(delta[:2] == 0.0)
    again = c.copy()
    model.c = again
    model.perturb_silver(np.random.default_rng((0, 1)))
    np.testing.assert_array_equal(model.c - c, delta)  # the same seed, the same draw


def test_the_replicas_are_stored_per_bias_and_run_and_plotted(tmp_path):
    import types

    import xarray as xr

    from devicephys.filament.plot import hold_window
    from devicephys.filament.result import add_sweep_hold_study

    names = ("start_on", "ruptures", "rupture_time", "on_fraction", "on_voltage", "temperature_max")
    each = {name: np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]) for name in names}
    each["on_fraction"] = np.array([[0.27, 0.33, 0.31], [1.0, 0.99, 0.99]])
    runs = {name: each[name][:, 0] for name in names} | {f"replica_{n}": each[n] for n in names}
    ds = xr.Dataset()
    add_sweep_hold_study(ds, [0.25, 0.4], runs, 1e-4)
    assert ds["sweep_hold_replica_on_fraction"].dims == ("sweep_hold_bias", "sweep_hold_replica")
    np.testing.assert_array_equal(ds["sweep_hold_replica_on_fraction"].values, each["on_fraction"])
    np.testing.assert_array_equal(ds["sweep_hold_on_fraction"].values, [0.27, 1.0])  # the unperturbed runs
    ds["hold_voltage_ensemble"] = 0.29
    result = types.SimpleNamespace(data=ds, spec=FilamentSpec(sweep_hold_biases=[0.25, 0.4], sweep_hold_replicas=3))
    assert hold_window(result, tmp_path / "hold_window.png").stat().st_size > 10_000
