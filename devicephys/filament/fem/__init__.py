"""The filament stage's DOLFINx engine: the only modules of stage 1 that import DOLFINx.

``solve`` (the coupled φ–T problem, :class:`~devicephys.filament.fem.solve.ElectroThermal`,
and the cell model), ``medium`` (the cell's material laws as UFL expressions) and
``fields`` (field output and post-processing).  Importing this package loads nothing;
``from devicephys.filament.fem import solve`` loads DOLFINx.
"""
