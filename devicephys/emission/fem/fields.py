"""Analytic ingredients of the FEM solver, in NumPy: PML stretch, dipole field, permittivities.

Lengths here are in the unit of the coordinates passed in (the solver uses nm);
time convention exp(-i w t).  A vertical dipole p at (0, z_d) in a medium of
wavenumber k has

    H_phi = (-i w p / 4 pi) h,   h = r e^{ikR} (1 - ikR) / R^3 = -d/dr (e^{ikR} / R),

and the same expression, evaluated at the complex coordinates r~, z~ of the
PML (principal square root for R), is the exact incident field there too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from devicephys import units
from devicephys.emission import metals


@dataclass(frozen=True)
class Pml:
    """Complex coordinate stretch r~ = r + i int sigma_r, z~ = z +- i int sigma_z.

    sigma = sigma_max (xi / thickness)^2 with xi the depth into the layer, so the
    stretch factor is s = 1 + i sigma and the complex shift is sigma_max xi^3 / (3 thickness^2).

    Attributes
    ----------
    r_start, z_top, z_bottom
        Inner faces of the radial, top and bottom layers [length].
    thickness
        Layer thickness [length].
    sigma_max
        Peak stretch [1]; 3 A / (k thickness) damps any outgoing wave by exp(-A).
    """

    r_start: float
    z_top: float
    z_bottom: float
    thickness: float
    sigma_max: float

    @classmethod
    def for_wavenumber(cls, r_start, z_top, z_bottom, thickness, k, strength) -> "Pml":
        """Layer whose stretch damps a wave of wavenumber ``k`` by exp(-``strength``) one way."""
        return cls(r_start, z_top, z_bottom, thickness, 3.0 * strength / (k * thickness))

    @property
    def coefficient(self) -> float:
        """sigma_max / thickness^2, the factor of xi^2 in sigma."""
        return self.sigma_max / self.thickness**2

    def stretch(self, r, z):
        """(r~, z~, s_r, s_z) at real coordinates ``r``, ``z`` (arrays)."""
        c = self.coefficient
        xr = np.maximum(r - self.r_start, 0.0)
        xt = np.maximum(z - self.z_top, 0.0)
        xb = np.maximum(self.z_bottom - z, 0.0)
        rt = r + 1j * c * xr**3 / 3
        zt = z + 1j * c * (xt**3 - xb**3) / 3
        return rt, zt, 1 + 1j * c * xr**2, 1 + 1j * c * (xt**2 + xb**2)


def dipole_field(r, z, z_dipole: float, k: float, pml: Pml):
    """Scaled incident field h and its real-coordinate derivatives (h, dh/dr, dh/dz).

    Parameters
    ----------
    r, z
        Real coordinates of the evaluation points (not at the dipole).
    z_dipole
        Dipole position on the axis.
    k
        Wavenumber of the background medium (1 / length unit of r, z).
    pml
        The coordinate stretch.
    """
    rt, zt, sr, sz = pml.stretch(np.asarray(r, float), np.asarray(z, float))
    dz = zt - z_dipole
    big_r = np.sqrt(rt**2 + dz**2 + 0j)
    phase = np.exp(1j * k * big_r)
    q = phase * (1 - 1j * k * big_r) / big_r**3
    dq = phase * (k**2 / big_r**2 - 3 * (1 - 1j * k * big_r) / big_r**4)
    h = rt * q
    dh_dr = sr * (q + rt**2 * dq / big_r)
    dh_dz = sz * (rt * dq * dz / big_r)
    return h, dh_dr, dh_dz


def metal_permittivity(name: str, wavelength) -> np.ndarray:
    """Complex relative permittivity of metal ``name`` at vacuum ``wavelength`` [m] (Rakic1998 fit)."""
    return metals.get(name).permittivity(wavelength)


def tunnelling_length(barrier: float) -> float:
    """Decay length l_c [m] of the tunnelling conductance exp(-d / l_c) through a barrier [J].

    A rectangular barrier of height phi transmits exp(-2 kappa d), kappa = sqrt(2 m_e phi) / hbar,
    so l_c = 1 / (2 kappa): 0.047 nm for phi = 4.26 eV (Ag).  Esteban et al., Nat. Commun. 3, 825
    (2012) use the same exponential law, with l_c of order 0.04 nm for noble metals.
    """
    return units.hbar / (2.0 * math.sqrt(2.0 * units.m_e * barrier))


def qcm_permittivity(local_gap, wavelength, name: str, eps_background: float, barrier: float) -> np.ndarray:
    """Quantum-corrected gap permittivity [1] (Esteban et al., Nat. Commun. 3, 825 (2012)).

    eps_g = eps_b - f0 w_p^2 / (w (w + i G0 exp(l / l_c))): the metal's free-electron (Drude)
    term, damped as the tunnelling conductance decays with the local gap l [m]; it tends to
    the dielectric eps_b for l >> l_c and to a free-electron conductor at contact.  f0, w_p,
    G0 are the Drude term of the metal's Rakic1998 fit, l_c from :func:`tunnelling_length`.
    """
    fit = metals.get(name)
    energy = units.h * units.c0 / np.asarray(wavelength, float)
    f0, g0 = fit.drude
    damping = g0 * np.exp(np.asarray(local_gap, float) / tunnelling_length(barrier))
    return eps_background - f0 * fit.plasma_energy**2 / (energy * (energy + 1j * damping))


def tip_local_gap(r, gap: float, radius: float) -> np.ndarray:
    """Distance [m] from the plane to a hemispherical apex of ``radius`` at radial position ``r`` [m]."""
    r = np.minimum(np.asarray(r, float), radius)
    return gap + radius - np.sqrt(radius**2 - r**2)


def contour(radius: float, z_low: float, z_high: float, points: int = 160):
    """Gauss–Legendre points of the closed contour around the structure in the (r, z) half-plane.

    Three segments: top (z = ``z_high``, 0 < r < ``radius``), side (r = ``radius``) and bottom
    (z = ``z_low``), each with ``points`` nodes.  Returns r, z, the line weight dl and the
    outward normal (n_r, n_z) at each node (arrays; lengths in the caller's unit).
    """
    x, w = np.polynomial.legendre.leggauss(points)
    u, du = 0.5 * (x + 1), 0.5 * w
    r = np.concatenate([radius * u, np.full(points, radius), radius * u])
    z = np.concatenate([np.full(points, z_high), z_low + (z_high - z_low) * u, np.full(points, z_low)])
    dl = np.concatenate([radius * du, (z_high - z_low) * du, radius * du])
    n_r = np.concatenate([np.zeros(points), np.ones(points), np.zeros(points)])
    n_z = np.concatenate([np.ones(points), np.zeros(points), -np.ones(points)])
    return r, z, dl, n_r, n_z


def far_field_amplitude(theta, k: float, r, z, dl, n_r, n_z, h, dh_dr, dh_dz) -> np.ndarray:
    """Far-field amplitude F(theta) ∝ E_theta of the m = 0 TM field h (= H_phi up to a constant) on a closed contour.

    Stratton–Chu with the surface currents J = n x H and M = -n x E of the contour
    (:func:`contour`, which must enclose every source and scatterer and lie in the
    homogeneous dielectric of wavenumber ``k``), E = (i eta / k) curl H (exp(-i w t)),
    the azimuthal integrals done in closed form (Bessel J0, J1):
    E_theta ∝ N_theta + L_phi / eta, with N = ∫ J exp(-i k r^.r') dS, L = ∫ M exp(-i k r^.r') dS.
    Returns the complex amplitude at each polar angle ``theta`` [rad] (unnormalised).
    """
    from scipy.special import j0, j1

    theta = np.asarray(theta, float)[:, None]
    curl_r, curl_z = -dh_dz, h / r + dh_dr  # curl of h phi^
    e_r, e_z = 1j / k * curl_r, 1j / k * curl_z  # E / eta
    j_r, j_z = -n_z * h, n_r * h  # n x (h phi^)
    m_phi = -(n_z * e_r - n_r * e_z)  # -n x E/eta, azimuthal component
    a = k * r[None, :] * np.sin(theta)
    phase = np.exp(-1j * k * z[None, :] * np.cos(theta)) * 2 * np.pi * r[None, :] * dl[None, :]
    n_theta = (j_r * np.cos(theta) * (-1j) * j1(a) - j_z * np.sin(theta) * j0(a)) * phase
    l_phi = m_phi * (-1j) * j1(a) * phase
    return np.sum(n_theta + l_phi, axis=1)


def fit_cylindrical_wave(r, h, beta_guess: complex) -> tuple[complex, float]:
    """Complex wavenumber beta of h(r) = A H1(beta r), an outgoing m = 0 TM cylindrical wave, by least squares.

    A is eliminated (linear least squares at each beta); beta is found by
    :func:`scipy.optimize.least_squares` from ``beta_guess`` (units of 1 / the unit of ``r``).
    Returns beta and the fit's relative residual ||h - A H1|| / ||h||.
    """
    from scipy.optimize import least_squares
    from scipy.special import hankel1

    r, h = np.asarray(r, float), np.asarray(h, complex)

    def residual(x):
        basis = hankel1(1, (x[0] + 1j * x[1]) * r)
        amp = np.vdot(basis, h) / np.vdot(basis, basis)
        diff = (h - amp * basis) / np.linalg.norm(h)
        return np.concatenate([diff.real, diff.imag])

    fit = least_squares(residual, [beta_guess.real, beta_guess.imag], x_scale=[abs(beta_guess)] * 2, xtol=1e-14,
                        ftol=1e-14, gtol=1e-14)
    return complex(fit.x[0], fit.x[1]), float(np.linalg.norm(residual(fit.x)))
