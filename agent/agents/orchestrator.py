"""The orchestrator: decides, per turn, which agent acts and in what order. Routing is deterministic
(no model call spent on it), so the CPU default keeps its budget of two model calls per turn.

compact plan (the JSON tool path: the embedded CPU model)
  memory reads the record -> inquiry assesses the picture -> the speaker (inquiry while the history
  is incomplete, evidence once it is sufficient) writes the reply [model call 1, streamed, gated by
  safety] -> memory and safety decide together what to record, propose or escalate [model call 2,
  one grammar-constrained decision of at most DECISION_MAX_TOKENS] -> summary, from the picture.
full plan (native tool calling: vLLM)
  the same, but each specialist makes its own model calls: the speaker with the safety tools over
  rounds, then memory with its tools, then summary writes its note with the model.
off (no record to work on): the speaker alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.agents import evidence, inquiry, memory, safety, summary
from agent.agents.base import Agent
from agent.inquiry.picture import Picture
from agent.tools.base import ToolContext

AGENTS: dict[str, Agent] = {a.name: a for a in (memory.AGENT, inquiry.AGENT, evidence.AGENT, safety.AGENT,
                                                 summary.AGENT)}
CPU_MAX_MODEL_CALLS = 2


@dataclass(frozen=True)
class Step:
    agent: str
    action: str  # read_record | assess | reply | decide | record | summarise
    model_call: bool


@dataclass(frozen=True)
class Plan:
    name: str  # compact | full | off
    steps: tuple[Step, ...]

    @property
    def speaker(self) -> Agent:
        return AGENTS[next(s.agent for s in self.steps if s.action == "reply")]

    @property
    def model_calls(self) -> int:
        """Model calls planned (the full plan's speaker may take more rounds, within the tool budget)."""
        return sum(s.model_call for s in self.steps)

    def describe(self) -> list[dict]:
        return [{"agent": s.agent, "action": s.action, "model_call": s.model_call} for s in self.steps]


def plan_turn(picture: Picture | None, mode: str, summary_due: bool) -> Plan:
    """Who acts this turn. `picture` is None when there is no record to work on."""
    speaker = inquiry.AGENT.name if picture is not None and picture.phase == "inquiry" else evidence.AGENT.name
    if mode == "off" or picture is None:
        return Plan("off", (Step(speaker, "reply", True),))
    before = (Step(memory.AGENT.name, "read_record", False), Step(inquiry.AGENT.name, "assess", False))
    if mode == "native":
        after = (Step(memory.AGENT.name, "record", True),)
        after += (Step(summary.AGENT.name, "summarise", True),) if summary_due else ()
        return Plan("full", (*before, Step(speaker, "reply", True), *after))
    after = (Step(f"{memory.AGENT.name}+{safety.AGENT.name}", "decide", True),)
    after += (Step(summary.AGENT.name, "summarise", False),) if summary_due else ()
    plan = Plan("compact", (*before, Step(speaker, "reply", True), *after))
    assert plan.model_calls <= CPU_MAX_MODEL_CALLS
    return plan


def tools_of(*names: str, context: ToolContext | None = None) -> frozenset[str]:
    """The union of the named agents' tool subsets ("memory+safety" names two), plus the tools that only some
    contexts serve (examinations, in a simulated consultation): whoever acts there may use them."""
    from agent.tools.registry import TOOLS

    own = frozenset().union(*(AGENTS[n].tools for name in names for n in name.split("+")))
    served = {t.name for t in TOOLS.values() if t.needs and context is not None and context.can(t.needs)}
    return own | served
