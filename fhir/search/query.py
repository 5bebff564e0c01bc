"""Turn parsed criteria into a queryset over StoredResource, using SearchIndex rows."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.db.models import Exists, F, Min, OuterRef, Q, QuerySet, Subquery

from fhir.dates import date_range
from fhir.errors import FhirError
from fhir.indexing import normalise, split_reference
from fhir.models import SearchIndex, StoredResource
from fhir.search.parse import PREFIXES, Criterion

_PREFIXED = re.compile(rf"^({'|'.join(PREFIXES)})?(.+)$")


def _prefix(value: str) -> tuple[str, str]:
    match = _PREFIXED.match(value)
    prefix, rest = match.group(1) or "eq", match.group(2)
    if rest[:1] not in "0123456789-+.":  # 'eq' could be the start of a word, not a prefix
        return "eq", value
    return prefix, rest


def _token_q(value: str, modifier: str | None) -> Q:
    if modifier == "text":
        return Q(value__startswith=normalise(value))
    if "|" in value:
        system, code = value.split("|", 1)
        q = Q(system=system) if system else Q(system__isnull=True)
        return q & Q(code=code) if code else q
    return Q(code=value)


def _string_q(value: str, modifier: str | None) -> Q:
    if modifier == "exact":
        return Q(code=value)
    if modifier == "contains":
        return Q(value__contains=normalise(value))
    return Q(value__startswith=normalise(value))


def _reference_q(value: str, target_type: str | None) -> Q:
    ref_type, ref_id = split_reference(value)
    if ref_id is None:  # a bare id
        q = Q(ref_id=value)
        return q & Q(ref_type=target_type) if target_type else q
    if value.startswith(("http://", "https://", "urn:")):
        return Q(code=value) | Q(ref_type=ref_type, ref_id=ref_id)
    return Q(ref_type=ref_type, ref_id=ref_id)


def _date_q(value: str) -> Q:
    prefix, text = _prefix(value)
    try:
        low, high = date_range(text)
    except ValueError:
        raise FhirError("invalid", f"{value!r} is not a valid FHIR date") from None
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
    if with_units and "|" in value:
        number_text, system, code = (value.split("|") + ["", ""])[:3]
    prefix, number_text = _prefix(number_text)
    try:
        number = Decimal(number_text)
    except InvalidOperation:
        raise FhirError("invalid", f"{value!r} is not a number") from None
    # eq means 'within the precision given': 5.5 matches [5.45, 5.55).
    exponent = number.as_tuple().exponent
    half = Decimal(5) * Decimal(10) ** (exponent - 1) if isinstance(exponent, int) else Decimal(0)
    low, high, value_f = float(number - half), float(number + half), float(number)
    q = {
        "eq": Q(number__gte=low, number__lt=high),
        "ne": ~Q(number__gte=low, number__lt=high),
        "gt": Q(number__gt=value_f), "lt": Q(number__lt=value_f),
        "ge": Q(number__gte=value_f), "le": Q(number__lte=value_f),
        "sa": Q(number__gt=value_f), "eb": Q(number__lt=value_f),
        "ap": Q(number__gte=value_f * 0.9, number__lte=value_f * 1.1),
    }[prefix]
    if system:
        q &= Q(system=system)
    if code:
        q &= Q(code=code) | Q(value=normalise(code)) if not system else Q(code=code)
    return q


def _value_q(criterion: Criterion, value: str) -> Q:
    kind = criterion.param.type
    if criterion.param.code == "_id":
        return Q(code=value)
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
    return Q(code=value)  # uri


def criterion_filter(criterion: Criterion, outer: str = "pk") -> Q:
    """A condition on StoredResource rows (joined through OuterRef(outer)) for one AND clause."""
    rows = SearchIndex.objects.filter(resource=OuterRef(outer), param=criterion.param.code)
    if criterion.chain is not None:
        targets = StoredResource.objects.filter(resource_type=criterion.target_type, deleted=False)
        targets = targets.filter(criterion_filter(criterion.chain))
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
    return Q(Exists(rows.filter(values)))


_SORT_COLUMN = {"date": "low", "string": "value", "token": "code", "reference": "code", "uri": "code",
                "quantity": "number", "number": "number"}


def apply_sort(queryset: QuerySet, resource_type: str, sort: list[tuple[str, bool]]) -> QuerySet:
    from fhir.definitions import search_params

    order = []
    for i, (code, descending) in enumerate(sort):
        if code == "_lastUpdated":
            expression = F("last_updated")
        elif code == "_id":
            expression = F("fhir_id")
        else:
            column = _SORT_COLUMN[search_params(resource_type)[code].type]
            sub = (SearchIndex.objects.filter(resource=OuterRef("pk"), param=code).values("resource")
                   .annotate(key=Min(column)).values("key"))
            queryset = queryset.annotate(**{f"_sort{i}": Subquery(sub)})
            expression = F(f"_sort{i}")
        order.append(expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True))
    return queryset.order_by(*order, "pk")
