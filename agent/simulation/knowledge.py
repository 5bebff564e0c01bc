"""A static medical-knowledge quiz: multiple-choice questions put to any OpenAI-compatible model server.

The items are the JSONL sets in data/mcq/ (see its README.md for where they come from): one chat completion per
question at temperature 0, constrained by a JSON schema to one of the item's option letters; a server that ignores
the schema is read by the first standalone option letter of its plain text. An answer that names no option counts
as wrong. Accuracy comes with a 95% Wilson score interval.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from agent.model.client import ModelClient, ModelUnavailable

MCQ_DIR = Path(__file__).resolve().parent / "data" / "mcq"
SETS = ("medmcqa", "dosing")
Z95 = 1.959963984540054  # the standard normal's 97.5th percentile

SYSTEM = ("You answer medical multiple-choice questions. Choose the single best option and reply with its letter "
          'only, as JSON: {"answer": "<letter>"}.')


class QuizStopped(Exception):
    """The model became unreachable mid-quiz; `results` holds the items finished before it did."""

    def __init__(self, message: str, results: list[dict]) -> None:
        super().__init__(message)
        self.results = results


def load_items(name: str) -> list[dict]:
    """The items of one set (medmcqa, dosing) or of all of them, in file order."""
    names = SETS if name == "all" else (name,)
    if any(n not in SETS for n in names):
        raise ValueError(f"unknown question set {name!r}: one of {', '.join(SETS)} or all")
    items = []
    for n in names:
        with (MCQ_DIR / f"{n}.jsonl").open(encoding="utf-8") as lines:
            items.extend(json.loads(line) for line in lines if line.strip())
    return items


def prompt(item: dict) -> list[dict]:
    options = "\n".join(f"{letter}) {text}" for letter, text in item["options"].items())
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"{item['question']}\n\n{options}\n\nAnswer with the letter of one option."}]


def answer_schema(letters: Iterable[str]) -> dict:
    return {"type": "object", "properties": {"answer": {"type": "string", "enum": list(letters)}},
            "required": ["answer"], "additionalProperties": False}


def parse_answer(text: str, letters: Iterable[str]) -> str | None:
    """The option letter the reply names: {"answer": "C"} as asked, else the first standalone option letter
    ("C", "C) Atrophy", "The answer is C.", "c) Atrophy"); None when it names none."""
    letters = [letter.upper() for letter in letters]
    text = (text or "").strip()
    try:
        decoded = json.loads(text)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict) and isinstance(decoded.get("answer"), str):
        text = decoded["answer"].strip()
    if not letters:
        return None
    match = re.search(rf"(?<![A-Za-z])([{''.join(letters)}])(?![A-Za-z])", text)
    if match:
        return match.group(1)
    match = re.search(rf"(?<![A-Za-z])([{''.join(letters).lower()}])\)", text)  # "c) Atrophy", the sets' own style
    return match.group(1).upper() if match else None


def ask(item: dict, client: ModelClient, max_tokens: int = 32) -> tuple[str | None, str]:
    """One question to the model: (the letter it chose or None, its raw reply). Raises ModelUnavailable."""
    letters = list(item["options"])
    completion = client.complete(prompt(item), max_tokens=max_tokens, temperature=0.0,
                                 response_format={"type": "json_object", "schema": answer_schema(letters)})
    return parse_answer(completion.content, letters), completion.content


def run_quiz(items: list[dict], client: ModelClient, *, limit: int | None = None, done: Iterable[str] = frozenset(),
             on_result: Callable[[dict], None] | None = None, max_tokens: int = 32) -> list[dict]:
    """Ask the first `limit` items (all when None), skipping the ids in `done`; `on_result` gets each result as it
    is scored: {id, answer, predicted, correct, seconds}, plus the raw reply when it named no option. Returns the
    new results; raises QuizStopped (with the results so far) when the model cannot be reached."""
    done = set(done)
    results: list[dict] = []
    for item in items[:limit] if limit is not None else items:
        if item["id"] in done:
            continue
        started = time.monotonic()
        try:
            predicted, raw = ask(item, client, max_tokens)
        except ModelUnavailable as error:
            raise QuizStopped(f"stopped at {item['id']} after {len(results)} new answers: {error}", results) from error
        result = {"id": item["id"], "answer": item["answer"], "predicted": predicted,
                  "correct": predicted == item["answer"], "seconds": round(time.monotonic() - started, 3)}
        if predicted is None:
            result["raw"] = raw[:500]
        results.append(result)
        if on_result:
            on_result(result)
    return results


def wilson(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a proportion correct/n; (0, 1) when n is 0."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def summarise(results: list[dict], model: str) -> dict:
    n = len(results)
    correct = sum(1 for r in results if r["correct"])
    timed = [r["seconds"] for r in results if isinstance(r.get("seconds"), int | float)]
    return {"items": n, "correct": correct, "accuracy": correct / n if n else None,
            "ci95": list(wilson(correct, n)), "model": model,
            "seconds_per_item": round(sum(timed) / len(timed), 3) if timed else None}
