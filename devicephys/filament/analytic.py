"""Closed-form references for the electrothermal model (used by the tests and the study).

All functions take and return SI values.
"""

from __future__ import annotations

import math

import numpy as np

from devicephys.units import L0


def wiedemann_franz_peak_temperature(voltage: float, ambient: float, lorenz: float = L0) -> float:
    """Peak temperature [K] of a Joule-heated conductor with both ends at ``ambient`` [K].

    With κ = L σ T (Wiedemann–Franz) and lateral surfaces adiabatic,
    T_max² = T₀² + V²/(4 L) whatever the geometry and σ(T).
    """
    return math.sqrt(ambient**2 + voltage**2 / (4.0 * lorenz))


def wiedemann_franz_profile(z: np.ndarray, length: float, voltage: float, ambient: float,
                            lorenz: float = L0) -> np.ndarray:
    """T(z) [K] of a uniform bar (σ constant, κ = L σ T) between ends at ``ambient``.

    With σ constant φ is linear, φ = V z / t, and T² = T₀² + φ (V − φ) / L.
    """
    phi = voltage * np.asarray(z) / length
    return np.sqrt(ambient**2 + phi * (voltage - phi) / lorenz)


def constant_property_peak_rise(voltage: float, conductivity: float, thermal_conductivity: float) -> float:
    """Peak temperature rise [K] of a bar with constant σ [S/m] and κ [W/(m K)]: σ V² / (8 κ)."""
    return conductivity * voltage**2 / (8.0 * thermal_conductivity)


def cylinder_thermal_resistance(length: float, radius: float, thermal_conductivity: float) -> float:
    """Thermal resistance [K/W] from the mid-point of a uniformly heated cylinder to its cold ends.

    R_th = t / (8 κ π r²), with ΔT_max = R_th P for total heating power P.
    """
    return length / (8.0 * thermal_conductivity * math.pi * radius**2)


def heated_rod_radial_profile(r: np.ndarray, radius: float, heat_density: float, thermal_conductivity: float,
                              ambient: float) -> np.ndarray:
    """T(r) [K] in an infinite rod with uniform heating q [W/m³] and surface at ``ambient``.

    T = T₀ + q (R² − r²) / (4 κ): a check of the r-weighting of axisymmetric forms
    (an unweighted planar form would give q (R² − r²) / (2 κ)).
    """
    return ambient + heat_density * (radius**2 - np.asarray(r) ** 2) / (4.0 * thermal_conductivity)


def heated_rod_radial_profile_robin(r: np.ndarray, radius: float, heat_density: float, thermal_conductivity: float,
                                    ambient: float, boundary_conductance: float) -> np.ndarray:
    """T(r) [K] in the same rod whose surface loses h (T − T₀) (boundary conductance h [W/(m² K)]).

    The surface carries the heat q R / 2 per area, so it sits q R / (2 h) above T₀:
    T = T₀ + q R / (2 h) + q (R² − r²) / (4 κ) (h → ∞: :func:`heated_rod_radial_profile`).
    """
    surface = heat_density * radius / (2.0 * boundary_conductance)
    return heated_rod_radial_profile(r, radius, heat_density, thermal_conductivity, ambient) + surface


def mott_gurney_velocity(field: np.ndarray, temperature: np.ndarray, hop_distance: float, attempt_frequency: float,
                         barrier: float) -> np.ndarray:
    """Ionic drift velocity [m/s]: v = 2 a ν exp(−E_a / k_B T) sinh(q a E / (2 k_B T))."""
    from devicephys.units import e, k_B

    kt = k_B * np.asarray(temperature)
    return (2 * hop_distance * attempt_frequency * np.exp(-barrier / kt)
            * np.sinh(e * hop_distance * np.asarray(field) / (2 * kt)))


def set_time_slope_voltage(temperature: float, hop_distance: float, length: float) -> float:
    """Voltage scale V₀ [V] of t_set ∝ exp(−V/V₀) for Mott–Gurney drift across a uniform field.

    In the high-field limit sinh(x) ≈ eˣ/2 with x = q a V / (2 k_B T L), so a
    drift-limited set time falls as exp(−V/V₀) with V₀ = 2 k_B T L / (q a).
    The simulated set also includes the growth of the filament front and the
    field focusing ahead of it, so only agreement in magnitude is expected.
    """
    from devicephys.units import e, k_B

    return 2 * k_B * temperature * length / (e * hop_distance)


def dissolution_time(c_from: float, c_to: float, rate: float, eps: float) -> float:
    """Time [s] for Gibbs–Thomson dissolution, dc/dt = −k_d c / (c + ε), to take c from ``c_from`` to ``c_to``.

    t = [(c_from − c_to) + ε ln(c_from / c_to)] / k_d with ``rate`` k_d [1/s]: the self-rupture
    time of a channel filled to ``c_from`` at zero bias, when no ion reduces onto it meanwhile.
    """
    return ((c_from - c_to) + eps * math.log(c_from / c_to)) / rate


def competing_set_time(voltage, supply: float, v0: float, dissolution_rate: float, length: float):
    """Set time [s] of a filament whose ion supply must also keep its grown body metallic (``inf``: no set).

    The ions arrive at the front at a rate J(V) = ``supply`` × sinh(V / V₀) [m/s] (Mott–Gurney hopping,
    ``v0`` = 2 k_B T L / (q a) [V]); the grown length ℓ dissolves at the Gibbs–Thomson rate k_d
    (``dissolution_rate`` [1/s], zero order in the metal, so a demand k_d ℓ that grows with ℓ) and the
    supply refills it first.  The front then advances as dℓ/dt = J − k_d ℓ, and reaches ``length`` [m] at

        t = τ_d ln(r / (r − 1)),   τ_d = 1 / k_d,   r = J τ_d / L,

    and never where r ≤ 1: the static threshold is J(V_th) τ_d = L.  For r ≫ 1, t → L / J, the
    hopping-limited set time.  The law leaves out the ions' transit before the first metal forms and the
    stretches of filament that fall below percolation during the growth.
    """
    v = np.asarray(voltage, dtype=float)
    r = supply * np.sinh(v / v0) / (dissolution_rate * length)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(r > 1, np.log1p(1.0 / np.maximum(r - 1, 1e-300)) / dissolution_rate, np.inf)
