"""Stage 2: plasmonic light emission from the filament-tip nanogap.

``spec`` (EmissionSpec), ``metals`` (Drude–Lorentz permittivities),
``analytic`` (closed-form and Sommerfeld references), ``spectra`` (inelastic
tunnelling emission physics), ``fastmodel`` (gap-plasmon model for dense
sweeps), ``interpolant`` (smooth hand-off to the compact model), ``solve``
(the only module importing MEEP), ``result`` and ``stage``.
"""
