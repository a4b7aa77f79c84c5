"""Nanoscale conduction of a metal filament: quantum point contact, size effect, tunnelling gap (NumPy).

These are the analytic laws that turn the filament's shape into its
resistance; :mod:`devicephys.filament.properties` carries them into the
finite-element potential equation.  All inputs and outputs are SI.

Quantum point contact (Landauer)
    A constriction of radius a conducts G = N G₀ with G₀ = 2e²/h = 77.48 µS
    and N the number of open transverse modes.  For a hard-wall circular
    waveguide the modes are the Bessel zeros j_{m,n} < k_F a (m = 0 once,
    m ≥ 1 twice); their count follows Weyl's law N ≈ (k_F a / 2)² − k_F a / 2,
    whose leading term (k_F a / 2)² is Sharvin's conductance of an orifice.
    :func:`mode_count` is the staircase; :func:`smooth_mode_count` replaces each
    step by a logistic of width ``width`` in k_F a (the transmission of an
    adiabatic, saddle-shaped constriction), which makes G a smooth function of a.

Size-effect resistivity (Fuchs–Sondheimer, wire form of Dingle)
    Surface scattering in a wire of diameter d adds to the bulk resistivity:
    ρ = ρ₀ [1 + 3 (1 − p) λ / (4 d)], with λ the bulk mean free path and p the
    specular fraction of surface reflections (p = 0: diffuse).  This is Dingle's
    expansion for d ≳ λ; read as Matthiessen's rule it limits the mean free path
    to 4d / (3(1 − p)) when d ≪ λ, which is the regime of a nanometre filament.
    The temperature dependence enters through ρ₀(T) with ρ₀ λ constant
    (Gall, J. Appl. Phys. 119, 085101 (2016)), so the surface term is
    temperature independent.

Tunnelling across a planar gap (Simmons)
    J. G. Simmons, J. Appl. Phys. 34, 1793 (1963) and 34, 2581 (1963): for a
    barrier φ(x) between two electrodes at T = 0,
    J = J₀ {φ̄ exp(−A √φ̄) − (φ̄ + eV) exp(−A √(φ̄ + eV))},
    J₀ = e / (2π h Δs²), A = 4π Δs √(2m) / h (β = 1), where Δs = s₂ − s₁ is the
    width of the barrier at the Fermi level and φ̄ its mean height there.  The
    barrier is φ₀ − eVx/s minus Simmons' image potential 1.15 λ s² / (x (s − x)),
    λ = e² ln 2 / (8π ε ε₀ s); φ₀ = W_metal − χ_insulator.  Here the turning points
    s₁, s₂ are found numerically and φ̄ is integrated by Gauss–Legendre
    quadrature, so the same function holds for any V (no regime formulas).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq
from scipy.special import jn_zeros

from devicephys.units import G0, e, eps0, h, m_e

_GAUSS = np.polynomial.legendre.leggauss(64)


# -- quantum point contact -------------------------------------------------------
@lru_cache(maxsize=8)
def _mode_thresholds(max_ka: float) -> tuple[np.ndarray, np.ndarray]:
    """(Bessel zeros j_{m,n} < max_ka, degeneracy 1 for m = 0 and 2 otherwise), sorted."""
    zeros, weights = [], []
    m = 0
    while True:
        n_max = max(1, int(max_ka / math.pi) + 2)
        z = jn_zeros(m, n_max)
        z = z[z < max_ka]
        if z.size == 0:
            break
        zeros.append(z)
        weights.append(np.full(z.size, 1.0 if m == 0 else 2.0))
        m += 1
    if not zeros:
        return np.empty(0), np.empty(0)
    z, w = np.concatenate(zeros), np.concatenate(weights)
    order = np.argsort(z)
    return z[order], w[order]


def _thresholds_for(ka: np.ndarray, margin: float = 0.0):
    top = float(np.max(ka, initial=0.0)) + margin + 1.0
    return _mode_thresholds(math.ceil(top / 4.0) * 4.0)


def mode_count(radius, fermi_wavevector: float) -> np.ndarray:
    """Number N [1] of open modes of a hard-wall circular constriction of ``radius`` [m] (the staircase)."""
    ka = fermi_wavevector * np.asarray(radius, dtype=float)
    zeros, weights = _thresholds_for(ka)
    return np.sum(weights * (ka[..., None] > zeros), axis=-1)


def smooth_mode_count(radius, fermi_wavevector: float, width: float = 0.3) -> np.ndarray:
    """Smoothed staircase N(a) [1]: each mode opens as 1 / (1 + exp(−(k_F a − j_mn) / width))."""
    ka = fermi_wavevector * np.asarray(radius, dtype=float)
    zeros, weights = _thresholds_for(ka, margin=30 * width)
    x = np.clip((ka[..., None] - zeros) / width, -700, 700)
    return np.sum(weights / (1.0 + np.exp(-x)), axis=-1)


def weyl_mode_count(radius, fermi_wavevector: float) -> np.ndarray:
    """Weyl estimate (k_F a / 2)² − k_F a / 2 [1] of the mode count (mean of the staircase)."""
    ka = fermi_wavevector * np.asarray(radius, dtype=float)
    return (ka / 2) ** 2 - ka / 2


def sharvin_mode_count(radius, fermi_wavevector: float) -> np.ndarray:
    """Sharvin's (k_F a / 2)² [1]: the leading, area term of the mode count."""
    return (fermi_wavevector * np.asarray(radius, dtype=float) / 2) ** 2


def contact_resistance(radius, fermi_wavevector: float, width: float = 0.3) -> np.ndarray:
    """Landauer resistance 1 / (N G₀) [Ω] of a constriction of ``radius`` [m] (smoothed N; inf if closed)."""
    n = smooth_mode_count(radius, fermi_wavevector, width)
    with np.errstate(divide="ignore"):
        return 1.0 / (n * G0)


# -- size effect -----------------------------------------------------------------
def size_effect_factor(diameter, mean_free_path, specularity: float = 0.0):
    """ρ / ρ₀ [1] = 1 + 3 (1 − p) λ / (4 d) of a wire of ``diameter`` d [m] (Fuchs–Sondheimer/Dingle)."""
    return 1.0 + 0.75 * (1.0 - specularity) * np.asarray(mean_free_path) / np.asarray(diameter)


def wire_resistivity(rho_bulk, mean_free_path, diameter, specularity: float = 0.0):
    """Resistivity [Ω m] of a metal wire: bulk ρ₀ [Ω m] times :func:`size_effect_factor`."""
    return np.asarray(rho_bulk) * size_effect_factor(diameter, mean_free_path, specularity)


def filament_resistance(radius: float, length: float, rho_bulk: float, mean_free_path: float,
                        fermi_wavevector: float, specularity: float = 0.0) -> float:
    """Resistance [Ω] of a uniform filament: Landauer contact in series with the size-effect wire.

    R = 1 / (N(a) G₀) + ρ(2a) L / (π a²); for L → 0 the contact alone, for
    a ≫ λ the bulk wire plus Sharvin's 4ρ₀λ / (3πa²).
    """
    wire = float(wire_resistivity(rho_bulk, mean_free_path, 2 * radius, specularity)) * length / (math.pi * radius**2)
    return float(contact_resistance(radius, fermi_wavevector)) + wire


# -- tunnelling ------------------------------------------------------------------
def image_strength(gap: float, permittivity: float) -> float:
    """Simmons' λ = e² ln 2 / (8π ε ε₀ s) [J] of a gap ``gap`` [m] in a medium of relative ``permittivity``."""
    return e**2 * math.log(2.0) / (8 * math.pi * permittivity * eps0 * gap)


def barrier_profile(x, voltage: float, gap: float, barrier: float, permittivity: float | None):
    """Barrier φ(x) [J] above the cathode's Fermi level, 0 < x < gap [m]; no image force if permittivity is None."""
    x = np.asarray(x, dtype=float)
    phi = barrier - e * voltage * x / gap
    if permittivity is not None:
        lam = image_strength(gap, permittivity)
        phi = phi - 1.15 * lam * gap**2 / (x * (gap - x))
    return phi


def barrier_mean(voltage: float, gap: float, barrier: float, permittivity: float | None = None):
    """(φ̄ [J], Δs [m]): mean height and width of the barrier at the Fermi level; (0, 0) if it has collapsed."""
    v = abs(float(voltage))

    if permittivity is None:
        lo, hi = 0.0, gap if e * v < barrier else gap * barrier / (e * v)
    else:
        tiny = gap * 1e-12
        k = 1.15 * image_strength(gap, permittivity) * gap**2

        def phi(x: float) -> float:  # barrier_profile for one point, in the same operations (same rounding)
            return barrier - e * v * x / gap - k / (x * (gap - x))

        # φ is strictly concave (the image term −k / (x (s − x)) is), so its top is the one root of
        # φ'(x) = −eV/s + k (s − 2x) / (x² (s − x)²), which falls from +∞ to −∞ across the gap; only
        # a bracket of the two crossings below, which are found to 1e-13 of the gap whatever it is.
        top = brentq(lambda x: k * (gap - 2 * x) / (x * (gap - x)) ** 2 - e * v / gap, tiny, gap - tiny,
                     xtol=gap * 1e-10)
        if phi(top) <= 0.0:
            return 0.0, 0.0
        lo = brentq(phi, tiny, top, xtol=gap * 1e-13)
        hi = brentq(phi, top, gap - tiny, xtol=gap * 1e-13) if phi(gap - tiny) < 0 else gap - tiny
    nodes, weights = _GAUSS
    x = lo + (hi - lo) * (nodes + 1) / 2
    mean = 0.5 * float(np.dot(weights, barrier_profile(x, v, gap, barrier, permittivity)))
    return mean, hi - lo


def simmons_current_density(voltage, gap: float, barrier: float, permittivity: float | None = None) -> np.ndarray:
    """Tunnelling current density [A/m²] through a gap [m] with barrier φ₀ = ``barrier`` [J] at ``voltage`` [V].

    ``permittivity`` (relative, of the gap medium) switches Simmons' image
    force on; None gives the bare trapezoidal barrier.  Odd in V (symmetric
    electrodes).  Returns inf where the image force collapses the barrier
    (the gap is then an ohmic contact, limited by the point contact in series).
    """
    v = np.atleast_1d(np.asarray(voltage, dtype=float))
    out = np.empty_like(v)
    for k, vk in enumerate(v):
        mean, width = barrier_mean(vk, gap, barrier, permittivity)
        if width <= 0.0 or mean <= 0.0:
            out[k] = math.inf * np.sign(vk) if vk != 0 else 0.0
            continue
        a = 4 * math.pi * width * math.sqrt(2 * m_e) / h
        j0 = e / (2 * math.pi * h * width**2)
        ev = e * abs(vk)
        out[k] = math.copysign(j0 * (mean * math.exp(-a * math.sqrt(mean))
                                     - (mean + ev) * math.exp(-a * math.sqrt(mean + ev))), vk)
    return out.reshape(np.shape(voltage))


def simmons_intermediate(voltage, gap: float, barrier: float) -> np.ndarray:
    """Simmons' closed form for a rectangular barrier, 0 ≤ eV < φ₀: φ̄ = φ₀ − eV/2, Δs = gap [A/m²]."""
    v = np.asarray(voltage, dtype=float)
    a = 4 * math.pi * gap * math.sqrt(2 * m_e) / h
    j0 = e / (2 * math.pi * h * gap**2)
    lo, hi = barrier - e * v / 2, barrier + e * v / 2
    return j0 * (lo * np.exp(-a * np.sqrt(lo)) - hi * np.exp(-a * np.sqrt(hi)))


def simmons_low_voltage_conductance(gap: float, barrier: float) -> float:
    """dJ/dV at V = 0 [S/m²] of :func:`simmons_intermediate`: J₀ e (A√φ₀ / 2 − 1) exp(−A√φ₀).

    For A√φ₀ ≫ 1 this is Simmons' low-voltage law (√(2mφ₀)/s)(e/h)² exp(−A√φ₀).
    """
    a = 4 * math.pi * gap * math.sqrt(2 * m_e) / h
    j0 = e / (2 * math.pi * h * gap**2)
    root = a * math.sqrt(barrier)
    return j0 * e * (root / 2 - 1) * math.exp(-root)


def tunnel_conductance(voltage: float, gap: float, barrier: float, permittivity: float | None, area: float) -> float:
    """Chord conductance I/V [S] of a tunnelling gap of cross-section ``area`` [m²] at ``voltage`` [V].

    Below 1 mV the 1 mV value is used (the current is linear there).
    """
    v = max(abs(float(voltage)), 1e-3)
    j = float(simmons_current_density(v, gap, barrier, permittivity))
    return j * area / v


# -- the filament's channel in the finite-element model ------------------------------
def backbone_share(c: float, threshold: float, width: float, exponent: float) -> float:
    """Conducting share [1] of a cross-section holding a metal fraction ``c``: ((c − c_p)₊/(1 − c_p))^t, at most 1.

    (x)₊ = w ln(1 + e^(x/w)) is the softplus of width ``width`` w (C∞; equal to x to e^(-x/w) above the
    threshold, to w e^(x/w) below it); t is ``exponent``, the 3-D conductivity exponent (about 2.0).
    """
    x = (c - threshold) / width
    plus = width * (x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x)))
    return min((plus / (1.0 - threshold)) ** exponent, 1.0)


class ChannelConduction:
    """Lumped gap conductance of the axial channel from its metal fraction profile (see properties.py).

    Parameters
    ----------
    channel_radius
        r_ch [m]; the filament's local radius is r_ch √c.
    area
        Cross-section [m²] over which the field spreads the channel (default π r_ch²).
    threshold, width
        Percolation threshold and crossover width of c [1].
    exponent
        t [1] of the neck's conducting share ((c − c_p)/(1 − c_p))^t (0: the compact neck r_ch √c); see
        :meth:`neck_radius`.
    fermi_wavevector, barrier, permittivity
        k_F [1/m] of the filament metal; tunnelling barrier φ₀ = W − χ [J]; relative
        permittivity of the matrix (image force).
    """

    def __init__(self, channel_radius: float, threshold: float, width: float, fermi_wavevector: float,
                 barrier: float, permittivity: float, area: float | None = None, exponent: float = 0.0):
        self.r_ch, self.threshold, self.width, self.exponent = channel_radius, threshold, width, exponent
        self.k_F, self.barrier, self.permittivity = fermi_wavevector, barrier, permittivity
        self.area = math.pi * channel_radius**2 if area is None else area

    @classmethod
    def from_spec(cls, spec, area: float | None = None) -> "ChannelConduction":
        """From a FilamentSpec; ``area`` [m²] is the channel cross-section as the field carries it (default π r_ch²)."""
        from devicephys import materials

        metal, ins = materials.get(spec.active_electrode), materials.get(spec.insulator)
        counter = materials.get(spec.counter_electrode)
        barrier = min(metal["work_function"], counter["work_function"]) - ins["electron_affinity"]
        return cls(spec.channel_radius, spec.percolation_threshold, spec.percolation_width,
                   metal["fermi_wavevector"], barrier, ins["relative_permittivity"], area,
                   getattr(spec, "contact_exponent", 0.0))

    def neck_radius(self, c: np.ndarray) -> float:
        """Radius [m] of the narrowest metallic cross-section's conducting area, from c_n = min c over c ≥ threshold.

        With ``exponent`` 0 the neck is compact: r_ch √c_n, so at least r_ch √c_p (tens of modes for a 2 nm
        channel).  With ``exponent`` t > 0 the neck conducts on the percolating cluster's backbone, whose
        share of the cross-section vanishes at c_p: π a² = π r_ch² ((c_n − c_p)₊/(1 − c_p))^t, with (·)₊ the
        softplus of width ``width`` (smooth across the threshold, exact to e^(-(c_n - c_p)/width) above it).
        A thinning neck then passes through the single-mode contact (G₀) before it opens.  At c_n = 1 both
        give r_ch.
        """
        metal = c[c >= self.threshold]
        c_n = float(metal.min()) if metal.size else self.threshold
        if self.exponent <= 0.0:
            return self.r_ch * math.sqrt(c_n)
        return self.r_ch * math.sqrt(backbone_share(c_n, self.threshold, self.width, self.exponent))

    def insulating_length(self, z: np.ndarray, c: np.ndarray, per_edge: int = 16) -> float:
        """d_eff = ∫(1 − S(c)) dz [m] along the piecewise-linear c(z) (the FEM's weighting)."""
        t = (np.arange(per_edge) + 0.5) / per_edge
        zz = z[:-1, None] + np.diff(z)[:, None] * t
        cc = c[:-1, None] + np.diff(c)[:, None] * t
        s = 1.0 / (1.0 + np.exp(np.clip(-(cc - self.threshold) / self.width, -700, 700)))
        return float(np.sum((1.0 - s) * np.diff(z)[:, None] / per_edge)) if zz.size else 0.0

    def gap_conductance(self, gap: float, voltage: float, c: np.ndarray) -> tuple[float, float]:
        """(G_gap, G_contact) [S]: tunnelling across ``gap`` [m] at ``voltage`` [V] in series with the neck's N G₀."""
        a = self.neck_radius(c)
        g_contact = float(smooth_mode_count(a, self.k_F)) * G0
        if gap <= 0.0:
            return g_contact, g_contact
        g_t = tunnel_conductance(voltage, gap, self.barrier, self.permittivity, math.pi * a**2)
        if not math.isfinite(g_t):
            return g_contact, g_contact
        return 1.0 / (1.0 / g_t + 1.0 / g_contact), g_contact

    def gap_conductivity(self, z: np.ndarray, c: np.ndarray, gap: float, voltage: float) -> float:
        """σ_t = G_gap d_eff / A_ch [S/m]: spread over the insulating phase of the channel it gives G_gap."""
        g_gap, _ = self.gap_conductance(gap, voltage, c)
        return g_gap * self.insulating_length(z, c) / self.area
