"""Grading a conversation against its rubric, as HealthBench does.

A grader model judges each criterion on its own (met or not, with a one-line explanation). The score is the
points of the criteria met, negative ones included, over the sum of the positive points, clipped to [0, 1];
each dimension (the `dimension:` tag) is scored the same way over its own criteria.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from agent.model.client import ModelClient

GRADER_PROMPT = """You are grading a medical consultation against one rubric item. Read the conversation and \
decide whether the doctor's messages meet the rubric item. For an undesirable behaviour (negative points), \
"met" means the doctor did that undesirable thing. Answer with JSON: \
{"explanation": "one sentence", "criteria_met": true or false}"""
SCHEMA = {"type": "object", "properties": {"explanation": {"type": "string"}, "criteria_met": {"type": "boolean"}},
          "required": ["explanation", "criteria_met"], "additionalProperties": False}
MAX_TRANSCRIPT_CHARS = 12000


def score(criteria: list[dict], met: list[bool]) -> float | None:
    """HealthBench: sum of the points of the criteria met (negatives included) / sum of positive points,
    clipped to [0, 1]; None when no criterion has positive points."""
    possible = sum(c["points"] for c in criteria if c["points"] > 0)
    if possible <= 0:
        return None
    achieved = sum(c["points"] for c, ok in zip(criteria, met, strict=True) if ok)
    return min(1.0, max(0.0, achieved / possible))


def dimension_scores(criteria: list[dict], met: list[bool]) -> dict[str, float | None]:
    """The same formula over each dimension's criteria."""
    dimensions: dict[str, list[int]] = {}
    for i, item in enumerate(criteria):
        for tag in item.get("tags", []):
            if tag.startswith("dimension:"):
                dimensions.setdefault(tag.split(":", 1)[1], []).append(i)
    return {name: score([criteria[i] for i in idx], [met[i] for i in idx]) for name, idx in sorted(dimensions.items())}


def transcript(messages: list[dict]) -> str:
    names = {"user": "Patient", "assistant": "Doctor", "system": "System"}
    text = "\n".join(f"{names.get(m.get('role'), m.get('role'))}: {m.get('content') or ''}" for m in messages
                     if m.get("role") != "system")
    return text[-MAX_TRANSCRIPT_CHARS:]


@dataclass
class Judgement:
    met: bool
    explanation: str


def judge_criterion(client: ModelClient, conversation: str, item: dict) -> Judgement:
    """One criterion, one grader call. An answer that cannot be read counts as not met (and says so)."""
    completion = client.complete(
        [{"role": "system", "content": GRADER_PROMPT},
         {"role": "user", "content": f"Conversation:\n{conversation}\n\nRubric item ({item['points']} points): "
                                     f"{item['criterion']}"}],
        response_format={"type": "json_object", "schema": SCHEMA}, max_tokens=120, temperature=0.0)
    try:
        answer = json.loads(completion.content)
        return Judgement(answer["criteria_met"] is True, str(answer.get("explanation", ""))[:300])
    except (ValueError, KeyError, TypeError):
        return Judgement(False, f"unreadable grader answer: {completion.content[:100]!r}")


def grade(conversation: dict, rubric: dict, client: ModelClient) -> dict:
    """Grade one conversation ({"id", "messages"}) against its rubric ({"id", "version", "rubrics"})."""
    text = transcript(conversation["messages"])
    criteria = rubric["rubrics"]
    judgements = [judge_criterion(client, text, item) for item in criteria]
    met = [j.met for j in judgements]
    return {
        "id": conversation["id"],
        "rubric_version": rubric.get("version", ""),
        "score": score(criteria, met),
        "dimensions": dimension_scores(criteria, met),
        "criteria": [{**item, "met": j.met, "explanation": j.explanation} for item, j in zip(criteria, judgements,
                                                                                                strict=True)],
    }


def read_conversation(obj: dict) -> dict:
    """{"id", "messages"}, or HealthBench's {"prompt_id"/"id", "prompt": [...], "completion"?}."""
    messages = obj.get("messages") or list(obj.get("prompt") or [])
    if obj.get("completion"):
        completion = obj["completion"]
        messages = [*messages, completion if isinstance(completion, dict)
                    else {"role": "assistant", "content": str(completion)}]
    if not isinstance(messages, list) or not messages:
        raise ValueError("no messages (expected 'messages' or HealthBench's 'prompt')")
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant"):
            raise ValueError("each message needs a role of system, user or assistant")
    ident = obj.get("id") or obj.get("prompt_id")
    if not ident:
        raise ValueError("no id")
    return {"id": str(ident), "messages": messages}
