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
from pathlib import Path

from devicephys import stages
from devicephys.io import atomic_write_text

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222;line-height:1.4}
h1{border-bottom:2px solid #444} h2{margin-top:2em;border-bottom:1px solid #bbb}
figure{display:inline-block;margin:.5em;vertical-align:top;max-width:520px}
figure img{max-width:520px;border:1px solid #ddd} figcaption{font-size:.9em;color:#555}
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


def _caption(path: Path) -> str:
    return path.stem.replace("_", " ")


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
            rows.append(f"<tr><td>{html.escape(str(name))}</td><td class=num>{_fmt(float(var.values))}</td>"
                        f"<td>{html.escape(var.attrs.get('units', ''))}</td>"
                        f"<td>{html.escape(var.attrs.get('long_name', ''))}</td>"
                        f"<td>{html.escape(var.attrs.get('method', ''))}</td></tr>")
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


def _stage_section(name: str, folder: Path, summary: dict) -> str:
    row = summary.get(name, {})
    parts = [f"<h2>{html.escape(name)} — {html.escape(stages.get(name).summary)}</h2>",
             f"<p>status: {html.escape(row.get('status', 'not run'))}</p>"]
    if "error" in row:
        parts.append(f"<p style='color:#a00'>error: {html.escape(row['error'])}</p>")
    if not folder.is_dir():
        return "".join(parts)
    parts += [_img(p, _caption(p)) for p in sorted(folder.glob("*.png"))]
    parts += [_scalars_table(nc) for nc in sorted(folder.glob("*.nc"))]
    card = folder / "device_card.json"
    if card.is_file():
        parts.append(_card_table(card))
    files = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    parts.append("<p>files: " + ", ".join(html.escape(f) for f in files) + "</p>")
    return "".join(parts)


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


def write_report(out: Path, summary: dict, sketch: Path | None = None, audit_rows=None) -> Path:
    """Write ``out/report.html`` for the run in ``out``; return its path."""
    out = Path(out)
    body = ["<h1>devicephys report</h1>",
            "<p>Light-emitting memristive neuron: filament (FEM) → gap emission (FDTD) → compact model → "
            "photonic spiking array. All values SI unless the label says otherwise.</p>"]
    if audit_rows:
        body.append(_audit_table(audit_rows))
    if sketch is not None and sketch.is_file():
        body.append(_img(sketch, "device sketch"))
    body.append("<table><tr><th>stage</th><th>status</th><th>time [s]</th></tr>" + "".join(
        f"<tr><td>{html.escape(n)}</td><td>{html.escape(r.get('status', ''))}</td>"
        f"<td class=num>{r.get('seconds', float('nan')):.1f}</td></tr>" for n, r in summary.items()) + "</table>")
    for stage in stages.STAGES:
        body.append(_stage_section(stage.name, out / stage.name, summary))
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>devicephys report</title>"
            f"<style>{_CSS}</style></head><body>{''.join(body)}{_CHECK}</body></html>")
    return atomic_write_text(out / "report.html", page)
