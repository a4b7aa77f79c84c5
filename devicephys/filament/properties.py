"""Material laws σ(c, T), κ(σ, T) and ρc_p(c), written once for NumPy and UFL.

Each function takes the maths namespace ``xp`` (``numpy`` or ``ufl``) so that
the finite-element forms and the NumPy post-processing use the same law.
"""

from __future__ import annotations

from types import ModuleType

from devicephys.units import L0


def metal_conductivity(T, sigma_ref: float, alpha: float, T_ref: float):
    """Electrical conductivity [S/m] of a metal with linear resistivity σ_ref / (1 + α (T − T_ref))."""
    return sigma_ref / (1.0 + alpha * (T - T_ref))


def percolation_weight(c, threshold: float, width: float, xp: ModuleType):
    """Smooth step [1] from 0 (insulating) to 1 (metallic) across the percolation threshold of c."""
    return 1.0 / (1.0 + xp.exp(-(c - threshold) / width))


def channel_conductivity(c, sigma_metal, sigma_insulator: float, threshold: float, width: float, xp: ModuleType):
    """σ(c, T) [S/m]: logarithmic interpolation σ_ins^(1−S) σ_metal^S with S the percolation weight.

    Interpolating ln σ rather than σ keeps an unbridged channel insulating: a
    linear mix would give a sub-threshold Ag fraction metallic conductance.
    """
    s = percolation_weight(c, threshold, width, xp)
    log = getattr(xp, "ln", None) or xp.log  # ufl.ln, numpy.log
    return xp.exp((1.0 - s) * log(sigma_insulator) + s * log(sigma_metal))


def thermal_conductivity(sigma, T, kappa_lattice, lorenz: float = L0):
    """κ [W/(m K)] = κ_lattice + L σ T: phonons plus electrons by Wiedemann–Franz."""
    return kappa_lattice + lorenz * sigma * T


def heat_capacity(c, rho_cp_insulator: float, rho_cp_metal: float):
    """Volumetric heat capacity [J/(m³ K)] of insulator holding an Ag volume fraction c."""
    return (1.0 - c) * rho_cp_insulator + c * rho_cp_metal
