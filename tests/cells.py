"""The earlier default cell (``examples/dilute.yaml``) as FilamentSpec overrides, for the checks whose
physics needs its drive or its transport: the dilute Nernst-Planck, an immobile dissolved pool, a compact
neck, 1 mA behind 5 kOhm (a hot, strongly driven filament)."""

DILUTE = dict(site_exclusion=False, dissolved_return=False, contact_exponent=0.0,
              compliance_current=1e-3, series_resistance=5e3)
