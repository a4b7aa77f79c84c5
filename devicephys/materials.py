"""One table of the material properties the stages use, each number with its source.

Values are SI and at 300 K unless a field says otherwise.  Look a material up
with :func:`get`; every :class:`Property` carries ``value``, ``unit`` and
``source``.

Sources (short keys used below)
-------------------------------
CRC
    W. M. Haynes (ed.), *CRC Handbook of Chemistry and Physics*, 97th ed.
    (2016): resistivities (sec. 12 "Electrical resistivity of pure metals"),
    thermal conductivities (sec. 12), densities and heat capacities (sec. 4).
Michaelson1977
    H. B. Michaelson, "The work function of the elements and its periodicity",
    J. Appl. Phys. 48, 4729 (1977).
Rakic1998
    A. D. Rakić et al., "Optical properties of metallic films for vertical-cavity
    optoelectronic devices", Appl. Opt. 37, 5271 (1998) — the Drude–Lorentz
    fits shipped in ``meep.materials`` (valid wavelength range stated there).
Malitson1965
    I. H. Malitson, "Interspecimen comparison of the refractive index of fused
    silica", J. Opt. Soc. Am. 55, 1205 (1965).
Sultanova2009
    N. Sultanova, S. Kasarova, I. Nikolov, "Dispersion properties of optical
    polymers", Acta Phys. Pol. A 116, 585 (2009).
Wood1982
    D. L. Wood et al., "Optical properties of cubic hafnia stabilized with
    yttria", Appl. Opt. 21, 604 (1982) (n of HfO2 in the visible).
PolymerHandbook
    J. Brandrup, E. H. Immergut, E. A. Grulke (eds.), *Polymer Handbook*,
    4th ed. (1999): PMMA thermal and dielectric data.
Panzer2009
    M. A. Panzer et al., "Thermal properties of ultrathin hafnium dioxide
    films", IEEE Electron Device Lett. 30, 1269 (2009).
NIST-JANAF
    M. W. Chase, NIST-JANAF Thermochemical Tables, 4th ed. (1998): molar heat
    capacity of HfO2 (60.3 J/(mol K) at 298 K, M = 210.49 g/mol).
Lide-SiO2
    CRC (above), amorphous SiO2 (fused silica) thermal data.
AshcroftMermin
    N. W. Ashcroft, N. D. Mermin, *Solid State Physics* (1976), Table 2.1:
    free-electron Fermi wavevectors (Ag 1.20e10 1/m, Au 1.21e10 1/m).
Gall2016
    D. Gall, "Electron mean free path in elemental metals", J. Appl. Phys. 119,
    085101 (2016): bulk electron mean free path at room temperature (Ag 53.3 nm,
    Au 37.7 nm), with ρλ constant (λ ∝ 1/ρ as the phonon scattering changes).
Kashiwagi1986
    T. Kashiwagi et al., "Effects of weak linkages on the thermal and oxidative
    degradation of poly(methyl methacrylates)", Macromolecules 19, 2160 (1986):
    free-radical PMMA loses mass in steps near 165 °C (head-to-head links),
    270 °C (vinylidene chain ends) and 360 °C (random scission); the onset of the
    main, chain-end-initiated unzipping, 270 °C = 543 K, is taken as the limit.
Williams1965
    R. Williams, "Photoemission of electrons from silicon into silicon dioxide",
    Phys. Rev. 140, A569 (1965): Si/SiO2 barrier 3.25 eV, so χ(SiO2) = 0.9 eV.
Robertson2000
    J. Robertson, "Band offsets of wide-band-gap oxides and implications for
    future electronic devices", J. Vac. Sci. Technol. B 18, 1785 (2000):
    χ(HfO2) = 2.5 eV.
CIAAW
    Commission on Isotopic Abundances and Atomic Weights, standard atomic
    weights (IUPAC Technical Report, Pure Appl. Chem. 94, 573 (2022)):
    Ag 107.8682 g/mol, Au 196.966570 g/mol.
PMMA-IR
    The constant index of PMMA is used up to 3.0 um: PMMA is transparent with a
    slowly varying index through the near infrared, and its first strong
    vibrational absorption, the C-H stretching band at 3.3-3.5 um
    (2850-3000 1/cm), lies beyond (band assignment as in the 2-20 um
    ellipsometry of X. Zhang et al., "Complex refractive indices measurements of
    polymers in infrared bands", J. Quant. Spectrosc. Radiat. Transf. 252,
    107063 (2020)).  The dispersion of n between 589 nm and 3 um (a few 1e-2)
    is not modelled.
TysonMiller1977
    W. R. Tyson, W. A. Miller, "Surface free energies of solid metals:
    estimation from liquid surface tension measurements", Surf. Sci. 62, 267
    (1977): the average-face solid-vapour surface energy of Ag, 1.25 J/m^2.  A
    filament's surface meets the matrix, not vacuum: the Ag/matrix interface's
    energy is gamma_Ag + gamma_matrix - W_adh (Dupre), which no source here
    measures; the vacuum value stands in for it (it is lower wherever the work
    of adhesion exceeds the matrix's own surface energy).  For Ag/PMMA it lies
    inside the bracket of :func:`interface_energy_bounds`, 0.838-1.291 J/m^2.
Wu1982
    S. Wu, *Polymer Interface and Adhesion* (Marcel Dekker, 1982): the
    surface tension of PMMA, 41.1 mJ/m^2 at 20 °C (dispersion 29.6, polar
    11.5 mJ/m^2).
GirifalcoGood1957
    L. A. Girifalco, R. J. Good, "A theory for the estimation of surface and
    interfacial energies. I.", J. Phys. Chem. 61, 904 (1957): the work of
    adhesion W_adh = 2 phi sqrt(gamma_1 gamma_2), phi <= 1 for interactions of
    the dispersion kind (the geometric-mean rule), so the interface's energy
    gamma_12 = gamma_1 + gamma_2 - W_adh lies between (sqrt(gamma_1) -
    sqrt(gamma_2))^2 (phi = 1) and gamma_1 + gamma_2 (no adhesion): the bracket
    of :func:`interface_energy_bounds`.
PMMA-affinity
    Electron affinity of PMMA, 2.5 eV (conduction-band edge / LUMO below the
    vacuum level, the value commonly used in metal/PMMA injection-barrier
    analyses).  Recalled, NOT confirmed in a citable source here, and uncertain
    by about ±1 eV: the OFF resistance depends on it exponentially.
    The tunnelling barrier of an Ag/PMMA/Ag gap is W(Ag) − χ(PMMA) = 1.76 eV.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from devicephys.errors import SpecError


@dataclass(frozen=True)
class Property:
    """One material number: value in SI ``unit`` and where it comes from."""

    value: float
    unit: str
    source: str


@dataclass(frozen=True)
class Material:
    """Electrical, thermal and optical properties of one material at 300 K.

    Attributes
    ----------
    name
        Short name, e.g. ``"Ag"``.
    kind
        ``"metal"`` or ``"insulator"``.
    properties
        Mapping from property name to :class:`Property`.  Names used:
        ``electrical_conductivity`` [S/m], ``temperature_coefficient`` [1/K]
        (of resistivity), ``thermal_conductivity`` [W/(m K)],
        ``density`` [kg/m^3], ``specific_heat`` [J/(kg K)], ``molar_mass`` [kg/mol],
        ``work_function`` [J], ``melting_point`` [K],
        ``fermi_wavevector`` [1/m], ``mean_free_path`` [m] (at 293 K),
        ``reference_temperature`` [K] (of the conductivity data),
        ``surface_energy`` [J/m^2] (solid-vapour: a metal's average face, a
        polymer's surface tension);
        ``refractive_index`` [1], ``relative_permittivity`` [1],
        ``electron_affinity`` [J], ``thermal_limit`` [K] (decomposition or
        softening: the hottest the matrix survives), ``index_wavelength_max``
        [m] (longest vacuum wavelength at which the constant refractive
        index holds) (insulators);
        ``meep_material`` names the Drude–Lorentz fit in ``meep.materials``.
    """

    name: str
    kind: str
    properties: dict[str, Property] = field(default_factory=dict)

    def __getitem__(self, key: str) -> float:
        try:
            return self.properties[key].value
        except KeyError:
            raise KeyError(f"material {self.name} has no property '{key}'; it has {sorted(self.properties)}") from None

    def source(self, key: str) -> str:
        """Source of property ``key``."""
        return self.properties[key].source

    @property
    def meep_material(self) -> str | None:
        """Name of the dispersive fit in ``meep.materials`` (metals only)."""
        return _MEEP_NAMES.get(self.name)


def _p(value: float, unit: str, source: str) -> Property:
    return Property(float(value), unit, source)


_EV = 1.602176634e-19

_TABLE: dict[str, Material] = {
    "Ag": Material("Ag", "metal", {
        "electrical_conductivity": _p(1 / 1.587e-8, "S/m", "CRC: resistivity 1.587e-8 Ohm m at 293 K"),
        "temperature_coefficient": _p(3.8e-3, "1/K", "CRC: d(ln rho)/dT near 293 K"),
        "thermal_conductivity": _p(429.0, "W/(m K)", "CRC"),
        "density": _p(10490.0, "kg/m^3", "CRC"),
        "specific_heat": _p(235.0, "J/(kg K)", "CRC"),
        "work_function": _p(4.26 * _EV, "J", "Michaelson1977: polycrystalline Ag (faces 4.52-4.74 eV); a "
                            "filament's surface is polycrystalline"),
        "melting_point": _p(1234.93, "K", "CRC"),
        "fermi_wavevector": _p(1.20e10, "1/m", "AshcroftMermin"),
        "mean_free_path": _p(53.3e-9, "m", "Gall2016: 293 K"),
        "reference_temperature": _p(293.0, "K", "CRC: temperature of the resistivity data"),
        "molar_mass": _p(107.8682e-3, "kg/mol", "CIAAW"),
        "surface_energy": _p(1.25, "J/m^2", "TysonMiller1977: average face, against vacuum"),
    }),
    "Pt": Material("Pt", "metal", {
        "electrical_conductivity": _p(1 / 1.06e-7, "S/m", "CRC: resistivity 1.06e-7 Ohm m at 293 K"),
        "temperature_coefficient": _p(3.92e-3, "1/K", "CRC"),
        "thermal_conductivity": _p(71.6, "W/(m K)", "CRC"),
        "density": _p(21450.0, "kg/m^3", "CRC"),
        "specific_heat": _p(133.0, "J/(kg K)", "CRC"),
        "work_function": _p(5.65 * _EV, "J", "Michaelson1977"),
        "melting_point": _p(2041.4, "K", "CRC"),
        "reference_temperature": _p(293.0, "K", "CRC: temperature of the resistivity data"),
    }),
    "Au": Material("Au", "metal", {
        "electrical_conductivity": _p(1 / 2.214e-8, "S/m", "CRC: resistivity 2.214e-8 Ohm m at 293 K"),
        "temperature_coefficient": _p(3.4e-3, "1/K", "CRC"),
        "thermal_conductivity": _p(318.0, "W/(m K)", "CRC"),
        "density": _p(19300.0, "kg/m^3", "CRC"),
        "specific_heat": _p(129.0, "J/(kg K)", "CRC"),
        "work_function": _p(5.10 * _EV, "J", "Michaelson1977"),
        "melting_point": _p(1337.33, "K", "CRC"),
        "fermi_wavevector": _p(1.21e10, "1/m", "AshcroftMermin"),
        "mean_free_path": _p(37.7e-9, "m", "Gall2016: 293 K"),
        "reference_temperature": _p(293.0, "K", "CRC: temperature of the resistivity data"),
        "molar_mass": _p(196.966570e-3, "kg/mol", "CIAAW"),
    }),
    "PMMA": Material("PMMA", "insulator", {
        "electrical_conductivity": _p(1e-13, "S/m", "PolymerHandbook: volume resistivity > 1e13 Ohm m"),
        "thermal_conductivity": _p(0.19, "W/(m K)", "PolymerHandbook"),
        "density": _p(1180.0, "kg/m^3", "PolymerHandbook"),
        "specific_heat": _p(1466.0, "J/(kg K)", "PolymerHandbook"),
        "refractive_index": _p(1.49, "1", "Sultanova2009: n(589 nm) = 1.4905"),
        "index_wavelength_max": _p(3.0e-6, "m", "PMMA-IR: below the C-H stretching absorption (3.3-3.5 um)"),
        "relative_permittivity": _p(2.6, "1", "PolymerHandbook: 1 MHz"),
        "electron_affinity": _p(2.5 * _EV, "J", "PMMA-affinity (recalled, unconfirmed)"),
        "thermal_limit": _p(543.0, "K", "Kashiwagi1986: onset of chain-end unzipping (270 C)"),
        "surface_energy": _p(0.0411, "J/m^2", "Wu1982: solid PMMA at 20 C (dispersion 29.6, polar 11.5 mJ/m^2)"),
    }),
    "SiO2": Material("SiO2", "insulator", {
        "electrical_conductivity": _p(1e-14, "S/m", "CRC: amorphous SiO2 resistivity ~1e14 Ohm m"),
        "thermal_conductivity": _p(1.38, "W/(m K)", "Lide-SiO2: fused silica at 300 K"),
        "density": _p(2200.0, "kg/m^3", "Lide-SiO2"),
        "specific_heat": _p(740.0, "J/(kg K)", "Lide-SiO2"),
        "refractive_index": _p(1.458, "1", "Malitson1965: n(589 nm) = 1.4584"),
        "index_wavelength_max": _p(3.71e-6, "m", "Malitson1965: range of the Sellmeier data, 0.21-3.71 um"),
        "relative_permittivity": _p(3.9, "1", "CRC: thermal oxide"),
        "electron_affinity": _p(0.9 * _EV, "J", "Williams1965"),
        "thermal_limit": _p(1413.0, "K", "CRC: annealing point of fused silica (viscosity 1e12 Pa s)"),
    }),
    "HfO2": Material("HfO2", "insulator", {
        "electrical_conductivity": _p(1e-12, "S/m", "typical leakage of ALD HfO2 films, order of magnitude"),
        "thermal_conductivity": _p(0.95, "W/(m K)", "Panzer2009: amorphous films 0.49-0.95 W/(m K)"),
        "density": _p(9680.0, "kg/m^3", "CRC"),
        "specific_heat": _p(286.0, "J/(kg K)", "NIST-JANAF: 60.3 J/(mol K) / 0.21049 kg/mol"),
        "refractive_index": _p(1.90, "1", "Wood1982: n(600 nm) ~ 1.9"),
        "relative_permittivity": _p(25.0, "1", "CRC / high-k literature"),
        "electron_affinity": _p(2.5 * _EV, "J", "Robertson2000"),
        "thermal_limit": _p(3031.0, "K", "CRC: melting point of HfO2"),
    }),
}

_MEEP_NAMES = {"Ag": "Ag", "Au": "Au", "Pt": "Pt"}


def get(name: str) -> Material:
    """Return the :class:`Material` called ``name`` (e.g. ``"Ag"``, ``"PMMA"``)."""
    try:
        return _TABLE[name]
    except KeyError:
        raise SpecError(f"material '{name}' is not in devicephys.materials; choose one of {sorted(_TABLE)}",
                        field="material") from None


def interface_energy_bounds(metal: str, insulator: str) -> tuple[float, float] | None:
    """(lowest, highest) energy [J/m²] of the ``metal``/``insulator`` interface from their surface energies.

    Dupré: γ_mi = γ_m + γ_i − W_adh.  The work of adhesion lies between 0 (no adhesion: γ_m + γ_i) and the
    Girifalco–Good geometric mean 2√(γ_m γ_i) (interactions of the dispersion kind, φ = 1: (√γ_m − √γ_i)²)
    (GirifalcoGood1957).  A bracket, not a value: a chemically bonding interface (φ > 1) may lie below it.  None
    when either material has no ``surface_energy``.
    """
    m, i = get(metal), get(insulator)
    if "surface_energy" not in m.properties or "surface_energy" not in i.properties:
        return None
    g_m, g_i = m["surface_energy"], i["surface_energy"]
    return (g_m ** 0.5 - g_i ** 0.5) ** 2, g_m + g_i


def names(kind: str | None = None) -> list[str]:
    """Names of the tabulated materials, optionally only ``"metal"`` or ``"insulator"``."""
    return sorted(n for n, m in _TABLE.items() if kind is None or m.kind == kind)
