"""Stage 1: finite-element electrothermal model of Ag-filament formation and rupture.

Light modules (no DOLFINx): :mod:`.spec`, :mod:`.analytic`, :mod:`.properties`,
:mod:`.kinetics`, :mod:`.extract`, :mod:`.result`, :mod:`.conduction`, :mod:`.mesh`, :mod:`.ion_charge`.
DOLFINx is imported only by the :mod:`.fem` subpackage (the engine); :mod:`.simulate` and
:mod:`.stage` load it on use.
"""


def __getattr__(name: str):
    # The entry point loads its stage's modules on first use, so that importing the package stays light.
    if name == "solve_filament":
        from devicephys.filament.stage import solve_filament
        return solve_filament
    if name == "FilamentResult":
        from devicephys.filament.result import FilamentResult
        return FilamentResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["solve_filament", "FilamentResult"]
