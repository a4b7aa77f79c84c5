"""The earlier default cell (``examples/dilute.yaml``), for the checks whose physics and stated numbers are
its own: the dilute Nernst-Planck, an immobile dissolved pool, a compact neck, 1 mA behind 5 kOhm (a hot,
strongly driven filament), on the fast preset at its step floor and set voltages."""

from devicephys.filament.spec import DILUTE_CELL, FilamentSpec

DILUTE = dict(DILUTE_CELL)


def dilute_fast() -> FilamentSpec:
    """The dilute cell on the fast preset (:meth:`FilamentSpec.dilute`)."""
    return FilamentSpec.dilute(fast=True)
