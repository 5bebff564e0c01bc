"""The grounding check (hallucination suppression): before a sentence of a reply reaches the patient, decide
whether it is a medical claim and, if so, whether the evidence (passages retrieved for the turn and for the
claim itself) or the patient's record supports it. Deterministic and explainable, no model call:

- support: a window of one source (a sentence or table row with its neighbours, plus the source's title and
  headings) covers the claim's terms, weighted by how specific each term is in the corpus (IDF), so a drug
  name counts for more than "patients";
- numbers: every dose, threshold or duration in the claim must appear in that window, or fall inside a range
  it states (g/mg/mcg converted); a different number there makes the claim contradicted (a dose error);
- polarity: "avoid", "not recommended", "contraindicated", "never"... on one side only makes it contradicted.

What the harness does with the verdict (agent/policies/advice.py): a supported claim keeps its sentence and
gets a citation; a contradicted one is removed; an unsupported one is removed when it states a dose or other
number, else kept and the reply ends with a caveat and is flagged for the clinician. Precision and recall on
the labelled claims (eval/data/claims.jsonl) are in docs/evidence.md.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from agent.evidence.corpus import Passage, read_corpus
from agent.evidence.text import STOPWORDS, stem, words

log = logging.getLogger(__name__)

SUPPORT = 0.62  # IDF-weighted share of the claim's terms a source window must cover
TIE = 0.05  # windows this close to the best one count as equally good
# Words that carry no claim: hedges, filler, the people addressed.
_FILLER = frozenset(stem(w) for w in str.split("""
patient patients person people adult adults someone anyone usually generally typically often may might can
could should would need needs needed important recommend recommended recommendation advised advise suggest
suggested consider considered use used using take taken taking give given giving also well including include
includes day days daily every per like one two first time times way ways help helps sure
"""))
_NEGATION = re.compile(
    r"\b(?:not|no|never|avoid\w*|contraindicat\w*|don't|do not|does not|doesn't|should not|shouldn't|cannot|can't"
    r"|without|discontinu\w*|withh[oe]ld\w*|stop\w*|against|unsafe|harmful|inappropriate|insufficient|lack of"
    r"|no longer|nor|none|refrain|withdraw\w*|hold|held)\b", re.I)
_NUMBER = re.compile(
    r"(?<![\w.])(\d+(?:[.,]\d+)?)(?:\s*(?:-|–|to)\s*(\d+(?:[.,]\d+)?))?\s*(mg|mcg|µg|g|ml|mmol|meq|units?|iu|%|"
    r"hours?|h|hrs?|days?|weeks?|months?|years?|minutes?|min|mmhg|l)?(?![\w])", re.I)
_UNIT_SCALE = {"g": ("mg", 1000.0), "mcg": ("mg", 0.001), "µg": ("mg", 0.001), "mg": ("mg", 1.0),
               "h": ("hour", 1.0), "hr": ("hour", 1.0), "hrs": ("hour", 1.0), "hour": ("hour", 1.0),
               "hours": ("hour", 1.0), "day": ("hour", 24.0), "days": ("hour", 24.0), "week": ("hour", 168.0),
               "weeks": ("hour", 168.0), "min": ("minute", 1.0), "minute": ("minute", 1.0),
               "minutes": ("minute", 1.0)}
_THOUSANDS = re.compile(r"(\d),(\d{3})(?!\d)")  # 100,000 is a hundred thousand, not 100.0
_QUESTION = re.compile(r"[?？]\s*$")
_CITATION = re.compile(r"\s*\[(?:ev-[0-9a-f]{10}|\d{1,2})\]")


@dataclass
class Verdict:
    sentence: str
    status: str  # not_a_claim | supported | contradicted | unsupported
    reason: str = ""
    passage: Passage | None = None  # the source that supports or contradicts it
    coverage: float = 0.0
    numbers: bool = False  # the claim states a number (dose, threshold, duration)
    source: str = ""  # "evidence" | "record"

    @property
    def flagged(self) -> bool:
        return self.status in ("contradicted", "unsupported")


@dataclass
class Quantity:
    low: float
    high: float
    unit: str  # canonical unit, "" when none


@dataclass
class _Window:
    terms: set[str]
    numbers: list[Quantity]
    negated: bool
    passage: Passage | None
    source: str
    passage_numbers: list[Quantity] = field(default_factory=list)


@dataclass
class Grounder:
    """Checks sentences against `passages` (retrieved for the turn), the patient's record summary and, through
    `search`, passages retrieved for each claim."""

    passages: list[Passage] = field(default_factory=list)
    record: str = ""
    search: Callable[[str], list[Passage]] | None = None

    def check(self, sentence: str) -> Verdict:
        text = _CITATION.sub("", sentence).strip()
        if not is_claim(text):
            return Verdict(sentence, "not_a_claim")
        claim_terms = content_terms(text)
        numbers = quantities(text)
        candidates = list(self.passages)
        if self.search is not None:
            seen = {p.id for p in candidates}
            candidates += [p for p in self.search(text) if p.id not in seen]
        windows = [w for p in candidates for w in passage_windows(p)]
        if self.record:
            windows += record_windows(self.record)
        if not windows:
            return Verdict(sentence, "unsupported", "no evidence could be retrieved", numbers=bool(numbers))
        weights = {t: idf(t) for t in claim_terms}
        total = sum(weights.values()) or 1.0
        scored = sorted(((sum(weights[t] for t in claim_terms & w.terms) / total, i) for i, w in enumerate(windows)),
                        reverse=True)
        coverage, best = scored[0]
        window = windows[best]
        if coverage < SUPPORT:
            return Verdict(sentence, "unsupported", f"no source covers it (best {coverage:.2f})",
                           window.passage, coverage, bool(numbers), window.source)
        # Among the windows that cover the claim best, one that agrees on numbers (anywhere in its passage: a
        # dose may sit in the next row) and on polarity is support.
        covering = [windows[i] for c, i in scored if c >= max(SUPPORT, coverage - TIE)]
        for w in covering:
            if numbers_agree(numbers, w.passage_numbers) and _negated(text) == w.negated:
                return Verdict(sentence, "supported", "", w.passage, coverage, bool(numbers), w.source)
        if not numbers_agree(numbers, window.numbers) and window.numbers:
            return Verdict(sentence, "contradicted", "a number differs from the source", window.passage, coverage,
                           True, window.source)
        if _negated(text) != window.negated:
            return Verdict(sentence, "contradicted", "the source says the opposite", window.passage, coverage,
                           bool(numbers), window.source)
        return Verdict(sentence, "unsupported", "a number is not in the source", window.passage, coverage,
                       bool(numbers), window.source)


def is_claim(sentence: str) -> bool:
    """A declarative sentence that says something medical: a term of the medical lexicon (drugs, diseases,
    symptoms, tests, procedures). A number alone does not make one ("I'll check in with you in 2 days").
    Questions, and urging someone to be seen, are never claims: asking and safety-netting need no source."""
    if not sentence or _QUESTION.search(sentence) or _SAFETY_NET.search(sentence):
        return False
    terms = content_terms(sentence)
    if not terms:
        return False
    return bool(terms & lexicon())


_SAFETY_NET = re.compile(
    r"\b(?:see|contact|call|ring|visit|seek|get|be|go)\b.{0,30}\b(?:doctor|gp|clinician|nurse|pharmacist|hospital"
    r"|emergency|ambulance|urgent care|a&e|999|911|112|15|checked|seen|assessed|examined|reviewed)\b", re.I)


@lru_cache(maxsize=1)
def lexicon() -> frozenset[str]:
    """Stemmed medical words from open-medicine's terminology (names and aliases of drugs, drug classes,
    diseases, symptoms, labs, procedures), its guideline topics and differential diagnoses; common words
    (in over 5% of passages, e.g. "patient", "risk") are left out."""
    import json
    from importlib import resources

    root = resources.files("open_medicine")
    phrases: list[str] = []
    for name in ("drugs", "drug_classes", "diseases", "symptoms", "labs", "procedures"):
        for key, entry in json.loads((root / "graphrag" / "terminology" / f"{name}.json").read_text()).items():
            phrases.append(key)
            phrases.extend(entry.get("aliases", []) if isinstance(entry, dict) else [])
    for entry in json.loads((root / "guidelines" / "registry.json").read_text()):
        phrases.extend(entry.get("topics", []))
    for file in (root / "mcp" / "differentials" / "data").iterdir():
        if file.name.endswith(".json"):
            data = json.loads(file.read_text())
            phrases.extend(data.get("keywords", []))
            phrases.extend(d["name"] for d in data.get("diagnoses", []))
    for drug in json.loads((root / "mcp" / "calculators" / "data" / "renal_dose_adjustments.json").read_text()):
        phrases.append(drug.replace("_", " "))
    terms = {t for phrase in phrases for t in content_terms(phrase)}
    return frozenset(t for t in terms if idf(t) >= COMMON_IDF and not t.isdigit())


COMMON_IDF = 3.0  # idf of a term in about 5% of passages


def content_terms(text: str) -> set[str]:
    return {stem(w) for w in words(text) if w not in STOPWORDS and not w.isdigit() and stem(w) not in _FILLER}


def quantities(text: str) -> list[Quantity]:
    out = []
    for match in _NUMBER.finditer(_THOUSANDS.sub(r"\1\2", text)):
        low = float(match.group(1).replace(",", "."))
        high = float(match.group(2).replace(",", ".")) if match.group(2) else low
        unit = (match.group(3) or "").lower()
        canonical, scale = _UNIT_SCALE.get(unit, (unit.rstrip("s") if unit not in ("%",) else unit, 1.0))
        out.append(Quantity(low * scale, high * scale, canonical))
    return out


def numbers_agree(claim: list[Quantity], source: list[Quantity]) -> bool:
    """Every number of the claim is one the source states, or inside a range it states (same unit, or either
    side without one)."""
    for q in claim:
        if not any((q.unit == s.unit or not q.unit or not s.unit)
                   and s.low - 1e-9 <= q.low and q.high <= s.high + 1e-9 for s in source):
            return False
    return True


def _negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


def _units(text: str) -> list[str]:
    return [u.strip() for u in re.split(r"\n+|(?<=[.;!?])\s+", text) if u.strip()]


def passage_windows(passage: Passage) -> list[_Window]:
    context = content_terms(f"{passage.title} {passage.section_path}")
    units = _units(passage.text)
    everywhere = quantities(passage.text)
    out = []
    for i, unit in enumerate(units):
        for span in ([unit], units[i:i + 2]) if i + 1 < len(units) else ([unit],):
            text = " ".join(span)
            out.append(_Window(content_terms(text) | context, quantities(text), _negated(text), passage, "evidence",
                               everywhere))
    return out


def record_windows(record: str) -> list[_Window]:
    return [_Window(content_terms(line), quantities(line), _negated(line), None, "record", quantities(line))
            for line in _units(record)]


def warm_up() -> None:
    """Build the lexicon (and the corpus's document frequencies under it) now: a process's first claim check read the
    whole corpus for it, about 0.3 s that the first patient each pool process answered waited for."""
    try:
        lexicon()
    except Exception:
        log.warning("could not warm up the grounding check", exc_info=True)


@lru_cache(maxsize=1)
def _document_frequencies() -> tuple[Counter, int]:
    df: Counter = Counter()
    n = 0
    for passage in read_corpus():
        df.update(content_terms(passage.indexed_text))
        n += 1
    return df, n


def idf(term: str) -> float:
    df, n = _document_frequencies()
    return math.log((n + 1) / (df.get(term, 0) + 1)) + 1.0

