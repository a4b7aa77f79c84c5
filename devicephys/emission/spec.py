"""EmissionSpec: the tip–gap device, the sweeps and the FDTD settings of stage 2.

Importing this module does not import MEEP.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import field_validator, model_validator

from devicephys import materials
from devicephys.emission import metals
from devicephys.emission.fem.spec import QCM_MIN_GAP
from devicephys.errors import SpecError
from devicephys.spec import Spec, option, quantity
from devicephys.units import UnitError, parse_quantity

#: Minimum number of grid cells across an FDTD gap.
MIN_GAP_CELLS = 5


class EmissionSpec(Spec):
    """Plasmonic gap emission of a filament tip facing a planar counter electrode.

    Geometry: a metal tip of radius ``tip_radius`` (hemispherical apex) at
    distance ``gap`` from a finite counter-electrode disk, both embedded in the
    insulator.  With ``engine: fdtd``, FDTD (MEEP, cylindrical m = 0) runs at
    ``fdtd_gaps`` and the dense gap sweep ``gap_min``..``gap_max`` uses the fast
    gap-plasmon model calibrated on those runs; with ``engine: fem``, the
    frequency-domain FEM (:mod:`devicephys.emission.fem_sweep`) solves every gap
    of a geometric sweep at every wavelength, on the device's own stack
    (:mod:`devicephys.geometry`) when a filament result is given.  Lengths [m],
    energies [J], temperatures [K].
    """

    kind = "emission"

    engine: Literal["fdtd", "fem"] = option("fdtd", "fdtd: MEEP runs at fdtd_gaps and the fast model over the dense sweep; fem: "
                                            "the frequency-domain FEM solves every gap and wavelength of the sweep (geometric "
                                            "gap grid), on the device's own stack when a filament result is given")
    fem_quantum_corrected: bool = option(True, "engine fem: fill the gap with the quantum-corrected tunnelling medium "
                                               "(Esteban et al., Nat. Commun. 3, 825 (2012))")
    fem_points_per_wavelength: float = option(8.0, "engine fem: P2 elements per dielectric wavelength far from the gap", ge=3, le=100)
    tip_metal: Literal["Ag", "Au", "Pt"] = option("Ag", "metal of the filament tip")
    counter_metal: Literal["Ag", "Au", "Pt"] = option("Ag", "metal of the counter electrode")
    insulator: str = option("PMMA", "insulator name in devicephys.materials (gives the refractive index)")
    tip_shape: Literal["cylinder", "cone"] = option("cylinder", "shape of the tip above its hemispherical apex")
    cone_half_angle: float = quantity(0.35, "rad", "half opening angle of a conical tip", gt=0, lt=1.2)
    tip_radius: float = quantity(10e-9, "m", "apex (and rod) radius of the tip; replaced by the filament radius when a filament result is given", gt=0)
    tip_length: float = quantity(30e-9, "m", "length of the modelled tip including the apex", gt=0)
    counter_radius: float = quantity(40e-9, "m", "radius of the finite counter-electrode disk", gt=0)
    counter_thickness: float = quantity(20e-9, "m", "thickness of the counter-electrode disk", gt=0)

    fdtd_gaps: tuple[float, ...] = quantity((5e-9, 7e-9, 10e-9, 15e-9), "m", "gaps simulated with FDTD (each >= 5 grid cells)")
    gap_min: float = quantity(0.5e-9, "m", "smallest gap of the dense (fast-model) sweep", gt=0)
    gap_max: float = quantity(5e-9, "m", "largest gap of the dense (fast-model) sweep", gt=0)
    gap_count: int = option(46, "number of gaps in the dense sweep", ge=2, le=10000)
    bias_min: float = quantity(1.0, "V", "smallest bias of the sweep", gt=0)
    bias_max: float = quantity(3.0, "V", "largest bias of the sweep", gt=0)
    bias_count: int = option(5, "number of biases", ge=1, le=1000)
    wavelength_min: float = quantity(450e-9, "m", "shortest vacuum wavelength", gt=0)
    wavelength_max: float = quantity(1000e-9, "m", "longest vacuum wavelength", gt=0)
    wavelength_count: int = option(56, "number of wavelengths", ge=8, le=2000)
    wavelength_band_min: float = quantity(0.0, "m", "engine fem: start of a band of extra wavelengths merged into the grid, "
                                                    "e.g. just below the photon cutoff hc/(e V) at the operating bias", ge=0)
    wavelength_band_max: float = quantity(0.0, "m", "engine fem: end of the band of extra wavelengths", ge=0)
    wavelength_band_count: int = option(0, "engine fem: number of extra wavelengths, evenly spaced over the band (0: none)",
                                        ge=0, le=2000)
    fem_wavelength_ratio: float = option(2.0, "engine fem: largest ratio of the longest to the shortest wavelength solved on "
                                              "one mesh; a wider window is solved band by band, each band meshed for its own "
                                              "wavelengths (domain and PML from its longest, far mesh from its shortest)", ge=1.0)
    angle_count: int = option(19, "number of polar angles of the far-field pattern (0..pi)", ge=3, le=721)

    temperature: float = quantity(300.0, "K", "lattice/electron temperature of the inelastic-tunnelling spectrum", ge=0)
    hot_electron_temperature: float = quantity(2000.0, "K", "effective temperature of hot-electron (overbias) emission", gt=0)
    hot_electron_weight: float = quantity(0.0, "1", "strength of hot-electron emission relative to inelastic tunnelling (0: off)", ge=0)
    defect_band_energy: float = quantity(1.8 * 1.602176634e-19, "J", "centre photon energy of the phenomenological defect/cluster band", gt=0)
    defect_band_width: float = quantity(0.3 * 1.602176634e-19, "J", "FWHM in photon energy of the defect/cluster band", gt=0)
    defect_band_efficiency: float = quantity(0.0, "1", "photons per electron in the defect/cluster band (0: off)", ge=0)

    grid_step: float = quantity(1e-9, "m", "FDTD grid step (MEEP resolution = 1/grid_step)", gt=0)
    refine_narrow_gaps: bool = option(False, "run each FDTD gap narrower than 5 grid_step on its own finer grid, gap / n with n "
                                      "the smallest even number >= 5 (faces and dipole on grid points); its cost grows "
                                      "about as (grid_step / its step)^3")
    pml_thickness: float = quantity(100e-9, "m", "PML thickness", gt=0)
    padding: float = quantity(10e-9, "m", "insulator between the device and the radiation flux box / PML", gt=0)
    min_run_time: float = quantity(40e-15, "s", "minimum FDTD run time after the source (metal Drude memory)", gt=0)
    field_decay: float = quantity(1e-6, "1", "stop when |Ez|^2 at the probe has decayed by this factor", gt=0, lt=1)
    power_check_tolerance: float = quantity(0.2, "1", "allowed band-median relative mismatch of total power from the LDOS and from the flux box", gt=0)
    use_filament: bool = option(True, "take tip radius and operating gap from the filament result when one is given")
    executor: Literal["process", "thread", "serial"] = option("process", "concurrent.futures executor of the gap sweep")
    workers: int = option(2, "number of parallel workers of the sweep", ge=1, le=256)

    @field_validator("fdtd_gaps", mode="before")
    @classmethod
    def _parse_gaps(cls, value):
        if isinstance(value, (str, int, float)):
            value = [value]
        try:
            return tuple(parse_quantity(v, "m") for v in value)
        except (UnitError, TypeError) as exc:
            raise SpecError(f"EmissionSpec.fdtd_gaps = {value!r}: {exc}; give a list like ['5 nm', '10 nm']",
                            field="fdtd_gaps") from None

    @model_validator(mode="after")
    def _check(self) -> "EmissionSpec":
        _order(self, "gap_min", "gap_max")
        _order(self, "bias_min", "bias_max")
        _order(self, "wavelength_min", "wavelength_max")
        for metal in {self.tip_metal, self.counter_metal}:
            metals.check_range(metal, self.wavelength_min, self.wavelength_max, field="wavelength_min/wavelength_max")
        if materials.get(self.insulator).kind != "insulator":
            raise SpecError(f"EmissionSpec.insulator = {self.insulator!r} is not an insulator; choose one of "
                            f"{materials.names('insulator')}", field="insulator")
        _check_index_range(self)
        _check_band(self)
        if not self.fdtd_gaps:
            raise SpecError("EmissionSpec.fdtd_gaps is empty; give at least one gap for the FDTD runs", field="fdtd_gaps")
        for gap in self.fdtd_gaps:
            check_gap_cells(gap, self.grid_step_for(gap))
        if self.engine == "fem" and self.fem_quantum_corrected and self.gap_min < QCM_MIN_GAP:
            raise SpecError(f"EmissionSpec.gap_min = {self.gap_min!r} m is below the quantum-corrected model's validity "
                            f"({QCM_MIN_GAP:.1g} m: the electrodes touch); use gap_min >= {QCM_MIN_GAP:.1g} m", field="gap_min")
        return self

    @classmethod
    def device(cls, base: "EmissionSpec | None" = None) -> "EmissionSpec":
        """Preset of the device's operating point (:data:`DEVICE_PRESET`): the FEM on the filament's own stack.

        ``base`` (default: the full preset) supplies the fields the device preset leaves alone; the
        pipeline applies the preset the same way on its fast or full preset.
        """
        return cls.from_dict({**(base or cls()).to_dict(), **DEVICE_PRESET})

    def grid_step_for(self, gap: float) -> float:
        """FDTD grid step [m] of the run at ``gap`` [m]: ``grid_step``, or finer for a narrow gap when refining."""
        return gap_grid_step(gap, self.grid_step) if self.refine_narrow_gaps else self.grid_step

    @property
    def insulator_index(self) -> float:
        """Refractive index of the insulator [1] (devicephys.materials)."""
        return materials.get(self.insulator)["refractive_index"]

    @classmethod
    def fast(cls) -> "EmissionSpec":
        """Quick preset: two FDTD gaps on a 2 nm grid, 450-850 nm (its thin PML is poor beyond); about half a minute."""
        return cls(fdtd_gaps=(10e-9, 16e-9), grid_step=2e-9, pml_thickness=60e-9, wavelength_max=850e-9, wavelength_count=21,
                   gap_count=19, bias_count=3, angle_count=13)


#: The device's operating point: FEM (quantum-corrected) on the filament's stack at 0.2-3 nm, 450-3000 nm
#: (the window reaches hc/(e V) for V >= 0.41 V; 3 um is the PMMA index's limit, materials.PMMA-IR), with a
#: band of 30 nm steps over 1.4-2.8 um: at a threshold bias of 0.75-0.85 V (cutoff 1.65-1.46 um) the spectrum
#: runs from the cutoff to its half maximum near 2.5 um, as the gap resonance's radiation resistance falls
#: (about lambda^-4).  Each wavelength band of ratio <= 2 gets its own mesh.  The pipeline applies it.
DEVICE_PRESET = {"engine": "fem", "use_filament": True, "gap_min": 0.2e-9, "gap_max": 3e-9, "gap_count": 5,
                 "wavelength_min": 450e-9, "wavelength_max": 3000e-9, "wavelength_count": 24,
                 "wavelength_band_min": 1400e-9, "wavelength_band_max": 2800e-9, "wavelength_band_count": 47,
                 "bias_min": 0.5, "bias_max": 3.0, "bias_count": 6, "fem_points_per_wavelength": 6.0}


def _resolved(gap: float, grid_step: float) -> bool:
    """True if ``gap`` [m] spans at least MIN_GAP_CELLS grid steps ``grid_step`` [m] (to rounding)."""
    return gap >= MIN_GAP_CELLS * grid_step * (1 - 1e-9)


def gap_grid_step(gap: float, grid_step: float) -> float:
    """Grid step [m] for ``gap`` [m]: ``grid_step`` [m] if the gap spans >= MIN_GAP_CELLS of it, else gap / n.

    n is the smallest even whole number >= MIN_GAP_CELLS (and >= gap / grid_step), so both metal faces and
    the mid-gap dipole lie on grid points.  A 3 nm gap with a 1 nm default runs at 0.5 nm (6 cells).
    """
    if _resolved(gap, grid_step):
        return grid_step
    n = max(MIN_GAP_CELLS, math.ceil(gap / grid_step - 1e-9))
    n += n % 2
    return gap / n


def check_gap_cells(gap: float, grid_step: float) -> None:
    """SpecError unless ``gap`` [m] spans >= MIN_GAP_CELLS grid steps ``grid_step`` [m]."""
    if gap <= 0:
        raise SpecError(f"EmissionSpec.fdtd_gaps must be > 0 m, got {gap!r}; give positive gaps", field="fdtd_gaps")
    if not _resolved(gap, grid_step):
        need = gap / MIN_GAP_CELLS
        raise SpecError(f"EmissionSpec.fdtd_gaps: gap {gap * 1e9:.2f} nm spans only {gap / grid_step:.1f} grid cells at "
                        f"grid_step {grid_step * 1e9:.2f} nm; FDTD needs >= {MIN_GAP_CELLS} cells across the gap: set "
                        f"grid_step <= {need * 1e9:.3f} nm (MEEP resolution >= {1e-6 / need:.0f} px/um), set refine_narrow_gaps: true "
                        f"(that gap alone on a finer grid) or use a wider gap",
                        field="fdtd_gaps")


def _check_index_range(spec: "EmissionSpec") -> None:
    """SpecError if ``wavelength_max`` leaves the range where the insulator's constant refractive index holds."""
    mat = materials.get(spec.insulator)
    if "index_wavelength_max" not in mat.properties:
        return
    top = mat["index_wavelength_max"]
    if spec.wavelength_max > top * (1 + 1e-9):
        raise SpecError(f"EmissionSpec.wavelength_max = {spec.wavelength_max!r} m is beyond {top:.3g} m, the longest wavelength "
                        f"at which {spec.insulator}'s constant refractive index holds ({mat.source('index_wavelength_max')}); "
                        f"use wavelength_max <= {top:.3g} m", field="wavelength_max")


def _check_band(spec: "EmissionSpec") -> None:
    """SpecError unless the band of extra wavelengths is empty or a FEM band inside the window."""
    if spec.wavelength_band_count == 0:
        return
    if spec.engine != "fem":
        raise SpecError(f"EmissionSpec.wavelength_band_count = {spec.wavelength_band_count}: a band of extra wavelengths "
                        "needs engine: fem (FDTD's frequency monitors are evenly spaced); set wavelength_band_count: 0 "
                        "or engine: fem", field="wavelength_band_count")
    lo, hi = spec.wavelength_band_min, spec.wavelength_band_max
    if not spec.wavelength_min <= lo < hi <= spec.wavelength_max:
        raise SpecError(f"EmissionSpec.wavelength_band_min/max = {lo!r}/{hi!r} m must satisfy wavelength_min <= band_min "
                        f"< band_max <= wavelength_max ({spec.wavelength_min!r}-{spec.wavelength_max!r} m); put the "
                        "band inside the window", field="wavelength_band_min")


def _order(spec: Spec, low: str, high: str) -> None:
    a, b = getattr(spec, low), getattr(spec, high)
    if a > b:
        raise SpecError(f"EmissionSpec.{low} = {a!r} must be <= {high} = {b!r}; swap or fix them", field=low)
