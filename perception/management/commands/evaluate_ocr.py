"""manage.py evaluate_ocr: read the generated ground-truth pages with one or both OCR engines and print
character error rate, lab field accuracy and seconds per page, overall and per degradation.
The pages are generated into --dir on first use (deterministic, seed 0); --json prints the full results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from perception.ocr.engines import ENGINES
from perception.ocr.evaluate import evaluate
from perception.ocr.synthetic import generate

SET_SIZE = 40
COLUMNS = (
    ("pages", "pages", "{:d}"),
    ("cer", "CER", "{:.3f}"),
    ("value_accuracy", "values", "{:.1%}"),
    ("field_accuracy", "fields", "{:.1%}"),
    ("flag_accuracy", "flags", "{:.1%}"),
    ("letter_dose_accuracy", "doses", "{:.1%}"),
    ("seconds_mean", "s/page", "{:.2f}"),
    ("seconds_p50", "p50", "{:.2f}"),
    ("seconds_p95", "p95", "{:.2f}"),
)


def _row(label: str, result: dict[str, Any]) -> str:
    cells = [f"{label:<22}"]
    for key, _, fmt in COLUMNS:
        value = result.get(key)
        cells.append(f"{'-' if value is None else fmt.format(value):>8}")
    return " ".join(cells)


def table(result: dict[str, Any]) -> str:
    header = " ".join([f"{result['engine']:<22}", *(f"{title:>8}" for _, title, _ in COLUMNS)])
    lines = [header, _row("all", result)]
    lines += [_row(f"  {name}", group) for name, group in result["by_degradation"].items()]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Measure the OCR engines on the generated lab reports and letters."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--engine", choices=[*ENGINES, "all"], default="all")
        parser.add_argument("--pages", type=int, default=None, help="read only the first N pages")
        parser.add_argument(
            "--dir", dest="pages_dir", type=Path, default=settings.VAR_DIR / "ocr-eval", help="where the pages live"
        )
        parser.add_argument("--json", dest="as_json", action="store_true", help="print the full results as JSON")

    def handle(
        self, *args: Any, engine: str, pages: int | None, pages_dir: Path, as_json: bool, **options: Any
    ) -> None:
        if len(list(pages_dir.glob("page-*.png"))) < min(pages or SET_SIZE, SET_SIZE):
            self.stderr.write(f"generating {SET_SIZE} pages into {pages_dir}")
            generate(pages_dir, SET_SIZE, seed=0)
        for name in ENGINES if engine == "all" else (engine,):
            result = evaluate(pages_dir, name, limit=pages)
            self.stdout.write(json.dumps(result, indent=1) if as_json else table(result) + "\n")
