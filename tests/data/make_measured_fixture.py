"""Write the FEM stage's own sweep and set times as 'measured' CSV files, with instrument noise.

Run from the repository root (about 5 min on 2 cores, most of it the FEM)::

    OMP_NUM_THREADS=1 .venv/bin/python tests/data/make_measured_fixture.py

It runs ``devicephys filament --fast`` (or reads ``--filament-nc PATH``), then writes

* ``examples/measured/sweep.csv`` and ``examples/measured/pulses.csv``: the FEM's DC sweep
  (time, cell voltage, current, source voltage) and its set times and self-rupture time, with
  the noise of :data:`NOISE` added (seeded), in the units a lab would write (us, mA, ns);
* ``tests/data/measured_fem_reference.json``: the FEM's own extracted numbers, the noise model,
  the same extraction as from the CSV applied to the noise-free FEM traces (it differs from the
  FEM's own where the FEM classifies by the gap, which a measurement cannot see), and this command;
* ``examples/measured/device_card.json``: the DeviceCard fitted to that FEM result (the base card
  of the measured fit, read by ``--from examples/measured``; its optics come from the toy emission spectrum of
  ``devicephys.compact.synthetic``, which the electrical recovery does not use), and that toy emission
  result as ``examples/measured/emission.nc`` (the measured fit recomputes the optics from it at the
  measured threshold).

``--optics-only`` refits only the example card's optics to the toy spectrum (its electrical part kept).

``--volatile-5mv`` runs the default cell's sweep (fast preset) with its largest step 1/1200 of the sweep, so that the
source moves by at most 5 mV between samples, as a source-measure unit steps it, and writes it with the same noise as
``examples/measured_volatile/sweep_5mV.csv`` and its noise-free trace and FEM numbers as
``tests/data/fem_volatile_sweep_5mV.json`` (about 2 min).
``--volatile`` writes ``examples/measured_volatile/{sweep,pulses}.csv`` instead: the volatile cell's stored
sweep (``tests/data/fem_volatile_filament.json``, ``examples/volatile.yaml``: 10 uA compliance behind
100 Ohm) with the same noise, and nothing else (its base card is ``examples/measured``'s).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

ROOT = Path(__file__).resolve().parents[2]
#: Noise added to the FEM traces (1 sigma): cell voltage [V], current (relative, absolute [A]), set and
#: relaxation times (relative, log-normal: the median of a few repeated pulses).
NOISE = {"voltage_V": 1e-3, "current_relative": 5e-3, "current_floor_A": 1e-12, "time_ln": 0.05, "seed": 2026}
SCALARS = ("threshold_voltage", "hold_voltage", "resistance_on", "resistance_off", "set_time_tau0", "set_time_v0",
           "relaxation_time", "thermal_resistance")


def _fem(path: str | None) -> xr.Dataset:
    if path:
        return xr.load_dataset(path, engine="h5netcdf")
    out = Path(tempfile.mkdtemp(prefix="devicephys-fem-"))
    subprocess.run([sys.executable, "-m", "devicephys", "filament", "--fast", "--quiet", "--out", str(out)], check=True)
    return xr.load_dataset(out / "filament.nc", engine="h5netcdf")


def _write(path: Path, comment: list[str], header: str, rows) -> None:
    lines = [f"# {c}" for c in comment] + [header] + [",".join(r) for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--filament-nc", default=None, help="a filament.nc to use instead of running the FEM")
    ap.add_argument("--optics-only", action="store_true",
                    help="refit only the optics of examples/measured/device_card.json and write emission.nc")
    ap.add_argument("--volatile", action="store_true",
                    help="write examples/measured_volatile/ from tests/data/fem_volatile_filament.json")
    ap.add_argument("--volatile-5mv", action="store_true",
                    help="run the default cell's sweep sampled at <= 5 mV and write examples/measured_volatile/sweep_5mV.csv")
    args = ap.parse_args(argv)
    if args.volatile_5mv:
        return _volatile_5mv()
    if args.optics_only:
        return _optics_only()
    if args.volatile:
        return _volatile()
    ds = _fem(args.filament_nc)
    _noisy(ds, ROOT / "examples/measured",
           ["DC sweep of the devicephys FEM filament stage (fast preset, Ag/PMMA/Ag, 5 kOhm series resistor),",
            "written as a measurement with noise: 1 mV on the cell voltage, 0.5 % + 1 pA on the current.",
            "Made by tests/data/make_measured_fixture.py; not a laboratory measurement."])
    t, v, i, s = (ds[k].values for k in ("time", "voltage", "current", "source_voltage"))
    sv, st = ds["set_voltage"].values, ds["set_time"].values
    sys.path.insert(0, str(ROOT))
    from devicephys.compact import measured

    clean = measured.sweep_parameters(measured.Table(Path("fem"), {"time": t, "voltage": v, "current": i,
                                                                   "source_voltage": s}, np.arange(t.size) + 2, 1))
    ref = {"command": "OMP_NUM_THREADS=1 .venv/bin/python tests/data/make_measured_fixture.py", "noise": NOISE,
           "noise_free_extraction": {k: clean[k] for k in ("threshold_voltage", "hold_voltage", "resistance_on",
                                                                         "resistance_off", "switch_on_conductance")},
           "fem": {k: float(ds[k]) for k in SCALARS}, "fem_set_voltage": sv.tolist(), "fem_set_time": st.tolist(),
           "samples": int(t.size), "filament_spec": json.loads(ds.attrs["spec"])}
    (ROOT / "tests/data/measured_fem_reference.json").write_text(json.dumps(ref, indent=2) + "\n")
    from devicephys.compact import build
    from devicephys.compact.spec import CompactSpec

    card = build.fit_device(ds, toy_emission(), CompactSpec(name="fem-fast", verify=False),
                            {"origin": "FEM filament stage (fast preset), toy emission spectrum for the optics"})
    write_optics(card)
    print("wrote examples/measured/{sweep,pulses}.csv, tests/data/measured_fem_reference.json, "
          "examples/measured/{device_card.json,emission.nc}")
    return 0


def _noisy_sweep(rng, t, v, i, s, path: Path, note: list[str]) -> None:
    """``path``: the sweep (time, cell voltage, current, source voltage) with the sweep noise of :data:`NOISE`."""
    v_m = v + rng.normal(0, NOISE["voltage_V"], v.size)
    i_m = i * (1 + rng.normal(0, NOISE["current_relative"], i.size)) + rng.normal(0, NOISE["current_floor_A"], i.size)
    _write(path, note, "time [us],voltage [V],current [mA],source_voltage [V]",
           [(f"{a * 1e6:.6g}", f"{b:.5g}", f"{c * 1e3:.5g}", f"{d:.6g}") for a, b, c, d in zip(t, v_m, i_m, s)])


def _noisy(ds: xr.Dataset, folder: Path, note: list[str]) -> None:
    """``folder``/sweep.csv and pulses.csv: the FEM's sweep and set times with the noise of :data:`NOISE`."""
    rng = np.random.default_rng(NOISE["seed"])
    t, v, i, s = (ds[k].values for k in ("time", "voltage", "current", "source_voltage"))
    _noisy_sweep(rng, t, v, i, s, folder / "sweep.csv", note)
    sv, st = ds["set_voltage"].values, ds["set_time"].values
    st_m = st * np.exp(rng.normal(0, NOISE["time_ln"], st.size))
    relax = float(ds["relaxation_time"]) * float(np.exp(rng.normal(0, NOISE["time_ln"])))
    k_relax = int(np.argmax(sv))  # the FEM measures self-rupture after the set at its highest voltage
    rows = [(f"{a:.4g}", f"{b * 1e9:.5g}", f"{relax * 1e9:.5g}" if k == k_relax else "") for k, (a, b) in enumerate(zip(sv, st_m))]
    _write(folder / "pulses.csv",
           ["Set times of the same FEM cell under constant voltage (5 % log-normal scatter added) and its",
            "self-rupture time after the last set (empty where not measured). Not a laboratory measurement."],
           "voltage [V],set_time [ns],relaxation_time [ns]", rows)


def _volatile() -> int:
    from make_fem_filament_fixture import load  # its neighbour in tests/data (the script's own folder)

    ds = load(ROOT / "tests/data/fem_volatile_filament.json")
    _noisy(ds, ROOT / "examples/measured_volatile",
           ["DC sweep of the devicephys FEM filament stage's volatile cell (examples/volatile.yaml: Ag/PMMA/Ag,",
            "10 uA compliance behind 100 Ohm), written as a measurement with noise: 1 mV on the cell voltage,",
            "0.5 % + 1 pA on the current. Fit it with --compliance '10 uA' --series-resistance '100 Ohm'",
            "--capacitance '0.094 fF' (the cell's own capacitance, across it in the ngspice replay).",
            "Made by tests/data/make_measured_fixture.py --volatile; not a laboratory measurement."])
    print("wrote examples/measured_volatile/{sweep,pulses}.csv")
    return 0


#: Largest time step of the 5 mV sweep as a fraction of the sweep: the 3 V triangle's source then moves by at most
#: 2 x 3 V / 1200 = 5 mV per sample.
FINE_STEP_FRACTION = 1 / 1200


def _volatile_5mv() -> int:
    sys.path.insert(0, str(ROOT))
    import dolfinx_solver  # noqa: F401  (MPI before DOLFINx)

    from devicephys.filament import extract
    from devicephys.filament import simulate as sim
    from devicephys.filament.spec import FilamentSpec

    spec = FilamentSpec(**{**FilamentSpec.fast().model_dump(), "max_step_fraction": FINE_STEP_FRACTION,
                           "field_snapshots": 0})
    trace = sim.run_sweep(sim.CellModel(spec))
    t, v, i, s, g = (trace.array(k) for k in ("time", "voltage", "current", "source_voltage", "gap"))
    fem = {"threshold_voltage": extract.threshold_voltage(v, g, spec.gap_on),
           "threshold_resolution": extract.threshold_resolution(s, g, spec.gap_on),
           "hold_voltage": extract.hold_voltage(v, g, s, spec.gap_on, spec.gap_rupture),
           "hold_resolution": extract.hold_resolution(s, g, spec.gap_on, spec.gap_rupture),
           "resistance_on": extract.on_off_resistance(v, i, g, spec.gap_on, spec.gap_rupture)[0]}
    ref = {"command": "OMP_NUM_THREADS=1 .venv/bin/python tests/data/make_measured_fixture.py --volatile-5mv",
           "noise": NOISE, "fem": fem, "filament_spec": spec.model_dump(),
           "trace": {"time": t.tolist(), "voltage": v.tolist(), "current": i.tolist(), "source_voltage": s.tolist(),
                     "gap": g.tolist()}}
    (ROOT / "tests/data/fem_volatile_sweep_5mV.json").write_text(json.dumps(ref) + "\n")
    _noisy_sweep(np.random.default_rng(NOISE["seed"]), t, v, i, s, ROOT / "examples/measured_volatile/sweep_5mV.csv",
                 ["DC sweep of the devicephys FEM filament stage's default cell (fast preset, Ag/PMMA/Ag, 10 uA",
                  "compliance behind 100 Ohm) with its largest time step 1/1200 of the sweep, so that the source moves",
                  "by at most 5 mV between samples, written as a measurement with noise: 1 mV on the cell voltage,",
                  "0.5 % + 1 pA on the current. Fit it with --compliance '10 uA' --series-resistance '100 Ohm'",
                  "--capacitance '0.094 fF' (the cell's own capacitance, across it in the ngspice replay).",
                  "Made by tests/data/make_measured_fixture.py --volatile-5mv; not a laboratory measurement."])
    print(f"wrote examples/measured_volatile/sweep_5mV.csv ({t.size} samples) and tests/data/fem_volatile_sweep_5mV.json;"
          f" FEM: {json.dumps(fem)}")
    return 0


def toy_emission() -> xr.Dataset:
    """The toy emission result of the example card (the FEM card fires below 1 V: its light lies in the infrared)."""
    from devicephys.compact import synthetic

    return synthetic.emission_dataset(wavelengths=np.linspace(2e-6, 10e-6, 241), band_scale=9.0)


def write_optics(card) -> None:
    """Write the toy emission result as ``examples/measured/emission.nc`` and ``card`` naming it as its optics' source.

    ``--from examples/measured`` then finds the emission result the card was fitted to, so the measured
    fit recomputes the photon yield and spectrum at the measured operating point.
    """
    import hashlib

    path = ROOT / "examples/measured/emission.nc"
    toy_emission().to_netcdf(path, engine="h5netcdf")
    ds = xr.load_dataset(path, engine="h5netcdf")
    card.provenance["emission_result"] = {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                                          "kind": "?", "synthetic": ds.attrs["synthetic"]}
    card.save(ROOT / "examples/measured/device_card.json")


def _optics_only() -> int:
    sys.path.insert(0, str(ROOT))
    from devicephys.compact import build
    from devicephys.compact.card import DeviceCard
    from devicephys.compact.spec import CompactSpec

    card = DeviceCard.load(ROOT / "examples/measured/device_card.json")
    p = card.model_params()
    neuron = {k: card.values()[k] for k in build.neuron_parameters(p, CompactSpec(name=card.name, verify=False))[0]}
    optics, sigmas, quality, sources, spectrum = build._optics(p, toy_emission(), neuron)
    new = DeviceCard.from_values(card.name, {**card.values(), **optics},
                                 {**{k: e.get("source", "") for k, e in card.parameters.items()}, **sources},
                                 uncertainties={**{k: v for k, v in card.uncertainties.items()}, **sigmas},
                                 provenance=dict(card.provenance), fit_quality={**card.fit_quality, **quality},
                                 spectrum=spectrum)
    write_optics(new)
    print("refitted the optics of examples/measured/device_card.json; wrote examples/measured/emission.nc")
    return 0


if __name__ == "__main__":
    sys.exit(main())
