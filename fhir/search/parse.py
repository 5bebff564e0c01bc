"""Parse a FHIR search query string into typed criteria; reject what cannot be honoured."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fhir.definitions import RESOURCE_TYPES, SearchParam, search_params
from fhir.errors import FhirError

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
# The R4 modifiers, and those this server honours on each parameter type (reference also takes :[type]).
MODIFIERS = {"exact", "contains", "missing", "not", "text", "above", "below", "identifier", "of-type", "in",
             "not-in"}
SUPPORTED_MODIFIERS = {"string": {"missing", "exact", "contains"}, "token": {"missing", "not", "text"},
                       "reference": {"missing"}, "date": {"missing"}, "number": {"missing"},
                       "quantity": {"missing"}, "uri": {"missing", "above", "below"}, "composite": {"missing"},
                       "special": set()}
DEFAULT_COUNT, MAX_COUNT = 20, 1000
MAX_VALUES, MAX_CRITERIA, MAX_VALUE_LENGTH = 100, 50, 1024
# Reference hops in one criterion (chains and _has together): each is a nested subquery, and a deeper one says
# more about a query built by a program gone wrong than about a clinical question.
MAX_CHAIN_DEPTH = 3
# A chain without :Type goes through every target type that has the next parameter; each is a subquery, so their
# number over the whole criterion is bounded (subject.name on Observation goes through Patient, Group, Location...).
MAX_CHAIN_PATHS = 8
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
RESULT_PARAMS = {"_count", "_offset", "_sort", "_include", "_revinclude", "_summary", "_elements", "_total",
                 "_format", "_pretty", "_contained", "_containedType"}


@dataclass
class Criterion:
    """One AND clause: a parameter (maybe chained) with OR-ed values."""

    param: SearchParam
    modifier: str | None
    values: list[str]
    target_type: str | None = None  # reference:Type modifier, the type a chain goes through, or _has's searched type
    chain: Criterion | None = None  # subject:Patient.name=x -> chain holds name=x on Patient
    # _has:Observation:patient:code=x -> has is Observation, param is its 'patient', chain holds code=x
    has: str | None = None
    # subject.name=x, where a Patient, a Group and a Location all have a name: one chained criterion per type, OR-ed
    either: list[Criterion] = field(default_factory=list)

    @property
    def paths(self) -> int:
        """How many typed chains the criterion stands for (each a subquery)."""
        if self.either:
            return sum(option.paths for option in self.either)
        return 1 if self.chain is None else self.chain.paths


@dataclass
class SearchRequest:
    resource_type: str
    criteria: list[Criterion] = field(default_factory=list)
    count: int = DEFAULT_COUNT
    offset: int = 0
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (param code, descending)
    includes: list[tuple[str, str, str | None]] = field(default_factory=list)  # (source type, param, target type)
    revincludes: list[tuple[str, str, str | None]] = field(default_factory=list)
    # _include:iterate (and R4's older :recurse): followed from matches and included resources alike, to a fixed point
    iterate_includes: list[tuple[str, str, str | None]] = field(default_factory=list)
    iterate_revincludes: list[tuple[str, str, str | None]] = field(default_factory=list)
    summary: str | None = None
    elements: list[str] = field(default_factory=list)
    total: str = "accurate"
    ignored: list[str] = field(default_factory=list)  # unknown parameters skipped in lenient mode


def _int(name: str, text: str, lowest: int) -> int:
    if not re.fullmatch(r"\d{1,9}", text) or int(text) < lowest:
        raise FhirError("invalid", f"{name} must be an integer >= {lowest}, not {text!r}")
    return int(text)


_ESCAPED = re.compile(r"\\([\\,|$])")


def split_escaped(text: str, separator: str) -> list[str]:
    """Split on each ``separator`` not escaped by a backslash; the escapes stay (unescape() removes them)."""
    parts, start, i = [], 0, 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == separator:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def unescape(text: str) -> str:
    """'\\,', '\\|', '\\$' and '\\\\' stand for the character itself (R4 search, 'Escaping search parameters')."""
    return _ESCAPED.sub(r"\1", text)


def split_values(text: str) -> list[str]:
    """Comma-separated OR values, still escaped: '\\,' is a literal comma, unescaped after any '|' split."""
    values = split_escaped(text, ",")
    if len(values) > MAX_VALUES:
        raise FhirError("too-costly", f"at most {MAX_VALUES} values per parameter")
    return values


def _include_spec(name: str, text: str) -> tuple[str, str, str | None]:
    parts = text.split(":")
    if len(parts) not in (2, 3) or parts[0] not in RESOURCE_TYPES:
        raise FhirError("invalid", f"{name}={text!r}: expected SourceType:param[:TargetType]")
    source, code = parts[0], parts[1]
    if code != "*" and (code not in search_params(source) or search_params(source)[code].type != "reference"):
        raise FhirError("invalid", f"{name}={text!r}: {source} has no reference parameter {code!r}")
    target = parts[2] if len(parts) == 3 else None
    if target and target not in RESOURCE_TYPES:
        raise FhirError("invalid", f"{name}={text!r}: unknown target type {target!r}")
    return source, code, target


def _has_criterion(resource_type: str, name: str, raw: str, ignored: list[str]) -> Criterion:
    """_has:Type:param:rest: resources of ``resource_type`` that some Type points at through param, where that Type
    matches rest (a parameter, a chain, or another _has)."""
    parts = name.split(":", 3)
    if len(parts) != 4 or not parts[3]:
        raise FhirError("invalid", f"{name!r}: expected _has:Type:reference-parameter:parameter")
    _, source, code, rest = parts
    if source not in RESOURCE_TYPES:
        raise FhirError("invalid", f"{name!r}: unknown resource type {source!r}")
    param = search_params(source).get(code)
    if param is None or param.type != "reference":
        raise FhirError("invalid", f"{name!r}: {source} has no reference parameter {code!r}")
    if param.target and resource_type not in param.target:
        raise FhirError("invalid", f"{name!r}: {source}.{code} cannot refer to a {resource_type}")
    inner = _criterion(source, rest, raw, True, ignored)
    return Criterion(param, None, [], resource_type, inner, has=source)


def _chain_targets(param: SearchParam, chained: str) -> list[str]:
    """The stored types a chain without :Type goes through: the targets that have the next parameter."""
    targets = [t for t in param.target if t in RESOURCE_TYPES]
    if len(targets) > 1 and not chained.startswith("_has:"):
        following = re.split(r"[.:]", chained, maxsplit=1)[0]
        targets = [t for t in targets if following in search_params(t)]
    if not targets:
        raise FhirError("invalid", f"no type that {param.code!r} may point at has a parameter for {chained!r}")
    return targets


def _criterion(resource_type: str, name: str, raw: str, strict: bool, ignored: list[str]) -> Criterion | None:
    if name.startswith("_has:"):
        return _has_criterion(resource_type, name, raw, ignored)
    head, _, chained = name.partition(".")
    code, _, modifier = head.partition(":")
    params = search_params(resource_type)
    if code not in params:
        if strict:
            raise FhirError("invalid", f"unknown search parameter {code!r} for {resource_type}")
        ignored.append(name)
        return None
    param = params[code]
    target_type = None
    if modifier and param.type == "reference" and modifier not in MODIFIERS:
        if modifier not in RESOURCE_TYPES or (param.target and modifier not in param.target):
            raise FhirError("invalid", f"{code!r} cannot refer to a {modifier!r}: not a type it may point at")
        target_type, modifier = modifier, ""
    elif modifier and modifier not in MODIFIERS:
        raise FhirError("invalid", f"unknown modifier {modifier!r} on {code!r}")
    elif modifier and modifier not in SUPPORTED_MODIFIERS.get(param.type, ()):
        raise FhirError("not-supported", f"modifier :{modifier} is not supported on {code!r} ({param.type})",
                        status=400)
    modifier = modifier or None
    if chained:
        if param.type != "reference":
            raise FhirError("invalid", f"{code!r} is not a reference: it cannot be chained")
        chains = [Criterion(param, None, [], target, _criterion(target, chained, raw, True, ignored))
                  for target in ([target_type] if target_type else _chain_targets(param, chained))]
        return chains[0] if len(chains) == 1 else Criterion(param, None, [], either=chains)
    if modifier == "missing" and raw not in ("true", "false"):
        raise FhirError("invalid", f"{name} takes true or false")
    return Criterion(param, modifier, split_values(raw), target_type)


def parse_search(resource_type: str, query: list[tuple[str, str]], *, strict: bool = False) -> SearchRequest:
    """Criteria and result parameters from (name, value) pairs as they came in the URL or form body."""
    request = SearchRequest(resource_type)
    if len(query) > MAX_CRITERIA:
        raise FhirError("too-costly", f"at most {MAX_CRITERIA} search parameters")
    for name, raw in query:
        if len(raw) > MAX_VALUE_LENGTH or len(name) > 200:
            raise FhirError("too-costly", f"search parameter {name[:40]!r} is too long")
        if _CONTROL.search(name) or _CONTROL.search(raw):
            raise FhirError("invalid", f"search parameter {name[:40]!r} holds a control character")
        if name == "_count":
            request.count = min(_int(name, raw, 0), MAX_COUNT)
        elif name == "_offset":
            request.offset = _int(name, raw, 0)
        elif name == "_sort":
            for key in (k.strip() for k in raw.split(",")):
                code = key.removeprefix("-")
                if code not in search_params(resource_type):
                    raise FhirError("invalid", f"cannot sort by unknown parameter {code!r}")
                if search_params(resource_type)[code].type in ("composite", "special"):
                    raise FhirError("invalid", f"cannot sort by {code!r}")
                request.sort.append((code, key.startswith("-")))
        elif name in ("_include", "_revinclude"):
            spec = _include_spec(name, raw)
            if name == "_include" and spec[0] != resource_type:
                raise FhirError("invalid", f"_include={raw!r} must start with {resource_type}")
            (request.includes if name == "_include" else request.revincludes).append(spec)
        elif name in ("_include:iterate", "_include:recurse", "_revinclude:iterate", "_revinclude:recurse"):
            spec = _include_spec(name, raw)  # any source type: it may start from what an include brought in
            (request.iterate_includes if name.startswith("_include") else request.iterate_revincludes).append(spec)
        elif name == "_summary":
            if raw not in ("count", "false", "true", "data", "text"):
                raise FhirError("invalid", f"_summary={raw!r} is not supported")
            request.summary = raw
        elif name == "_elements":
            request.elements = [e.strip() for e in raw.split(",") if e.strip()]
        elif name == "_total":
            if raw not in ("none", "estimate", "accurate"):
                raise FhirError("invalid", f"_total={raw!r} is not one of none, estimate, accurate")
            request.total = raw
        elif name in RESULT_PARAMS:
            continue  # _format, _pretty, _contained: accepted, no effect on what is returned
        else:
            # Counted before parsing: a chain without types branches at every hop.
            if (hops := name.count(".") + name.count("_has:")) > MAX_CHAIN_DEPTH:
                raise FhirError("invalid", f"{name[:80]!r} follows {hops} references: at most "
                                           f"{MAX_CHAIN_DEPTH} (chains and _has together)")
            if (criterion := _criterion(resource_type, name, raw, strict, request.ignored)) is None:
                continue
            if criterion.paths > MAX_CHAIN_PATHS:
                raise FhirError("invalid", f"{name[:80]!r} goes through {criterion.paths} combinations of types: at "
                                           f"most {MAX_CHAIN_PATHS}; name the types (param:Type.next)")
            request.criteria.append(criterion)
    return request
