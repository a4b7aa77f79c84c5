"""Shared test configuration: engines are real; skip only when one is absent."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
