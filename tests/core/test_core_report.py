"""The HTML report renders in headless Chromium with no broken images."""

import re
import shutil
import subprocess

import pytest

from devicephys.plot import device_sketch
from devicephys.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def render_dom(page, tmp_path):
    """Load ``page`` in headless Chromium and return the DOM after the load event."""
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'chrome-profile'}", "--virtual-time-budget=5000",
            "--dump-dom", page.resolve().as_uri()]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    return out.stdout


def image_counts(dom):
    total = re.search(r'data-images="(\d+)"', dom)
    broken = re.search(r'data-broken-images="(\d+)"', dom)
    assert total and broken, "the report's load script did not run"
    return int(total.group(1)), int(broken.group(1))


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed (make setup installs it)")
def test_report_renders_without_broken_images(tmp_path):
    sketch = device_sketch(tmp_path / "device_sketch.png")
    (tmp_path / "filament").mkdir()
    shutil.copy(sketch, tmp_path / "filament" / "iv_loop.png")
    page = write_report(tmp_path, {"filament": {"status": "done", "seconds": 1.0}}, sketch)
    total, broken = image_counts(render_dom(page, tmp_path))
    assert total == 2 and broken == 0


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed (make setup installs it)")
def test_broken_image_is_detected(tmp_path):
    (tmp_path / "filament").mkdir()
    (tmp_path / "filament" / "corrupt.png").write_bytes(b"\x89PNG not really")
    page = write_report(tmp_path, {"filament": {"status": "done", "seconds": 1.0}})
    total, broken = image_counts(render_dom(page, tmp_path))
    assert total == 1 and broken == 1
