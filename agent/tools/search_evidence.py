"""search_evidence: authoritative passages (guidelines first) for a clinical question, with stable citation ids."""

from __future__ import annotations

from agent.evidence.index import EvidenceUnavailable, Filters
from agent.evidence.search import search_evidence
from agent.tools.base import Tool, ToolContext, ToolError

RESULTS = 3
PASSAGE_CHARS = 600


def handle(context: ToolContext, arguments: dict) -> str:
    filters = Filters(population=arguments.get("population") or None)
    try:
        result = search_evidence(arguments["query"], k=RESULTS, filters=filters)
    except EvidenceUnavailable as exc:
        raise ToolError("evidence search is unavailable: do not cite any source") from exc
    context.evidence.extend(h.passage for h in result.hits if h.passage.id not in {p.id for p in context.evidence})
    if not result.hits:
        return "No passage matched. Do not cite a source for this."
    lines = [f"[{h.passage.id}] {h.passage.describe(PASSAGE_CHARS)}" for h in result.hits]
    return "Cite a passage by its id in brackets, e.g. [" + result.hits[0].passage.id + "].\n" + "\n".join(lines)


TOOL = Tool(
    name="search_evidence",
    description="Search authoritative clinical guidance (guidelines, drug labels) for what you are about to "
                "explain or advise. Returns passages with citation ids to cite in brackets.",
    parameters={"type": "object", "properties": {
        "query": {"type": "string", "minLength": 3, "maxLength": 300, "description": "the clinical question"},
        "population": {"type": "string", "enum": ["adult", "pediatric", "pregnancy", "neonate"],
                       "description": "only guidance for this population (and general guidance)"},
    }, "required": ["query"], "additionalProperties": False},
    handler=handle,
)
