"""OCR rows of a lab report -> LabRows and the report's metadata.

OCR hands over visual rows, top to bottom, each a list of cell texts (or one line of text, whose cells are
split on runs of two or more spaces). Cells are merged and split imperfectly, so a row is read as a stream of
tokens: the leading words are the test's name, and each later token is classified by its shape (a range
"13.0-17.0", a bound "<5.0", a value "15.2" maybe with a glued flag "15.2H", a flag, a qualitative result, a
unit). That reads the column orders Name|Value|Unit|Range|Flag, Name|Value|Flag|Unit|Range and
Name|Range|Unit|Value alike; only two one-sided bounds ("<5" and "<5.0") need the header's column order.

A row that looks like a result (a known test's name, or values and ranges) but cannot be read is kept in
``unparsed``, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from perception.labs.loinc import match_test
from perception.labs.rows import LabRow
from perception.labs.units import to_ucum


@dataclass
class ParsedReport:
    rows: list[LabRow] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)  # lines that looked like results but could not be read
    collected: str | None = None  # FHIR date (YYYY-MM-DD): when the specimen was taken
    reported: str | None = None  # FHIR date: when the laboratory reported
    laboratory: str | None = None
    specimen: str | None = None  # as printed: "Serum", "Whole blood (EDTA)"


# ---- cells and tokens ----------------------------------------------------------------------------------------

_NUMBER_CHARS = r"[\dOoIl|.,]"  # digits and what OCR mistakes for them
_FLAGS = {"H": "H", "L": "L", "HH": "HH", "LL": "LL", "A": "A", "*": "A", "**": "A", "***": "A",
          "HIGH": "H", "LOW": "L", "ABNORMAL": "A", "ABN": "A", "CRITICAL": "A", "N": "", "NORMAL": ""}
_QUALITATIVE = {"negative", "positive", "trace", "nil", "absent", "present", "detected", "not-detected",
                "reactive", "non-reactive", "neg", "pos", "+", "++", "+++", "++++", "1+", "2+", "3+", "4+"}
_DASHES = "-–—"


def cells_of(row: Sequence[str] | str) -> list[str]:
    parts = re.split(r"\s{2,}|\t", row) if isinstance(row, str) else list(row)
    return [cell.strip() for cell in parts if cell and cell.strip()]


def _tidy(cell: str) -> str:
    """Join what OCR spaces apart inside one result: "13.0 - 17.0", "< 5", "x 10^9 / L", "not detected"."""
    text = re.sub(rf"({_NUMBER_CHARS})\s*[{_DASHES}]\s*(?={_NUMBER_CHARS})", r"\1-", cell)
    text = re.sub(r"(\d)\s+to\s+(?=\d)", r"\1-", text)
    text = re.sub(r"\bup\s+to\s+(?=\d)", "<=", text, flags=re.IGNORECASE)
    text = re.sub(r"([<>≤≥]=?)\s+(?=\d)", r"\1", text)
    text = re.sub(r"\b[x×]\s+10", "x10", text)
    text = re.sub(r"\s*([/^])\s*(?=[\w{])", r"\1", text)
    return re.sub(r"\b(not|non)\s+(detected|reactive)\b", r"\1-\2", text, flags=re.IGNORECASE)


def number(text: str) -> float | None:
    """A printed number, with OCR's O/o for 0 and I/l/| for 1 mended; "4,5" is 4.5, "4,500" is 4500."""
    if not re.search(r"\d", text) or not re.fullmatch(rf"{_NUMBER_CHARS}+", text):
        return None
    mended = text.translate(str.maketrans("OoIl|", "00111"))
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", mended):
        mended = mended.replace(",", "")
    elif mended.count(",") == 1 and "." not in mended:
        mended = mended.replace(",", ".")
    if not re.fullmatch(r"\d+(\.\d+)?|\.\d+", mended):
        return None
    return float(mended)


@dataclass(frozen=True)
class Token:
    kind: str  # value, qualitative, range, bound, flag, unit, other
    text: str
    value: float | None = None
    high: float | None = None  # ranges
    flag: str = ""


def _strip_brackets(text: str) -> str:
    return text[1:-1] if len(text) > 2 and text[0] in "([" and text[-1] in ")]" else text


def classify(raw: str) -> Token:
    text = _strip_brackets(raw)
    if (flag := _FLAGS.get(text.upper() if len(text) > 2 else text)) is not None:
        return Token("flag", raw, flag=flag)
    if text.lower() in _QUALITATIVE:
        return Token("qualitative", raw)
    if match := re.fullmatch(rf"({_NUMBER_CHARS}+)[{_DASHES}]({_NUMBER_CHARS}+)", text):
        low, high = number(match.group(1)), number(match.group(2))
        if low is not None and high is not None:
            return Token("range", raw, low, high)
    match = re.fullmatch(rf"(<=|>=|≤|≥|<|>)({_NUMBER_CHARS}+)", text)
    if match and (bound := number(match.group(2))) is not None:
        return Token("bound", match.group(1).replace("≤", "<=").replace("≥", ">=") + f"{bound:g}", bound)
    match = re.fullmatch(rf"({_NUMBER_CHARS}+?)(HH|LL|H|L|A|\*{{1,3}})?", raw)
    if match and (value := number(match.group(1))) is not None:
        return Token("value", raw, value, flag=_FLAGS[match.group(2)] if match.group(2) else "")
    if to_ucum(raw) is not None or re.fullmatch(r"%|[^\s\d]*/[^\s]*[A-Za-z][^\s]*", raw):
        return Token("unit", raw)
    return Token("other", raw)


_DATA = {"value", "qualitative", "range", "bound"}


def _split_name(cells: list[str]) -> tuple[str, list[Token]]:
    """The leading words are the name (the first always is: "Mg", "K"); the rest are classified."""
    words = [word for cell in cells for word in _tidy(cell).split()]
    tokens = [classify(word) for word in words[1:]]
    # Only a unit UCUM knows ends the name: "Chol/HDL ratio" and "Albumin/Creatinine" are names, "mmol/L" is not.
    cut = next((i for i, token in enumerate(tokens)
                if token.kind in _DATA or (token.kind == "unit" and to_ucum(token.text))), len(tokens))
    name = " ".join(words[: cut + 1]).strip(" :")
    return name, tokens[cut:]


# ---- one result row ------------------------------------------------------------------------------------------

@dataclass
class _Reading:
    value: float | None = None
    text: str = ""
    low: float | None = None
    high: float | None = None
    flag: str = ""


def _bound_to_range(token: Token, reading: _Reading) -> None:
    if token.text.startswith("<"):
        reading.high = token.value
    else:
        reading.low = token.value


def _read_values(tokens: list[Token], range_first: bool) -> _Reading | None:
    """Which token is the result and which the reference range; None when the row is ambiguous."""
    values = [t for t in tokens if t.kind == "value"]
    ranges = [t for t in tokens if t.kind == "range"]
    bounds = [t for t in tokens if t.kind == "bound"]
    qualitative = [t for t in tokens if t.kind == "qualitative"]
    reading = _Reading()
    if len(values) == 3 and not ranges and not bounds:  # the range's dash lost: "135 130 170"
        result, low, high = (values[2], values[0], values[1]) if range_first else values
        if low.value is None or high.value is None or low.value >= high.value:
            return None
        values, reading.low, reading.high = [result], low.value, high.value
    if len(values) > 1 or len(ranges) > 1 or len(bounds) > 2:
        return None
    if values:
        reading.value, reading.flag = values[0].value, values[0].flag
    elif qualitative:
        reading.text = qualitative[0].text
    elif bounds:  # a result printed as a bound: "<0.01", ">90"
        index = (len(bounds) - 1) if range_first else 0
        reading.text = bounds.pop(index).text
    else:
        return None
    if ranges:
        reading.low, reading.high = ranges[0].value, ranges[0].high
    for bound in bounds:
        _bound_to_range(bound, reading)
    return reading


def _unit(tokens: list[Token]) -> str:
    units = [t.text for t in tokens if t.kind == "unit"]
    coded = [unit for unit in units if to_ucum(unit)]
    return (coded or units or [""])[0]


def _flag(tokens: list[Token], reading: _Reading) -> str:
    return reading.flag or next((t.flag for t in tokens if t.kind == "flag" and t.flag), "")


def read_row(cells: list[str], range_first: bool = False) -> LabRow | None:
    """The result on one row; None when it cannot be read (the caller decides whether it looked like one)."""
    name, tokens = _split_name(cells)
    if not name or not re.search(r"[A-Za-z]", name):
        return None
    reading = _read_values(tokens, range_first)
    if reading is None:
        return None
    unit, flag = _unit(tokens), _flag(tokens, reading)
    known = match_test(name) is not None
    if not known and not (unit or reading.low is not None or reading.high is not None or flag):
        return None  # "Page 1 of 2", "Ward 7": an unknown name needs a unit, a range or a flag to be a result
    return LabRow(name=name, value=reading.value, unit=unit, low=reading.low, high=reading.high, flag=flag,
                  text=reading.text)


def looks_like_result(cells: list[str]) -> bool:
    name, tokens = _split_name(cells)
    return match_test(name) is not None or any(t.kind in _DATA or re.search(r"\d", t.text) for t in tokens)


# ---- headers and metadata ------------------------------------------------------------------------------------

_HEADER_WORDS = {"test", "tests", "investigation", "analyte", "parameter", "examination", "result", "results",
                 "value", "unit", "units", "reference", "range", "ref", "interval", "flag", "normal", "biological"}
_RANGE_WORDS = {"reference", "range", "ref", "interval", "normal", "biological"}
_RESULT_WORDS = {"result", "results", "value"}


def header_order(cells: list[str]) -> bool | None:
    """For a header row: whether the range column comes before the result column; None for any other row."""
    words = re.findall(r"[a-z]+", " ".join(cells).lower())
    if re.search(r"\d", " ".join(cells)) or len(set(words) & _HEADER_WORDS) < 2:
        return None
    range_at = next((i for i, w in enumerate(words) if w in _RANGE_WORDS), None)
    result_at = next((i for i, w in enumerate(words) if w in _RESULT_WORDS), None)
    return range_at is not None and result_at is not None and range_at < result_at


_LABELS = {
    "collected": r"collected|collection date|collection|date collected|date of collection|sample date|"
                 r"sample taken|sample collected|specimen collected|specimen date|drawn",
    "reported": r"reported|report date|date reported|date of report|authori[sz]ed|issued|validated|date",
    "laboratory": r"laboratory|performing laboratory|performing lab|performed at|lab",
    "specimen": r"specimen type|specimen|sample type|sample",
}
_LABEL = re.compile(r"\b(?P<label>" + "|".join(f"(?P<{k}>{v})" for k, v in _LABELS.items()) + r")\b\s*:",
                    re.IGNORECASE)
# Lines about the patient or the request, never results: not to be read as "DOB 01/02/1960".
_ADMIN = re.compile(r"^\s*(patient|name|dob|d\.o\.b|date of birth|born|nhs|mrn|hospital n|ward|location|"
                    r"requested|requesting|request|doctor|clinician|consultant|gp|address|tel|phone|sex|gender|"
                    r"age|page|lab no|accession|specimen no|sample no|sample id|order|comment|notes?)\b",
                    re.IGNORECASE)
_LAB_NAME = re.compile(r"\b(laborator(y|ies)|pathology|diagnostics|labs)\b", re.IGNORECASE)
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}


def _year(text: str) -> int:
    year = int(text)
    return year if year >= 100 else (2000 + year if year < 70 else 1900 + year)


def parse_date(text: str, day_first: bool = True) -> str | None:
    """The first date in ``text`` as a FHIR date. Numeric dates are read day first unless a part is over 12
    (reports from the US print month first: pass day_first=False)."""
    candidates: list[tuple[int, int, int]] = []
    if match := re.search(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", text):
        candidates.append((int(match.group(1)), int(match.group(2)), int(match.group(3))))
    elif match := re.search(r"\b(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})\b", text):
        first, second, year = int(match.group(1)), int(match.group(2)), _year(match.group(3))
        day, month = (first, second) if (day_first and first <= 31) or second > 12 else (second, first)
        candidates.append((year, month, day))
    elif match := re.search(r"\b(\d{1,2})[\s\-]([A-Za-z]{3,9})[\s\-,]+(\d{2,4})\b", text):
        month = _MONTHS.get(match.group(2)[:3].lower())
        candidates += [(_year(match.group(3)), month, int(match.group(1)))] if month else []
    elif match := re.search(r"\b([A-Za-z]{3,9})\s+(\d{1,2}),?\s+(\d{4})\b", text):
        month = _MONTHS.get(match.group(1)[:3].lower())
        candidates += [(int(match.group(3)), month, int(match.group(2)))] if month else []
    for year, month, day in candidates:
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return None
    return None


def _read_metadata(line: str, report: ParsedReport, day_first: bool) -> bool:
    """Fill the report's metadata from "Label: value" pairs on the line; whether the line held any."""
    labels = list(_LABEL.finditer(line))
    for index, label in enumerate(labels):
        end = labels[index + 1].start() if index + 1 < len(labels) else len(line)
        value = line[label.end():end].strip(" ,;|")
        kind = next(k for k in _LABELS if label.group(k))
        if kind in ("collected", "reported") and (when := parse_date(value, day_first)):
            if getattr(report, kind) is None:
                setattr(report, kind, when)
        elif kind in ("laboratory", "specimen") and value and getattr(report, kind) is None:
            setattr(report, kind, value)
    return bool(labels)


# ---- the report ----------------------------------------------------------------------------------------------

def parse_rows(rows: Sequence[Sequence[str] | str], day_first: bool = True) -> ParsedReport:
    """Read the results, and what the report says about itself, from OCR rows (top to bottom)."""
    report = ParsedReport()
    range_first = False
    for row in rows:
        cells = cells_of(row)
        if not cells:
            continue
        line = "  ".join(cells)
        if _read_metadata(line, report, day_first) or _ADMIN.match(line):
            continue
        if (order := header_order(cells)) is not None:
            range_first = order
            continue
        if (result := read_row(cells, range_first)) is not None:
            report.rows.append(result)
        elif looks_like_result(cells):
            report.unparsed.append(line)
        elif not report.rows and report.laboratory is None and _LAB_NAME.search(line):
            report.laboratory = line  # a letterhead: "St Elsewhere Pathology Laboratory"
    return report
