"""Smoke-test a real vLLM (or any OpenAI-compatible) server the way Continuum's harness uses it.

    .venv/bin/python scripts/smoke_vllm.py --base-url http://gpu-host:8000/v1 --model continuum [--api-key KEY]

Checks: the model list; a streamed reply with reasoning kept apart; a native tool call with the
harness's tool schemas; a grammar-constrained decision (the JSON tool path). Exit status 1 on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--api-key", default=os.environ.get("MODEL_API_KEY", "not-needed"))
    args = parser.parse_args()

    import django

    django.setup()
    import httpx

    from agent.model.client import ModelClient, ModelConfig
    from agent.toolcalls import decision_schema, parse_decision, validation_errors
    from agent.tools.registry import TOOLS, tools_for

    client = ModelClient(ModelConfig(base_url=args.base_url, model=args.model, api_key=args.api_key, timeout=120,
                                     connect_timeout=10, max_retries=0, max_tokens=256, temperature=0))
    failures = 0

    def check(name: str, ok: bool, detail: str) -> None:
        nonlocal failures
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}", flush=True)

    models = httpx.get(args.base_url.rstrip("/") + "/models", headers={"Authorization": f"Bearer {args.api_key}"},
                       timeout=30).json()
    check("models", any(m["id"] == args.model for m in models.get("data", [])), json.dumps(models)[:200])

    started, first, content, reasoning = time.monotonic(), None, "", ""
    for delta in client.stream_chat([{"role": "user", "content": "In one sentence: what is a fever?"}]):
        if (delta.content or delta.reasoning) and first is None:
            first = time.monotonic() - started
        content += delta.content
        reasoning += delta.reasoning
    check("stream", bool(content.strip()) and "<think>" not in content,
          f"first token {first or 0:.2f}s, {len(content)} chars, reasoning {len(reasoning)} chars apart")

    tools = [tool.spec() for tool in tools_for("patient_agent", "advice")]
    calls: dict[int, dict] = {}
    messages = [{"role": "system", "content": "Record what the patient reports with record_fact."},
                {"role": "user", "content": "I am allergic to penicillin; it gives me hives."}]
    for delta in client.stream_chat(messages, tools=tools):
        for fragment in delta.tool_calls:
            call = calls.setdefault(fragment["index"], {"name": "", "arguments": ""})
            call["name"] = fragment["name"] or call["name"]
            call["arguments"] += fragment["arguments"]
    problems = [p for c in calls.values() if c["name"] in TOOLS
                for p in validation_errors(TOOLS[c["name"]], json.loads(c["arguments"] or "{}"))]
    check("native tool call", bool(calls) and not problems, json.dumps(list(calls.values()))[:300])

    schema = decision_schema(tools_for("patient_agent", "advice"), 4)
    decision = client.complete(messages, response_format={"type": "json_schema", "json_schema": {
        "name": "decision", "schema": schema}}, temperature=0)
    parsed, error = parse_decision(decision.content)
    check("json decision", error is None, decision.content[:300])
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
