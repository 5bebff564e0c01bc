"""The evidence agent: explains and advises once the history is sufficient, grounded in authoritative passages
(agent/evidence) and the patient's record. With the compact plan the harness retrieves for it (no model call)
and shows it the passages numbered, to cite as [1], [2]; with the full plan it also has the search_evidence
tool. Whatever it writes then passes the grounding check (agent/evidence/grounding.py)."""

from __future__ import annotations

import json
import time
from datetime import UTC

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from agent.agents.base import Agent
from agent.evidence.corpus import Passage
from agent.evidence.grounding import Grounder
from agent.evidence.index import EvidenceUnavailable
from agent.evidence.search import prefetch as search_prefetch
from agent.evidence.search import search_evidence
from agent.inquiry.picture import RED_FLAG_LEVELS, guess_ahead
from agent.models import InquiryState
from webapp.accounts.models import User
from webapp.chat.models import Author, Conversation, Message, Turn

AGENT = Agent(
    name="evidence",
    purpose="explains and advises once the history is sufficient, citing authoritative guidance",
    instructions="The history is sufficient: explain plainly what this could mean and what the patient can "
                 "safely do now, say when and how soon they should be seen, and what would make it urgent. "
                 "Base what you say on the guidance passages you are given and the patient's record, and cite "
                 "the passage you rely on as [1], [2]; say what you do not know. Do not prescribe or give a "
                 "diagnosis as certain.",
    tools=frozenset({"search_evidence"}),
)
PASSAGE_CHARS = 600  # of each passage shown to the model (about 150 tokens)


def query_for(complaint: str | None, text: str) -> str:
    """What the harness searches for: the complaint under discussion (its name), then the patient's newest words.
    The name is left out when the patient wrote it: said twice it only lengthens the query, whose embedding costs
    about 0.9 ms a token on one core."""
    name = (complaint or "").replace("_", " ")
    return " ".join(filter(None, [name if name.lower() not in text.lower() else "", text]))[:1000]


def prefetch(query: str) -> None:
    """Start the search's query embedding while the turn does other work (agent/evidence/embed.py)."""
    search_prefetch(query)


def prefetch_for_turn(turn_id: int) -> None:
    """Before a turn is claimed: if the evidence agent most likely speaks (agent/inquiry/picture.py ``guess_ahead``,
    or the patient has no record to take a history into), start embedding its query now. The query embedding is the
    longest single step of such a turn (about 18 ms on one core), and everything before the search (the claim,
    the context, the record read) runs beside it. A guess: the turn checks it, and embeds again if it was wrong."""
    with connection.cursor() as cursor:
        cursor.execute(_EARLY_QUERY_SQL, [turn_id])
        row = cursor.fetchone()
    if row is None:
        return
    text, red_flag, fhir_id, *state = row
    if not fhir_id or settings.MODEL_TOOL_CALLING == "off":  # no inquiry: every such turn advises
        prefetch(query_for("", text))
        return
    previous = None
    if state[0] is not None:
        phase, complaint, missing, asked, rounds, created_at = state
        previous = {"phase": phase, "complaint": complaint, "missing": _json_list(missing),
                    "asked": _json_list(asked), "rounds": rounds, "created_at": _aware(created_at)}
    ahead = guess_ahead(text, bool(red_flag), previous)
    if ahead.advises:
        prefetch(query_for(ahead.complaint_name, text))


def _json_list(value) -> list:
    """A JSON column read through a raw cursor: decoded by psycopg (jsonb), text on SQLite."""
    return json.loads(value) if isinstance(value, str | bytes) else list(value or [])


def _aware(value):
    """A datetime read through a raw cursor: aware on PostgreSQL, text or naive UTC on SQLite."""
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)


_EARLY_QUERY_SQL = f"""
SELECT m.text, EXISTS (
    SELECT 1 FROM {Message._meta.db_table} r
    WHERE r.conversation_id = t.conversation_id AND r.author = '{Author.PATIENT}'
      AND r.id > COALESCE(s.message_id, 0) AND r.id <= t.message_id
      AND r.triage_level IN ({", ".join(f"'{level}'" for level in RED_FLAG_LEVELS)})),
  u.fhir_id, s.phase, s.complaint, s.missing, s.asked, s.rounds, s.created_at
FROM {Turn._meta.db_table} t
JOIN {Message._meta.db_table} m ON m.id = t.message_id
JOIN {Conversation._meta.db_table} c ON c.id = t.conversation_id
JOIN {User._meta.db_table} u ON u.id = c.patient_id
LEFT JOIN {InquiryState._meta.db_table} s ON s.id = (
    SELECT p.id FROM {InquiryState._meta.db_table} p
    WHERE p.conversation_id = t.conversation_id AND p.turn_id < t.id ORDER BY p.turn_id DESC LIMIT 1)
WHERE t.id = %s AND t.status IN ('pending', 'running')
"""


def retrieve(query: str, k: int | None = None) -> tuple[list[Passage], dict]:
    """Passages for the turn, and the trajectory step that records the search (or why there was none)."""
    started = time.monotonic()
    k = k or settings.EVIDENCE_PASSAGES_PER_TURN
    try:
        result = search_evidence(query, k=k)
    except EvidenceUnavailable as exc:
        return [], {"tool": "search_evidence", "ok": False, "code": "evidence_unavailable", "result": str(exc)[:300],
                    "seconds": round(time.monotonic() - started, 4)}
    passages = [h.passage for h in result.hits]
    return passages, {"tool": "search_evidence", "ok": True, "code": "ok", "backend": result.backend,
                      "degraded": result.degraded, "result": [p.id for p in passages],
                      "seconds": round(time.monotonic() - started, 4),
                      "embedding_seconds": round(result.embedding_seconds, 4)}


def passages_note(passages: list[Passage], unavailable: bool) -> str:
    """The system note that puts the passages before the model."""
    if unavailable:
        return ("Evidence search is unavailable right now: do not cite any source. Say plainly that you could not "
                "check the guidance, keep to general safety advice, and suggest confirming with their clinician.")
    if not passages:
        return "No guidance passage matched this question: do not cite any source, and say what you are unsure of."
    lines = ["Guidance passages (cite the one you rely on as [1], [2]...; do not cite anything else):"]
    lines += [f"[{n}] {p.describe(PASSAGE_CHARS)}" for n, p in enumerate(passages, start=1)]
    return "\n".join(lines)


def grounder(passages: list[Passage], record: str) -> Grounder | None:
    """The grounding check for a reply, or None when GROUNDING=off (for measuring replies without it). It reads
    `passages` as they grow: what search_evidence finds during the turn counts too."""
    if settings.GROUNDING == "off":
        return None

    def per_claim(text: str) -> list[Passage]:
        try:
            return [h.passage for h in search_evidence(text, k=3).hits]
        except EvidenceUnavailable:
            return []

    return Grounder(passages=passages, record=record, search=per_claim)
