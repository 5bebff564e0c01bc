"""Printed lab units -> UCUM codes, and conversions between them.

A printed unit is normalised (case, micro signs, superscripts, "x10^9") and then checked with ucumvert's UCUM
grammar; what UCUM rejects stays text (``to_ucum`` answers None), so a unit is never coded by guesswork.
Mass <-> molar conversions need the analyte's molar mass; everything else is a plain scale conversion done by
pint through ucumvert.
"""

from __future__ import annotations

import re
from functools import cache

from pint import DimensionalityError, Quantity, UnitRegistry
from ucumvert import PintUcumRegistry

UCUM_SYSTEM = "http://unitsofmeasure.org"


class ConversionError(ValueError):
    """The value cannot be expressed in the wanted unit (different kinds, or no molar mass for the analyte)."""


# Printed forms whose UCUM code is not reached by the generic normaliser (keys lowercase, spaces removed).
_PRINTED = {
    "ml/min/1.73m2": "mL/min/{1.73_m2}",
    "ml/min/1.73m^2": "mL/min/{1.73_m2}",
    "ml/min/1.73sqm": "mL/min/{1.73_m2}",
    "ml/min/1.73": "mL/min/{1.73_m2}",
    "ml/min/{1.73_m2}": "mL/min/{1.73_m2}",
    "%": "%",
    "inr": "{INR}",
    "{inr}": "{INR}",
    "ratio": "{ratio}",
    "{ratio}": "{ratio}",
    "mm/hr": "mm/h",
    "mm/1hr": "mm/h",
    "mm/1h": "mm/h",
    "sec": "s",
    "secs": "s",
    "seconds": "s",
    "mcg/l": "ug/L",
    "mcg/dl": "ug/dL",
    "mcg/ml": "ug/mL",
    "mg/mmolcreat": "mg/mmol",
    "mg/gcreat": "mg/g",
    "meq/l": "meq/L",
}

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
# "x10^9", "x 10*9", "10E9", "×10⁹" -> 10*9
_POWER_OF_TEN = re.compile(r"^[x×*]?10(?:\^|\*\*|\*|e)?(\d{1,2})", re.IGNORECASE)
# One factor of a unit, lowercased: an optional prefix, an atom and an optional exponent.
_FACTOR = re.compile(r"^(?P<prefix>[fpnumdck]?)(?P<atom>mol|osm|iu|eq|g|l|u|m|h|min|s)(?P<exp>[23])?$")
_ATOMS = {"mol": "mol", "osm": "osm", "iu": "[IU]", "eq": "eq", "g": "g", "l": "L", "u": "U", "m": "m",
          "h": "h", "min": "min", "s": "s"}


@cache
def registry() -> UnitRegistry:
    """Built once: loading UCUM definitions into pint takes about a second."""
    return PintUcumRegistry()


def _clean(printed: str) -> str:
    text = re.sub(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]+", lambda m: "^" + m.group().translate(_SUPERSCRIPTS), printed)
    return re.sub(r"\s+", "", text.replace("µ", "u").replace("μ", "u"))


def _factor(text: str) -> str | None:
    """One factor ("mmol", "dl", "10^9") as UCUM, or None when it is nothing we know."""
    power = _POWER_OF_TEN.fullmatch(text)
    if power:
        return f"10*{power.group(1)}"
    match = _FACTOR.fullmatch(text.lower())
    if not match:
        return None
    prefix, atom, exp = match.group("prefix", "atom", "exp")
    return f"{prefix}{_ATOMS[atom]}{exp or ''}"


def _normalise(text: str) -> str | None:
    """Rewrite a cleaned printed unit factor by factor; None when any factor is unknown."""
    power = _POWER_OF_TEN.match(text)
    head, rest = (f"10*{power.group(1)}", text[power.end():]) if power else ("", text)
    if head and rest.startswith("/"):
        parts = [_factor(p) for p in rest[1:].split("/")]
        return None if None in parts else head + "/" + "/".join(parts)  # type: ignore[arg-type]
    parts = [_factor(p) if p else "" for p in rest.split("/")]
    if None in parts or (not head and not parts[0] and len(parts) == 1):
        return None
    return head + "/".join(parts)  # type: ignore[arg-type]


def is_ucum(code: str) -> bool:
    """Whether UCUM (ucumvert's grammar, and its pint mapping) accepts the code."""
    try:
        registry().from_ucum(code)
    except Exception:  # noqa: BLE001 - lark and pint raise many kinds; all mean "not a unit we can use"
        return False
    return True


def to_ucum(printed: str) -> str | None:
    """The UCUM code for a unit as printed on a report, or None when it cannot be coded safely."""
    text = _clean(printed)
    if not text:
        return None
    code = _PRINTED.get(text.lower()) or _normalise(text)
    return code if code and is_ucum(code) else None


# ---- conversions ---------------------------------------------------------------------------------------------

# g/mol, as used by the conventional SI conversion factors (e.g. glucose 18.016 mg/dL per mmol/L).
MOLAR_MASS = {
    "glucose": 180.16,
    "cholesterol": 386.65,  # total, HDL, LDL and non-HDL cholesterol alike: 38.67 mg/dL per mmol/L
    "triglycerides": 885.7,  # as triolein: 88.57 mg/dL per mmol/L
    "creatinine": 113.12,  # 88.4 umol/L per mg/dL
    "urea": 60.06,
    "urea_nitrogen": 28.014,  # BUN counts the two nitrogen atoms of urea: 2.8 mg/dL per mmol/L
    "calcium": 40.08,
    "magnesium": 24.305,
    "phosphate": 30.974,  # reported as phosphorus
    "urate": 168.11,
    "bilirubin": 584.66,
    "iron": 55.845,
    "vitamin_d": 400.64,  # 25-hydroxyvitamin D3
    "vitamin_b12": 1355.37,
    "folate": 441.4,
    "free_t4": 776.87,
    "free_t3": 650.97,
    "cortisol": 362.46,
    "testosterone": 288.42,
    "albumin_creatinine_ratio": 113.12,  # mg/mmol creatinine <-> mg/g creatinine
}
# Analytes whose reports print "U" and "IU" for the same unit (enzyme activity; TSH "mU/L" means mIU/L).
IU_IS_U = frozenset({"alt", "ast", "alp", "ggt", "ck", "ldh", "amylase", "lipase", "tsh", "lh", "fsh"})
# Monovalent ions: one milliequivalent is one millimole.
MEQ_IS_MMOL = frozenset({"sodium", "potassium", "chloride", "bicarbonate", "co2", "anion_gap"})
# Volume fractions printed either as % or as L/L (haematocrit 0.42 L/L = 42 %).
FRACTIONS = frozenset({"haematocrit"})
HBA1C = "hba1c"


def _hba1c(value: float, from_ucum: str, to_ucum: str) -> float | None:
    """The IFCC-NGSP master equation: mmol/mol = 10.929 x (% - 2.15)."""
    if (from_ucum, to_ucum) == ("%", "mmol/mol"):
        return (value - 2.15) * 10.929
    if (from_ucum, to_ucum) == ("mmol/mol", "%"):
        return value / 10.929 + 2.15
    return None


def _quantity(code: str) -> Quantity:
    try:
        quantity = registry().from_ucum(code)
    except Exception as error:  # noqa: BLE001
        raise ConversionError(f"{code!r} is not a UCUM unit") from error
    if not hasattr(quantity, "dimensionality"):  # an annotation alone ("{ratio}") has no scale to convert
        raise ConversionError(f"{code!r} cannot be converted to another unit")
    return quantity


def _blocked(from_ucum: str, to_ucum: str, dimensionless: bool) -> bool:
    """Units pint would call convertible that measure different things: IU against counts, % against ratios."""
    return ("[IU]" in from_ucum) != ("[IU]" in to_ucum) or dimensionless


def convert(value: float, from_ucum: str, to_ucum: str, analyte: str | None = None) -> float:
    """``value`` in ``from_ucum`` expressed in ``to_ucum``; ``analyte`` (a MOLAR_MASS key, "hba1c", or one of
    IU_IS_U) allows conversions that depend on what is measured. Raises ConversionError when impossible."""
    if from_ucum == to_ucum:
        return value
    if analyte == HBA1C and (converted := _hba1c(value, from_ucum, to_ucum)) is not None:
        return converted
    if analyte in IU_IS_U:
        from_ucum, to_ucum = from_ucum.replace("[IU]", "U"), to_ucum.replace("[IU]", "U")
    if analyte in MEQ_IS_MMOL:
        from_ucum, to_ucum = from_ucum.replace("meq", "mmol"), to_ucum.replace("meq", "mmol")
    source, target = _quantity(from_ucum) * value, _quantity(to_ucum)
    if source.dimensionality == target.dimensionality:
        if _blocked(from_ucum, to_ucum, source.dimensionless and analyte not in FRACTIONS):
            raise ConversionError(f"{from_ucum} and {to_ucum} measure different things")
        return float((source / target).to("dimensionless").magnitude)
    if analyte in MOLAR_MASS:
        molar_mass = source._REGISTRY.Quantity(MOLAR_MASS[analyte], "g/mol")  # ucumvert's quantities' registry
        for candidate in (source * molar_mass, source / molar_mass):
            if candidate.dimensionality == target.dimensionality:
                return float((candidate / target).to("dimensionless").magnitude)
    reason = f"no molar mass known for {analyte!r}" if analyte and analyte not in MOLAR_MASS else "different kinds"
    raise ConversionError(f"cannot convert {from_ucum} to {to_ucum}: {reason}")


def safe_convert(value: float, from_ucum: str, to_ucum: str, analyte: str | None = None) -> float | None:
    try:
        return convert(value, from_ucum, to_ucum, analyte)
    except (ConversionError, DimensionalityError):
        return None
