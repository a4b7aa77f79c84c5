"""Specification of the compact stage: fit choices and the reference neuron circuit."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import field_validator, model_validator

from devicephys.errors import SpecError
from devicephys.spec import Spec, option, quantity


class MeasuredFiles(Spec):
    """A user's measurements to fit the card to (CSV files; format in docs/measurements.md).

    Paths are relative to the folder the command runs in.
    """

    kind = "measured"

    sweep: str = option(..., "DC sweep CSV: time [s], voltage [V] across the device, current [A], "
                        "optional source_voltage [V]", min_length=1)
    pulses: str | None = option(None, "pulse CSV: voltage [V], set_time [s], optional relaxation_time [s]")
    compliance_current: float | None = quantity(None, "A", "current compliance of the source during the sweep (none: "
                                         "a source through a series resistor); with one, ON and OFF are read by "
                                         "the cell's conductance and the replay limits the current as the FEM's "
                                         "smooth compliance does", gt=0)
    series_resistance: float = quantity(0.0, "Ohm", "resistance in series with the cell during the sweep; 0: read "
                                        "from the load line of the ON samples (needs no compliance)", ge=0)
    cell_capacitance: float | None = quantity(
        None, "F", "capacitance across the cell's terminals during the sweep: the cell's own (eps0 eps_r A / t of "
        "its insulator; the default cell's is 0.094 fF) and whatever the set-up adds there.  The ngspice replay of "
        "the measured drive puts it across the cell, outside the current sense; the NumPy replay is quasi-static "
        "and leaves it out.  None: the FEM cell's own where the pipeline or --from holds a filament result (the "
        "cell the base card describes), else none (the node between the compliance and the cell then has no "
        "capacitance, and ngspice stops at some sets with 'timestep too small' at one maximum step and not at "
        "another)", gt=0)

    @field_validator("sweep", "pulses")
    @classmethod
    def _exists(cls, value: str | None, info) -> str | None:
        if value is not None and not Path(value).is_file():
            raise SpecError(f"CompactSpec.measured.{info.field_name} = {value!r}: no such file; give the path of "
                            "a CSV file (relative to the folder the command runs in)", field=info.field_name)
        return value

    @model_validator(mode="after")
    def _drive(self) -> "MeasuredFiles":
        if self.compliance_current is not None and not self.series_resistance > 0:
            raise SpecError(f"CompactSpec.measured.compliance_current = {self.compliance_current:.6g} A needs the "
                            "resistance in series with the cell (the source's and the leads'): give "
                            "series_resistance (--series-resistance), e.g. 100 Ohm", field="series_resistance")
        return self


class CompactSpec(Spec):
    """How to fit the compact model and which reference LIF neuron to describe.

    The defaults describe the built-in default device; :meth:`fast` shortens
    the ngspice verification run.
    """

    kind = "compact"

    name: str = option("default-device", "name of the device card and of the exported subcircuit", min_length=1,
                       pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$")
    neuron_capacitance: float = quantity(10e-12, "F", "membrane capacitor of the reference LIF neuron", gt=0)
    series_resistance: float = quantity(0.0, "Ohm", "input resistor of the reference LIF neuron; "
                                        "0 = automatic: min(sqrt(R_on R_off), 100 R_on (V_in/V_h - 1))", ge=0)
    input_overdrive: float = option(1.2, "input voltage of the reference spike / threshold voltage [1]", gt=1, le=10)
    floor_width: float = quantity(0.01e-9, "m", "width of the smooth floor of the gap at its minimum "
                                  "(numerical smoothing, not fitted)", gt=0, le=1e-9)
    rupture: Literal["auto", "relaxation", "dissolution"] = option("auto", "how the filament breaks in the card: 'relaxation' (one slow state, the gap "
                          "relaxes exponentially with a time matched to the FEM's self-rupture) or 'dissolution' (a "
                          "second slow state: the oldest stretch of the filament dissolves at the FEM's Gibbs-Thomson "
                          "rate (with FilamentSpec.gibbs_thomson_radius, times the same radius factor: the card's "
                          "capillary_number) and the bridge breaks when it falls below percolation; needs a "
                          "finite-element filament result).  'auto': 'dissolution' where the finite-element filament's dissolved Ag returns in "
                          "the field (FilamentSpec.dissolved_return: the cell has the second slow state and its return), "
                          "'relaxation' otherwise (and for a measured fit, the base card's own)")
    rupture_time_fraction: float = option(1e-4, "duration of a rupture's retraction and reset / self-rupture time "
                                          "[1] (numerical: the rupture is abrupt; with rupture 'dissolution')",
                                          gt=0, le=1e-2)
    thermal_time: Literal["crossing", "moment"] = option(
        "crossing", "which time of the filament's thermal step the card's single thermal pole carries (its "
                    "thermal_capacitance = that time / thermal_resistance): 'crossing' - the time to 1 - 1/e of the rise "
                    "(thermal_time_constant: the first rise); 'moment' - the step's first moment "
                    "(thermal_time_constant_mean: the heat stored over the whole step, each slower component by its "
                    "share, as behind an electrode/substrate interface, FilamentSpec.sink_conductance)")
    latch_width_fraction: float = option(1e-3, "latch smoothing width / (V_th - V_h) [1]", gt=0, le=0.05)
    refine_set_time: bool = option(True, "refit the set-time law by simulating the full model (heating "
                                   "included) instead of only the isothermal closed form")
    verify: bool = option(True, "run the exported netlist in ngspice against the NumPy model")
    verify_pulses: int = option(4, "number of pulses in the ngspice pulse-train check", ge=1, le=100)
    verify_spikes: int = option(5, "number of LIF spikes in the ngspice neuron check", ge=2, le=100)
    measured: MeasuredFiles | None = option(None, "fit to these measurements instead (the FEM/FDTD card, if any, "
                                            "lends the geometry and thermal node); see docs/measurements.md")

    def input_files(self) -> list[str]:
        """The user's data files this spec reads (their contents key the pipeline's cache)."""
        if self.measured is None:
            return []
        return [f for f in (self.measured.sweep, self.measured.pulses) if f]

    @classmethod
    def fast(cls) -> "CompactSpec":
        """Quick preset: shorter ngspice checks."""
        return cls(verify_pulses=3, verify_spikes=3)
