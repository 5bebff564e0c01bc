"""One simulated consultation: the live harness plays the doctor against the simulated patient.

Each patient message goes through exactly what a chat message goes through (webapp/actions/messages.py: stored,
triaged by the deterministic red-flag layer, a turn queued) and each doctor reply is a real agent turn
(agent/turn.py: record, inquiry, policies, tools, grounding, trajectory), run inline rather than by a worker.
The only differences from live care: the patient is a simulated one (its conversation is marked so nothing
queues or reconciles its turns), the doctor may request examinations, and its brief asks it to conclude.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from agent.model.client import ModelClient, ModelUnavailable
from agent.simulation.cases import Case
from agent.simulation.measurement import Measurement
from agent.simulation.patient import SimulatedPatient
from agent.simulation.termination import diagnosis_in, ending

BRIEF = """This is a simulated consultation used to evaluate you; the patient is simulated. Take a focused \
history first, one or two questions a reply. Request physical examination findings and test results with the \
request_examination tool when they would help. Only when you have enough to go on, and at the latest in your \
last reply, write one line: "Most likely diagnosis: <name>". You have {left} of {limit} replies left{urge}."""
URGE = "; this is your last reply, so state your most likely diagnosis now"


class SimulationStopped(Exception):
    """The doctor's model could not be reached: the run stops, keeping finished cases."""


@dataclass
class Consultation:
    case: Case
    diagnosis: str = ""
    turns: int = 0
    ending: str = ""
    red_flags: list[dict] = field(default_factory=list)  # {"level", "reasons", "turn"}
    transcript: list[dict] = field(default_factory=list)  # {"role": patient|doctor, "text"}
    conversation_id: int | None = None
    seconds: float = 0.0
    turn_seconds: float = 0.0  # in the doctor's turns: its model calls and the harness around them


def brief(turn: int, limit: int, findings: list[str]) -> str:
    left = limit - turn + 1
    text = BRIEF.format(left=left, limit=limit, urge=URGE if left <= 1 else "")
    if findings:
        text += "\nExamination findings and results you have so far:\n" + "\n".join(f"- {f}" for f in findings)
    return text


def simulated_patient_user(prefix: str, **profile):
    """A fresh patient account and record for one simulation, its conversation marked as simulated."""
    from webapp.actions.accounts import do_create_patient
    from webapp.chat.models import Conversation

    profile = {"language": "en", "country": "GB"} | profile
    user = do_create_patient(f"{prefix}-{secrets.token_hex(4)}", None, **profile)
    Conversation.objects.filter(patient=user).update(simulated=True)
    user.conversation.refresh_from_db()
    return user


@dataclass
class Exchange:
    """One patient message and what answered it."""

    reply: str
    triage_level: str  # the deterministic red-flag layer's verdict on the message
    triage_reasons: list[str]
    seconds: float  # in the doctor's turn (model calls and the harness around them)


def exchange(user, text: str, doctor: ModelClient, *, examine=None, brief: str = "") -> Exchange:
    """Send one patient message down the live path and run the turn that answers it, inline.

    SimulationStopped when the doctor's model cannot be reached (the turn is left pending, as in live care)."""
    from agent.turn import run_turn
    from webapp.actions.messages import do_send_patient_message
    from webapp.chat.models import Author, Message, Turn, TurnStatus

    conversation = user.conversation
    sent = do_send_patient_message(user, conversation, text)
    message = Message.objects.get(id=sent.message.id)
    turn = Turn.objects.filter(conversation=conversation, status=TurnStatus.PENDING).order_by("-id").first()
    if turn is None:  # an emergency: the fixed reply is the answer, no model turn
        notice = Message.objects.filter(conversation=conversation, author=Author.SYSTEM).order_by("-id").first()
        return Exchange(notice.text if notice else "", message.triage_level, message.triage_reasons, 0.0)
    started = time.monotonic()
    reply = run_turn(turn.id, doctor, examine=examine, brief=brief)
    seconds = time.monotonic() - started
    if reply is None:
        turn.refresh_from_db()
        raise SimulationStopped(turn.last_error or "the doctor's turn produced no reply")
    return Exchange(reply.text, message.triage_level, message.triage_reasons, seconds)


def run_consultation(case: Case, patient: SimulatedPatient, doctor: ModelClient, max_turns: int) -> Consultation:
    """Run the case to its end. SimulationStopped when a model is unreachable."""
    started = time.monotonic()
    result = Consultation(case)
    user = simulated_patient_user(f"sim-{case.index}")
    result.conversation_id = user.conversation.id
    measurement = Measurement(case)
    text = patient.opening()
    for turn_no in range(1, max_turns + 1):
        result.transcript.append({"role": "patient", "text": text})
        answered = exchange(user, text, doctor, examine=measurement.examine,
                            brief=brief(turn_no, max_turns, measurement.findings_so_far()))
        result.turn_seconds += answered.seconds
        if answered.triage_level in ("emergency", "urgent"):
            result.red_flags.append({"level": answered.triage_level, "reasons": answered.triage_reasons,
                                     "turn": turn_no})
        result.turns = turn_no
        result.transcript.append({"role": "doctor", "text": answered.reply})
        said = diagnosis_in(answered.reply)
        if said:
            result.diagnosis = said
        pending_question = bool(patient.persona.asks) and not patient.asked_own
        end = ending(turn_no, max_turns, answered.reply, bool(result.diagnosis), pending_question)
        if end:
            result.ending = end.reason
            break
        try:
            text = patient.answer(answered.reply).text
        except ModelUnavailable as exc:
            raise SimulationStopped(f"the patient simulator's model is unreachable: {exc}") from exc
    result.seconds = time.monotonic() - started
    return result


def grounding_counts(records: list[dict]) -> dict[str, int]:
    """What the grounding check (agent/evidence/grounding.py) found in the doctor's claim sentences: how many it
    checked, how many it could not support or found contradicted, and what it did with them (removed, or kept
    with a caveat: the unsupported claims the patient still read)."""
    verdicts = [s for r in records for s in r["steps"] if s.get("kind") == "grounding"]
    return {"claims": len(verdicts),
            "unsupported": sum(1 for v in verdicts if v.get("status") in ("unsupported", "contradicted")),
            "removed": sum(1 for v in verdicts if v.get("action") == "remove"),
            "delivered_unsupported": sum(1 for v in verdicts if v.get("action") == "soften")}


def examinations_requested(records: list[dict]) -> list[dict]:
    """The examinations and tests the doctor asked for, from its turns' tool calls."""
    return [{"arguments": s.get("arguments"), "ok": s.get("ok")} for r in records for s in r["steps"]
            if s.get("kind") == "tool_call" and s.get("tool") == "request_examination"]


def trajectory_records(conversation_id: int) -> list[dict]:
    """The consultation's turns in the live trajectory format (export_trajectories)."""
    from agent.management.commands.export_trajectories import as_record
    from agent.models import Trajectory

    rows = (Trajectory.objects.filter(turn__conversation_id=conversation_id).select_related("turn__conversation")
            .order_by("turn_id", "attempt"))
    return [as_record(t) for t in rows]
