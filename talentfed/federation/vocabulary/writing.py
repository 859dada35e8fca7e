"""Writing talentfed's terms into the documents we publish, from our values.

Which terms a document carries, and how each value is written, come from the terms'
definitions in `terms.toml`; the documents' @context (federation/context.py) defines them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from talentfed.federation.as_values import timestamp
from talentfed.federation.vocabulary import Term, terms_of


def write_terms(values: Mapping[str, Any], carrier: str) -> dict[str, Any]:
    """The terms that `carrier` ("actor", or a post's kind) carries, from `values` keyed by each
    term's field. Absent values (None, or an empty set) are left out; booleans are always written."""
    written: dict[str, Any] = {}
    for term in terms_of(carrier):
        value = values.get(term.field)
        if value is None or (term.many and not value):
            continue
        wire = write_value(term, value)
        if wire is not None:
            written[term.name] = wire
    return written


def write_value(term: Term, value: Any) -> Any:
    """One value as it goes on the wire; None for a token that has no wire form."""
    if term.many:
        return [str(item) for item in value]
    if term.value == "boolean":
        return bool(value)
    if term.value == "integer":
        return int(value)
    if term.value == "datetime":
        return timestamp(value)
    if term.value == "token":
        return term.token_for(str(value))
    return str(value)
