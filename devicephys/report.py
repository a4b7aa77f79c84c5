"""One self-contained HTML page summarising a pipeline run.

Every picture is embedded (base64 PNG), so the page can be mailed as one file.
The page lists, per stage, its plots and every extracted scalar with its unit
and how it was obtained, then the DeviceCard's parameters with provenance.
A small script marks the page with the number of images that failed to
render, which the tests read back from a headless browser.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path

from devicephys import stages
from devicephys.io import atomic_write_text

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222;line-height:1.4}
h1{border-bottom:2px solid #444} h2{margin-top:2em;border-bottom:1px solid #bbb}
figure{display:inline-block;margin:.5em;vertical-align:top;width:520px}
figure img{width:520px;border:1px solid #ddd} figcaption{font-size:.95em;color:#333}
details{margin:.6em 0} summary{cursor:pointer;color:#225}
table{border-collapse:collapse;font-size:.9em} td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f0f0f0} td.num{text-align:right;font-family:monospace}
"""

_CHECK = """
<script>
window.addEventListener('load', function () {
  var imgs = Array.from(document.images);
  var broken = imgs.filter(function (i) { return !i.complete || i.naturalWidth === 0; });
  document.body.setAttribute('data-images', imgs.length);
  document.body.setAttribute('data-broken-images', broken.length);
});
</script>
"""


def _img(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


#: What the stage plots that do not carry their own message show (file stem -> one sentence).
_MESSAGES = {
    "iv": "Current-voltage loop of the cell under the triangular sweep: threshold switching and its hysteresis.",
    "temperature": "Temperature in the cell at the peak of the sweep (r, z cross-section).",
    "snapshots": "Metallic Ag fraction along the axis at several times: the filament grows from the active electrode.",
    "set_time": "Set time against the source voltage: the voltage-time dilemma of the switch.",
    "relaxation": "The gap after the bias is removed: the filament dissolves by itself (volatile switching). Below it "
                  "(when recorded), the cell read at the read voltage as its gap opens: the tunnelling across the gap "
                  "falls by decades until the matrix's leakage is all that is left.",
    "lifetime_study": "How long the bridged filament stays ON under each constant source voltage (first rupture), "
                      "and how often it re-forms after.",
    "hold_window": "Each source voltage held from where the sweep's falling ramp passes it: the share of the hold "
                   "spent ON and the ruptures; the held biases (ON throughout, no rupture) are the hold window.",
    "emission_optics": "Optical response of the gap: LDOS enhancement (Purcell factor) and radiative efficiency.",
    "emission_spectra": "Emission spectra (photons per electron per nm) and the peak wavelength against the gap.",
    "emission_far_field": "Far-field pattern of the gap's emission against the point-dipole pattern.",
    "device_sketch": "Cross-section of the cell, to scale, with the filament and its emitting gap when one formed.",
}


def _png_text(path: Path, key: str) -> str | None:
    """The text chunk ``key`` of a PNG file (tEXt, or uncompressed/zlib iTXt), None if absent or unreadable."""
    import struct
    import zlib

    try:
        data = path.read_bytes()
    except OSError:
        return None
    pos = 8  # after the signature
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        name, _, rest = body.partition(b"\0")
        if name.decode("latin-1") != key:
            continue
        try:
            if kind == b"tEXt":
                return rest.decode("latin-1")
            if kind == b"iTXt":  # flag, method, language\0, translated keyword\0, text
                compressed, text = rest[0], rest[2:].split(b"\0", 2)[2]
                return (zlib.decompress(text) if compressed else text).decode("utf-8")
        except (IndexError, UnicodeDecodeError, zlib.error):
            return None
    return None


def _caption(path: Path) -> str:
    """The plot's message: its PNG Description (written by the plot), else a known sentence, else its name."""
    text = _png_text(path, "Description")
    return text or _MESSAGES.get(path.stem, path.stem.replace("_", " "))


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _scalars_table(nc: Path) -> str:
    import xarray as xr

    try:
        ds = xr.load_dataset(nc, engine="h5netcdf")
    except Exception as exc:  # noqa: BLE001 - a report never fails on one bad file
        return f"<p>could not read {html.escape(nc.name)}: {html.escape(str(exc))}</p>"
    rows = []
    for name, var in ds.data_vars.items():
        if var.ndim == 0 and var.dtype.kind in "fiu":
            value, how = _fmt(float(var.values)), var.attrs.get("method", "")
            sigma = var.attrs.get("uncertainty")
            if sigma is not None and math.isfinite(float(sigma)):
                value += f" ± {_fmt(float(sigma))}"
                how += f" (uncertainty: {var.attrs.get('uncertainty_method', '')})"
            rows.append(f"<tr><td>{html.escape(str(name))}</td><td class=num>{value}</td>"
                        f"<td>{html.escape(var.attrs.get('units', ''))}</td>"
                        f"<td>{html.escape(var.attrs.get('long_name', ''))}</td>"
                        f"<td>{html.escape(how)}</td></tr>")
    if not rows:
        return ""
    head = "<tr><th>quantity</th><th>value</th><th>unit</th><th>meaning</th><th>how obtained</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _card_table(card_path: Path) -> str:
    card = json.loads(card_path.read_text())
    unc = card.get("uncertainties", {})
    rows = []
    for name, p in card.get("parameters", {}).items():
        sigma = unc.get(name)
        rows.append(f"<tr><td>{html.escape(name)}</td><td class=num>{_fmt(p['value'])}</td>"
                    f"<td class=num>{'' if sigma is None else _fmt(sigma)}</td><td>{html.escape(p.get('unit', ''))}</td>"
                    f"<td>{html.escape(p.get('description', ''))}</td><td>{html.escape(p.get('source', ''))}</td></tr>")
    head = "<tr><th>parameter</th><th>value</th><th>1σ</th><th>unit</th><th>meaning</th><th>provenance</th></tr>"
    return f"<h3>DeviceCard parameters</h3><table>{head}{''.join(rows)}</table>"


#: Card parameters compared between a card fitted to measurements and its FEM/FDTD base card.
_COMPARED = ("threshold_voltage", "hold_voltage", "resistance_on", "resistance_off", "relaxation_time",
             "set_time_tau0", "set_time_v0", "activation_energy")


def _compared_row(name: str, card: dict, base: dict) -> str:
    """One row of the side-by-side table: values, relative difference, agreement within the measured card's 3σ.

    A measured R_off that is only a lower bound (OFF current at the noise floor) is shown as ``≥``
    and compared as a bound.
    """
    m, f = card["parameters"][name]["value"], base["parameters"][name]["value"]
    sigma = card.get("uncertainties", {}).get(name)
    bound = name in ("resistance_off", "leakage_resistance") and \
        card.get("fit_quality", {}).get("measured", {}).get("resistance_off_lower_bound", False)
    if bound:
        shown, diff, agree = f"≥ {_fmt(m)}", "bound", "yes (above the bound)" if f >= m else "no (below the bound)"
    else:
        shown, diff = _fmt(m), f"{(f / m - 1) * 100:+.1f} %"
        agree = "no σ" if not sigma else ("yes" if abs(f - m) <= 3 * sigma else "no")
        measured = card.get("fit_quality", {}).get("measured", {})
        q1, q3 = measured.get("resistance_on_lower_quartile"), measured.get("resistance_on_upper_quartile")
        if name == "resistance_on" and q1 is not None and q3 is not None:  # σ is the median's; the ON state spreads
            agree += (f"; {'inside' if q1 <= f <= q3 else 'outside'} the measured ON samples' quartiles "
                      f"({_fmt(q1)}–{_fmt(q3)})")
    return (f"<tr><td>{html.escape(name)}</td><td class=num>{shown}</td><td class=num>{_fmt(f)}</td>"
            f"<td class=num>{diff}</td><td>{agree}</td><td>{html.escape(card['parameters'][name]['unit'])}</td></tr>")


def _measured_vs_fem(card_path: Path, base_path: Path) -> str:
    """Measured and FEM-derived cards side by side (only when the card was fitted to measurements on a fitted base)."""
    if not base_path.is_file():
        return ""
    card, base = json.loads(card_path.read_text()), json.loads(base_path.read_text())
    if "measurements" not in card.get("provenance", {}) or "origin" in base.get("provenance", {}) and \
            "illustrative" in str(base["provenance"]["origin"]):
        return ""
    # the two-state card's rates where both cards have them (the FEM's return only with its dissolved_return)
    extra = [n for n in ("dissolution_rate", "return_rate")
             if card["parameters"].get(n, {}).get("value", 0) > 0 and base["parameters"].get(n, {}).get("value", 0) > 0]
    rows = [_compared_row(name, card, base) for name in (*_COMPARED, *extra)]
    head = ("<tr><th>parameter</th><th>measured card</th><th>FEM/FDTD card</th><th>FEM vs measured</th>"
            "<th>FEM within 3σ of measured</th><th>unit</th></tr>")
    return (f"<h3>Measured card versus the first-principles (FEM/FDTD) card</h3><p>measurements: "
            f"{html.escape(', '.join(card['provenance']['measurements']))}</p><table>{head}{''.join(rows)}</table>")


def _measured_replay(card_path: Path) -> str:
    """The measured drive replayed on a card fitted to measurements (its fit_quality.replay block) as a table."""
    try:
        block = json.loads(card_path.read_text()).get("fit_quality", {}).get("replay")
    except (OSError, json.JSONDecodeError, AttributeError):
        return ""
    if not isinstance(block, dict) or not any(isinstance(block.get(k), dict) for k in ("numpy", "ngspice")):
        return ""
    measured = block.get("measured", {})
    rows = []
    for key in ("numpy", "ngspice"):
        r = block.get(key)
        if not isinstance(r, dict):
            continue
        if "error" in r or "skipped" in r:
            why = html.escape(str(r.get("error") or r.get("skipped")))
            rows.append(f"<tr><td>{key}</td><td colspan=3>{why}</td></tr>")
            continue
        cells = []
        for name in ("threshold_voltage", "hold_voltage"):
            got, rel = r.get(name), r.get(f"{name}_relative")
            cells.append(f"{_fmt(got)} V ({100 * rel:+.1f} %)" if got is not None and rel is not None
                         and math.isfinite(got) else html.escape(r.get("hold_note", "none")))
        how = ""
        if key == "ngspice" and "maximum_step" in r:
            how = f"maximum step {_fmt(r['maximum_step'])} s"
            if r.get("stopped_at"):
                how += f", after stopping at {len(r['stopped_at'])} larger one(s)"
            c_cell = block.get("cell_capacitance") or 0.0
            how += f"; {_fmt(c_cell)} F across the cell" if c_cell > 0 else "; no capacitance across the cell"
        rows.append(f"<tr><td>{key}</td><td class=num>{cells[0]}</td><td class=num>{cells[1]}</td>"
                    f"<td>{html.escape(how)}</td></tr>")
    head = "<tr><th>engine</th><th>threshold (vs measured)</th><th>hold (vs measured)</th><th>run</th></tr>"
    said = ", ".join(f"{k.split('_')[0]} {_fmt(v)} V" for k, v in measured.items() if isinstance(v, (int, float)))
    drive = f"series resistance {_fmt(block['series_resistance'])} Ohm" if "series_resistance" in block else ""
    if math.isfinite(block.get("compliance_current", math.inf) or math.inf):
        drive += f", compliance {_fmt(block['compliance_current'])} A"
    return (f"<h3>The measured drive replayed on the card</h3><p>measured: {html.escape(said)}; "
            f"{html.escape(drive)}</p><table>{head}{''.join(rows)}</table>")


def _fem_drive(card_path: Path) -> str:
    """The card under the FEM's own drive (its fit_quality.fem_drive block) as a table."""
    from devicephys.compact import fem_drive

    try:
        block = json.loads(card_path.read_text()).get("fit_quality", {}).get("fem_drive")
    except (OSError, json.JSONDecodeError, AttributeError):
        return ""
    return fem_drive.report_html(block)


def _stage_section(name: str, folder: Path, summary: dict) -> str:
    row = summary.get(name, {})
    parts = [f"<h2>{html.escape(name)} — {html.escape(stages.get(name).summary)}</h2>",
             f"<p>status: {html.escape(row.get('status', 'not run'))}</p>"]
    if "error" in row:
        parts.append(f"<p style='color:#a00'>error: {html.escape(row['error'])}</p>")
    if not folder.is_dir():
        return "".join(parts)
    parts += [_img(p, _caption(p)) for p in sorted(folder.glob("*.png"))]
    parts += [_details(f"every quantity in {nc.name}", _scalars_table(nc)) for nc in sorted(folder.glob("*.nc"))]
    card = folder / "device_card.json"
    if card.is_file():
        parts.append(_measured_vs_fem(card, folder / "base_device_card.json"))
        parts.append(_measured_replay(card))
        parts.append(_fem_drive(card))
        parts.append(_details("every DeviceCard parameter with its provenance", _card_table(card)))
    files = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    parts.append("<p>files: " + ", ".join(html.escape(f) for f in files) + "</p>")
    return "".join(parts)


def _details(summary: str, content: str) -> str:
    """``content`` folded under a one-line summary (long tables stay out of the way of the plots)."""
    return f"<details><summary>{html.escape(summary)}</summary>{content}</details>" if content else ""


#: The card's key numbers for the first screen: name, shown unit, scale from SI, label.
_KEY_NUMBERS = (
    ("threshold_voltage", "V", 1.0, "threshold voltage"), ("hold_voltage", "V", 1.0, "hold voltage"),
    ("resistance_on", "kΩ", 1e-3, "ON resistance"), ("resistance_off", "Ω", 1.0, "OFF resistance"),
    ("set_time_tau0", "s", 1.0, "set time prefactor τ₀"), ("set_time_v0", "V", 1.0, "set time voltage scale V₀"),
    ("relaxation_time", "µs", 1e6, "self-rupture time"), ("thermal_resistance", "K/W", 1.0, "thermal resistance"),
    ("photons_per_electron", "1", 1.0, "photons per electron"), ("photons_per_spike", "1", 1.0, "photons per spike"),
    ("peak_wavelength", "nm", 1e9, "peak wavelength"),
)


def _device_line(out: Path) -> str:
    """One sentence describing the simulated stack (from the filament result's spec)."""
    import xarray as xr

    nc = out / "filament" / "filament.nc"
    try:
        spec = json.loads(xr.load_dataset(nc, engine="h5netcdf").attrs["spec"])
    except Exception:  # noqa: BLE001 - no readable filament result: no device line
        return ""
    try:
        return (f"<p><b>Device:</b> {html.escape(spec['active_electrode'])} / {spec['insulator_thickness'] * 1e9:.3g} nm "
                f"{html.escape(spec['insulator'])} / {html.escape(spec['counter_electrode'])}, footprint "
                f"{spec['footprint_x'] * 1e9:.0f} × {spec['footprint_y'] * 1e9:.0f} nm, series resistor "
                f"{spec['series_resistance'] / 1e3:.3g} kΩ, ambient {spec['ambient_temperature']:.0f} K.</p>")
    except (KeyError, TypeError):
        return ""


def _key_numbers(out: Path) -> str:
    """The card's key numbers with 1σ, beside their published ranges (first screen)."""
    from devicephys.ranges import RANGES

    path = out / "compact" / "device_card.json"
    try:
        card = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return ""
    params, unc = card.get("parameters", {}), card.get("uncertainties", {})
    rows = []
    for name, unit, scale, label in _KEY_NUMBERS:
        if name not in params or params[name].get("value") is None:
            continue
        value, sigma = params[name]["value"], unc.get(name)
        shown = _fmt(value * scale) + ("" if sigma is None else f" ± {_fmt(sigma * scale)}")
        shown += _bracket(card, name, scale)
        rng = RANGES.get(name)
        inside = "" if rng is None else ("in range" if rng.holds(value) else "OUT of range")
        colour = "" if rng is None else ("#e6f4e6" if rng.holds(value) else "#f8d0d0")
        published = "" if rng is None else f"{_fmt(rng.low * scale)} – {_fmt(rng.high * scale)}"
        rows.append(f"<tr style='background:{colour}'><td>{html.escape(label)}</td><td class=num>{html.escape(shown)}</td>"
                    f"<td>{html.escape(unit)}</td><td class=num>{html.escape(published)}</td><td>{inside}</td>"
                    f"<td>{html.escape(params[name].get('source', ''))}</td></tr>")
    head = ("<tr><th>quantity</th><th>value ± 1σ</th><th>unit</th><th>published range</th><th></th>"
            "<th>how obtained</th></tr>")
    return f"<h2 id='key-numbers'>Key numbers of the DeviceCard</h2><table>{head}{''.join(rows)}</table>" if rows else ""


def _bracket(card: dict, name: str, scale: float) -> str:
    """The card's ``name`` at both ends of R_on's spread, as " (X at R_on's low end, Y at its high end)"; empty where
    the fit made no bracket (``fit_quality.resistance_on_bracket``) or the two ends agree."""
    bracket = card.get("fit_quality", {}).get("resistance_on_bracket") or {}
    ends = [bracket.get(side, {}).get(name) for side in ("low", "high")]
    if name == "resistance_on" or any(e is None for e in ends) or ends[0] == ends[1]:
        return ""
    return f" ({_fmt(ends[0] * scale)} at R_on's low end, {_fmt(ends[1] * scale)} at its high end)"


def _audit_table(rows) -> str:
    """The joint audit: one row per constraint, failing rows red, unknown ones amber."""
    colour = {"pass": "#e6f4e6", "fail": "#f8d0d0", "unknown": "#fdf0c8"}
    body = "".join(
        f"<tr style='background:{colour.get(r.status, '#fff')}'><td>{html.escape(r.joint)}</td>"
        f"<td>{html.escape(r.constraint)}</td><td><b>{html.escape(r.status)}</b></td>"
        f"<td class=num>{html.escape(r.value)}</td><td>{html.escape(r.limit)}</td><td>{html.escape(r.detail)}</td></tr>"
        for r in rows)
    head = "<tr><th>joint</th><th>constraint</th><th>status</th><th>value</th><th>allowed</th><th>detail / source</th></tr>"
    return f"<h2 id='audit'>Joint audit</h2><table class=audit>{head}{body}</table>"


def _sweeps_section(out: Path, summary: dict) -> str:
    """The sweeps of the run (summary rows of kind 'sweep'): status, the plot of each, its values as a table."""
    rows = {name: row for name, row in summary.items() if row.get("kind") == "sweep"}
    if not rows:
        return ""
    parts = ["<h2>sweeps</h2>"]
    for name, row in rows.items():
        parts.append(f"<h3>{html.escape(name)}</h3><p>status: {html.escape(row.get('status', ''))}</p>")
        if "error" in row:
            parts.append(f"<p style='color:#a00'>error: {html.escape(row['error'])}</p>")
        files = {k: out / v for k, v in row.get("files", {}).items()}
        if "plot" in files and files["plot"].is_file():
            parts.append(_img(files["plot"], f"{name}: each extracted quantity against the swept field"))
        if "result" in files and files["result"].is_file():
            parts.append(_sweep_table(files["result"]))
    return "".join(parts)


def _sweep_table(nc: Path) -> str:
    """One row per sweep point: the swept value, then each extracted quantity (unit in the header)."""
    import xarray as xr

    try:
        ds = xr.load_dataset(nc, engine="h5netcdf")
    except Exception as exc:  # noqa: BLE001 - a report never fails on one bad file
        return f"<p>could not read {html.escape(nc.name)}: {html.escape(str(exc))}</p>"
    dim = next(iter(ds.dims))
    names = [dim] + [str(n) for n in ds.data_vars]
    head = "".join(f"<th>{html.escape(n)} [{html.escape(ds[n].attrs.get('units', ''))}]</th>" for n in names)
    body = []
    for i in range(ds.sizes[dim]):
        cells = []
        for n in names:
            v = ds[n].values[i]
            text = _fmt(float(v)) if ds[n].dtype.kind in "fiu" else str(v)
            cells.append(f"<td class=num>{html.escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table><p>data: {html.escape(nc.name)}</p>"


def write_report(out: Path, summary: dict, sketch: Path | None = None, audit_rows=None) -> Path:
    """Write ``out/report.html`` for the run in ``out``; return its path."""
    out = Path(out)
    body = ["<h1>devicephys report</h1>",
            "<p>Light-emitting memristive neuron: filament (FEM) → gap emission (FDTD or frequency-domain FEM) → compact model → "
            "photonic spiking array. All values SI unless the label says otherwise.</p>"]
    body.append(_device_line(out))
    body.append(_key_numbers(out))
    if audit_rows:
        body.append(_audit_table(audit_rows))
    if sketch is not None and sketch.is_file():
        body.append(_img(sketch, _caption(sketch)))
    body.append("<table><tr><th>stage</th><th>status</th><th>time [s]</th></tr>" + "".join(
        f"<tr><td>{html.escape(n)}</td><td>{html.escape(r.get('status', ''))}</td>"
        f"<td class=num>{r.get('seconds', float('nan')):.1f}</td></tr>" for n, r in summary.items()) + "</table>")
    for stage in stages.STAGES:
        body.append(_stage_section(stage.name, out / stage.name, summary))
    body.append(_sweeps_section(out, summary))
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>devicephys report</title>"
            f"<style>{_CSS}</style></head><body>{''.join(body)}{_CHECK}</body></html>")
    return atomic_write_text(out / "report.html", page)
