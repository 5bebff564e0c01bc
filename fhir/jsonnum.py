"""FHIR JSON with exact decimals: ``1.50`` is read, stored and sent back as ``1.50``, not ``1.5``.

FHIR decimals carry their precision in their text (R4 datatypes, decimal), which a Python float
forgets. A number whose text a float would not give back is read as a ``JsonDecimal``: a float
(so code reading resources compares, computes and ``json.dumps`` as before) that keeps its text,
which ``dumps`` here writes out. The stdlib encoder cannot: it writes every float, subclasses
included, with ``float.__repr__``. Integers stay ints (``3`` is not ``3.0``).
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
# PostgreSQL's jsonb keeps 1.50 but writes 1E-22 positionally (0.0000000000000000000001) and -1.0E+245 as a
# 246-digit integer. So in the database a decimal with an exponent is stored as a string that starts with a
# private-use mark, and a string that really starts with the mark gets a second one; reading undoes both.
_MARK = "\ue000"


class JsonDecimal(float):
    """A float that remembers the JSON text it was read from (``text``)."""

    __slots__ = ("text",)

    def __new__(cls, text: str) -> JsonDecimal:
        if not _JSON_NUMBER.fullmatch(text):  # it is written out as is: float() would also take "1_0" or " 1"
            raise ValueError(f"{text!r} is not a JSON number")
        value = super().__new__(cls, text)
        value.text = text
        return value

    def __reduce__(self) -> tuple:  # copy.deepcopy and pickle: keep the text
        return (JsonDecimal, (self.text,))


def number(text: str) -> float:
    """A JSON number with a fraction or exponent: a plain float when its repr is the text, else a JsonDecimal."""
    value = float(text)
    return value if repr(value) == text or not math.isfinite(value) else JsonDecimal(text)


def as_number(value: Decimal) -> float:
    """A Decimal as the float that writes out its text (``Decimal('1.50')`` -> ``1.50``)."""
    return number(str(value))


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=number)


class Decoder(json.JSONDecoder):
    """For ``JSONField(decoder=...)`` (Django calls ``json.loads(text, cls=Decoder)``)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("parse_float", number)
        super().__init__(**kwargs)

    def decode(self, s: str, *args: Any, **kwargs: Any) -> Any:
        value = super().decode(s, *args, **kwargs)
        return _unmarked(value) if _MARK in s else value


def _float_text(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a JSON number")
    return value.text if type(value) is JsonDecimal else float.__repr__(value)


def _write(value: Any, out: list[str], stored: bool = False) -> None:
    kind = type(value)
    if kind is str:
        out.append(encode_basestring(_MARK + value if stored and value.startswith(_MARK) else value))
    elif kind is dict:
        out.append("{")
        first = True
        for key, item in value.items():
            if not first:
                out.append(",")
            first = False
            if type(key) is not str:
                raise TypeError(f"JSON object keys must be str, not {type(key).__name__}")
            out.append(encode_basestring(key))
            out.append(":")
            _write(item, out, stored)
        out.append("}")
    elif kind is list or kind is tuple:
        out.append("[")
        first = True
        for item in value:
            if not first:
                out.append(",")
            first = False
            _write(item, out, stored)
        out.append("]")
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif stored and kind is JsonDecimal and ("e" in value.text or "E" in value.text):
        out.append(encode_basestring(_MARK + value.text))
    elif isinstance(value, float):
        out.append(_float_text(value))
    elif isinstance(value, Decimal):
        out.append(_float_text(as_number(value)))
    elif isinstance(value, dict):  # OrderedDict and other mappings built by libraries
        _write(dict(value), out, stored)
    elif isinstance(value, (list, tuple)):
        _write(list(value), out, stored)
    elif isinstance(value, str):
        _write(str(value), out, stored)
    else:
        raise TypeError(f"Object of type {kind.__name__} is not JSON serializable")


def dumps(value: Any) -> str:
    """Compact JSON (no spaces, non-ASCII as is) with every JsonDecimal as its text; as fast as json.dumps here."""
    out: list[str] = []
    _write(value, out)
    return "".join(out)


def _exact(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _exact(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_exact(item) for item in value]
    if isinstance(value, (float, Decimal)):
        return ("decimal", dumps(value))
    return value


def same(a: Any, b: Any) -> bool:
    """Equal as FHIR JSON, key order aside: decimals must match in their text too (1.50 is not 1.5, 3 not 3.0)."""
    return _exact(a) == _exact(b)


def _unmarked(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {key: _unmarked(item) for key, item in value.items()}
    if kind is list:
        return [_unmarked(item) for item in value]
    if kind is str and value.startswith(_MARK):
        return value[1:] if value.startswith(_MARK, 1) else JsonDecimal(value[1:])
    return value


class Encoder(json.JSONEncoder):
    """For ``JSONField(encoder=...)``: Django calls ``json.dumps(value, cls=Encoder)``, which lands here."""

    def encode(self, o: Any) -> str:
        out: list[str] = []
        _write(o, out, stored=True)  # with the marks above
        return "".join(out)
