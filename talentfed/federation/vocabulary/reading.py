"""Reading talentfed's terms from any document, through JSON-LD expansion.

Expansion makes the terms mean the same whatever prefix or term names the sender's @context
uses; a document that cannot be expanded simply carries no talentfed terms. How each value is
read (its type, cardinality and limits) comes from the term's definition in `terms.toml`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from talentfed.federation import jsonld
from talentfed.federation.as_values import as_list, clean_text, datetime_of
from talentfed.federation.context import LEGACY_CONTEXT_IRI
from talentfed.federation.limits import http_url
from talentfed.federation.vocabulary import NAMESPACE, Term, terms_of
from talentfed.text import normalize_skills


def expanded_node(doc: dict[str, Any]) -> dict[str, Any]:
    """The document's top node, expanded, for reading our terms; {} when it cannot be
    expanded, or when no key of it can expand to one of our terms (most posts from
    Mastodon: this saves the expansion, a large part of the time it takes to read one)."""
    if not may_use_our_terms(doc):
        return {}
    try:
        nodes = jsonld.expand(doc)
    except (jsonld.InvalidJsonLd, TypeError, ValueError, RecursionError):
        return {}
    nodes = [n for n in nodes if isinstance(n, dict)]
    return next((n for n in nodes if n.get("@id") == doc.get("id")), nodes[0] if nodes else {})


def may_use_our_terms(value: Any) -> bool:
    """False only when no key of `value` can expand into NAMESPACE.

    A key expands to an IRI through a context: our context document, a term or prefix
    definition, or @vocab, or it is an absolute IRI itself. Bundled contexts other than ours
    define none of our terms, and unknown remote ones are never loaded. So it suffices to
    look for our context IRI, for definitions that our namespace could start with or that
    start with it, and for absolute keys in it. Anything unusual (a relative IRI) answers True.
    """
    if isinstance(value, list):
        return any(may_use_our_terms(item) for item in value)
    if not isinstance(value, dict):
        return False
    for key, item in value.items():
        if key == "@context":
            if _context_may_define_ours(item):
                return True
        elif _iri_may_be_ours(key) or may_use_our_terms(item):
            return True
    return False


def _context_may_define_ours(context: Any) -> bool:
    if isinstance(context, list):
        return any(_context_may_define_ours(item) for item in context)
    if isinstance(context, str):
        return context == LEGACY_CONTEXT_IRI
    if not isinstance(context, dict):
        return False
    for term, definition in context.items():
        if isinstance(definition, str) and _iri_may_be_ours(definition, defined=True):
            return True
        if isinstance(definition, dict):
            if _iri_may_be_ours(str(definition.get("@id", "")), defined=True):
                return True
            if _context_may_define_ours(definition.get("@context")):  # a scoped context
                return True
        if _iri_may_be_ours(term):
            return True
    return False


def _iri_may_be_ours(iri: str, *, defined: bool = False) -> bool:
    """`defined`: the target of a definition, which may also be a prefix of our namespace.

    A compact IRI (`toot:Emoji`) resolves through its prefix, whose own definition is
    checked where it is made (inline) or is one of the bundled contexts (not ours).
    """
    if iri.startswith(NAMESPACE):
        return True
    if not defined or not iri or iri.startswith("@"):
        return False
    if iri.startswith(("https://", "http://")):
        return NAMESPACE.startswith(iri)
    return ":" not in iri  # relative to @base or @vocab: we cannot tell cheaply


def values(node: dict[str, Any], term: str) -> list[Any]:
    """The plain values of `tf:term`: literals' @value, references' @id, lists flattened."""
    found: list[Any] = []
    for item in as_list(node.get(NAMESPACE + term)):
        if isinstance(item, dict) and "@list" in item:
            found.extend(values({NAMESPACE + term: item["@list"]}, term))
        elif isinstance(item, dict) and "@value" in item:
            found.append(item["@value"])
        elif isinstance(item, dict) and "@id" in item:
            found.append(item["@id"])
    return found


def read_terms(node: dict[str, Any], terms: tuple[Term, ...]) -> dict[str, Any]:
    """Each term's value from an expanded node, keyed by the term's `field`: a tuple for a set,
    False for a boolean that is absent, None for a single value that is absent or unusable."""
    return {t.field: read_term(node, t) for t in terms}


def read_term(node: dict[str, Any], term: Term) -> Any:
    found = values(node, term.name)
    if term.many:
        names = normalize_skills([v for v in found if isinstance(v, str)])
        return tuple(name for name in names if term.max_length is None or len(name) <= term.max_length)
    if term.value == "boolean":
        return any(v is True for v in found)
    read_one = _READERS[term.value]
    return next((value for value in (read_one(term, v) for v in found) if value is not None), None)


def _text(term: Term, value: Any) -> str | None:
    text = clean_text(value)
    return text[: term.max_length] if text and term.max_length else text


def _iri(term: Term, value: Any) -> str | None:
    return http_url(value) if isinstance(value, str) else None


def _integer(term: Term, value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        return None
    too_small = term.minimum is not None and value < term.minimum
    too_large = term.maximum is not None and value > term.maximum
    return None if too_small or too_large else value


def _token(term: Term, value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    # A sender whose context types the term as @vocab sends the IRI in our namespace.
    wire = value.strip().removeprefix(NAMESPACE).lower()
    return next((ours for token, ours in term.tokens.items() if token.lower() == wire), None)


_READERS = {
    "text": _text,
    "skill": _text,
    "iri": _iri,
    "integer": _integer,
    "datetime": lambda term, value: datetime_of(value),
    "token": _token,
}


@dataclass(frozen=True)
class ProfileTerms:
    """What a talentfed actor says about its person beyond Mastodon's fields."""

    skills: tuple[str, ...] = ()
    headline: str | None = None
    department: str | None = None
    affiliation: str | None = None
    open_to_collaboration: bool = False


def profile_terms(actor_document: dict[str, Any]) -> ProfileTerms:
    node = expanded_node(actor_document)
    return ProfileTerms(**read_terms(node, terms_of("actor"))) if node else ProfileTerms()
