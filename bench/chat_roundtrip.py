"""Chat round trip: N websocket patients against the real stack.

    python -m bench.chat_roundtrip --backend instant --patients 50 --interval 10 --duration 60 --idle 200
    python -m bench.chat_roundtrip --backend cpu-model --patients 1 --messages 5

Starts its own PostgreSQL, Redis, ASGI server and Celery worker (the same
functions the run command uses) on a fresh database, then measures, per turn:
time to the first streamed token, full-turn time (send -> stored reply), and
the part of the turn spent outside the model (full turn minus the model
server's own time, which the instant responder reports), and outside both models (also minus the time the
turn waited for its evidence query's embedding, multilingual-e5 on the CPU, from the turn's trajectory).
With ``--idle N`` it also holds N more sockets open for the whole run, and each of them sends one message at
the end that must be stored and answered.

Backends: ``instant`` is a scripted OpenAI-compatible server that streams a
fixed 16-word reply with no delay, from a process of its own (the system's own overhead); ``cpu-model``
is llama.cpp's server with the default model (``--model small`` for the 0.5B).
Prints a table and writes bench/results/chat_roundtrip-<backend>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.fetch_model import fetch  # noqa: E402
from scripts.stack import (  # noqa: E402
    create_database,
    django_env,
    free_port,
    manage,
    start_model_server,
    start_postgres,
    start_redis,
    start_web,
    start_worker,
)

REPLY = "Thank you for telling me. How long have you had it, and is it getting worse?"


class InstantResponder:
    """The scripted model answering every request with REPLY at once, in a process of its own: in the load
    generator's process it waited for the GIL while 250 sockets were served, and that wait counted as Continuum's."""

    def start(self) -> InstantResponder:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve_instant, args=(child,), daemon=True)
        self._process.start()
        self.base_url = self._conn.recv()
        self.durations: list[float] = []
        return self

    def stop(self) -> None:
        if self._process.is_alive():
            self._conn.send("stop")
            self.durations = self._conn.recv()
            self._process.join(10)


def _serve_instant(conn) -> None:
    from tests.support.scripted_model import Script, ScriptedModel

    model = ScriptedModel(delay=0.0).start()
    model.queue(*[Script(text=REPLY) for _ in range(100_000)])
    conn.send(model.base_url)
    conn.recv()
    conn.send(list(model.durations))
    model.stop()


async def loop_lag(lags: list[float], stop: asyncio.Event) -> None:
    """How late the load generator's own event loop wakes (a 5 ms sleep's overshoot): its lateness is in every
    client-side figure."""
    while not stop.is_set():
        started = time.monotonic()
        await asyncio.sleep(0.005)
        lags.append(time.monotonic() - started - 0.005)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def make_sessions(count: int) -> list[tuple[str, str]]:
    """Patients with ready sessions (login is not what this measures): (session key, ws path)."""
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from webapp.actions.accounts import do_create_patient

    out = []
    stamp = int(time.time())
    for i in range(count):
        user = do_create_patient(f"bench-{stamp}-{i}", None)
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        out.append((store.session_key, f"/ws/chat/{user.conversation.public_id}/"))
    return out


async def patient(base: str, session: str, path: str, messages: int, interval: float, results: list[dict],
                  start_at: float) -> None:
    import websockets

    url = base.replace("http://", "ws://") + path
    async with websockets.connect(url, origin=base, additional_headers={"Cookie": f"sessionid={session}"},
                                  open_timeout=60, max_size=2**22) as ws:
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        for n in range(messages):
            sent = time.monotonic()
            await ws.send(json.dumps({"type": "send", "text": f"I have a sore throat (message {n})",
                                      "client_id": f"{session[:8]}-{n}"}))
            first = message_id = None
            while True:
                event = json.loads(await asyncio.wait_for(ws.recv(), 600))
                if event["type"] == "ack":
                    message_id = event["message_id"]
                if event["type"] == "turn.delta" and first is None:
                    first = time.monotonic()
                if event["type"] == "message" and event["author"] == "agent":
                    done = time.monotonic()
                    break
            results.append({"ttft": (first or done) - sent, "turn": done - sent, "message_id": message_id,
                            "sent_wall": time.time() - (time.monotonic() - sent), "done_wall": time.time()})
            await asyncio.sleep(max(0.0, sent + interval - time.monotonic()))


async def idle_socket(base: str, session: str, path: str, hold_until: asyncio.Event, opened: list[int],
                      answered: list[int]) -> None:
    import websockets

    url = base.replace("http://", "ws://") + path
    async with websockets.connect(url, origin=base, additional_headers={"Cookie": f"sessionid={session}"},
                                  open_timeout=120) as ws:
        opened.append(1)
        await hold_until.wait()
        await ws.send(json.dumps({"type": "send", "text": "still there?", "client_id": session[:12]}))
        while True:
            event = json.loads(await asyncio.wait_for(ws.recv(), 300))
            if event["type"] == "message" and event["author"] == "agent":
                answered.append(1)
                return


async def drive(base: str, active: list, idle: list, messages: int, interval: float) -> dict:
    results: list[dict] = []
    hold = asyncio.Event()
    opened: list[int] = []
    answered: list[int] = []
    idle_tasks = [asyncio.create_task(idle_socket(base, s, p, hold, opened, answered)) for s, p in idle]
    while len(opened) < len(idle) and not all(t.done() for t in idle_tasks):
        await asyncio.sleep(0.2)
    failed = [t.exception() for t in idle_tasks if t.done() and t.exception()]
    if failed:
        print(f"{len(failed)} idle sockets failed to open, e.g. {failed[0]!r}", file=sys.stderr)
    # The load generator times every turn at its end: its own full collections (over Django, websockets, 250
    # sockets) would add pauses to whatever turns are in flight. Frozen like the servers' (webapp/heap.py).
    from webapp.heap import freeze_startup_heap

    freeze_startup_heap()
    start = time.monotonic() + 1
    # Spread the active patients' first messages over one interval.
    tasks = [patient(base, s, p, messages, interval, results, start + interval * i / max(1, len(active)))
             for i, (s, p) in enumerate(active)]
    peak_sockets = len(opened) + len(active)  # idle sockets stay open while the active ones run
    lags: list[float] = []
    stop = asyncio.Event()
    probe = asyncio.create_task(loop_lag(lags, stop))
    await asyncio.gather(*tasks)
    stop.set()
    await probe
    hold.set()
    await asyncio.gather(*idle_tasks, return_exceptions=True)
    return {"results": results, "idle_opened": len(opened), "idle_answered": len(answered),
            "peak_sockets": peak_sockets, "loop_lag_p50_ms": round(pct(lags, 0.5) * 1000, 2),
            "loop_lag_p95_ms": round(pct(lags, 0.95) * 1000, 2)}


def first_moments(steps: list[dict]) -> dict[str, float]:
    """When the worker first reached each kind of trajectory step (seconds after the claim), tool calls by tool."""
    moments: dict[str, float] = {}
    for step in steps:
        moments.setdefault(step["kind"] + (f":{step['tool']}" if step.get("tool") else ""), step["at"])
    return moments


def turn_phases(paths: list[str]) -> dict[str, float]:
    """Where the active patients' turns spend their time, from the database's own timestamps (p50/p95, ms):
    queued = message stored -> turn claimed by a worker, split at the turn row's creation into the web
    process's part (triage, the checks, the turn row) and the hand-over (commit, broker, pool process, claim);
    worker = claimed -> reply stored, with the p50 moment of each trajectory step on the way. The idle
    sockets' final burst is left out, as it is from the client-side figures."""
    from agent.models import Trajectory
    from webapp.chat.models import Turn

    public_ids = [path.rstrip("/").rsplit("/", 1)[-1] for path in paths]
    queued, web, handover, worker = [], [], [], []
    steps: dict[str, list[float]] = {}
    turns = Turn.objects.filter(status="done", conversation__public_id__in=public_ids).select_related(
        "message", "reply")
    for turn in turns:
        queued.append((turn.started_at - turn.message.created_at).total_seconds())
        web.append((turn.enqueued_at - turn.message.created_at).total_seconds())
        handover.append((turn.started_at - turn.enqueued_at).total_seconds())
        worker.append((turn.reply.created_at - turn.started_at).total_seconds())
    for trajectory in Trajectory.objects.filter(turn__in=turns).only("steps"):
        for name, at in first_moments(trajectory.steps).items():
            steps.setdefault(name, []).append(at)
    ms = lambda values, q: round(pct(values, q) * 1000, 1)  # noqa: E731
    return {"queued_p50_ms": ms(queued, 0.5), "queued_p95_ms": ms(queued, 0.95),
            "queued_web_p50_ms": ms(web, 0.5), "queued_handover_p50_ms": ms(handover, 0.5),
            "worker_p50_ms": ms(worker, 0.5), "worker_p95_ms": ms(worker, 0.95),
            "worker_steps_p50_ms": {name: ms(at, 0.5) for name, at in steps.items()}}


def phases_by_kind(results: list[dict], waits: dict[int, float]) -> dict:
    """Each active turn from end to end, on the machine's wall clock (client and servers share it), for advice turns
    (they searched the evidence) and the others apart, as "p50/p95" ms: arrive = sent -> message stored, web ->
    turn row enqueued, handover -> claimed, worker -> reply stored, deliver -> the client has it."""
    from agent.models import Trajectory
    from webapp.chat.models import Turn

    by_message = {r["message_id"]: r for r in results}
    phases: dict[str, dict[str, list[float]]] = {"advice": {}, "other": {}}
    rows = []
    turns = Turn.objects.filter(status="done", message_id__in=list(by_message)).select_related("message", "reply")
    steps = dict(Trajectory.objects.filter(turn__in=turns).values_list("turn_id", "steps"))
    for turn in turns:
        moments = first_moments(steps.get(turn.id, []))
        r = by_message[turn.message_id]
        marks = [r["sent_wall"], turn.message.created_at.timestamp(), turn.enqueued_at.timestamp(),
                 turn.started_at.timestamp(), turn.reply.created_at.timestamp(), r["done_wall"]]
        kind = phases["advice" if turn.message_id in waits else "other"]
        spans = dict(zip(("arrive", "web", "handover", "worker", "deliver"),
                         [round((end - start) * 1000, 1) for start, end in zip(marks, marks[1:], strict=False)],
                         strict=True))
        for name, span in spans.items():
            kind.setdefault(name, []).append(span / 1000)
        rows.append({"turn_ms": round(r["turn"] * 1000, 1), "advice": turn.message_id in waits, "sent": r["sent_wall"],
                     **spans, "steps": moments})
        for name, at in moments.items():
            kind.setdefault("@" + name, []).append(at)
    summary = {kind: {name: f"{pct(v, 0.5) * 1000:.1f}/{pct(v, 0.95) * 1000:.1f}" for name, v in values.items()}
               for kind, values in phases.items()}
    return summary | {"slowest": sorted(rows, key=lambda row: -row["turn_ms"])[:15]}


def embedding_waits(message_ids: list[int]) -> dict[int, float]:
    """Per patient message: how long its turn waited for the evidence query's embedding (the search step's
    ``embedding_seconds``; turns that did not search are left out). That is the other model's time in a turn, on the CPU
    here: like the language model's, it is not Continuum's own overhead."""
    from agent.models import Trajectory

    waits = {}
    for message_id, steps in Trajectory.objects.filter(turn__message_id__in=message_ids).values_list(
            "turn__message_id", "steps"):
        searches = [s for s in steps if s["kind"] == "tool_call" and s.get("tool") == "search_evidence"]
        if searches:  # 0.0: the embedding was ready before the search needed it
            waits[message_id] = sum(s.get("embedding_seconds", 0.0) for s in searches)
    return waits


def main() -> None:
    parser = argparse.ArgumentParser(description="Chat round-trip benchmark")
    parser.add_argument("--backend", choices=["instant", "cpu-model"], default="instant")
    parser.add_argument("--model", choices=["default", "small"], default="default")
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between one patient's messages")
    parser.add_argument("--messages", type=int, default=6, help="messages per active patient")
    parser.add_argument("--idle", type=int, default=0, help="extra sockets held open the whole run")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes (or threads)")
    parser.add_argument("--pool", choices=["prefork", "threads"], default="prefork", help="Celery worker pool")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="continuum-bench-"))
    work.chmod(0o755)
    services = []
    scripted = None
    try:
        pg_port, redis_port, web_port = free_port(), free_port(), free_port()
        services.append(start_postgres(pg_port, work / "pg"))
        services.append(start_redis(redis_port, work / "redis"))
        create_database(pg_port, "bench")
        if args.backend == "instant":
            scripted = InstantResponder().start()
            model_url = scripted.base_url
        else:
            model_port = free_port()
            services.append(start_model_server(fetch(args.model), model_port, "continuum-local", work / "model.log"))
            model_url = f"http://127.0.0.1:{model_port}/v1"
        env = django_env(DATABASE_URL=f"postgres://postgres@127.0.0.1:{pg_port}/bench",
                         REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", MODEL_BASE_URL=model_url,
                         CONTINUUM_VAR_DIR=str(work), MODEL_MAX_TOKENS="48", CHAT_RATE_LIMIT_MESSAGES="1000",
                         LOG_LEVEL="WARNING")
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "MODEL_BASE_URL", "CONTINUUM_VAR_DIR",
                                               "DJANGO_SETTINGS_MODULE")})
        manage("migrate", "--noinput", "-v", "0", env=env)
        # The evidence index, as the run command builds it (passages' vectors come from the embedding cache): without
        # it every advice turn's search would fail after embedding its query, and the benchmark would leave out the
        # search itself (it did, before 2026-12-06).
        manage("ingest_evidence", env=env)
        services.append(start_worker(env, work / "worker.log", concurrency=args.concurrency,
                                     pool=args.pool))
        services.append(start_web(env, web_port, work / "web.log"))
        sessions = make_sessions(args.patients + args.idle)
        base = f"http://127.0.0.1:{web_port}"
        t0 = time.monotonic()
        outcome = asyncio.run(drive(base, sessions[:args.patients], sessions[args.patients:], args.messages,
                                    args.interval))
        wall = time.monotonic() - t0
        phases = turn_phases([p for _, p in sessions[:args.patients]])
        waits = embedding_waits([r["message_id"] for r in outcome["results"]])
        by_kind = phases_by_kind(outcome["results"], waits)
    finally:
        for service in reversed(services):
            service.stop()
        if scripted:
            scripted.stop()

    results = outcome["results"]
    ttft = [r["ttft"] for r in results]
    turn = [r["turn"] for r in results]
    model_time = statistics.mean(scripted.durations) if scripted and scripted.durations else None
    outside = [t - model_time for t in turn] if model_time is not None else None
    embedding = [waits.get(r["message_id"], 0.0) for r in results]
    own = [o - e for o, e in zip(outside, embedding, strict=True)] if outside else None
    searched = [waits[r["message_id"]] for r in results if r["message_id"] in waits]
    report = {
        "backend": args.backend if args.backend == "instant" else f"cpu-model ({args.model})",
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "worker_pool": f"{args.pool} x {args.concurrency}",
        "patients": args.patients, "interval_s": args.interval, "messages_per_patient": args.messages,
        "turns": len(results), "wall_s": round(wall, 1),
        "ttft_p50_ms": round(pct(ttft, 0.5) * 1000, 1), "ttft_p95_ms": round(pct(ttft, 0.95) * 1000, 1),
        "turn_p50_ms": round(pct(turn, 0.5) * 1000, 1), "turn_p95_ms": round(pct(turn, 0.95) * 1000, 1),
        "model_time_mean_ms": round(model_time * 1000, 2) if model_time is not None else None,
        "outside_model_p95_ms": round(pct(outside, 0.95) * 1000, 1) if outside else None,
        "outside_model_share": round(sum(outside) / sum(turn), 3) if outside else None,
        "embedding_wait_p50_ms": round(pct(searched, 0.5) * 1000, 1), "turns_searching": len(searched),
        # Turns that searched the evidence (advice) and the others (history taking), apart.
        **{f"{kind}_turn_p{q}_ms": round(pct([r["turn"] for r in results if (r["message_id"] in waits) == searching],
                                             q / 100) * 1000, 1)
           for kind, searching in (("advice", True), ("other", False)) for q in (50, 95)},
        "outside_models_p50_ms": round(pct(own, 0.5) * 1000, 1) if own else None,
        "outside_models_p95_ms": round(pct(own, 0.95) * 1000, 1) if own else None,
        **phases, "phases_advice_ms": by_kind["advice"], "phases_other_ms": by_kind["other"],
        "client_loop_lag_p50_ms": outcome["loop_lag_p50_ms"], "client_loop_lag_p95_ms": outcome["loop_lag_p95_ms"],
        "idle_sockets_opened": outcome["idle_opened"], "idle_sockets_answered": outcome["idle_answered"],
        "peak_open_sockets": outcome["peak_sockets"],
    }
    for key, value in report.items():
        print(f"{key:24} {value}")
    report["slowest_turns"] = by_kind["slowest"]  # in the JSON only: the tail, phase by phase
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    name = "instant" if args.backend == "instant" else f"cpu-model-{args.model}"
    (out / f"chat_roundtrip-{name}.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
