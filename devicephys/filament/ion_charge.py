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
    start; ``ion_fraction`` [1]: the largest c_i on the axis then; ``channel_voltage`` [V]: V_channel then.
    """

    potential: float
    ratio: float
    time: float
    ion_fraction: float
    channel_voltage: float

    @classmethod
    def missing(cls) -> IonCharge:
        return cls(*(math.nan,) * 5)


class IonChargePeak:
    """Observer for :func:`~devicephys.filament.simulate.run_drive`: ψ after every accepted step while the channel
    holds a gap (once it is bridged, the ions beside the metal are screened by it and the drift no longer sets the
    set), the largest kept in ``result`` (:class:`IonCharge`; None until the first step)."""

    def __init__(self, model):
        self.start = float(model.time)
        self.result: IonCharge | None = None

    def __call__(self, model, sample: dict) -> None:
        if sample["gap"] <= 0.0:
            return
        _, psi = model.ion_potential()
        peak = float(psi.max()) if psi.size else 0.0
        v_ch = model.channel_voltage()
        _, _, T = model.et.axis_values(model.z_lo, model.z_hi)
        thermal = k_B * float(T.max()) / q_e
        ratio = peak / max(v_ch, thermal)
        potential = peak if self.result is None else max(peak, self.result.potential)
        if self.result is None or ratio > self.result.ratio:
            self.result = IonCharge(potential, ratio, float(model.time) - self.start, float(model.c_i.max()), v_ch)
        else:
            self.result = replace(self.result, potential=potential)


__all__ = ["SPACE_CHARGE_LIMIT", "IonCharge", "IonChargePeak"]
