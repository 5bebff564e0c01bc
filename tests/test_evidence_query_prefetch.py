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


def _state(turn, phase: str, complaint: str = "sore_throat") -> None:
    from django.utils import timezone

    from agent.models import InquiryState

    InquiryState.objects.create(turn=turn, conversation=turn.conversation, message=turn.message, complaint=complaint,
                                episode_started_at=timezone.now(), phase=phase, reason="test")


@pytest.fixture
def prefetched():
    embed._prefetched.clear()
    yield embed._prefetched
    for future in list(embed._prefetched.values()):
        future.result()
    embed._prefetched.clear()


@pytest.mark.django_db
@pytest.mark.parametrize("phase, expected", [("advice", ["sore throat it still hurts"]), ("inquiry", [])])
def test_before_the_claim_a_turn_after_advice_starts_its_query(cast, prefetched, phase, expected):
    from agent.agents.evidence import prefetch_for_turn
    from tests.support.turns import new_turn
    from webapp.chat.models import TurnStatus

    alice = cast["alice"]
    assert alice.fhir_id  # she has a record: the inquiry agent decides the phase
    first = new_turn(alice, "I have a sore throat")
    _state(first, phase)
    first.status = TurnStatus.DONE
    first.save()
    second = new_turn(alice, "it still hurts")
    prefetch_for_turn(second.id)
    assert list(prefetched) == expected


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
