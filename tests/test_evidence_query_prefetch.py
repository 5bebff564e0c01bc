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
