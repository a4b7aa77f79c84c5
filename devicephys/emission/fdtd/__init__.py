"""The emission stage's FDTD engine (MEEP): the only modules of devicephys that import meep.

``solve`` (the gap run of the stage and the machinery every run shares: units,
snapping, sources, monitors, stop rule) and ``checks`` (the reference geometries
the engine is validated on: planar mirror, metal–insulator–metal waveguide,
homogeneous medium, the gap in full 3-D).  Importing this package loads nothing;
``from devicephys.emission.fdtd import solve`` loads MEEP.  The sweep driver that
runs gaps in worker processes is :mod:`devicephys.emission.fdtd_sweep`.
"""
