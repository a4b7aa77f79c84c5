"""DeviceGeometry: one description of the device shared by the filament and the optical stage.

The stack is a metal / insulator / metal cell whose rectangular footprint is
replaced by the disc of equal area (the axisymmetric stages model a disc);
once the filament stage has run, the filament is a metallic cylinder of the
filament's own radius, grown from the active (top) electrode down to a gap
above the counter (bottom) electrode.  The optical stage models this stack,
patch-cavity modes included, with the filament inside it
(:func:`devicephys.emission.fem.match.from_device`); the joint audit holds the
optical geometry against it.  Lengths [m].  Importing this module imports no
engine.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import numpy as np

from devicephys.errors import SpecError


@dataclass(frozen=True)
class DeviceGeometry:
    """The device's stack and the filament's shape.

    Attributes
    ----------
    active_electrode, counter_electrode, insulator : str
        Material names (devicephys.materials).
    active_thickness, counter_thickness, insulator_thickness : float
        Layer thicknesses [m].
    footprint_radius : float
        Radius [m] of the disc with the footprint's area, sqrt(a b / pi).
    tip_radius : float
        Filament radius [m] when it bridges (the tip of the optical model).
    tunnelling_gaps : tuple[float, float]
        Smallest and largest non-zero gap [m] the filament passes through in its main drive
        (the tunnelling gaps of the growing filament; a gap of 0 is a metallic contact).
    sources : dict
        Where each number comes from.
    """

    active_electrode: str
    counter_electrode: str
    insulator: str
    active_thickness: float
    counter_thickness: float
    insulator_thickness: float
    footprint_radius: float
    tip_radius: float
    tunnelling_gaps: tuple[float, float]
    sources: dict

    @classmethod
    def from_filament(cls, ds) -> "DeviceGeometry":
        """The geometry of a filament result's dataset (``filament.nc``): its spec and its filament."""
        if ds.attrs.get("devicephys_kind") != "filament" or "spec" not in ds.attrs:
            raise SpecError("filament result: not a filament.nc with its FilamentSpec; rerun the filament stage")
        spec = json.loads(ds.attrs["spec"])
        need = ("active_electrode", "counter_electrode", "insulator", "active_electrode_thickness",
                "counter_electrode_thickness", "insulator_thickness", "footprint_x", "footprint_y")
        missing = [k for k in need if k not in spec]
        if missing or "filament_radius_final" not in ds or "gap" not in ds:
            raise SpecError(f"filament result: lacks {missing or ['filament_radius_final/gap']} for the device geometry; "
                            "rerun the filament stage with this version")
        radius = float(ds["filament_radius_final"].values)
        gaps = np.asarray(ds["gap"].values, dtype=float)
        gaps = gaps[np.isfinite(gaps) & (gaps > 0)]
        if not (math.isfinite(radius) and radius > 0) or gaps.size == 0:
            raise SpecError(f"filament result: filament_radius_final = {radius!r} m and {gaps.size} non-zero gaps; "
                            "the filament never formed a tip: rerun the filament stage with a drive that forms it")
        t_ins = float(ds["insulator_thickness"].values) if "insulator_thickness" in ds else float(spec["insulator_thickness"])
        src = "FilamentSpec of the filament result"
        return cls(spec["active_electrode"], spec["counter_electrode"], spec["insulator"],
                   float(spec["active_electrode_thickness"]), float(spec["counter_electrode_thickness"]), t_ins,
                   math.sqrt(float(spec["footprint_x"]) * float(spec["footprint_y"]) / math.pi), radius,
                   (float(gaps.min()), float(gaps.max())),
                   {"materials and thicknesses": src, "footprint_radius": f"sqrt(footprint_x footprint_y / pi), {src}",
                    "tip_radius": "FilamentResult.filament_radius_final",
                    "tunnelling_gaps": "non-zero range of FilamentResult.gap (main drive)"})

    def check_gap(self, gap: float, field: str = "gap") -> None:
        """SpecError unless the filament fits in the insulator at ``gap`` [m] (0 < gap < insulator thickness)."""
        if not 0 < gap < self.insulator_thickness:
            raise SpecError(f"{field}: a gap of {gap:.4g} m leaves no filament in the {self.insulator_thickness:.4g} m "
                            f"insulator (the filament would be taller than the insulator); use gaps between 0 and "
                            f"{self.insulator_thickness:.4g} m", field=field)

    def capacitance(self) -> float:
        """The cell's own capacitance [F]: the parallel plates of the footprint's area across the insulator.

        C = ε0 εr π R² / t with εr the insulator's relative permittivity (devicephys.materials); fringing
        fields are neglected (footprint radius ≫ insulator thickness), the filament's area too.
        """
        from devicephys import materials, units

        eps_r = materials.get(self.insulator)["relative_permittivity"]
        return units.eps0 * eps_r * math.pi * self.footprint_radius**2 / self.insulator_thickness

    def to_json(self) -> str:
        """The geometry as JSON (SI), e.g. for a result's attributes."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "DeviceGeometry":
        """Inverse of :meth:`to_json`."""
        d = json.loads(text)
        d["tunnelling_gaps"] = tuple(d["tunnelling_gaps"])
        return cls(**d)
