"""Stage 1: finite-element electrothermal model of Ag-filament formation and rupture.

Light modules (no DOLFINx): :mod:`.spec`, :mod:`.analytic`, :mod:`.properties`,
:mod:`.kinetics`, :mod:`.extract`, :mod:`.result`.  Only :mod:`.solve` imports
DOLFINx; :mod:`.simulate` and :mod:`.stage` import it on use.
"""
