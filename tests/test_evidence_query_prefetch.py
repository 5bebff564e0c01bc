"""A turn that will advise starts its evidence query's embedding while it reads the record; the search collects it."""

from __future__ import annotations

import numpy as np
import pytest

from agent.evidence import embed
from agent.evidence.embed import embed_query, prefetch_query

pytestmark = [pytest.mark.sqlite_pass]


def test_a_prefetched_query_gives_the_same_vector_and_is_collected_once():
    text = "sore throat for three days, worse when swallowing"
    fresh = embed_query(text)
    prefetch_query(text)
    assert text in embed._prefetched
    assert np.allclose(embed_query(text), fresh)
    assert text not in embed._prefetched  # collected: the next search of the same words embeds anew
    assert np.allclose(embed_query(text), fresh)


def test_prefetches_never_collected_are_bounded():
    texts = [f"headache for {n} days" for n in range(3 * embed._PREFETCH_KEPT)]
    for text in texts:
        prefetch_query(text)
    assert len(embed._prefetched) <= embed._PREFETCH_KEPT
    assert texts[-1] in embed._prefetched and texts[0] not in embed._prefetched
    for text in texts[-embed._PREFETCH_KEPT:]:
        embed_query(text)
    assert not embed._prefetched


def _state(turn, phase: str, complaint: str = "sore_throat", missing=("onset",), asked=()) -> None:
    from django.utils import timezone

    from agent.models import InquiryState

    InquiryState.objects.create(turn=turn, conversation=turn.conversation, message=turn.message, complaint=complaint,
                                episode_started_at=timezone.now(), phase=phase, reason="test", missing=list(missing),
                                asked=list(asked))


@pytest.fixture
def prefetched():
    embed._prefetched.clear()
    yield embed._prefetched
    for future in list(embed._prefetched.values()):
        future.result()
    embed._prefetched.clear()


@pytest.mark.django_db
@pytest.mark.parametrize("phase, asked, expected", [
    ("advice", (), ["sore throat it still hurts"]),
    ("inquiry", (), []),  # the history is still being taken, and this reply answers nothing asked
    ("inquiry", ("onset",), ["sore throat it still hurts"]),  # it answers the last question asked
])
def test_before_the_claim_a_turn_likely_to_advise_starts_its_query(cast, prefetched, phase, asked, expected):
    from agent.agents.evidence import prefetch_for_turn
    from tests.support.turns import new_turn
    from webapp.chat.models import TurnStatus

    alice = cast["alice"]
    assert alice.fhir_id  # she has a record: the inquiry agent decides the phase
    first = new_turn(alice, "I have a sore throat")
    _state(first, phase, asked=asked)
    first.status = TurnStatus.DONE
    first.save()
    second = new_turn(alice, "it still hurts")
    prefetch_for_turn(second.id)
    assert list(prefetched) == expected


# Conversations as patients write them. Each message's turn is guessed before its claim, then assessed as the harness
# does: the guess must agree with open_episode on whether the turn advises, and on the complaint it searches for.
CONVERSATIONS = {
    "answers the questions asked": ["I have a sore throat", "since monday", "not really", "ok thanks", "and now?"],
    "does not answer, rounds run out": ["I have had a headache", "hmm", "what?", "I don't know", "hello?", "ok"],
    "greeting, then a complaint": ["hello", "thanks", "I have a stomach ache", "it is bad"],
    "a new complaint mid-history": ["I have a sore throat", "and now a rash on my arm", "since yesterday", "no",
                                    "ok"],
    "a red flag mid-history": ["I have a headache", "now I can't move my left arm and my face is drooping", "help"],
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", CONVERSATIONS)
def test_the_guess_agrees_with_the_inquiry(cast, prefetched, name):
    from agent.agents.evidence import prefetch_for_turn, query_for
    from agent.inquiry.picture import open_episode, previous_state, save_state
    from webapp.actions.messages import do_send_patient_message
    from webapp.chat.models import Turn, TurnStatus

    advised = []
    bob = cast["bob"]
    for text in CONVERSATIONS[name]:
        do_send_patient_message(bob, bob.conversation, text)
        turn = Turn.objects.filter(conversation=bob.conversation, status=TurnStatus.PENDING).first()
        if turn is None:  # an emergency is answered at once, without a turn; the next turn reads it
            continue
        prefetch_for_turn(turn.id)
        guessed = list(prefetched)
        for future in list(prefetched.values()):
            future.result()
        prefetched.clear()
        picture = open_episode(turn, previous_state(turn))
        expected = [query_for(picture.complaint_name, turn.message.text)] if picture.phase == "advice" else []
        assert guessed == expected, (text, picture.phase, picture.reason)
        advised.append(picture.phase == "advice")
        save_state(turn, picture)
        turn.status = TurnStatus.DONE
        turn.save()
    assert any(advised) and (not all(advised) or name == "a red flag mid-history")  # both sides are exercised


@pytest.mark.django_db
def test_an_episode_gone_quiet_is_guessed_new(cast, prefetched):
    """Past EPISODE_HOURS the complaint is a new episode: its history is taken again, so nothing is embedded."""
    from datetime import timedelta

    from agent.agents.evidence import prefetch_for_turn
    from agent.inquiry.picture import EPISODE_HOURS
    from agent.models import InquiryState
    from tests.support.turns import new_turn
    from webapp.chat.models import TurnStatus

    first = new_turn(cast["alice"], "I have a sore throat")
    _state(first, "advice")
    quiet_since = first.message.created_at - timedelta(hours=EPISODE_HOURS + 1)
    InquiryState.objects.filter(turn=first).update(created_at=quiet_since)
    first.status = TurnStatus.DONE
    first.save()
    prefetch_for_turn(new_turn(cast["alice"], "my sore throat is back").id)
    assert not prefetched


@pytest.mark.django_db
def test_no_guess_for_a_turn_already_answered_or_unknown(cast, prefetched):
    from agent.agents.evidence import prefetch_for_turn
    from tests.support.turns import new_turn
    from webapp.chat.models import TurnStatus

    first = new_turn(cast["alice"], "I have a sore throat")
    _state(first, "advice")
    first.status = TurnStatus.DONE
    first.save()
    prefetch_for_turn(first.id)  # a redelivered task: the turn is done
    prefetch_for_turn(10**9)
    assert not prefetched


def test_the_query_names_the_complaint_once():
    from agent.agents.evidence import query_for

    assert query_for("sore_throat", "since monday, not better") == "sore throat since monday, not better"
    assert query_for("sore_throat", "My Sore Throat is worse") == "My Sore Throat is worse"
    assert query_for("", "hello") == "hello"
