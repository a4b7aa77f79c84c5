"""ArraySpec: a grid of photonically linked device neurons and its optics."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import model_validator

from devicephys.errors import SpecError
from devicephys.spec import Spec, option, quantity


class ArraySpec(Spec):
    """A 2-D array (or stacked 3-D layers) of blinking neurons that talk through photons.

    Neuron parameters come from the DeviceCard of the compact stage (or the
    built-in illustrative card when the stage runs alone).  A random fraction
    of the neurons is driven above threshold (``drive_level`` times the
    card's firing voltage); the others sit below it (``bias_level``) and fire
    only when the photocurrent from their neighbours' spikes pushes them over.
    Time step and run length default to fractions and multiples of the
    card's time scale min(R_s C, relaxation time), so any card gives a
    sensible run.
    """

    kind = "array"

    neuron_model: Literal["blinking", "threshold_switch"] = option(
        "blinking", "device neuron: filament-integrating 'blinking' neuron or threshold-switch LIF")
    membrane: Literal["card", "relaxation"] = option(
        "card", "membrane time constant R_s C of the array neurons: the card's LIF series resistor ('card'), or "
        "R_s = relaxation_time / C ('relaxation': the capacitor integrates photon kicks over the filament's "
        "relaxation window)")
    nx: int = option(32, "neurons along x", ge=1, le=4096)
    ny: int = option(32, "neurons along y", ge=1, le=4096)
    layers: int = option(1, "stacked layers (3-D array)", ge=1, le=64)
    pitch: float = quantity(1.0e-6, "m", "in-plane distance between neighbouring neurons", gt=0)
    layer_spacing: float = quantity(0.5e-6, "m", "vertical distance between stacked layers", gt=0)
    coupling_radius: float = quantity(3.0e-6, "m", "optical links farther than this are neglected", gt=0)
    far_field: Literal["isotropic", "vertical_dipole", "emission"] = option(
        "isotropic", "emitter far-field pattern: isotropic, vertical point dipole, or the EmissionResult's")
    emission_file: Optional[str] = option(None, "emission.nc to take the far field from (far_field = 'emission')")
    detector_area: float = quantity(2.5e-13, "m^2", "area of one photodetecting synapse", gt=0)
    detector_absorption: float = quantity(0.5, "1", "fraction of incident photons absorbed", gt=0, le=1)
    detector_quantum_efficiency: float = quantity(0.8, "1", "photoelectrons per absorbed photon below the cutoff",
                                                  gt=0, le=1)
    detector_cutoff_wavelength: float = quantity(1.1e-6, "m", "detector band edge (Si: 1.1 um)", gt=0)
    detector_gain: float = quantity(1.0e6, "1", "photoconductive gain: electrons injected per photoelectron", gt=0)
    attenuation_length: float = quantity(5.0e-5, "m", "1/e attenuation length of light in the medium", gt=0)
    photons_per_spike: Optional[float] = quantity(None, "1", "override of the card's photons per spike", gt=0)
    drive_level: float = quantity(1.3, "1", "source voltage of stimulated neurons / card firing voltage", gt=1)
    bias_level: float = quantity(0.87, "1", "source voltage of the other neurons / card firing voltage", ge=0, lt=1)
    stimulus_fraction: float = quantity(0.05, "1", "fraction of neurons driven at drive_level", ge=0, le=1)
    duration: Optional[float] = quantity(None, "s", "simulated time (default: duration_scales x card time scale)",
                                         gt=0)
    duration_scales: float = quantity(200.0, "1", "default run length in card time scales", gt=0)
    dt: Optional[float] = quantity(None, "s", "time step (default: card time scale / 100)", gt=0)
    seed: int = option(0, "random seed (stimulus choice and photon draws)", ge=0)
    n_traces: int = option(8, "neurons whose v and filament state are recorded", ge=0, le=1000)
    memory_limit: Optional[float] = quantity(None, "B", "memory the run may use (default: what is available)", gt=0)
    digits_test_samples: int = option(
        300, "test digits classified by the photonic network at this pitch and photon budget (0: skip)", ge=0, le=1797)
    digits_photons_per_spike: Optional[float] = quantity(
        None, "1", "photons per spike for the digits task (default: the array's)", gt=0)

    @model_validator(mode="after")
    def _check(self) -> "ArraySpec":
        if self.dt is not None and self.duration is not None and self.dt >= self.duration:
            raise SpecError(f"ArraySpec.dt = {self.dt} s must be < duration = {self.duration} s; "
                            f"shorten dt or lengthen the run", field="dt")
        if self.coupling_radius < self.pitch and self.nx * self.ny > 1:
            raise SpecError(f"ArraySpec.coupling_radius = {self.coupling_radius} m is below the pitch "
                            f"{self.pitch} m, so no neighbours couple; give a radius >= pitch", field="coupling_radius")
        if self.far_field == "emission" and not self.emission_file:
            raise SpecError("ArraySpec.emission_file is required when far_field = 'emission'; give the path of "
                            "an emission.nc or choose 'isotropic'", field="emission_file")
        if self.detector_area >= self.pitch**2 and self.nx * self.ny > 1:
            raise SpecError(f"ArraySpec.detector_area = {self.detector_area} m^2 must be < pitch^2 = {self.pitch**2} "
                            f"m^2 (detectors of neighbours would overlap); shrink it", field="detector_area")
        return self

    @classmethod
    def fast(cls) -> "ArraySpec":
        """Quick preset: a 16 x 16 array for 50 card time scales."""
        return cls(nx=16, ny=16, duration_scales=50.0, n_traces=4, digits_test_samples=60)

    def timing(self, time_scale: float) -> tuple[float, float]:
        """(duration, dt) [s]: the given values or the defaults for a card with ``time_scale`` [s]."""
        dt = self.dt if self.dt is not None else time_scale / 100.0
        duration = self.duration if self.duration is not None else self.duration_scales * time_scale
        if dt >= duration:
            raise SpecError(f"ArraySpec: dt = {dt} s must be < duration = {duration} s; shorten dt or lengthen "
                            f"the run", field="dt")
        return duration, dt
