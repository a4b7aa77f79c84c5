"""Light emission from inelastic tunnelling across the gap (independent of MEEP).

Model
-----
The tunnel junction is a current source of length ``gap`` across the gap.
Its current fluctuations (emission part of the non-symmetrised noise of a
tunnel junction of conductance G at bias V and temperature T),

    S_I(nu) = 2 G F(eV - h nu),    F(x) = x / (1 - exp(-x / k_B T))   [A^2/Hz],

drive the optical environment, which the FDTD stage describes by the
radiation resistance of a point current element of length d,

    R_rad(nu) = Z0 n k0^2 d^2 / (6 pi) * Purcell(nu) * eta_rad(nu)      [Ohm],

(the Larmor power of the element in the insulator times the LDOS
enhancement, times the fraction that is radiated).  Photons leave at the rate
S_I R_rad / (h nu) per unit frequency, so per tunnelling electron (I = G V)

    dN/dnu = 2 e F(eV - h nu) R_rad / (V h nu)      [1/Hz],

which at T = 0 is zero for h nu > eV and rises linearly as (1 - h nu/eV)
below the cutoff (times the smooth optical factor R_rad / h nu).  Temperature
smears the cutoff over a few k_B T (the tail decays as exp(-(h nu - eV)/k_B T)).

Hot-electron ("overbias") emission replaces F by w k_B T_e exp(-h nu / k_B T_e)
with an effective electron temperature T_e, so photons above eV appear.  A
phenomenological Gaussian band (defect or cluster electroluminescence) can be
added with a given number of photons per electron.

References: Parzefall & Novotny, Rep. Prog. Phys. 82, 112401 (2019) (noise
picture of inelastic tunnelling emission); Rendell, Scalapino & Mühlschlegel,
PRL 41, 1746 (1978) (cutoff at eV); Buret et al., Nano Lett. 15, 5811 (2015)
(overbias emission with a hot-electron temperature).
"""

from __future__ import annotations

import math

import numpy as np

from devicephys import units

from scipy.constants import mu_0

#: Impedance of free space mu0 c [Ohm].
Z0 = mu_0 * units.c0


def radiation_resistance(wavelength, gap: float, index: float, purcell, radiative_efficiency):
    """Radiation resistance [Ohm] of a current element of length ``gap`` [m] in the gap.

    Parameters
    ----------
    wavelength
        Vacuum wavelength [m].
    gap
        Current-element length (the gap) [m].
    index
        Refractive index of the insulator [1].
    purcell, radiative_efficiency
        LDOS enhancement over the homogeneous insulator [1] and radiated fraction [1].
    """
    k0 = 2 * np.pi / np.asarray(wavelength, dtype=float)
    return Z0 * index * k0**2 * gap**2 / (6 * np.pi) * np.asarray(purcell) * np.asarray(radiative_efficiency)


def noise_factor(photon_energy, bias: float, temperature: float):
    """F(eV - E) = x / (1 - exp(-x / k_B T)) with x = eV - E [J]; T = 0 gives max(x, 0)."""
    x = units.e * bias - np.asarray(photon_energy, dtype=float)
    if temperature <= 0:
        return np.maximum(x, 0.0)
    kt = units.k_B * temperature
    y = x / kt
    out = np.empty_like(y)
    small = np.abs(y) < 1e-8
    big = y < -700
    mid = ~small & ~big
    out[small] = kt * (1 + y[small] / 2)
    out[big] = -x[big] * np.exp(y[big])
    out[mid] = x[mid] / -np.expm1(-y[mid])
    return out


def inelastic_spectrum(wavelength, bias: float, r_rad, temperature: float):
    """Photons per tunnelling electron per unit wavelength [1/m] from inelastic tunnelling.

    Parameters
    ----------
    wavelength
        Vacuum wavelengths [m].
    bias
        Junction bias V [V] (> 0).
    r_rad
        Radiation resistance at those wavelengths [Ohm] (:func:`radiation_resistance`).
    temperature
        Electron temperature [K].
    """
    lam = np.asarray(wavelength, dtype=float)
    energy = units.h * units.c0 / lam
    per_hz = 2 * units.e * noise_factor(energy, bias, temperature) * np.asarray(r_rad) / (bias * energy)
    return per_hz * units.c0 / lam**2


def hot_electron_spectrum(wavelength, bias: float, r_rad, electron_temperature: float, weight: float):
    """Photons per electron per unit wavelength [1/m] of hot-electron (overbias) emission.

    F is replaced by ``weight`` * k_B T_e * exp(-E / k_B T_e): a thermal
    distribution at the effective temperature ``electron_temperature`` [K]
    that is not cut off at eV.
    """
    lam = np.asarray(wavelength, dtype=float)
    energy = units.h * units.c0 / lam
    kte = units.k_B * electron_temperature
    per_hz = 2 * units.e * weight * kte * np.exp(-energy / kte) * np.asarray(r_rad) / (bias * energy)
    return per_hz * units.c0 / lam**2


def defect_band_spectrum(wavelength, centre_energy: float, width_energy: float, efficiency: float):
    """Gaussian band in photon energy (centre, FWHM [J]) holding ``efficiency`` photons per electron [1/m]."""
    lam = np.asarray(wavelength, dtype=float)
    energy = units.h * units.c0 / lam
    sigma = width_energy / (2 * math.sqrt(2 * math.log(2)))
    per_joule = efficiency * np.exp(-0.5 * ((energy - centre_energy) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
    return per_joule * energy / lam


def quantum_efficiency(wavelength, spectrum) -> np.ndarray:
    """Photons per electron [1]: integral of ``spectrum`` [1/m] over ``wavelength`` [m] (last axis)."""
    lam = np.asarray(wavelength, dtype=float)
    order = np.argsort(lam)
    return np.trapezoid(np.take(np.asarray(spectrum), order, axis=-1), lam[order], axis=-1)


def photons_per_spike(time, current, quantum_efficiency) -> float:
    """Photons emitted by one current pulse [1].

    Parameters
    ----------
    time
        Sample times [s].
    current
        Tunnelling current at those times [A].
    quantum_efficiency
        Photons per electron [1]: a number, or an array of the same length as
        ``current`` (e.g. the efficiency at the bias of each sample).
    """
    rate = np.asarray(quantum_efficiency) * np.abs(np.asarray(current, dtype=float)) / units.e
    return float(np.trapezoid(rate, np.asarray(time, dtype=float)))


def peak_wavelength(wavelength, spectrum) -> float:
    """Wavelength [m] of the maximum of ``spectrum``, refined by the parabola through the top three points.

    The grid may be uneven (a FEM band of extra wavelengths): the parabola is the
    interpolating one through the three (wavelength, value) points.
    """
    lam = np.asarray(wavelength, dtype=float)
    y = np.asarray(spectrum, dtype=float)
    i = int(np.argmax(y))
    if 0 < i < len(y) - 1:
        (x0, x1, x2), (y0, y1, y2) = lam[i - 1:i + 2], y[i - 1:i + 2]
        s01, s12 = (y1 - y0) / (x1 - x0), (y2 - y1) / (x2 - x1)
        curvature = (s12 - s01) / (x2 - x0)
        if curvature < 0:
            return float(0.5 * (x0 + x1) - 0.5 * s01 / curvature)
    return float(lam[i])
