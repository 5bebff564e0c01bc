"""Printed lab units become UCUM codes, or stay text; values convert only where the chemistry allows."""

from __future__ import annotations

import pytest

from perception.labs.units import ConversionError, convert, to_ucum


@pytest.mark.parametrize(("printed", "ucum"), [
    ("x10^9/L", "10*9/L"),
    ("x10⁹/L", "10*9/L"),
    ("10*9/L", "10*9/L"),
    ("x 10^12 / L", "10*12/L"),
    ("10^3/uL", "10*3/uL"),
    ("mmol/l", "mmol/L"),
    ("MMOL/L", "mmol/L"),
    ("g/dl", "g/dL"),
    ("µmol/L", "umol/L"),
    ("IU/L", "[IU]/L"),
    ("U/L", "U/L"),
    ("u/l", "U/L"),  # enzyme units, not UCUM's "u" (atomic mass unit)
    ("mIU/L", "m[IU]/L"),
    ("mL/min/1.73m2", "mL/min/{1.73_m2}"),
    ("mL/min/1.73 m²", "mL/min/{1.73_m2}"),
    ("%", "%"),
    ("fl", "fL"),
    ("mm/hr", "mm/h"),
    ("mEq/L", "meq/L"),
])
def test_printed_units_become_ucum_codes(printed: str, ucum: str) -> None:
    assert to_ucum(printed) == ucum


@pytest.mark.parametrize("printed", ["furlongs", "cells/uL", "mg/dL/xyz", "abc", "", "Negative"])
def test_units_ucum_rejects_stay_uncoded(printed: str) -> None:
    assert to_ucum(printed) is None


def test_glucose_converts_between_mass_and_substance() -> None:
    assert convert(99, "mg/dL", "mmol/L", "glucose") == pytest.approx(5.495, abs=0.001)
    assert convert(5.5, "mmol/L", "mg/dL", "glucose") == pytest.approx(99.09, abs=0.01)


def test_creatinine_converts_at_88_4_umol_per_mg() -> None:
    assert convert(1.0, "mg/dL", "umol/L", "creatinine") == pytest.approx(88.42, rel=1e-3)
    assert convert(88.4, "umol/L", "mg/dL", "creatinine") == pytest.approx(1.0, rel=1e-3)


def test_hba1c_follows_the_ifcc_master_equation() -> None:
    assert convert(6.5, "%", "mmol/mol", "hba1c") == pytest.approx(47.5, abs=0.1)
    assert convert(48, "mmol/mol", "%", "hba1c") == pytest.approx(6.54, abs=0.01)


def test_lipids_use_their_own_molar_masses() -> None:
    assert convert(200, "mg/dL", "mmol/L", "cholesterol") == pytest.approx(5.17, abs=0.01)
    assert convert(150, "mg/dL", "mmol/L", "triglycerides") == pytest.approx(1.69, abs=0.01)


def test_plain_scale_conversions_need_no_analyte() -> None:
    assert convert(135, "g/L", "g/dL") == pytest.approx(13.5)
    assert convert(6.2, "10*3/uL", "10*9/L") == pytest.approx(6.2)


def test_units_that_mean_the_same_for_an_analyte_convert_one_to_one() -> None:
    assert convert(2.1, "mU/L", "m[IU]/L", "tsh") == pytest.approx(2.1)
    assert convert(140, "meq/L", "mmol/L", "sodium") == pytest.approx(140)


@pytest.mark.parametrize(("value", "source", "target", "analyte"), [
    (5.0, "mg/dL", "mmol/L", None),  # mass to substance needs a molar mass
    (5.0, "mg/dL", "mmol/L", "sodium"),  # and sodium has none here
    (5.0, "[IU]/L", "10*9/L", None),  # both "per litre" to pint; different things
    (5.0, "%", "mmol/mol", None),  # HbA1c's formula only for HbA1c
    (5.0, "g/dL", "s", None),
    (5.0, "furlongs", "g/L", None),
])
def test_impossible_conversions_raise_a_clear_error(value: float, source: str, target: str,
                                                    analyte: str | None) -> None:
    with pytest.raises(ConversionError, match=r"cannot|different|not a UCUM"):
        convert(value, source, target, analyte)
