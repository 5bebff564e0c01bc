"""Harness overhead per turn, excluding the model, and red-flag triage throughput.

    python -m bench.harness [--turns 200] [--modes json,off,native]

Runs real turns in this process (agent/turn.py: claim, context, record recall, tool decision
and calls, streaming flushes, reply stored once, trajectory) against the scripted model with no
delay, on a fresh SQLite database and a private Redis. Overhead = the turn's wall time minus
the time the model server spent answering its requests; "no embedding" also leaves out the
evidence query's embedding (the other model of a turn, multilingual-e5 on the CPU), and "own" the
tool calls too (what the harness itself costs); "to reply" is
the same up to the moment the reply is stored (what the patient waits for: the JSON path's decision
and tool calls come after). Then the triage bench on one core.
No assertions: it prints figures for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--modes", default="json,off,native")
    args = parser.parse_args()

    from scripts.stack import free_port, start_redis

    work = Path(tempfile.mkdtemp(prefix="continuum-bench-harness-"))
    redis_port = free_port()
    redis = start_redis(redis_port, work / "redis")
    os.environ.update(SQLITE_PATH=str(work / "bench.sqlite3"), REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
                      CONTINUUM_VAR_DIR=str(work), DJANGO_SETTINGS_MODULE="webapp.settings",
                      CHAT_RATE_LIMIT_MESSAGES="1000000")
    os.environ.pop("DATABASE_URL", None)
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        import agent.turn
        from agent.turn import run_turn
        from tests.support.scripted_model import Script, ScriptedModel
        from tests.support.turns import client_for, new_turn
        from webapp.actions.accounts import do_create_patient

        call_command("migrate", verbosity=0)
        # The evidence index, as the run command builds it: without it each advice turn's search failed after the
        # embedding, and the search itself went unmeasured (it did, before 2026-12-06).
        call_command("ingest_evidence", verbosity=0)
        model = ScriptedModel(delay=0.0).start()
        client = client_for(model, max_tokens=64)
        # When each reply is stored: the JSON path's decision call and tool calls come after it.
        complete, stored_at = agent.turn.do_complete_turn, []
        agent.turn.do_complete_turn = lambda *a, **k: (complete(*a, **k), stored_at.append(time.perf_counter()))[0]
        # The evidence query's embedding is the other model a turn runs (multilingual-e5 on the CPU): timed apart.
        import agent.evidence.search
        embed, embedded = agent.evidence.search.embed_query, []

        def timed_embed(text: str):
            started = time.perf_counter()
            try:
                return embed(text)
            finally:
                embedded.append(time.perf_counter() - started)

        agent.evidence.search.embed_query = timed_embed
        # Tool calls (policy check, argument validation, the tool itself: a record write with its Provenance and
        # AuditEvent), timed apart too: the harness's own share is what is left.
        call, called = agent.turn.run_call, []

        def timed_call(*args, **kwargs):
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                called.append(time.perf_counter() - started)

        agent.turn.run_call = timed_call
        from webapp.heap import freeze_startup_heap

        freeze_startup_heap()  # as a worker process does once it has started (agent/tasks.py)
        print(f"machine: {os.cpu_count()} cores; SQLite; private Redis; scripted model, no delay")
        print(f"{'mode':8} {'turns':>6} {'overhead p50':>13} {'p95':>8} {'max':>8}  {'to reply p50':>13} {'p95':>8}"
              f"  {'no embedding p50':>16} {'p95':>8}  {'embedding p50':>13}  {'own p50':>8} {'p95':>8}"
              "  (ms, LLM time excluded)")
        for mode in [m for m in args.modes.split(",") if m]:
            settings.MODEL_TOOL_CALLING = mode
            patient = do_create_patient(f"bench-{mode}-{time.time_ns()}", None)
            overheads: list[float] = []
            to_reply: list[float] = []
            embeddings: list[float] = []
            tools: list[float] = []
            for i in range(args.turns):
                turn = new_turn(patient, f"I have had a headache for {i + 2} days")
                model.queue(Script(text="I am sorry to hear that. Where is the pain, and how bad is it?",
                                   words_per_chunk=3))
                if mode == "json":
                    model.decide({"tool_calls": [{"name": "record_fact", "arguments": {
                        "kind": "symptom", "text": f"headache {i}"}}]})
                before, embedded_before, called_before = len(model.durations), len(embedded), len(called)
                started = time.perf_counter()
                run_turn(turn.id, client)
                wall = time.perf_counter() - started
                # The server thread records a request's time after its last byte: the client may be done first.
                deadline = time.monotonic() + 2
                while len(model.durations) < len(model.requests) and time.monotonic() < deadline:
                    time.sleep(0.001)
                overheads.append(wall - sum(model.durations[before:]))
                embeddings.append(sum(embedded[embedded_before:]))
                tools.append(sum(called[called_before:]))
                to_reply.append(stored_at[-1] - started - model.durations[before])  # the reply's own call
            warm = overheads[5:] or overheads  # the first turns pay for imports and connections
            warm_reply = to_reply[5:] or to_reply
            warm_embedding = embeddings[5:] or embeddings
            bare = [o - e for o, e in zip(warm, warm_embedding, strict=True)]
            own = [b - t for b, t in zip(bare, tools[5:] or tools, strict=True)]
            print(f"{mode:8} {len(warm):6} {statistics.median(warm) * 1000:13.1f} {pct(warm, 0.95) * 1000:8.1f} "
                  f"{max(warm) * 1000:8.1f}  {statistics.median(warm_reply) * 1000:13.1f} "
                  f"{pct(warm_reply, 0.95) * 1000:8.1f}  {statistics.median(bare) * 1000:16.1f} "
                  f"{pct(bare, 0.95) * 1000:8.1f}  {statistics.median(warm_embedding) * 1000:13.1f}  "
                  f"{statistics.median(own) * 1000:8.1f} {pct(own, 0.95) * 1000:8.1f}")
        model.stop()
    finally:
        redis.stop()
    print()
    from bench import triage_throughput

    sys.argv = ["triage_throughput", "--rounds", "20"]
    triage_throughput.main()


if __name__ == "__main__":
    main()
