"""The compact model's equations: pure NumPy, vectorised over devices.

State of one device: the filament gap ``d`` [m] (tip to counter-electrode) and
the filament temperature ``T`` [K] (with dissolution also ``m`` and ``b``,
below).  With cell voltage ``V`` [V]:

Current (tunnelling across the gap, joined to the contact and the filament)::

    G_gap(d)  = G_c / (1 + exp(2 kappa (d - d_c)))            [S]
    G_cell(d) = 1/R_off + G_gap / (1 + R_fil G_gap)            [S]
    I         = G_cell(d) V                                     [A]

For ``d >> d_c`` the gap conductance is the low-bias Simmons law
``G_c exp(-2 kappa (d - d_c))`` (``kappa = sqrt(2 m phi)/hbar``); for
``d << d_c`` it saturates at the contact conductance ``G_c`` (a multiple of
G0 = 2e^2/h), which is in series with the filament's ohmic resistance.

Gap kinetics (thermally and field-activated growth, spontaneous relaxation)::

    g(V, T) = (L / tau0) 4 sinh^2(V / (2 V0)) exp(-(E_a/k_B)(1/T - 1/T_0))   [m/s]
    dd/dt   = -g(V, T) (1 - exp(-(d - d_min)/delta)) + (d_max - d) / tau_r

with ``L = d_max - d_min``.  For ``V >> V0`` at ``T_0`` the set time is
``tau0 exp(-V/V0)``; ``4 sinh^2(x/2) = 2(cosh x - 1)`` is even and smooth in V
(non-polar volatile switch).  The factor in ``delta`` is a smooth floor at
``d_min`` (the closest approach, one atomic contact), continued linearly below
``d_min``; the drive's argument is capped at :data:`DRIVE_ARG_MAX` and the
Arrhenius factor sees no temperature below ``T_0``, so every rate is finite.

Second slow state (optional: ``dissolution_rate > 0``), the filament's oldest stretch.
The ions reduce at the tip, so the body behind it is not refilled and each
stretch dissolves (Gibbs-Thomson) from the moment it is laid down; the bridge
breaks when the oldest stretch's metal fraction ``m`` falls below percolation
``c_p``, ``t_r = (1 - c_p)/k_d`` after the growth began.  With the rupture flag
``b`` (0 intact, 1 breaking; a latch between ``m < c_p`` and ``m ~ 1``), the
filament length ``l = d_max - d``, ``u(l) = 1 - exp(-(l/delta)^2)`` (a filament
exists) and the numerical rupture time ``tau_x``::

    g(V, T) = (L / tau0) 2 sinh(|V| / V0) exp(-(E_a/k_B)(1/T - 1/T_0))    [m/s]
    dd/dt   = -g(V, T) (1 - exp(-(d - d_min)/delta)) (1 - b) + (d_max - d) b / tau_x
    dm/dt   = -k_d u(l) (1 - b) + k_f h(V) F(T) beta(d) (1 - m) (1 - b) + (1 - m) b (1 - u(l)) / tau_x
    db/dt   = (on(m) (1 - b) - off(m) b) / tau_x

``k_d`` is the dissolution rate at T_0: the oldest stretch is the one at the
active electrode, which is held at the ambient (the hot spot is at the tip), so
its rate does not follow the thermal node; ``on`` rises from 0 to 1 as
``m`` falls through ``c_p +- w_p/2`` (``w_p``: the percolation crossover's
width) and its level rises with ``b`` (so a started rupture completes), ``off``
as ``m`` reaches ``1 - RESET_TOLERANCE``.  The hopping drive is the
FEM's single ``sinh`` (forward minus backward hops), made non-polar by
``|V|`` (smoothed at 0 V by :data:`SMOOTH_ABS`).  No exponential relaxation of
the gap: the bridge lives until its oldest stretch breaks (the FEM's self-rupture
under bias).

The field's return of dissolved silver (optional: ``return_rate`` k_f > 0): while
the gap is open the cell voltage falls across it, at the tip; once the filament
bridges it falls along the filament, and the same hopping drive
``h(V) = 2 sinh(|V|/V0)`` with the same Arrhenius factor ``F(T)`` carries the
stretch's dissolved silver back, in proportion to what has dissolved (``1 - m``)
and to how bridged the gap is, ``beta(d) = G_gap(d)/G_c`` (1 bridged, ~0 open).
A bridge then holds where the return can keep its oldest stretch above
percolation, ``k_f h(V) F(T) beta (1 - c_p) >= k_d``: at and above the hold
voltage it is held (no self-rupture), below it the stretch dissolves and the
bridge breaks, once.  With ``k_f = 0`` the bridge breaks ``t_r`` after each set,
at any bias.

Thermal node::

    C_th dT/dt = V I - (T - T_0) / R_th

Optical output: photon rate ``eta(d, V) |I| / e`` [1/s] with ``ln eta`` a
``(1 - V_c/|V|)^2 exp(P)``, ``P`` quadratic in ``x = d/1 nm`` and
``u = 1 V/|V|``, fitted to the emission stage; exactly zero at or below the
window's photon cutoff ``V_c``; outside the law's range it refuses (or flags
NaN on request), never clips.  Optical power ``rate h c / lambda_peak(d)`` [W]
with ``lambda_peak`` quadratic in ``x``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from devicephys import units
from devicephys.compact import elementwise as ew
from devicephys.errors import SpecError

#: Length scale of the emission polynomials [m].
NM = 1e-9

#: Cap on the drive's argument |V|/(2 V0) [1]: the drive stays finite (< e^80) at any voltage; the
#: set time there, tau0 e^-80, is far below any physical time, so the cap changes no result.
DRIVE_ARG_MAX = 40.0

#: Smoothing of |V|/V0 at 0 in the dissolving card's drive 2 sinh(|V|/V0) [1]: sqrt(y^2 + e^2) - e, which is
#: exactly 0 at 0 V and shortens no set time by more than a factor e^(-e) (0.1 %).
SMOOTH_ABS = 1e-3

#: How close to 1 the oldest stretch's metal fraction returns before a rupture's reset ends [1]: the next
#: rupture comes at most this fraction of (1 - c_p)/k_d early.
RESET_TOLERANCE = 1e-3


#: Fields of the second slow state (used only with ``dissolution_rate > 0``).
_DISSOLUTION_FIELDS = ("dissolution_rate", "percolation_fraction", "percolation_width", "rupture_time", "return_rate",
                       "capillary_number")


@dataclass(frozen=True)
class ModelParams:
    """Parameters of the physical compact model (all SI).

    Attributes
    ----------
    gap_min, gap_max : float
        Closest approach (contact) and relaxed gap [m].
    decay_constant : float
        Tunnelling decay constant kappa [1/m].
    contact_gap : float
        Gap where the tunnelling law joins the contact plateau [m].
    contact_conductance : float
        Conductance of the bridged contact, a multiple of G0 [S].
    filament_resistance : float
        Ohmic resistance of the filament body [Ohm].
    leakage_resistance : float
        Insulator leakage in parallel with the gap [Ohm].
    relaxation_time : float
        Time constant of spontaneous gap relaxation [s].
    set_time_tau0, set_time_v0 : float
        Set-time law ``tau0 exp(-V/V0)`` [s], [V].
    activation_energy : float
        Activation energy of filament growth [J].
    ambient_temperature : float
        Heat-sink temperature T_0 [K].
    thermal_resistance, thermal_capacitance : float
        Thermal node [K/W], [J/K].
    floor_width : float
        Width delta of the smooth floor at ``gap_min`` [m].
    eta_c0 .. eta_c5 : float
        Coefficients of ``ln eta`` in ``1, x, u, x^2, x u, u^2`` [1].
    eta_gap_lo, eta_gap_hi, eta_bias_lo, eta_bias_hi : float
        Range of the emission law in gap [m] and bias [V]; outside it the law refuses.
    eta_bias_cut : float
        Photon cutoff bias V_c = h c/(e lambda_max) of the emission window [V]: ``eta`` is exactly
        zero for ``|V| <= V_c`` (0: no cutoff, e.g. with a hot-electron channel).
    lambda_c0, lambda_c1, lambda_c2 : float
        Peak wavelength ``c0 + c1 x + c2 x^2`` [m].
    dissolution_rate : float
        Gibbs-Thomson dissolution rate k_d of the filament's metal at T_0 [1/s]; 0 (default): one slow
        state, the gap with exponential relaxation; > 0: the second slow state of the oldest stretch.
    percolation_fraction, percolation_width : float
        Metal fraction c_p below which a stretch stops conducting, and the crossover's width w_p [1].
    rupture_time : float
        Numerical time tau_x of a rupture (retraction and reset) [s]; the physics' rupture is abrupt.
    return_rate : float
        Rate constant k_f of the field's return of dissolved silver to the bridged filament's oldest stretch,
        per unit hopping drive [1/s]; 0 (default): no return, the bridge breaks t_r after each set.
    capillary_number : float
        Gibbs-Thomson number Lambda = gamma Omega / (k_B T_0 r_ch) of the oldest stretch's radius dependence [1]; 0
        (default): the zero-order dissolution k_d whatever the stretch's radius; > 0: the stretch, a cylinder of
        radius r_ch sqrt(m), dissolves at k_d s exp(Lambda (1/s - 1)), s = sqrt(m) with m clipped to [c_p, 1]
        (:func:`dissolution_factor`; the finite-element filament's ``gibbs_thomson_radius``).
    """

    gap_min: float
    gap_max: float
    decay_constant: float
    contact_gap: float
    contact_conductance: float
    filament_resistance: float
    leakage_resistance: float
    relaxation_time: float
    set_time_tau0: float
    set_time_v0: float
    activation_energy: float
    ambient_temperature: float
    thermal_resistance: float
    thermal_capacitance: float
    floor_width: float
    eta_c0: float = -12.0
    eta_c1: float = 0.0
    eta_c2: float = 0.0
    eta_c3: float = 0.0
    eta_c4: float = 0.0
    eta_c5: float = 0.0
    eta_gap_lo: float = 0.1e-9
    eta_gap_hi: float = 10e-9
    eta_bias_lo: float = 0.1
    eta_bias_hi: float = 10.0
    eta_bias_cut: float = 0.0
    lambda_c0: float = 700e-9
    lambda_c1: float = 0.0
    lambda_c2: float = 0.0
    dissolution_rate: float = 0.0
    percolation_fraction: float = 0.0
    percolation_width: float = 0.0
    rupture_time: float = 0.0
    return_rate: float = 0.0
    capillary_number: float = 0.0

    def __post_init__(self) -> None:
        if self.dissolution_rate > 0 and not (0 < self.percolation_fraction < 1 and self.percolation_width > 0
                                              and self.rupture_time > 0):
            raise SpecError(f"compact model with dissolution_rate = {self.dissolution_rate!r} 1/s needs "
                            f"0 < percolation_fraction < 1 (got {self.percolation_fraction!r}), percolation_width > 0 "
                            f"(got {self.percolation_width!r}) and rupture_time > 0 s (got {self.rupture_time!r}); "
                            "refit the card")
        if self.return_rate > 0 and not self.dissolution_rate > 0:
            raise SpecError(f"compact model with return_rate = {self.return_rate!r} 1/s needs the second slow state "
                            "(dissolution_rate > 0), which it returns the dissolved silver to; fit the card with "
                            "rupture: dissolution or set return_rate to 0")
        if self.capillary_number != 0.0 and not (self.capillary_number > 0 and self.dissolution_rate > 0):
            raise SpecError(f"compact model with capillary_number = {self.capillary_number!r} needs a value >= 0 and "
                            "the second slow state (dissolution_rate > 0), whose dissolution it shapes; fit the card "
                            "with rupture: dissolution or set capillary_number to 0")

    @property
    def dissolves(self) -> bool:
        """True for the two-slow-state law (the oldest stretch dissolves), False for the relaxing gap."""
        return self.dissolution_rate > 0

    @property
    def states(self) -> int:
        """Number of states of one device: gap and temperature, plus metal fraction and rupture flag."""
        return 4 if self.dissolves else 2

    def as_dict(self) -> dict[str, float]:
        """Field name to value (SI); without dissolution, the second slow state's (unused) fields are left out."""
        return {k: float(v) for k, v in asdict(self).items()
                if (self.dissolves or k not in _DISSOLUTION_FIELDS) and not (k == "capillary_number" and v == 0.0)}

    @classmethod
    def names(cls) -> list[str]:
        """Names of all fields, in order."""
        return [f.name for f in fields(cls)]


def gap_conductance(p: ModelParams, d):
    """Tunnelling/contact conductance of the gap [S] at gap ``d`` [m]."""
    arg = ew.minimum(2.0 * p.decay_constant * (ew.as_float(d) - p.contact_gap), 700.0)
    return p.contact_conductance / (1.0 + np.exp(arg))


def cell_conductance(p: ModelParams, d):
    """Conductance of the whole cell [S]: leakage plus gap in series with the filament."""
    g = gap_conductance(p, d)
    return 1.0 / p.leakage_resistance + g / (1.0 + p.filament_resistance * g)


def cell_current(p: ModelParams, d, v):
    """Cell current [A] at gap ``d`` [m] and cell voltage ``v`` [V]."""
    return cell_conductance(p, d) * ew.as_float(v)


def thermal_factor(p: ModelParams, temperature):
    """Arrhenius acceleration of growth relative to T_0 [1]."""
    # the filament is never below ambient (Joule heating only): a solver's undershoot gets the ambient rate
    inv = 1.0 / ew.maximum(ew.as_float(temperature), p.ambient_temperature) - 1.0 / p.ambient_temperature
    return np.exp(-p.activation_energy / units.k_B * inv)


def drive(p: ModelParams, v):
    """Field drive of the growth [1]: ``4 sinh^2(V/2V0)``, or ``2 sinh(|V|/V0)`` with dissolution; both -> e^(V/V0)."""
    y = np.abs(ew.as_float(v)) / p.set_time_v0
    if p.dissolves:  # |V| made smooth at 0 (a circuit simulator's Newton needs it): sqrt(y^2 + e^2) - e
        y = np.sqrt(y * y + SMOOTH_ABS**2) - SMOOTH_ABS
        return 2.0 * np.sinh(ew.minimum(y, 2.0 * DRIVE_ARG_MAX))
    return 4.0 * np.sinh(ew.minimum(0.5 * y, DRIVE_ARG_MAX)) ** 2


def growth_rate(p: ModelParams, v, temperature):
    """Speed of gap closure g(V, T) [m/s], before the floor factor."""
    travel = p.gap_max - p.gap_min
    return travel / p.set_time_tau0 * drive(p, v) * thermal_factor(p, temperature)


def self_rupture_time(p: ModelParams) -> float:
    """Time [s] from the start of growth to the rupture: the oldest stretch's thinning from m = 1 to c_p,
    ``(1 - c_p)/k_d`` at the zero-order rate, ``int_{c_p}^1 dm / (k_d f(m))`` with the radius dependence
    (:func:`dissolution_factor`); ``relaxation_time`` without dissolution."""
    if not p.dissolves:
        return p.relaxation_time
    return thinning_time(p.dissolution_rate, p.percolation_fraction, p.capillary_number)


def capillary_factor(m, threshold: float, capillary_number: float):
    """Gibbs-Thomson factor [1] of a stretch of metal fraction ``m`` (the finite-element filament's rule): a
    cylinder of radius r_ch s, s = sqrt(m) with m clipped to [c_p, 1] (below percolation the thinnest body's
    radius), dissolves through its perimeter at its equilibrium fraction's rate, s exp(Lambda (1/s - 1))
    (1 at m = 1)."""
    # the FEM's stated rule (not a range guard): metal below c_p takes the thinnest body's radius; m never exceeds 1
    s = np.sqrt(ew.clip(ew.as_float(m), threshold, 1.0))
    return s * np.exp(capillary_number * (1.0 / s - 1.0))


def dissolution_factor(p: ModelParams, m):
    """The oldest stretch's dissolution rate over k_d [1]: 1 at the zero-order rate (``capillary_number`` 0), else
    :func:`capillary_factor`."""
    if p.capillary_number == 0.0:
        m = ew.as_float(m)
        return np.float64(1.0) if type(m) is np.float64 else np.ones_like(m)
    return capillary_factor(m, p.percolation_fraction, p.capillary_number)


def thinning_time(rate: float, threshold: float, capillary_number: float) -> float:
    """Time [s] a stretch takes from m = 1 to the percolation threshold at k_d = ``rate`` [1/s] times the factor
    of :func:`capillary_factor` (``(1 - c_p)/k_d`` at ``capillary_number`` 0); Gauss-Kronrod quadrature to 1e-12."""
    if capillary_number == 0.0:
        return (1.0 - threshold) / rate
    from scipy.integrate import quad

    value, _ = quad(lambda m: 1.0 / float(capillary_factor(m, threshold, capillary_number)), threshold, 1.0,
                    epsabs=0.0, epsrel=1e-12, limit=200)
    return value / rate


def _ramp(x):
    """Smoothstep 3x^2 - 2x^3 on [0, 1], 0 below and 1 above (C1).

    The saturation is the switching function's definition (a smooth 0-to-1 step), not a guard
    on a fitted range: its argument is a normalised position inside the step.
    """
    x = ew.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def rupture_flag_rate(p: ModelParams, m, b):
    """db/dt [1/s] of the rupture flag: on as ``m`` falls through c_p, off once ``m`` is back near 1.

    A latch: the level at which it turns on rises with ``b`` to above 1, so a rupture once started
    completes while the reset raises ``m``, and it turns off only when the reset is done.  Linear in
    ``b`` with rate ``on`` >= 0 at 0 and ``-off`` <= 0 at 1, so ``b`` stays in [0, 1] without clipping
    (a clip would put a kink at b = 0, where it rests, which a circuit simulator's Newton cannot take).
    """
    b = ew.as_float(b)
    level = p.percolation_fraction + 0.5 * p.percolation_width + (1.0 - p.percolation_fraction) * b
    on = _ramp((level - ew.as_float(m)) / p.percolation_width)
    off = _ramp((ew.as_float(m) - 1.0 + 2.0 * RESET_TOLERANCE) / RESET_TOLERANCE)
    return (on * (1.0 - b) - off * b) / p.rupture_time


def bridged_fraction(p: ModelParams, d):
    """How bridged the gap is [1]: ``G_gap(d)/G_c``, 1 at contact, ~exp(-2 kappa (d - d_c)) across an open gap."""
    return gap_conductance(p, d) / p.contact_conductance


def field_return(p: ModelParams, d, v, temperature):
    """Rate [1/s] at which the field returns the oldest stretch's dissolved silver, per unit dissolved fraction:
    ``k_f h(V) F(T) beta(d)`` (0 without ``return_rate``)."""
    if p.return_rate == 0.0:
        return np.zeros_like(ew.as_float(d) * ew.as_float(v))
    return p.return_rate * drive(p, v) * thermal_factor(p, temperature) * bridged_fraction(p, d)


def metal_fraction_rate(p: ModelParams, d, m, b, v=0.0, temperature=None):
    """dm/dt [1/s] of the oldest stretch's metal fraction: dissolution while a filament exists, against the
    field's return of the dissolved silver while it is bridged (cell voltage ``v`` [V], temperature
    ``temperature`` [K], the ambient if None); in a rupture, once the broken filament has retracted, the reset
    to a fresh start."""
    b = ew.as_float(b)
    m = ew.as_float(m)
    temperature = p.ambient_temperature if temperature is None else temperature
    length = ew.maximum(p.gap_max - ew.as_float(d), 0.0)
    exists = 1.0 - np.exp(-(length / p.floor_width) ** 2)  # C1 at no filament; the exports' form, term for term
    dissolution = p.dissolution_rate * dissolution_factor(p, m) * exists
    return ((-dissolution + field_return(p, d, v, temperature) * (1.0 - m)) * (1.0 - b)
            + (1.0 - m) * b * (1.0 - exists) / p.rupture_time)


def gap_rate(p: ModelParams, d, v, temperature, b=0.0):
    """dd/dt [m/s]: growth (closing) against relaxation, or with dissolution against rupture (flag ``b``)."""
    # smooth floor at gap_min, continued linearly below it (C1 at gap_min): a solver step that overshoots the
    # closure meets a finite restoring rate instead of an overflowing exponential
    z = (p.gap_min - ew.as_float(d)) / p.floor_width
    floor = 1.0 - np.exp(ew.minimum(z, 0.0)) - ew.maximum(z, 0.0)
    if p.dissolves:
        b = ew.as_float(b)
        return (-growth_rate(p, v, temperature) * floor * (1.0 - b)
                + (p.gap_max - ew.as_float(d)) * b / p.rupture_time)
    relax = (p.gap_max - ew.as_float(d)) / p.relaxation_time
    return -growth_rate(p, v, temperature) * floor + relax


def initial_state(p: ModelParams) -> np.ndarray:
    """Relaxed device at the ambient: (gap_max, excess temperature 0[, metal fraction 1, rupture flag 0])."""
    return np.array([p.gap_max, 0.0, 1.0, 0.0][:p.states])


def state_rates(p: ModelParams, y, v) -> list:
    """Time derivatives of the state ``y`` = (gap [m], T - T_0 [K][, m [1], b [1]]) at cell voltage ``v`` [V]."""
    d, excess = y[0], y[1]
    temp = p.ambient_temperature + excess
    if not p.dissolves:
        return [gap_rate(p, d, v, temp), excess_temperature_rate(p, d, v, excess)]
    m, b = y[2], y[3]
    return [gap_rate(p, d, v, temp, b), excess_temperature_rate(p, d, v, excess),
            metal_fraction_rate(p, d, m, b, v, temp), rupture_flag_rate(p, m, b)]


def state_tolerances(p: ModelParams) -> list[float]:
    """Absolute tolerances of the states for the integrators: 1e-9 of each state's scale."""
    return [1e-9 * p.gap_max, 1e-9 * p.ambient_temperature, 1e-9, 1e-9][:p.states]


def temperature_rate(p: ModelParams, d, v, temperature):
    """dT/dt [K/s] of the thermal node."""
    power = cell_current(p, d, v) * ew.as_float(v)
    return (power - (ew.as_float(temperature) - p.ambient_temperature) / p.thermal_resistance) / p.thermal_capacitance


def excess_temperature_rate(p: ModelParams, d, v, excess):
    """d(T - T_0)/dt [K/s] of the thermal node, in its excess ``excess`` [K] over the ambient.

    The integrators carry the excess rather than T: near T_0 the absolute
    temperature resolves only ~1e-13 K, which the picosecond thermal time
    constant turns into K/s of noise in dT/dt (enough to stall a stiff solver).
    """
    power = cell_current(p, d, v) * ew.as_float(v)
    return (power - ew.as_float(excess) / p.thermal_resistance) / p.thermal_capacitance


def emission_range_mask(p: ModelParams, d, v):
    """True where (``d`` [m], ``v`` [V]) lies inside the emission law's range.

    The range is the gap range ``[eta_gap_lo, eta_gap_hi]`` times the biases
    ``|V| <= eta_bias_cut`` (exact zero: quantum cutoff) or
    ``eta_bias_lo <= |V| <= eta_bias_hi`` (the data).
    """
    d, y = np.asarray(d, dtype=float), np.abs(np.asarray(v, dtype=float))
    gap_ok = (d >= p.eta_gap_lo) & (d <= p.eta_gap_hi)
    bias_ok = (y <= p.eta_bias_cut) | ((y >= p.eta_bias_lo) & (y <= p.eta_bias_hi))
    return gap_ok & bias_ok


def _refuse_outside(p: ModelParams, d, v) -> None:
    d_b, v_b = np.broadcast_arrays(np.asarray(d, dtype=float), np.asarray(v, dtype=float))
    inside = emission_range_mask(p, d_b, v_b)
    if np.all(inside):
        return
    k = int(np.flatnonzero(~inside.ravel())[0])
    d_bad, v_bad = float(d_b.ravel()[k]), float(v_b.ravel()[k])
    raise SpecError(f"emission law at gap {d_bad:.4g} m, bias {v_bad:.4g} V: outside its range (gap "
                    f"{p.eta_gap_lo:.4g}-{p.eta_gap_hi:.4g} m; |V| <= {p.eta_bias_cut:.4g} V or "
                    f"{p.eta_bias_lo:.4g}-{p.eta_bias_hi:.4g} V); rerun the emission stage over that gap and bias "
                    "range and refit the card")


def quantum_efficiency(p: ModelParams, d, v, *, out_of_range: str = "raise"):
    """Photons per tunnelling electron eta(d, V) [1] from the emission law.

    ``eta = (1 - V_c/|V|)^2 exp(P(x, u))`` above the cutoff ``V_c`` and exactly 0
    at or below it.  Outside the law's range (:func:`emission_range_mask`) it
    raises SpecError (``out_of_range="raise"``) or returns NaN there
    (``out_of_range="nan"``, for waveforms that leave the range); nothing is clipped.
    """
    if out_of_range == "raise":
        _refuse_outside(p, d, v)
    d, y = np.asarray(d, dtype=float), np.abs(np.asarray(v, dtype=float))
    x = d / NM
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        u = 1.0 / y
        ln_eta = (p.eta_c0 + p.eta_c1 * x + p.eta_c2 * u + p.eta_c3 * x * x
                  + p.eta_c4 * x * u + p.eta_c5 * u * u)
        rise = np.where(y > p.eta_bias_cut, 1.0 - p.eta_bias_cut / np.where(y > 0, y, 1.0), 0.0)
        eta = np.where(y > p.eta_bias_cut, rise * rise * np.exp(np.where(y > p.eta_bias_cut, ln_eta, 0.0)), 0.0)
    return np.where(emission_range_mask(p, d, y), eta, np.nan)


def peak_wavelength(p: ModelParams, d, *, out_of_range: str = "raise"):
    """Resonance (peak) wavelength [m] of the gap at ``d`` [m], inside the law's gap range."""
    d = np.asarray(d, dtype=float)
    inside = (d >= p.eta_gap_lo) & (d <= p.eta_gap_hi)
    if out_of_range == "raise" and not np.all(inside):
        _refuse_outside(p, d, p.eta_bias_lo)
    x = d / NM
    return np.where(inside, p.lambda_c0 + p.lambda_c1 * x + p.lambda_c2 * x * x, np.nan)


def spike_photons(eta, time, gap, voltage, current) -> float:
    """Photons [1] of one spike: the trapezoidal integral of eta(d(t), V(t)) |I(t)| / e over ``time`` [s].

    ``eta`` is a callable ``(gap [m], voltage [V]) -> photons per electron`` (e.g.
    ``lambda d, v: quantum_efficiency(p, d, v)``, which refuses outside its range);
    ``gap`` [m], ``voltage`` [V] and ``current`` [A] are the spike's waveform.
    """
    rate = np.asarray(eta(np.asarray(gap, dtype=float), np.asarray(voltage, dtype=float)), dtype=float)
    rate = rate * np.abs(np.asarray(current, dtype=float)) / units.e
    return float(np.trapezoid(rate, np.asarray(time, dtype=float)))


def photon_rate(p: ModelParams, d, v, *, out_of_range: str = "raise"):
    """Emitted photons per second [1/s] (``out_of_range`` as in :func:`quantum_efficiency`)."""
    return quantum_efficiency(p, d, v, out_of_range=out_of_range) * np.abs(cell_current(p, d, v)) / units.e


def optical_power(p: ModelParams, d, v, *, out_of_range: str = "raise"):
    """Emitted optical power [W] (photon rate times the resonance photon energy).

    With ``out_of_range="nan"`` samples outside the emission law's range are NaN (flagged, not clipped).
    """
    rate = photon_rate(p, d, v, out_of_range=out_of_range)
    lam = peak_wavelength(p, d, out_of_range=out_of_range)
    with np.errstate(invalid="ignore"):
        return np.where(rate == 0, 0.0, rate * units.h * units.c0 / lam)


def series_current(p: ModelParams, d, v_source, r_series):
    """Current [A] of the cell in series with ``r_series`` [Ohm] under source ``v_source`` [V].

    The cell is ohmic at fixed gap, so the divider is solved exactly.
    """
    g = cell_conductance(p, d)
    return np.asarray(v_source) * g / (1.0 + r_series * g)


def static_threshold(p: ModelParams) -> float:
    """DC threshold voltage [V] at T_0: growth balances relaxation over the full travel.

    Solves ``g(V, T_0) tau_r = L``, i.e. ``V = 2 V0 asinh(sqrt(tau0 / tau_r) / 2)``.  With dissolution the
    tip must cross the gap within one self-rupture time t_r, ``g(V, T_0) t_r = L``: ``V = V0 asinh(tau0 / (2 t_r))``.
    """
    if p.dissolves:  # 2 sinh(y) = tau0 / t_r with y the smoothed |V|/V0 (SMOOTH_ABS)
        y = np.arcsinh(0.5 * p.set_time_tau0 / self_rupture_time(p)) + SMOOTH_ABS
        return float(p.set_time_v0 * np.sqrt(y * y - SMOOTH_ABS**2))
    return float(2.0 * p.set_time_v0 * np.arcsinh(0.5 * np.sqrt(p.set_time_tau0 / p.relaxation_time)))


def on_temperature(p: ModelParams, v):
    """Steady temperature [K] of the bridged cell (gap ``gap_min``) at cell voltage ``v`` [V]."""
    return p.ambient_temperature + p.thermal_resistance * cell_conductance(p, p.gap_min) * np.asarray(v) ** 2


def static_hold(p: ModelParams) -> float:
    """DC hold voltage [V]: lowest cell voltage at which the bridged state sustains itself.

    Without the field's return, ``g(V, T_on(V)) tau_r = L`` (the hot bridge re-grows the gap within the
    relaxation time; with dissolution within the self-rupture time t_r), solved with Brent's method between 0
    and the threshold.  With it (``return_rate`` > 0), also the bias at which the return keeps the bridged
    stretch at percolation, ``k_f h(V) F(T_on(V)) beta(gap_min) (1 - c_p) = k_d`` (:func:`return_hold`); the
    hold is the lower of the two.
    """
    travel = p.gap_max - p.gap_min

    def excess(v: float) -> float:
        return float(np.log(growth_rate(p, v, on_temperature(p, v)) * self_rupture_time(p) / travel))

    hold = _bisect_log(excess, p)
    if p.dissolves and p.return_rate > 0:
        hold = min(hold, return_hold(p))
    return hold


def return_hold(p: ModelParams) -> float:
    """Bias [V] at which the field's return just holds the bridged stretch above percolation (``return_rate`` > 0):
    ``k_f h(V) F(T_on(V)) beta(gap_min) = k_d min_m f(m)/(1 - m)`` over c_p <= m < 1 (the return R (1 - m) then
    meets the dissolution k_d f(m) at some m at or above c_p, where the stretch rests); at the zero-order rate
    (f = 1) the minimum is at c_p: ``... (1 - c_p) = k_d``.  The threshold if it needs more."""
    need = p.dissolution_rate * holding_ratio(p)

    def excess(v: float) -> float:
        held = field_return(p, p.gap_min, v, on_temperature(p, v))
        return float(np.log(held / need)) if held > 0 else -np.inf

    return _bisect_log(excess, p)


def holding_ratio(p: ModelParams) -> float:
    """``min f(m)/(1 - m)`` over c_p <= m < 1 [1] (f the :func:`dissolution_factor`): the return per dissolved
    fraction, over k_d, that holds the stretch; ``1/(1 - c_p)`` at the zero-order rate."""
    c_p = p.percolation_fraction
    if p.capillary_number == 0.0:
        return 1.0 / (1.0 - c_p)
    from scipy.optimize import minimize_scalar

    def ratio(m):
        return dissolution_factor(p, m) / (1.0 - m)

    grid = np.linspace(c_p, 1.0, 2001)[:-1]
    k = int(np.argmin(ratio(grid)))
    if k == 0:
        return float(ratio(c_p))
    # the ratio grows without bound as m -> 1, so the grid's minimum is never its last point
    best = minimize_scalar(lambda m: float(ratio(m)), bounds=(grid[k - 1], grid[min(k + 1, grid.size - 1)]),
                           method="bounded",
                           options={"xatol": 1e-12})
    return float(min(best.fun, ratio(grid[k])))


def _bisect_log(excess, p: ModelParams) -> float:
    """Root in (0, threshold] of an increasing ``excess(v)``: 1e-6 V0 if it is already positive there, the
    threshold if it is not positive at the threshold."""
    from scipy.optimize import brentq

    lo, hi = 1e-6 * p.set_time_v0, static_threshold(p)
    if excess(lo) > 0:
        return lo
    if excess(hi) <= 0:
        return hi
    return float(brentq(excess, lo, hi, xtol=1e-15 * hi, rtol=4 * np.finfo(float).eps))
