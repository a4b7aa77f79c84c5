"""Shared plotting helpers (matplotlib is imported lazily, with the Agg backend)."""

from __future__ import annotations

from pathlib import Path

from devicephys.io import save_figure


def pyplot():
    """matplotlib.pyplot with a non-interactive backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def device_sketch(path: Path, *, insulator_thickness: float = 10e-9, filament_radius: float | None = None,
                  gap: float | None = None, electrode_thickness: float = 10e-9, cell_radius: float = 30e-9,
                  insulator: str = "PMMA", top: str = "Ag", bottom: str = "Ag") -> Path:
    """Cross-section of the cell: electrodes, insulator, and the filament with its emitting gap when one formed.

    All lengths in m; the drawing is to scale in nm.  ``filament_radius`` or ``gap`` None:
    no filament is drawn (none formed, or no filament result); ``gap`` 0: a bridged filament.
    """
    plt = pyplot()
    from matplotlib.patches import Polygon, Rectangle

    nm = 1e9
    t, e, R = insulator_thickness * nm, electrode_thickness * nm, cell_radius * nm
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.add_patch(Rectangle((-R, -e), 2 * R, e, color="#b0b0b8", label=f"{bottom} (active electrode)"))
    ax.add_patch(Rectangle((-R, 0), 2 * R, t, color="#f3e7b3", label=insulator))
    ax.add_patch(Rectangle((-R, t), 2 * R, e, color="#c9c9d1", label=f"{top}"))
    if filament_radius is None or gap is None:
        ax.text(0, t / 2, "no filament formed", ha="center", va="center", fontsize=9)
    else:
        r_f, g = filament_radius * nm, gap * nm
        tip = max(t - g, 0.0)
        base = min(3 * r_f, R)
        ax.add_patch(Polygon([(-base, 0), (-r_f, tip), (r_f, tip), (base, 0)], color="#7d7d86", label="Ag filament"))
        if g > 0:
            ax.annotate("", xy=(0, t), xytext=(0, tip), arrowprops=dict(arrowstyle="<->", color="crimson"))
            ax.text(r_f + 1, (t + tip) / 2, f"gap {g:.2g} nm\n(light)", color="crimson", va="center", fontsize=8)
        else:
            ax.text(r_f + 1, t - 1, "bridged (metallic contact)", color="crimson", va="top", fontsize=8)
    ax.set(xlim=(-R, R), ylim=(-e, t + e), xlabel="x [nm]", ylabel="z [nm]", title="device cross-section (to scale)")
    ax.set_aspect("equal")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    path = save_figure(fig, path)
    plt.close(fig)
    return path
