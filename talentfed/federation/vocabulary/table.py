"""FEDERATION.md's table of talentfed's terms, derived from their definitions."""

from __future__ import annotations

from talentfed.federation.vocabulary import POST_CARRIERS, TERMS, Term

_CARRIER_NAMES = {
    "actor": "actors",
    "article": "articles",
    "question": "questions",
    "answer": "answers",
    "project": "project calls",
}
_VALUE_NAMES = {
    "text": "text",
    "skill": "normalised skill names",
    "iri": "an id",
    "boolean": "xsd:boolean",
    "integer": "xsd:integer",
    "datetime": "xsd:dateTime",
}


def markdown_table() -> str:
    """One row per term: where it appears, what its value is, and its limits."""
    rows = ["| Term | On | Value | Meaning |", "|---|---|---|---|"]
    rows += [f"| `{t.name}` | {_carriers(t)} | {_value(t)} | {t.about} |" for t in TERMS.values()]
    return "\n".join(rows) + "\n"


def _carriers(term: Term) -> str:
    if set(POST_CARRIERS).issubset(term.carried_by):
        names = [_CARRIER_NAMES[c] for c in term.carried_by if c not in POST_CARRIERS] + ["posts"]
    else:
        names = [_CARRIER_NAMES[c] for c in term.carried_by]
    return ", ".join(names)


def _value(term: Term) -> str:
    if term.value == "token":
        return ", ".join(f"`{token}`" for token in term.tokens)
    described = _VALUE_NAMES[term.value]
    if term.many:
        described = f"a set of {described}"
    if term.minimum is not None and term.maximum is not None:
        described += f", {term.minimum} to {term.maximum}"
    if term.max_length is not None:
        described += f", {'each ' if term.many else ''}at most {term.max_length} characters"
    return described
