"""The embedded index ranks in FTS5 alone and filters a pool of the best candidates afterwards (the join to the
passages is what made common-word queries slow at 100,000 passages); the answer must be the same as ranking with the
filters applied: including when the filter passes few of the best, or none of them."""

from __future__ import annotations

import numpy as np
import pytest

from agent.evidence import index_local
from agent.evidence.corpus import Passage
from agent.evidence.embed import DIMENSIONS
from agent.evidence.index import Filters
from agent.evidence.index_local import LocalIndex


def passage(n: int, text: str, language: str = "en") -> Passage:
    return Passage(id=f"ev-{n:010x}", text=text, title="t", section_key=f"s/{n}", section_path="", organisation="o",
                   year=2024, evidence_type="guideline", language=language)


@pytest.fixture
def index(tmp_path) -> LocalIndex:
    # 200 English passages that say "asthma" often (they rank first), then 5 French ones that say it once.
    passages = [passage(i, "asthma asthma asthma inhaler " + f"word{i}") for i in range(200)]
    passages += [passage(1000 + i, f"asthma traitement mot{i} " + "remplissage " * 20, "fr") for i in range(5)]
    built = LocalIndex(tmp_path / "evidence.sqlite3")
    built.upsert(passages, np.ones((len(passages), DIMENSIONS), dtype=np.float32))
    return built


def ranked_with_the_join(index: LocalIndex, query: str, k: int, filters: Filters) -> list[str]:
    """The reference: BM25 with the filters in the same query."""
    where, params = index_local._where(filters)
    terms = " OR ".join(f'"{t}"' for t in sorted(set(query.split())))
    with index._connect() as db:
        rows = db.execute("SELECT p.id FROM passage_terms JOIN passages p ON p.n = passage_terms.rowid "
                          f"WHERE passage_terms MATCH ?{where} ORDER BY bm25(passage_terms) LIMIT ?",
                          [terms, *params, k]).fetchall()
    return [r[0] for r in rows]


@pytest.mark.parametrize("language", [None, "en", "fr", "de"])
def test_the_filtered_top_k_is_the_same_as_ranking_with_the_filter(index, language):
    filters = Filters(language=language)
    found = [pid for pid, _ in index.lexical("asthma", 5, filters)]
    assert found == ranked_with_the_join(index, "asthma", 5, filters)
    if language == "fr":
        assert len(found) == 5 and all(pid.startswith("ev-00000003e") for pid in found)  # beyond the pool of 100
    if language == "de":
        assert found == []


def test_scores_are_bm25_higher_is_better(index):
    scores = [score for _, score in index.lexical("asthma inhaler", 5, Filters())]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0


def test_passages_decoded_once_are_read_again_after_the_index_changes(index):
    first = passage(0, "asthma asthma asthma inhaler word0")
    assert index.get([first.id])[first.id].text == first.text
    assert index.get([first.id])[first.id] is index.get([first.id])[first.id]  # kept decoded
    revised = passage(0, "asthma revised guidance")
    index.upsert([revised], np.ones((1, DIMENSIONS), dtype=np.float32))
    assert index.get([first.id, "ev-missing"]) == {first.id: revised}
    index.delete([first.id])
    assert index.get([first.id]) == {}
