"""The dissolved Ag beside the channel, spread in (r, z) through the matrix.

The channel transport (:mod:`devicephys.filament.kinetics`) keeps the Ag that dissolves from the filament in a
pool beside each axis node; with ``dissolved_return`` the pool drifts back into the channel at |v_MG(E, T)| / ℓ.
A pool of one compartment per node cannot say how much of the dissolved Ag is still within reach of the channel
when the field comes back: the ions also diffuse away into the matrix.  :class:`MatrixSpread` follows them.

The matrix around the channel, r_ch < r < R (R the cell's radius), is cut into coaxial shells on every axis node
(finite volumes: shell j between the faces r_j and r_j+1, the node's share ℓ_k of the axis).  The dissolved Ag's
volume fraction of the matrix, u(r, z, t), obeys

    ∂u/∂t = ∇·(D(T) ∇u)                       in the matrix,
    D ∂u/∂r = −(dissolved flux) + |v_MG(E, T)| u    at r = r_ch (into the matrix, out to the channel),
    no flux at r = R and at the electrode planes (the Ag stays in the cell; see the plating below),

with D = a² ν exp(−E_a / k_B T) the ions' own diffusivity (the channel's hopping law).  The wall's return is the
pool's return law carried over: Ag⁺ within one shell of the channel drifts into it at the Mott–Gurney speed in
the node's field (the same premise: the field's magnitude at the node, turned towards the channel).  The first
shell is one hop a wide, so the wall's value is that of the ions one hop from the channel; the shells then widen
geometrically (ratio ``growth``) out to R.

Discretisation: two-point fluxes, radially with the exact conductance of a coaxial shell, 2π D ℓ_k /
ln(ρ_j+1 / ρ_j) between the shells' geometric-mean radii ρ (a steady u = A + B ln r is then exact at the nodes),
axially D A_j / h_k; backward Euler, one banded solve per step (its bandwidth the number of shells).  By default the
matrix's temperature is taken as the axis node's (the hot spot is a few kelvin above ambient at the default bias;
beside a hot filament D is then over-estimated), and its Ag moves by diffusion only.

With the drift (the spec's ``spread_drift``) the matrix's Ag⁺ obeys the channel's own Nernst–Planck law in the
matrix's potential and temperature, read from the FEM beside every node (``ChannelTransport.matrix_drift``):

    ∂u/∂t = −∇·(u v − D ∇u),   v = v_MG(−∇φ, T) − D S_T ∇T,

with Scharfetter–Gummel two-point fluxes g [B(−P) u_p − B(P) u_q] (P = v Δ / D between the two nodes; exact for a
constant drift, so at zero flux u_q / u_p = e^P, the Boltzmann ratio in weak fields), and the wall returns the first
shell's Ag at the inward speed of the hop onto the channel's edge in the radial field there, max(−v_r, 0), read
where the FEM's matrix begins (the cut edge's outer radius, ``channel_edge: cut``: inside it the FEM's channel still
conducts): where the field drives the Ag⁺ away from the channel, none returns.  Ag is conserved to rounding: what leaves the matrix
enters the channel's ions.

With the plating (the spec's ``counter_plating``) the counter electrode's plane is not a wall for the Ag⁺: the Ag in
the shells of the electrode's node (within half a node spacing of the plane, on the Ag electrode) reduces onto it at
the channel's reduction rate k_r where the channel's cathode node takes ions (the same law and weight as the channel's
ions there).  What the first shell plates lies within one hop of the channel, on the filament's root: it joins the
channel's ions at that node (which reduce there); what the outer shells plate stays on the electrode, kept in one more
column of the state (the plated Ag, counted in the cell's Ag, never dissolved again: a flat electrode has no
Gibbs–Thomson excess).  Without it the electrode planes are walls and the drift piles the Ag⁺ up against the
counter electrode.

Units: the state is held as ``pool[k, j]`` [1], shell j's Ag per channel volume of node k (the one-compartment
pool's unit, so Σ_j pool[k, j] is that pool); u = pool / α_j with α_j = A_j / (π r_ch²).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_banded

DEFAULT_GROWTH = 1.25  # [1] width ratio of neighbouring shells (the spread's convergence study: docs/filament.md)


class MatrixSpread:
    """Shells of matrix around the channel on each axis node, and the backward-Euler step of their Ag.

    Parameters
    ----------
    volume
        The axis nodes' shares ℓ_k [m] of the axis (the channel transport's ``volume``).
    h
        Axial node spacings [m] (``len(volume) - 1`` of them).
    channel_radius
        r_ch [m]: the matrix starts at the channel's wall.
    outer_radius
        R [m]: the cell's radius (no flux there).
    first_width
        Width [m] of the shell at the wall (the hop distance a).
    growth
        Width ratio [1] of neighbouring shells.
    plating
        True: the counter electrode's plane reduces the Ag beside its node (:meth:`step`'s ``plate``); the state then
        holds one more column, the Ag plated onto that electrode [1] per channel volume of each node.
    """

    def __init__(self, volume, h, channel_radius: float, outer_radius: float, first_width: float,
                 growth: float = DEFAULT_GROWTH, plating: bool = False):
        self.volume = np.asarray(volume, dtype=float)
        self.h = np.asarray(h, dtype=float)
        if self.h.size != self.volume.size - 1:
            raise ValueError("h must have one entry fewer than volume")
        if not (0.0 < channel_radius < outer_radius) or first_width <= 0.0 or growth < 1.0:
            raise ValueError("need 0 < channel_radius < outer_radius, first_width > 0 and growth >= 1")
        self.channel_radius = float(channel_radius)
        faces, width = [channel_radius], first_width
        while faces[-1] + width < outer_radius:
            faces.append(faces[-1] + width)
            width *= growth
        if len(faces) > 1 and outer_radius - faces[-1] < 0.5 * (faces[-1] - faces[-2]):
            faces.pop()  # the last shell would be thinner than half the one inside it: merge
        faces.append(outer_radius)
        self.faces = np.asarray(faces)  # [m]
        self.radius = np.sqrt(self.faces[:-1] * self.faces[1:])  # the shells' nodes ρ_j [m]
        self.alpha = (self.faces[1:] ** 2 - self.faces[:-1] ** 2) / channel_radius**2  # A_j / A_ch [1]
        self._log = np.log(self.radius[1:] / self.radius[:-1])  # [1]
        self.plating = bool(plating)

    @property
    def shape(self) -> tuple[int, int]:
        """(axis nodes, shells) of the state (shells and the plated column with ``plating``)."""
        return self.volume.size, self.alpha.size + int(self.plating)

    def empty(self) -> np.ndarray:
        return np.zeros(self.shape)

    def total(self, pool: np.ndarray) -> np.ndarray:
        """Each node's dissolved Ag [1] per channel volume (the one-compartment pool's value; the plated excluded)."""
        return pool[:, :self.alpha.size].sum(axis=1)

    def plated(self, pool: np.ndarray) -> np.ndarray:
        """Each node's Ag [1] per channel volume plated onto the counter electrode beside it (zeros without
        ``plating``)."""
        return pool[:, self.alpha.size:].sum(axis=1)

    def at_wall(self, pool: np.ndarray) -> np.ndarray:
        """The pool the wall's return acts on [1]: the one-compartment pool whose return |v| / r_ch × it equals
        the wall's, 2 |v| u_0 / r_ch, i.e. 2 u_0 with u_0 the first shell's matrix fraction."""
        return 2.0 * pool[:, 0] / self.alpha[0]

    def points(self, hop: float, wall: float | None = None) -> np.ndarray:
        """Radii [m] at which the drift reads the potential and temperature on every axis node: the wall's return
        field's two points, ``wall`` (default r_ch) and one hop a beyond it, and the shells' nodes ρ_j."""
        wall = self.channel_radius if wall is None else float(wall)
        return np.concatenate(([wall, wall + hop], self.radius))

    def step(self, pool: np.ndarray, speed: np.ndarray, D_node: np.ndarray, D_edge: np.ndarray,
             dt: float, peclet: tuple[np.ndarray, np.ndarray] | None = None,
             plate: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Advance the matrix's Ag by ``dt`` [s]; returns (Ag returned to each node's channel [1], new pool).

        ``speed`` [m/s] is each node's return speed at the wall, ``D_node`` [m²/s] the diffusivity at the nodes
        (one per axis node, or per node and shell), ``D_edge`` [m²/s] on the axial edges (per edge, or per edge and
        shell).  ``peclet`` = (P_r, P_z), the drift's Péclet numbers v Δ / D [1] between neighbouring shells
        (nodes × shells − 1, positive outwards) and between neighbouring nodes (nodes − 1 × shells, positive
        towards the counter electrode): the fluxes are then Scharfetter–Gummel's, g [B(−P) u_p − B(P) u_q] from p
        to q, exact for a constant drift between the two (B(x) = x / (eˣ − 1)); None: diffusion only.  ``plate``
        [1/s] (with ``plating``; one per node, zero but at the counter electrode's): the rate at which the node's
        shells reduce onto the electrode; what the first shell plates (within one hop of the channel, onto the
        filament's root) is returned to the channel with the wall's return, the rest is kept in the plated
        column.  Backward Euler in u over the whole (r, z) grid; the returned Ag is the wall's flux (and the first
        shell's plating) at the new state times dt.
        """
        nz, nr = self.volume.size, self.alpha.size
        D_node = np.asarray(D_node, dtype=float).reshape(nz, -1)
        D_edge = np.asarray(D_edge, dtype=float).reshape(nz - 1, -1)
        D_face = D_node if D_node.shape[1] == 1 else 0.5 * (D_node[:, :-1] + D_node[:, 1:])
        V = self.volume[:, None] * self.alpha[None, :]  # cell volumes per channel cross-section [m]
        g_rad = 2.0 * D_face * self.volume[:, None] / self._log[None, :] / self.channel_radius**2  # [m²/s]
        g_ax = D_edge * self.alpha[None, :] / self.h[:, None]  # [m²/s] between node k and k+1
        if peclet is None:
            out_r = in_r = g_rad * np.ones((1, nr - 1))
            out_z = in_z = g_ax * np.ones((1, nr))
        else:  # g B(−P) from the inner (lower) cell, g B(P) back from the outer (upper) one
            out_r, in_r = g_rad * bernoulli(-peclet[0]), g_rad * bernoulli(peclet[0])
            out_z, in_z = g_ax * bernoulli(-peclet[1]), g_ax * bernoulli(peclet[1])
        sink = np.zeros((nz, nr))
        sink[:, 0] = 2.0 * np.asarray(speed) * self.volume / self.channel_radius  # v 2π r_ch ℓ_k / A_ch [m²/s]
        diag = V / dt + sink
        plate = np.zeros(nz) if plate is None or not self.plating else np.asarray(plate, dtype=float)
        diag += V * plate[:, None]
        diag[:, :-1] += out_r
        diag[:, 1:] += in_r
        diag[:-1, :] += out_z
        diag[1:, :] += in_z
        # banded storage, unknowns node by node (k nr + j): radial neighbours at ±1, axial at ±nr
        n = nz * nr
        ab = np.zeros((2 * nr + 1, n))
        ab[nr] = diag.ravel()
        upper, lower = np.zeros((nz, nr)), np.zeros((nz, nr))
        upper[:, :-1], lower[:, :-1] = -in_r, -out_r  # none from a node's last shell to the next node's first
        ab[nr - 1, 1:] = upper.ravel()[:-1]   # row i, column i + 1: what comes in from outside
        ab[nr + 1, :-1] = lower.ravel()[:-1]  # row i + 1, column i: what goes out to it
        ab[0, nr:] = (-in_z).ravel()           # row i, column i + nr
        ab[2 * nr, :-nr] = (-out_z).ravel()    # row i + nr, column i
        u_old = pool[:, :nr] / self.alpha[None, :]
        u = solve_banded((nr, nr), ab, (V * u_old / dt).ravel()).reshape(nz, nr)
        u = np.maximum(u, 0.0)  # an M-matrix keeps u >= 0; this removes rounding only
        back = dt * sink[:, 0] * u[:, 0] / self.volume  # [1] per channel volume
        new = u * self.alpha[None, :]
        if not self.plating:
            return back, new
        plated = dt * plate[:, None] * new  # [1] per channel volume: V u plate dt / ℓ_k
        back = back + plated[:, 0]
        return back, np.column_stack((new, pool[:, nr] + plated[:, 1:].sum(axis=1)))


def bernoulli(x: np.ndarray) -> np.ndarray:
    """B(x) = x / (eˣ − 1) [1], with its limit 1 at x = 0 (Scharfetter–Gummel's weight)."""
    x = np.asarray(x, dtype=float)
    out = np.ones_like(x)
    big = np.abs(x) > 1e-8
    with np.errstate(over="ignore"):
        out[big] = x[big] / np.expm1(x[big])  # → 0 for x → +inf
    small = ~big
    out[small] = 1.0 - x[small] / 2.0
    return out
