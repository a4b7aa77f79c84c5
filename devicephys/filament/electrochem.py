"""Electrochemical set kinetics of a metallization cell: the ionic series circuit (NumPy/SciPy only).

An electrochemical metallization (ECM) cell grows its filament with an ionic current
that crosses three elements in series (Menzel et al., J. Appl. Phys. 111, 014501 (2012);
Menzel et al., Phys. Chem. Chem. Phys. 15, 6945 (2013), the JART ECM model):

* charge transfer at the active electrode, Ag → Ag⁺ + e⁻ (Butler–Volmer, overpotential η_ac
  over the electrode area A_ac),
* ion hopping through the insulator (Mott–Gurney, drop η_hop over the gap L),
* charge transfer at the filament tip, Ag⁺ + e⁻ → Ag (Butler–Volmer, η_fc over the tip area A_fc).

The ionic current is tiny against the electronic one, so the electronic potential across the
gap, V, is fixed by the electrons (the FEM solves it) and the ionic elements share it:

    V = η_ac(I) + η_hop(I) + η_fc(I),   I the same through all three (current continuity).

The field that drives the ions through the bulk of the insulator is η_hop / L, not V / L: the rest
of V drops across the two interfaces' double layers and drives their charge transfer.  (A cell
with an inert cathode must also nucleate the filament first; on the default device's Ag counter
electrode the ions deposit on Ag itself, and nucleation is not modelled.)

Why this matters for the set-time law t_set = τ₀ exp(−V/V₀): over the growth phase
t_set ∝ 1/I(V), so V₀ = dV / d ln I = Σ_k dη_k / d ln I, **a sum over the series elements**.
Each element adds its own share: a Butler–Volmer interface in its Tafel regime k_B T / (α z e)
(0.052 V at 300 K for α = 1/2), the hopping in its exponential regime 2 k_B T L / (z e a)
(0.93 V for the default 9 nm gap and a = 0.5 nm).  A series element can only raise V₀; a small
V₀ needs the hopping to stay in its linear (ohmic) regime, where it adds η_hop itself.
:meth:`SeriesCell.voltage_scale` returns V₀(V) of the circuit, element by element.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.optimize import brentq

from devicephys.units import e, k_B


@dataclass(frozen=True)
class ButlerVolmer:
    """Charge transfer at a metal/electrolyte interface (SI).

    Attributes
    ----------
    exchange_current_density
        j₀ [A/m²].
    transfer_coefficient
        α [1] of the reduction (the oxidation's is 1 − α).
    charge_number
        z [1] of the ion (1 for Ag⁺).
    """

    exchange_current_density: float
    transfer_coefficient: float
    charge_number: int = 1

    def current(self, overpotential: float, area: float, temperature: float, *, cathodic: bool) -> float:
        """Net current [A] at overpotential η [V] > 0 over ``area`` [m²]: reduction if ``cathodic``, else oxidation.

        I = j₀ A [exp(β z e η / k_B T) − exp(−(1 − β) z e η / k_B T)], β = α (cathodic) or 1 − α (anodic).
        """
        a = self.transfer_coefficient if cathodic else 1.0 - self.transfer_coefficient
        x = self.charge_number * e * overpotential / (k_B * temperature)
        return self.exchange_current_density * area * (math.expm1(a * x) - math.expm1(-(1.0 - a) * x))

    def overpotential(self, current: float, area: float, temperature: float, *, cathodic: bool) -> float:
        """η [V] ≥ 0 that carries ``current`` [A] ≥ 0 (inverse of :meth:`current`)."""
        if current <= 0.0:
            return 0.0
        a = self.transfer_coefficient if cathodic else 1.0 - self.transfer_coefficient
        kt = k_B * temperature / (self.charge_number * e)
        i0 = self.exchange_current_density * area
        # exp(a x) − exp(−(1 − a) x) ≥ exp(a x) − 1, so x = ln(1 + I / I₀) / a carries at least I
        hi = kt / a * math.log1p(current / i0) * (1.0 + 1e-9)
        return brentq(lambda eta: self.current(eta, area, temperature, cathodic=cathodic) - current, 0.0, hi,
                      xtol=1e-15, rtol=1e-13)


@dataclass(frozen=True)
class IonHopping:
    """Mott–Gurney hopping of the ions across the gap, as a lumped element (SI).

    Attributes
    ----------
    concentration
        c [1/m³] of mobile ions in the insulator.
    hop_distance, attempt_frequency, barrier
        a [m], ν [Hz], E_a [J].
    charge_number
        z [1].
    """

    concentration: float
    hop_distance: float
    attempt_frequency: float
    barrier: float
    charge_number: int = 1

    def _scale(self, area: float, temperature: float) -> float:
        return (2.0 * self.charge_number * e * self.concentration * self.hop_distance * self.attempt_frequency
                * area * math.exp(-self.barrier / (k_B * temperature)))

    def _voltage_unit(self, gap: float, temperature: float) -> float:
        return 2.0 * k_B * temperature * gap / (self.charge_number * e * self.hop_distance)

    def current(self, drop: float, gap: float, area: float, temperature: float) -> float:
        """I [A] = 2 z e c a ν A exp(−E_a / k_B T) sinh(z e a η / (2 k_B T L)) for the drop η [V] over the gap L [m]."""
        return self._scale(area, temperature) * math.sinh(drop / self._voltage_unit(gap, temperature))

    def drop(self, current: float, gap: float, area: float, temperature: float) -> float:
        """η_hop [V] that carries ``current`` [A] ≥ 0 (closed-form inverse)."""
        return self._voltage_unit(gap, temperature) * math.asinh(max(current, 0.0) / self._scale(area, temperature))


@dataclass(frozen=True)
class SeriesCell:
    """The ionic series circuit across one gap: anode charge transfer, hopping, tip charge transfer.

    Attributes
    ----------
    anode, tip
        :class:`ButlerVolmer` of the active electrode and of the filament tip.
    hopping
        :class:`IonHopping` through the insulator.
    anode_area, tip_area, hop_area
        A_ac, A_fc [m²] of the two interfaces and the hopping cross-section [m²].
    """

    anode: ButlerVolmer
    tip: ButlerVolmer
    hopping: IonHopping
    anode_area: float
    tip_area: float
    hop_area: float

    @classmethod
    def from_spec(cls, spec, area: float) -> "SeriesCell | None":
        """The circuit of a :class:`~devicephys.filament.spec.FilamentSpec` over the channel's ``area`` [m²].

        None when the spec gives no ``exchange_current_density``.  Both interfaces are Ag/Ag⁺ with the
        spec's j₀ and α; the ions cross the channel (area A = π r_ch², the same for the three elements),
        at the concentration of the active electrode's interface layer, c = c_src n_Ag with n_Ag the
        metal's atomic density (density / molar mass × N_A), and hop by the spec's Mott–Gurney law.
        """
        if spec.exchange_current_density is None:
            return None
        from scipy.constants import N_A

        from devicephys import materials

        metal = materials.get(spec.active_electrode)
        transfer = ButlerVolmer(spec.exchange_current_density, spec.transfer_coefficient)
        hopping = IonHopping(spec.source_concentration * metal["density"] / metal["molar_mass"] * N_A,
                             spec.hop_distance, spec.attempt_frequency, spec.migration_barrier)
        return cls(transfer, transfer, hopping, area, area, area)

    def drops(self, current: float, gap: float, temperature: float) -> tuple[float, float, float]:
        """(η_ac, η_hop, η_fc) [V] that carry the ionic ``current`` [A] across a gap [m] at ``temperature`` [K]."""
        return (self.anode.overpotential(current, self.anode_area, temperature, cathodic=False),
                self.hopping.drop(current, gap, self.hop_area, temperature),
                self.tip.overpotential(current, self.tip_area, temperature, cathodic=True))

    def solve(self, voltage: float, gap: float, temperature: float) -> tuple[float, tuple[float, float, float]]:
        """Ionic current I [A] and its drops (η_ac, η_hop, η_fc) [V] for the gap voltage V [V] ≥ 0.

        The drops rise monotonically with I, so the root of Σ η_k(I) = V is unique; it is found on ln I,
        bracketed above by the current the hopping alone would carry at the whole of V.
        """
        if voltage <= 0.0 or gap <= 0.0:
            return 0.0, (0.0, 0.0, 0.0)
        i_max = self.hopping.current(voltage, gap, self.hop_area, temperature)
        i_max = min(i_max, self.anode.current(voltage, self.anode_area, temperature, cathodic=False),
                    self.tip.current(voltage, self.tip_area, temperature, cathodic=True))
        if not i_max > 0.0:
            return 0.0, (0.0, 0.0, 0.0)

        def excess(log_i: float) -> float:
            return sum(self.drops(math.exp(log_i), gap, temperature)) - voltage

        hi = math.log(i_max)
        if excess(hi) <= 0.0:  # the limiting element alone takes V (to rounding)
            return i_max, self.drops(i_max, gap, temperature)
        lo = hi - 40.0
        while excess(lo) >= 0.0:  # down until every element is linear and the drops sum below V
            lo -= 40.0
        log_i = brentq(excess, lo, hi, xtol=1e-13, rtol=1e-13)
        current = math.exp(log_i)
        return current, self.drops(current, gap, temperature)

    def hopping_share(self, voltage: float, gap: float, temperature: float) -> float:
        """η_hop / V [1]: the share of the gap voltage that drives the ions through the insulator (1 at V = 0)."""
        if voltage <= 0.0 or gap <= 0.0:
            return 1.0
        return self.solve(voltage, gap, temperature)[1][1] / voltage

    def voltage_scale(self, voltage: float, gap: float, temperature: float) -> dict[str, float]:
        """V₀ = dV / d ln I [V] at ``voltage``, element by element (keys ``anode``, ``hopping``, ``tip``, ``total``).

        Each share is I dη_k/dI at the operating current, by a central difference of its own drop.
        """
        current, _ = self.solve(voltage, gap, temperature)
        step = 1e-4
        up = self.drops(current * math.exp(step), gap, temperature)
        down = self.drops(current * math.exp(-step), gap, temperature)
        parts = [(u - d) / (2.0 * step) for u, d in zip(up, down)]
        return {"anode": parts[0], "hopping": parts[1], "tip": parts[2], "total": sum(parts)}
