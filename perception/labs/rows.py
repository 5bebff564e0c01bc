"""A lab result as read from a document: the contract between OCR, the parser and the FHIR writer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LabRow:
    name: str  # the test name as printed, e.g. "Haemoglobin", "Glucose, fasting"
    value: float | None  # None when the result is not numeric (see `text`)
    unit: str  # as printed, e.g. "g/dL", "mmol/L", "x10^9/L"; "" when none
    low: float | None = None  # reference range as printed
    high: float | None = None
    flag: str = ""  # abnormal flag as printed: "H", "L", "HH", "LL", "A" or ""
    text: str = ""  # a non-numeric result ("Negative", "Trace") or the range text when it is not low-high
