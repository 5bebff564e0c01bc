"""Celery tasks that run agent turns. Thin: take ids, delegate, retry.

Tasks are acknowledged late and rejected (requeued) if their worker dies
(settings: CELERY_TASK_ACKS_LATE, CELERY_TASK_REJECT_ON_WORKER_LOST). The
database turn row, not the broker, is the record of what still needs an
answer: reconcile_turns re-enqueues anything the queue lost.
"""

from __future__ import annotations

from celery import shared_task
from celery.signals import task_postrun, task_prerun, worker_process_init, worker_ready
from django.db import close_old_connections

from webapp.actions.turns import TurnBusy, do_reconcile_turns


@shared_task(bind=True, name="agent.tasks.run_turn", max_retries=None)
def run_turn(self, turn_id: int) -> None:
    from agent.turn import run_turn as run

    try:
        run(turn_id)
    except TurnBusy as exc:
        raise self.retry(countdown=2, exc=exc) from exc


@shared_task(bind=True, name="agent.tasks.record_measurements", max_retries=5)
def record_measurements(self, message_id: int) -> int:
    """The readings a patient reported in one message -> Observations, then the trend rules. Idempotent, so a
    retry (or a redelivery after a worker died) writes nothing twice. Returns how many Observations it wrote."""
    from webapp.actions.measurements import do_record_measurements

    try:
        return do_record_measurements(message_id).created
    except Exception as exc:  # the database was busy or away: try again shortly
        raise self.retry(countdown=5, exc=exc) from exc


@shared_task(name="agent.tasks.reconcile_measurements")
def reconcile_measurements() -> list[int]:
    from webapp.actions.measurements import do_reconcile_measurements

    return do_reconcile_measurements()


@shared_task(name="agent.tasks.reconcile_turns")
def reconcile_turns() -> list[int]:
    return do_reconcile_turns()


@worker_ready.connect
def reconcile_on_start(**_) -> None:
    """A worker that starts after a crash picks up what its predecessor left."""
    reconcile_turns.delay()


@task_prerun.connect
@task_postrun.connect
def release_connections(**_) -> None:
    """Hand unusable or finished connections back to the pool around each task (settings.CELERY_DB_REUSE_MAX)."""
    close_old_connections()


@worker_process_init.connect
def build_model_client(**_) -> None:
    """Each pool process builds its model client, warms the evidence search and builds the grounding check's lexicon
    before its first turn (tens of milliseconds, half a second and a third of one that the first patients it answers
    would otherwise wait for), then freezes its startup heap (webapp/heap.py)."""
    import agent.turn  # noqa: F401  (the harness and what it imports: loaded now, then frozen with the rest)
    from agent.evidence import grounding, search
    from agent.model.client import default_client
    from webapp.heap import freeze_startup_heap

    default_client()
    search.warm_up()
    grounding.warm_up()
    freeze_startup_heap()  # full collections would walk ~230,000 startup objects: ~100 ms pauses mid-turn
