"""manage.py evaluate_replies: the unsupported-claim rate of real model replies with and without the grounding
check (agent/evidence/eval/replies.py). `--generate N` first asks the configured model (MODEL_BASE_URL) for the
evidence agent's replies to N evaluation questions and writes data/replies.jsonl; the claims of new replies must
then be labelled in data/reply_labels.jsonl before they count. Build the evidence index first."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand

from agent.evidence.eval import replies
from agent.evidence.search import get_passage


class Command(BaseCommand):
    help = "Unsupported claims in model replies, with and without the grounding check."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--generate", type=int, default=0, metavar="N",
                            help="first generate replies to N questions with the configured model")

    def handle(self, *args, generate: int = 0, **options) -> None:
        if generate:
            from agent.model.client import default_client

            client = default_client()
            rows = replies.generate(lambda messages: client.complete(messages, max_tokens=300).content,
                                    settings.MODEL_NAME, limit=generate)
            replies.REPLIES.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
            unlabelled = sum(len(replies.claim_sentences(r["reply"])) for r in rows)
            self.stdout.write(f"wrote {len(rows)} replies ({unlabelled} claim sentences to label) to "
                              f"{replies.REPLIES}")
        self.stdout.write(str(replies.score(get_passage)))
