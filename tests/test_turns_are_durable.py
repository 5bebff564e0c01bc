"""Turn rows are the record of what needs an answer: idempotent, deferrable, reconciled."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agent.turn import run_turn
from tests.support.scripted_model import Script
from tests.support.turns import client_for, new_turn
from webapp.actions.messages import do_send_patient_message
from webapp.actions.turns import TurnBusy, do_claim_turn, do_complete_turn, do_reconcile_turns
from webapp.chat.models import Author, Message, Turn, TurnStatus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite_pass]


def test_a_turn_streams_and_stores_its_reply_once(cast, scripted_model):
    turn = new_turn(cast["alice"])
    scripted_model.queue(Script(text="How long has it hurt?"))
    reply = run_turn(turn.id, client_for(scripted_model))
    assert reply.text == "How long has it hurt?"
    assert run_turn(turn.id, client_for(scripted_model)) is None  # running it again does nothing
    assert Message.objects.filter(author=Author.AGENT).count() == 1
    turn.refresh_from_db()
    assert turn.status == TurnStatus.DONE and turn.partial_text == ""


def test_reasoning_is_stored_apart_and_never_in_the_reply(cast, scripted_model):
    turn = new_turn(cast["alice"])
    scripted_model.queue(Script(text="<think>Consider gout.</think>Is the joint red or hot?",
                                reasoning="Field reasoning."))
    reply = run_turn(turn.id, client_for(scripted_model))
    assert reply.text == "Is the joint red or hot?"
    assert reply.reasoning == "Field reasoning.Consider gout."
    assert "reasoning" not in reply.as_event()


def test_completing_twice_stores_one_reply(cast):
    """On PostgreSQL outside a transaction (as in a worker) the turn is closed and the reply stored by one statement;
    the reply returned is the row stored."""
    turn = do_claim_turn(new_turn(cast["alice"]).id)
    reply = do_complete_turn(turn, "first", "my reasoning")
    assert do_complete_turn(turn, "second", "") is None
    assert list(Message.objects.filter(author=Author.AGENT).values_list("text", flat=True)) == ["first"]
    stored = Message.objects.get(pk=reply.pk)
    assert (stored.author, stored.text, stored.reasoning, stored.turn_id, stored.conversation_id, stored.created_at,
            stored.client_id, stored.triage_reasons) == (Author.AGENT, "first", "my reasoning", turn.id,
                                                         turn.conversation_id, reply.created_at, "", [])
    turn.refresh_from_db()
    assert turn.status == TurnStatus.DONE and turn.finished_at and turn.partial_text == ""


def test_an_unreachable_model_defers_the_turn_and_keeps_the_message(cast, scripted_model):
    turn = new_turn(cast["alice"])
    scripted_model.queue(Script(status=503))
    assert run_turn(turn.id, client_for(scripted_model)) is None
    turn.refresh_from_db()
    assert turn.status == TurnStatus.PENDING and turn.patient_told_delay
    assert turn.next_attempt_at > timezone.now()
    assert "503" in turn.last_error
    assert Message.objects.filter(author=Author.PATIENT).count() == 1


def test_the_reconciler_takes_back_a_turn_whose_worker_died(cast, settings):
    turn = do_claim_turn(new_turn(cast["alice"]).id)
    stale = timezone.now() - timedelta(seconds=settings.TURN_STALL_SECONDS + 1)
    Turn.objects.filter(id=turn.id).update(heartbeat_at=stale)
    assert do_reconcile_turns() == [turn.id]
    turn.refresh_from_db()
    assert turn.status == TurnStatus.PENDING and turn.last_error == "worker lost"


def test_the_reconciler_re_enqueues_a_turn_the_broker_lost(cast, settings):
    turn = new_turn(cast["alice"])
    assert do_reconcile_turns() == []  # just enqueued: leave it to the queue
    stale = timezone.now() - timedelta(seconds=settings.TURN_STALL_SECONDS + 1)
    Turn.objects.filter(id=turn.id).update(enqueued_at=stale)
    assert do_reconcile_turns() == [turn.id]


def test_a_message_sent_while_a_turn_runs_gets_its_own_turn(cast):
    alice = cast["alice"]
    running = do_claim_turn(new_turn(alice, "first").id)
    do_send_patient_message(alice, alice.conversation, "second")
    pending = Turn.objects.get(conversation=alice.conversation, status=TurnStatus.PENDING)
    assert pending.id != running.id and pending.message.text == "second"


def test_a_turn_is_claimed_once_unless_its_worker_went_quiet(cast, settings):
    alice = cast["alice"]
    turn = do_claim_turn(new_turn(alice, "first").id)
    assert turn.status == TurnStatus.RUNNING and turn.attempts == 1 and turn.conversation == alice.conversation
    with pytest.raises(TurnBusy):
        do_claim_turn(turn.id)  # running, heartbeat fresh
    stale = timezone.now() - timedelta(seconds=settings.TURN_STALL_SECONDS + 1)
    Turn.objects.filter(id=turn.id).update(heartbeat_at=stale, partial_text="half")
    again = do_claim_turn(turn.id)
    assert again.attempts == 2 and again.partial_text == "" and again.started_at == turn.started_at
    do_complete_turn(again, "answer", "")
    assert do_claim_turn(turn.id) is None  # done


def test_a_deferred_turn_waits_and_a_busy_conversation_makes_others_wait(cast):
    alice = cast["alice"]
    first = new_turn(alice, "first")
    Turn.objects.filter(id=first.id).update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    assert do_claim_turn(first.id) is None  # deferred
    Turn.objects.filter(id=first.id).update(next_attempt_at=timezone.now())
    do_claim_turn(first.id)
    second = Turn.objects.create(conversation=alice.conversation, message=first.message)
    with pytest.raises(TurnBusy):
        do_claim_turn(second.id)  # the conversation's other turn is running
    assert Turn.objects.get(id=second.id).status == TurnStatus.PENDING


def test_a_long_turn_keeps_its_heartbeat_fresh_and_is_not_taken_back(cast, scripted_model, settings):
    """One heartbeat thread per process beats for every running turn: a turn whose model takes longer than the
    stall limit is still its worker's (the first beat may come after the thread's current sleep, up to 5 s)."""
    import threading
    import time

    from django.db import connections

    settings.TURN_STALL_SECONDS = 3
    turn = new_turn(cast["alice"])
    scripted_model.queue(Script(text="slow words arrive one by one here", delay=1.0))  # about 7 s in all
    def run() -> None:
        try:
            run_turn(turn.id, client_for(scripted_model))
        finally:
            connections.close_all()  # this thread's: the test database is dropped afterwards

    runner = threading.Thread(target=run)
    runner.start()
    try:
        time.sleep(6.5)
        turn.refresh_from_db()
        assert turn.status == TurnStatus.RUNNING
        assert timezone.now() - turn.heartbeat_at < timedelta(seconds=settings.TURN_STALL_SECONDS)
        assert do_reconcile_turns() == []
    finally:
        runner.join(timeout=30)
    turn.refresh_from_db()
    assert turn.status == TurnStatus.DONE
