"""Whether the doctor's diagnosis is the case's: a normalised string match is the floor, a grader model
judges the rest (synonyms, eponyms, a more specific name of the same disease)."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

from agent.model.client import ModelClient, ModelUnavailable

# Words that do not change which condition is named ("acute" and "chronic" do, so they stay).
FILLER = frozenset(("the", "a", "an", "of", "with", "due", "to", "and", "or", "in", "on", "from", "likely", "probable",
                    "possible", "suspected", "disease", "disorder", "syndrome", "condition"))
GRADER_PROMPT = """You are an examiner grading a medical consultation. Do the two diagnoses name the same \
condition? Different wording, synonyms, abbreviations and a more specific form of the same condition count as \
the same; a different condition, or a symptom instead of a diagnosis, does not. Answer with JSON: \
{"same": true or false, "reason": "at most ten words"}"""
SCHEMA = {"type": "object", "properties": {"same": {"type": "boolean"}, "reason": {"type": "string"}},
          "required": ["same", "reason"], "additionalProperties": False}


def normalise(text: str) -> list[str]:
    """Lower case, accents and punctuation off, parentheses dropped, filler words out, plurals folded."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"\([^)]*\)", " ", text)
    return [_singular(t) for t in re.findall(r"[a-z0-9]+", text) if t not in FILLER]


def _singular(token: str) -> str:
    if token.endswith("oses"):  # keratoses -> keratosis
        return token[:-4] + "osis"
    if len(token) > 4 and token.endswith("s") and not token.endswith(("ss", "is", "us")):
        return token[:-1]
    return token


def string_match(predicted: str, correct: str) -> bool:
    """Equal after normalising, or the correct name is contained in the predicted one."""
    said, right = normalise(predicted), normalise(correct)
    if not said or not right:
        return False
    return said == right or set(right) <= set(said)


@dataclass(frozen=True)
class Verdict:
    correct: bool
    method: str  # none | string | grader
    reason: str = ""


def judge(predicted: str, correct: str, grader: ModelClient | None) -> Verdict:
    """Is `predicted` the `correct` diagnosis? An unreachable grader raises ModelUnavailable."""
    if not predicted.strip():
        return Verdict(False, "none", "no diagnosis was given")
    if string_match(predicted, correct):
        return Verdict(True, "string")
    if grader is None:
        return Verdict(False, "string", "no grader model; the names differ")
    completion = grader.complete(
        [{"role": "system", "content": GRADER_PROMPT},
         {"role": "user", "content": f"Correct diagnosis: {correct}\nDiagnosis given: {predicted}"}],
        response_format={"type": "json_object", "schema": SCHEMA}, max_tokens=200, temperature=0.0)
    try:
        answer = json.loads(completion.content)
        return Verdict(bool(answer["same"]) is True, "grader", str(answer.get("reason", ""))[:300])
    except (ValueError, KeyError, TypeError):
        return Verdict(False, "grader", f"unreadable grader answer: {completion.content[:100]!r}")


__all__ = ["ModelUnavailable", "Verdict", "judge", "normalise", "string_match"]
