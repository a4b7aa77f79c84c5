"""The earlier default cell (``examples/dilute.yaml``) as FilamentSpec overrides, for the checks whose
physics needs its drive or its transport: the dilute Nernst-Planck, an immobile dissolved pool, a compact
neck, 1 mA behind 5 kOhm (a hot, strongly driven filament)."""

from devicephys.filament.spec import DILUTE_CELL

DILUTE = dict(DILUTE_CELL)
