"""The cell's material laws on the mesh: σ(c, T), σ_J, κ and ρc_p as UFL expressions (DOLFINx).

Part of the filament stage's DOLFINx engine (:mod:`devicephys.filament.fem.solve`);
the laws themselves, free of DOLFINx, are in :mod:`devicephys.filament.properties`.
"""

from __future__ import annotations

import math

import dolfinx_solver  # noqa: F401  (loads MPI before dolfinx and petsc4py)
import numpy as np
import ufl
from dolfinx import fem
from mpi4py import MPI

from devicephys.filament import properties as law
from devicephys.filament.mesh import REGION


def region_indicator(data, names: list[str]) -> fem.Function:
    """DG0 function equal to 1 on cells of the named regions, 0 elsewhere."""
    V0 = fem.functionspace(data.domain, ("DG", 0))
    f = fem.Function(V0)
    tags = [REGION[n] for n in names]
    f.x.array[data.cells.indices[np.isin(data.cells.values, tags)]] = 1.0
    f.x.scatter_forward()
    return f


def region_field(data, values: dict[str, float]) -> fem.Function:
    """DG0 function taking ``values[name]`` on the cells of each named region (0 elsewhere)."""
    V0 = fem.functionspace(data.domain, ("DG", 0))
    f = fem.Function(V0)
    for name, value in values.items():
        f.x.array[data.cells.indices[data.cells.values == REGION[name]]] = value
    f.x.scatter_forward()
    return f


class CellMedium:
    """σ(c, T), κ and ρc_p of the cell: metals by region, the insulator's channel by c.

    Metals follow σ_ref / (1 + α (T − T_ref)) with T_ref the temperature of their
    resistivity data (293 K), not the ambient.  The channel is the filament of
    :func:`~devicephys.filament.properties.filament_conductivity`: a size-effect
    wire where c is above the percolation threshold, in series with the
    insulating phase, which carries the matrix leakage σ_ins plus ``gap_conductivity``
    σ_t [S/m].  The caller sets c(z) along the axis; ψ(r) (1 inside the channel above the
    seed, 0 outside, :func:`channel_indicator`) confines it: σ = (1 − ψ) σ_ins + ψ σ_ch,
    so every cross-section carries the channel law on the same area A_ψ.

    σ_t is one number per time step, set by the caller from the filament's
    shape (:class:`~devicephys.filament.conduction.ChannelConduction`): the
    tunnelling conductance of the gap in series with the Landauer contact of
    the narrowest cross-section, G_gap, spread as σ_t = G_gap d_eff / A_ψ with
    d_eff = ∫(1 − S) dz along the axis and A_ψ = ∫ψ dA, so that the insulating
    phase integrates to exactly 1/G_gap along the channel.  These two ballistic
    resistances are lumped elements: a field law for them (σ_t as a function
    of the local voltage, gap and radius inside the forms) would make every
    Newton iteration evaluate the Simmons integral and the mode count at each
    quadrature point, for a quantity that is one number per filament.  Their
    power is not heat in the gap: it is released in the electrodes
    (:meth:`local_heating`).  Spread as a conductivity, they would heat the gap
    by Wiedemann–Franz to the Kohlrausch bound T² − T₀² = V²/(4 L₀), thousands
    of K at volts across a tunnelling gap.
    κ = κ_lattice + L₀ σ T everywhere (κ_lattice is the insulator's in the
    insulator and 0 in metals: pure Wiedemann–Franz).
    """

    #: Quadrature degree of the forms above the 2k + 1 that integrates every term's polynomial part (elements
    #: of degree k, the 2πr weight) exactly: the laws nest exponentials and quotients of c and T, whose
    #: degree UFL estimates at 12 to 29 (five times the cost per Newton iteration), yet they vary smoothly
    #: over one element except at the filament's tip, which the lumped gap carries.  The conduction checks
    #: (tests/filament/test_filament_conduction_fem.py) hold at this degree.
    quadrature_extra = 3

    def __init__(self, data, spec):
        from devicephys import materials

        act, cnt, ins = (materials.get(getattr(spec, n)) for n in ("active_electrode", "counter_electrode", "insulator"))
        metal_regions = {"active_electrode": act, "counter_electrode": cnt, "seed": act}
        self.is_metal = region_indicator(data, list(metal_regions))
        self.sigma_ref = region_field(data, {k: m["electrical_conductivity"] for k, m in metal_regions.items()})
        self.alpha = region_field(data, {k: m["temperature_coefficient"] for k, m in metal_regions.items()})
        self.T_ref = region_field(data, {k: m["reference_temperature"] for k, m in metal_regions.items()})
        self.rho_cp_metal = region_field(data, {k: m["density"] * m["specific_heat"] for k, m in metal_regions.items()})
        self.kappa_lattice = region_field(data, {"insulator": ins["thermal_conductivity"]})
        self.channel_metal = act
        self.insulator = ins
        self.spec = spec
        #: σ_t [S/m]: the lumped gap and contact conductance spread over the channel's insulating phase.
        self.gap_conductivity = fem.Constant(data.domain, 0.0)
        self.in_channel = fem.Function(fem.functionspace(data.domain, ("Lagrange", 1)))
        dim = data.domain.geometry.dim
        self.in_channel.interpolate(lambda x: np.where(x[dim - 1] >= spec.seed_height * (1 - 1e-9),
                                                       channel_indicator(x, spec.channel_radius, dim,
                                                                         spec.channel_edge == "cut"), 0.0))
        self.channel_area = self._channel_area(data, spec)

    def _channel_area(self, data, spec) -> float:
        """A_ψ = ∫ψ dA [m²] over a cross-section of the channel above the seed (ψ ≈ 0 beside the wider seed)."""
        x = ufl.SpatialCoordinate(data.domain)
        weight = 2 * math.pi * x[0] if data.axisymmetric else 1.0
        dx = ufl.Measure("dx", domain=data.domain, subdomain_data=data.cells)(REGION["insulator"])
        volume = fem.assemble_scalar(fem.form(self.in_channel * weight * dx))
        return data.domain.comm.allreduce(volume, op=MPI.SUM) / (spec.insulator_thickness - spec.seed_height)

    def _channel(self, T, c):
        """(σ_ch [S/m] of the channel's filament law, its insulating phase's σ_gap [S/m], weight S [1])."""
        s, ag = self.spec, self.channel_metal
        key = (id(T), id(c))
        if getattr(self, "_cached", (None,))[0] != key:  # one expression per (T, c): the forms share its nodes
            surface = 3.0 * ag["mean_free_path"] / (8.0 * s.channel_radius * ag["electrical_conductivity"])
            gap = self.insulator["electrical_conductivity"] + self.gap_conductivity
            channel = law.filament_conductivity(c, T, gap, ag["electrical_conductivity"],
                                                ag["temperature_coefficient"], ag["reference_temperature"], surface,
                                                s.percolation_threshold, s.percolation_width, ufl)
            weight = law.percolation_weight(c, s.percolation_threshold, s.percolation_width, ufl)
            self._cached = (key, (channel, gap, weight))
        return self._cached[1]

    def sigma(self, T, c):
        """σ [S/m]; ``c`` is the channel's metal fraction c(z), confined here to the channel by ψ(r)."""
        metal = law.metal_conductivity(T, self.sigma_ref, self.alpha, self.T_ref)
        channel, _, _ = self._channel(T, c)
        psi = self.in_channel
        matrix = (1 - psi) * self.insulator["electrical_conductivity"] + psi * channel
        self._heating_args = (T, c)
        return self.is_metal * metal + (1 - self.is_metal) * matrix

    def local_heating(self, sigma, c):
        """σ_J [S/m] with σ_J |∇φ|² the Joule heat released where the current flows.

        σ_J = σ − ψ σ_ch² ρ_b, with ρ_b = (1 − S)/σ_gap the insulating phase's share of
        the channel's resistivity (the lumped contact and gap; the matrix's own leakage
        there, 10⁻¹³ S/m, below 10⁻¹² W, is counted with it): ψ ρ_b |J_ch|² is the power
        those elements take.  Electrons cross a point contact or a tunnelling gap without
        scattering and release that energy in the electrode they enter, over the inelastic
        length (tens of nm, longer than the filament); silver conducts it to the contact
        with a rise P / (2π κ_Ag λ_in) below 1 K at the powers here, so it is handed to the
        heat sinks (and counted by ``ElectroThermal.ballistic_power``).  Written on the
        nodes of σ's own expression (``sigma`` from :meth:`sigma` with the same c), this
        adds a product to the forms, not a second copy of the law.
        """
        channel, gap, weight = self._channel(*self._heating_args)
        return sigma - (1 - self.is_metal) * self.in_channel * channel * channel * (1.0 - weight) / gap

    def silver_fraction(self, c):
        """Ag volume fraction [1] in the cell: the channel's c(z) times ψ(r)."""
        return c * self.in_channel

    def kappa(self, sigma, T):
        return law.thermal_conductivity(sigma, T, self.kappa_lattice)

    def rho_cp(self, c):
        ins = self.insulator["density"] * self.insulator["specific_heat"]
        ag = self.channel_metal["density"] * self.channel_metal["specific_heat"]
        return (self.is_metal * self.rho_cp_metal
                + (1 - self.is_metal) * law.heat_capacity(self.silver_fraction(c), ins, ag))


#: ψ below which the cut edge (``channel_edge: cut``) is the insulator [1]: the channel's outer edge at r_ch + w ln 99.
EDGE_CUT = 0.01


def channel_indicator(x: np.ndarray, channel_radius: float, dim: int, cut: bool = False) -> np.ndarray:
    """ψ(r) [1] at points ``x`` (3, n) [m]: 1 inside the channel radius, 0 outside, over w = a tenth of r_ch.

    The same edge confines c to the channel (:meth:`~devicephys.filament.simulate.CellModel`).  The logistic's
    tail e^(−(r − r_ch)/w) multiplies the metal's conductivity: with Ag's 6.3e7 S/m against the PMMA's 1e-13 S/m
    the insulator beside a metallic body conducts as metal out to r ≈ r_ch + 50 w (13 nm on the default cell,
    the tail's floor), which leaves the current path alone (the tail beyond 2 nm of the wall carries 2e-5 of the
    body's cross-section) but makes the matrix beside the channel an equipotential with it.  ``cut``: ψ is 0 where
    it falls below :data:`EDGE_CUT`, at r_ch + w ln 99 (2.92 nm on the default cell): the insulator starts there.
    """
    r = np.abs(x[0]) if dim == 2 else np.hypot(x[0], x[1])
    psi = 1.0 / (1.0 + np.exp(np.clip((r - channel_radius) / (0.1 * channel_radius), -50, 50)))
    return np.where(psi < EDGE_CUT, 0.0, psi) if cut else psi


def channel_edge_radius(channel_radius: float) -> float:
    """r [m] where the cut edge ends, ψ = :data:`EDGE_CUT`: r_ch + w ln(1/ψ − 1), w = r_ch / 10."""
    return channel_radius * (1.0 + 0.1 * np.log(1.0 / EDGE_CUT - 1.0))
