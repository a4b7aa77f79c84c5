"""The growing filament's body during a set: dissolution against the field's return of the dissolved Ag.

While the tip grows across the gap, the metal behind it (the body: the metallic run connected to the
counter electrode) dissolves at the Gibbs–Thomson rate k_d c_m / (c_m + ε) into the pool c_s beside the
channel (:mod:`devicephys.filament.kinetics`).  With ``dissolved_return`` the pool returns as Ag⁺ at
|v_MG(E, T)| / ℓ in the body's own field, and the body's field is not zero: a body near the percolation
threshold conducts poorly and takes part of the cell voltage.  Two regimes follow.

* Growth outruns dissolution (high bias): the body is laid down dense, carries almost none of the
  voltage, and the return is small against the dissolution.  The set must complete before the oldest
  stretch dissolves through percolation; the compact card's two-slow-state law describes this (its body
  starts dense and the return acts only once the gap is bridged).
* Dissolution thins the body to percolation (low bias): the body then takes a share of the voltage until
  the return balances the dissolution, and it is held there, just above the threshold, for as long as the
  growth takes.  The set is then slow but not cut off by a self-rupture time.

:func:`body_balance` measures which: the body's median metal and dissolved fractions, the ratio of the
return to the dissolution summed over its nodes, and its share of the channel's voltage.
:class:`HalfClosure` takes it once, when the gap first falls below half its value at the drive's start.
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass, fields

import numpy as np

from devicephys.filament import kinetics


@dataclass(frozen=True)
class BodyBalance:
    """The growing filament's body at one instant (NaN where there is no body)."""

    time: float  #: [s] model time since the drive began
    metal_fraction: float  #: [1] median metal fraction c_m over the body's nodes
    dissolved_fraction: float  #: [1] median dissolved fraction c_s over the body's nodes
    return_ratio: float  #: [1] the field's return of dissolved Ag over the Gibbs–Thomson dissolution, over the body
    voltage_share: float  #: [1] the body's voltage over the channel's (axis, seed to counter electrode)

    @classmethod
    def missing(cls) -> "BodyBalance":
        return cls(*(math.nan,) * len(fields(cls)))

    def as_tuple(self) -> tuple[float, ...]:
        return astuple(self)


def body_balance(model, since: float = 0.0) -> BodyBalance:
    """The :class:`BodyBalance` of a :class:`~devicephys.filament.simulate.CellModel` in its present state.

    The fields are the model's last solution on the channel's axis; the ions' field is the FEM field times
    the ionic circuit's hopping share when the cell has one (as in the transport step).  ``since`` [s]: the
    model time the drive began.  Collective under MPI (the axis values are gathered on every rank).
    """
    spec, transport = model.spec, model.transport
    _, phi, T = model.et.axis_values(model.z_lo, model.z_hi)
    metal = model.c >= spec.percolation_threshold
    body = transport.connected(metal, from_top=True)
    cell = abs(float(phi[0] - phi[-1]))
    if not body.any() or body.all():
        return BodyBalance.missing()
    E = -np.diff(phi) / transport.h
    if model.divides_gap:
        E = E * model.hopping_share
    E_node = np.empty_like(phi)
    E_node[1:-1] = 0.5 * (E[:-1] + E[1:])
    E_node[0], E_node[-1] = E[0], E[-1]
    law = transport.law
    dissolution = law.dissolution_rate(T) * model.c / (model.c + kinetics._EPS)  # [1/s] per node
    matrix = model.matrix_fields()
    if matrix is not None:  # the wall's return in the matrix's radial field (spread_drift)
        rate = transport.matrix_drift(*matrix)[0] / law.return_length
    else:
        rate = law.return_rate(E_node, T)
    returned = rate * transport.returnable(model.c_s)  # [1/s] per node
    w = transport.volume[body]
    lost = float(np.dot(w, dissolution[body]))
    first = int(np.flatnonzero(body)[0])
    return BodyBalance(
        time=model.time - since,
        metal_fraction=float(np.median(model.c[body])),
        dissolved_fraction=float(np.median(transport.pool_total(model.c_s)[body])),
        return_ratio=float(np.dot(w, returned[body])) / lost if lost > 0 else math.nan,
        voltage_share=abs(float(phi[first] - phi[-1])) / cell if cell > 0 else math.nan)


class HalfClosure:
    """Observer for :func:`~devicephys.filament.simulate.run_drive`: :func:`body_balance` once, at the first
    accepted step whose gap is below half the model's gap when this observer was made (``result``: None until
    then)."""

    def __init__(self, model):
        self.open_gap = float(model.gap())
        self.start = float(model.time)
        self.result: BodyBalance | None = None

    def __call__(self, model, sample: dict) -> None:
        if self.result is None and sample["gap"] < 0.5 * self.open_gap:
            self.result = body_balance(model, self.start)
