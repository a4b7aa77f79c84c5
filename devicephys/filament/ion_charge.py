"""The mobile ions' space charge against the charge-free drift: how large their own potential grows during a run.

The channel transport drifts its Ag⁺ ions in the applied bias's field alone (no Poisson equation for them).  That is
the transport's premise, valid while the potential ψ their own charge makes (:meth:`CellModel.ion_potential
<devicephys.filament.simulate.CellModel.ion_potential>`, the ions uncompensated, every conductor grounded) is small
against the voltage their drift crosses.  :class:`IonChargePeak` follows ψ over a run, step by step, and keeps its
largest value and its largest ratio to that voltage; the audit holds the ratio to :data:`SPACE_CHARGE_LIMIT`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from devicephys.units import e as q_e
from devicephys.units import k_B

#: [1] largest ψ / max(V_channel, k_B T / e) for which the charge-free drift is taken as valid: the ions' own
#: field then changes the drift's field by up to about a tenth (a stated target, like a tolerance)
SPACE_CHARGE_LIMIT = 0.1


@dataclass(frozen=True)
class IonCharge:
    """The largest space charge of one run.

    ``potential`` [V]: the largest ψ on the channel's axis over the run; ``ratio`` [1]: the largest
    ψ / max(V_channel, k_B T / e) (T the channel's hottest node); ``time`` [s]: when that ratio came, from the run's
    start; ``ion_fraction`` [1]: the largest c_i on the axis then; ``channel_voltage`` [V]: V_channel then;
    ``ratio_median`` [1]: the ratio's median over the run's time while the gap was open (each accepted step's ratio
    weighted by its step): what the drift saw for most of the run, where the largest ratio may come in the last step
    before the set, with the front's ions a hop from the metal.
    """

    potential: float
    ratio: float
    time: float
    ion_fraction: float
    channel_voltage: float
    ratio_median: float = math.nan

    @classmethod
    def missing(cls) -> IonCharge:
        return cls(*(math.nan,) * 6)


class IonChargePeak:
    """Observer for :func:`~devicephys.filament.simulate.run_drive`: ψ after every accepted step while the channel
    holds a gap (once it is bridged, the ions beside the metal are screened by it and the drift no longer sets the
    set), the largest and the run's time-weighted median kept in ``result`` (:class:`IonCharge`; None until the first
    step)."""

    def __init__(self, model):
        self.start = self._last = float(model.time)
        self._best: IonCharge | None = None
        self._ratios: list[float] = []
        self._steps: list[float] = []

    @property
    def result(self) -> IonCharge | None:
        if self._best is None:
            return None
        return replace(self._best, ratio_median=weighted_median(self._ratios, self._steps))

    def __call__(self, model, sample: dict) -> None:
        now = float(model.time)
        step, self._last = now - self._last, now
        if sample["gap"] <= 0.0:
            return
        _, psi = model.ion_potential()
        peak = float(psi.max()) if psi.size else 0.0
        v_ch = model.channel_voltage()
        _, _, T = model.et.axis_values(model.z_lo, model.z_hi)
        thermal = k_B * float(T.max()) / q_e
        ratio = peak / max(v_ch, thermal)
        self._ratios.append(ratio)
        self._steps.append(step)
        best = self._best
        potential = peak if best is None else max(peak, best.potential)
        if best is None or ratio > best.ratio:
            self._best = IonCharge(potential, ratio, now - self.start, float(model.c_i.max()), v_ch)
        else:
            self._best = replace(best, potential=potential)


def warning(voltages, ions) -> str:
    """One line naming the set-time run whose ions were furthest outside the charge-free drift's validity (the
    largest time-weighted median ratio, above :data:`SPACE_CHARGE_LIMIT`), and what it means; "" when every run
    was within it (or none recorded one).  ``ions``: one :class:`IonCharge` per voltage of ``voltages`` [V]."""
    runs = [(i.ratio_median, v, i) for v, i in zip(voltages, ions) if math.isfinite(i.ratio_median)]
    if not runs:
        return ""
    median, v, worst = max(runs, key=lambda r: r[0])
    if median <= SPACE_CHARGE_LIMIT:
        return ""
    return (f"the channel's mobile ions, uncompensated, made a potential of their own {median:.3g} times the voltage "
            f"their drift crosses (the median over the set-time run at {v:g} V; up to {worst.potential:.3g} V), "
            f"above the charge-free drift's {SPACE_CHARGE_LIMIT:g}: the set kinetics hold only if the matrix "
            "compensates their charge, which the model does not derive (ion_compensation drifts them in a given "
            "uncompensated share of their own field; set_ion_potential* in filament.nc)")


def weighted_median(values, weights) -> float:
    """The median of ``values`` weighted by ``weights`` (≥ 0): the smallest value whose cumulative weight reaches half
    the total; the plain median's lower middle when every weight is zero.  NaN for no values."""
    import numpy as np

    v, w = np.asarray(values, float), np.asarray(weights, float)
    if v.size == 0:
        return math.nan
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    if not w.sum() > 0:
        return float(v[(v.size - 1) // 2])
    return float(v[np.searchsorted(np.cumsum(w), 0.5 * w.sum())])


__all__ = ["SPACE_CHARGE_LIMIT", "IonCharge", "IonChargePeak", "warning", "weighted_median"]
