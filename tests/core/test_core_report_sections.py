"""Per-stage report sections: one figure per message, axis labels with units, long tables folded.

The compact stage's fit is drawn from a card fitted to the synthetic upstream results (known reference
parameters), the array's plots from the array stage's fast preset.  No pixel is compared: the tests read
the figures' axis labels while they are saved and the captions the report shows.
"""

from __future__ import annotations

import re

import pytest

from devicephys import io
from devicephys.report import write_report

#: Axis labels of counts and ratios, which have no unit.
UNITLESS = {"photons per electron", "neuron index", "neurons", "count per spike", "metallic Ag fraction"}
UNIT = re.compile(r"\[[^\]]+\]")

FIT_PANELS = ("fit_conductance", "fit_set_time", "fit_relaxation", "fit_heating", "fit_photon_yield",
              "fit_peak_wavelength", "fit_operating_spectrum")


def _recording(monkeypatch, module) -> list[tuple[str, str, str]]:
    """Record (file, x label, y label) of every axis that ``module`` saves through its ``save_figure``."""
    seen: list[tuple[str, str, str]] = []

    from matplotlib.category import UnitData

    def label(axis):  # an axis of named categories (a bar per step) needs no label
        return None if isinstance(axis.get_units(), UnitData) else axis.get_label_text()

    def save(fig, path, **kwargs):
        for ax in fig.axes:
            if ax.get_label() != "<colorbar>":
                seen.append((str(path), label(ax.xaxis), label(ax.yaxis)))
        return io.save_figure(fig, path, **kwargs)

    monkeypatch.setattr(module, "save_figure", save)
    return seen


def _assert_units(labels):
    for path, *axes in labels:
        for label in (a for a in axes if a is not None):
            assert label, f"{path}: an axis has no label"
            assert UNIT.search(label) or label in UNITLESS, f"{path}: axis label {label!r} has no unit in brackets"
            assert not re.search(r"_(nm|um|us|uA|uW|MHz)\b", label), f"{path}: {label!r} is a variable name"


@pytest.fixture(scope="module")
def compact_run(tmp_path_factory):
    from devicephys.compact import build, plot, synthetic
    from devicephys.compact.spec import CompactSpec

    out = tmp_path_factory.mktemp("run")
    filament, emission = synthetic.filament_dataset(), synthetic.emission_dataset()
    card = build.fit_device(filament, emission, CompactSpec())
    with pytest.MonkeyPatch.context() as mp:
        labels = _recording(mp, plot)
        files = plot.fit_figures(card, filament, emission, out / "compact")
    card.save(out / "compact" / "device_card.json")
    return out, card, files, labels


def test_compact_fit_is_one_figure_per_law(compact_run):
    out, _, files, labels = compact_run
    assert set(files) == set(FIT_PANELS)
    assert len(labels) == len(FIT_PANELS)  # one axes per figure
    _assert_units(labels)


def test_report_shows_each_fit_panel_with_its_message(compact_run):
    out, card, files, _ = compact_run
    page = write_report(out, {"compact": {"status": "done", "seconds": 1.0}}).read_text()
    section = page[page.index("<h2>compact"):]
    figures = re.findall(r"<figure><img alt=\"([^\"]*)\" src=\"data:image/png;base64,[^\"]+\">"
                         r"<figcaption>([^<]*)</figcaption></figure>", section)
    assert len(figures) == len(FIT_PANELS)
    captions = [caption for _, caption in figures]
    assert len(set(captions)) == len(FIT_PANELS)  # one message each, not the file name
    assert not any(c.replace(" ", "_") in FIT_PANELS for c in captions)
    assert any(f"R_th = {card.value('thermal_resistance'):.3g} K/W" in c for c in captions)
    assert any(f"self-rupture time {card.value('relaxation_time') * 1e6:.3g} µs" in c for c in captions)
    # the 40 card parameters are folded under the plots, not spread over the first screen of the section
    assert "<details><summary>every DeviceCard parameter with its provenance</summary>" in section
    assert section.index("<figure>") < section.index("<details>")


def test_array_plots_label_their_axes_with_units(tmp_path, monkeypatch):
    from devicephys.array import ArraySpec, plot, simulate_array

    result = simulate_array(ArraySpec.fast(), progress=False)
    labels = _recording(monkeypatch, plot)
    files = plot.all_plots(result, tmp_path / "array")
    assert {p for p, *_ in labels} == {str(p) for p in files.values()}
    _assert_units(labels)
    page = write_report(tmp_path, {"array": {"status": "done", "seconds": 1.0}}).read_text()
    assert "photonically excited" in page and "Link budget of one spike" in page


def test_plot_without_a_message_gets_a_sentence_not_its_file_name(tmp_path):
    from devicephys.plot import device_sketch

    (tmp_path / "filament").mkdir()
    device_sketch(tmp_path / "filament" / "relaxation.png")
    page = write_report(tmp_path, {"filament": {"status": "done", "seconds": 1.0}}).read_text()
    assert "the filament dissolves by itself" in page and "<figcaption>relaxation</figcaption>" not in page


def test_ngspice_checks_are_one_figure_each_with_units(tmp_path, monkeypatch):
    from types import SimpleNamespace as NS

    import numpy as np

    from devicephys.compact import plot

    t = np.linspace(0.0, 2.0, 50)  # seconds: the time axis picks its unit from the span
    trace = NS(time=t, voltage=np.linspace(0, 1, 50), current=np.linspace(1e-9, 1e-6, 50))
    checks = {"dc_sweep": {"numpy": trace, "spice_current": trace.current},
              "pulse_train": {"numpy": trace, "spice_current": trace.current},
              "lif": {"numpy": {"time": t, "voltage": t, "spike_times": [1.0]},
                      "spice": NS(time=t, vectors={"v(mem)": t})},
              "lif_physical": {"numpy": {"time": t, "gap": t * 1e-9}, "spice": NS(time=t), "spice_gap": t * 1e-9}}
    labels = _recording(monkeypatch, plot)
    files = plot.verification_figures(checks, tmp_path)
    assert set(files) == {"ngspice_dc_sweep", "ngspice_pulse_train", "ngspice_lif", "ngspice_lif_filament"}
    assert len(labels) == 4
    _assert_units(labels)
    assert ("time [s]", "membrane voltage [V]") in [tuple(x[1:]) for x in labels]
