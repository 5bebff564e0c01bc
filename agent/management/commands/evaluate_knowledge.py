"""manage.py evaluate_knowledge: the static medical-knowledge quiz (agent/simulation/knowledge.py) against the
configured model or any OpenAI-compatible server.

    python manage.py evaluate_knowledge --set medmcqa|dosing|all --out REPORT.json [--model URL] [--limit N]

Resumable: items already in REPORT.json are skipped, and the report is rewritten (atomically) after every item,
so an interrupted or failed run loses nothing; run the same command again to go on. --limit N takes the first N
items of the set."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from agent.model.client import ModelClient, ModelConfig, default_client
from agent.simulation.knowledge import SETS, QuizStopped, load_items, run_quiz, summarise
from agent.simulation.report import write_json


class Command(BaseCommand):
    help = "Ask a model the medical multiple-choice questions and report its accuracy (95% Wilson interval)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--set", dest="question_set", choices=[*SETS, "all"], default="all")
        parser.add_argument("--out", required=True, help="the JSON report; items already in it are skipped")
        parser.add_argument("--model", help="base URL of an OpenAI-compatible server (default: the configured "
                                            "model, MODEL_BASE_URL)")
        parser.add_argument("--model-name", help="the model name that server expects (default: MODEL_NAME)")
        parser.add_argument("--api-key", default="none")
        parser.add_argument("--limit", type=int, help="only the first N items of the set")
        parser.add_argument("--max-tokens", type=int, default=32)
        parser.add_argument("--timeout", type=float, default=300, help="seconds per answer (--model only)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, question_set: str, out: str, model: str | None, model_name: str | None, api_key: str,
               limit: int | None, max_tokens: int, timeout: float, no_progress: bool = False, **options) -> None:
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        if model:
            client = ModelClient(ModelConfig(base_url=model, model=model_name or settings.MODEL_NAME, api_key=api_key,
                                             timeout=timeout, connect_timeout=10, max_retries=1,
                                             max_tokens=max_tokens, temperature=0.0))
        else:
            client = default_client()
        name, url = client.config.model, client.config.base_url
        path = Path(out)
        finished: list[dict] = []
        if path.exists():
            try:
                previous = json.loads(path.read_text(encoding="utf-8"))
                finished = list(previous["items"])
                previous_model = previous["summary"]["model"]
            except (ValueError, KeyError, TypeError) as error:
                raise CommandError(f"{path} is not a report of this command ({error}); move it away") from None
            if finished and previous_model != name:
                raise CommandError(f"{path} holds answers of model {previous_model!r}, not {name!r}: "
                                   "write to another report")
        path.parent.mkdir(parents=True, exist_ok=True)
        items = load_items(question_set)
        selected = items[:limit] if limit is not None else items
        done = {r["id"] for r in finished}
        todo = sum(1 for item in selected if item["id"] not in done)
        if done:
            self.stdout.write(f"{path}: {len(done)} items already answered; {todo} to ask")

        def report() -> dict:
            return {"summary": summarise(finished, name) | {"set": question_set, "base_url": url},
                    "items": finished}

        with tqdm(total=todo, desc=f"{question_set} quiz", unit="item", disable=no_progress) as bar:
            def record(result: dict) -> None:
                finished.append(result)
                write_json(path, report())
                bar.update()
                bar.set_postfix(correct=sum(r["correct"] for r in finished), refresh=False)

            try:
                run_quiz(items, client, limit=limit, done=done, on_result=record, max_tokens=max_tokens)
            except QuizStopped as error:
                write_json(path, report())
                raise CommandError(f"the model at {url} is unreachable: {error}. The {len(finished)} finished "
                                   f"items are kept in {path}; run the command again to go on.") from None
        write_json(path, report())
        summary = report()["summary"]
        if summary["items"]:
            lo, hi = summary["ci95"]
            self.stdout.write(f"{summary['correct']}/{summary['items']} correct: accuracy {summary['accuracy']:.3f} "
                              f"(95% CI {lo:.3f}-{hi:.3f}); {summary['seconds_per_item']} s per item; "
                              f"report {path}")
        else:
            self.stdout.write(f"no items answered; report {path}")
