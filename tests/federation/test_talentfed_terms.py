"""talentfed's actor terms are read through JSON-LD expansion, whatever the sender's prefixes."""

from __future__ import annotations

from talentfed.federation.talentfed_terms import ProfileTerms, profile_terms


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
