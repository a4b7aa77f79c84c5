"""Stage 3: compact model of the light-emitting threshold switch.

* :mod:`~devicephys.compact.model` — the equations, pure NumPy, vectorised;
* :mod:`~devicephys.compact.integrate` — time integration (one device exactly, many devices fast);
* :mod:`~devicephys.compact.fit` — least-squares fit to the filament and emission results;
* :mod:`~devicephys.compact.card` — the :class:`DeviceCard` (JSON, SI, provenance);
* :mod:`~devicephys.compact.export_spice`, :mod:`~devicephys.compact.export_veriloga` — exports;
* :mod:`~devicephys.compact.ngspice` — runs the real ngspice in batch mode.

Nothing here imports a heavy engine; ngspice is a separate program started on demand.
"""


def __getattr__(name: str):
    # The entry point loads its stage's modules on first use, so that importing the package stays light.
    if name == "fit_compact":
        from devicephys.compact.stage import fit_compact
        return fit_compact
    if name == "DeviceCard":
        from devicephys.compact.card import DeviceCard
        return DeviceCard
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["fit_compact", "DeviceCard"]
