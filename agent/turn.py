"""One agent turn: load context -> call the model -> stream -> store the reply.

The harness issue grows this into: load context -> policies -> model <-> tools
-> checks -> reply. Nothing here depends on a browser being connected.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from agent.agents import evidence as evidence_agent
from agent.agents import inquiry as inquiry_agent
from agent.agents import memory as memory_agent
from agent.agents import safety as safety_agent
from agent.agents import summary as summary_agent
from agent.agents.orchestrator import Plan, plan_turn, tools_of
from agent.context import PROMPT_VERSION, build_messages, patient_profile
from agent.inquiry.picture import Picture, complete, open_episode, previous_state, save_state
from agent.memory.recall import recall
from agent.model.client import Completion, ModelClient, ModelUnavailable, default_client
from agent.model.reasoning import ReasoningSplitter
from agent.models import Trajectory
from agent.policies.advice import SentenceGate
from agent.toolcalls import Budget, decision_prompt, decision_schema, parse_decision, run_call
from agent.tools.base import PATIENT_AGENT, ToolContext
from agent.tools.recall_record import BUDGET_CHARS as RECALL_BUDGET_CHARS
from agent.tools.registry import tools_for
from fhir.access import agent_requester
from fhir.store import Repository
from webapp.actions.summaries import do_draft_summary
from webapp.actions.turns import (
    do_claim_turn,
    do_complete_turn,
    do_defer_turn,
    record_heartbeat,
    record_turn_progress,
)
from webapp.chat.models import Message, Turn

log = logging.getLogger(__name__)

DECISION_MAX_TOKENS = 200  # a decision names a few calls with short arguments
FLUSH_SECONDS = 0.1  # how often streamed text is saved and sent to tabs
HEARTBEAT_FRACTION = 3  # a heartbeat every third of TURN_STALL_SECONDS: a live turn never looks stalled
EMPTY_REPLY = "I'm sorry, I could not put together an answer just now. Could you say that again in other words?"


class Heartbeat:
    """Keeps running turns' heartbeats fresh while the model thinks, so the reconciler only takes over turns
    whose worker has really gone. One thread per process beats for every turn the process runs: starting a
    thread per turn cost 2 ms on a busy machine, on every turn."""

    _lock = threading.Lock()
    _turns: set[int] = set()
    _pid = -1  # the process that started the thread (a forked worker needs its own)

    def __init__(self, turn_id: int) -> None:
        self._turn_id = turn_id

    def __enter__(self) -> Heartbeat:
        with Heartbeat._lock:
            if Heartbeat._pid != os.getpid():
                Heartbeat._pid, Heartbeat._turns = os.getpid(), set()
                threading.Thread(target=Heartbeat._run, name="turn-heartbeat", daemon=True).start()
            Heartbeat._turns.add(self._turn_id)
        return self

    def __exit__(self, *exc) -> None:
        with Heartbeat._lock:
            Heartbeat._turns.discard(self._turn_id)

    @staticmethod
    def _run() -> None:
        from django.db import connections

        while True:
            time.sleep(min(5.0, settings.TURN_STALL_SECONDS / HEARTBEAT_FRACTION))
            with Heartbeat._lock:
                turns = list(Heartbeat._turns)
            for turn_id in turns:
                try:
                    record_heartbeat(turn_id)
                except Exception:
                    log.warning("heartbeat of turn %s failed", turn_id, exc_info=True)
            if turns:
                connections.close_all()  # this thread's own: no connection held open between beats


@dataclass
class Streamed:
    """What one streamed model call produced."""

    tool_calls: list[dict] = field(default_factory=list)  # native calls: {id, name, arguments}
    finish_reason: str | None = None


class TurnRun:
    """One attempt at one turn: streams visible text to the tabs, runs tools, records the trajectory."""

    def __init__(self, turn: Turn, client: ModelClient) -> None:
        self.turn = turn
        self.client = client
        self.splitter = ReasoningSplitter()
        self.gate = SentenceGate(active=False)  # the safety agent activates it while the history is taken
        self.shown = ""
        self.unsent = ""
        self.last_flush = float("-inf")  # the first visible text goes out at once
        self.started = time.monotonic()
        self.steps: list[dict] = []
        self.model_calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0

    def step(self, kind: str, **data) -> None:
        self.steps.append({"kind": kind, "at": round(time.monotonic() - self.started, 4), **data})

    def stream(self, messages: list[dict], tools: list[dict] | None = None, agent: str = "") -> Streamed:
        """Stream one model call: visible text (past the sentence gate) goes to the tabs; native tool calls
        are collected."""
        self.model_calls += 1
        self.step("model_call", agent=agent, streamed=True, tools=[t["function"]["name"] for t in tools or []])
        out = Streamed()
        calls: dict[int, dict] = {}
        for delta in self.client.stream_chat(messages, tools=tools):
            if delta.reasoning:
                self.splitter.add_reasoning(delta.reasoning)
            for fragment in delta.tool_calls:
                call = calls.setdefault(fragment["index"], {"id": "", "name": "", "arguments": ""})
                call["id"] = fragment["id"] or call["id"]
                call["name"] = fragment["name"] or call["name"]
                call["arguments"] += fragment["arguments"]
            if delta.content:
                visible = self.gate.feed(self.splitter.feed(delta.content))
                if not self.shown.strip():
                    visible = visible.lstrip()  # no leading blank lines on screen
                self.shown += visible
                self.unsent += visible
            if delta.finish_reason:
                out.finish_reason = delta.finish_reason
            if self.unsent and time.monotonic() - self.last_flush >= FLUSH_SECONDS:
                record_turn_progress(self.turn, self.shown, self.unsent)
                self.unsent, self.last_flush = "", time.monotonic()
        out.tool_calls = [calls[i] for i in sorted(calls)]
        return out

    def finish_text(self) -> str:
        """End of the streamed reply: what the patient may see (the gate may have withheld sentences). The last
        sentence (and any caveat) streams like the others, so even a one-sentence reply arrives as a delta."""
        tail = self.gate.feed(self.splitter.finish()) + self.gate.finish()
        if not self.shown.strip():
            tail = tail.lstrip()
        self.shown += tail
        self.unsent += tail
        if self.unsent.strip():  # the reply is stored next (a round trip less than saving this delta first)
            record_turn_progress(self.turn, self.shown, self.unsent, save=False)
            self.unsent, self.last_flush = "", time.monotonic()
        for withheld in self.gate.withheld:
            self.step("policy", agent="safety", rule="no_advice_before_history", ok=False, **withheld)
        for verdict in self.gate.verdicts:
            self.step("grounding", agent="safety", **verdict)
        return self.gate.text

    def actions_after_reply(self, messages: list[dict], reply: str, context: ToolContext, budget: Budget,
                            phase: str, agent: str) -> None:
        """The compact plan's second model call, made once the patient has the reply: one grammar-constrained
        decision by `agent` (memory+safety) on what to do about what they said (record, propose, escalate).
        Refusals and errors reach the model in its next turn (agent/context.py); the patient never waits."""
        allowed = tools_of(agent, context=context) - {"recall_record"}  # the record was read up front
        tools = [t for t in tools_for(PATIENT_AGENT, phase, context) if t.name in allowed]
        ask = [*messages, {"role": "assistant", "content": reply},
               {"role": "system", "content": decision_prompt(tools)}]
        schema = decision_schema(tools, budget.calls)
        for attempt in range(settings.TOOL_REPAIR_ATTEMPTS + 1):
            if budget.time_left() <= 0:
                self.step("budget", what="time")
                return
            self.model_calls += 1
            try:
                completion = self.client.complete(ask, response_format={"type": "json_object", "schema": schema},
                                                  max_tokens=DECISION_MAX_TOKENS, temperature=0.0)
            except ModelUnavailable as exc:  # the reply is delivered; only the bookkeeping is lost
                self.step("model_unavailable", agent=agent, error=str(exc))
                return
            self.prompt_tokens += completion.prompt_tokens
            self.completion_tokens += completion.completion_tokens
            calls, error = parse_decision(completion.content)
            self.step("model_call", agent=agent, streamed=False, decision=completion.content[:2000], error=error)
            problems = [error] if error else []
            for call in calls:
                outcome = run_call(call["name"], call.get("arguments"), context, role=PATIENT_AGENT, phase=phase,
                                   budget=budget, steps=self.steps, agent=agent, allowed=allowed)
                if outcome.code == "invalid_arguments":
                    problems.append(outcome.content)
            if not problems or attempt == settings.TOOL_REPAIR_ATTEMPTS:
                return
            ask = [*ask, {"role": "assistant", "content": completion.content},
                   {"role": "system", "content": "Your decision could not be carried out: " + "; ".join(problems)
                    + " Answer again with corrected JSON (only the calls that failed)."}]
            self.step("repair", agent=agent, problems=problems)

    def native_tools(self, messages: list[dict], context: ToolContext, budget: Budget, phase: str, agent: str,
                     stream: bool = True) -> None:
        """The full plan: `agent` calls its tools over rounds until it answers (or a budget ends it). The
        speaker streams its answer to the patient; a specialist acting after the reply (memory) does not."""
        allowed = tools_of(agent, context=context)
        specs = [tool.spec() for tool in tools_for(PATIENT_AGENT, phase, context) if tool.name in allowed]
        rounds = budget.calls + settings.TOOL_REPAIR_ATTEMPTS
        for _ in range(rounds + 1):
            offer = specs if specs and budget.used < budget.calls and budget.time_left() > 0 and rounds > 0 else None
            if stream:
                calls = self.stream(messages, tools=offer, agent=agent).tool_calls
            else:
                calls = list(self.complete(messages, tools=offer, agent=agent).tool_calls)
            if not calls:
                return
            rounds -= 1
            messages.append({"role": "assistant", "content": None, "tool_calls": [
                {"id": c["id"] or f"call_{i}", "type": "function",
                 "function": {"name": c["name"], "arguments": c["arguments"] or "{}"}}
                for i, c in enumerate(calls)]})
            for i, call in enumerate(calls):
                outcome = run_call(call["name"], call["arguments"], context, role=PATIENT_AGENT, phase=phase,
                                   budget=budget, steps=self.steps, agent=agent, allowed=allowed)
                messages.append({"role": "tool", "tool_call_id": call["id"] or f"call_{i}", "content": outcome.content})
        self.step("budget", agent=agent, what="rounds")

    def complete(self, messages: list[dict], *, tools: list[dict] | None, agent: str) -> Completion:
        """One unstreamed model call by a specialist (its text is recorded, never shown to the patient)."""
        self.model_calls += 1
        completion = self.client.complete(messages, tools=tools, temperature=0.0)
        self.prompt_tokens += completion.prompt_tokens
        self.completion_tokens += completion.completion_tokens
        self.step("model_call", agent=agent, streamed=False, tools=[t["function"]["name"] for t in tools or []],
                  text=completion.content[:2000])
        return completion

    def save(self, messages: list[dict], reply: str, mode: str) -> None:
        """The attempt's trajectory, in one INSERT ... ON CONFLICT (a re-run of the same attempt replaces it):
        update_or_create took a locking read and an insert in a transaction, four round trips on every turn."""
        fields = {
            "model": self.client.config.model, "prompt_version": PROMPT_VERSION, "tool_mode": mode,
            "triage_level": self.turn.message.triage_level or "", "messages": messages, "steps": self.steps,
            "reply": reply, "reasoning": self.splitter.reasoning_text, "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens, "model_calls": self.model_calls,
            "started_at": timezone.now() - timedelta(seconds=time.monotonic() - self.started),
            "seconds": round(time.monotonic() - self.started, 3)}
        Trajectory.objects.bulk_create([Trajectory(turn=self.turn, attempt=self.turn.attempts, **fields)],
                                       update_conflicts=True, unique_fields=["turn", "attempt"],
                                       update_fields=list(fields))


def run_turn(turn_id: int, client: ModelClient | None = None, *,
             examine: Callable[[str, str], str] | None = None, brief: str = "") -> Message | None:
    """Run (or re-run) a turn. Returns the stored reply, or None if there was nothing to do.

    A simulated consultation (agent/simulation) passes `examine`, its measurement role answering examination and
    test requests, and `brief`, what the doctor side is told beyond the system prompt; live care passes neither."""
    evidence_agent.prefetch_for_turn(turn_id)  # a guess, checked below: the embedding runs beside the claim
    turn = do_claim_turn(turn_id)
    if turn is None:
        return None
    run = TurnRun(turn, client or default_client())
    patient = turn.conversation.patient
    mode = settings.MODEL_TOOL_CALLING if patient.fhir_id else "off"
    previous = previous_state(turn) if mode != "off" else None
    messages = build_messages(turn, settings.MODEL_CONTEXT_CHARS)
    if brief:
        messages[0] = {**messages[0], "content": messages[0]["content"] + "\n\n" + brief}
    language = (getattr(patient_profile(patient), "language", "") or "en").split("-")[0].lower()
    budget = Budget(settings.TURN_TOOL_CALL_BUDGET, settings.TURN_TIME_BUDGET_SECONDS)
    context = ToolContext(patient_id=patient.fhir_id or "", message_id=turn.message_id,
                          conversation_id=turn.conversation_id,
                          repo=Repository(agent_requester(patient.fhir_id or ""), channel="agent"), examine=examine)
    picture = None
    summary = ""
    if mode != "off":
        started = time.monotonic()
        picture = open_episode(turn, previous)  # the inquiry agent, no model call
        if picture.phase == "advice":  # it stays advice once the record is in: the evidence search will run
            evidence_agent.prefetch(evidence_agent.query_for(picture.complaint_name, turn.message.text))
        seconds = time.monotonic() - started
        summary = read_record(context, run)  # the memory agent, no model call
        started = time.monotonic()
        picture = complete(picture, summary)
        run.step("inquiry", agent="inquiry", complaint=picture.complaint_name or None,
                 phase=picture.phase, reason=picture.reason, missing=picture.missing, ask=picture.ask,
                 seconds=round(seconds + time.monotonic() - started, 4))
        messages = with_notes(messages, summary, inquiry_agent.instructions(picture, language))
    plan = plan_turn(picture, mode, picture is not None and summary_agent.due(picture, previous))
    run.step("plan", plan=plan.name, steps=plan.describe())
    phase = picture.phase if picture else "advice"
    speaker = plan.speaker
    sources: list = []
    if speaker.name == evidence_agent.AGENT.name:  # the harness retrieves for it: no model call
        query = evidence_agent.query_for(picture.complaint_name if picture else "", turn.message.text)
        sources, found = evidence_agent.retrieve(query)
        run.step("tool_call", agent="evidence", arguments={"query": query[:300]}, by="harness", **found)
        note = evidence_agent.passages_note(sources, found["code"] == "evidence_unavailable")
        at = next((i for i, m in enumerate(messages) if m["role"] != "system"), len(messages))
        messages = [*messages[:at], {"role": "system", "content": note}, *messages[at:]]
    context.evidence.extend(sources)
    grounder = evidence_agent.grounder(context.evidence, summary if picture is not None else "")
    run.gate = safety_agent.gate(phase, grounder, [p.id for p in sources], language)
    if speaker.instructions and picture is not None and picture.phase == "advice" and picture.complaint:
        messages[0] = {**messages[0], "content": messages[0]["content"] + "\n\n" + speaker.instructions}
    first_messages = [dict(m) for m in messages]
    try:
        with Heartbeat(turn.id):
            if plan.name == "full":
                run.native_tools(messages, context, budget, phase, f"{speaker.name}+safety")
            else:
                run.stream(messages, agent=speaker.name)
            text = run.finish_text()
    except ModelUnavailable as exc:
        log.warning("turn %s deferred: %s", turn.id, exc)
        run.step("model_unavailable", error=str(exc))
        run.save(first_messages, "", mode)
        do_defer_turn(turn, str(exc))
        return None
    if picture is not None and picture.phase == "inquiry" and "?" not in text and "？" not in text:
        question = inquiry_agent.fallback_question(picture, language)  # the history is incomplete: always ask
        run.step("policy", agent="inquiry", rule="ask_while_history_incomplete", ok=True, added=question)
        text = f"{text}\n\n{question}".strip()
    text = text or EMPTY_REPLY
    reply = do_complete_turn(turn, text, run.splitter.reasoning_text)
    if reply is not None and picture is not None:
        after_reply(run, plan, messages, text, context, budget, picture)
    run.save(first_messages, text, mode)
    return reply


def after_reply(run: TurnRun, plan: Plan, messages: list[dict], text: str, context: ToolContext, budget: Budget,
                picture: Picture) -> None:
    """What the specialists do once the patient has the reply: record and escalate, summarise, keep the picture."""
    note = ""
    for step in plan.steps:
        if step.action == "decide":
            run.actions_after_reply(messages, text, context, budget, picture.phase, step.agent)
        elif step.action == "record":
            ask = [*messages, {"role": "assistant", "content": text},
                   {"role": "system", "content": memory_agent.AGENT.instructions}]
            try:
                run.native_tools(ask, context, budget, picture.phase, step.agent, stream=False)
            except ModelUnavailable as exc:
                run.step("model_unavailable", agent=step.agent, error=str(exc))
        elif step.action == "summarise":
            note = summary_agent.from_picture(picture)
            by_model = False
            if step.model_call:
                ask = [*messages, {"role": "assistant", "content": text},
                       {"role": "system", "content": summary_agent.AGENT.instructions}]
                try:
                    written = run.complete(ask, tools=None, agent=step.agent).content.strip()
                    note, by_model = (written, True) if written else (note, False)
                except ModelUnavailable as exc:
                    run.step("model_unavailable", agent=step.agent, error=str(exc))
            # The SOAP draft for the care team to sign (webapp/actions/summaries.py), once per episode.
            draft = do_draft_summary(run.turn, picture, note, text, by_model)
            run.step("summary", agent=step.agent, text=note, composition=draft["id"] if draft else None)
    save_state(run.turn, picture, note)


def read_record(context: ToolContext, run: TurnRun) -> str:
    """The memory agent reads the record (the recall_record tool, run by the harness, no model call)."""
    started = time.monotonic()
    summary = recall(context.repo, context.patient_id, budget_chars=RECALL_BUDGET_CHARS)
    run.step("tool_call", tool="recall_record", agent="memory", arguments={}, ok=True, code="ok", result=summary,
             seconds=round(time.monotonic() - started, 4), by="harness")
    return summary


def with_notes(messages: list[dict], summary: str, consultation: str) -> list[dict]:
    """The record summary and the consultation state as system messages after the prompt."""
    notes = [{"role": "system", "content": "What the patient's record holds (do not ask again what is known):\n"
                                           + summary}]
    if consultation:
        notes.append({"role": "system", "content": consultation})
    return [messages[0], *notes, *messages[1:]]
