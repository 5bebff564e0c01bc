"""Text normalisation for rule matching: case, accents, punctuation, clauses."""

from __future__ import annotations

import re
import unicodedata

# Clause breaks: a negation does not reach across these ("no fever but chest pain").
# Decimal points and commas ("39.8", "38,5") are not breaks.
_CLAUSE_BREAK = re.compile(
    r"(?<!\d)[.,](?!\d)|[.,](?=\s)|[;!?\n。；！？，]"
    r"|\b(?:but|however|although|though|except|mais|cependant|pero|aunque|sino)\b|但是|可是"
)


def fold(text: str) -> str:
    """Lower case, accents removed (Spanish and French typed without them still match),
    apostrophes unified, every run of spaces one space. CJK characters are kept."""
    text = text.lower().replace("’", "'").replace("`", "'")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", text).strip()


def clauses(text: str) -> list[str]:
    return [part.strip() for part in _CLAUSE_BREAK.split(fold(text)) if part and part.strip()]


_CLAUSE_BREAK_ANY_CASE = re.compile(_CLAUSE_BREAK.pattern, re.IGNORECASE)


def clauses_as_written(text: str) -> list[tuple[str, str]]:
    """Each clause as the patient wrote it, with its folded form for matching."""
    pieces = (piece.strip() for piece in _CLAUSE_BREAK_ANY_CASE.split(text) if piece)
    return [(piece, fold(piece)) for piece in pieces if piece]
