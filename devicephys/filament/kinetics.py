"""Silver transport along the filament channel: 1-D Nernst–Planck with reduction and dissolution.

Reduced description (why 1-D): the filament forms in a thin axial channel of
radius r_ch; across it the fields vary little, so silver is described by two
volume fractions on the channel axis, mobile ions c_i(z, t) and metal
c_m(z, t), while φ and T are solved in 2-D (r, z) by
:mod:`devicephys.filament.solve` and read back on the axis:

    ∂c_i/∂t = −∂J/∂z − R_red,   ∂c_m/∂t = R_red − R_dis,   ∂c_s/∂t = R_dis,
    J = c_i (v_MG + v_S) − D ∂c_i/∂z,

* Mott–Gurney drift v_MG = a ν [exp(−(E_a − q a E/2)⁺/k_B T) − exp(−(E_a + q a E/2)/k_B T)]
  (= 2 a ν e^(−E_a/k_B T) sinh(q a E / 2 k_B T) until the field removes the
  barrier; beyond that the forward hop is barrier-less),
* Fick diffusion D = a² ν exp(−E_a/k_B T) (Einstein-consistent with v_MG),
* thermophoresis v_S = −D S_T ∂T/∂z with S_T = −s E_a / (k_B T²)
  (Strukov et al., Appl. Phys. A 107, 509 (2012)),
* reduction of ions on the filament, R_red = k_r c_i w (c_m capped at 1), where
  w = 1 on metal connected to the counter electrode (the cathode under
  forward bias) and just ahead of its front, 0 elsewhere,
* Gibbs–Thomson dissolution of the thin metal filament, R_dis = k_d(T) c_m /
  (c_m + ε), k_d = ν_d exp(−E_d/k_B T): a cylinder of radius ρ loses volume
  at a rate ∝ (γΩ/ρ) ρ, so d(ρ²)/dt, and with it c_m ∝ ρ², falls at a
  constant rate.  The dissolved Ag diffuses away sideways into the matrix;
  it is kept in an immobile, non-conducting pool c_s.  This is what makes the
  switch volatile: without bias nothing replaces the dissolving metal and the
  filament drops below the percolation threshold.

∫(c_i + c_m + c_s) dz is conserved apart from the exchange with the active
electrode: oxidation there injects ions at c_src v only while the field
drives them off the electrode; a metal stub connected to the active
electrode acts as part of it (its ions are held at c_src under forward
field, at 0 otherwise).  Discretisation: vertex-centred finite volumes on the axis nodes of
the FE mesh with Scharfetter–Gummel fluxes (exact for constant drift and
diffusion on an edge; stable at any Péclet number); backward Euler with the
local reactions eliminated exactly, so that the step is one tridiagonal
solve, conserves mass to rounding and keeps all fractions non-negative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_banded

from devicephys.units import e, k_B

_EPS = 1e-3


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
    """

    hop_distance: float
    attempt_frequency: float
    barrier: float
    dissolution_frequency: float
    dissolution_barrier: float
    soret_scale: float = 1.0
    reduction_rate: float = 1e9

    @classmethod
    def from_spec(cls, spec) -> "HoppingLaw":
        return cls(spec.hop_distance, spec.attempt_frequency, spec.migration_barrier, spec.dissolution_frequency,
                   spec.dissolution_barrier, spec.soret_scale, spec.reduction_rate)

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

    def dissolution_rate(self, T):
        """k_d(T) [1/s] = ν_d exp(−E_d / k_B T)."""
        return self.dissolution_frequency * np.exp(-self.dissolution_barrier / (k_B * np.asarray(T)))


def _bernoulli(x: np.ndarray) -> np.ndarray:
    """B(x) = x / (eˣ − 1), with its limit 1 at x = 0."""
    x = np.asarray(x, dtype=float)
    out = np.ones_like(x)
    big = np.abs(x) > 1e-8
    with np.errstate(over="ignore"):
        out[big] = x[big] / np.expm1(x[big])  # → 0 for x → +inf
    small = ~big
    out[small] = 1.0 - x[small] / 2.0
    return out


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
    """

    def __init__(self, z: np.ndarray, law: HoppingLaw, source: float | None, threshold: float | None = None):
        self.z = np.asarray(z, dtype=float)
        if self.z.size < 3 or np.any(np.diff(self.z) <= 0):
            raise ValueError("channel nodes must be at least 3 strictly increasing positions")
        self.h = np.diff(self.z)
        self.volume = np.zeros_like(self.z)
        self.volume[:-1] += self.h / 2
        self.volume[1:] += self.h / 2
        self.law, self.source, self.threshold = law, source, threshold

    def edge_fluxes(self, c: np.ndarray, E_edge: np.ndarray, T: np.ndarray):
        """Coefficients (a, b) with edge flux J_i+½ = a_i c_i − b_i c_i+1 [m/s · c]."""
        T_edge = 0.5 * (T[:-1] + T[1:])
        D = self.law.diffusivity(T_edge)
        v = self.law.drift_velocity(E_edge, T_edge)
        v = v - D * self.law.soret_coefficient(T_edge) * np.diff(T) / self.h
        pe = v * self.h / D
        return D / self.h * _bernoulli(-pe), D / self.h * _bernoulli(pe)

    def _reservoir_exchange(self, E: float, T: float) -> tuple[float, float]:
        """Coefficients of the flux a c_src − b c_0 from the active electrode into the first node.

        Oxidation injects ions only when the field drives them away from the
        electrode (a = max(v, 0): no ion bath at zero bias); ions at the
        first node return to the electrode by drift and diffusion
        (Scharfetter–Gummel, with zero ion fraction inside the metal).
        """
        h = self.h[0]
        D = float(self.law.diffusivity(T))
        v = float(self.law.drift_velocity(E, T))
        return max(v, 0.0), D / h * float(_bernoulli(np.array([v * h / D]))[0])

    @staticmethod
    def connected(metal: np.ndarray, from_top: bool) -> np.ndarray:
        """Nodes of the metallic run touching the counter (``from_top``) or the active electrode."""
        seq = metal[::-1] if from_top else metal
        run = np.cumprod(seq).astype(bool)
        return run[::-1] if from_top else run

    def reduction_weight(self, c_m: np.ndarray, threshold: float) -> np.ndarray:
        """w [1]: 1 where ions reduce onto the filament growing from the counter electrode, else 0.

        Under forward bias the counter electrode is the cathode: ions reduce on
        the metal connected to it (c_m >= threshold), just ahead of its front,
        and at the cathode node itself.  Metal connected to the active
        electrode belongs to the anode (its ions are the reservoir), and
        isolated sub-threshold Ag does not nucleate metal.
        """
        metal = c_m >= threshold
        cathode = self.connected(metal, from_top=True)
        anode = self.connected(metal, from_top=False) if self.source is not None else np.zeros_like(metal)
        w = cathode & ~anode
        front = np.flatnonzero(cathode)
        if front.size and front[0] > 0 and not anode[front[0] - 1]:
            w[front[0] - 1] = True
        w[-1] = True
        return w.astype(float)

    def step(self, c_i: np.ndarray, c_m: np.ndarray, c_s: np.ndarray, E_edge: np.ndarray, T: np.ndarray,
             dt: float, w: np.ndarray):
        """Advance ions c_i, metal c_m and dissolved pool c_s by ``dt`` [s].

        E_edge [V/m] on the edges, T [K] on the nodes, ``w`` from :meth:`reduction_weight`.
        Returns (c_i, c_m, c_s) at the new time.
        """
        a, b = self.edge_fluxes(c_i, E_edge, T)
        k_red = self.law.reduction_rate * w
        k_dis = self.law.dissolution_rate(T) / (c_m + _EPS)  # R_dis = k_dis c_m, linearised
        denom = 1.0 + dt * k_dis
        n = c_i.size
        ab = np.zeros((3, n))
        diag = self.volume / dt + self.volume * k_red
        diag[:-1] += a
        diag[1:] += b
        ab[1] = diag
        ab[0, 1:] = -b          # row i, column i+1
        ab[2, :-1] = -a         # row i+1, column i
        rhs = self.volume * c_i / dt
        if self.source is not None:
            a0, b0 = self._reservoir_exchange(E_edge[0], T[0])
            ab[1, 0] += b0
            rhs[0] += a0 * self.source
            self._clamp_anode_metal(ab, rhs, c_m, E_edge, T)
        ci_new = np.maximum(solve_banded((1, 1), ab, rhs), 0.0)
        cm_new = (c_m + dt * k_red * ci_new) / denom
        cs_new = c_s + dt * k_dis * cm_new
        # A full channel (c_m = 1) takes no more metal: the excess goes back to the ions (mass conserved).
        excess = np.maximum(cm_new - 1.0, 0.0)
        return ci_new + excess, cm_new - excess, cs_new

    def _clamp_anode_metal(self, ab: np.ndarray, rhs: np.ndarray, c_m: np.ndarray, E_edge: np.ndarray,
                           T: np.ndarray) -> None:
        """A metal stub connected to the active electrode (and not bridged) is part of that electrode.

        Its ion fraction is c_src when the field at its tip drives ions off it
        (E > k_B T / (q a), drift beats diffusion over one hop), else 0.
        """
        if self.threshold is None:
            return
        metal = c_m >= self.threshold
        stub = self.connected(metal, from_top=False)
        if not stub.any() or stub.all() or self.connected(metal, from_top=True)[0]:
            return
        tip = int(np.flatnonzero(stub)[-1])
        e_min = k_B * T[tip] / (e * self.law.hop_distance)
        value = self.source if tip < E_edge.size and E_edge[tip] > e_min else 0.0
        for i in np.flatnonzero(stub):
            ab[1, i] = 1.0
            if i + 1 < ab.shape[1]:
                ab[0, i + 1] = 0.0
            if i > 0:
                ab[2, i - 1] = 0.0
            rhs[i] = value

    def mass(self, c_i: np.ndarray, c_m: np.ndarray, c_s: np.ndarray) -> float:
        """∫ (c_i + c_m + c_s) dz [m] (Ag volume per channel cross-section)."""
        return float(np.dot(self.volume, c_i + c_m + c_s))


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
