"""talentfed's vocabulary as data: every extension term defined once, in `terms.toml`.

The published @context, the reader of remote documents (`reading.py`), the writer of ours
(`writing.py`), the limits that the API, the form and the CLI check, and FEDERATION.md's table
(`table.py`) are all derived from `TERMS`; none of them spells a term out by hand.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from datetime import datetime
from importlib import resources
from types import MappingProxyType
from typing import Any

from talentfed import kinds
from talentfed.federation.limits import FIELD_ITEMS, MAX_ITEMS, http_url

__all__ = [
    "CARRIERS",
    "NAMESPACE",
    "POST_CARRIERS",
    "TERMS",
    "VALUE_KINDS",
    "Term",
    "VocabularyError",
    "context_definitions",
    "problem",
    "term",
    "terms_of",
]

VALUE_KINDS = frozenset({"text", "skill", "iri", "boolean", "integer", "datetime", "token"})
POST_CARRIERS = (kinds.ARTICLE, kinds.QUESTION, kinds.ANSWER, kinds.PROJECT)
CARRIERS = frozenset({"actor", *POST_CARRIERS})
XSD = "http://www.w3.org/2001/XMLSchema#"


class VocabularyError(ValueError):
    """terms.toml is malformed (a packaging mistake, found at import)."""


@dataclasses.dataclass(frozen=True)
class Term:
    name: str  # the compact term: "teamSize"
    iri: str  # what it expands to: NAMESPACE + name
    value: str  # one of VALUE_KINDS
    carried_by: tuple[str, ...]
    field: str  # our name for the value: "team_size"
    about: str
    many: bool = False
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    # token terms: the value on the wire → our value ("projectCall" → "project")
    tokens: MappingProxyType[str, str] = dataclasses.field(default_factory=lambda: MappingProxyType({}))

    def definition(self) -> str | dict[str, str]:
        """The JSON-LD term definition, with the prefixes `tf:` and `xsd:` of our context."""
        compact = "tf:" + self.name
        typed = {"iri": "@id", "boolean": "xsd:boolean", "integer": "xsd:integer", "datetime": "xsd:dateTime"}
        if self.many:
            return {"@id": compact, "@container": "@set"}
        if self.value in typed:
            return {"@id": compact, "@type": typed[self.value]}
        return compact

    @property
    def max_items(self) -> int | None:
        """How many values a set may hold: no more than we read from another server."""
        return FIELD_ITEMS.get(self.name, MAX_ITEMS) if self.many else None

    def token_for(self, ours: str) -> str | None:
        """The wire value of one of our values (`project` → `projectCall`)."""
        return next((wire for wire, value in self.tokens.items() if value == ours), None)


def _load() -> tuple[str, dict[str, Term]]:
    raw = tomllib.loads(resources.files(__package__).joinpath("terms.toml").read_text("utf-8"))
    namespace = raw["namespace"]
    return namespace, {name: _term(namespace, name, spec) for name, spec in raw["terms"].items()}


def _term(namespace: str, name: str, spec: dict[str, Any]) -> Term:
    known = {"value", "many", "carried_by", "field", "about", "max_length", "minimum", "maximum", "tokens"}
    if unknown := set(spec) - known:
        raise VocabularyError(f"terms.{name}: unknown keys {sorted(unknown)}")
    if spec.get("value") not in VALUE_KINDS:
        raise VocabularyError(f"terms.{name}.value: expected one of {sorted(VALUE_KINDS)}")
    carriers = tuple(spec.get("carried_by", ()))
    if not carriers or not CARRIERS.issuperset(carriers):
        raise VocabularyError(f"terms.{name}.carried_by: expected some of {sorted(CARRIERS)}")
    if (spec["value"] == "token") != bool(spec.get("tokens")):
        raise VocabularyError(f"terms.{name}.tokens: required for token terms, and only for them")
    return Term(
        name=name,
        iri=namespace + name,
        value=spec["value"],
        carried_by=carriers,
        field=spec["field"],
        about=spec["about"],
        many=bool(spec.get("many", False)),
        max_length=spec.get("max_length"),
        minimum=spec.get("minimum"),
        maximum=spec.get("maximum"),
        tokens=MappingProxyType(dict(spec.get("tokens", {}))),
    )


NAMESPACE, _TERMS = _load()
TERMS: MappingProxyType[str, Term] = MappingProxyType(_TERMS)


def term(name: str) -> Term:
    """The term called `name` (KeyError for a name that is not ours)."""
    return TERMS[name]


def terms_of(carrier: str) -> tuple[Term, ...]:
    """The terms an actor ("actor") or a post of a kind ("project", …) carries."""
    return tuple(t for t in TERMS.values() if carrier in t.carried_by)


def context_definitions() -> dict[str, Any]:
    """Our part of a JSON-LD context: the two prefixes and every term's definition."""
    return {"tf": NAMESPACE, "xsd": XSD, **{name: t.definition() for name, t in TERMS.items()}}


def problem(term: Term, value: Any) -> str | None:
    """Why `value` cannot be our value of `term` (None when it can): the one check of the limits
    that publishing (JSON API, form, CLI) applies; reading applies them by ignoring such values."""
    if term.many:
        return _set_problem(term, value)
    return _PROBLEMS[term.value](term, value)


def _set_problem(term: Term, value: Any) -> str | None:
    """A set: at most as many values as we would read from another server, each one usable."""
    if not (isinstance(value, list | tuple) and all(isinstance(item, str) for item in value)):
        return "expected a list of names"
    if term.max_items is not None and len(value) > term.max_items:
        return f"at most {term.max_items}"
    return next((f"{item[:40]!r}: {found}" for item in value if (found := _text_problem(term, item))), None)


def _integer_problem(term: Term, value: Any) -> str | None:
    low, high = term.minimum, term.maximum
    wanted = "expected a whole number"
    if low is not None and high is not None:
        wanted += f" from {low} to {high}"
    if not isinstance(value, int) or isinstance(value, bool):
        return wanted
    too_small = low is not None and value < low
    return wanted if too_small or (high is not None and value > high) else None


# Control characters other than tab and line breaks, and lone surrogates: no text of ours holds
# them, and PostgreSQL cannot store some (NUL, surrogates).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _text_problem(term: Term, value: Any) -> str | None:
    if not isinstance(value, str):
        return "expected text"
    if _UNPRINTABLE.search(value):
        return "must not contain control characters"
    too_long = term.max_length is not None and len(value) > term.max_length
    return f"at most {term.max_length} characters" if too_long else None


def _token_problem(term: Term, value: Any) -> str | None:
    ours = list(dict.fromkeys(term.tokens.values()))
    return None if value in ours else f"expected one of {', '.join(ours)}, got {value!r}"


def _iri_problem(term: Term, value: Any) -> str | None:
    return None if isinstance(value, str) and http_url(value) else "expected an http(s) URL"


def _boolean_problem(term: Term, value: Any) -> str | None:
    return None if isinstance(value, bool) else "expected true or false"


def _datetime_problem(term: Term, value: Any) -> str | None:
    aware = isinstance(value, datetime) and value.tzinfo is not None
    return None if aware else "expected a date with a time zone"


_PROBLEMS = {
    "text": _text_problem,
    "skill": _text_problem,
    "iri": _iri_problem,
    "boolean": _boolean_problem,
    "integer": _integer_problem,
    "datetime": _datetime_problem,
    "token": _token_problem,
}
