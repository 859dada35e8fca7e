"""talentfed's vocabulary as data: one definition (terms.toml), from which the context, the
reader, the writer, the publishing limits and FEDERATION.md's table are derived."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from talentfed.federation import jsonld
from talentfed.federation.context import PUBLISHED_CONTEXT, TALENTFED_TERMS
from talentfed.federation.vocabulary import (
    CARRIERS,
    NAMESPACE,
    TERMS,
    VocabularyError,
    _term,
    problem,
    term,
    terms_of,
)
from talentfed.federation.vocabulary.reading import read_terms
from talentfed.federation.vocabulary.writing import write_terms

# One valid value of ours per field, as the domain holds it.
SAMPLE: dict[str, Any] = {
    "headline": "Speech researcher",
    "department": "Computer Science",
    "affiliation": "https://uni.example/users/institution",
    "skills": ("machine learning", "rust"),
    "open_to_collaboration": True,
    "kind": "project",
    "accepted_answer": "https://uni.example/objects/42",
    "deadline": datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC),
    "status": "filled",
    "team_size": 4,
    "contact": "ada at uni.example",
    "institution": "https://uni.example/users/institution",
}


def _expanded(document: dict[str, Any]) -> dict[str, Any]:
    return jsonld.expand({"@context": PUBLISHED_CONTEXT, "id": "https://uni.example/x", **document})[0]


def test_every_field_has_a_sample() -> None:
    assert {t.field for t in TERMS.values()} == set(SAMPLE)


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_what_we_write_expands_to_our_iris_and_reads_back_the_same(carrier: str) -> None:
    values = {**SAMPLE, "kind": carrier if carrier != "actor" else None}
    written = write_terms(values, carrier)
    assert set(written) == {t.name for t in terms_of(carrier)}
    node = _expanded(written)
    assert {key for key in node if key.startswith(NAMESPACE)} == {t.iri for t in terms_of(carrier)}
    read = read_terms(node, terms_of(carrier))
    assert read == {t.field: values[t.field] for t in terms_of(carrier)}


def test_wire_values_are_the_documented_ones() -> None:
    written = write_terms({**SAMPLE, "kind": "project"}, "project")
    assert written["postKind"] == "projectCall"
    assert written["deadline"] == "2027-03-31T23:59:59Z"
    assert written["teamSize"] == 4 and written["skills"] == ["machine learning", "rust"]


def test_absent_values_are_left_out_and_booleans_are_always_written() -> None:
    nothing_said = {"skills": (), "open_to_collaboration": False}
    assert write_terms(nothing_said, "actor") == {"openToCollaboration": False}
    assert write_terms({"kind": "note"}, "note") == {}  # a plain reply carries no talentfed term


@pytest.mark.parametrize(
    ("name", "wire", "read"),
    [
        ("teamSize", 0, None),
        ("teamSize", 1001, None),
        ("teamSize", 1000, 1000),
        ("teamSize", "12", 12),
        ("teamSize", 3.0, 3),
        ("teamSize", True, None),
        ("projectStatus", "FILLED", "filled"),
        ("projectStatus", "cancelled", None),
        ("postKind", "projectCall", "project"),
        ("postKind", NAMESPACE + "question", "question"),
        ("postKind", "note", None),
        ("contact", "x" * 600, "x" * 500),
        ("skills", ["Rust", "x" * 101, "machine-learning"], ("rust", "machine learning")),
        ("headline", "  Researcher  ", "Researcher"),
        ("affiliation", "javascript:alert(1)", None),
        ("deadline", "not a date", None),
        ("deadline", "2027-01-01T00:00:00+01:00", datetime(2026, 12, 31, 23, tzinfo=UTC)),
    ],
)
def test_reading_applies_each_terms_type_and_limits(name: str, wire: Any, read: Any) -> None:
    the_term = term(name)
    node = _expanded({name: wire})
    assert read_terms(node, (the_term,)) == {the_term.field: read}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("teamSize", 0, "expected a whole number from 1 to 1000"),
        ("teamSize", "4", "expected a whole number from 1 to 1000"),
        ("teamSize", 4, None),
        ("projectStatus", "done", "expected one of open, closed, filled, got 'done'"),
        ("projectStatus", "open", None),
        ("contact", "x" * 501, "at most 500 characters"),
        ("deadline", datetime(2027, 1, 1), "expected a date with a time zone"),
        ("institution", "ftp://uni.example/", "expected an http(s) URL"),
        ("skills", ["rust"], None),
        ("skills", "rust", "expected a list of names"),
        ("skills", ["rust", "x" * 101], f"'{'x' * 40}': at most 100 characters"),
        ("skills", [f"s{n}" for n in range(101)], "at most 100"),
        ("skills", ["a\x00b"], "'a\\x00b': must not contain control characters"),
        ("contact", "call \ud800", "must not contain control characters"),
        ("contact", "line one\nline two\ttab", None),
    ],
)
def test_publishing_limits_say_what_is_wrong(name: str, value: Any, message: str | None) -> None:
    assert problem(term(name), value) == message


def test_the_published_context_is_derived_from_the_definitions() -> None:
    assert list(TALENTFED_TERMS) == list(TERMS)
    assert TALENTFED_TERMS["teamSize"] == {"@id": "tf:teamSize", "@type": "xsd:integer"}
    assert TALENTFED_TERMS["skills"] == {"@id": "tf:skills", "@container": "@set"}
    assert TALENTFED_TERMS["postKind"] == "tf:postKind"


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ({"value": "text", "carried_by": ["actor"], "field": "x", "about": "x", "maxlen": 3}, "unknown keys"),
        ({"value": "float", "carried_by": ["actor"], "field": "x", "about": "x"}, ".value"),
        ({"value": "text", "carried_by": ["person"], "field": "x", "about": "x"}, ".carried_by"),
        ({"value": "token", "carried_by": ["actor"], "field": "x", "about": "x"}, ".tokens"),
        (
            {"value": "text", "carried_by": ["actor"], "field": "x", "about": "x", "tokens": {"a": "b"}},
            "tokens",
        ),
    ],
)
def test_a_malformed_definition_is_refused_naming_the_key(spec: dict[str, Any], complaint: str) -> None:
    with pytest.raises(VocabularyError, match=f"terms.bad.*{complaint}"):
        _term(NAMESPACE, "bad", spec)
