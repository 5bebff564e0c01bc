"""_text and _content: words in a resource's narrative, or anywhere in its string values.

There is no full-text index (HAPI FHIR needs Lucene for these, and refuses them without it): each word is looked for
in the stored JSON of the rows the other criteria leave, in SQL: SQLite's json_tree and json_extract, PostgreSQL's
jsonpath. A search by _content alone reads every resource of the type, so it is for narrowing, not for browsing.

A value is split into words (letters, digits, underscore); each word must occur, case-insensitively, as a substring;
comma-separated values are alternatives. _text looks in the text of ``text.div`` (not in its tags: ``div`` finds
only narratives that say "div"), _content in every string value (not in element names).
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import BooleanField, Expression, F

from fhir.errors import FhirError

_WORD = re.compile(r"\w+")
MAX_WORDS = 10


def words(value: str) -> list[str]:
    found = _WORD.findall(value)
    if not found:
        raise FhirError("invalid", f"{value!r} has no word to look for (letters or digits)")
    if len(found) > MAX_WORDS:
        raise FhirError("too-costly", f"at most {MAX_WORDS} words in one _text or _content value")
    return found


def _like(word: str) -> str:
    return "%" + word.replace("_", "\\_") + "%"  # a word has no % or backslash; _ is LIKE's one-character wildcard


class HasWord(Expression):
    """True where the resource's narrative (``narrative``) or any of its string values contains ``word``."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, word: str, narrative: bool) -> None:
        super().__init__()
        if not _WORD.fullmatch(word):  # what follows writes it into LIKE patterns, regexes and jsonpath literals
            raise ValueError(f"not a word: {word!r}")
        self.word, self.narrative = word, narrative
        self.column = F("content")

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, expressions: list[Any]) -> None:
        (self.column,) = expressions

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, list]:
        column, params = compiler.compile(self.column)
        # SQLite's LIKE folds ASCII case only; a word with other letters goes through Django's Python REGEXP.
        if self.word.isascii():
            test, pattern = "LIKE %s ESCAPE '\\'", _like(self.word)
        else:
            test, pattern = "REGEXP %s", f"(?i){self.word}"
        if self.narrative:
            div = f"json_extract({column}, '$.text.div')"
            # After a '>' with no '<' between: in the text, not in a tag.
            return f"({div} {test} AND {div} REGEXP %s)", [*params, pattern, *params, f"(?i)>[^<]*{self.word}"]
        # The raw text first (cheap, and it rules out most rows), then the string values alone.
        return (f"({column} {test} AND EXISTS (SELECT 1 FROM json_tree({column}) "
                f"WHERE json_tree.type = 'text' AND json_tree.value {test}))", [*params, pattern, *params, pattern])

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list]:
        column, params = compiler.compile(self.column)
        if self.narrative:
            path = f'$.text.div ? (@ like_regex ">[^<]*{self.word}" flag "i")'
        else:
            path = f'$.** ? (@.type() == "string" && @ like_regex "{self.word}" flag "i")'
        return f"jsonb_path_exists({column}, %s::jsonpath)", [*params, path]
