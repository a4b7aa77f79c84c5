"""The earlier default cell (``examples/dilute.yaml``), for the checks whose physics and stated numbers are
its own: the dilute Nernst-Planck, an immobile dissolved pool, a compact neck, 1 mA behind 5 kOhm (a hot,
strongly driven filament), on the fast preset at its step floor."""

from devicephys.filament.spec import DILUTE_CELL, DILUTE_FAST_FLOOR, FilamentSpec

DILUTE = dict(DILUTE_CELL)


def dilute_fast() -> FilamentSpec:
    """The dilute cell on the fast preset, at its step floor (2e-3 of a drive)."""
    return FilamentSpec.fast().model_copy(update={**DILUTE_CELL, "min_step_fraction": DILUTE_FAST_FLOOR})
