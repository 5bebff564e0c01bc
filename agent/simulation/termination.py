"""The termination gate: whether the consultation is over, and the diagnosis the doctor concluded with.

The doctor (the live harness, told so in its brief) states "Most likely diagnosis: X" when it concludes. The
consultation ends when it has named a diagnosis and asks nothing more, when the patient's own question has
been answered after the conclusion, or at the turn limit; a doctor that never concludes ends at the limit
with no diagnosis, which counts as wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CONCLUSION = re.compile(
    r"(?:most likely|working|final|probable|likely|provisional)\s+diagnosis\s*(?:is|would be|:|-)\s*[:\-]?\s*"
    r"\**\s*(?P<dx>[^\n.;]{2,120})", re.I)


_CITATION = re.compile(r"\s*\[(?:ev-[0-9a-f]+|\d{1,2})\]")


def diagnosis_in(text: str) -> str:
    """The diagnosis a doctor's message concludes with ("" if none); the last one stated wins. Citation markers
    the grounding check added are not part of the name."""
    found = [m.group("dx") for m in CONCLUSION.finditer(_CITATION.sub("", text or ""))]
    return found[-1].strip(" *_:\"'") if found else ""


@dataclass(frozen=True)
class Ending:
    reason: str  # concluded | turn_limit
    turns: int


def ending(turn: int, max_turns: int, doctor_text: str, concluded: bool, patient_has_question: bool) -> Ending | None:
    """Whether to stop after the doctor's `turn`-th reply: a concluded doctor who asks nothing more, once the
    patient has asked their own question (if their persona has one), ends it."""
    if concluded and "?" not in doctor_text and not patient_has_question:
        return Ending("concluded", turn)
    if turn >= max_turns:
        return Ending("turn_limit", turn)
    return None
