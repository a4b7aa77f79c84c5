"""Analytic and semi-analytic references for the optical solver (no MEEP).

* :func:`dipole_power_homogeneous` — Larmor power of a point dipole in a
  homogeneous dielectric, and :func:`meep_vacuum_ldos` — the same expressed in
  MEEP's LDOS normalisation for an on-axis dipole in cylindrical coordinates.
* :func:`mirror_purcell` — vertical dipole at height h above a planar
  interface: Sommerfeld integral (Novotny & Hecht, *Principles of
  Nano-Optics*, 2nd ed., eq. 10.26), evaluated by numerical quadrature and
  checked against :func:`mirror_purcell_pec` (perfect conductor, closed form)
  and :func:`mirror_purcell_quasistatic` (h << wavelength).
* :func:`mim_gap_mode_index` — effective index of the symmetric
  metal–insulator–metal gap plasmon, root of
  tanh(k_d w/2) = -eps_d k_m / (eps_m k_d).
"""

from __future__ import annotations

import cmath
import math
import warnings

import numpy as np
from scipy import integrate, optimize

from devicephys import units


def dipole_power_homogeneous(dipole_moment: float, angular_frequency: float, index: float) -> float:
    """Time-averaged power [W] of a point dipole of amplitude ``dipole_moment`` [C m].

    P = |p|^2 n w^4 / (12 pi eps0 c^3) in a lossless medium of refractive index ``index`` [1].
    """
    return abs(dipole_moment) ** 2 * index * angular_frequency**4 / (12 * math.pi * units.eps0 * units.c0**3)


def meep_vacuum_ldos(frequency, index: float, grid_step: float):
    """MEEP's ``dft_ldos`` of an on-axis Ez dipole in a homogeneous medium, cylindrical m = 0.

    In MEEP units (length a, c = 1) the 3-D vacuum LDOS of a unit current is
    n w^2 / (6 pi^2) (the Larmor power, times 2/pi per unit current).  A point
    source at r = 0 in MEEP's cylindrical grid is a ring source whose weight
    2 pi r is taken at r = grid_step / 2, so the LDOS carries the factor
    pi * grid_step.

    Parameters
    ----------
    frequency
        Frequency in MEEP units (1/a).
    index
        Refractive index of the medium [1].
    grid_step
        Grid step in MEEP units (a).
    """
    omega = 2 * np.pi * np.asarray(frequency, dtype=float)
    return index * omega**2 / (6 * np.pi**2) * np.pi * grid_step


# -- vertical dipole above a planar mirror -----------------------------------

def reflection_p(s, eps1: complex, eps2: complex):
    """Fresnel p reflection coefficient at in-plane wavevector s = k_par / k1 [1]."""
    s = np.asarray(s, dtype=complex)
    kz1 = np.sqrt(1 - s**2 + 0j)
    kz2 = np.sqrt(eps2 / eps1 - s**2 + 0j)
    kz2 = np.where(kz2.imag < 0, -kz2, kz2)
    return (eps2 * kz1 - eps1 * kz2) / (eps2 * kz1 + eps1 * kz2)


def mirror_purcell(height: float, wavelength: float, eps_mirror: complex, eps_medium: float = 1.0) -> float:
    """Total power of a vertical dipole at ``height`` [m] above a half-space, over its power in the medium [1].

    P/P0 = 1 + (3/2) Re int_0^inf s^3/s_z r_p(s) exp(2 i k1 h s_z) ds, with
    s_z = sqrt(1 - s^2), k1 = 2 pi n / wavelength.  The propagating part
    (s < 1) is integrated in s = sin(t); the evanescent part (s > 1) in
    s = cosh(u), which removes the 1/s_z singularity.

    Parameters
    ----------
    height
        Dipole height above the interface [m].
    wavelength
        Vacuum wavelength [m].
    eps_mirror
        Complex relative permittivity of the lower half-space [1].
    eps_medium
        Relative permittivity of the medium holding the dipole [1].
    """
    k1h = 2 * math.pi * math.sqrt(eps_medium) * height / wavelength

    def prop(t):
        s = math.sin(t)
        return s**3 * complex(reflection_p(s, eps_medium, eps_mirror)) * cmath.exp(2j * k1h * math.cos(t))

    def evan(u):
        s, sz_im = math.cosh(u), math.sinh(u)
        return -1j * s**3 * complex(reflection_p(s, eps_medium, eps_mirror)) * math.exp(-2 * k1h * sz_im)

    part1 = _quad_complex(prop, 0.0, math.pi / 2)
    u_max = math.asinh(50.0 / (2 * k1h))
    pole = math.sqrt(max((eps_mirror / (eps_mirror + eps_medium)).real, 1.0 + 1e-12))
    points = [math.acosh(pole)] if pole > 1 and math.acosh(pole) < u_max else None
    part2 = _quad_complex(evan, 0.0, u_max, points)
    return 1.0 + 1.5 * (part1 + part2).real


def _quad_complex(func, a: float, b: float, points=None) -> complex:
    opts = dict(limit=2000, epsabs=1e-11, epsrel=1e-8, points=points)
    with warnings.catch_warnings():  # round-off notices at the 1e-8 level are harmless here
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        re = integrate.quad(lambda x: func(x).real, a, b, **opts)[0]
        im = integrate.quad(lambda x: func(x).imag, a, b, **opts)[0]
    return complex(re, im)


def mirror_purcell_pec(height: float, wavelength: float, eps_medium: float = 1.0) -> float:
    """Closed form for a perfect-conductor mirror: 1 - 3 (cos x / x^2 - sin x / x^3), x = 2 k1 h [1]."""
    x = 4 * math.pi * math.sqrt(eps_medium) * height / wavelength
    return 1.0 - 3.0 * (math.cos(x) / x**2 - math.sin(x) / x**3)


def mirror_purcell_quasistatic(height: float, wavelength: float, eps_mirror: complex, eps_medium: float = 1.0) -> float:
    """Near-field limit h << wavelength: 1 + 3 Im[(eps2-eps1)/(eps2+eps1)] / (8 (k1 h)^3) [1]."""
    k1h = 2 * math.pi * math.sqrt(eps_medium) * height / wavelength
    beta = (eps_mirror - eps_medium) / (eps_mirror + eps_medium)
    return 1.0 + 3.0 * beta.imag / (8.0 * k1h**3)


# -- metal-insulator-metal gap plasmon ----------------------------------------

def mim_residual(beta: complex, k0: float, width: float, eps_d: float, eps_m: complex) -> complex:
    """tanh(k_d w/2) + eps_d k_m / (eps_m k_d) for the even (gap-plasmon) TM mode [1]."""
    kd = cmath.sqrt(beta**2 - eps_d * k0**2)
    km = cmath.sqrt(beta**2 - eps_m * k0**2)
    if km.real < 0:
        km = -km
    return cmath.tanh(kd * width / 2) + eps_d * km / (eps_m * kd)


def mim_gap_mode_index(wavelength: float, width: float, eps_d: float, eps_m: complex) -> complex:
    """Complex effective index beta/k0 of the symmetric MIM gap plasmon [1].

    Newton's method (:func:`scipy.optimize.newton`, central-difference
    derivative) on :func:`mim_residual` in the effective index, started from
    the thin-gap limit beta = -2 eps_d / (w eps_m), blended with the
    single-interface plasmon so that wide gaps converge too.

    Parameters
    ----------
    wavelength
        Vacuum wavelength [m].
    width
        Insulator thickness w [m].
    eps_d, eps_m
        Relative permittivities of insulator and metal [1].
    """
    k0 = 2 * math.pi / wavelength

    def res(n):
        return mim_residual(n * k0, k0, width, eps_d, eps_m)

    try:
        n = optimize.newton(res, complex(_mim_start(k0, width, eps_d, eps_m)) / k0, fprime=_central_difference(res),
                            tol=MIM_INDEX_RTOL, rtol=MIM_INDEX_RTOL, maxiter=100)
    except (RuntimeError, ZeroDivisionError, OverflowError) as exc:
        raise ArithmeticError(f"MIM dispersion did not converge at {wavelength * 1e9:.0f} nm, "
                              f"w = {width * 1e9:.2f} nm ({exc})") from None
    if not abs(res(n)) <= 1e-8:
        raise ArithmeticError("MIM dispersion converged to a non-root")
    return complex(n)


#: Newton's stopping step on the MIM effective index, relative to the index [1] (near round-off).
MIM_INDEX_RTOL = 1e-13


def _mim_start(k0, width: float, eps_d: float, eps_m):
    """Start of the MIM Newton iteration, beta [1/m]: thin-gap limit blended with the single-interface plasmon."""
    spp2 = k0**2 * eps_d * eps_m / (eps_d + eps_m)
    return np.sqrt(spp2 + (-2 * eps_d / (width * eps_m)) ** 2)


def _central_difference(f, rel: float = 1e-7):
    """Derivative of the analytic function ``f`` by a central difference of relative step ``rel``."""
    def df(z):
        h = rel * np.abs(z)
        return (f(z + h) - f(z - h)) / (2 * h)
    return df


def mim_gap_mode_index_array(wavelengths, width: float, eps_d: float, eps_m, *, strict: bool = True) -> np.ndarray:
    """Vectorised :func:`mim_gap_mode_index` over ``wavelengths`` [m] with metal permittivities ``eps_m`` [1].

    With ``strict`` False, wavelengths where Newton fails (near the surface-plasmon
    frequency, where the bound gap mode ceases to exist) give NaN instead of an error.
    """
    lam = np.asarray(wavelengths, dtype=float)
    em = np.asarray(eps_m, dtype=complex) * np.ones_like(lam)
    k0 = 2 * np.pi / lam

    def res(n):
        b = n * k0
        kd = np.sqrt(b**2 - eps_d * k0**2)
        km = np.sqrt(b**2 - em * k0**2)
        km = np.where(km.real < 0, -km, km)
        return np.tanh(kd * width / 2) + eps_d * km / (em * kd)

    n0 = _mim_start(k0, width, eps_d, em) / k0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the unconverged are found by their residual below
        try:  # scipy's array Newton stops on an absolute step: 10 x the scalar's relative one, on the smallest index
            n = optimize.newton(res, n0, fprime=_central_difference(res), tol=10 * MIM_INDEX_RTOL * np.abs(n0).min(),
                                maxiter=100)
        except RuntimeError:  # none converged
            n = np.full_like(n0, np.nan)
    bad = ~(np.abs(res(n)) <= 1e-7)
    if not strict:
        return np.where(bad, np.nan, n)
    if np.any(bad):
        raise ArithmeticError(f"MIM dispersion did not converge for w = {width * 1e9:.2f} nm")
    return n
