"""Turn parsed criteria into a queryset over StoredResource, using SearchIndex rows."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import reduce

from django.db.models import Exists, F, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Left
from django.db.models.lookups import Exact

from fhir.dates import EARLIEST, LATEST, date_range
from fhir.definitions import SearchParam
from fhir.errors import FhirError
from fhir.indexing import COMPOSITE_FIRST, COMPOSITE_SECOND, moved_value, normalise, split_reference
from fhir.models import SearchIndex, StoredResource
from fhir.search.parse import PREFIXES, Criterion, split_escaped, unescape
from fhir.search.text import HasWord, words

_PREFIXED = re.compile(rf"^({'|'.join(PREFIXES)})?(.+)$")
# A decimal as FHIR writes it (no NaN, no Infinity), with an exponent small enough to compute with.
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?")
# '+' in an unencoded query string arrives as a space: '2024-03-15T10:30:00 02:00' meant +02:00.
_SPACED_OFFSET = re.compile(r"(T[\d:.]+) (\d{2}:\d{2})$")


def _prefix(value: str) -> tuple[str, str]:
    match = _PREFIXED.match(value)
    if match is None:  # nothing at all, e.g. the number in '|system|code'
        return "eq", value
    prefix, rest = match.group(1) or "eq", match.group(2)
    if rest[:1] not in "0123456789-+.":  # 'eq' could be the start of a word, not a prefix
        return "eq", value
    return prefix, rest


def _token_q(value: str, modifier: str | None) -> Q:
    if modifier == "text":
        return Q(value__startswith=normalise(unescape(value)))
    parts = split_escaped(value, "|")
    if len(parts) > 1:  # system|code, |code (no system), system| (any code in the system)
        system, code = unescape(parts[0]), unescape("|".join(parts[1:]))
        q = Q(system=system) if system else Q(system__isnull=True)
        return q & Q(code=code) if code else q
    return Q(code=unescape(value))


def _string_q(value: str, modifier: str | None) -> Q:
    value = unescape(value)
    if modifier == "exact":
        return Q(code=value)
    if modifier == "contains":
        return Q(value__contains=normalise(value))
    return Q(value__startswith=normalise(value))


def _reference_q(value: str, target_type: str | None) -> Q:
    value = unescape(value)
    ref_type, ref_id = split_reference(value)
    if ref_id is None:  # a bare id
        q = Q(ref_id=value)
        return q & Q(ref_type=target_type) if target_type else q
    if value.startswith(("http://", "https://", "urn:")):
        return Q(code=value) | Q(ref_type=ref_type, ref_id=ref_id)
    return Q(ref_type=ref_type, ref_id=ref_id)


def _widened(moment: datetime, by: timedelta) -> datetime:
    try:
        return min(max(moment + by, EARLIEST), LATEST)
    except OverflowError:
        return EARLIEST if by < timedelta(0) else LATEST


def _date_q(value: str) -> Q:
    prefix, text = _prefix(value)
    try:
        low, high = date_range(_SPACED_OFFSET.sub(r"\1+\2", text))
    except ValueError:
        raise FhirError("invalid", f"{value!r} is not a valid FHIR date") from None
    if prefix == "ap":  # approximately: the spec recommends 10% of the gap between now and the date
        now = datetime.now(UTC)
        low, high = _widened(low, -abs(now - low) / 10), _widened(high, abs(now - high) / 10)
    return {
        "eq": Q(low__gte=low, high__lte=high),
        "ne": ~Q(low__gte=low, high__lte=high),
        "gt": Q(high__gt=high),
        "lt": Q(low__lt=low),
        "ge": Q(high__gt=low),
        "le": Q(low__lt=high),
        "sa": Q(low__gte=high),
        "eb": Q(high__lte=low),
        "ap": Q(low__lt=high, high__gt=low),
    }[prefix]


def _number_q(value: str, with_units: bool) -> Q:
    number_text, system, code = value, None, None
    if with_units:
        parts = [unescape(p) for p in split_escaped(value, "|")]
        if len(parts) > 3:
            raise FhirError("invalid", f"{value!r}: a quantity is number|system|code")
        number_text, system, code = (parts + [None, None])[:3]
    prefix, number_text = _prefix(number_text)
    try:
        if not _NUMBER.fullmatch(number_text):
            raise InvalidOperation
        number = Decimal(number_text)
        # eq means 'within the precision given': 5.5 matches [5.45, 5.55).
        half = Decimal(5) * Decimal(10) ** (number.as_tuple().exponent - 1)
        low, high, value_f = float(number - half), float(number + half), float(number)
        if not all(map(math.isfinite, (low, high, value_f))):
            raise InvalidOperation
    except InvalidOperation:
        raise FhirError("invalid", f"{value!r} is not a number this server can compare") from None
    near = sorted((value_f * 0.9, value_f * 1.1))  # ap: within 10% (either way round for negative values)
    q = {
        "eq": Q(number__gte=low, number__lt=high),
        "ne": ~Q(number__gte=low, number__lt=high),
        "gt": Q(number__gt=value_f), "lt": Q(number__lt=value_f),
        "ge": Q(number__gte=value_f), "le": Q(number__lte=value_f),
        "sa": Q(number__gt=value_f), "eb": Q(number__lt=value_f),
        "ap": Q(number__gte=near[0], number__lte=near[1]),
    }[prefix]
    if system:
        q &= Q(system=system)
    if code:
        q &= Q(code=code) | Q(value=normalise(code)) if not system else Q(code=code)
    return q


def _starts_with(prefix: str) -> Q:
    # LIKE is case-insensitive on SQLite: the comparison of the leading characters keeps a URI's case.
    return Q(code__startswith=prefix) & Q(Exact(Left("code", len(prefix)), prefix))


def _uri_q(value: str, modifier: str | None) -> Q:
    """A URI, or with :below the URIs under it and with :above those it is under, path segment by segment
    (http://a.org/fhir is above http://a.org/fhir/ValueSet/1; http://a.org/fhirx is neither)."""
    value = unescape(value)
    if modifier == "below":
        return Q(code=value) | _starts_with(value if value.endswith("/") else value + "/")
    if modifier == "above":
        prefixes = {value} | {value[:i + end] for i, c in enumerate(value) if c == "/" for end in (0, 1)}
        return Q(code__in=sorted(p for p in prefixes if p))
    return Q(code=value)


def _moved(q: Q, columns: dict[str, str], *, seek: bool) -> Q:
    """The same condition on the columns a composite row holds the component in (fhir/indexing.py).

    Only the first component (seek=True) is left for an index to seek: the row is found by (param, code, resource)
    and the second component checked on it. Left bare, a range on the second led SQLite to (param, number), and
    it then scanned every row in the range for each candidate: 3,000 blood pressures, 4 to 12 s per search.
    """
    children: list = []
    for child in q.children:
        if isinstance(child, Q):
            children.append(_moved(child, columns, seek=seek))
            continue
        lookup, value = child
        column, _, name = lookup.partition("__")
        target, value = columns[column], moved_value(columns[column], value)
        if seek:
            children.append((f"{target}__{name}" if name else target, value))
        else:  # COALESCE(x, x) is x, but no index on x answers it
            lookup_class = SearchIndex._meta.get_field(target).get_lookup(name or "exact")
            children.append(lookup_class(Coalesce(F(target), F(target)), value))
    return Q(*children, _connector=q.connector, _negated=q.negated)


def _component_q(kind: str, value: str) -> Q:
    if kind == "token":
        return _token_q(value, None)
    if kind == "reference":  # a composite row keeps only the type and id
        value = unescape(value)
        ref_type, ref_id = split_reference(value)
        return Q(ref_id=value) if ref_id is None else Q(ref_type=ref_type, ref_id=ref_id)
    if kind == "quantity":
        return _number_q(value, True)
    if kind == "date":
        return _date_q(value)
    return _string_q(value, None)


def _composite_q(param: SearchParam, value: str) -> Q:
    """'code$value': both components found in the same element, each compared as its own parameter would be."""
    parts = split_escaped(value, "$")
    first, second = param.components
    if len(parts) != 2 or not all(parts):
        raise FhirError("invalid", f"{param.code}={value!r}: expected {first.code}${second.code}")
    return (_moved(_component_q(first.type, parts[0]), COMPOSITE_FIRST[first.type], seek=True)
            & _moved(_component_q(second.type, parts[1]), COMPOSITE_SECOND[first.type, second.type], seek=False))


def _value_q(criterion: Criterion, value: str) -> Q:
    kind = criterion.param.type
    if criterion.param.code == "_id":
        return Q(code=unescape(value))
    if kind == "composite":
        return _composite_q(criterion.param, value)
    if kind == "token":
        return _token_q(value, criterion.modifier)
    if kind == "string":
        return _string_q(value, criterion.modifier)
    if kind == "reference":
        return _reference_q(value, criterion.target_type)
    if kind == "date":
        return _date_q(value)
    if kind in ("quantity", "number"):
        return _number_q(value, kind == "quantity")
    return _uri_q(value, criterion.modifier)


def criterion_filter(criterion: Criterion, outer: str = "pk",
                     visible: Callable[[str], QuerySet] | None = None) -> Q:
    """A condition on StoredResource rows (joined through OuterRef(outer)) for one AND clause.

    ``visible(type)`` limits what a chain or _has may look through to what the requester may see, so
    such a search cannot probe records outside their reach.
    """
    if criterion.either:  # a chain without :Type, through each type that has the next parameter
        return reduce(operator.or_, (criterion_filter(option, outer, visible) for option in criterion.either))
    if criterion.has is not None:  # some visible resource of that type points here and matches the rest
        sources = (visible(criterion.has) if visible else StoredResource.objects.filter(
            resource_type=criterion.has)).filter(deleted=False)
        sources = sources.filter(criterion_filter(criterion.chain, visible=visible))
        pointing = SearchIndex.objects.filter(param=criterion.param.code, ref_id=OuterRef("fhir_id"),
                                              ref_type=criterion.target_type, resource__in=sources.values("pk"))
        return Q(Exists(pointing))
    if criterion.param.type == "special":  # _text, _content: every word of some value (fhir/search/text.py)
        narrative = criterion.param.code == "_text"
        return reduce(operator.or_, (reduce(operator.and_, (Q(HasWord(word, narrative)) for word in words(value)))
                                     for value in criterion.values))
    rows = SearchIndex.objects.filter(resource=OuterRef(outer), param=criterion.param.code)
    if criterion.chain is not None:
        targets = (visible(criterion.target_type) if visible else StoredResource.objects.filter(
            resource_type=criterion.target_type)).filter(deleted=False)
        targets = targets.filter(criterion_filter(criterion.chain, visible=visible))
        return Q(Exists(rows.filter(ref_type=criterion.target_type, ref_id__in=targets.values("fhir_id"))))
    if criterion.modifier == "missing":
        present = Exists(rows)
        return ~Q(present) if criterion.values == ["true"] else Q(present)
    values = Q()
    for value in criterion.values:
        if value == "":
            raise FhirError("invalid", f"empty value for {criterion.param.code!r}")
        values |= _value_q(criterion, value)
    if criterion.modifier == "not":
        return ~Q(Exists(rows.filter(values)))
    if criterion.param.type == "reference" and outer == "pk":
        # A reference (patient=X, subject=...) names few resources: they drive the search. As a correlated EXISTS,
        # SQLite scanned every resource of the type and checked each: Observation?patient=X&code=Y read all
        # 130,000 Observations of 100 Synthea patients (224 ms p50), where the patient has a thousand.
        return Q(pk__in=SearchIndex.objects.filter(param=criterion.param.code).filter(values).values("resource_id"))
    return Q(Exists(rows.filter(values)))


_SORT_COLUMN = {"date": "low", "string": "value", "token": "code", "reference": "code", "uri": "code",
                "quantity": "number", "number": "number"}
_SORT_COLUMN_DESCENDING = {**_SORT_COLUMN, "date": "high"}


def apply_sort(queryset: QuerySet, resource_type: str, sort: list[tuple[str, bool]]) -> QuerySet:
    from fhir.definitions import search_params

    order = []
    for i, (code, descending) in enumerate(sort):
        if code == "_lastUpdated":
            expression = F("last_updated")
        elif code == "_id":
            expression = F("fhir_id")
        else:
            # A repeating value sorts by the one that comes first in the order asked for (R4 search, _sort):
            # the lowest ascending, the highest descending; a period by its start, or by its end descending.
            kind = search_params(resource_type)[code].type
            key = Max(_SORT_COLUMN_DESCENDING[kind]) if descending else Min(_SORT_COLUMN[kind])
            sub = (SearchIndex.objects.filter(resource=OuterRef("pk"), param=code).values("resource")
                   .annotate(key=key).values("key"))
            queryset = queryset.annotate(**{f"_sort{i}": Subquery(sub)})
            expression = F(f"_sort{i}")
        order.append(expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True))
    return queryset.order_by(*order, "pk")
