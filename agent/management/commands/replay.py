"""Re-run recorded turns against another model and report where its answers and tool calls differ.

    python manage.py replay --model http://gpu-host:8000/v1 [--model-name NAME] [--since 2026-11-01] [--limit 50]

Each recorded turn (agent.models.Trajectory) is replayed from the messages its model saw: the reply
is regenerated and compared with the recorded one (text similarity), and the tool decision is asked
again in the turn's own tool mode and compared by tool names. Nothing is written to the record and
no tool runs: replay only reads.
"""

from __future__ import annotations

import difflib
import json
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from agent.agents import memory as memory_agent
from agent.agents.orchestrator import tools_of
from agent.model.client import ModelClient, ModelConfig, ModelUnavailable
from agent.models import Trajectory
from agent.toolcalls import decision_prompt, decision_schema, parse_decision
from agent.tools.base import PATIENT_AGENT
from agent.tools.registry import tools_for


def recorded_tools(trajectory: Trajectory) -> list[str]:
    return [s["tool"] for s in trajectory.steps if s.get("kind") == "tool_call" and s.get("by") != "harness"]


def replay_one(client: ModelClient, trajectory: Trajectory, max_tokens: int) -> dict:
    """Ask the other model what each acting agent was asked, in the phase the turn was in."""
    messages = trajectory.messages
    phase = next((s["phase"] for s in trajectory.steps if s.get("kind") == "inquiry"), "advice")
    speaker = next((s.get("agent") or "evidence" for s in trajectory.steps
                    if s.get("kind") == "model_call" and s.get("streamed")), "evidence")
    reply = "".join(d.content for d in client.stream_chat(messages, max_tokens=max_tokens))
    after = [*messages, {"role": "assistant", "content": trajectory.reply}]
    tools: list[str] = []
    if trajectory.tool_mode == "json":
        allowed = tools_of("memory+safety") - {"recall_record"}
        offered = [t for t in tools_for(PATIENT_AGENT, phase) if t.name in allowed]
        decision = client.complete([*after, {"role": "system", "content": decision_prompt(offered)}],
                                   response_format={"type": "json_object", "schema": decision_schema(offered, 4)},
                                   max_tokens=200, temperature=0.0)
        calls, _ = parse_decision(decision.content)
        tools = [c["name"] for c in calls]
    elif trajectory.tool_mode == "native":
        for agent, ask in ((f"{speaker.split('+')[0]}+safety", messages),
                           ("memory", [*after, {"role": "system", "content": memory_agent.AGENT.instructions}])):
            specs = [t.spec() for t in tools_for(PATIENT_AGENT, phase) if t.name in tools_of(agent)]
            tools += [c["name"] for c in client.complete(ask, tools=specs or None, max_tokens=max_tokens).tool_calls]
    similarity = difflib.SequenceMatcher(None, trajectory.reply, reply).ratio()
    before = recorded_tools(trajectory)
    return {"turn": trajectory.turn_id, "attempt": trajectory.attempt, "recorded_model": trajectory.model,
            "reply_similarity": round(similarity, 3), "recorded_reply": trajectory.reply, "replayed_reply": reply,
            "recorded_tools": before, "replayed_tools": tools, "tools_differ": sorted(before) != sorted(tools)}


class Command(BaseCommand):
    help = "Replay recorded turns against another OpenAI-compatible model and report the differences."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--model", required=True, help="base URL of the other model's server, e.g. http://h:8000/v1")
        parser.add_argument("--model-name", default="replay", help="the model name that server expects")
        parser.add_argument("--api-key", default="not-needed")
        parser.add_argument("--since", help="only turns started at or after this ISO date/time")
        parser.add_argument("--limit", type=int, default=100)
        parser.add_argument("--max-tokens", type=int, default=256)
        parser.add_argument("--report", help="also write the full report as JSON here")

    def handle(self, *args, model: str, model_name: str, api_key: str, since: str | None, limit: int,
               max_tokens: int, report: str | None, **options) -> None:
        client = ModelClient(ModelConfig(base_url=model, model=model_name, api_key=api_key, timeout=300,
                                         connect_timeout=10, max_retries=1, max_tokens=max_tokens, temperature=0.0))
        rows = Trajectory.objects.exclude(reply="").order_by("started_at", "id")
        if since:
            try:
                rows = rows.filter(started_at__gte=datetime.fromisoformat(since))
            except ValueError:
                raise CommandError(f"--since {since!r} is not an ISO date or date-time") from None
        results = []
        for trajectory in rows[:limit]:
            try:
                result = replay_one(client, trajectory, max_tokens)
            except ModelUnavailable as error:
                raise CommandError(f"the model at {model} is unavailable: {error}") from None
            results.append(result)
            self.stdout.write(f"turn {result['turn']}: reply similarity {result['reply_similarity']:.2f}; tools "
                              f"{result['recorded_tools']} -> {result['replayed_tools']}"
                              + ("  (tools differ)" if result["tools_differ"] else ""))
        if results:
            mean = sum(r["reply_similarity"] for r in results) / len(results)
            differ = sum(r["tools_differ"] for r in results)
            self.stdout.write(f"replayed {len(results)} turns: mean reply similarity {mean:.2f}; "
                              f"tool calls differ in {differ}")
        else:
            self.stdout.write("no recorded turns to replay")
        if report:
            with open(report, "w", encoding="utf-8") as out:
                json.dump(results, out, ensure_ascii=False, indent=1)
