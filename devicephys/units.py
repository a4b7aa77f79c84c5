"""SI constants and the parsing of quantities written with units.

Code works in SI base units as plain floats (m, s, K, V, A, W, Ω, J, kg).
Strings such as ``"1.5 nm"``, ``"300 K"`` or ``"0.6 eV"`` are accepted at the
edges (spec files) and converted here.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

from scipy import constants as _c

#: Elementary charge [C].
e = _c.e
#: Boltzmann constant [J/K].
k_B = _c.k
#: Planck constant [J s].
h = _c.h
#: Reduced Planck constant [J s].
hbar = _c.hbar
#: Speed of light in vacuum [m/s].
c0 = _c.c
#: Vacuum permittivity [F/m].
eps0 = _c.epsilon_0
#: Electron mass [kg].
m_e = _c.m_e
#: Electron volt [J].
eV = _c.eV
#: Sommerfeld value of the Lorenz number, pi^2 k_B^2 / (3 e^2) [W Ω / K^2].
L0 = math.pi**2 * k_B**2 / (3 * e**2)
#: Conductance quantum 2 e^2 / h [S].
G0 = 2 * e**2 / h

_PREFIX = {
    "f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "µ": 1e-6, "μ": 1e-6,
    "m": 1e-3, "c": 1e-2, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "": 1.0,
}
#: Each prefix's and simple unit's factor that is a power of ten, with its exponent.
_POWERS = {10.0**k: k for k in range(-15, 13)}
# Simple units that take SI prefixes, with the SI unit each converts to.
_SIMPLE = {
    "m": ("m", 1.0), "s": ("s", 1.0), "K": ("K", 1.0), "V": ("V", 1.0),
    "A": ("A", 1.0), "W": ("W", 1.0), "J": ("J", 1.0), "F": ("F", 1.0),
    "Hz": ("Hz", 1.0), "S": ("S", 1.0), "Ohm": ("Ohm", 1.0), "ohm": ("Ohm", 1.0),
    "Ω": ("Ohm", 1.0), "g": ("kg", 1e-3), "eV": ("J", _c.eV), "C": ("C", 1.0),
}
_ALIASES = {"Ω": "Ohm", "ohm": "Ohm", "1": "1", "": "1"}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf|nan"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*(.*?)\s*$")


class UnitError(ValueError):
    """A quantity string whose unit does not match the expected SI unit."""


def _normalise(unit: str) -> str:
    unit = unit.strip().replace("Ω", "Ohm").replace("ohm", "Ohm")
    return re.sub(r"\s+", " ", unit)


def _scale(unit_text: str, expected: str) -> float:
    """Factor converting ``unit_text`` to the SI unit ``expected``."""
    text = _normalise(unit_text)
    want = _normalise(expected)
    if text == want or (want == "1" and text == ""):
        return 1.0
    simple = _prefixed_simple(text, want)
    if simple is not None:
        return simple[0] * simple[1]
    factor = _compound_scale(text, want)
    if factor is not None:
        return factor
    raise UnitError(f"unit '{unit_text}' is not convertible to '{expected}'; {unit_hint(expected)}")


def _pint_name(unit: str) -> str:
    return "dimensionless" if unit in ("1", "") else unit.replace("Ohm", "ohm").replace("µ", "u").replace("μ", "u")


def _compound_scale(text: str, want: str) -> float | None:
    """Factor for compound units ("W/(m K)", "nm/s", "cm^2/(V s)") through the pint units library; None if not convertible."""
    import pint

    registry = _registry()
    try:
        return float(registry.Quantity(1.0, _pint_name(text)).to(_pint_name(want)).magnitude)
    except (pint.errors.PintError, AttributeError, TypeError, ValueError, AssertionError):
        return None


_REGISTRY = []


def _registry():
    """One pint registry per process (built on first use: it takes ~0.1 s)."""
    if not _REGISTRY:
        import pint

        _REGISTRY.append(pint.UnitRegistry())
    return _REGISTRY[0]


#: A typical way to write a value of each SI unit, for error messages.
_EXAMPLES = {"m": "10 nm", "s": "20 us", "K": "300 K", "V": "1.5 V", "A": "1 mA", "W": "1 mW", "J": "0.6 eV",
             "F": "1 fF", "Hz": "1 GHz", "S": "1 mS", "Ohm": "5 kOhm", "C": "1 pC", "kg": "1 g"}


def unit_hint(unit: str) -> str:
    """How to write a value of the SI unit ``unit``: the fix named by a unit error."""
    example = _EXAMPLES.get(_normalise(unit))
    if example is not None:
        return f"write it in {unit} with an SI prefix, e.g. '{example}', or as a plain number in {unit}"
    if _normalise(unit) == "1":
        return "write a plain number (the quantity is dimensionless)"
    return f"write a plain number in {unit} (SI)"


def parse_quantity(value: object, unit: str) -> float:
    """Convert ``value`` to a float in the SI unit ``unit``.

    Parameters
    ----------
    value
        A number (taken as already SI) or a string like ``"1.5 nm"``.
    unit
        The SI unit the field is stored in, e.g. ``"m"``, ``"K"``, ``"W/(m K)"``.

    Returns
    -------
    float
        The value in SI units.
    """
    if isinstance(value, bool):
        raise UnitError(f"expected a number in {unit}, got a boolean")
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        raise UnitError(f"expected a number or a string with a unit ({unit}), got {type(value).__name__}")
    match = _QUANTITY.match(value)
    if not match:
        raise UnitError(f"cannot read '{value}' as a quantity in {unit} (write e.g. '1.5 n{unit}' or a number in {unit})")
    number, unit_text = float(match.group(1)), match.group(2)
    if not unit_text.strip():  # a bare number is SI, also as a string (YAML 1.1 reads 1.0e6 as one)
        return number
    factor = _scale(unit_text, unit)  # refuses a unit that does not convert
    power = _decimal_power(unit_text, unit)
    if power is not None and math.isfinite(number):
        # a prefix is a power of ten: shift the written decimal, rounded once ("10 uA" is 1e-5 A to the last
        # bit, where 10 * 1e-6 is 9.999999999999999e-06)
        return float(Decimal(match.group(1)).scaleb(power))
    return number * factor


def _prefixed_simple(text: str, want: str) -> tuple[float, float] | None:
    """(prefix factor, unit factor) of ``text``, a prefixed simple unit of the SI unit ``want`` (both
    normalised); None if it is not one."""
    for name in sorted(_SIMPLE, key=len, reverse=True):
        if text.endswith(name):
            prefix = text[: -len(name)]
            si, factor = _SIMPLE[name]
            if prefix in _PREFIX and _normalise(si) == want:
                return _PREFIX[prefix], factor
    return None


def _decimal_power(unit_text: str, expected: str) -> int | None:
    """The power of ten that converts a prefixed simple unit to ``expected`` (``"uA"`` to A: -6); None for
    the rest (compound units, eV)."""
    text, want = _normalise(unit_text), _normalise(expected)
    if text == want or (want == "1" and text == ""):
        return 0
    simple = _prefixed_simple(text, want)
    if simple is None or simple[0] not in _POWERS or simple[1] not in _POWERS:
        return None
    return _POWERS[simple[0]] + _POWERS[simple[1]]


def is_finite(x: float) -> bool:
    """True when ``x`` is neither NaN nor infinite."""
    return math.isfinite(x)


def wavelength_to_energy(wavelength: float) -> float:
    """Photon energy [J] of a vacuum wavelength [m]."""
    return h * c0 / wavelength


def energy_to_wavelength(energy: float) -> float:
    """Vacuum wavelength [m] of a photon energy [J]."""
    return h * c0 / energy
