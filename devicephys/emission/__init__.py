"""Stage 2: plasmonic light emission from the filament-tip nanogap.

``spec`` (EmissionSpec), ``metals`` (Drude–Lorentz permittivities),
``analytic`` (closed-form and Sommerfeld references), ``spectra`` (inelastic
tunnelling emission physics), ``fastmodel`` (gap-plasmon model for dense
sweeps), ``interpolant`` (smooth hand-off to the compact model),
``fdtd_sweep`` (gaps in worker processes), ``assemble``, ``result`` and ``stage``.
The engines are subpackages: ``fdtd`` (MEEP, the only code importing meep) and
``fem`` (frequency-domain DOLFINx).
"""


def __getattr__(name: str):
    # The entry point loads its stage's modules on first use, so that importing the package stays light.
    if name == "solve_emission":
        from devicephys.emission.stage import solve_emission
        return solve_emission
    if name == "EmissionResult":
        from devicephys.emission.result import EmissionResult
        return EmissionResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["solve_emission", "EmissionResult"]
