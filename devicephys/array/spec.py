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
    Each neuron's photodetecting synapse is a physical receiver (``receiver``,
    ``receiver_material`` and the fields after them; see
    :mod:`devicephys.array.receiver`): its gain, capacitance, dark current and
    the link budget are outputs, not settings.  Time step and run length default to fractions and multiples of the
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
    receiver: Literal["photodiode", "photoconductor"] = option(
        "photodiode", "photodetecting synapse: p-i-n photodiode (gain 1) or photoconductor (gain tau_c/tau_tr)")
    receiver_material: Literal["germanium", "silicon"] = option(
        "germanium", "absorbing semiconductor of the detector (optical constants: Nunley 2016 / Schinke 2015)")
    absorber_thickness: float = quantity(1.0e-6, "m", "absorbing (intrinsic) layer thickness of the detector",
                                         gt=0, le=1e-4)
    collection_efficiency: float = quantity(1.0, "1", "fraction of photogenerated pairs collected (depleted "
                                            "layer: ~1, Saleh & Teich sec. 18.1)", gt=0, le=1)
    medium_index: float = quantity(1.49, "1", "refractive index of the medium light crosses (PMMA 1.49)", ge=1, le=5)
    generation_lifetime: float = quantity(1.0e-6, "s", "generation lifetime of the photodiode's depleted layer "
                                          "(dark current; Ge-on-Si ~0.1-10 mA/cm^2, Michel et al., Nat. Photon. 4, "
                                          "527 (2010))", gt=1e-12, le=1.0)
    receiver_bias: float = quantity(1.0, "V", "detector bias (photoconductor V_b; photodiode reverse bias)",
                                    gt=0, le=20)
    electrode_gap: float = quantity(0.5e-6, "m", "photoconductor contact spacing L", gt=1e-8, le=1e-4)
    carrier_lifetime: float = quantity(1.0e-9, "s", "photoconductor carrier lifetime tau_c (Ge-on-Si films: ns, "
                                       "Geiger et al., Appl. Phys. Lett. 104, 062106 (2014))", gt=1e-13, le=1e-2)
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
        if self.receiver == "photoconductor" and self.electrode_gap**2 > self.detector_area:
            raise SpecError(f"ArraySpec.electrode_gap = {self.electrode_gap} m exceeds sqrt(detector_area) = "
                            f"{self.detector_area**0.5:.3g} m; the photoconductor's contacts must fit on the "
                            f"detector: shrink electrode_gap", field="electrode_gap")
        return self

    @classmethod
    def fast(cls) -> "ArraySpec":
        """Quick preset: a 16 x 16 array for 50 card time scales."""
        return cls(nx=16, ny=16, duration_scales=50.0, n_traces=4)

    def timing(self, time_scale: float) -> tuple[float, float]:
        """(duration, dt) [s]: the given values or the defaults for a card with ``time_scale`` [s]."""
        dt = self.dt if self.dt is not None else time_scale / 100.0
        duration = self.duration if self.duration is not None else self.duration_scales * time_scale
        if dt >= duration:
            raise SpecError(f"ArraySpec: dt = {dt} s must be < duration = {duration} s; shorten dt or lengthen "
                            f"the run", field="dt")
        return duration, dt
