"""Grade conversations against rubrics, HealthBench style.

    python manage.py grade --conversations FILE.jsonl --rubrics FILE.jsonl --out REPORT.json [--model URL]

A conversation line is {"id", "messages": [{role, content}]} (or HealthBench's {"prompt_id", "prompt",
"completion"}); a rubric line is {"id", "version", "rubrics": [{criterion, points, tags}]}, matched by id
(`make_rubrics` writes them). Resumable: conversations already graded in REPORT.json are skipped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from agent.model.client import ModelUnavailable, default_client
from agent.simulation.grading import grade, read_conversation
from agent.simulation.report import write_json
from agent.simulation.runs import client_for


def read_jsonl(path: str, what: str, parse) -> tuple[list, list[dict]]:
    """Parsed lines, and {line, error} for each line that could not be used."""
    if not Path(path).exists():
        raise CommandError(f"no {what} file at {path}")
    rows, errors = [], []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                rows.append(parse(json.loads(line)))
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                errors.append({"line": number, "file": path, "error": str(exc)})
    return rows, errors


def read_rubric(obj: dict) -> dict:
    if not obj.get("id") or not isinstance(obj.get("rubrics"), list) or not obj["rubrics"]:
        raise ValueError("a rubric needs an id and a non-empty rubrics list")
    for item in obj["rubrics"]:
        points = item.get("points")
        if not isinstance(item.get("criterion"), str) or not isinstance(points, int) or not -10 <= points <= 10:
            raise ValueError(f"bad criterion {item!r}: needs a criterion text and integer points -10..10")
    return obj


def summarise(results: list[dict]) -> dict:
    scores = [r["score"] for r in results if r["score"] is not None]
    dimensions: dict[str, list[float]] = {}
    for result in results:
        for name, value in result["dimensions"].items():
            if value is not None:
                dimensions.setdefault(name, []).append(value)
    return {"conversations": len(results), "mean_score": round(sum(scores) / len(scores), 4) if scores else None,
            "dimensions": {k: round(sum(v) / len(v), 4) for k, v in sorted(dimensions.items())},
            "rubric_versions": sorted({r["rubric_version"] for r in results})}


class Command(BaseCommand):
    help = "Grade conversations against HealthBench-format rubrics with a grader model."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--conversations", required=True)
        parser.add_argument("--rubrics", required=True)
        parser.add_argument("--out", required=True)
        parser.add_argument("--model", default="", help="grader's OpenAI-compatible base URL (default: configured)")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, conversations: str, rubrics: str, out: str, model: str, no_progress: bool,
               **options) -> None:
        talks, errors = read_jsonl(conversations, "conversations", read_conversation)
        rubric_rows, rubric_errors = read_jsonl(rubrics, "rubrics", read_rubric)
        for error in errors + rubric_errors:
            self.stderr.write(f"skipped {error['file']} line {error['line']}: {error['error']}")
        by_id = {r["id"]: r for r in rubric_rows}
        client = client_for(model, "", 120) if model else default_client()
        path = Path(out)
        results: list[dict] = []
        if path.exists():
            try:
                results = json.loads(path.read_text(encoding="utf-8")).get("results", [])
            except ValueError as exc:
                raise CommandError(f"{out} is not a grade report ({exc}); move it away to start over") from exc
        done = {r["id"] for r in results}
        missing = [t["id"] for t in talks if t["id"] not in by_id]
        if missing:
            self.stderr.write(f"no rubric for {len(missing)} conversations: {', '.join(missing[:10])}")
        todo = [t for t in talks if t["id"] in by_id and t["id"] not in done]
        with tqdm(total=len(todo), desc="conversations", unit="conv", disable=no_progress, file=sys.stderr) as bar:
            for talk in todo:
                try:
                    results.append(grade(talk, by_id[talk["id"]], client))
                except ModelUnavailable as exc:
                    self.save(path, results, errors + rubric_errors, client)
                    raise CommandError(f"the grader model is unreachable ({exc}); {len(results)} graded "
                                       f"conversations are in {out}; rerun to resume") from exc
                self.save(path, results, errors + rubric_errors, client)
                bar.update(1)
        self.save(path, results, errors + rubric_errors, client)
        summary = summarise(results)
        self.stdout.write(f"{summary['conversations']} conversations graded, mean score {summary['mean_score']} "
                          f"-> {out}")

    def save(self, path: Path, results: list[dict], errors: list[dict], client) -> None:
        summary = summarise(results) | {"grader_model": client.config.model,
                                        "grader_url": client.config.base_url or settings.MODEL_BASE_URL}
        write_json(path, {"summary": summary, "skipped_lines": errors, "results": results})
