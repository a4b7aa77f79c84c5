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
of V drops across the two interfaces' double layers and drives their charge transfer.

A cell with an inert cathode (Pt, say, under an Ag filament) must first nucleate the filament: the
ions reduce on it only once a cluster larger than the critical nucleus has formed.  By the
atomistic theory of electrolytic nucleation (A. Milchev, Electrocrystallization: Fundamentals of
Nucleation and Growth (Kluwer, 2002); used for ECM cells by Menzel et al. 2012) the nucleation
time at a constant cathode overpotential η is

    t_nuc = t₀ exp(ΔG / k_B T) exp(−(N_c + α) z e η / k_B T),

N_c atoms in the critical nucleus and α the transfer coefficient of the step that adds the next
one (:class:`Nucleation`).  On the default device's Ag counter electrode the ions deposit on Ag
itself, with no nucleation.

Where the nucleation limits the set, t_set ≈ t_nuc and V₀ = (dη_fc / dV)⁻¹ k_B T / ((N_c + α) z e):
the nucleation's own scale k_B T / ((N_c + α) z e) (7.4 mV for N_c = 3, α = 1/2 at 300 K) stretched
by the share of the gap voltage the cathode's overpotential takes.

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

    def _barrierless(self, area: float) -> float:
        """K [A] = z e c A a ν: the current when every forward hop is barrier-less."""
        return self.charge_number * e * self.concentration * area * self.hop_distance * self.attempt_frequency

    def _energy(self, drop: float, gap: float) -> float:
        """x [J] = z e a η / (2 L): the barrier lowering of one hop by the drop η [V] over the gap L [m]."""
        return self.charge_number * e * self.hop_distance * drop / (2.0 * gap)

    def current(self, drop: float, gap: float, area: float, temperature: float) -> float:
        """I [A] for the drop η [V] ≥ 0 over the gap L [m]: K [exp(−(E_a − x)⁺ / k_B T) − exp(−(E_a + x) / k_B T)].

        Below the barrier-less field (x < E_a) this is 2 z e c a ν A exp(−E_a / k_B T) sinh(z e a η / (2 k_B T L)),
        the Mott–Gurney law of the channel transport (:class:`~devicephys.filament.kinetics.HoppingLaw`, with its
        cap) carried by the ion concentration c over A.
        """
        kt, x = k_B * temperature, self._energy(drop, gap)
        if x <= self.barrier:  # the sinh form: no cancellation at small drops
            return 2.0 * self._barrierless(area) * math.exp(-self.barrier / kt) * math.sinh(x / kt)
        return self._barrierless(area) * -math.expm1(-(self.barrier + x) / kt)

    def drop(self, current: float, gap: float, area: float, temperature: float) -> float:
        """η_hop [V] that carries ``current`` [A] ≥ 0 (closed-form inverse; inf beyond the barrier-less current K)."""
        kt, k = k_B * temperature, self._barrierless(area)
        current = max(current, 0.0)
        if current >= k:
            return math.inf
        if current <= k * -math.expm1(-2.0 * self.barrier / kt):  # below the cap: 2 K e^(−E_a/kT) sinh(x / kT)
            x = kt * math.asinh(current * math.exp(self.barrier / kt) / (2.0 * k))
        else:                                                     # forward hop barrier-less
            x = -self.barrier - kt * math.log1p(-current / k)
        return x * 2.0 * gap / (self.charge_number * e * self.hop_distance)


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

    def _interfaces(self, current: float, temperature: float) -> tuple[float, float]:
        return (self.anode.overpotential(current, self.anode_area, temperature, cathodic=False),
                self.tip.overpotential(current, self.tip_area, temperature, cathodic=True))

    def _at_hopping_drop(self, drop: float, gap: float, temperature: float) -> tuple[float, tuple[float, float, float]]:
        """(I, (η_ac, η_hop, η_fc)) with the current set by the hopping drop ``drop`` [V]."""
        current = self.hopping.current(drop, gap, self.hop_area, temperature)
        ac, fc = self._interfaces(current, temperature)
        return current, (ac, drop, fc)

    def solve(self, voltage: float, gap: float, temperature: float) -> tuple[float, tuple[float, float, float]]:
        """Ionic current I [A] and its drops (η_ac, η_hop, η_fc) [V] for the gap voltage V [V] ≥ 0.

        Solved on ln η_hop: η_hop + η_ac(I(η_hop)) + η_fc(I(η_hop)) rises with η_hop at a slope ≥ 1, so its
        root in (0, V] is unique; on the logarithm it is found to relative precision both where the hopping
        is nearly ohmic (η_hop ≪ V) and where its current saturates at the barrier-less value, where the
        inverse of the hopping law loses every digit.
        """
        if voltage <= 0.0 or gap <= 0.0:
            return 0.0, (0.0, 0.0, 0.0)

        def excess(log_drop: float) -> float:
            drop = math.exp(log_drop)
            return drop + sum(self._interfaces(self.hopping.current(drop, gap, self.hop_area, temperature),
                                               temperature)) - voltage

        hi, lo = math.log(voltage), math.log(voltage) - 690.0
        if excess(hi) <= 0.0:  # the interfaces take nothing (to rounding)
            return self._at_hopping_drop(voltage, gap, temperature)
        if excess(lo) >= 0.0:  # the hopping takes nothing (to rounding)
            return self._at_hopping_drop(math.exp(lo), gap, temperature)
        drop = math.exp(brentq(excess, lo, hi, xtol=1e-14, rtol=1e-15))
        return self._at_hopping_drop(drop, gap, temperature)

    def hopping_share(self, voltage: float, gap: float, temperature: float) -> float:
        """η_hop / V [1]: the share of the gap voltage that drives the ions through the insulator (1 at V = 0)."""
        if voltage <= 0.0 or gap <= 0.0:
            return 1.0
        return self.solve(voltage, gap, temperature)[1][1] / voltage

    def voltage_scale(self, voltage: float, gap: float, temperature: float) -> dict[str, float]:
        """V₀ = dV / d ln I [V] at ``voltage``, element by element (keys ``anode``, ``hopping``, ``tip``, ``total``).

        Each share is dη_k / d ln I at the operating point, by central differences along the hopping drop.
        """
        _, (_, drop, _) = self.solve(voltage, gap, temperature)
        step = 1e-6 * max(drop, 1e-9)
        i_up, up = self._at_hopping_drop(drop + step, gap, temperature)
        i_down, down = self._at_hopping_drop(max(drop - step, 0.0), gap, temperature)
        d_log_i = math.log(i_up) - math.log(i_down)
        parts = [(u - d) / d_log_i for u, d in zip(up, down)]
        return {"anode": parts[0], "hopping": parts[1], "tip": parts[2], "total": sum(parts)}


@dataclass(frozen=True)
class Nucleation:
    """Atomistic nucleation of the filament's metal on an inert cathode (SI).

    t_nuc(η, T) = t₀ exp(ΔG / k_B T) exp(−(N_c + α) z e η / k_B T) at a constant cathode overpotential
    η [V]: the critical cluster's formation work falls by z e η per atom, and the (N_c + 1)-th atom
    attaches by a charge transfer of coefficient α (Milchev's atomistic theory of electrolytic
    nucleation; the form Menzel et al., J. Appl. Phys. 111, 014501 (2012) use for ECM cells).  No
    values for a particular cell are built in: t₀, ΔG and N_c come from the user (set times at low
    bias, where the nucleation limits the set).  Under a changing η the cathode has nucleated once
    ∫ dt / t_nuc(η(t), T(t)) reaches 1 (the nucleation's progress; a deterministic, mean-time reading
    of a stochastic event).

    Attributes
    ----------
    time_prefactor
        t₀ [s].
    barrier
        ΔG [J] of nucleation at zero overpotential.
    critical_size
        N_c [1], atoms in the critical nucleus.
    transfer_coefficient
        α [1] of the charge transfer that adds the (N_c + 1)-th atom.
    charge_number
        z [1] (1 for Ag⁺).
    """

    time_prefactor: float
    barrier: float
    critical_size: int
    transfer_coefficient: float
    charge_number: int = 1

    @classmethod
    def from_spec(cls, spec) -> "Nucleation | None":
        """The nucleation of a :class:`~devicephys.filament.spec.FilamentSpec` (None unless ``cathode_nucleation``)."""
        if not spec.cathode_nucleation:
            return None
        return cls(spec.nucleation_time_prefactor, spec.nucleation_barrier, spec.critical_nucleus,
                   spec.nucleation_transfer_coefficient)

    def time(self, overpotential: float, temperature: float) -> float:
        """t_nuc [s] at the cathode overpotential η [V] ≥ 0 and temperature T [K]."""
        kt = k_B * temperature
        exponent = (self.barrier - (self.critical_size + self.transfer_coefficient) * self.charge_number * e
                    * max(overpotential, 0.0)) / kt
        # capped both ways: a rate 1/t_nuc and the progress it adds over any step stay finite
        return self.time_prefactor * math.exp(min(max(exponent, -600.0), 700.0))

    def voltage_scale(self, temperature: float) -> float:
        """k_B T / ((N_c + α) z e) [V]: the overpotential that shortens t_nuc e-fold."""
        return k_B * temperature / ((self.critical_size + self.transfer_coefficient) * self.charge_number * e)

    def cluster_fraction(self, volume: float, atomic_volume: float) -> float:
        """[1] Volume fraction of a node of ``volume`` [m³] that one cluster of N_c + 1 atoms of
        ``atomic_volume`` [m³] fills: below it the deposit on the cathode is no stable nucleus."""
        return (self.critical_size + 1) * atomic_volume / volume
