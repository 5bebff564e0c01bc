"""Text analysis shared by both indexes: Elasticsearch's integ-test node has no stemmer (docs/evidence.md), so
Continuum stems before indexing and querying, the same way for the local FTS5 index and for Elasticsearch."""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff]")

STOPWORDS = frozenset(str.split("""
a about above after again against all am an and any are as at be because been before being below between both
but by can could did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i if in into is it its itself just me more most my myself no nor not of off on once
only or other our ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves may might must shall also per e g eg ie s t
"""))

_stemmer = snowballstemmer.stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased words; CJK characters one by one (what Elasticsearch's standard tokenizer does)."""
    out: list[str] = []
    for token in _WORD.findall(text.lower()):
        if _CJK.search(token):
            out.extend(ch for ch in token if not ch.isspace())
        else:
            out.append(token)
    return out


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def terms(text: str) -> list[str]:
    """The index terms of a text: words without stop words, stemmed ("kidneys" and "kidney" meet)."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


def analysed(text: str) -> str:
    """The stemmed form both indexes store and search (space-separated terms)."""
    return " ".join(terms(text))
