"""Material laws σ(c, T), κ(σ, T) and ρc_p(c), written once for NumPy and UFL.

Each function takes the maths namespace ``xp`` (``numpy`` or ``ufl``) so that
the finite-element forms and the NumPy post-processing use the same law.

The channel's metallic phase carries the nanoscale conduction of
:mod:`devicephys.filament.conduction` as an effective conductivity over the
channel cross-section A_ch = π r_ch² (the finite-element field has no lumped
elements, so each lumped resistance is spread over a region of the field):

* the filament of local radius a = r_ch √c (c the metal volume fraction) has
  the size-effect resistivity ρ₀(T) [1 + 3 λ(T) / (4 · 2a)] with ρ₀ λ constant,
  so per unit length of the channel it conducts like c / ρ_wire on A_ch;
* the insulating phase carries the lumped resistance of the gap: the
  tunnelling conductance G_t of the tip–electrode gap (Simmons) in series with
  the Landauer contact 1 / (N G₀) of the narrowest cross-section, G_gap =
  1 / (1/G_t + 1/(N G₀)), spread as σ_t = G_gap d_eff / A_ch over the channel,
  in parallel with the matrix leakage σ_ins (ψ = 1 inside the channel radius,
  0 outside);
* the two phases are joined in resistivity, 1/σ = (1 − S)/σ_ins-phase + S/σ_wire,
  with S(c) the percolation weight.  Along the axis the insulating phase then
  integrates to d_eff / (σ A_ch) with d_eff = ∫(1 − S) dz, so choosing σ_t with
  the same d_eff makes the channel's resistance exactly 1/G_gap + ∫S ρ_wire dz / A_ch
  whatever the mesh and the width of the percolation crossover.  When the
  filament bridges, G_t → ∞ and the contact 1/(N G₀) remains; when it is open,
  the gap's tunnelling dominates.  The contact's dissipation (over the
  inelastic length, tens of nm, around a ballistic contact) is not resolved: it
  is deposited where the insulating phase's tail is largest: at the narrowest part
  of the filament.

G_gap and d_eff are numbers set per time step from the filament's shape and
the gap voltage of the previous step (see :mod:`devicephys.filament.conduction`).
"""

from __future__ import annotations

from types import ModuleType

from devicephys.units import L0


def metal_conductivity(T, sigma_ref: float, alpha: float, T_ref: float):
    """Electrical conductivity [S/m] of a metal with linear resistivity σ_ref / (1 + α (T − T_ref))."""
    return sigma_ref / (1.0 + alpha * (T - T_ref))


def _max(a, b, xp: ModuleType):
    fn = getattr(xp, "max_value", None)
    return fn(a, b) if fn is not None else xp.maximum(a, b)


def wire_conductivity(c, T, sigma_ref: float, alpha: float, T_ref: float, mean_free_path: float,
                      channel_radius: float, threshold: float, xp: ModuleType):
    """Effective conductivity [S/m] over the channel cross-section of a filament with metal fraction c.

    1/σ = ρ₀(T) [1 + 3λ(T)/(4d)] / c, d = 2 r_ch √c, ρ₀ = (1 + α (T − T_ref)) / σ_ref,
    ρ₀λ constant (λ = ``mean_free_path`` at ``T_ref``); c is floored at the percolation
    ``threshold`` (below it this phase carries no weight).
    """
    c_eff = _max(c, threshold, xp)
    diameter = 2.0 * channel_radius * xp.sqrt(c_eff)
    rho_bulk = (1.0 + alpha * (T - T_ref)) / sigma_ref
    rho_wire = rho_bulk + 0.75 * mean_free_path / (sigma_ref * diameter)  # surface term: ρ₀λ = ρ_ref λ_ref
    return c_eff / rho_wire


def percolation_weight(c, threshold: float, width: float, xp: ModuleType):
    """Smooth step [1] from 0 (insulating) to 1 (metallic) across the percolation threshold of c."""
    return 1.0 / (1.0 + xp.exp(-(c - threshold) / width))


def filament_conductivity(c, sigma_wire, sigma_gap, threshold: float, width: float, xp: ModuleType):
    """σ(c, T) [S/m] of the channel: 1/σ = (1 − S)/σ_gap + S/σ_wire (resistivities mixed; see the module docstring)."""
    s = percolation_weight(c, threshold, width, xp)
    return 1.0 / ((1.0 - s) / sigma_gap + s / sigma_wire)


def thermal_conductivity(sigma, T, kappa_lattice, lorenz: float = L0):
    """κ [W/(m K)] = κ_lattice + L σ T: phonons plus electrons by Wiedemann–Franz."""
    return kappa_lattice + lorenz * sigma * T


def heat_capacity(c, rho_cp_insulator: float, rho_cp_metal: float):
    """Volumetric heat capacity [J/(m³ K)] of insulator holding an Ag volume fraction c."""
    return (1.0 - c) * rho_cp_insulator + c * rho_cp_metal
