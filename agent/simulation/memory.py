"""Continuous-care memory: is a fact the patient gave weeks ago recalled, and used, when it matters?

A scenario (data/memory_scenarios.jsonl) is a few visits by one simulated patient: the first states a fact (an
allergy, a medicine, a prior result...), unrelated visits follow, and the last one, the probe, asks something
where the fact matters. Every patient message goes down the live path (consultation.exchange: stored, triaged,
a real agent turn with its memory agent recording and recalling), so the only way the fact can reach the probe
is the way it would in live care.

"Weeks apart": after each visit its rows are moved back in time by the visit's `days_ago` (messages, turns,
the inquiry state, trajectories; see `backdate`). The inquiry agent (agent/inquiry/picture.py) reads messages
and its previous state only within EPISODE_HOURS, so without this every visit would be one episode and the early
message would reach the probe through the picture rather than through the record. The FHIR resources the memory
agent writes keep the time they were written (the record is not rewritten).

"Out of the window": the visits in between are long (the shipped scenarios have over 6000 characters of patient
text between the fact and the probe), so by the probe the first visit lies beyond settings.MODEL_CONTEXT_CHARS of
conversation (agent/context.py build_messages) whatever the replies; each result says whether it really did
(`fact_in_window`, read from what the model saw at the probe, Trajectory.messages).

Scoring of the probe's replies (all the replies of the last visit, joined): recalled = any `recall_any` phrase;
misused = any `misuse_any` phrase that is not negated ("do not take ibuprofen"); recorded = any `record_any`
phrase (default: `recall_any`) in the patient's record as the agent reads it (agent/memory/recall.py) after the
run. Where the fact was at the probe: `in_record_note` (the record note the model saw, the FHIR record) and
`in_probe_context` (any system note, which includes the inquiry agent's patient-level slots: allergies,
medications, history and risk factors are carried from one episode's picture to the next).

Phrases match case- and accent-insensitively, hyphens and markdown emphasis ignored, starting at a word start,
so a stem is a prefix ("allerg" matches "allergic"; "ergic" matches nothing). The visits in between are about
other things, and the probe must not say a recall phrase itself (a reply could echo it): read_scenarios checks.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from agent.model.client import ModelClient
from agent.safety.concepts import NEGATION_WORDS, negated
from agent.safety.normalize import fold
from agent.simulation.consultation import exchange, simulated_patient_user
from agent.simulation.knowledge import wilson
from agent.simulation.report import ResumableReport

SCENARIOS = Path(__file__).resolve().parent / "data" / "memory_scenarios.jsonl"
KINDS = ("allergy", "medication", "condition", "result", "other")
RECORD_NOTE = "What the patient's record holds"  # agent/turn.py with_notes: the record as the model sees it
RECORD_BUDGET_CHARS = 20000  # reading the record back for scoring: all of it, not the model's budget
# Advice against something, beyond the negations agent/safety/concepts.py knows ("avoid ibuprofen").
_AGAINST = re.compile(r"\b(?:avoid\w*|instead of|rather than|unsafe|not safe|shouldn't|should not|can't|cannot|"
                      r"must not|mustn't|won't|wouldn't|stop\w*|steer clear|contraindicated|caution against|"
                      r"not recommended|do not|don't)\b")
_SENTENCE_BREAK = re.compile(r"[.;!?\n:]|\b(?:but|however|although|though|except)\b")


@dataclass(frozen=True)
class Visit:
    days_ago: int
    messages: tuple[str, ...]


@dataclass(frozen=True)
class Scenario:
    id: str
    fact: str
    kind: str
    visits: tuple[Visit, ...]
    recall_any: tuple[str, ...]
    misuse_any: tuple[str, ...]
    record_any: tuple[str, ...]
    note: str = ""

    @property
    def probe(self) -> Visit:
        return self.visits[-1]


@dataclass(frozen=True)
class LineError:
    line: int
    error: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.error}"


def normalise(text: str) -> str:
    """Folded (case, accents, apostrophes, spaces), markdown emphasis dropped, hyphens as spaces."""
    return " ".join(fold(re.sub(r"[*_`#]+", "", text or "").replace("-", " ")).split())


def _phrases(data: dict, key: str, required: bool) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(p, str) and normalise(p) for p in value):
        raise ValueError(f"{key} must be a list of non-empty strings")
    if required and not value:
        raise ValueError(f"{key} must name at least one phrase")
    return tuple(value)


def parse_scenario(data) -> Scenario:
    """A Scenario from one decoded line; ValueError saying what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("a scenario is a JSON object")
    for key in ("id", "fact"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ValueError(f"{key} must be a non-empty string")
    if data.get("kind") not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {data.get('kind')!r}")
    visits = data.get("visits")
    if not isinstance(visits, list) or len(visits) < 2:
        raise ValueError("visits must be a list of at least two visits (the fact, then the probe)")
    parsed: list[Visit] = []
    for number, visit in enumerate(visits, 1):
        if not isinstance(visit, dict):
            raise ValueError(f"visit {number} is not an object")
        days, messages = visit.get("days_ago"), visit.get("messages")
        if not isinstance(days, int) or isinstance(days, bool) or days < 0:
            raise ValueError(f"visit {number}: days_ago must be a whole number of days, 0 or more")
        if parsed and days >= parsed[-1].days_ago:
            raise ValueError(f"visit {number}: days_ago must decrease from visit to visit (the probe is last)")
        if not isinstance(messages, list) or not messages or not all(isinstance(m, str) and m.strip()
                                                                       for m in messages):
            raise ValueError(f"visit {number}: messages must be a non-empty list of patient texts")
        parsed.append(Visit(days, tuple(messages)))
    recall_any = _phrases(data, "recall_any", required=True)
    scenario = Scenario(id=data["id"].strip(), fact=data["fact"].strip(), kind=data["kind"], visits=tuple(parsed),
                        recall_any=recall_any, misuse_any=_phrases(data, "misuse_any", required=False),
                        record_any=_phrases(data, "record_any", required=False) or recall_any,
                        note=str(data.get("note") or ""))
    probe = normalise(" ".join(scenario.probe.messages))
    echoed = [p for p in scenario.recall_any if matches(p, probe)]
    if echoed:
        raise ValueError(f"the probe itself says {echoed[0]!r}: a reply could echo it without recalling anything")
    return scenario


def read_scenarios(path: str | Path) -> tuple[list[Scenario], list[LineError]]:
    """The usable scenarios of a JSONL file, and each malformed line with its number (skipped)."""
    scenarios: list[Scenario] = []
    errors: list[LineError] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                scenario = parse_scenario(json.loads(line))
                if scenario.id in seen:
                    raise ValueError(f"id {scenario.id!r} appears twice")
            except ValueError as exc:  # json.JSONDecodeError is a ValueError
                errors.append(LineError(number, str(exc)))
                continue
            seen.add(scenario.id)
            scenarios.append(scenario)
    return scenarios, errors


# ---- scoring ---------------------------------------------------------------------------------------------------

def _pattern(phrase: str) -> re.Pattern:
    return re.compile(r"(?<!\w)" + re.escape(normalise(phrase)))


def matches(phrase: str, normalised_text: str) -> bool:
    return _pattern(phrase).search(normalised_text) is not None


def found(phrases, text: str) -> list[str]:
    """The phrases the text holds."""
    normal = normalise(text)
    return [p for p in phrases if matches(p, normal)]


def advised_against(text: str, start: int, end: int) -> bool:
    """Whether the match at text[start:end] (normalised text) is negated or advised against in its clause."""
    clause_start = max((m.end() for m in _SENTENCE_BREAK.finditer(text, 0, start)), default=0)
    clause = text[clause_start:]
    at = start - clause_start
    if negated(clause, at, end - clause_start):
        return True
    window = " ".join(clause[:at].split()[-NEGATION_WORDS:])
    return bool(_AGAINST.search(window))


def misuses(phrases, text: str) -> list[str]:
    """The phrases the text holds other than negated ("do not take ibuprofen", "avoid ibuprofen")."""
    normal = normalise(text)
    out = []
    for phrase in phrases:
        if any(not advised_against(normal, m.start(), m.end()) for m in _pattern(phrase).finditer(normal)):
            out.append(phrase)
    return out


# ---- running a scenario ----------------------------------------------------------------------------------------

@dataclass
class VisitLog:
    days_ago: int
    exchanges: list[dict] = field(default_factory=list)  # {"patient", "doctor", "triage"}


def backdate(conversation_id: int, since_message_id: int, since_turn_id: int, days: int) -> None:
    """Move one visit's rows (those after the given ids) `days` back in time: its messages, turns, inquiry state
    and trajectories, so the live code that reads time (episodes, agent/inquiry/picture.py) sees weeks pass."""
    from django.db.models import F

    from agent.models import InquiryState, Trajectory
    from webapp.chat.models import Message, Turn

    if days <= 0:
        return
    shift = timedelta(days=days)
    Message.objects.filter(conversation_id=conversation_id, id__gt=since_message_id).update(
        created_at=F("created_at") - shift)
    turns = Turn.objects.filter(conversation_id=conversation_id, id__gt=since_turn_id)
    turns.update(**{name: F(name) - shift for name in ("created_at", "enqueued_at", "next_attempt_at",
                                                       "started_at", "heartbeat_at", "finished_at")})
    InquiryState.objects.filter(conversation_id=conversation_id, turn_id__gt=since_turn_id).update(
        created_at=F("created_at") - shift, episode_started_at=F("episode_started_at") - shift)
    Trajectory.objects.filter(turn__conversation_id=conversation_id, turn_id__gt=since_turn_id).update(
        started_at=F("started_at") - shift)


def _last_ids(conversation_id: int) -> tuple[int, int]:
    from webapp.chat.models import Message, Turn

    message = Message.objects.filter(conversation_id=conversation_id).order_by("-id").values_list("id", flat=True)
    turn = Turn.objects.filter(conversation_id=conversation_id).order_by("-id").values_list("id", flat=True)
    return message.first() or 0, turn.first() or 0


def record_text(user) -> str:
    """The patient's record as the agent reads it (agent/memory/recall.py, the agent's own requester)."""
    from agent.memory.recall import recall
    from fhir.access import agent_requester
    from fhir.store import Repository

    repo = Repository(agent_requester(user.fhir_id or ""), channel="agent")
    return recall(repo, user.fhir_id or "", budget_chars=RECORD_BUDGET_CHARS)


def probe_context(conversation_id: int, since_turn_id: int) -> tuple[str, list[str], list[str]]:
    """What the model saw at the probe's turns (Trajectory.messages, the first call of each): the record note,
    the other system messages, and the conversation messages."""
    from agent.models import Trajectory

    note, system, conversation = [], [], []
    for messages in (Trajectory.objects.filter(turn__conversation_id=conversation_id, turn_id__gt=since_turn_id)
                     .order_by("turn_id", "attempt").values_list("messages", flat=True)):
        for message in messages:
            content = str(message.get("content") or "")
            if message.get("role") != "system":
                conversation.append(content)
            elif content.startswith(RECORD_NOTE):
                note.append(content)
            else:
                system.append(content)
    return "\n".join(note), system, conversation


def run_scenario(scenario: Scenario, doctor: ModelClient) -> dict:
    """Play the scenario's visits down the live path and score the probe. SimulationStopped when the model
    cannot be reached (nothing is kept of the unfinished scenario)."""
    started = time.monotonic()
    slug = re.sub(r"[^a-z0-9]+", "-", scenario.id.lower()).strip("-")[:24] or "scenario"
    user = simulated_patient_user(f"mem-{slug}")
    conversation_id = user.conversation.id
    visits: list[VisitLog] = []
    doctor_seconds = 0.0
    probe_since = (0, 0)
    for number, visit in enumerate(scenario.visits):
        since = _last_ids(conversation_id)
        if number == len(scenario.visits) - 1:
            probe_since = since
        log = VisitLog(visit.days_ago)
        for text in visit.messages:
            answered = exchange(user, text, doctor)
            doctor_seconds += answered.seconds
            log.exchanges.append({"patient": text, "doctor": answered.reply, "triage": answered.triage_level,
                                  **({"triage_reasons": answered.triage_reasons} if answered.triage_reasons
                                     else {})})
        visits.append(log)
        backdate(conversation_id, *since, visit.days_ago)
        if number == 0 and visit.days_ago:
            from django.db.models import F

            from webapp.chat.models import Conversation

            Conversation.objects.filter(id=conversation_id).update(
                created_at=F("created_at") - timedelta(days=visit.days_ago))
    probe_reply = "\n".join(e["doctor"] for e in visits[-1].exchanges)
    record = record_text(user)
    note, system, seen = probe_context(conversation_id, probe_since[1])
    first_visit = [normalise(m) for m in scenario.visits[0].messages]
    seen_normal = [normalise(m) for m in seen]
    recalled = found(scenario.recall_any, probe_reply)
    misused = misuses(scenario.misuse_any, probe_reply)
    return {
        "id": scenario.id,
        "kind": scenario.kind,
        "fact": scenario.fact,
        "recalled": bool(recalled),
        "misused": bool(misused),
        "recorded": bool(found(scenario.record_any, record)),
        "in_record_note": bool(found(scenario.record_any, note)),  # the record as the model saw it at the probe
        "in_probe_context": bool(found(scenario.record_any, "\n".join([note, *system]))),
        "fact_in_window": any(m in s for m in first_visit for s in seen_normal),
        "recall_phrases": recalled,
        "misuse_phrases": misused,
        "probe_reply": probe_reply,
        "record": record,
        "visits": [{"days_ago": v.days_ago, "exchanges": v.exchanges} for v in visits],
        "conversation_id": conversation_id,
        "turns": sum(len(v.exchanges) for v in visits),
        "seconds": round(time.monotonic() - started, 2),
        "doctor_seconds": round(doctor_seconds, 2),
    }


# ---- the report ------------------------------------------------------------------------------------------------

def _rate(results: list[dict], key: str) -> dict:
    n = len(results)
    k = sum(1 for r in results if r[key])
    return {"count": k, "rate": round(k / n, 4) if n else None, "ci95": [round(x, 4) for x in wilson(k, n)]}


def summarise(results: list[dict]) -> dict:
    """Recall, misuse and recorded rates (95% Wilson intervals), overall and by kind of fact."""
    n = len(results)
    seconds = [r["seconds"] for r in results]
    by_kind = {}
    for kind in KINDS:
        some = [r for r in results if r["kind"] == kind]
        if some:
            by_kind[kind] = {"scenarios": len(some), "recall": _rate(some, "recalled"),
                             "misuse": _rate(some, "misused"), "recorded": _rate(some, "recorded")}
    return {
        "scenarios": n,
        "recall": _rate(results, "recalled"),
        "misuse": _rate(results, "misused"),
        "recorded": _rate(results, "recorded"),
        "in_record_note": _rate(results, "in_record_note"),
        "fact_in_window": _rate(results, "fact_in_window"),
        "by_kind": by_kind,
        "seconds_per_scenario": round(sum(seconds) / n, 1) if n else None,
        "turns": sum(r["turns"] for r in results),
    }


class MemoryReport(ResumableReport):
    """The JSON report: rewritten (atomically) after every scenario; scenarios already in it are skipped."""

    items_key, id_key, what = "scenarios", "id", "memory evaluation report"

    @property
    def results(self) -> list[dict]:
        return self.items

    def summary(self) -> dict:
        return summarise(self.items) | self.meta
