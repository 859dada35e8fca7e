"""Reading talentfed's own terms from any document, through JSON-LD expansion.

Expansion makes the terms mean the same whatever prefix or term names the sender's @context
uses; a document that cannot be expanded simply carries no talentfed terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from talentfed.federation import jsonld
from talentfed.federation.context import TALENTFED_NAMESPACE
from talentfed.federation.vocab import as_list
from talentfed.text import normalize_skills


def expanded_node(doc: dict[str, Any]) -> dict[str, Any]:
    """The document's top node, expanded; {} when it cannot be expanded."""
    try:
        nodes = jsonld.expand(doc)
    except (jsonld.InvalidJsonLd, TypeError, ValueError, RecursionError):
        return {}
    nodes = [n for n in nodes if isinstance(n, dict)]
    return next((n for n in nodes if n.get("@id") == doc.get("id")), nodes[0] if nodes else {})


def values(node: dict[str, Any], term: str) -> list[Any]:
    """The plain values of `tf:term`: literals' @value, references' @id, lists flattened."""
    found: list[Any] = []
    for item in as_list(node.get(TALENTFED_NAMESPACE + term)):
        if isinstance(item, dict) and "@list" in item:
            found.extend(values({TALENTFED_NAMESPACE + term: item["@list"]}, term))
        elif isinstance(item, dict) and "@value" in item:
            found.append(item["@value"])
        elif isinstance(item, dict) and "@id" in item:
            found.append(item["@id"])
    return found


def first_string(node: dict[str, Any], term: str) -> str | None:
    return next((v for v in values(node, term) if isinstance(v, str) and v.strip()), None)


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
    if not node:
        return ProfileTerms()
    affiliation = first_string(node, "affiliation")
    return ProfileTerms(
        skills=tuple(normalize_skills([v for v in values(node, "skills") if isinstance(v, str)])),
        headline=_short(first_string(node, "headline")),
        department=_short(first_string(node, "department")),
        affiliation=affiliation if affiliation and affiliation.startswith(("https://", "http://")) else None,
        open_to_collaboration=any(v is True for v in values(node, "openToCollaboration")),
    )


def _short(text: str | None, limit: int = 500) -> str | None:
    return text.strip()[:limit] if text else None
