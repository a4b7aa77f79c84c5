"""Emission spectra of an emission result recomputed at any (gap, bias) inside its gap range.

The emission stage builds its spectra (:mod:`devicephys.emission.spectra`) as
the optical response times the tunnelling current-noise spectrum::

    dN/dnu = 2 e F(eV - h nu) R_rad(d, nu) / (V h nu)                 [1/Hz]

The optical factor ``R_rad(d, nu)`` [Ohm] does not depend on the bias, so the
spectrum, and its integral (photons per electron), follow at any bias from the
stored optical data.  Two sources of ``R_rad``:

* an emission result that carries its EmissionSpec (attribute ``spec``) and
  ``purcell`` / ``radiative_efficiency``: :func:`spectra.radiation_resistance`
  with the spec's insulator index, temperature and hot-electron channel;
* any other dataset (e.g. a synthetic fixture): ``R_rad`` read back from the
  stored spectrum at the highest bias with the T = 0 noise factor
  ``F = max(eV - h nu, 0)`` (no information above ``e V_max``, where nothing
  is emitted at any bias up to ``V_max``).

The quantum cutoff is kept exactly: no inelastic photon above ``e V`` (the
k_B T tail of the noise factor above eV is dropped); photons above eV come
only from an explicit hot-electron channel.  Between grid gaps ``R_rad`` is
interpolated linearly in gap; outside the gap
grid, or above ``V_max`` for a read-back kernel, a :class:`SpecError` names
the value, the range and the fix.  Nothing is clipped.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import xarray as xr

from devicephys import units
from devicephys.emission import spectra
from devicephys.errors import ConvergenceError, SpecError


@dataclass(frozen=True)
class OpticalKernel:
    """Bias-independent optical factor of an emission result.

    Attributes
    ----------
    gap : ndarray
        Grid gaps [m].
    wavelength : ndarray
        Vacuum wavelengths [m], ascending.
    r_rad : ndarray
        Radiation resistance (gap, wavelength) [Ohm].
    temperature : float
        Electron temperature of the inelastic noise factor [K].
    hot_temperature, hot_weight : float
        Hot-electron channel: effective temperature [K] and weight [1] (weight 0: no channel).
    bias_max : float
        Highest bias [V] the kernel holds (inf when computed from the optical data).
    source : str
        How the kernel was obtained.
    """

    gap: np.ndarray
    wavelength: np.ndarray
    r_rad: np.ndarray
    temperature: float
    hot_temperature: float
    hot_weight: float
    bias_max: float
    source: str

    @property
    def cutoff_bias(self) -> float:
        """Bias [V] below which no window wavelength can be emitted by inelastic tunnelling: hc/(e lambda_max)."""
        return float(units.h * units.c0 / (units.e * self.wavelength[-1]))


def _spec(ds: xr.Dataset) -> dict | None:
    try:
        return json.loads(ds.attrs["spec"]) if "spec" in ds.attrs else None
    except json.JSONDecodeError:
        return None


def optical_kernel(ds: xr.Dataset) -> OpticalKernel:
    """The optical factor R_rad(gap, wavelength) [Ohm] of an emission result (see the module docstring)."""
    lam = ds["wavelength"].values.astype(float)
    order = np.argsort(lam)
    lam = lam[order]
    gaps = ds["gap"].values.astype(float)
    spec = _spec(ds)
    if spec is not None and {"purcell", "radiative_efficiency", "insulator_index"} <= set(ds.variables):
        if float(spec.get("defect_band_efficiency", 0.0)) > 0:
            raise SpecError(f"emission result: defect_band_efficiency = {spec['defect_band_efficiency']} emits at a "
                            "fixed photon energy whatever the bias; the compact model carries no such band: rerun "
                            "the emission stage with defect_band_efficiency = 0")
        pur = ds["purcell"].transpose("gap", "wavelength").values[:, order]
        eff = ds["radiative_efficiency"].transpose("gap", "wavelength").values[:, order]
        n = float(ds["insulator_index"])
        r = np.array([spectra.radiation_resistance(lam, g, n, pur[i], eff[i]) for i, g in enumerate(gaps)])
        return OpticalKernel(gaps, lam, r, float(spec.get("temperature", 0.0)),
                             float(spec.get("hot_electron_temperature", 0.0)),
                             float(spec.get("hot_electron_weight", 0.0)), float("inf"),
                             "EmissionResult purcell x radiative_efficiency (radiation resistance), noise factor at "
                             f"T = {float(spec.get('temperature', 0.0)):.4g} K")
    biases = ds["bias"].values.astype(float)
    v_max = float(biases.max())
    s = ds["spectrum"].sel(bias=v_max).transpose("gap", "wavelength").values[:, order]
    energy = units.h * units.c0 / lam
    f0 = np.maximum(units.e * v_max - energy, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(f0 > 0, s * v_max * energy * lam**2 / (2 * units.e * units.c0 * f0), 0.0)
    return OpticalKernel(gaps, lam, r, 0.0, 0.0, 0.0, v_max,
                         f"optical factor read back from EmissionResult.spectrum at {v_max:.4g} V (T = 0 noise factor)")


def _r_at(k: OpticalKernel, gap: float) -> np.ndarray:
    lo, hi = float(k.gap.min()), float(k.gap.max())
    if not lo <= gap <= hi:
        raise SpecError(f"emission at gap {gap:.4g} m: outside the emission result's gaps {lo:.4g}-{hi:.4g} m; rerun "
                        "the emission stage with gap_min/gap_max covering it")
    order = np.argsort(k.gap)
    g, r = k.gap[order], k.r_rad[order]
    if len(g) == 1:
        return r[0]
    i = int(np.clip(np.searchsorted(g, gap) - 1, 0, len(g) - 2))
    w = (gap - g[i]) / (g[i + 1] - g[i])
    return (1.0 - w) * r[i] + w * r[i + 1]


def _check_biases(k: OpticalKernel, v: np.ndarray) -> None:
    """Refuse a bias [V] above what the kernel determines (``v`` holds |bias|)."""
    over = v[v > k.bias_max]
    if over.size:
        raise SpecError(f"emission at bias {over[0]:.4g} V: above the {k.bias_max:.4g} V the emission result's "
                        "spectra determine; rerun the emission stage with bias_max covering it")


def _spectra(k: OpticalKernel, r: np.ndarray, v: np.ndarray, thermal_tail: bool) -> np.ndarray:
    """Spectra [1/m] (one row per bias) at the optical factor ``r`` [Ohm] and the biases |``v``| [V] (1-D).

    Each element takes the same floating-point operations whatever the number of rows,
    so a row equals the one-bias spectrum to the last bit.
    """
    lam = k.wavelength
    zero = v == 0
    col = np.where(zero, 1.0, v)[:, None]  # a zero bias emits nothing (its row is zeroed below)
    s = spectra.inelastic_spectrum(lam, col, r, k.temperature)
    if not thermal_tail:
        s = np.where(units.h * units.c0 / lam <= units.e * col, s, 0.0)
    if k.hot_weight > 0:
        s = s + spectra.hot_electron_spectrum(lam, col, r, k.hot_temperature, k.hot_weight)
    s[zero] = 0.0
    return s


def spectrum_at(k: OpticalKernel, gap: float, bias: float, *, thermal_tail: bool = False) -> np.ndarray:
    """Photons per electron per unit wavelength [1/m] at ``gap`` [m] and ``bias`` [V], on ``k.wavelength``.

    The inelastic part respects the quantum cutoff: nothing above ``h nu = e V``
    (the k_B T tail of the noise factor above eV is dropped unless
    ``thermal_tail``); photons above eV come only from the explicit hot-electron
    channel, when the emission result has one.
    """
    return spectra_along(k, gap, [bias], thermal_tail=thermal_tail)[0]


#: Rows of spectra held at once by :func:`spectra_along` and :func:`efficiency_along` (bounds their memory).
ALONG_CHUNK = 2048


def spectra_along(k: OpticalKernel, gap: float, bias, *, thermal_tail: bool = False) -> np.ndarray:
    """Spectra [1/m] at one ``gap`` [m] and each of ``bias`` [V] (1-D): shape (biases, wavelengths).

    Row i equals ``spectrum_at(k, gap, bias[i])`` to the last bit.
    """
    v = np.abs(np.asarray(bias, dtype=float).ravel())
    _check_biases(k, v)
    if not np.any(v):
        return np.zeros((v.size, k.wavelength.size))
    return _spectra(k, _r_at(k, float(gap)), v, thermal_tail)


def efficiency_at(k: OpticalKernel, gap: float, bias: float, *, thermal_tail: bool = False) -> float:
    """Photons per electron [1] in the wavelength window at ``gap`` [m] and ``bias`` [V] (see :func:`spectrum_at`)."""
    return float(spectra.quantum_efficiency(k.wavelength, spectrum_at(k, gap, bias, thermal_tail=thermal_tail)))


def efficiency_along(k: OpticalKernel, gap, bias) -> np.ndarray:
    """Photons per electron [1] along a waveform: ``gap`` [m] and ``bias`` [V] arrays of one length.

    Each element equals ``efficiency_at(k, gap[i], bias[i])`` to the last bit: the spectra of
    one gap are computed together (:func:`spectra_along`, :data:`ALONG_CHUNK` rows at a time) and
    integrated row by row over the window by the same trapezoid.
    """
    gap, bias = np.broadcast_arrays(np.asarray(gap, dtype=float), np.asarray(bias, dtype=float))
    g, v = gap.ravel(), bias.ravel()
    out = np.empty(v.shape)
    _check_biases(k, np.abs(v))
    for d in np.unique(g):  # np.unique gathers the NaN gaps into one, which _r_at refuses
        rows = np.flatnonzero(np.isnan(g) if np.isnan(d) else g == d)
        for i in range(0, rows.size, ALONG_CHUNK):
            part = rows[i:i + ALONG_CHUNK]
            out[part] = spectra.quantum_efficiency(k.wavelength, spectra_along(k, d, v[part]))
    return out.reshape(gap.shape)


def spike_spectrum(k: OpticalKernel, gap: float, time, bias, current) -> np.ndarray:
    """Photons per unit wavelength [1/m] emitted by one current pulse, on ``k.wavelength``.

    The trapezoidal integral over ``time`` [s] of the spectrum at ``gap`` [m] and the bias
    ``bias(t)`` [V] times the electron rate ``|current(t)|/e`` [A]: its integral over the
    wavelength is the pulse's photon count (as :func:`devicephys.compact.model.spike_photons`
    with :func:`efficiency_along`).
    """
    t = np.asarray(time, dtype=float)
    rate = np.abs(np.asarray(current, dtype=float)) / units.e
    per_t = spectra_along(k, gap, bias)
    return np.trapezoid(per_t * rate[:, None], t, axis=0)


def efficiency_table(k: OpticalKernel, biases, *, thermal_tail: bool = False) -> np.ndarray:
    """(gap, bias) photons per electron [1] on the kernel's gaps and ``biases`` [V]."""
    return np.array([[efficiency_at(k, g, b, thermal_tail=thermal_tail) for b in biases] for g in k.gap])


def operating_point(k: OpticalKernel, gap: float, bias: float) -> dict:
    """Photons per electron, peak wavelength [m] and spectrum at the operating point, with sources.

    Raises ConvergenceError when nothing in the window is emitted there (bias
    below the cutoff of every window wavelength and no hot-electron channel).
    """
    s = spectrum_at(k, gap, bias)
    eta = float(spectra.quantum_efficiency(k.wavelength, s))
    where = f"at gap {gap:.4g} m, bias {abs(bias):.4g} V"
    if not eta > 0:
        need = units.h * units.c0 / (units.e * abs(bias))
        raise ConvergenceError(f"emission {where}: no photon in the window {k.wavelength[0]:.4g}-{k.wavelength[-1]:.4g} m "
                               f"(inelastic tunnelling emits only above hc/(eV) = {need:.4g} m); rerun the emission "
                               f"stage with wavelength_max above {need:.4g} m")
    lam_pk = spectra.peak_wavelength(k.wavelength, s)
    edge = " (peak at the window's long edge: the window cuts it)" if np.argmax(s) == len(s) - 1 else ""
    how = f"spectra physics recomputed {where} from the {k.source}"
    return {"photons_per_electron": eta, "peak_wavelength": lam_pk, "spectrum": s,
            "sources": {"photons_per_electron": f"integral over the window of the spectrum; {how}",
                        "peak_wavelength": f"maximum of the spectrum{edge}; {how}"}}


#: Transmission of the junction's one channel at the emitting gap: the shot-noise emission rate of a single
#: channel, proportional to T (1 - T) (Schneider, Schull & Berndt, Phys. Rev. Lett. 105, 026601 (2010):
#: light from Ag-Ag junctions from tunnelling to single-atom contact, its minimum near G0), peaks at T = 1/2.
EMITTING_TRANSMISSION = 0.5


def emitting_gap(p) -> tuple[float, float, str]:
    """The gap [m] at which the junction emits, its channel transmission T [1], and the source.

    A metallic contact (gap 0) emits no inelastic-tunnelling photon: its channel is open and
    its shot noise, proportional to T (1 - T), vanishes.  The filament's photons come from the
    last tunnelling gap before contact, where one channel carries the current with a rate
    proportional to T (1 - T), largest at T = 1/2, i.e. where the card's gap conductance law
    ``G_gap(d) = G_c / (1 + exp(2 kappa (d - d_c)))`` equals G0/2 (G0 = 2e^2/h):
    ``d = d_c + ln(2 G_c / G0 - 1) / (2 kappa)``.

    If the bridged cell (``gap_min``) itself conducts at most G0/2, its one channel never opens
    further: the ON junction is the emitter, with its own T = G_gap(gap_min)/G0.  Its geometry is
    ``gap_min`` when that is a tunnelling gap (``gap_min >= d_c``).  Below the contact gap d_c the
    law is flat (it saturates at G_c): there the cell is a contact narrower than one open channel,
    an atomic neck whose electrodes stand the contact gap apart (d_c, the gap at which the law puts
    the contact: the FEM's bridging criterion for a FEM card), so the optics are the gap d_c's.
    Light from such a contact: Schneider, Schull & Berndt, PRL 105, 026601 (2010), down to G0.
    The same holds where the channel passes G0/2 only below d_c (G0/2 < G_c < G0: the law is G_c/2 at
    d_c): T = 1/2 is reached within the contact, and the optics are again the contact gap's.  This joins
    both neighbours without a step: at G_gap(gap_min) = G0/2 and at G_c = G0 each gives d_c at T = 1/2.
    """
    from devicephys.compact import model

    g0 = 2 * units.e**2 / units.h
    g_min = float(model.gap_conductance(p, p.gap_min))
    if g_min <= EMITTING_TRANSMISSION * g0:
        if p.gap_min >= p.contact_gap:
            return float(p.gap_min), g_min / g0, "gap_min: the bridged cell is itself a tunnel junction (G_gap <= G0/2)"
        return (float(p.contact_gap), g_min / g0,
                f"contact_gap: the bridged cell is a contact narrower than one open channel (G_gap(gap_min) = "
                f"{g_min / g0:.3g} G0 <= G0/2), its electrodes the contact gap apart; it emits with its own T "
                "(Schneider, Schull & Berndt, PRL 105, 026601 (2010): light from Ag contacts down to G0)")
    d = p.contact_gap + math.log(p.contact_conductance / (EMITTING_TRANSMISSION * g0) - 1.0) / (2 * p.decay_constant)
    if d < p.contact_gap:
        return (float(p.contact_gap), EMITTING_TRANSMISSION,
                f"contact_gap: the channel passes G0/2 (T = 1/2) only within the contact (G_c = "
                f"{p.contact_conductance / g0:.3g} G0 < G0, the law's G0/2 at {d:.3g} m, below the contact gap), whose "
                "electrodes stand the contact gap apart; it emits there at T = 1/2 (Schneider, Schull & Berndt, PRL "
                "105, 026601 (2010))")
    return d, EMITTING_TRANSMISSION, ("gap where the card's gap conductance equals G0/2 (one channel at T = 1/2, where "
                                      "the shot-noise emission rate T (1 - T) peaks; Schneider, Schull & Berndt, PRL 105, "
                                      "026601 (2010)): the last tunnelling gap before the metallic contact, which emits none")
