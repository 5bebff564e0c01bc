"""Write HealthBench-format rubrics for OSCE cases or for conversations.

    python manage.py make_rubrics --cases FILE.jsonl --out RUBRICS.jsonl [--model URL] [--limit N]
    python manage.py make_rubrics --conversations FILE.jsonl --out RUBRICS.jsonl [--model URL]

Without --model the rubrics come from the case or conversation alone (deterministic); with it, a model adds a
few specific criteria. Each rubric carries its version (agent/simulation/rubrics.py).
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from agent.management.commands.grade import read_jsonl
from agent.simulation.cases import read_cases
from agent.simulation.grading import read_conversation
from agent.simulation.rubrics import case_rubric, conversation_rubric
from agent.simulation.runs import client_for


class Command(BaseCommand):
    help = "Write rubrics (HealthBench format, five dimensions, versioned) for cases or conversations."

    def add_arguments(self, parser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--cases")
        source.add_argument("--conversations")
        parser.add_argument("--out", required=True)
        parser.add_argument("--model", default="", help="a model that adds specific criteria (default: none)")
        parser.add_argument("--limit", type=int, default=0)

    def handle(self, *args, cases: str | None, conversations: str | None, out: str, model: str, limit: int,
               **options) -> None:
        client = client_for(model, "", 400) if model else None
        if cases:
            try:
                found, errors = read_cases(cases)
            except OSError as exc:
                raise CommandError(f"cannot read {cases}: {exc}") from exc
            for error in errors:
                self.stderr.write(f"skipped {cases} {error}")
            rubrics = [case_rubric(case, client) for case in found[:limit or None]]
        else:
            talks, errors = read_jsonl(conversations, "conversations", read_conversation)
            for error in errors:
                self.stderr.write(f"skipped {conversations} line {error['line']}: {error['error']}")
            rubrics = [conversation_rubric(talk, client) for talk in talks[:limit or None]]
        with open(out, "w", encoding="utf-8") as stream:
            for rubric in rubrics:
                stream.write(json.dumps(rubric, ensure_ascii=False) + "\n")
        self.stdout.write(f"{len(rubrics)} rubrics (version {rubrics[0]['version'] if rubrics else '-'}) -> {out}")
