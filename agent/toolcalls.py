"""Tool calls under constraints: one registry, two ways for the model to call.

native: the server parses tool calls (vLLM with a tool parser); the model may call tools over
        several rounds, each result going back as a `tool` message.
json:   servers without tool calling (the embedded llama.cpp server) get one constrained decision
        call (a JSON schema turned into a grammar) listing the calls to make, then the reply call:
        at most two model calls for a turn, as the CPU latency budget allows.

Every call is checked by agent/policies, its arguments by the tool's JSON schema (an invalid call
gets a structured error and at most TOOL_REPAIR_ATTEMPTS chances to repair), and the turn's
tool-call and time budgets; all of it is recorded in the trajectory.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from agent.policies.actions import decide
from agent.tools.base import Tool, ToolContext, ToolError
from agent.tools.registry import TOOLS

log = logging.getLogger(__name__)
MAX_RESULT_CHARS = 4000


@dataclass
class Budget:
    calls: int
    seconds: float
    started: float = field(default_factory=time.monotonic)
    used: int = 0

    def time_left(self) -> float:
        return self.seconds - (time.monotonic() - self.started)


@dataclass
class CallOutcome:
    name: str
    ok: bool
    content: str  # what goes back to the model
    code: str  # ok | forbidden_action | unknown_tool | wrong_role | wrong_phase | budget | invalid_arguments | ...


def validation_errors(tool: Tool, arguments: Any) -> list[str]:
    if not isinstance(arguments, dict):
        return ["arguments must be a JSON object"]
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(arguments)'}: {e.message}"
            for e in Draft202012Validator(tool.parameters).iter_errors(arguments)][:5]


def parse_arguments(raw: Any) -> tuple[Any, str | None]:
    if isinstance(raw, dict):
        return raw, None
    if raw in (None, ""):
        return {}, None
    try:
        return json.loads(raw), None
    except (TypeError, ValueError) as error:
        return None, f"arguments are not valid JSON: {error}"


def run_call(name: str, raw_arguments: Any, context: ToolContext, *, role: str, phase: str, budget: Budget,
             steps: list[dict], agent: str = "", allowed: frozenset[str] | None = None) -> CallOutcome:
    """Check one call against the policies and its schema, run it, and record what happened (and by which agent)."""
    started = time.monotonic()
    decision = decide(name, role=role, phase=phase, calls_so_far=budget.used, budget=budget.calls,
                      agent=agent, allowed=allowed)
    arguments, parse_error = parse_arguments(raw_arguments)
    record = {"kind": "tool_call", "tool": name, "arguments": arguments if parse_error is None else raw_arguments}
    if agent:
        record["agent"] = agent
    if not decision.allowed:
        outcome = CallOutcome(name, False, decision.reason, decision.code)
    elif parse_error or (errors := validation_errors(TOOLS[name], arguments)):
        problems = [parse_error] if parse_error else errors
        outcome = CallOutcome(name, False, json.dumps({"error": "invalid_arguments", "tool": name,
                                                       "problems": problems}), "invalid_arguments")
    else:
        budget.used += 1
        try:
            result = TOOLS[name].handler(context, arguments)
            outcome = CallOutcome(name, True, result[:MAX_RESULT_CHARS], "ok")
        except ToolError as error:
            outcome = CallOutcome(name, False, f"error: {error}", "tool_error")
        except Exception as error:  # a bug in a tool must not end the turn without a reply
            log.exception("tool %s failed", name)
            outcome = CallOutcome(name, False, f"error: the tool failed ({type(error).__name__})", "tool_failed")
    steps.append(record | {"ok": outcome.ok, "code": outcome.code, "result": outcome.content,
                           "seconds": round(time.monotonic() - started, 4)})
    return outcome


# ---- the JSON path ---------------------------------------------------------------------------------------

def decision_schema(tools: list[Tool], max_calls: int) -> dict:
    """The grammar of a decision: a list of calls to tools offered now (possibly empty), each call's arguments
    constrained by its tool's own schema, so a grammar-following server cannot produce an invalid call."""
    calls = [{"type": "object", "properties": {"name": {"const": t.name}, "arguments": grammar_friendly(t.parameters)},
              "required": ["name", "arguments"], "additionalProperties": False} for t in tools]
    return {"type": "object", "properties": {"tool_calls": {"type": "array", "maxItems": max_calls,
                                                            "items": {"anyOf": calls}}},
            "required": ["tool_calls"], "additionalProperties": False}


# Length bounds and patterns become huge grammars in llama.cpp (maxLength 1000 is 1000 nested optionals, and a
# grammar it cannot parse kills the server); the arguments are validated against the full schema anyway.
_GRAMMAR_UNSAFE = {"minLength", "maxLength", "pattern", "format", "minimum", "maximum"}


def grammar_friendly(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: grammar_friendly(v) for k, v in schema.items() if k not in _GRAMMAR_UNSAFE}
    if isinstance(schema, list):
        return [grammar_friendly(v) for v in schema]
    return schema


def _signature(tool: Tool) -> str:
    """record_fact(kind: symptom|condition|..., text, onset?): compact, since the grammar enforces the schema."""
    properties, required = tool.parameters.get("properties", {}), set(tool.parameters.get("required", []))
    args = []
    for name, spec in properties.items():
        kind = "|".join(spec["enum"]) if "enum" in spec else spec.get("type", "")
        args.append(f"{name}{'' if name in required else '?'}: {kind}")
    return f"{tool.name}({', '.join(args)})"


def decision_prompt(tools: list[Tool]) -> str:
    """Short on purpose: on the CPU every prompt token costs time before the patient sees the first word."""
    lines = ['Now list the tools to call as JSON {"tool_calls": [{"name": ..., "arguments": {...}}]}; '
             "an empty list when none is needed. Tools:"]
    lines += [f"- {_signature(tool)}: {tool.description}" for tool in tools]
    return "\n".join(lines)


def parse_decision(text: str) -> tuple[list[dict], str | None]:
    try:
        data = json.loads(text)
    except ValueError as error:
        return [], f"the decision is not valid JSON: {error}"
    calls = data.get("tool_calls") if isinstance(data, dict) else None
    if not isinstance(calls, list) or not all(isinstance(c, dict) and isinstance(c.get("name"), str) for c in calls):
        return [], 'the decision must be {"tool_calls": [{"name": ..., "arguments": {...}}]}'
    return calls, None
