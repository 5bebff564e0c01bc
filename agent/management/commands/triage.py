"""Triage messages from standard input, one per line, printing one JSON object per line.

    echo "crushing chest pain and sweating" | python manage.py triage
    {"level": "emergency", "reasons": ["possible heart attack: chest pain with sweating (...)"]}
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand

from agent.safety.triage import triage_message


class Command(BaseCommand):
    help = "Deterministic red-flag triage: one message per line on stdin, one JSON object per line on stdout."

    def handle(self, *args, **options) -> None:
        for line in sys.stdin:
            text = line.rstrip("\n")
            self.stdout.write(json.dumps(triage_message(text).as_dict(), ensure_ascii=False))
