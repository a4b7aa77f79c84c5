"""Silver transport along the filament channel: 1-D Nernst–Planck with reduction and dissolution.

Reduced description (why 1-D): the filament forms in a thin axial channel of
radius r_ch; across it the fields vary little, so silver is described by two
volume fractions on the channel axis, mobile ions c_i(z, t) and metal
c_m(z, t), while φ and T are solved in 2-D (r, z) by
:mod:`devicephys.filament.fem.solve` and read back on the axis:

    ∂c_i/∂t = −∂J/∂z − R_red,   ∂c_m/∂t = R_red − R_dis,   ∂c_s/∂t = R_dis,
    J = c_i (v_MG + v_S) − D ∂c_i/∂z                (dilute, the default),
    J = c_i (1 − θ) (v_MG + v_S) − D ∂c_i/∂z        (θ = c_i + c_m, lattice gas),

* site exclusion (``exclusion=True``): an ion hops only onto a free site, so
  the flux carries the free fraction 1 − θ of the site it enters (a lattice
  gas; the discrete edge flux is a c_i (1 − θ_i+1) − b c_i+1 (1 − θ_i)).
  Every fraction is a volume fraction of the channel, and θ = c_i + c_m stays
  in [0, 1]: ions queue in front of the cathode instead of piling up without
  bound when they arrive faster than they reduce (v_MG / h ≈ 10¹³ /s
  barrier-less against k_r = 10⁷ /s).  The dilute form is valid only while θ
  stays well below 1; the filament stage records the peak θ it reached,

* Mott–Gurney drift v_MG = a ν [exp(−(E_a − q a E/2)⁺/k_B T) − exp(−(E_a + q a E/2)/k_B T)]
  (= 2 a ν e^(−E_a/k_B T) sinh(q a E / 2 k_B T) until the field removes the
  barrier; beyond that the forward hop is barrier-less),
* Fick diffusion D = a² ν exp(−E_a/k_B T) (Einstein-consistent with v_MG),
* thermophoresis v_S = −D S_T ∂T/∂z with S_T = −s E_a / (k_B T²)
  (Strukov et al., Appl. Phys. A 107, 509 (2012)),
* reduction of ions on the filament, R_red = k_r c_i w (c_m capped at 1), where
  w = 1 on metal connected to the counter electrode (the cathode under
  forward bias) and just ahead of its front, 0 elsewhere.  A bridged
  filament whose neck carries a forward field above k_B T/(q a) is one
  electrode from its neck to the cathode: ions reduce on the metal on the
  cathode's side of its narrowest cross-section (the neck carries the
  contact's voltage); without that field it is one metal body and takes
  ions only at the cathode (``smooth_neck``: that side takes them at the
  net forward share of the hops across the neck, tanh(q a E / 2 k_B T),
  instead of all or nothing),
* Gibbs–Thomson dissolution of the thin metal filament, R_dis = k_d(T) c_m /
  (c_m + ε), k_d = ν_d exp(−E_d/k_B T): a cylinder of radius ρ loses volume
  at a rate ∝ (γΩ/ρ) ρ, so d(ρ²)/dt, and with it c_m ∝ ρ², falls at a
  constant rate.  The dissolved Ag diffuses away sideways into the matrix;
  it is kept in a non-conducting pool c_s.  This is what makes the
  switch volatile: without bias nothing replaces the dissolving metal and the
  filament drops below the percolation threshold,
* optionally (``HoppingLaw.return_length`` ℓ, the spec's ``dissolved_return``), the
  dissolved Ag is Ag⁺ that drifts back into the channel in the local field:
  c_s → c_i at k_ret = |v_MG(E, T)| / ℓ (ℓ the channel radius: the distance it
  went sideways), onto a free site under exclusion; at zero field it stays.
  Dissolved Ag so stays in the cell and can re-form the filament under the
  next bias.  With ``HoppingLaw.return_diffusion`` (the spec's ``dissolved_return_diffusion``) the return is
  the Scharfetter–Gummel flux coefficient of the same hopping over ℓ instead, k_ret = (D/ℓ²) B(−Pe), Pe = |v_MG| ℓ/D,
  B(x) = x/(eˣ − 1): |v_MG|/ℓ in a strong field, D/ℓ² at zero field (the drift alone vanishes at zero field and
  leaves the pool where it is, where the same hopping diffuses it with D),
* optionally (``HoppingLaw.escape``, the spec's ``dissolved_escape``), the pool
  also diffuses out of the return's reach into the matrix, c_s → (gone) at
  k_esc = D(T)/ℓ², at any field: a one-compartment estimate of the radial
  spreading (its rate uncertain by a factor of order 1), after which the
  escaped Ag is not followed,
* optionally (the spec's ``dissolved_spread``), the pool is followed instead as it spreads through the matrix in
  (r, z) by the ions' own diffusion, and returns at the channel's wall at the same speed |v_MG(E, T)|
  (:mod:`devicephys.filament.spread`); c_s then has one value per node and matrix shell.  With the spec's
  ``spread_drift`` it also drifts in the matrix's own field and temperature (read from the FEM beside every node,
  :meth:`ChannelTransport.matrix_drift`), and the wall returns it only where the radial field drives it inwards.
* optionally (``ChannelTransport.transfer`` α, the spec's ``bridged_transfer``, with the drift's matrix potential),
  once the filament bridges every node's metal exchanges Ag by Butler–Volmer charge transfer at its overpotential
  η = φ_axis − φ_matrix against the matrix one hop beyond the channel's wall: R_red = k_r c_i e^(−α e η / k_B T)
  and R_dis = k_d e^((1 − α) e η / k_B T) (:meth:`ChannelTransport.transfer_factors`), in place of the neck's rule.
* optionally (``ChannelTransport.capillary``, the spec's ``gibbs_thomson_radius``), the dissolution carries the
  thin body's Gibbs–Thomson excess in full, as interface-controlled kinetics has it (Wagner; Lifshitz–Slyozov:
  the metal leaves at the rate of its equilibrium fraction c_eq(ρ) = c_eq(r_ch) e^(γΩ/ρ k_B T − γΩ/r_ch k_B T),
  the ions arrive at k_r c_i whatever ρ): a node's metal is a compact cylinder of radius ρ = r_ch √c_m, which
  loses volume through its perimeter, so R_dis = k_d (ρ/r_ch) e^(γΩ (1/ρ − 1/r_ch)/k_B T)
  (:meth:`ChannelTransport.capillary_factor`), k_d the filled channel's rate; metal below the percolation
  threshold is no body of its own (the tip of an adjacent one or clusters whose curvature the fraction does not
  resolve) and takes the thinnest body's radius r_ch √c_p; the rate is at most the barrier-less ν_d.

∫(c_i + c_m + c_s) dz is conserved apart from the Ag that escaped (with the
escape) and the exchange with the active electrode: oxidation there injects
ions at c_src v only while the field drives them off the electrode; a metal stub connected to the active
electrode acts as part of it (its ions are held at c_src under forward
field, at 0 otherwise).  With ``electrode_rest`` (the spec's ``active_electrode_equilibrium``) the electrode is
flat Ag at rest in equilibrium with the channel: its interface (and a stub on it) holds
c_eq = (k_d/k_r) exp(−γΩ/(r_ch k_B T)) instead of 0, below the filament's k_d/k_r by the channel's Gibbs–Thomson
excess, so the filament's Ag still ripens onto the flat electrode at zero field, at a drive lower by c_eq.
Discretisation: vertex-centred finite volumes on the axis nodes of
the FE mesh with Scharfetter–Gummel fluxes (exact for constant drift and
diffusion on an edge; stable at any Péclet number); backward Euler with the
local reactions eliminated exactly: one tridiagonal solve for the dilute
form; for the lattice gas a tridiagonal Newton solve
for c_i (on the box 0 ≤ c_i, θ ≤ 1, with a backtracking line search), and
c_i is then taken from the flux form at the converged iterate, so that Ag is
conserved to rounding and the fractions stay in [0, 1] to the Newton
tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_banded

from devicephys.filament.spread import MatrixSpread
from devicephys.filament.spread import bernoulli as _bernoulli
from devicephys.units import e, k_B

_EPS = 1e-3
_NEWTON_MAX = 40
_MAX_HALVINGS = 6  # internal sub-steps (up to 2**6) before the caller is asked for a shorter step
_NEWTON_TOL = 1e-12  # [1] accuracy of the ion fractions of the implicit step
_STALL_TOL = 1e-9  # [1] accepted when the residual no longer falls (rounding of rows with v dt / h >> 1)


class TransportError(RuntimeError):
    """The backward-Euler channel step did not converge (take a shorter step)."""


@dataclass(frozen=True)
class HoppingLaw:
    """Thermally activated hopping of Ag+ and dissolution of the filament (SI).

    Attributes
    ----------
    hop_distance, attempt_frequency, barrier
        a [m], ν [Hz], E_a [J] of Mott–Gurney hopping.
    dissolution_frequency, dissolution_barrier
        ν_d [Hz], E_d [J] of the dissolution rate k_d.
    soret_scale
        s [1]: S_T = −s E_a / (k_B T²).
    reduction_rate
        k_r [1/s]: rate of reduction of ions on a metal surface.
    return_length
        ℓ [m] over which dissolved Ag⁺ beside the channel drifts back into it in the local field
        (the channel radius); None: the dissolved Ag stays where it is.
    escape
        the pool also diffuses out of the return's reach at D/ℓ².
    return_diffusion
        the return is the drift-diffusion (Scharfetter–Gummel) coefficient over ℓ, D/ℓ² at zero field, instead of
        the drift alone.
    """

    hop_distance: float
    attempt_frequency: float
    barrier: float
    dissolution_frequency: float
    dissolution_barrier: float
    soret_scale: float = 1.0
    reduction_rate: float = 1e9
    return_length: float | None = None
    escape: bool = False
    return_diffusion: bool = False

    @classmethod
    def from_spec(cls, spec) -> "HoppingLaw":
        return cls(spec.hop_distance, spec.attempt_frequency, spec.migration_barrier, spec.dissolution_frequency,
                   spec.dissolution_barrier, spec.soret_scale, spec.reduction_rate,
                   spec.channel_radius if spec.dissolved_return else None,
                   bool(getattr(spec, "dissolved_escape", False)),
                   bool(getattr(spec, "dissolved_return_diffusion", False)))

    def escape_rate(self, T):
        """k_esc [1/s] = D(T) / ℓ²: dissolved Ag diffusing out of the return's reach ℓ (0 without ``escape``)."""
        if not self.escape or self.return_length is None:
            return np.zeros(np.shape(np.asarray(T)))
        return self.diffusivity(T) / self.return_length**2

    def diffusivity(self, T):
        """D(T) [m²/s] = a² ν exp(−E_a / k_B T)."""
        return self.hop_distance**2 * self.attempt_frequency * np.exp(-self.barrier / (k_B * np.asarray(T)))

    def drift_velocity(self, E, T):
        """Mott–Gurney drift velocity [m/s] in field E [V/m] at temperature T [K] (barrier-less cap)."""
        kt = k_B * np.asarray(T, dtype=float)
        E = np.asarray(E, dtype=float)
        lowering = 0.5 * e * self.hop_distance * np.abs(E)
        forward = np.exp(-np.maximum(self.barrier - lowering, 0.0) / kt)
        backward = np.exp(-(self.barrier + lowering) / kt)
        return np.sign(E) * self.hop_distance * self.attempt_frequency * (forward - backward)

    def soret_coefficient(self, T):
        """S_T [1/K] = −s E_a / (k_B T²)."""
        return -self.soret_scale * self.barrier / (k_B * np.asarray(T) ** 2)

    def return_rate(self, E, T):
        """k_ret [1/s] = |v_MG(E, T)| / ℓ: dissolved Ag⁺ drifting back over ``return_length`` ℓ (0 without it).

        With ``return_diffusion`` the Scharfetter–Gummel coefficient of the same hopping over ℓ,
        (D/ℓ²) Pe / (1 − e^(−Pe)) with Pe = |v_MG| ℓ / D: D/ℓ² at zero field, |v_MG|/ℓ (1 + O(e^(−Pe))) in a
        strong one."""
        if self.return_length is None:
            return np.zeros(np.broadcast(np.asarray(E), np.asarray(T)).shape)
        speed = np.abs(self.drift_velocity(E, T))
        if not self.return_diffusion:
            return speed / self.return_length
        ell = self.return_length
        D = self.diffusivity(T)
        return D / ell**2 * _bernoulli(-speed * ell / D)

    def dissolution_rate(self, T):
        """k_d(T) [1/s] = ν_d exp(−E_d / k_B T)."""
        return self.dissolution_frequency * np.exp(-self.dissolution_barrier / (k_B * np.asarray(T)))


class ChannelTransport:
    """Backward-Euler Nernst–Planck steps of c(z) on the channel nodes ``z`` [m].

    Parameters
    ----------
    z
        Sorted node positions [m] along the axis (first node on the active side).
    law
        The :class:`HoppingLaw`.
    threshold
        Percolation threshold of c_m (metal connected to the active electrode
        then holds c_i = c_src); None disables that rule.
    source
        Ag+ fraction c_src in the active electrode's interface layer, or None
        for a no-flux end.  The first node exchanges Ag with that reservoir
        through a Scharfetter–Gummel half-cell (an inflow/Danckwerts
        condition): under forward bias ions enter at c_src v, at zero bias c
        relaxes towards c_src, and the contact node itself may turn metallic
        when the filament reaches the electrode.
    exclusion
        True: a lattice gas (a hop needs a free site, c_i + c_m <= 1; Newton
        step).  False: the dilute Nernst–Planck (one linear solve per step),
        valid only while c_i + c_m stays well below 1; :meth:`step` then
        leaves the occupancy unbounded and the caller reports its peak.
    """

    def __init__(self, z: np.ndarray, law: HoppingLaw, source: float | None, threshold: float | None = None,
                 exclusion: bool = False, smooth_neck: bool = False, spread: dict | None = None,
                 bridged_supply: bool = False, transfer: float | None = None,
                 capillary: tuple[float, float] | None = None, electrode_rest: float | None = None):
        self.z = np.asarray(z, dtype=float)
        self.smooth_neck = smooth_neck  # the driven neck's share tanh(q a E / 2 k_B T) instead of its threshold
        #: a bridged filament's ions reduce on all of its metal, the active electrode's side of the neck included
        #: (:meth:`reduction_weight`); False: from the neck to the cathode only
        self.bridged_supply = bool(bridged_supply)
        #: the transfer coefficient α [1] of a bridged filament's charge transfer with the channel's ions at the local
        #: overpotential (:meth:`transfer_factors`); None: no such back-reaction
        self.transfer = transfer
        #: (γΩ [J m], channel radius r_ch [m]) of the dissolution's Gibbs–Thomson radius dependence
        #: (:meth:`capillary_factor`); None: the zero-order rate k_d whatever the body's radius
        self.capillary = capillary
        #: γΩ / r_ch [J]: the active electrode is flat metal at rest that holds its equilibrium ion fraction
        #: :meth:`rest_fraction` at its interface, the filled channel's k_d/k_r lowered by the channel's Gibbs–Thomson
        #: excess; None: at zero and reverse field it holds none (every ion that reaches it is taken)
        self.electrode_rest = electrode_rest
        #: Ag+ fraction c_L [1] of the active electrode's interface layer in Nernst equilibrium with the electrode
        #: (the spec's ``anode_nernst``, set by the caller before each step): the layer lies on the electrode's
        #: surface, so the first node (on that surface) holds it, or a stub on the electrode does, whatever the
        #: field (:meth:`_clamp_anode_metal`); None: c_src enters at v under forward field (with
        #: ``electrode_rest``'s c_eq beside it) through the first node's half-cell
        self.layer: float | None = None
        #: [V] the ions' own potential per unit ion fraction, psi = G c_i (G[k, j]: psi at node k of a unit fraction
        #: at node j, conductors grounded; set by the caller before each step): the ions then drift in the applied
        #: field plus -d psi/dz of their own charge at the step's end (backward Euler, one Newton with the dense
        #: coupling; Poisson-Nernst-Planck along the axis); the ions held at the active electrode's fraction are its
        #: interface layer and stay out of it (:meth:`ion_field`).  None: the applied field alone (charge-free drift)
        self.green: np.ndarray | None = None
        if self.z.size < 3 or np.any(np.diff(self.z) <= 0):
            raise ValueError("channel nodes must be at least 3 strictly increasing positions")
        self.h = np.diff(self.z)
        self.volume = np.zeros_like(self.z)
        self.volume[:-1] += self.h / 2
        self.volume[1:] += self.h / 2
        self.law, self.source, self.threshold, self.exclusion = law, source, threshold, exclusion
        #: the dissolved Ag's (r, z) spread through the matrix (:mod:`devicephys.filament.spread`), from ``spread``
        #: = dict(channel_radius, outer_radius, first_width) [m]; None: one pool per node
        self.spread = None if spread is None else MatrixSpread(self.volume, self.h, **spread)
        if capillary is not None and threshold is None:
            raise ValueError("the dissolution's radius dependence (capillary) needs the percolation threshold")
        if self.spread is not None and law.return_length is None:
            raise ValueError("the matrix spread needs the return (HoppingLaw.return_length)")

    def empty_pool(self) -> np.ndarray:
        """The dissolved Ag's state with none dissolved: one value per node, or (nodes, shells) with the spread."""
        return np.zeros(self.z.size) if self.spread is None else self.spread.empty()

    def pool_total(self, c_s: np.ndarray) -> np.ndarray:
        """Each node's dissolved Ag [1] per channel volume (summed over the matrix's shells with the spread)."""
        return c_s if c_s.ndim == 1 else self.spread.total(c_s)

    def plated(self, c_s: np.ndarray) -> np.ndarray:
        """Each node's Ag [1] per channel volume plated from the matrix onto the counter electrode (zeros without
        the spread's plating)."""
        return np.zeros(c_s.shape[0]) if c_s.ndim == 1 else self.spread.plated(c_s)

    def returnable(self, c_s: np.ndarray) -> np.ndarray:
        """The one-compartment pool [1] whose return k_ret(E, T) × it is the return of ``c_s``: the pool itself, or,
        with the spread, what the first shell's Ag returns at the channel's wall."""
        return c_s if self.spread is None else self.spread.at_wall(c_s)

    @staticmethod
    def _dissolve(c_s: np.ndarray, amount: np.ndarray) -> np.ndarray:
        """The pool with ``amount`` [1] dissolved into it (into the shell at the wall with the spread)."""
        if c_s.ndim == 1:
            return c_s + amount
        out = c_s.copy()
        out[:, 0] += amount
        return out

    def edge_fluxes(self, c: np.ndarray, E_edge: np.ndarray, T: np.ndarray):
        """Coefficients (a, b) with edge flux J_i+½ = a_i c_i − b_i c_i+1 [m/s · c]."""
        T_edge = 0.5 * (T[:-1] + T[1:])
        D = self.law.diffusivity(T_edge)
        v = self.law.drift_velocity(E_edge, T_edge)
        v = v - D * self.law.soret_coefficient(T_edge) * np.diff(T) / self.h
        pe = v * self.h / D
        return D / self.h * _bernoulli(-pe), D / self.h * _bernoulli(pe)

    def rest_fraction(self, T) -> np.ndarray:
        """c_eq(T) [1]: the ion fraction of the channel in equilibrium with the flat active electrode at rest.

        The filled channel's metal holds its ions at k_d(T)/k_r (dissolution against reduction); the flat electrode
        lacks the channel's Gibbs–Thomson excess γΩ/r_ch, so c_eq = (k_d/k_r) exp(−γΩ/(r_ch k_B T)) (the same
        convention as :meth:`capillary_factor`: k_d is the rate of a body of the channel's radius).  0 without
        ``electrode_rest``.
        """
        T = np.asarray(T, dtype=float)
        if self.electrode_rest is None:
            return np.zeros(T.shape)
        return (self.law.dissolution_rate(T) / self.law.reduction_rate
                * np.exp(-self.electrode_rest / (k_B * T)))

    def _reservoir_exchange(self, E: float, T: float) -> tuple[float, float, float]:
        """Coefficients of the flux a c_src + r − b c_0 from the active electrode into the first node.

        Oxidation injects ions only when the field drives them away from the
        electrode (a = max(v, 0): no ion bath at zero bias); ions at the
        first node return to the electrode by drift and diffusion
        (Scharfetter–Gummel, with zero ion fraction inside the metal).  With ``electrode_rest`` the electrode's
        interface holds :meth:`rest_fraction` c_eq, which enters by the same Scharfetter–Gummel half-cell,
        r = (D/h) B(−Pe) c_eq [m/s], onto a free site as the oxidation's (the lattice gas): at zero field the first
        node relaxes to c_eq (1 − θ_0) (c_eq in the dilute step), under forward field it adds v c_eq to the
        oxidation's v c_src, under reverse field it vanishes; without it r = 0.  (With :attr:`layer` the first node
        holds c_L itself: :meth:`_clamp_anode_metal`.)
        """
        h = self.h[0]
        D = float(self.law.diffusivity(T))
        v = float(self.law.drift_velocity(E, T))
        b_back, b_fwd = _bernoulli(np.array([v * h / D, -v * h / D]))
        rest = D / h * float(b_fwd) * float(self.rest_fraction(T)) if self.electrode_rest is not None else 0.0
        return max(v, 0.0), D / h * float(b_back), rest

    @staticmethod
    def connected(metal: np.ndarray, from_top: bool) -> np.ndarray:
        """Nodes of the metallic run touching the counter (``from_top``) or the active electrode."""
        seq = metal[::-1] if from_top else metal
        run = np.cumprod(seq).astype(bool)
        return run[::-1] if from_top else run

    def reduction_weight(self, c_m: np.ndarray, threshold: float, E_edge: np.ndarray | None = None,
                         T: np.ndarray | None = None, nucleated: bool = True) -> np.ndarray:
        """w [1]: 1 where ions reduce onto the filament growing from the counter electrode, else 0.

        Under forward bias the counter electrode is the cathode: ions reduce on
        the metal connected to it (c_m >= threshold), just ahead of its front,
        and at the cathode node itself.  Metal connected to the active
        electrode belongs to the anode (its ions are the reservoir), and
        isolated sub-threshold Ag does not nucleate metal.  A bridged filament
        takes ions from its neck to the cathode while the neck is driven
        (:meth:`_neck_driven`, from the edge fields ``E_edge`` [V/m] and node
        temperatures ``T`` [K]; without ``E_edge`` it counts as driven).  ``nucleated`` False: an inert
        cathode that has not nucleated takes no ions (its node holds none of the filament's metal).  With
        ``bridged_supply`` a bridged filament takes ions on all of its metal: the active electrode's ions, which
        reach its body along the channel, reduce on it there too (a premise: the body on the active electrode's side
        of a driven neck is at that electrode's potential, anodic to the matrix beside it, and ions in equilibrium
        with the flat electrode are below the thin body's Gibbs–Thomson solubility; the transport has no such
        back-reaction and reduces at k_r whatever the overpotential).
        """
        metal = c_m >= threshold
        cathode = self.connected(metal, from_top=True)
        anode = self.connected(metal, from_top=False) if self.source is not None else np.zeros_like(metal)
        w = cathode & ~anode
        share = 0.0
        if cathode.all():
            share = self.neck_share(c_m, E_edge, T) if self.smooth_neck else float(self._neck_driven(c_m, E_edge, T))
        if share == 1.0:
            # bridged: the filament is one electrode from the neck to the cathode.  Its narrowest
            # cross-section carries the contact's voltage; metal on the cathode's side of it (the
            # neck included) is at the cathode's potential and takes the ions that arrive there.
            w[int(np.argmin(c_m)):] = True
        front = np.flatnonzero(cathode)
        if front.size and front[0] > 0 and not anode[front[0] - 1]:
            w[front[0] - 1] = True
        if self.bridged_supply and cathode.all():
            w |= metal  # the premise of ``bridged_supply``: ions reduce on the whole bridged body
        w[-1] = nucleated
        w = w.astype(float)
        if 0.0 < share < 1.0:  # smooth_neck: that metal takes the ions in proportion to the neck's drive
            k = int(np.argmin(c_m))
            w[k:] = np.maximum(w[k:], share)
        return w

    def transfer_factors(self, c_m: np.ndarray, threshold: float, phi_axis: np.ndarray, phi_matrix: np.ndarray,
                         T: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """A bridged filament's charge transfer with the channel's ions at each node's overpotential: (reduction weight
        w [1], dissolution factor f [1]) on every node, or None (no ``transfer``, or the filament not bridged).

        The metal on the axis at φ_axis [V] meets the electrolyte, the matrix one hop beyond the channel's wall at
        φ_matrix [V]: η = φ_axis − φ_matrix is the node's overpotential (> 0 anodic).  Butler–Volmer with the
        transfer coefficient α: the ions reduce at k_r exp(−α e η / k_B T) and the metal dissolves at
        k_d(T) exp((1 − α) e η / k_B T) (T [K] on the nodes).  At η = 0 both are the transport's own k_r and k_d, so
        the net exchange vanishes where c_i k_r = k_d: the exchange's equilibrium ion fraction k_d / k_r carries the
        thin body's Gibbs–Thomson excess as k_d does.  Each exponent is barrier-less at most: neither rate exceeds the
        metal surface's attempt frequency ν_d (the dissolution's), w ≤ ν_d / k_r and f ≤ ν_d / k_d.
        """
        if self.transfer is None:
            return None
        metal = np.asarray(c_m) >= threshold
        if not self.connected(metal, from_top=True).all():
            return None
        law, alpha = self.law, self.transfer
        x = e * (np.asarray(phi_axis, float) - np.asarray(phi_matrix, float)) / (k_B * np.asarray(T, float))
        ceiling = law.dissolution_frequency
        w = np.exp(np.minimum(-alpha * x, np.log(ceiling / law.reduction_rate)))
        f = np.exp(np.minimum((1.0 - alpha) * x, np.log(ceiling / law.dissolution_rate(T))))
        return w, f

    def capillary_factor(self, c_m: np.ndarray, T: np.ndarray) -> np.ndarray | None:
        """The dissolution's factor [1] from the metal's radius on every node (T [K]), or None (no ``capillary``).

        A node's metal is a compact cylinder of radius ρ = r_ch √c̃ coaxial with the channel, c̃ = c_m clipped to
        [c_p, 1] (below the percolation threshold c_p the metal is the tip of an adjacent body or clusters, whose
        curvature the fraction does not resolve: the thinnest body's radius).  By Gibbs–Thomson its equilibrium ion
        fraction exceeds the filled channel's by e^(γΩ (1/ρ − 1/r_ch)/k_B T) (a cylinder's one curvature 1/ρ), and
        with interface-controlled kinetics (Wagner) the metal leaves at that fraction's rate through its perimeter
        2πρ: R_dis = k_d (ρ / r_ch) e^(γΩ (1/ρ − 1/r_ch)/k_B T), k_d the filled channel's (factor 1 at c_m = 1).
        The reduction k_r c_i does not depend on ρ.  With the reduction at k_r c_i, the metal and its ions balance at
        c_i = (k_d/k_r)(ρ/r_ch) e^(...), the body's Gibbs–Thomson equilibrium up to its perimeter.
        """
        if self.capillary is None:
            return None
        gamma_omega, radius = self.capillary
        # not an extrapolation guard: below c_p the metal is no body of its own (the stated rule: the thinnest
        # body's radius); c_m never exceeds 1 (a full channel)
        share = np.clip(np.asarray(c_m, dtype=float), self.threshold, 1.0)
        rho = radius * np.sqrt(share)
        return np.sqrt(share) * np.exp(gamma_omega * (1.0 / rho - 1.0 / radius) / (k_B * np.asarray(T, dtype=float)))

    def neck_share(self, c_m: np.ndarray, E_edge: np.ndarray | None, T: np.ndarray | None) -> float:
        """The driven share [1] of a bridged filament's neck, tanh(q a E / 2 k_B T) of its larger forward edge field
        E (0 without a forward field; 1 without fields, ``E_edge`` None).

        A hop across the neck goes forward at a rate ∝ exp(q a E / 2 k_B T) and back at exp(−q a E / 2 k_B T): the
        net forward share of its hops, (f − b) / (f + b), is this tanh.  It is the smooth form of
        :meth:`_neck_driven`'s threshold q a E = k_B T (share 0.46 there), with the same limits: 0 at zero current
        (one metal body), 1 where drift dominates.  With the threshold, a neck held near it under the
        compliance switches the cathode side's reduction on and off from one step to the next.
        """
        if E_edge is None:
            return 1.0
        field, t_neck = self._neck_field(c_m, E_edge, T)
        x = max(field, 0.0) * e * self.law.hop_distance / (k_B * t_neck)
        return float(np.tanh(0.5 * x))

    def _neck_driven(self, c_m: np.ndarray, E_edge: np.ndarray | None, T: np.ndarray | None) -> bool:
        """True when the bridged filament's neck carries a forward voltage that drives ions across it.

        The neck splits the filament into an anode and a cathode side only while current drops a voltage
        across it: the forward field on one of its edges must exceed k_B T / (q a) (drift beats
        diffusion over one hop, the anode stub's criterion).  At zero current the bridged filament is
        one metal body, connected to both electrodes, and takes ions only at the cathode.  Without the
        field (``E_edge`` None) the neck counts as driven.
        """
        if E_edge is None:
            return True
        field, t_neck = self._neck_field(c_m, E_edge, T)
        return bool(field > k_B * t_neck / (e * self.law.hop_distance))

    @staticmethod
    def _neck_field(c_m: np.ndarray, E_edge: np.ndarray, T: np.ndarray | None) -> tuple[float, float]:
        """(larger forward field [V/m] on the two edges of the neck, the neck's temperature [K]; 300 K without T);
        the neck is the node of least metal."""
        k = int(np.argmin(c_m))
        edges = [j for j in (k - 1, k) if 0 <= j < E_edge.size]
        return float(max(E_edge[j] for j in edges)), float(T[k]) if T is not None else 300.0

    def step(self, c_i: np.ndarray, c_m: np.ndarray, c_s: np.ndarray, E_edge: np.ndarray, T: np.ndarray,
             dt: float, w: np.ndarray, _depth: int = 0, matrix: tuple[np.ndarray, np.ndarray] | None = None,
             dissolve: np.ndarray | None = None, _radius_at: np.ndarray | None = None):
        """Advance ions c_i, metal c_m and dissolved pool c_s by ``dt`` [s].

        E_edge [V/m] on the edges, T [K] on the nodes, ``w`` from :meth:`reduction_weight`.  ``matrix`` = (φ [V],
        T [K]) in the matrix beside every node at the spread's :meth:`matrix_radii` (nodes × radii): the dissolved
        Ag then drifts in the matrix's own field (:meth:`matrix_drift`); None: the spread diffuses only.
        ``dissolve`` [1]: a factor on every node's dissolution rate (:meth:`transfer_factors`; None: 1).
        Returns (c_i, c_m, c_s) at the new time.  A hop needs a free site: the
        edge flux is a c_i (1 − θ_i+1) − b c_i+1 (1 − θ_i) with θ = c_i + c_m the
        occupied fraction of the channel (a lattice gas with exclusion), so
        c_i + c_m stays in [0, 1].  The backward-Euler system is solved by Newton;
        :class:`TransportError` when it does not converge (the caller halves dt).  With ``capillary`` the
        dissolution's radius factor is taken at the step's midpoint metal (``_radius_at``): a first solve with it at
        the step's start predicts the end, the step is then solved with it at the mean of the two.
        """
        if self.capillary is not None and _radius_at is None:
            predicted = self.step(c_i, c_m, c_s, E_edge, T, dt, w, _depth, matrix, dissolve, _radius_at=c_m)[1]
            return self.step(c_i, c_m, c_s, E_edge, T, dt, w, _depth, matrix, dissolve,
                             _radius_at=0.5 * (c_m + predicted))
        c_i, c_s = self._return(c_i, c_m, c_s, E_edge, T, dt, matrix, w)
        if not self.exclusion:
            if self.green is not None:
                raise ValueError("the ions' own field (green) needs the lattice gas (exclusion=True)")
            return self._dilute_step(c_i, c_m, c_s, E_edge, T, dt, w, dissolve, _radius_at)
        a, b = self.edge_fluxes(c_i, E_edge, T)
        k_red = self.law.reduction_rate * w
        k_dis = self._dissolution(T, c_m, dissolve, _radius_at)
        denom = 1.0 + dt * k_dis
        # θ(x) = x + c_m_new(x) = alpha x + beta, with c_m_new = (c_m + dt k_red x) / denom
        alpha, beta = 1.0 + dt * k_red / denom, c_m / denom
        a0 = b0 = r0 = 0.0
        if self.source is not None:
            a0, b0, r0 = self._reservoir_exchange(E_edge[0], T[0])
        free = (1.0 - beta) / alpha  # the ions' free-site bound: θ = α x + β ≤ 1 at the step's end
        fixed = self._clamp_anode_metal(c_m, E_edge, T)
        if fixed is not None:  # a held node takes its ions onto free sites too
            # (the layer's first node reduces ions where the filament's front is next to it)
            nodes, value = fixed
            fixed = (nodes, np.minimum(value, np.clip(free[nodes], 0.0, None)))
        x = np.clip(c_i, 0.0, None).copy()
        if fixed is not None:
            x[fixed[0]] = fixed[1]
        upper = np.maximum(free, c_i)  # θ ≤ 1 (or no fuller than it was)
        if fixed is not None:
            upper[fixed[0]] = np.maximum(upper[fixed[0]], fixed[1])
        if self.green is None:
            args = (c_i, a, b, a0, b0, r0, alpha, beta, k_red, dt, fixed)

            def evaluate(y):
                return self._residual(y, *args)

            def direction(y, r, jac):
                return self._newton_direction(y, r, jac, upper)

            def diagonal(jac):
                return jac[1]
        else:
            def evaluate(y):
                return self._coupled_residual(y, c_i, E_edge, T, alpha, beta, k_red, dt, fixed)

            def direction(y, r, jac):
                return self._dense_newton_direction(y, r, jac, upper)

            def diagonal(jac):
                return np.diagonal(jac)
        res, ab = evaluate(x)
        for _ in range(_NEWTON_MAX):
            dx = direction(x, res, ab)
            scale = np.abs(diagonal(ab))  # rows in units of the node's fraction
            norm, lam = np.linalg.norm(res / scale), 1.0
            while True:  # backtracking on the projected step: the residual must fall
                trial, _ = self._projected(x, lam * dx, upper)
                res_t, ab_t = evaluate(trial)
                if np.linalg.norm(res_t / scale) <= norm or lam < 1e-3:
                    break
                lam /= 2
            stalled = np.linalg.norm(res_t / scale) >= norm  # at the rounding floor of the stiff rows
            x, res, ab = trial, res_t, ab_t
            error = np.max(np.abs(res / diagonal(ab)))  # each node's fraction to this accuracy
            if error <= _NEWTON_TOL or (stalled and error <= _STALL_TOL):
                break
        else:
            if _depth < _MAX_HALVINGS:  # two backward-Euler half steps (E, T and w held)
                half = self.step(c_i, c_m, c_s, E_edge, T, dt / 2, w, _depth + 1, matrix, dissolve)
                return self.step(*half, E_edge, T, dt / 2, w, _depth + 1, matrix, dissolve)
            raise TransportError(f"channel transport: Newton did not converge in {_NEWTON_MAX} iterations at "
                                 f"dt = {dt:g} s")
        # The ions from the flux form at the converged x: Ag is conserved to rounding, whatever the residual.
        ci_new = x - dt * res / self.volume
        if fixed is not None:
            ci_new[fixed[0]] = x[fixed[0]]
        cm_new = (c_m + dt * k_red * x) / denom
        cs_new = self._dissolve(c_s, dt * k_dis * cm_new)
        return ci_new, cm_new, cs_new

    def matrix_radii(self, wall: float | None = None) -> np.ndarray:
        """Radii [m] at which :meth:`step`'s ``matrix`` fields are read on every node: the wall's return field's two
        points, ``wall`` (default the channel's wall r_ch; the FEM's outer edge of the channel, where its matrix
        begins) and one hop a beyond it, then the spread's shells' nodes (an empty array without the spread)."""
        return np.empty(0) if self.spread is None else self.spread.points(self.law.hop_distance, wall)

    def matrix_drift(self, phi: np.ndarray, T: np.ndarray):
        """The matrix's Nernst–Planck coefficients from its potential ``phi`` [V] and temperature ``T`` [K] at
        :meth:`matrix_radii` on every node: (wall return speed [m/s], D at the shells [m²/s], D on the axial
        edges [m²/s], (P_r, P_z) [1]).

        The dissolved Ag⁺ hops like the channel's ions: Mott–Gurney drift in the field between two points plus
        thermophoresis, v = v_MG(E, T) − D S_T ∂T/∂s, with D = a²ν e^(−E_a/k_BT) at their mean temperature.  The
        wall returns it to the channel at the inward speed of the hop between the first two radii (the wall's and
        one hop beyond), max(−v, 0) (an outward field returns none); between shells and nodes P = v Δ / D.
        """
        law, a = self.law, self.law.hop_distance

        def velocity(dphi, dT, T_mid, length):  # [m/s] in the direction of the second point
            return (law.drift_velocity(dphi / length, T_mid)
                    - law.diffusivity(T_mid) * law.soret_coefficient(T_mid) * dT / length)

        inward = -velocity(phi[:, 0] - phi[:, 1], T[:, 1] - T[:, 0], 0.5 * (T[:, 0] + T[:, 1]), a)
        phi_s, T_s, rho = phi[:, 2:], T[:, 2:], self.spread.radius
        T_r, T_z = 0.5 * (T_s[:, :-1] + T_s[:, 1:]), 0.5 * (T_s[:-1] + T_s[1:])
        width = np.diff(rho)[None, :]
        v_r = velocity(phi_s[:, :-1] - phi_s[:, 1:], np.diff(T_s, axis=1), T_r, width)
        h = self.h[:, None]
        v_z = velocity(phi_s[:-1] - phi_s[1:], np.diff(T_s, axis=0), T_z, h)
        D_z = law.diffusivity(T_z)
        return (np.maximum(inward, 0.0), law.diffusivity(T_s), D_z,
                (v_r * width / law.diffusivity(T_r), v_z * h / D_z))

    def _return(self, c_i, c_m, c_s, E_edge, T, dt, matrix=None, w=None):
        """Dissolved Ag back into the channel's ions: c_s → c_i at k_ret(E, T), implicit over ``dt``.

        The node's field is the mean of its two edges' (one at the ends).  With site exclusion an
        ion returns only onto a free site (c_i + c_m ≤ 1).  Ag is conserved exactly.  With the spread's plating the
        counter electrode's node's shells reduce onto it at k_r w (``w`` the channel's reduction weight, whose last
        node is the electrode's; None: 1).
        """
        if self.law.return_length is None or not np.any(c_s > 0.0):
            return c_i, c_s
        E_node = np.empty_like(c_i)
        E_node[1:-1] = 0.5 * (E_edge[:-1] + E_edge[1:])
        E_node[0], E_node[-1] = E_edge[0], E_edge[-1]
        plate = None
        if self.spread is not None and self.spread.plating:  # the counter electrode's node, at the channel's k_r w
            plate = np.zeros(c_i.size)
            plate[-1] = self.law.reduction_rate * (1.0 if w is None else float(w[-1]))
        if self.spread is not None and matrix is not None:  # Nernst–Planck in the matrix's own φ and T
            speed, D_node, D_edge, peclet = self.matrix_drift(*matrix)
            back, pool = self.spread.step(c_s, speed, D_node, D_edge, dt, peclet, plate)
        elif self.spread is not None:  # the wall's return from the matrix's (r, z) spread, implicit over dt
            T_edge = 0.5 * (T[:-1] + T[1:])
            back, pool = self.spread.step(c_s, np.abs(self.law.drift_velocity(E_node, T)), self.law.diffusivity(T),
                                          self.law.diffusivity(T_edge), dt, plate=plate)
        if self.spread is not None:
            if self.exclusion:
                kept = np.minimum(back, np.clip(1.0 - c_i - c_m, 0.0, None))
                pool[:, 0] += back - kept  # what finds no free site stays at the wall
                back = kept
            return c_i + back, pool
        rate = self.law.return_rate(E_node, T) * dt
        escape = self.law.escape_rate(T) * dt
        back = c_s * rate / (1.0 + rate + escape)  # both first order from the pool, implicit over dt
        gone = c_s * escape / (1.0 + rate + escape)
        if self.exclusion:
            back = np.minimum(back, np.clip(1.0 - c_i - c_m, 0.0, None))
        return c_i + back, c_s - back - gone

    def _dissolution(self, T, c_m, dissolve=None, radius_at=None):
        """k_dis [1/s] with R_dis = k_dis c_m: the zero-order dissolution k_d(T) (times ``dissolve``, and with
        ``capillary`` times :meth:`capillary_factor` of the metal ``radius_at``, by default ``c_m``, the whole at most
        the barrier-less ν_d), linearised."""
        rate = self.law.dissolution_rate(T) if dissolve is None else self.law.dissolution_rate(T) * dissolve
        factor = self.capillary_factor(c_m if radius_at is None else radius_at, T)
        if factor is not None:
            rate = np.minimum(rate * factor, self.law.dissolution_frequency)
        return rate / (c_m + _EPS)

    def _dilute_step(self, c_i, c_m, c_s, E_edge, T, dt, w, dissolve=None, radius_at=None):
        """The step without site exclusion: J = c_i v − D ∂c_i/∂z, one tridiagonal solve (c_m capped at 1)."""
        a, b = self.edge_fluxes(c_i, E_edge, T)
        k_red = self.law.reduction_rate * w
        k_dis = self._dissolution(T, c_m, dissolve, radius_at)
        ab = np.zeros((3, c_i.size))
        ab[1] = self.volume / dt + self.volume * k_red
        ab[1, :-1] += a
        ab[1, 1:] += b
        ab[0, 1:] = -b          # row i, column i+1
        ab[2, :-1] = -a         # row i+1, column i
        rhs = self.volume * c_i / dt
        if self.source is not None:
            a0, b0, r0 = self._reservoir_exchange(E_edge[0], T[0])
            ab[1, 0] += b0
            rhs[0] += a0 * self.source + r0
            fixed = self._clamp_anode_metal(c_m, E_edge, T)
            if fixed is not None:
                nodes, value = fixed
                ab[1, nodes], rhs[nodes] = 1.0, value
                ab[0, nodes[nodes + 1 < c_i.size] + 1] = 0.0
                ab[2, nodes[nodes > 0] - 1] = 0.0
        ci_new = np.maximum(solve_banded((1, 1), ab, rhs), 0.0)
        cm_new = (c_m + dt * k_red * ci_new) / (1.0 + dt * k_dis)
        cs_new = self._dissolve(c_s, dt * k_dis * cm_new)
        excess = np.maximum(cm_new - 1.0, 0.0)  # a full channel takes no more metal: back to the ions
        return ci_new + excess, cm_new - excess, cs_new

    def _residual(self, x, c_old, a, b, a0, b0, r0, alpha, beta, k_red, dt, fixed):
        """Residual [m · c / s] of the backward-Euler balance at ion fractions ``x`` and its tridiagonal Jacobian."""
        theta = alpha * x + beta
        free = np.clip(1.0 - theta, 0.0, 1.0)
        dfree = np.where(theta <= 1.0, -alpha, 0.0)  # d free_i / d x_i (from below at θ = 1: x stays in its box)
        flux = a * x[:-1] * free[1:] - b * x[1:] * free[:-1]
        res = self.volume * ((x - c_old) / dt + k_red * x)
        res[:-1] += flux
        res[1:] -= flux
        diag = self.volume * (1.0 / dt + k_red)
        d_lo = a * free[1:] - b * x[1:] * dfree[:-1]     # d flux / d x_i
        d_hi = a * x[:-1] * dfree[1:] - b * free[:-1]    # d flux / d x_i+1
        diag[:-1] += d_lo
        diag[1:] -= d_hi
        ab = np.zeros((3, x.size))
        ab[1] = diag
        ab[0, 1:] = d_hi        # row i, column i+1
        ab[2, :-1] = -d_lo      # row i+1, column i
        if self.source is not None:  # oxidation and the rest's ions need a free site at the first node; return none
            res[0] -= (a0 * self.source + r0) * free[0] - b0 * x[0]
            ab[1, 0] += -(a0 * self.source + r0) * dfree[0] + b0
        if fixed is not None:
            nodes, value = fixed
            res[nodes] = x[nodes] - value
            ab[1, nodes] = 1.0
            ab[0, nodes[nodes + 1 < x.size] + 1] = 0.0
            ab[2, nodes[nodes > 0] - 1] = 0.0
        return res, ab

    def ion_field(self, c_i: np.ndarray, held: np.ndarray | None = None) -> np.ndarray:
        """E_ψ [V/m] on the edges: −dψ/dz of the ions ``c_i`` [1] by :attr:`green` (zeros without it).

        ``held``: nodes whose ions are held at the active electrode's fraction (a stub that is part of that electrode,
        or the anode's Nernst layer on its surface: :meth:`_clamp_anode_metal`).  Their charge is the electrode's
        interface layer, whose potential drop the electrode's own boundary condition carries (the layer's
        overpotential, or the electrode's fraction itself); it is left out of the field, which would count it twice.
        """
        if self.green is None:
            return np.zeros(self.h.size)
        charge = np.array(c_i, float)
        if held is not None:
            charge[held] = 0.0
        return -np.diff(self.green @ charge) / self.h

    def _coupled_residual(self, x, c_old, E_edge, T, alpha, beta, k_red, dt, fixed):
        """The backward-Euler residual with the ions in the applied field plus their own (:attr:`green`) at ``x``,
        and its dense Jacobian: the tridiagonal part of :meth:`_residual` plus every edge flux's dependence on every
        node's ions through the field (d flux / dE by a central difference, elementwise; dE/dx from G)."""
        held = None if fixed is None else fixed[0]
        E = E_edge + self.ion_field(x, held)
        a, b = self.edge_fluxes(x, E, T)
        a0 = b0 = r0 = 0.0
        if self.source is not None:
            a0, b0, r0 = self._reservoir_exchange(E[0], T[0])
        res, ab = self._residual(x, c_old, a, b, a0, b0, r0, alpha, beta, k_red, dt, fixed)
        n = x.size
        jac = np.diag(ab[1])
        jac[np.arange(n - 1), np.arange(1, n)] = ab[0, 1:]
        jac[np.arange(1, n), np.arange(n - 1)] = ab[2, :-1]
        # the field step: a millionth of the field at which q a E = k_B T, or of the largest field
        step = 1e-6 * max(float(np.max(np.abs(E))), k_B * float(np.min(T)) / (e * self.law.hop_distance))
        # the free-site fraction exactly as _residual evaluates it (the Jacobian differentiates that residual); the
        # projected Newton keeps x in [0, upper], so θ ≤ 1 and the clip only bounds round-off, not a range
        free = np.clip(1.0 - (alpha * x + beta), 0.0, 1.0)
        a_p, b_p = self.edge_fluxes(x, E + step, T)
        a_m, b_m = self.edge_fluxes(x, E - step, T)
        d_flux = ((a_p - a_m) * x[:-1] * free[1:] - (b_p - b_m) * x[1:] * free[:-1]) / (2 * step)
        d_field = -np.diff(self.green, axis=0) / self.h[:, None]  # dE_i+½ / dx_k [V/m per unit fraction]
        if held is not None:
            d_field[:, held] = 0.0  # the held nodes' charge is not in the field (ion_field)
        coupling = np.zeros((n, n))
        coupling[:-1] += d_flux[:, None] * d_field
        coupling[1:] -= d_flux[:, None] * d_field
        if self.source is not None:
            hi = self._reservoir_exchange(E[0] + step, T[0])
            lo = self._reservoir_exchange(E[0] - step, T[0])
            d_in = ((hi[0] - lo[0]) * self.source + hi[2] - lo[2]) * free[0] - (hi[1] - lo[1]) * x[0]
            coupling[0] -= d_in / (2 * step) * d_field[0]
        if fixed is not None:
            coupling[fixed[0]] = 0.0
        return res, jac + coupling

    @staticmethod
    def _dense_newton_direction(x, res, jac, upper):
        """:meth:`_newton_direction` on a dense Jacobian."""
        dx = np.linalg.solve(jac, -res)
        held = ((x >= upper) & (dx > 0)) | ((x <= 0.0) & (dx < 0))
        if not held.any():
            return dx
        jac, rhs = jac.copy(), -res.copy()
        nodes = np.flatnonzero(held)
        jac[nodes] = 0.0
        jac[nodes, nodes] = 1.0
        rhs[nodes] = 0.0
        return np.linalg.solve(jac, rhs)

    @staticmethod
    def _newton_direction(x, res, ab, upper):
        """Newton step with the nodes held that sit on a bound of their box and would leave it (active set)."""
        dx = solve_banded((1, 1), ab, -res)
        held = ((x >= upper) & (dx > 0)) | ((x <= 0.0) & (dx < 0))
        if not held.any():
            return dx
        ab, rhs = ab.copy(), -res.copy()
        nodes = np.flatnonzero(held)
        ab[1, nodes], rhs[nodes] = 1.0, 0.0
        ab[0, nodes[nodes + 1 < x.size] + 1] = 0.0
        ab[2, nodes[nodes > 0] - 1] = 0.0
        return solve_banded((1, 1), ab, rhs)

    @staticmethod
    def _projected(x, dx, upper):
        """x + dx projected onto the box 0 ≤ x ≤ ``upper`` (Newton on a box); returns (x, change)."""
        new = np.clip(x + dx, 0.0, upper)
        return new, float(np.max(np.abs(new - x)))

    def _clamp_anode_metal(self, c_m: np.ndarray, E_edge: np.ndarray, T: np.ndarray):
        """A metal stub connected to the active electrode (and not bridged) is part of that electrode.

        Returns (nodes, value) with the ion fraction held on the stub: c_src
        (at most the stub's free fraction 1 − c_m) when the field at its tip
        drives ions off it (E > k_B T / (q a), drift beats diffusion over one
        hop), else 0 (with ``electrode_rest`` the electrode's :meth:`rest_fraction` at the tip's temperature);
        None when there is no such stub.  With :attr:`layer` the electrode's surface holds the layer's c_L whatever
        the field: the stub's nodes, or without a stub the first node (the electrode's surface itself), so that the
        ions leave the layer at the electrode and hop the rest of the gap's nodes, none more (a half-cell before the
        first node would add one hop h to the drift's path); not once bridged.
        """
        if self.source is None or (self.threshold is None and self.layer is None):
            return None
        metal = (c_m >= self.threshold) if self.threshold is not None else np.zeros(c_m.shape, dtype=bool)
        stub = self.connected(metal, from_top=False)
        if stub.all() or self.connected(metal, from_top=True)[0]:
            return None
        if not stub.any():
            if self.layer is None:
                return None
            stub = np.zeros_like(stub)
            stub[0] = True  # the first node lies on the electrode's surface: the layer
        tip = int(np.flatnonzero(stub)[-1])
        e_min = k_B * T[tip] / (e * self.law.hop_distance)
        nodes = np.flatnonzero(stub)
        if self.layer is not None:  # the stub is the electrode: its surface holds the layer's fraction
            value = self.layer
        else:
            value = (self.source if tip < E_edge.size and E_edge[tip] > e_min
                     else float(self.rest_fraction(T[tip])))
        if not self.exclusion:
            return nodes, np.full(nodes.size, value)
        return nodes, np.minimum(value, np.clip(1.0 - c_m[nodes], 0.0, 1.0))

    def mass(self, c_i: np.ndarray, c_m: np.ndarray, c_s: np.ndarray) -> float:
        """∫ (c_i + c_m + c_s) dz [m] (Ag volume per channel cross-section; c_s over the matrix's shells and the Ag
        plated from them onto the counter electrode)."""
        return float(np.dot(self.volume, c_i + c_m + self.pool_total(c_s) + self.plated(c_s)))


def nernst_layer(source: float, rest: float, voltage: float, temperature: float) -> tuple[float, float]:
    """(c_L [1], η_a [V]): the active electrode's interface layer in Nernst equilibrium with the electrode at an
    overpotential of at most the gap voltage.

    The layer would hold ``source`` c_src, an anodic overpotential η_src = k_B T ln(c_src / c_eq) over the flat
    electrode's rest fraction ``rest`` c_eq; the double layer cannot take more than the gap's ``voltage`` V [V],
    so η_a = min(η_src, V⁺) and c_L = c_eq exp(e η_a / k_B T) = min(c_src, c_eq exp(e V⁺ / k_B T)) at
    ``temperature`` T [K] (η_a = 0, c_L = c_src where c_eq ≥ c_src).  The ions then hop in V − η_a.
    """
    kt = k_B * temperature / e  # [V]
    eta_src = kt * np.log(source / rest)
    eta = min(max(voltage, 0.0), max(float(eta_src), 0.0))
    return (float(rest * np.exp(eta / kt)) if eta < eta_src else source), eta


def gap_length(z: np.ndarray, c: np.ndarray, threshold: float) -> float:
    """Total length [m] of the axis where the piecewise-linear c(z) is below ``threshold``."""
    below = 0.0
    for z0, z1, c0, c1 in zip(z[:-1], z[1:], c[:-1], c[1:]):
        lo, hi = min(c0, c1), max(c0, c1)
        if hi <= threshold:
            below += z1 - z0
        elif lo < threshold:
            below += (z1 - z0) * (threshold - lo) / (hi - lo)
    return below


def filament_radius(c: np.ndarray, threshold: float, channel_radius: float) -> float:
    """Equivalent radius [m] of the metallic part: r_ch √(median c over nodes with c ≥ threshold); 0 if none."""
    metal = c[c >= threshold]
    return float(channel_radius * np.sqrt(np.median(metal))) if metal.size else 0.0
