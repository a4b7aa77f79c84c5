"""Quantities with compound units at the spec edges (through the pint units library)."""

from __future__ import annotations

import pytest

from devicephys.units import UnitError, parse_quantity


@pytest.mark.parametrize("text, unit, expected", [
    ("0.2 W/(m K)", "W/(m K)", 0.2),
    ("420 mW/(m K)", "W/(m K)", 0.42),
    ("5 nm/s", "m/s", 5e-9),
    ("2 cm^2/(V s)", "m^2/(V s)", 2e-4),
    ("1 uS/cm", "S/m", 1e-4),
    ("3 1/nm", "1/m", 3e9),
    ("1.5 nm", "m", 1.5e-9),  # simple units keep their exact path
    ("5 kOhm", "Ohm", 5e3),
])
def test_compound_units_convert(text, unit, expected):
    assert parse_quantity(text, unit) == pytest.approx(expected, rel=1e-12)


def test_wrong_dimension_is_refused_with_the_fix():
    with pytest.raises(UnitError, match=r"'nm' is not convertible to 'W/\(m K\)'.*plain number"):
        parse_quantity("3 nm", "W/(m K)")
    with pytest.raises(UnitError, match="not convertible"):
        parse_quantity("1 mV/s", "m/s")


def test_any_length_unit_pint_knows_converts():
    assert parse_quantity("1 parsec", "m") == pytest.approx(3.0857e16, rel=1e-4)
    with pytest.raises(UnitError):
        parse_quantity("1 bogounit", "m")


def test_a_bare_number_string_is_si():
    # YAML 1.1 reads 1.0e6 (no sign in the exponent) as a string
    assert parse_quantity("1.0e6", "A/m^2") == 1e6
    assert parse_quantity(" 2.5 ", "m") == 2.5


@pytest.mark.parametrize("text, unit, expected", [("10 uA", "A", 1e-5), ("3 cm", "m", 0.03), ("0.3 nm", "m", 3e-10),
                                                  ("7 ms", "s", 0.007), ("2 g", "kg", 0.002), ("1.1 kOhm", "Ohm", 1100.0)])
def test_a_prefix_shifts_the_decimal_rounded_once(text, unit, expected):
    # "10 uA" as 10 * 1e-6 is 9.999999999999999e-06: a compliance differing from 1e-5 A in the last bit, which
    # moved the volatile cell's chaotic hold-window edge
    assert parse_quantity(text, unit) == expected
