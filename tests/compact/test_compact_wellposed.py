"""The exported .lib in a designer's own netlists, in ngspice's default settings and across an option matrix.

The .lib is included unchanged (no project ``.options``).  A LIF neuron made of
the threshold switch, a capacitor and a series resistor must fire with the
period of the instant-switch theory, t_c + t_d (``neuron.lif_analytic``; the
circuits have R_on C >> tau_s, where it applies), within the 1 % target in
every cell, with and without a maximum step, never drive the capacitor
negative, and the physical subcircuit's DC operating points must be physical
(gap never below gap_min).  The measured errors are in ``lif_matrix``'s
docstring (at most 0.28 %).
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from devicephys.compact import export_spice, ngspice
import lif_matrix  # the helper module next to this file

pytestmark = [pytest.mark.spice,
              pytest.mark.skipif(shutil.which("ngspice") is None, reason="ngspice is not installed")]

TARGET = 0.01  # the stated period target (relative)


@pytest.fixture(scope="module")
def lib(card, tmp_path_factory):
    return export_spice.write(card, tmp_path_factory.mktemp("lib") / "device.lib")


def _check(card, lib, circuit, method, reltol, max_step):
    m = lif_matrix.run_cell(card, lib, circuit, method, reltol, max_step)
    assert m["spikes"] >= lif_matrix.PERIODS, m
    assert m["voltage_min"] >= 0.0, m  # a passive circuit charged from 0 V never goes negative
    assert m["period_error_max"] < TARGET, m
    return m


# ngspice's defaults (no .options line, no maximum step): every circuit; with a maximum step and
# with tight gear on one (the whole matrix is the slow test below)
DEFAULT_CELLS = [(c, None, None, None) for c in lif_matrix.CIRCUITS] + \
    [(lif_matrix.CIRCUITS[2], None, None, lif_matrix.MAX_STEPS[1]),
     (lif_matrix.CIRCUITS[1], "gear", 1e-6, lif_matrix.MAX_STEPS[1])]


@pytest.mark.parametrize("cell", DEFAULT_CELLS, ids=lambda c: f"{c[0][0]}Vth-{c[1] or 'defaults'}-{'maxstep' if c[3] else 'nomaxstep'}")
def test_lif_period_with_default_and_tight_options(card, lib, cell):
    _check(card, lib, *cell)


def test_lib_needs_no_options_and_carries_its_provenance(card):
    text = export_spice.subcircuit_text(card)
    assert not any(line.lower().startswith(".option") for line in text.splitlines())
    assert f"'{card.name}'" in text.splitlines()[0]
    assert "DeviceCard format 1" in text and "devicephys 0." in text
    card2 = type(card)(card.name, card.parameters, provenance={"filament_result": {"file": "filament.nc",
                                                                                   "sha256": "ab12"}})
    header = export_spice.subcircuit_text(card2).split(".subckt")[0]
    assert "filament_result.file = filament.nc" in header and "filament_result.sha256 = ab12" in header


def test_dc_operating_points_are_physical(card, tmp_path):
    # a source through 1 kOhm, 0..2 x threshold: the gap settles between gap_min and gap_max at every step
    p = card.model_params()
    lib = export_spice.write(card, tmp_path / "dc.lib")
    name, _ = export_spice.subcircuit_names(card)
    run = ngspice.run(ngspice.dc_netlist(lib, name, 1e3, 2.0 * card.value("threshold_voltage"), 0.02),
                      ["v(xdev.nx)", "v(xdev.nt)"])
    x = run.vectors["v(xdev.nx)"]
    gap = p.gap_max - 1e-9 * x
    # to within ngspice's default convergence tolerance on the closure node (reltol |x| + vntol, x in nm)
    tol = 1e-9 * (1e-3 * np.abs(x) + 1e-6)
    assert np.all(gap >= p.gap_min - tol) and np.all(gap <= p.gap_max + tol), (gap.min(), gap.max())
    assert np.all(run.vectors["v(xdev.nt)"] >= -1e-9)  # Joule heating only
    high = run.time >= 0.75
    assert gap[high].min() < p.contact_gap  # it does close (the sweep reaches the bridged state)


@pytest.mark.slow
@pytest.mark.parametrize("cell", lif_matrix.cells(), ids=str)
def test_lif_period_option_matrix(card, lib, cell):
    _check(card, lib, *cell)


def test_a_check_without_events_is_inconclusive_not_passed(card):
    from devicephys.compact import verify

    # a simulated time shorter than the first charge: no spike in either simulator
    m = verify.lif_physical(card, periods=0.05)["metrics"]
    assert m["spikes_numpy"] == m["spikes_ngspice"] == 0
    assert m["verdict"].startswith("inconclusive")
    assert verify.overall({"lif_physical": m, "lif": {"verdict": "passed"}}) != "passed"
    assert verify.verdict(3, 2, [0.0]).startswith("failed") and verify.verdict(2, 2, [0.02]).startswith("failed")
    assert verify.verdict(2, 2, [float("nan")]).startswith("failed") and verify.verdict(2, 2, [0.001]) == "passed"


def test_physical_subcircuit_as_lif_switch_in_default_settings(card, tmp_path):
    # the filament itself across C in a netlist with no .options: it fires as often as in NumPy, the gap
    # stays positive (no unbounded exponential drives it through the floor), the capacitor non-negative
    from devicephys.compact import integrate, neuron

    p, lp, v = card.model_params(), card.latch_params(), card.values()
    c, r_s, v_in = v["neuron_capacitance"], 25 * v["resistance_on"], v["neuron_input_voltage"]
    t_end = 3.5 * 2.5 * neuron.lif_analytic(lp, v_in, r_s, c)["period"]
    lib = export_spice.write(card, tmp_path / "phys.lib")
    name, _ = export_spice.subcircuit_names(card)
    net = "\n".join(["* the filament as LIF switch", f".include {lib}", f"Vin in 0 {v_in!r}", f"Rs in mem {r_s!r}",
                     f"Cm mem 0 {c!r} IC=0", f"Xsw mem 0 opt {name}", f".tran {t_end / 1000!r} {t_end!r} uic"])
    run = ngspice.run(net, ["v(mem)", "v(xsw.nx)"])
    gap = p.gap_max - 1e-9 * run.vectors["v(xsw.nx)"]
    ref = integrate.simulate_lif_physical(p, v_in, r_s, c, t_end)
    fire, release = p.contact_gap, p.contact_gap + 0.5e-9
    fired = len(neuron.blink_spikes(run.time, gap, fire, release))
    assert fired == len(neuron.blink_spikes(ref["time"], ref["gap"], fire, release)) >= 3
    assert gap.min() > 0.5 * p.gap_min and run.vectors["v(mem)"].min() >= 0.0
