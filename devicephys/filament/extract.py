"""Device parameters extracted from the simulated traces (NumPy only).

Every function documents how its number is obtained; the same text is stored
as the ``method`` attribute of the variable in the FilamentResult.
"""

from __future__ import annotations

import math

import numpy as np

from devicephys.errors import SpecError


def set_index(gap: np.ndarray, gap_on: float) -> int | None:
    """First sample with gap < ``gap_on`` [m], or None."""
    hits = np.flatnonzero(np.asarray(gap) < gap_on)
    return int(hits[0]) if hits.size else None


def incubation_time(time: np.ndarray, gap: np.ndarray) -> float:
    """Time [s] of the first sample whose gap [m] is shorter than the first sample's (by more than 1e-9 of it):
    the end of a set run's incubation, while the first ions cross the gap; NaN if the gap never shortens."""
    g = np.asarray(gap, dtype=float)
    shorter = np.flatnonzero(g < g[0] * (1 - 1e-9)) if g.size else np.array([], dtype=int)
    return float(np.asarray(time)[shorter[0]]) if shorter.size else math.nan


def threshold_voltage(voltage: np.ndarray, gap: np.ndarray, gap_on: float, field: str = "sweep_voltage") -> float:
    """Largest cell voltage [V] before the filament first bridges (gap < gap_on): the switching voltage.

    Across a tunnelling gap the cell switches electrically (its current, and the
    drop across the series resistor, jump) a little before the gap closes, so the
    last sample before bridging may already be ON; the largest voltage before it is not.
    Raises SpecError naming ``field`` when the drive never switches the cell.
    """
    i = set_index(gap, gap_on)
    if i is None:
        raise SpecError(f"FilamentSpec.{field}: the drive never reaches threshold (smallest gap "
                        f"{float(np.min(gap)):.3g} m stays above gap_on = {gap_on:.3g} m); raise {field} "
                        "or lengthen the drive")
    return float(np.max(np.asarray(voltage)[:max(i, 1)]))


def hold_samples(source: np.ndarray, gap: np.ndarray, gap_on: float, gap_rupture: float) -> tuple[int | None, int | None]:
    """(last ON sample, rupture sample) of the hold: the first rupture after the source peak.

    The rupture is the first sample after the peak of the source voltage at which the gap exceeds
    ``gap_rupture`` having been ON (gap < ``gap_on``); the last ON sample is the one before it.
    The rupture sample is None if the filament never ruptures after the peak.
    """
    gap, source = np.asarray(gap), np.asarray(source)
    last_on = None
    for k in range(int(np.argmax(source)), len(gap)):
        if gap[k] < gap_on:
            last_on = k
        elif gap[k] > gap_rupture and last_on is not None:
            return last_on, k
    return last_on, None


def hold_voltage(voltage: np.ndarray, gap: np.ndarray, source: np.ndarray, gap_on: float, gap_rupture: float) -> float:
    """Cell voltage [V] at the last ON sample (gap < gap_on) before the first rupture after the source peak.

    The cell switches OFF at that rupture (:func:`hold_samples`); later re-sets at lower bias are
    flicker, not the hold.  NaN if the filament never ruptures after the peak.
    """
    last_on, rupture = hold_samples(source, gap, gap_on, gap_rupture)
    return float(np.asarray(voltage)[last_on]) if rupture is not None else float("nan")


def hold_missing(voltage: np.ndarray, gap: np.ndarray, source: np.ndarray, gap_on: float, gap_rupture: float,
                 drive: str = "sweep") -> str:
    """Why :func:`hold_voltage` is NaN, in words ("" where it is not).

    A filament ON from the source peak to the drive's last sample never ruptured within the drive: its hold lies below
    the cell voltage of the last sample before the end (the end itself is usually at zero bias).
    """
    last_on, rupture = hold_samples(source, gap, gap_on, gap_rupture)
    if rupture is not None:
        return ""
    if last_on is None:
        return "the filament was not ON after the source peak"
    if last_on == len(gap) - 1:
        before = float(np.abs(np.asarray(voltage)[max(last_on - 1, 0)]))
        return (f"ON from the peak to the {drive}'s end, no rupture within the drive (the hold lies below the cell "
                f"voltage of the last sample before the end, {before:.3g} V)")
    return "no rupture (gap > gap_rupture) after the peak: the gap stayed between gap_on and gap_rupture"


def off_samples(voltage: np.ndarray, current: np.ndarray, gap: np.ndarray, gap_on: float,
                gap_rupture: float) -> np.ndarray:
    """Mask of the OFF samples that define R_off: gap > gap_rupture, |V| > 10 mV, I ≠ 0, taken after the
    filament first bridged (the OFF state of a formed cell, a residual gap); all such samples if it never did."""
    v, i, g = np.asarray(voltage), np.asarray(current), np.asarray(gap)
    off = (np.abs(i) > 0) & (g > gap_rupture) & (np.abs(v) > 1e-2)
    first = set_index(g, gap_on)
    if first is not None and off[first:].any():
        off[:first] = False
    return off


def on_samples(voltage: np.ndarray, current: np.ndarray, gap: np.ndarray, gap_on: float) -> np.ndarray:
    """Mask of the ON samples an R_on is read over: gap < gap_on, |V| > 1 mV and a current."""
    v, i = np.asarray(voltage), np.asarray(current)
    return (np.abs(i) > 0) & (np.asarray(gap) < gap_on) & (np.abs(v) > 1e-3)


def on_off_resistance(voltage: np.ndarray, current: np.ndarray, gap: np.ndarray, gap_on: float,
                      gap_rupture: float) -> tuple[float, float]:
    """(R_on, R_off) [Ω]: median V/I over ON samples (gap < gap_on, |V| > 1 mV) and over :func:`off_samples`."""
    v, i = np.asarray(voltage), np.asarray(current)
    on = on_samples(v, i, gap, gap_on)
    off = off_samples(v, i, gap, gap_on, gap_rupture)
    r_on = float(np.median(v[on] / i[on])) if on.any() else float("nan")
    r_off = float(np.median(v[off] / i[off])) if off.any() else float("nan")
    return r_on, r_off


def fit_set_time(voltage: np.ndarray, set_time: np.ndarray) -> tuple[float, float, float]:
    """Least-squares fit of ln t_set = ln τ0 − V/V0; returns (τ0 [s], V0 [V], rms residual of ln t)."""
    v, t = np.asarray(voltage, float), np.asarray(set_time, float)
    good = np.isfinite(t) & (t > 0)
    if good.sum() < 2:
        raise SpecError("FilamentSpec.set_voltages: fewer than two voltages switched the cell within set_time_limit; "
                        "raise the voltages or set_time_limit")
    slope, intercept = np.polyfit(v[good], np.log(t[good]), 1)
    resid = np.log(t[good]) - (intercept + slope * v[good])
    v0 = -1.0 / slope if slope < 0 else float("inf")
    return float(math.exp(intercept)), float(v0), float(np.sqrt(np.mean(resid**2)))


def crossing_time(time: np.ndarray, values: np.ndarray, level: float) -> float:
    """First time [s] at which ``values`` rises through ``level`` (linear interpolation); NaN if never."""
    above = np.flatnonzero(np.asarray(values) >= level)
    if above.size == 0:
        return float("nan")
    k = int(above[0])
    if k == 0:
        return float(time[0])
    t0, t1, y0, y1 = time[k - 1], time[k], values[k - 1], values[k]
    return float(t0 + (t1 - t0) * (level - y0) / (y1 - y0)) if y1 != y0 else float(t1)


def tunnelling_end_time(read_time: np.ndarray, read_resistance: np.ndarray, relaxed: float) -> float:
    """Time [s] after the bias is removed at which the opening gap's tunnelling falls to the relaxed cell's
    leakage: the reads' resistance rises through half the relaxed cell's, ``relaxed`` [Ohm] (tunnelling and
    leakage then carry equal currents), interpolated in log R; NaN if the reads never get there or ``relaxed``
    is not a finite positive resistance."""
    r = np.asarray(read_resistance, dtype=float)
    if not (math.isfinite(relaxed) and relaxed > 0) or not np.any(np.isfinite(r) & (r > 0)):
        return float("nan")
    ok = np.isfinite(r) & (r > 0)
    return crossing_time(np.asarray(read_time, dtype=float)[ok], np.log(r[ok]), math.log(relaxed / 2))


def thermal_step(time: np.ndarray, temperature: np.ndarray, power: np.ndarray, ambient: float) -> tuple[float, float]:
    """(R_th [K/W], τ_th [s]) from a step response with the filament frozen.

    R_th = (T_max,final − T_amb) / P_final; τ_th = time at which the rise
    reaches 1 − 1/e of its final value.
    """
    rise = np.asarray(temperature) - ambient
    r_th = float(rise[-1] / power[-1]) if power[-1] > 0 else float("nan")
    tau = crossing_time(np.asarray(time), rise, (1 - math.exp(-1)) * rise[-1])
    return r_th, tau


def thermal_mean_time(time: np.ndarray, temperature: np.ndarray, ambient: float) -> tuple[float, float]:
    """(τ_mean [s], its uncertainty [s]): the first moment of the same step response, ∫₀^t_end (1 − ΔT/ΔT_end) dt.

    The single time constant whose step response has the same area as the measured one (Elmore's delay of a linear
    network, W. C. Elmore, J. Appl. Phys. 19, 55 (1948)): for a rise Σ a_k (1 − e^(−t/τ_k)) it is Σ a_k τ_k / Σ a_k,
    so a slow component that carries a small share of the rise, which the 1 − 1/e crossing passes over, weighs in
    by its share.  The rise starts at zero at t = 0.  The integral is the right (backward) sum over the samples:
    for a response integrated by backward Euler and sampled at every step, as the stage's thermal step is, that sum
    is the continuous problem's first moment exactly (summing C (u_n+1 − u_n) = −dt K u_n+1 over the steps gives
    K Σ dt u_n+1 = C (u_0 − u_N), the steady solve of the heat held at the end).  The uncertainty is the
    difference between the left and right sums: for a monotone rise sampled more coarsely than it was stepped the
    integral lies between the two, above the right sum by at most that.  NaN when the rise at the end is not
    positive.
    """
    t = np.concatenate(([0.0], np.asarray(time, dtype=float)))
    rise = np.concatenate(([0.0], np.asarray(temperature, dtype=float) - ambient))
    if not rise[-1] > 0:
        return float("nan"), float("nan")
    f = 1.0 - rise / rise[-1]
    dt = np.diff(t)
    left, right = float(np.dot(dt, f[:-1])), float(np.dot(dt, f[1:]))
    return right, abs(left - right)


# -- uncertainties ------------------------------------------------------------------------------
# Each extracted number carries the uncertainty of its own method, in its own unit: the drive's
# sampling where an event is read between two samples, the spread of the samples a median is
# taken over, the standard errors of a least-squares fit.  They do not include the model's
# discretisation error (time step, mesh), which the convergence studies state.


def threshold_resolution(source: np.ndarray, gap: np.ndarray, gap_on: float) -> float:
    """Source-voltage step [V] between the sample before the first bridging and the bridging sample.

    The switch happened somewhere in that step, so it bounds the threshold's sampling error; NaN if
    the drive never bridged or bridged at its first sample.
    """
    i = set_index(gap, gap_on)
    if i is None or i == 0:
        return float("nan")
    return float(abs(source[i] - source[i - 1]))


def hold_resolution(source: np.ndarray, gap: np.ndarray, gap_on: float, gap_rupture: float) -> float:
    """Source-voltage step [V] between the hold's last ON sample and the rupture sample (:func:`hold_samples`).

    The filament released within that step; NaN if it never ruptured after the source peak.
    """
    last_on, rupture = hold_samples(source, gap, gap_on, gap_rupture)
    return float(abs(source[rupture] - source[last_on])) if rupture is not None else float("nan")


def half_interquartile_range(values: np.ndarray) -> float:
    """Half the interquartile range of ``values`` (the spread about a median); NaN if empty."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return float("nan")
    q1, q3 = np.percentile(values, [25, 75])
    return float(0.5 * (q3 - q1))


def on_resistance_quartiles(voltage: np.ndarray, current: np.ndarray, gap: np.ndarray,
                            gap_on: float) -> tuple[float, float]:
    """(lower, upper) quartile [Ω] of V/I over the ON samples of :func:`on_off_resistance`; NaN if none."""
    v, i = np.asarray(voltage), np.asarray(current)
    on = on_samples(v, i, gap, gap_on)
    if not on.any():
        return float("nan"), float("nan")
    q1, q3 = np.percentile(v[on] / i[on], [25, 75])
    return float(q1), float(q3)


def on_off_spread(voltage: np.ndarray, current: np.ndarray, gap: np.ndarray, gap_on: float,
                  gap_rupture: float) -> tuple[float, float]:
    """Half the interquartile range [Ω] of V/I over the samples of :func:`on_off_resistance` (ON, OFF)."""
    v, i = np.asarray(voltage), np.asarray(current)
    on = on_samples(v, i, gap, gap_on)
    off = off_samples(v, i, gap, gap_on, gap_rupture)
    return half_interquartile_range(v[on] / i[on]), half_interquartile_range(v[off] / i[off])


def _set_time_line(voltage: np.ndarray, set_time: np.ndarray):
    """(intercept a, slope s, covariance of (a, s)) of the least squares ln t_set = a + s V, or None below 3 points.

    The covariance is s²_res [[1/n + x̄²/Sxx, −x̄/Sxx], [−x̄/Sxx, 1/Sxx]] with the residual variance
    s²_res = SSR / (n − 2) (no residual degree of freedom below three set voltages).
    """
    v, t = np.asarray(voltage, float), np.asarray(set_time, float)
    good = np.isfinite(t) & (t > 0)
    x, y = v[good], np.log(t[good])
    n = x.size
    if n < 3:
        return None
    slope, intercept = np.polyfit(x, y, 1)
    s2 = float(np.sum((y - (intercept + slope * x)) ** 2)) / (n - 2)
    sxx, xm = float(np.sum((x - x.mean()) ** 2)), float(x.mean())
    return float(intercept), float(slope), s2 * np.array([[1.0 / n + xm**2 / sxx, -xm / sxx], [-xm / sxx, 1.0 / sxx]])


def set_time_uncertainty(voltage: np.ndarray, set_time: np.ndarray) -> tuple[float, float]:
    """Standard errors (σ_τ0 [s], σ_V0 [V]) of :func:`fit_set_time`'s least squares on ln t_set.

    From the residual variance s² = SSR / (n − 2): σ_slope = s / √Sxx, σ_intercept = s √(1/n + x̄²/Sxx),
    then σ_V0 = σ_slope V0² and σ_τ0 = σ_intercept τ0.  NaN with fewer than three set voltages (no
    residual degree of freedom).
    """
    line = _set_time_line(voltage, set_time)
    if line is None:
        return float("nan"), float("nan")
    intercept, slope, cov = line
    v0 = -1.0 / slope if slope < 0 else float("inf")
    return float(math.exp(intercept) * math.sqrt(cov[0, 0])), float(math.sqrt(cov[1, 1]) * v0**2)


def ramp_set_voltage(tau0: float, v0: float, rate: float, v_start: float = 0.0) -> float:
    """Source voltage [V] at which a linear ramp V = ``rate`` t sets a cell with t_set = τ0 exp(−V/V0).

    The rate integral of a memoryless set, ∫ dt / t_set(V(t)) = 1 (each instant uses up dt / t_set of
    the set), taken from the time the ramp passes ``v_start`` [V] (the static threshold, below which the
    cell never sets; 0 for the bare law), has the closed form (V0 / (rate τ0)) (exp(V/V0) − exp(v_start/V0))
    = 1, so V = V0 ln(exp(v_start/V0) + rate τ0 / V0).  ``tau0`` [s], ``v0`` [V], ``rate`` [V/s].
    """
    return float(v0 * math.log(math.exp(v_start / v0) + rate * tau0 / v0))


def _set_segments(voltage: np.ndarray, set_time: np.ndarray, rate: float):
    """(V [V], ln t_set, ∫ dt / t_set up to each V [1]) of :func:`ramp_set_integral`."""
    v, t = np.asarray(voltage, float), np.asarray(set_time, float)
    if v.shape != t.shape or v.ndim != 1:
        raise ValueError(f"voltage {v.shape} and set_time {t.shape}: give two 1-D arrays of the same length")
    if not (math.isfinite(rate) and rate > 0):
        raise ValueError(f"rate = {rate}: must be a positive finite V/s")
    order = np.argsort(v)
    v, t = v[order], t[order]
    if not np.isfinite(v).all() or (np.diff(v) == 0).any():
        raise ValueError(f"voltage {v.tolist()}: give finite voltages, each once (one set time per voltage)")
    sets = np.isfinite(t) & (t > 0)
    if np.count_nonzero(sets) < 2:
        raise ValueError(f"set_time: {np.count_nonzero(sets)} voltages set; the rate integral needs at least two")
    first = int(np.flatnonzero(sets)[0])
    if not sets[first:].all():
        gap = v[first:][~sets[first:]]
        raise ValueError(f"set_time: no set at {gap.tolist()} V above the lowest voltage that set ({v[first]:g} V): "
                         "the interpolation would bridge it; measure there again or drop the voltages above it")
    v, lnt = v[first:], np.log(t[first:])
    dv, slope = np.diff(v), np.diff(lnt) / np.diff(v)
    flat = np.abs(slope * dv) <= 1e-12
    safe = np.where(flat, 1.0, slope)
    seg = np.exp(-lnt[:-1]) * np.where(flat, dv, -np.expm1(-safe * dv) / safe) / rate
    return v, lnt, np.concatenate([[0.0], np.cumsum(seg)])


def ramp_set_integral(voltage: np.ndarray, set_time: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """The memoryless rate integral of measured set times along a linear ramp: (V [V], ∫ dt / t_set [1]).

    ``set_time`` [s] measured at constant source ``voltage`` [V] (NaN: no set within the run's limit), ``rate``
    [V/s] the ramp's.  Between neighbouring voltages ln t_set is interpolated linearly (exact for the
    exponential law), and each segment's integral is exact for it: with ln t = a + s (V − V_k),
    ∫ dV / (rate t) = e^−a (1 − e^(−s ΔV)) / (rate s).  The integral starts at the lowest voltage that set: below
    it the cell is taken not to set and adds nothing, which holds only where the grid has a voltage below that did
    not set (the caller's to ensure: studies/13_set_memory.py refuses a grid without one).  It ends at the highest
    voltage measured.  A voltage that
    did not set above one that did is refused (ValueError): the interpolation would bridge it.  Returns the
    voltages from the lowest that set and the integral up to each (0 at the first).
    """
    v, _, total = _set_segments(voltage, set_time, rate)
    return v, total


def ramp_set_voltage_measured(voltage: np.ndarray, set_time: np.ndarray, rate: float) -> float:
    """Source voltage [V] at which a linear ramp of ``rate`` [V/s] sets a memoryless cell with the measured
    ``set_time`` [s] at constant ``voltage`` [V]: where :func:`ramp_set_integral` reaches 1 (its segment's
    closed form inverted).  NaN when the integral stays below 1 up to the highest voltage measured: the set lies
    above the measured range, where nothing is extrapolated."""
    v, lnt, total = _set_segments(voltage, set_time, rate)
    k = int(np.searchsorted(total, 1.0))  # total[k - 1] < 1 <= total[k]
    if k >= total.size:
        return float("nan")
    if k == 0:
        return float(v[0])
    s = (lnt[k] - lnt[k - 1]) / (v[k] - v[k - 1])
    need = (1.0 - total[k - 1]) * rate * math.exp(lnt[k - 1])  # = ∫_0^x e^(−s u) du
    x = need if abs(s) * (v[k] - v[k - 1]) <= 1e-12 else -math.log1p(-need * s) / s
    return float(v[k - 1] + x)


def ramp_set_voltage_every_other(voltage: np.ndarray, set_time: np.ndarray, rate: float) -> float:
    """:func:`ramp_set_voltage_measured` on every other voltage that set (in the given order), the lowest and the
    highest kept, so the integral's range is the same: the prediction's sensitivity to the voltages measured [V].
    NaN with fewer than two such voltages."""
    v, t = np.asarray(voltage, float), np.asarray(set_time, float)
    idx = np.flatnonzero(np.isfinite(t) & (t > 0))
    keep = np.union1d(idx[::2], idx[-1:])
    return ramp_set_voltage_measured(v[keep], t[keep], rate) if keep.size >= 2 else math.nan


def ramp_set_voltage_uncertainty(voltage: np.ndarray, set_time: np.ndarray, rate: float, v_start: float = 0.0,
                                 v_start_sigma: float = 0.0) -> float:
    """1σ [V] of :func:`ramp_set_voltage` with τ0, V0 from :func:`fit_set_time`, through the fit's covariance.

    The fit is ln t = a + s V (τ0 = e^a, V0 = −1/s); with w = exp(−s v_start) and u = −rate e^a s,
    V = −ln(w + u)/s has the gradient (−u / (s (w + u)), (ln(w + u) − (u − s v_start w)/(w + u)) / s²) in
    (a, s); the least squares' covariance (:func:`_set_time_line`) carries the strong correlation of
    intercept and slope, and ``v_start_sigma`` [V] adds w/(w + u) times itself in
    quadrature.  NaN with fewer than three set voltages.
    """
    line = _set_time_line(voltage, set_time)
    if line is None:
        return float("nan")
    intercept, slope, cov = line
    w, u = math.exp(-slope * v_start), -rate * math.exp(intercept) * slope
    grad = np.array([-u / (slope * (w + u)), (math.log(w + u) - (u - slope * v_start * w) / (w + u)) / slope**2])
    return float(math.sqrt(max(grad @ cov @ grad, 0.0) + (w / (w + u) * v_start_sigma) ** 2))


def crossing_resolution(time: np.ndarray, values: np.ndarray, level: float) -> float:
    """Length [s] of the sample interval in which :func:`crossing_time` interpolates; NaN if never crossed."""
    above = np.flatnonzero(np.asarray(values) >= level)
    if above.size == 0 or above[0] == 0:
        return float("nan")
    k = int(above[0])
    return float(time[k] - time[k - 1])


def closures_after_rupture(gap: np.ndarray, gap_on: float, gap_rupture: float) -> int:
    """Times the gap closed again (fell below ``gap_on``) after a rupture (rose above ``gap_rupture``),
    counted from a bridged start: 0 for an ON state that ends once, or never."""
    on, closures = True, 0
    for g in np.asarray(gap):
        if on and g > gap_rupture:
            on = False
        elif not on and g < gap_on:
            on, closures = True, closures + 1
    return closures


def thermal_step_uncertainty(time: np.ndarray, temperature: np.ndarray, power: np.ndarray,
                             ambient: float) -> tuple[float, float]:
    """(σ R_th [K/W], σ τ_th [s]) of :func:`thermal_step`: the rise's change over its last sample
    interval (how far from steady the step response ended) over P, and the sample interval of the
    1 − 1/e crossing."""
    t, rise, p = np.asarray(time), np.asarray(temperature) - ambient, np.asarray(power)
    sigma_r = float(abs(rise[-1] - rise[-2]) / p[-1]) if len(rise) > 1 and p[-1] > 0 else float("nan")
    return sigma_r, crossing_resolution(t, rise, (1 - math.exp(-1)) * rise[-1])


def bridged_after(gap: np.ndarray, gap_on: float, gap_rupture: float, start: bool = False) -> bool:
    """The ON/OFF state after the gap samples ``gap`` [m], by the hysteresis of the stage's criteria.

    ON once the gap falls below ``gap_on``, OFF (ruptured) once it then opens past ``gap_rupture``; the
    states in between keep the last one, from ``start`` before the first sample.
    """
    state = bool(start)
    for g in np.asarray(gap, float):
        if g < gap_on:
            state = True
        elif g > gap_rupture:
            state = False
    return state


def hold_run(time: np.ndarray, gap: np.ndarray, voltage: np.ndarray, gap_on: float,
             gap_rupture: float, start_on: bool | None = None) -> dict[str, float]:
    """One constant-bias hold, summarised (the hold-window study).

    ``start_on`` [1]: 1 when the filament starts ON: its gap below ``gap_on``, or, with the argument
    ``start_on`` (the state the drive before left, :func:`bridged_after`), ON before and its gap not
    past ``gap_rupture`` (a bridged gap sits near ``gap_on``); ``ruptures`` [1]: times the filament
    went from ON (gap < ``gap_on``) to ruptured (gap > ``gap_rupture``), the states in between keeping
    the last one; ``rupture_time`` [s]: the first such crossing (linear interpolation; NaN: none);
    ``on_fraction`` [1]: share of the time with gap < ``gap_on`` (each step counted by the mean of its
    end samples); ``on_voltage`` [V]: median |cell voltage| of the ON samples (NaN: none).
    """
    t, g, v = (np.asarray(a, float) for a in (time, gap, voltage))
    on = g < gap_on
    start = bool(on[0]) or (bool(start_on) and g[0] <= gap_rupture)
    state, ruptures, first = start, 0, math.nan
    for k in range(1, len(g)):
        if state and g[k] > gap_rupture:
            state, ruptures = False, ruptures + 1
            if ruptures == 1:
                first = t[k - 1] + crossing_time(t[k - 1:k + 1] - t[k - 1], g[k - 1:k + 1], gap_rupture)
        elif not state and on[k]:
            state = True
    span = t[-1] - t[0]
    frac = float(np.sum(np.diff(t) * 0.5 * (on[1:].astype(float) + on[:-1])) / span) if span > 0 else float(on[0])
    return {"start_on": float(start), "ruptures": float(ruptures), "rupture_time": float(first),
            "on_fraction": frac, "on_voltage": float(np.median(np.abs(v[on]))) if on.any() else math.nan}


def hold_window(biases, start_on, ruptures) -> tuple[float, float, float]:
    """(lowest held bias, highest held bias, next bias below the lowest held one) [V] of the hold-window study.

    A bias is held when the filament starts ON there and never ruptures during the hold.  NaN where
    there is none (no bias held, or the lowest held bias is the lowest tried).
    """
    b = np.asarray(biases, float)
    held = (np.asarray(start_on) > 0) & (np.asarray(ruptures) == 0)
    if not held.any():
        return math.nan, math.nan, math.nan
    low, high = float(b[held].min()), float(b[held].max())
    below = b[b < low]
    return low, high, float(below.max()) if below.size else math.nan


def share_crossing(biases, shares, level: float = 0.5) -> tuple[float, float]:
    """(source voltage [V] where the mean ON share falls through ``level`` coming down in bias, bias above it [V]).

    ``shares`` [1], shape (biases, runs): each run's share of its hold spent ON.  From the highest bias down,
    the first bias whose mean share is below ``level`` and the one above it bracket the crossing, which is
    interpolated linearly in the mean share.  (NaN, NaN) when the highest bias's mean share is below
    ``level`` (no hold in the biases tried); (NaN, lowest bias) when no bias's is (the hold lies below the
    lowest bias tried).
    """
    b = np.asarray(biases, float)
    mean = np.mean(np.asarray(shares, float).reshape(b.size, -1), axis=1)
    order = np.argsort(b)[::-1]
    b, mean = b[order], mean[order]
    if mean[0] < level:
        return math.nan, math.nan
    below = np.flatnonzero(mean < level)
    if below.size == 0:
        return math.nan, float(b[-1])
    k = int(below[0])
    hi, lo = b[k - 1], b[k]
    return float(lo + (level - mean[k]) / (mean[k - 1] - mean[k]) * (hi - lo)), float(hi)


def share_crossing_spread(biases, shares, level: float = 0.5, resamples: int = 2000,
                          seed: int = 0) -> tuple[float, float]:
    """(standard deviation [V] of :func:`share_crossing` over bootstrap resamples of the runs, share of resamples
    with a crossing [1]).

    Each resample draws, per bias and with replacement, as many runs as there are; the standard deviation is over
    the resamples that have a crossing (NaN below two).  A seeded draw: the same inputs give the same spread.
    """
    b = np.asarray(biases, float)
    s = np.asarray(shares, float).reshape(b.size, -1)
    runs = s.shape[1]
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(resamples):
        pick = rng.integers(0, runs, size=s.shape)
        v, _ = share_crossing(b, np.take_along_axis(s, pick, axis=1), level)
        if math.isfinite(v):
            found.append(v)
    spread = float(np.std(found, ddof=1)) if len(found) >= 2 else math.nan
    return spread, len(found) / resamples
