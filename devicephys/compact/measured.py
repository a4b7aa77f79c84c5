"""Read a user's measured DC sweep and pulse data (CSV files with units in the header).

CSV layout: lines starting with ``#`` are comments; the first other line is a
header naming each column with its unit in brackets, e.g.
``time [s],voltage [V],current [mA]``.  Units with SI prefixes are converted
to SI.  Two kinds of file:

DC sweep (the cell driven up and down, usually through a series resistor or a compliance)
    ``time`` [s] (strictly increasing), ``voltage`` [V] across the device and
    ``current`` [A]; optionally ``source_voltage`` [V], the drive before the
    series resistor (lets the stage replay the measurement in ngspice).
Pulse responses (optional)
    ``voltage`` [V] (pulse amplitude across the OFF device) and ``set_time``
    [s], one row per amplitude; optionally ``relaxation_time`` [s], the time
    the device needs to switch off by itself after the pulse (a cell may be
    left empty where it was not measured).

:func:`sweep_parameters` reads the device's circuit-level numbers off a sweep
as an experimenter would (see its docstring); :mod:`devicephys.compact.measured_fit`
maps them onto a compact model card.  Every malformed input raises a
:class:`~devicephys.errors.SpecError` whose one line names the file, the line
and the fix.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from devicephys.errors import SpecError
from devicephys.units import UnitError, parse_quantity

_HEADER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\[(.*)\]\s*$")

#: Columns of a DC-sweep file (required, optional) with their SI units.
SWEEP_COLUMNS = {"time": "s", "voltage": "V", "current": "A"}
SWEEP_OPTIONAL = {"source_voltage": "V"}
#: Columns of a pulse file (required, optional) with their SI units.
PULSE_COLUMNS = {"voltage": "V", "set_time": "s"}
PULSE_OPTIONAL = {"relaxation_time": "s"}


@dataclass(frozen=True)
class Table:
    """Columns of a measurement file in SI units, with the file line of each row (1-based)."""

    path: Path
    columns: dict[str, np.ndarray]
    lines: np.ndarray
    header_line: int
    #: The sweep's drive, as the user states it (not in the file): current compliance [A] (inf: none) and
    #: series resistance [Ohm] (0: read from the load line).
    compliance_current: float = math.inf
    series_resistance: float = 0.0

    @property
    def compliance(self) -> bool:
        """Whether the sweep ran under a current compliance."""
        return math.isfinite(self.compliance_current)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __contains__(self, name: str) -> bool:
        return name in self.columns

    def where(self, row: int) -> str:
        """``'file line N'`` of data row ``row``."""
        return f"{self.path.name} line {int(self.lines[row])}"


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    if not path.is_file():
        raise SpecError(f"measurement file '{path}' does not exist; give the path of a CSV file "
                        "(format: see docs/measurements.md)")
    with open(path, newline="") as fh:
        rows = [(n, r) for n, r in enumerate(csv.reader(fh), start=1)
                if r and any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
    if len(rows) < 2:
        raise SpecError(f"{path.name}: needs a header line 'name [unit],...' and data lines; "
                        "add them (format: see docs/measurements.md)")
    return rows


def _header(path: Path, line: int, cells: list[str]) -> dict[str, tuple[int, str]]:
    header = {}
    for k, cell in enumerate(cells):
        m = _HEADER.match(cell)
        if not m:
            raise SpecError(f"{path.name} line {line}: column header {cell!r} must read 'name [unit]', "
                            "e.g. 'current [mA]'; rename it")
        header[m.group(1)] = (k, m.group(2).strip())
    return header


def read_csv(path: str | Path, columns: dict[str, str], optional: dict[str, str] | None = None) -> Table:
    """Columns of a CSV file in SI units.

    Parameters
    ----------
    path
        CSV file whose header names columns as ``name [unit]``.
    columns, optional
        Required and optional column names mapped to their SI unit.  Empty
        cells are allowed in optional columns only (read as NaN).
    """
    path = Path(path)
    rows = _rows(path)
    head_line, head = rows[0]
    header = _header(path, head_line, head)
    lines = np.array([n for n, _ in rows[1:]])
    out = {}
    for name, si in {**columns, **(optional or {})}.items():
        if name not in header:
            if name in columns:
                raise SpecError(f"{path.name} line {head_line}: column '{name} [{si}]' is missing (found "
                                f"{sorted(header)}); add it")
            continue
        k, unit = header[name]
        try:
            scale = parse_quantity(f"1 {unit}", si)
        except UnitError:
            raise SpecError(f"{path.name} line {head_line}: column '{name}' has unit [{unit}], which is not "
                            f"convertible to {si}; write it in {si} or a prefixed {si} (e.g. m{si})") from None
        out[name] = _column(path, rows[1:], k, name, allow_empty=name not in columns) * scale
    return Table(path, out, lines, head_line)


def _column(path: Path, rows, k: int, name: str, allow_empty: bool) -> np.ndarray:
    values = []
    for line, row in rows:
        cell = row[k].strip() if k < len(row) else ""
        if cell == "" and allow_empty:
            values.append(math.nan)
            continue
        try:
            value = float(cell)
        except ValueError:
            raise SpecError(f"{path.name} line {line}: column '{name}' is not a number ({cell or 'empty'!r}); "
                            "fix the value or remove the line") from None
        if not math.isfinite(value):
            raise SpecError(f"{path.name} line {line}: column '{name}' is {cell!r}; give a finite number or "
                            "remove the line")
        values.append(value)
    return np.array(values)


def read_sweep(path: str | Path, *, compliance_current: float = math.inf, series_resistance: float = 0.0) -> Table:
    """A DC-sweep file: time strictly increasing, at least 10 rows; with the drive's compliance [A] and resistor [Ohm]."""
    table = read_csv(path, SWEEP_COLUMNS, SWEEP_OPTIONAL)
    if math.isfinite(compliance_current) and "source_voltage" not in table:
        raise SpecError(f"{table.path.name} line {table.header_line}: a compliance is given but the file has no "
                        "source_voltage column; add it (the source's voltage, before the series resistance), or "
                        "drop the compliance")
    table = replace(table, compliance_current=float(compliance_current), series_resistance=float(series_resistance))
    t = table["time"]
    if len(t) < 10:
        raise SpecError(f"{table.path.name}: only {len(t)} data lines; a sweep needs at least 10 (up and down)")
    bad = np.flatnonzero(np.diff(t) <= 0)
    if bad.size:
        k = int(bad[0]) + 1
        raise SpecError(f"{table.where(k)}: time {t[k]:.6g} s is not after the previous line's {t[k - 1]:.6g} s; "
                        "the sweep must be in time order (sort it or remove repeated lines)")
    return table


def read_pulses(path: str | Path) -> Table:
    """A pulse file: positive amplitudes and set times, at least one row."""
    table = read_csv(path, PULSE_COLUMNS, PULSE_OPTIONAL)
    for name in ("voltage", "set_time", "relaxation_time"):
        if name in table:
            bad = np.flatnonzero(~(table[name] > 0) & ~np.isnan(table[name]))
            if bad.size:
                k = int(bad[0])
                raise SpecError(f"{table.where(k)}: {name} = {table[name][k]:.6g} must be > 0; "
                                "give the pulse amplitude and times as positive numbers")
    return table


def sweep_parameters(sweep: Table, *, require_release: bool = True) -> dict:
    """Switching numbers read off a measured DC sweep, as an experimenter would.

    ON and OFF samples.  With a ``source_voltage`` column (the drive before the series resistor) and no
    compliance (``sweep.compliance``) a
    sample is ON when the cell takes less than half of the source, ``|V| < |V_source|/2``: its
    resistance is below the series resistor's, so the load line has moved the drive onto the resistor
    (the electrical set).  The criterion does not depend on the OFF current, which across a closing
    tunnelling gap rises by decades before the set.  Samples with ``|V_source|`` below 1 % of its
    largest are not classified.  Without a source column a sample is ON when its conductance ``I/V``
    exceeds the geometric mean of the conductance at the largest current (the ON state) and the median
    conductance of the first tenth of the sweep (the relaxed state); samples with ``|V|`` below 1e-3 of
    the largest are not classified.  Under a current compliance the cell's share of the source says
    nothing (the compliance, not a resistor, takes the rest): the conductance criterion then reads
    the sweep, and the release is sought after the source's peak.

    Returns
    -------
    dict
        * ``threshold_voltage`` [V]: the largest cell voltage before the device first switches on,
          ``threshold_time`` [s] the time of that sample, ``threshold_resolution`` [V] the drive's
          step into the first ON sample (the switch happened within it);
        * ``hold_voltage`` [V]: cell voltage at the last ON sample before the first switch-off after
          the peak of the drive (the source, or the cell voltage without one; switch-offs on the way up
          are flicker, not the release); ``sets_after_release``: how often the device switches ON
          again after that sample (0 for a clean loop; more, and the hold is a flicker sample);
        * ``resistance_on`` [Ohm]: median ``V/I`` of the ON samples, ``resistance_on_sigma`` the
          standard error of the median, ``resistance_on_lower_quartile`` and ``resistance_on_upper_quartile``
          [Ohm] their quartiles (the ON state's own spread, not the median's error);
        * ``resistance_off`` [Ohm]: ``1 / median(I/V)`` of the OFF samples after the first set (the
          formed cell's OFF state; those before it if it never switches off), with
          ``resistance_off_sigma``; when fewer than half of them carry a current above three times
          ``current_noise`` [A] (the rms scatter of the first tenth of the samples before the set
          about a line ``I = G V``), the lower bound: the median ``|V| / (3 current_noise)`` over the
          OFF samples below three times the noise, with ``resistance_off_lower_bound`` True;
        * ``switch_on_conductance`` [S]: the ON/OFF criterion as a conductance (``1/R_series``, the
          median ``(V_source - V)/I`` of the ON samples, with a source column; else the geometric
          mean above); ``switch_off_conductance`` [S]: that geometric mean (halfway in decades
          between the ON and the relaxed state: the criterion of a self-rupture read without a series
          resistor), with ``switch_off_noise_limited`` True when the relaxed samples' median current
          is within three times ``current_noise`` (the criterion is then set by the instrument's noise
          floor); ``criterion``: ``"load line"`` or ``"conductance"``;
        * the row indices ``first_on`` and ``last_on``, and ``on_rows`` (an integer array) those of the ON
          samples.

        With ``require_release`` False a sweep that never switches off gives ``hold_voltage`` NaN and
        ``last_on`` -1 instead of an error.
    """
    v, i = sweep["voltage"], sweep["current"]
    src = sweep["source_voltage"] if "source_voltage" in sweep else None
    if src is not None and not sweep.compliance:
        ok = np.abs(src) > 1e-2 * np.abs(src).max()
        on = ok & (np.abs(v) < 0.5 * np.abs(src))
        if not on.any():
            k = int(np.argmax(np.abs(src)))
            raise SpecError(f"{sweep.where(k)}: the sweep never switches the device (the cell voltage stays above "
                            "half of the source voltage at every sample); sweep to a higher voltage, or check the "
                            "voltage and source_voltage columns")
        split = float(1 / np.median((src[on] - v[on]) / i[on]))
        if not split > 0:
            k = int(np.flatnonzero(on)[0])
            raise SpecError(f"{sweep.where(k)}: the current flows against the drop across the series resistor "
                            "(source_voltage - voltage) in the ON samples; check the current column's sign")
        criterion, drive = "load line", src
    else:
        ok = np.abs(v) > 1e-3 * np.abs(v).max()
        split = _conductance_split(sweep)
        on = ok & (i / np.where(ok, v, 1.0) > split)
        # under a compliance the source's drop is the compliance's, not a resistor's: no load line
        criterion, drive = "conductance", (v if src is None else src)
    first = int(np.argmax(on))
    if first == 0 or not np.any(ok[:first]):
        raise SpecError(f"{sweep.where(first)}: the device is ON from the first samples; start the sweep at 0 V "
                        "with the device relaxed (OFF)")
    g_off_split = split if criterion == "conductance" else _conductance_split(sweep)
    last_on = _release(on, ok & ~on, max(first, int(np.argmax(np.abs(drive)))))
    if last_on < 0 and require_release:
        raise SpecError(f"{sweep.where(len(v) - 1)}: the device is still ON at the end of the sweep; sweep back "
                        "towards 0 V until it switches off")
    r_on = v[on] / i[on]
    cls = np.flatnonzero(ok)  # classified samples; an OFF -> ON step among them after the release is a re-set
    after = cls[cls > last_on] if last_on >= 0 else cls[:0]
    resets = int(np.count_nonzero(on[after[1:]] & ~on[after[:-1]]))
    k_th = int(np.flatnonzero(ok[:first])[np.argmax(v[:first][ok[:first]])])
    out = {"threshold_voltage": float(v[k_th]),
           "sets_after_release": resets,
           "hold_voltage": float(v[last_on]) if last_on >= 0 else math.nan,
           "resistance_on": float(np.median(r_on)),
           "resistance_on_sigma": _median_error(r_on),
           "resistance_on_lower_quartile": float(np.percentile(r_on, 25)),
           "resistance_on_upper_quartile": float(np.percentile(r_on, 75)),
           "switch_on_conductance": split, "switch_off_conductance": g_off_split, "criterion": criterion,
           "first_on": first, "last_on": last_on, "on_rows": np.flatnonzero(on),
           "threshold_time": float(sweep["time"][k_th]),
           "threshold_resolution": float(abs(drive[first] - drive[first - 1]))}
    off = ok & ~on
    off[:first] = off[:first] & ~off[first:].any()  # the formed cell's OFF state (after the first set), if any
    early = np.flatnonzero(ok[:first])[:max(3, int(ok[:first].sum()) // 10)]  # relaxed: the first tenth before the set
    out["current_noise"] = current_noise(v[early], i[early])
    # the relaxed conductance behind switch_off_conductance is the noise's when the relaxed current is at the floor
    out["switch_off_noise_limited"] = bool(np.median(np.abs(i[early])) <= 3 * out["current_noise"])
    out.update(_off_resistance(v[off], i[off], out["current_noise"]))
    return out


#: Share of the largest current [1] above which a sample counts towards the ON conductance of the split.
TOP_CURRENT_SHARE = 0.9


def _conductance_split(sweep: Table) -> float:
    """Geometric mean [S] of the ON conductance and the median of the first tenth's (relaxed).

    The ON conductance is the median over the samples that carry at least :data:`TOP_CURRENT_SHARE` of the largest
    current, not the one sample of the largest: under a compliance every ON sample carries the compliance's
    current, so which is largest is decided by parts in 1e5 (a capacitor's discharge into the cell as it sets,
    the noise), while their conductances span the ON state's spread.
    """
    v, i = sweep["voltage"], sweep["current"]
    ok = np.abs(v) > 1e-3 * np.abs(v).max()
    g = np.where(ok, i / np.where(ok, v, 1.0), np.nan)
    a = np.where(ok, np.abs(i), -np.inf)
    k_max = int(np.argmax(a))
    top = a >= TOP_CURRENT_SHARE * a[k_max]
    early = np.flatnonzero(ok)[:max(3, int(ok.sum()) // 10)]
    g_on, g_off = float(np.median(np.abs(g[top]))), float(np.median(np.abs(g[early])))
    if not (g_on > 10 * g_off):
        raise SpecError(f"{sweep.where(k_max)}: the sweep never switches the device (conductance at the largest "
                        f"currents {g_on:.3g} S, at the start {g_off:.3g} S: less than 10x); sweep to a higher "
                        "voltage, or check the current column's sign and unit")
    return math.sqrt(g_on * g_off)


def _release(on: np.ndarray, off: np.ndarray, start: int) -> int:
    """Last ON sample before the first OFF sample that follows an ON sample at or after ``start``; -1 if none.

    If the device is not ON at or after ``start`` (it released on the way up and stayed OFF), the
    last ON sample that an OFF sample follows.
    """
    last_on = -1
    for k in range(start, len(on)):
        if on[k]:
            last_on = k
        elif off[k] and last_on >= 0:
            return last_on
    if last_on >= 0:
        return -1  # ON at the end
    ons = np.flatnonzero(on[:start])
    return int(ons[-1]) if ons.size else -1


def _median_error(x: np.ndarray) -> float:
    """Standard error of the median of ``x``: 1.2533 sigma / sqrt(n), sigma from the median absolute deviation."""
    if len(x) < 2:
        return math.nan
    sigma = 1.4826 * float(np.median(np.abs(x - np.median(x))))
    return 1.2533 * sigma / math.sqrt(len(x))


def current_noise(v: np.ndarray, i: np.ndarray) -> float:
    """Noise floor [A] of the current: rms residual of the line ``I = G V`` through the relaxed samples given.

    A relaxed current that is not ohmic over those samples counts as scatter too (an upper estimate).
    """
    g = float(v @ i / (v @ v))
    return float(math.sqrt(max((i - g * v) @ (i - g * v), 0.0) / max(len(v) - 1, 1)))


def _off_resistance(v: np.ndarray, i: np.ndarray, floor: float) -> dict:
    """R_off [Ohm] over the OFF samples: ``1 / median(I/V)``, or a lower bound when the current is at the noise floor.

    When at least half of the samples carry a current above three times the noise ``floor`` [A],
    ``1 / median(I/V)`` with its standard error (the median is taken on ``I/V``, in which the current's
    additive noise is symmetric; on the filament stage's fast sweep with 1 pA noise it moves R_off by 0.1-1.2 %
    where the median of ``V/I`` falls by 60-72 %, its few negative samples at the floor pulling it down);
    otherwise the current is not resolved: those samples'
    current is below ``3 floor``, so their resistance exceeds ``|V| / (3 floor)``, and the median of
    that over them is returned as a lower bound.
    """
    g = i / v  # the current's noise is additive and symmetric: the median is taken on I/V, then inverted
    g_med = float(np.median(g))
    if np.mean(np.abs(i) > 3 * floor) >= 0.5 and g_med > 0:
        return {"resistance_off": 1 / g_med, "resistance_off_sigma": _median_error(g) / g_med ** 2,
                "resistance_off_lower_bound": False}
    low = np.abs(i) <= 3 * floor
    v_low = float(np.median(np.abs(v[low]))) if low.any() else float(np.median(np.abs(v)))
    return {"resistance_off": v_low / (3 * floor) if floor > 0 else math.inf, "resistance_off_sigma": math.nan,
            "resistance_off_lower_bound": True}


def exponential_set_time_law(voltage, set_time) -> dict[str, float]:
    """``ln t_set = ln tau0 - V/V0`` by least squares: ``tau0`` [s], ``V0`` [V], 1-sigma errors, rms of ln t.

    The plain exponential law an experimenter fits (and the filament stage reports), for comparison.
    """
    v, lt = np.asarray(voltage, float), np.log(np.asarray(set_time, float))
    a = np.vstack([np.ones_like(v), v]).T
    coef, *_ = np.linalg.lstsq(a, lt, rcond=None)
    resid = lt - a @ coef
    dof = max(len(v) - 2, 1)
    cov = np.linalg.inv(a.T @ a) * float(resid @ resid) / dof
    tau0, v0 = math.exp(coef[0]), -1 / coef[1]
    return {"set_time_tau0": tau0, "set_time_v0": v0, "set_time_tau0_sigma": tau0 * math.sqrt(cov[0, 0]),
            "set_time_v0_sigma": v0 ** 2 * math.sqrt(cov[1, 1]), "rms_ln": float(np.sqrt(np.mean(resid ** 2)))}
