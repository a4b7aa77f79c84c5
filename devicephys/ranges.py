"""Published ranges of the default device's numbers, each with its source.

A sanity check of the physics, never a target: a derived number outside its range
points at missing physics, and no input parameter is tuned to reach one.  Ranges are
for Ag-based volatile (diffusive) threshold switches and for nanogap light emission.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PublishedRange:
    """A quantity's published range [low, high] in SI units, and where it comes from."""

    name: str
    low: float
    high: float
    unit: str
    source: str

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high


#: Card parameter (or derived quantity) -> its published range.
RANGES = {r.name: r for r in (
    PublishedRange("threshold_voltage", 0.2, 1.0, "V",
                   "Wang et al., Nat. Mater. 16, 101 (2017); Ag nanoparticle cells 0.61-0.89 V, Sci. Rep. 9 (2019)"),
    PublishedRange("hold_voltage", 0.05, 0.3, "V", "Wang et al., Nat. Mater. 16, 101 (2017)"),
    PublishedRange("resistance_on", 1e3, 1e5, "Ohm",
                   "Terabe et al., Nature 433, 47 (2005) (quantized near h/2e^2 = 12.9 kOhm); Wang 2017"),
    PublishedRange("resistance_off", 1e11, 1e14, "Ohm",
                   "Midya et al., Adv. Mater. 29, 1604457 (2017); Hua et al., Adv. Sci. 6, 1900024 (2019)"),
    PublishedRange("set_time_v0", 0.04, 0.1, "V",
                   "Menzel et al., Phys. Chem. Chem. Phys. 15, 6945 (2013): set times span ~10 decades over ~1 V"),
    PublishedRange("relaxation_time", 1e-6, 1e-3, "s",
                   "Wang et al., Nat. Commun. 10, 81 (2019); Midya et al. 2017 (us to ms)"),
    PublishedRange("thermal_resistance", 1e5, 2e7, "K/W",
                   "compact models: Stanford-PKU RRAM model, JART VCM (5e5, 7e5, 1.6e7 K/W)"),
    PublishedRange("thermal_time_constant", 1e-10, 1e-8, "s",
                   "Stanford-PKU RRAM model (0.23 ns); never below the ~1 ps electron-phonon time"),
    PublishedRange("photons_per_electron", 1e-7, 1e-2, "1",
                   "planar junctions 1e-7-1e-5, antenna-enhanced 1e-4-1e-2: Kern et al., Nat. Photon. 9, 582 (2015); "
                   "Parzefall et al., Nat. Nanotechnol. 10, 1058 (2015)"),
)}
