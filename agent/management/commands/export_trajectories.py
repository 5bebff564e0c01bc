"""Write recorded turns as JSONL, one turn per line, fit for training and for replay."""

from __future__ import annotations

import contextlib
import json
import sys
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from agent.models import Trajectory


def as_record(trajectory: Trajectory) -> dict:
    """The OpenAI chat format (messages + the final assistant reply) plus what the harness did, for one turn."""
    turn = trajectory.turn
    return {
        "id": f"turn-{turn.id}-attempt-{trajectory.attempt}",
        "conversation": str(turn.conversation.public_id),
        "turn": turn.id,
        "attempt": trajectory.attempt,
        "model": trajectory.model,
        "prompt_version": trajectory.prompt_version,
        "tool_mode": trajectory.tool_mode,
        "triage_level": trajectory.triage_level,
        "messages": [*trajectory.messages, {"role": "assistant", "content": trajectory.reply}],
        "reasoning": trajectory.reasoning,
        "steps": trajectory.steps,
        "usage": {"prompt_tokens": trajectory.prompt_tokens, "completion_tokens": trajectory.completion_tokens,
                  "model_calls": trajectory.model_calls},
        "started_at": trajectory.started_at.isoformat(),
        "seconds": trajectory.seconds,
    }


class Command(BaseCommand):
    help = "Export agent trajectories as JSONL (one turn per line) to a file or standard output."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")
        parser.add_argument("--since", help="only turns started at or after this ISO date/time")
        parser.add_argument("--completed-only", action="store_true", help="skip attempts that produced no reply")

    def handle(self, *args, output: str | None, since: str | None, completed_only: bool, **options) -> None:
        rows = Trajectory.objects.select_related("turn__conversation").order_by("started_at", "id")
        if since:
            try:
                rows = rows.filter(started_at__gte=datetime.fromisoformat(since))
            except ValueError:
                raise CommandError(f"--since {since!r} is not an ISO date or date-time") from None
        if completed_only:
            rows = rows.exclude(reply="")
        with contextlib.ExitStack() as stack:
            stream = stack.enter_context(open(output, "w", encoding="utf-8")) if output else sys.stdout
            count = 0
            for trajectory in rows.iterator(chunk_size=200):
                stream.write(json.dumps(as_record(trajectory), ensure_ascii=False) + "\n")
                count += 1
        self.stderr.write(f"exported {count} trajectories")
