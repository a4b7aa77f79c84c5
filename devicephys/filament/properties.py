"""Material laws σ(c, T), κ(σ, T) and ρc_p(c), written once for NumPy and UFL.

Each function takes the maths namespace ``xp`` (``numpy`` or ``ufl``) so that
the finite-element forms and the NumPy post-processing use the same law.

The channel's filament (:func:`filament_conductivity`) carries the nanoscale
conduction of :mod:`devicephys.filament.conduction`: a size-effect
(Fuchs–Sondheimer/Dingle) wire where c is above the percolation threshold, in
series with an insulating phase whose conductivity σ_gap holds the matrix
leakage plus the lumped gap: Simmons tunnelling across the gap in series with
the Landauer contact 1/(N G₀) of the narrowest cross-section.  That lumped
conductance G_gap is one number per time step, computed in NumPy from the
filament's shape (gap length, neck radius) and spread as σ_t = G_gap d_eff / A
over the insulating phase, with d_eff = ∫(1 − S) dz, so that resistivities mixed
as 1/σ = (1 − S)/σ_gap + S ρ_wire / c integrate along the channel to exactly
1/G_gap + ∫ S ρ_wire / (c A) dz.  The forms therefore see a constant, not the
Simmons integral or a mode count at every quadrature point of every Newton
iteration: the cost per iteration stays that of a rational law of c and T.
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


def filament_conductivity(c, T, gap_sigma, sigma_ref: float, alpha: float, T_ref: float, surface: float,
                          threshold: float, width: float, xp: ModuleType):
    """σ(c, T) [S/m] of the channel holding a metal fraction c: resistivities mixed across the percolation step.

    1/σ = (1 − S)/σ_gap + S ρ_wire / c_eff, with S the :func:`percolation_weight`,
    σ_gap [S/m] the insulating phase (matrix plus the lumped gap and contact
    conductance spread over it), ρ_wire = ρ₀(T) + ``surface`` / √c_eff the
    size-effect resistivity of a wire of diameter 2 r_ch √c_eff (ρ₀ = (1 + α (T − T_ref)) / σ_ref,
    ``surface`` = 3 ρ_ref λ_ref / (8 r_ch) [Ω m], ρ₀λ constant), and c_eff = c + threshold (1 − S):
    c above the threshold, never below it, without a kink (Newton needs a smooth law).
    """
    s = percolation_weight(c, threshold, width, xp)
    c_eff = c + threshold * (1.0 - s)
    rho_wire = (1.0 + alpha * (T - T_ref)) / sigma_ref + surface / xp.sqrt(c_eff)
    return 1.0 / ((1.0 - s) / gap_sigma + s * rho_wire / c_eff)


def thermal_conductivity(sigma, T, kappa_lattice, lorenz: float = L0):
    """κ [W/(m K)] = κ_lattice + L σ T: phonons plus electrons by Wiedemann–Franz."""
    return kappa_lattice + lorenz * sigma * T


def heat_capacity(c, rho_cp_insulator: float, rho_cp_metal: float):
    """Volumetric heat capacity [J/(m³ K)] of insulator holding an Ag volume fraction c."""
    return (1.0 - c) * rho_cp_insulator + c * rho_cp_metal
