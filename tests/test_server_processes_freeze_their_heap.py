"""The web and worker processes move their startup heap out of the collector's way (webapp/heap.py): otherwise
each full collection walks ~230,000 objects, a ~100 ms pause in the middle of some patient's turn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

REPORT = """
import gc, json, sys
local = sys.modules.get("agent.evidence.index_local")
grounding = sys.modules.get("agent.evidence.grounding")
print(json.dumps({"frozen": gc.get_freeze_count(), "walked": len(gc.get_objects()),
                  "harness": "agent.turn" in sys.modules, "evidence": len(local._matrices) if local else 0,
                  "lexicon": grounding.lexicon.cache_info().currsize if grounding else 0}))
"""


def heap_after(code: str) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "webapp.settings"}
    out = subprocess.run([sys.executable, "-c", code + REPORT], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_web_process_freezes_django_and_the_apps():
    heap = heap_after("import webapp.asgi")  # what uvicorn loads (scripts/stack.py)
    assert heap["frozen"] > 100_000
    assert heap["walked"] < heap["frozen"] / 10  # what a full collection still walks


def test_a_worker_pool_process_loads_the_harness_then_freezes(evidence_corpus):
    heap = heap_after(f"import os; os.environ['EVIDENCE_INDEX_PATH'] = {str(evidence_corpus.path)!r}\n"
                      "import django; django.setup()\n"
                      "from celery.signals import worker_process_init\n"
                      "import agent.tasks\n"
                      "worker_process_init.send(sender=None)\n")  # as Celery does in each new pool process
    assert heap["harness"], "the harness should be loaded before the freeze, not on the first turn"
    assert heap["evidence"] == 1, "the evidence index's vectors should be loaded before the first turn"
    assert heap["lexicon"] == 1, "the grounding check's lexicon should be built before the first reply"
    assert heap["frozen"] > 100_000
    assert heap["walked"] < heap["frozen"] / 10
