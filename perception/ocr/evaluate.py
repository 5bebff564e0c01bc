"""How well an engine reads the generated set: character error rate, lab field accuracy, seconds per page.

CER compares text with whitespace runs collapsed (a cell boundary read as one space instead of two is
layout, not a misread character). A lab field counts as read when the OCR row that best matches the
test name also holds the value, the unit and the range exactly as printed: the standard the lab parser
needs, since a near-miss ("13.2" read as "132") is a wrong result, not a small error.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from PIL import Image

from perception.ocr.engines import OcrPage, read_image
from perception.ocr.synthetic import ground_truth

# A test name matches a row when at most this share of its characters needs editing.
NAME_TOLERANCE = 0.25


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insert, delete, substitute), one row of the table at a time."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def substring_distance(needle: str, haystack: str) -> int:
    """Fewest edits turning needle into some substring of haystack (free start and end in haystack)."""
    previous = [0] * (len(haystack) + 1)
    for i, cn in enumerate(needle, 1):
        current = [i]
        for j, ch in enumerate(haystack, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (cn != ch)))
        previous = current
    return min(previous)


def _normalise(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def character_error_rate(truth: str, read: str) -> float:
    truth, read = _normalise(truth), _normalise(read)
    return levenshtein(truth, read) / max(len(truth), 1)


def _contains(text: str, part: str) -> bool:
    """`part` appears as a whole token run: "5.0" is not found in "<5.0" or "15.0", nor "13.0" in "13.0-17.0"."""
    if not part:
        return True
    return re.search(rf"(?<![\w.<>+\-/^]){re.escape(part)}(?![\w.\-/^])", text) is not None


def _row_for(name: str, rows: list[str]) -> str | None:
    """The row naming the test: fewest edits to the name; an exact first cell wins ties ("HDL" vs "LDL")."""
    needle = name.lower()
    best: tuple[int, int] | None = None
    found = None
    for row in rows:
        distance = substring_distance(needle, row.lower())
        key = (distance, 0 if row.lower().startswith(needle) else 1)
        if distance <= NAME_TOLERANCE * len(needle) and (best is None or key < best):
            best, found = key, row
    return found


def check_field(field: dict[str, str], rows: list[str]) -> dict[str, bool]:
    """Whether the value, the whole field (value, unit, range) and the flag were read in the test's row."""
    row = _row_for(field["name"], rows)
    if row is None:
        return {"value": False, "field": False, "flag": False}
    row = " ".join(row.split())
    has_range = _contains(row, field["range"])
    # Take the range out first so a value equal to one of its bounds is not found inside it.
    rest = row.replace(field["range"], " ", 1) if field["range"] and has_range else row
    value = _contains(rest, field["value"])
    unit = _contains(rest, field["unit"])
    flag = _contains(rest.replace(field["name"], " ", 1), field["flag"]) if field["flag"] else True
    return {"value": value, "field": value and unit and has_range, "flag": flag}


def score_page(page: OcrPage, truth: dict[str, Any]) -> dict[str, Any]:
    rows = [" ".join(cells) for cells in page.rows()]
    checks = [check_field(f, rows) for f in truth["fields"]]
    return {
        "kind": truth["kind"],
        "degradations": truth["degradations"],
        "cer": character_error_rate(truth["text"], page.text()),
        "fields": len(checks),
        "values_right": sum(c["value"] for c in checks),
        "fields_right": sum(c["field"] for c in checks),
        "flags": sum(1 for f in truth["fields"] if f["flag"]),
        "flags_right": sum(c["flag"] for c, f in zip(checks, truth["fields"], strict=True) if f["flag"]),
        "seconds": page.seconds,
    }


def _ratio(right: int, total: int) -> float | None:
    return right / total if total else None


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summarise(pages: list[dict[str, Any]]) -> dict[str, Any]:
    labs = [p for p in pages if p["kind"] == "lab"]
    letters = [p for p in pages if p["kind"] == "letter"]
    seconds = [p["seconds"] for p in pages]
    return {
        "pages": len(pages),
        "cer": statistics.fmean(p["cer"] for p in pages) if pages else None,
        "cer_lab": statistics.fmean(p["cer"] for p in labs) if labs else None,
        "cer_letter": statistics.fmean(p["cer"] for p in letters) if letters else None,
        "value_accuracy": _ratio(sum(p["values_right"] for p in labs), sum(p["fields"] for p in labs)),
        "field_accuracy": _ratio(sum(p["fields_right"] for p in labs), sum(p["fields"] for p in labs)),
        "flag_accuracy": _ratio(sum(p["flags_right"] for p in labs), sum(p["flags"] for p in labs)),
        "letter_dose_accuracy": _ratio(sum(p["fields_right"] for p in letters), sum(p["fields"] for p in letters)),
        "seconds_mean": statistics.fmean(seconds) if seconds else None,
        "seconds_p50": _percentile(seconds, 0.5) if seconds else None,
        "seconds_p95": _percentile(seconds, 0.95) if seconds else None,
    }


def evaluate(pages_dir: Path, engine: str, limit: int | None = None) -> dict[str, Any]:
    """Read the generated pages in pages_dir with one engine; totals, a per-degradation breakdown, per page."""
    paths = sorted(Path(pages_dir).glob("page-*.png"))[:limit]
    if not paths:
        raise FileNotFoundError(f"no generated pages (page-*.png) in {pages_dir}")
    per_page = []
    for path in paths:
        with Image.open(path) as image:
            page = read_image(image, engine)
        per_page.append({"page": path.name, **score_page(page, ground_truth(path))})
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for page in per_page:
        for name in page["degradations"] or ["clean"]:
            groups[name].append(page)
    return {
        "engine": engine,
        **summarise(per_page),
        "by_degradation": {name: summarise(group) for name, group in sorted(groups.items())},
        "per_page": per_page,
    }
