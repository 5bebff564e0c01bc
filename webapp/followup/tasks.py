"""The beat's follow-up task: thin, it runs one pass of webapp.actions.followup.do_run_check_ins.

Two beats, an overlapping run or a retried task are harmless: each check-in is claimed by a versioned update of
its Task in the transaction that stores its message (see do_send_due_check_ins)."""

from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(name="webapp.followup.tasks.run_check_ins", ignore_result=True)
def run_check_ins() -> dict[str, int]:
    from webapp.actions.followup import do_run_check_ins

    result = do_run_check_ins()
    counts = {name: len(ids) for name, ids in vars(result).items()}
    if any(counts.values()):
        log.info("check-ins: %s", counts)
    return counts
