"""talentfed's actor terms are read through JSON-LD expansion, whatever the sender's prefixes."""

from __future__ import annotations

import json

import pytest

from talentfed.federation import jsonld
from talentfed.federation.vocabulary.reading import ProfileTerms, may_use_our_terms, profile_terms
from tests.fixtures_path import FIXTURES


def test_our_own_context() -> None:
    actor = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/talentfed/v1"],
        "id": "https://uni.example/users/a",
        "type": "Person",
        "skills": ["#MachineLearning", "NLP"],
        "headline": "Researcher",
        "department": "CS",
        "affiliation": "https://uni.example/users/institution",
        "openToCollaboration": True,
    }
    assert profile_terms(actor) == ProfileTerms(
        ("machine learning", "nlp"), "Researcher", "CS", "https://uni.example/users/institution", True
    )


def test_another_prefix_means_the_same() -> None:
    actor = {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            {"t": "https://w3id.org/talentfed#", "competences": "t:skills"},
        ],
        "id": "https://lab.example/u/b",
        "type": "Person",
        "competences": "Rust",
        "t:headline": "Engineer",
    }
    terms = profile_terms(actor)
    assert terms.skills == ("rust",) and terms.headline == "Engineer"


def test_other_servers_actors_carry_none() -> None:
    mastodon_like = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://m.example/u/c",
        "type": "Person",
        "skills": ["not ours: no context maps it"],
    }
    assert profile_terms(mastodon_like) == ProfileTerms()
    assert profile_terms({"@context": {"@version": "nonsense"}, "id": 5}) == ProfileTerms()


# --- the shortcut that skips expansion ---------------------------------------------------

NS = "https://w3id.org/talentfed#"


@pytest.mark.parametrize(
    "document",
    [
        {"@context": "https://w3id.org/talentfed/v1", "skills": ["x"]},
        {"@context": ["https://www.w3.org/ns/activitystreams", {"t": NS}], "t:skills": "x"},
        {"@context": {"w3": "https://w3id.org/"}, "w3:talentfed#skills": "x"},  # a prefix of our namespace
        {"@context": {"@vocab": NS}, "skills": "x"},
        {"@context": {"skills": {"@id": NS + "skills"}}, "skills": "x"},
        {NS + "skills": "x"},  # an absolute key
        {"object": {"@context": {"t": NS}, "t:skills": "x"}},  # a nested context
        {"@context": {"scoped": {"@id": "https://example.org/s", "@context": {"t": NS}}}},
        {"@context": {"@vocab": "relative/"}, "skills": "x"},  # unsure: expanded to be safe
    ],
)
def test_documents_that_may_use_our_terms_are_expanded(document: dict) -> None:
    assert may_use_our_terms(document)


@pytest.mark.parametrize(
    "document",
    [
        {"@context": "https://www.w3.org/ns/activitystreams", "type": "Note", "content": "hi"},
        {
            "@context": [
                "https://www.w3.org/ns/activitystreams",
                "https://w3id.org/security/v1",
                {"toot": "http://joinmastodon.org/ns#", "Emoji": "toot:Emoji", "sensitive": "as:sensitive"},
            ],
            "type": "Note",
            "tag": [{"type": "Emoji", "name": ":x:"}],
        },
        {"@context": {"skills": "https://schema.org/skills"}, "skills": "x"},  # someone else's term
    ],
)
def test_documents_that_cannot_use_our_terms_skip_expansion(document: dict) -> None:
    assert not may_use_our_terms(document)


def test_the_shortcut_agrees_with_expansion_on_real_documents() -> None:
    """On every document from other servers: a skipped expansion would have found none of our
    terms, and most of them are skipped (the point of the shortcut)."""
    checked = skipped = 0
    for path in sorted(FIXTURES.glob("**/*.json")):
        document = json.loads(path.read_text())
        if not isinstance(document, dict):
            continue
        try:
            expanded = json.dumps(jsonld.expand(document))
        except jsonld.InvalidJsonLd:
            continue
        checked += 1
        if not may_use_our_terms(document):
            skipped += 1
            assert NS not in expanded, path.name
    assert checked > 100 and skipped > 0.8 * checked, (checked, skipped)
