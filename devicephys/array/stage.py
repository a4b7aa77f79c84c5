"""The array stage runner: solve (:func:`simulate_array`), save ``array.nc``, plot."""

from __future__ import annotations

from pathlib import Path

from devicephys.array.spec import ArraySpec


def card_path(upstream: dict[str, Path] | None) -> Path | None:
    """``upstream['compact']/device_card.json``, or None (built-in card) when there is no upstream."""
    if upstream and "compact" in upstream:
        return Path(upstream["compact"]) / "device_card.json"
    return None


def run(spec: ArraySpec, out: Path, *, upstream: dict[str, Path] | None = None, progress: bool = True) -> dict[str, Path]:
    """Simulate the array of ``spec`` and write ``array.nc`` and four PNG plots into ``out``.

    Returns
    -------
    dict
        ``result`` (array.nc), ``raster``, ``rates``, ``photon_map``, ``link_budget`` (PNG paths).
    """
    from devicephys.array import plot
    from devicephys.array.solve import simulate_array

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = simulate_array(spec, card_path(upstream), progress=progress)
    if progress:
        print(f"array: {result.data.attrs['link_verdict']}")
    return {"result": result.save(out / "array.nc"), **plot.all_plots(result, out)}
