"""Deterministic red-flag triage of one patient message.

Runs synchronously where the message is stored (webapp/actions/messages.py),
before any turn is queued, and never calls the model: a model can be wrong or
unreachable, and an emergency must wait for neither. Microseconds per message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.safety.concepts import find, strip
from agent.safety.normalize import clauses, fold
from agent.safety.rules import RULES, SEVERITY, Level

# A reply that only makes sense with the question it answers ("yes" to "any chest pain?",
# "yes both, sweating buckets"): it starts with an affirmative word.
_AFFIRMATIVE = re.compile(
    r"^(?:yes|yeah|yep|yup|y|correct|sure|definitely|absolutely|oui|ouais|exact|si|claro|correcto)(?![\w'])"
    # Phrases that say yes only on their own: "it is." answers "is it crushing?", "it is worse today" does not.
    r"|^(?:i do|i have|it is|it does|that'?s right|c'?est ca|eso es)\s*(?:[.,!;]|$)"
    r"|^(?:是的|是|对的|对|有的|有|嗯)"
)


@dataclass(frozen=True)
class TriageResult:
    level: Level
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"level": str(self.level), "reasons": list(self.reasons)}


def triage_message(text: str, previous_question: str = "") -> TriageResult:
    """Triage a message. A bare "yes" is judged together with the question it answers."""
    parts = clauses(text)
    if previous_question and _AFFIRMATIVE.search(fold(text)):
        parts = clauses(previous_question) + parts
    fired: list[tuple] = []
    for rule in RULES:
        found = [find(concept, parts) for concept in rule.all_of]
        if all(found):
            fired.append((rule, found))
    if not fired:
        return TriageResult(Level.ROUTINE, [])
    top = max(SEVERITY[rule.level] for rule, _ in fired)
    minor_only = (any(rule.level == Level.SELF_CARE for rule, _ in fired)
                  and find("symptom", strip("minor", parts)) is None)
    if top == SEVERITY[Level.ROUTINE] and minor_only:
        top = SEVERITY[Level.SELF_CARE]  # every symptom mentioned is a minor one ("runny nose, sneezing")
    chosen = [(rule, found) for rule, found in fired if SEVERITY[rule.level] == top]
    return TriageResult(chosen[0][0].level, [f"{rule.condition} ({', '.join(found)})" for rule, found in chosen])
