"""Measurements in a patient's own words -> numbers in canonical units. Deterministic: no model, microseconds.

    find_measurements("my BP this morning was 150/95, pulse 96") -> [blood-pressure (150, 95), heart-rate (96,)]

A reading is taken only when its keyword (or an unambiguous unit: "mmHg", "bpm") comes just before the number,
in the same sentence, with nothing but words between them. It is refused (left unrecorded) when:
- the value is implausible for the measurement (a BP of 20 or 400, a date such as "12/05" after "bp");
- the number is followed by a word that makes it something else ("150 steps", "sugar 2 spoons", "temp 38 days");
- the sentence is a question about a value ("Is 150/95 high?") or a condition ("if my sats drop below 92");
- the words around it make it a target, a change or a limit ("target bp 130/80", "lost 2 kg", "under 140");
- it is dated other than now ("yesterday", "last week", "on Monday", "12/05"): the record would give it the
  message's time, which would be wrong;
- a unit is needed to know what it is and is missing (a weight without kg, lb or stones).
Precision over recall: a missed reading can be asked for; a wrong one in the record misleads every reader.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from agent.measurements.kinds import (
    DIASTOLIC_HIGH,
    DIASTOLIC_LOW,
    GLUCOSE_MG_DL_PER_MMOL_L,
    KG_PER_LB,
    KG_PER_STONE,
    KINDS,
    MIN_PULSE_PRESSURE,
    fahrenheit_to_celsius,
)


@dataclass(frozen=True)
class Measurement:
    kind: str  # a KINDS key
    values: tuple[float, ...]  # canonical unit; blood pressure: (systolic, diastolic)
    printed: str  # the reading as the patient wrote it, e.g. "13 st 2 lb"
    converted: bool = False  # the patient wrote another unit (stones, °F, mg/dL)

    @property
    def value(self) -> float:
        return self.values[0]


# ---- vocabulary ---------------------------------------------------------------------------------------------

_NUMBER = r"\d{1,3}(?:[.,]\d{1,2})?"
_KEYWORDS = {
    "blood-pressure": r"blood[ -]?pressures?|b\.?p\.?s?|pressure",
    "heart-rate": r"pulse(?![ -]?ox)|heart[ -]?rate|hr|heart[ -]?beat",
    "body-temperature": r"temp|temps|temperature|fever",
    "oxygen-saturation": r"sats?|saturations?|sp[o0]2|o2(?: sats?| saturation)?|oxygen(?: levels?| saturation| sats)?"
                         r"|pulse[ -]?ox(?:imeter)?|oximeter",
    "body-weight": r"weigh|weighs|weighed|weighing|weight|scales?",
    "peak-flow": r"peak[ -]?flows?|pefr?|peak expiratory flow(?: rate)?",
    "blood-glucose": r"blood (?:sugars?|glucose)|glucose|sugar levels?|sugars?|bms?|cbg|bg",
}
_ANY_KEYWORD = re.compile(r"\b(?:" + "|".join(_KEYWORDS.values()) + r")\b")
# Between a keyword and its number: words only (no digits), not too many of them.
_FILLER = r"(?P<filler>[^\d]{0,40}?)"
# Between a keyword and its number: a comparison, a limit, a guess or a denial, not a reading.
_NOT_A_READING = re.compile(
    r"\b(?:by|lost|lose|losing|gain|gained|gaining|put on|extra|than|under|below|above|over|between|less|more|"
    r"at least|at most|max|maximum|min|minimum|not|never|no longer|range|limit|around|about|roughly|"
    r"approximately|maybe|might)\b|n't\b|[<>≤≥~]")
# Anywhere in the clause before it: a target, a norm, a hypothesis.
_NOT_NOW = re.compile(r"\b(?:target|targets|goal|aim|aiming|ideal|should|supposed|normal|normally|usual|usually|"
                      r"average|if|unless|would|could|might|maybe)\b")
# Between a keyword and its number only: "bp from 140/90 to 160/100" is a change, not one reading.
_CHANGE = re.compile(r"\b(?:went|gone|rose|risen|fell|fallen|dropped|increased|decreased|up|down)\b")
_FROM = re.compile(r"\bfrom\b")
_TO_END = re.compile(r"\bto\s*$")  # "has fallen to 250": the value it is now
_OTHER_TIME = re.compile(
    r"\b(?:yesterday|ago|last (?:night|week|month|year|time|monday|tuesday|wednesday|thursday|friday|saturday|"
    r"sunday)|the other day|the day before|previously|used to|earlier this (?:week|month)|monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday|january|february|march|april|june|july|august|september|october|"
    r"november|december|jan|feb|apr|jun|jul|aug|sept?|oct|nov|dec)\b"
    r"|\b\d{1,2}(?:st|nd|rd|th) of\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[/-]\d{1,2}(?:[/-]\d{2,4})?\b")
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A number followed by one of these counts something else.
_COUNT_NOUNS = _words(
    "steps step times time days day weeks week months month years year yrs yr hours hour hrs hr minutes mins min "
    "seconds secs spoons spoonfuls teaspoons tablespoons tsp tbsp cubes lumps grams gram g mg mcg ug ml cups cup "
    "glasses pills pill tablets tablet tabs puffs puff units unit iu calories kcal cal people miles mile km metres "
    "meters feet ft inches cm mm floors litres liters l percent x am pm")
_QUESTION_START = re.compile(r"^\W*(?:is|are|was|were|what|whats|what's|should|does|do|did|can|could|would|will|how|"
                             r"why|which|isn't|is it)\b")
_CONDITIONAL_START = re.compile(r"^\W*(?:if|unless|whether|what if|suppose|supposing|when(?:ever)? (?:it|my|the))\b")
_CLAUSE_BREAK = re.compile(r",|\bbut\b|\bthough\b|\balthough\b|\bwhereas\b|\band then\b|\bthen\b")
_TIME_OF_DAY = re.compile(r"\b\d{1,2}(?::\d{2})?\s*(?:am|pm)\b|\b\d{1,2}:\d{2}\b")
_SENTENCE = re.compile(r"(?<=[!?;\n])|(?<=\.)(?!\d)")


# ---- one kind each --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Pattern:
    kind: str
    regex: re.Pattern
    read: Callable[[re.Match], tuple[tuple[float, ...], bool] | None]  # canonical values, converted; None: refuse
    units: frozenset[str] = frozenset()  # the words that may follow the number as its unit


def _num(text: str) -> float:
    return float(text.replace(",", "."))


def _pattern(kind: str, core: str, read, units: str = "", unit: str = "", unit_alone: bool = False) -> list[_Pattern]:
    """A keyword, a few words, the value (``core``) and its optional ``unit``; with ``unit_alone`` also the value
    followed by the unit and no keyword ("150/95 mmHg", "96 bpm"): a unit that names the measurement by itself."""
    optional = rf"(?:\s*(?:{unit}))?" if unit else ""
    found = [_Pattern(kind, re.compile(rf"\b(?P<keyword>{_KEYWORDS[kind]})\b{_FILLER}(?<![\d.,/]){core}{optional}"),
                      read, _words(units))]
    if unit_alone:
        found.append(_Pattern(kind, re.compile(rf"(?<![\d.,/])(?P<filler>){core}\s*(?:{unit})\b"), read,
                              _words(units)))
    return found


def _blood_pressure(match: re.Match) -> tuple[tuple[float, ...], bool] | None:
    systolic, diastolic = float(match["sys"]), float(match["dia"])
    kind = KINDS["blood-pressure"]
    if not (kind.low <= systolic <= kind.high and DIASTOLIC_LOW <= diastolic <= DIASTOLIC_HIGH):
        return None
    if systolic - diastolic < MIN_PULSE_PRESSURE:
        return None
    return (systolic, diastolic), False


def _plain(match: re.Match) -> tuple[tuple[float, ...], bool] | None:
    return (_num(match["value"]),), False


def _temperature(match: re.Match) -> tuple[tuple[float, ...], bool] | None:
    value, unit = _num(match["value"]), (match["unit"] or "").strip(" °").lower()
    if unit.startswith("f") or (not unit.startswith("c") and 89.6 <= value <= 111.2):
        return (round(fahrenheit_to_celsius(value), 1),), True
    return (value,), False


def _weight(match: re.Match) -> tuple[tuple[float, ...], bool] | None:
    if match["stones"]:
        pounds = _num(match["st_lb"]) if match["st_lb"] else 0.0
        if pounds >= 14:
            return None  # "13 st 20" is not a weight anyone writes
        return (round(_num(match["stones"]) * KG_PER_STONE + pounds * KG_PER_LB, 2),), True
    value, unit = _num(match["value"]), match["unit"].lower()
    if unit.startswith(("lb", "pound")):
        return (round(value * KG_PER_LB, 2),), True
    return (value,), False


def _glucose(match: re.Match) -> tuple[tuple[float, ...], bool] | None:
    value, unit = _num(match["value"]), (match["unit"] or "").replace(" ", "").lower()
    if unit.startswith("mg") or (not unit and value >= 40):
        return (round(value / GLUCOSE_MG_DL_PER_MMOL_L, 1),), True
    if not unit and value >= 35:
        return None  # too high for mmol/L, too low to be sure of mg/dL
    return (value,), False


_STONES = (r"(?P<stones>\d{1,2})\s*(?:st|stone|stones)\b\.?"
           r"(?:\s*(?:and\s*)?(?P<st_lb>\d{1,2}(?:\.\d)?)\s*(?:lb|lbs|pounds?)?\b)?")
_MASS_UNITS = "kg kgs kilo kilos lb lbs pounds pound st stone stones"
_MASS = rf"(?:{_STONES}|(?P<value>{_NUMBER})\s*(?P<unit>kg|kgs|kilos?|kilograms?|lbs?|pounds?)\b)"
_PATTERNS: list[_Pattern] = [
    *_pattern("blood-pressure", r"(?P<sys>\d{2,3})\s*(?:/|over|\\)\s*(?P<dia>\d{2,3})(?![\d/.])", _blood_pressure,
              "mmhg mm", unit=r"mm ?hg", unit_alone=True),
    *_pattern("heart-rate", r"(?P<value>\d{2,3})(?![\d/]|[.,]\d)", _plain, "bpm beats",
              unit=r"bpm|beats? (?:per|a) minute|/min", unit_alone=True),
    *_pattern("body-temperature", rf"(?P<value>{_NUMBER})(?![\d/])\s*(?P<unit>°\s*[cf]|degrees? ?[cf]?|[cf]|celsius|"
                                  rf"centigrade|fahrenheit)?\b", _temperature, "degrees degree c f celsius"),
    *_pattern("oxygen-saturation", r"(?P<value>\d{2,3})(?![\d/]|[.,]\d)", _plain, "percent", unit="%"),
    *_pattern("body-weight", _MASS, _weight, _MASS_UNITS),
    # "I'm 13 st 2 lb": a mass unit after "I'm" is a body weight without the word.
    _Pattern("body-weight", re.compile(rf"\b(?P<keyword>i'm|i am|im|now)\s+(?P<filler>(?:only |just )?){_MASS}"),
             _weight, _words(_MASS_UNITS)),
    *_pattern("peak-flow", r"(?P<value>\d{2,3})(?![\d/]|[.,]\d)", _plain, "l lpm litres liters",
              unit=r"l/min|lpm|l/m|litres per minute|liters per minute"),
    *_pattern("blood-glucose", rf"(?P<value>{_NUMBER})(?![\d/])\s*(?P<unit>mmol\s*/\s*l|mmol|mg\s*/\s*dl|mgs?)?"
                               r"(?![a-z/])", _glucose, "mmol mg mgs"),
]

_NEXT_WORD = re.compile(r"\s*(%|[a-z]+)")


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text) if s.strip()]


def _clause(sentence: str, start: int, end: int) -> tuple[int, int]:
    """Where the clause holding sentence[start:end] begins and ends (commas, "but", "then" break clauses)."""
    breaks = list(_CLAUSE_BREAK.finditer(sentence))
    return (max((m.end() for m in breaks if m.end() <= start), default=0),
            min((m.start() for m in breaks if m.start() >= end), default=len(sentence)))


def _refused(p: _Pattern, sentence: str, match: re.Match) -> bool:
    filler = match["filler"] or ""
    changed = _FROM.search(filler) or (_CHANGE.search(filler) and not _TO_END.search(filler))
    if changed or _NOT_A_READING.search(filler) or _NOT_NOW.search(filler) or _ANY_KEYWORD.search(filler):
        return True  # "weight went up by 2 kg"; "sats and pulse 96" (the 96 belongs to the pulse)
    begin, end = _clause(sentence, match.start(), match.end())
    if _NOT_NOW.search(sentence[begin:match.start()]):
        return True  # "my target bp is 130/80"
    value_start = match.start("filler") + len(filler)
    if _OTHER_TIME.search(sentence[begin:value_start] + " " + sentence[match.end():end]):
        return True  # "bp yesterday 160/100", "on 12/05 I weighed 80 kg"
    following = _NEXT_WORD.match(sentence, match.end())
    if following:
        word = following.group(1)
        if word == "%" and p.kind != "oxygen-saturation":
            return True
        if (word in _COUNT_NOUNS or word in _ALL_UNITS) and word not in p.units:
            return True  # "150 steps", "sugar 2 spoons"; another measurement's unit: not this one
    return False


_ALL_UNITS = frozenset(u for p in _PATTERNS for u in p.units) | {"mmhg", "bpm", "kg", "lb", "lbs", "mmol"}


def _plausible(kind: str, values: tuple[float, ...]) -> bool:
    k = KINDS[kind]
    return k.low <= values[0] <= k.high


def find_measurements(text: str) -> list[Measurement]:
    """Every reading the patient reports as taken now, in the order written; [] when there is none."""
    if not any(c.isdigit() for c in text):
        return []  # most messages: nothing to look at
    found: list[tuple[int, int, Measurement]] = []
    for number, raw in enumerate(_sentences(text.replace("’", "'"))):
        # "at 8am" is when, not what: blanked out (same length, so positions still point into ``raw``).
        sentence = _TIME_OF_DAY.sub(lambda m: "_" * len(m.group()), raw.lower())
        if len(sentence) != len(raw):  # a letter whose lower case is longer: read it all lower case
            raw = sentence
        stripped = sentence.strip()
        if _CONDITIONAL_START.search(stripped) or (stripped.endswith("?") and _QUESTION_START.search(stripped)):
            continue
        taken: list[tuple[int, int]] = []  # spans already read: one number is one reading
        for p in _PATTERNS:
            for match in p.regex.finditer(sentence):
                span = (match.start("filler") + len(match["filler"] or ""), match.end())
                if any(s < span[1] and span[0] < e for s, e in taken):
                    continue
                read = p.read(match)
                if read is None or not _plausible(p.kind, read[0]) or _refused(p, sentence, match):
                    continue
                values, converted = read
                printed = raw[span[0]:span[1]].strip()
                taken.append(span)
                found.append((number, span[0], Measurement(p.kind, values, printed, converted)))
    return [m for _, _, m in sorted(found, key=lambda item: item[:2])]
