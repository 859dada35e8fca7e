"""The one @context we publish, and how documents leave the node (`context.published`)."""

from __future__ import annotations

from talentfed.federation import jsonld
from talentfed.federation.context import (
    ACTIVITYSTREAMS,
    LEGACY_CONTEXT_IRI,
    PUBLISHED_CONTEXT,
    TALENTFED_CONTEXT,
    TALENTFED_NAMESPACE,
    TALENTFED_TERMS,
    published,
)
from talentfed.federation.vocabulary.table import markdown_table
from tests.support import REPO


def _context_iris(value: object) -> list[str]:
    """Every context named by IRI anywhere in a document."""
    found: list[str] = []
    if isinstance(value, list):
        for item in value:
            found += _context_iris(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "@context":
                found += [c for c in (item if isinstance(item, list) else [item]) if isinstance(c, str)]
            found += _context_iris(item)
    return found


def test_published_documents_name_only_contexts_every_processor_ships() -> None:
    assert _context_iris({"@context": PUBLISHED_CONTEXT}) == [ACTIVITYSTREAMS, "https://w3id.org/security/v1"]


def test_a_legacy_document_leaves_with_one_inline_context_and_the_same_meaning() -> None:
    legacy = {
        "@context": ACTIVITYSTREAMS,
        "id": "https://uni.example/activities/1",
        "type": "Create",
        "actor": "https://uni.example/users/ada",
        "object": {
            "@context": [ACTIVITYSTREAMS, LEGACY_CONTEXT_IRI, {"Hashtag": "as:Hashtag"}],
            "id": "https://uni.example/objects/1",
            "type": "Note",
            "postKind": "projectCall",
            "skills": ["rust"],
            "tag": [{"type": "Hashtag", "name": "#Rust"}],
        },
    }
    out = published(legacy)
    assert out["@context"] == PUBLISHED_CONTEXT
    assert "@context" not in out["object"]
    assert LEGACY_CONTEXT_IRI not in _context_iris(out)
    assert legacy["object"]["@context"][1] == LEGACY_CONTEXT_IRI, "the stored document is not changed"
    assert jsonld.expand(out) == jsonld.expand(legacy)


def test_published_context_and_legacy_context_define_the_same_talentfed_terms() -> None:
    inline = PUBLISHED_CONTEXT[2]
    for term, definition in TALENTFED_CONTEXT["@context"].items():
        assert inline[term] == definition
    expanded = jsonld.expand({"@context": PUBLISHED_CONTEXT, **{term: "x" for term in TALENTFED_TERMS}})
    assert {key.removeprefix(TALENTFED_NAMESPACE) for key in expanded[0]} == set(TALENTFED_TERMS)


def test_federation_md_shows_the_table_derived_from_the_vocabulary() -> None:
    text = (REPO / "FEDERATION.md").read_text()
    section = text[text.index("## talentfed's vocabulary") : text.index("## Discovery")]
    assert markdown_table() in section, "regenerate it: python -m talentfed.federation.vocabulary"
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    assert [row.strip(" `") for row in rows] == list(TALENTFED_TERMS)
