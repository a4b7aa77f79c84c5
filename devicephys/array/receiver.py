"""The photodetecting synapse: a named semiconductor device, not a gain knob.

Two devices, both absorbing in a film of thickness ``t`` and area ``A`` that
faces the emitters through the insulator (index ``n_m``, PMMA by default):

``photodiode`` (p-i-n, intrinsic layer fully depleted; Saleh & Teich,
*Fundamentals of Photonics*, 2nd ed., sec. 18.1-18.3; Sze & Ng, *Physics of
Semiconductor Devices*, 3rd ed., ch. 13)::

    eta(lambda) = (1 - R) (1 - exp(-alpha t)) zeta     quantum efficiency
    R = ((n - n_m)^2 + k^2) / ((n + n_m)^2 + k^2)       normal-incidence reflectance
    alpha = 4 pi k / lambda                             absorption coefficient
    G = 1                                                 one electron per photoelectron
    C_d = eps_r eps_0 A / t                               depletion capacitance
    I_dark = q n_i t A / (2 tau_g)                        generation current (Sze eq. 13.2-style)

``photoconductor`` (an intrinsic film between two contacts a gap ``L`` apart,
width ``A / L``, biased at ``V_b``; Saleh & Teich sec. 18.3B; Sze & Ng sec. 13.3)::

    G = tau_c / tau_tr,  tau_tr = L^2 / (mu_n V_b)        photoconductive gain
    C_d = eps_r eps_0 t (A / L) / L                       film between the contacts
    I_dark = q n_i (mu_n + mu_p) V_b t (A / L) / L        intrinsic film conductance

The photocurrent of one photoelectron delivers the charge G e into the
neuron's node, whose capacitance is the card's neuron capacitor plus C_d.
The gain's own noise (generation-recombination, excess factor ~2) is not
drawn: every photoelectron carries exactly G e.  The array takes the card's
emission spectrum as given, a Gaussian (peak, FWHM); whether its photons
respect the quantum cutoff h c / (e V) of inelastic tunnelling is judged by
the pipeline's joint audit (a hot-electron channel may exceed it).
:meth:`Receiver.spectral_efficiency` can truncate the spectrum at that cutoff.

Optical constants (n, k at 295-300 K) are sampled from:
silicon, C. Schinke et al., AIP Advances 5, 067168 (2015);
germanium, T. N. Nunley et al., J. Vac. Sci. Technol. B 34, 061205 (2016).
Between samples ln k is interpolated linearly; beyond the last sample the
film is transparent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from devicephys.errors import SpecError
from devicephys.units import c0, e, eps0, h


@dataclass(frozen=True)
class Absorber:
    """Semiconductor of the detecting film (SI units).

    Attributes
    ----------
    name : str
    nk : tuple
        Rows (wavelength [m], n [1], k [1]), increasing wavelength.
    permittivity : float
        Static relative permittivity eps_r [1].
    intrinsic_density : float
        Intrinsic carrier density n_i at 300 K [1/m^3].
    electron_mobility, hole_mobility : float
        Low-field mobilities at 300 K [m^2/(V s)].
    source : str
    """

    name: str
    nk: tuple
    permittivity: float
    intrinsic_density: float
    electron_mobility: float
    hole_mobility: float
    source: str

    def optical_constants(self, wavelength) -> tuple[np.ndarray, np.ndarray]:
        """(n, k) [1] at ``wavelength`` [m]; k = 0 beyond the table's long end."""
        lam, n, k = (np.array(c, float) for c in zip(*self.nk))
        w = np.asarray(wavelength, float)
        n_w = np.interp(w, lam, n)
        k_w = np.exp(np.interp(w, lam, np.log(k)))
        return n_w, np.where(w > lam[-1], 0.0, k_w)

    def absorption_coefficient(self, wavelength) -> np.ndarray:
        """alpha = 4 pi k / lambda [1/m]."""
        _, k = self.optical_constants(wavelength)
        return 4.0 * math.pi * k / np.asarray(wavelength, float)


_UM = 1e-6
SILICON = Absorber(
    "silicon",
    tuple((lam * _UM, n, k) for lam, n, k in (
        (0.40, 5.623, 3.2627e-1), (0.45, 4.673, 9.5362e-2), (0.50, 4.289, 4.8542e-2), (0.55, 4.073, 2.8038e-2),
        (0.60, 3.931, 1.8521e-2), (0.65, 3.835, 1.4447e-2), (0.70, 3.765, 1.0623e-2), (0.75, 3.712, 7.6156e-3),
        (0.80, 3.669, 5.2655e-3), (0.85, 3.636, 3.4605e-3), (0.90, 3.610, 2.1092e-3), (0.95, 3.584, 1.1393e-3),
        (1.00, 3.575, 4.9020e-4), (1.05, 3.559, 1.3043e-4), (1.10, 3.545, 3.0217e-5), (1.15, 3.533, 5.6876e-6),
        (1.20, 3.522, 1.3904e-7), (1.25, 3.513, 5.8798e-9), (1.30, 3.505, 2.7228e-10), (1.45, 3.487, 1.0901e-13))),
    permittivity=11.7, intrinsic_density=9.65e15, electron_mobility=0.14, hole_mobility=0.045,
    source="n, k: Schinke et al. 2015; eps_r, n_i, mobilities: Sze & Ng 2007, appendix G (n_i: Altermatt 2003)")
GERMANIUM = Absorber(
    "germanium",
    tuple((lam * _UM, n, k) for lam, n, k in (
        (0.3999, 4.192, 2.178), (0.4999, 4.416, 2.353), (0.5990, 5.780, 1.329), (0.7005, 5.004, 4.204e-1),
        (0.7999, 4.685, 2.714e-1), (0.9050, 4.514, 2.078e-1), (0.9999, 4.426, 1.716e-1), (1.097, 4.368, 1.412e-1),
        (1.204, 4.315, 1.068e-1), (1.305, 4.279, 8.699e-2), (1.409, 4.253, 6.928e-2), (1.512, 4.243, 5.406e-2),
        (1.531, 4.249, 4.564e-2), (1.550, 4.250, 2.519e-2), (1.569, 4.234, 7.651e-3), (1.590, 4.216, 2.758e-3),
        (1.610, 4.204, 1.915e-3), (1.653, 4.186, 1.106e-3), (1.698, 4.171, 5.967e-4), (1.746, 4.158, 2.984e-4),
        (1.797, 4.146, 1.376e-4))),
    permittivity=16.0, intrinsic_density=2.0e19, electron_mobility=0.39, hole_mobility=0.19,
    source="n, k: Nunley et al. 2016; eps_r, n_i, mobilities: Sze & Ng 2007, appendix G")
ABSORBERS = {a.name: a for a in (SILICON, GERMANIUM)}


@dataclass(frozen=True)
class Receiver:
    """A photodetecting synapse (SI units); see the module docstring for the equations.

    Attributes
    ----------
    kind : str
        'photodiode' or 'photoconductor'.
    absorber : Absorber
    area : float
        Detector area A facing the emitters [m^2].
    thickness : float
        Absorbing film (intrinsic layer) thickness t [m].
    collection_efficiency : float
        Fraction zeta of photogenerated pairs collected [1].
    medium_index : float
        Refractive index n_m of the medium the light arrives through [1].
    generation_lifetime : float
        Generation lifetime tau_g of the depleted layer (photodiode dark current) [s].
    bias : float
        Bias across the detector [V]: V_b of the photoconductor; the photodiode's reverse bias
        (sets only its transit time).
    electrode_gap : float
        Photoconductor contact spacing L [m].
    carrier_lifetime : float
        Photoconductor majority-carrier lifetime tau_c [s].
    """

    kind: str
    absorber: Absorber
    area: float
    thickness: float
    collection_efficiency: float = 1.0
    medium_index: float = 1.49
    generation_lifetime: float = 1e-3
    bias: float = 1.0
    electrode_gap: float = 0.5e-6
    carrier_lifetime: float = 1e-9

    def __post_init__(self):
        if self.kind not in ("photodiode", "photoconductor"):
            raise SpecError(f"receiver kind {self.kind!r}: choose 'photodiode' or 'photoconductor'")
        for name in ("area", "thickness", "medium_index", "generation_lifetime", "bias", "electrode_gap",
                     "carrier_lifetime"):
            if not getattr(self, name) > 0:
                raise SpecError(f"receiver {name} must be > 0, got {getattr(self, name)!r}")
        if not 0 < self.collection_efficiency <= 1:
            raise SpecError(f"receiver collection_efficiency must be in (0, 1], got {self.collection_efficiency!r}")
        if self.kind == "photoconductor" and self.electrode_gap**2 > self.area:
            raise SpecError(f"receiver electrode_gap = {self.electrode_gap} m: the contacts of a photoconductor of "
                            f"area {self.area} m^2 must be closer than sqrt(area); shrink the gap")

    def reflectance(self, wavelength) -> np.ndarray:
        """Normal-incidence reflectance R [1] from the medium into the absorber."""
        n, k = self.absorber.optical_constants(wavelength)
        nm = self.medium_index
        return ((n - nm) ** 2 + k**2) / ((n + nm) ** 2 + k**2)

    def quantum_efficiency(self, wavelength) -> np.ndarray:
        """Photoelectrons per incident photon eta(lambda) = (1 - R)(1 - exp(-alpha t)) zeta [1]."""
        alpha = self.absorber.absorption_coefficient(wavelength)
        return (1.0 - self.reflectance(wavelength)) * -np.expm1(-alpha * self.thickness) * self.collection_efficiency

    def responsivity(self, wavelength) -> np.ndarray:
        """Primary responsivity eta e lambda / (h c) [A/W] (before the gain)."""
        return self.quantum_efficiency(wavelength) * e * np.asarray(wavelength, float) / (h * c0)

    def spectral_efficiency(self, peak: float, fwhm: float, operating_voltage: float | None = None) -> float:
        """eta averaged over the emitted photons [1]: Gaussian (``peak``, ``fwhm``) [m], truncated at h c/(e V_op).

        Raises
        ------
        SpecError
            When the quantum cutoff removes the whole spectrum (no photon can be emitted).
        """
        return self.efficiency_over(*gaussian_spectrum(peak, fwhm, operating_voltage))

    def efficiency_over(self, wavelength, density) -> float:
        """eta averaged over a sampled emission spectrum [1]: ``density`` [any unit per m] at ``wavelength`` [m]."""
        lam, w = np.asarray(wavelength, dtype=float), np.asarray(density, dtype=float)
        total = float(np.trapezoid(w, lam))
        if not total > 0:
            raise SpecError("the card's emission spectrum holds no photon; its photon yield and spectrum are inconsistent")
        return float(np.trapezoid(w * self.quantum_efficiency(lam), lam) / total)

    def efficiency_for(self, neuron) -> float:
        """Photoelectrons per incident photon of ``neuron``'s emission [1] (over :func:`emitted_spectrum`)."""
        return self.efficiency_over(*emitted_spectrum(neuron))

    @property
    def width(self) -> float:
        """Photoconductor width A / L [m]."""
        return self.area / self.electrode_gap

    @property
    def transit_time(self) -> float:
        """Electron transit time L^2 / (mu_n V_b) between the photoconductor's contacts [s]."""
        return self.electrode_gap**2 / (self.absorber.electron_mobility * self.bias)

    @property
    def gain(self) -> float:
        """Electrons through the circuit per photoelectron [1]: 1 (photodiode) or tau_c / tau_tr."""
        return 1.0 if self.kind == "photodiode" else self.carrier_lifetime / self.transit_time

    @property
    def capacitance(self) -> float:
        """Capacitance C_d the detector adds to the neuron's node [F]."""
        eps = self.absorber.permittivity * eps0
        if self.kind == "photodiode":
            return eps * self.area / self.thickness
        return eps * self.thickness * self.width / self.electrode_gap

    @property
    def dark_current(self) -> float:
        """Dark current I_dark [A] (generation current, or the intrinsic film's conduction current)."""
        a = self.absorber
        if self.kind == "photodiode":
            return e * a.intrinsic_density * self.thickness * self.area / (2.0 * self.generation_lifetime)
        return (e * a.intrinsic_density * (a.electron_mobility + a.hole_mobility) * self.bias
                * self.thickness * self.width / self.electrode_gap)

    @property
    def response_time(self) -> float:
        """Time over which one photoelectron's charge arrives [s]: transit (photodiode) or tau_c (photoconductor)."""
        if self.kind == "photodiode":
            return self.thickness**2 / (self.absorber.hole_mobility * max(self.bias, 1e-30))
        return self.carrier_lifetime

    def describe(self) -> str:
        """One line naming the device."""
        return f"{self.absorber.name} {self.kind} ({self.area:.3g} m^2, {self.thickness:.3g} m)"


def gaussian_spectrum(peak: float, fwhm: float, operating_voltage: float | None = None):
    """Samples (wavelength [m], relative weight [1/m]) of a Gaussian spectrum cut at h c/(e V_op).

    Raises
    ------
    SpecError
        When the quantum cutoff removes the whole spectrum (no photon can be emitted).
    """
    sigma = fwhm / (2.0 * math.sqrt(2.0 * math.log(2.0)))
    lo = peak - 6.0 * sigma
    if operating_voltage is not None:
        lo = max(lo, h * c0 / (e * operating_voltage))
    hi = peak + 6.0 * sigma
    lo = max(lo, 1e-6 * hi)  # a wavelength is positive: a spectrum broad against its peak is cut at lambda > 0
    if lo >= hi:
        raise SpecError(f"the emission spectrum (peak {peak:.4g} m, FWHM {fwhm:.4g} m) lies entirely above the "
                        f"quantum cutoff of {operating_voltage} V; the card's spectrum and bias are inconsistent")
    lam = np.linspace(lo, hi, 2001)
    return lam, np.exp(-0.5 * ((lam - peak) / sigma) ** 2)


def emitted_spectrum(neuron):
    """Samples (wavelength [m], photons per unit wavelength [1/m], any scale) of what ``neuron`` emits.

    The card's own spectrum (its reference spike's) where it has one; else the Gaussian of its peak
    and FWHM cut at the quantum limit h c/(e V_th) of its operating bias.
    """
    if getattr(neuron, "spectrum", None) is not None:
        return refined_spectrum(*neuron.spectrum, h * c0 / (e * neuron.emission_bias))
    return gaussian_spectrum(neuron.peak_wavelength, neuron.spectral_width, neuron.emission_bias)


def refined_spectrum(wavelength, density, cutoff: float, per_interval: int = 16):
    """A sampled spectrum on a grid ``per_interval`` times finer, its quantum edge kept sharp.

    Between samples the spectrum is linear.  A spectrum with nothing below the quantum limit
    ``cutoff`` = h c/(e V) [m] ends there: zero below it, and from it to the first emitting sample
    that sample's value (on the coarse grid the edge would be smeared over the interval below it,
    where a detector's efficiency can be much higher).  A spectrum with photons below the cutoff
    (a hot-electron channel) is only interpolated.
    """
    lam, dens = np.asarray(wavelength, dtype=float), np.asarray(density, dtype=float)
    t = np.linspace(0.0, 1.0, per_interval + 1)[:-1]
    fine = np.append((lam[:-1, None] + np.diff(lam)[:, None] * t).ravel(), lam[-1])
    edge = not np.any(dens[lam < cutoff] > 0) and lam[0] < cutoff < lam[-1]
    if edge:
        fine = np.unique(np.append(fine, [np.nextafter(cutoff, 0.0), cutoff]))  # a step, not a ramp
    out = np.interp(fine, lam, dens)
    if edge:
        first = int(np.argmax(lam >= cutoff))
        out = np.where(fine < cutoff, 0.0, np.where(fine < lam[first], dens[first], out))
    return fine, out
