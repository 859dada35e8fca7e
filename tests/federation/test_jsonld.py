"""JSON-LD with bundled contexts only: real documents expand, and nothing touches the network."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from importlib.resources import files
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld

from talentfed.federation import jsonld
from talentfed.federation.jsonld import (
    InvalidJsonLd,
    compact,
    document_loader,
    expand,
    known_context,
    register_context,
)
from tests.fixtures_path import FIXTURES, fixture

AS = "https://www.w3.org/ns/activitystreams#"
SEC = "https://w3id.org/security#"
LDP = "http://www.w3.org/ns/ldp#"  # the AS context maps inbox/outbox to LDP terms
TOOT = "http://joinmastodon.org/ns#"

BUNDLED = sorted(
    p.name for p in (files("talentfed.federation") / "contexts").iterdir() if p.name.endswith(".jsonld")
)


def _fixture_names(folder: str) -> list[str]:
    directory = FIXTURES / folder
    names = sorted(p.name for p in directory.glob("*.json")) if directory.is_dir() else []
    # An empty list would silently skip the parametrized test; a bogus name makes it fail instead.
    return names or [f"<no fixtures in {directory}>"]


def _load(folder: str, name: str) -> Any:
    return json.loads(fixture(folder, name).read_text("utf-8"))


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any DNS lookup or connection during these tests is a failure."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("JSON-LD processing tried to use the network")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(pyld_jsonld, "_default_document_loader", refuse)
    yield


def _values(node: dict[str, Any], prop: str) -> list[Any]:
    return [v.get("@value", v.get("@id")) for v in node.get(prop, [])]


# -- the bundle ----------------------------------------------------------------


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_contexts_are_the_shared_fixtures(name: str) -> None:
    bundled = (files("talentfed.federation") / "contexts" / name).read_bytes()
    assert bundled == fixture("contexts", name).read_bytes()


def test_every_iri_context_fixture_is_bundled() -> None:
    inline_only = {n for n in BUNDLED if "inline" in n}
    fixtures = {p.name for p in fixture("contexts").glob("*.jsonld")} - inline_only
    assert fixtures - set(BUNDLED) == {
        # Inline @context objects extracted from documents; they have no IRI to serve.
        "gotosocial-inline-context-actor.jsonld",
        "mastodon-inline-context-actor.jsonld",
        "mastodon-inline-context-note.jsonld",
        "misskey-inline-context.jsonld",
    }


@pytest.mark.parametrize(
    ("iri", "filename"),
    [
        ("https://www.w3.org/ns/activitystreams", "activitystreams.jsonld"),
        ("http://www.w3.org/ns/activitystreams", "activitystreams.jsonld"),
        ("https://www.w3.org/ns/activitystreams/", "activitystreams.jsonld"),
        ("https://www.w3.org/ns/activitystreams#", "activitystreams.jsonld"),
        ("https://w3id.org/security/v1", "security-v1.jsonld"),
        ("http://w3id.org/security/v1", "security-v1.jsonld"),
        ("https://w3id.org/security/v1/", "security-v1.jsonld"),
        ("https://w3id.org/security/data-integrity/v1", "security-data-integrity-v1.jsonld"),
        ("https://w3id.org/security/data-integrity/v2", "security-data-integrity-v2.jsonld"),
        ("https://w3id.org/security/multikey/v1", "security-multikey-v1.jsonld"),
        ("https://www.w3.org/ns/did/v1", "did-v1.jsonld"),
        ("https://w3id.org/identity/v1", "identity-v1.jsonld"),
        ("http://joinmastodon.org/ns", "joinmastodon-ns.jsonld"),
        ("https://joinmastodon.org/ns#", "joinmastodon-ns.jsonld"),
        ("https://purl.archive.org/socialweb/webfinger", "socialweb-webfinger.jsonld"),
        ("https://purl.archive.org/miscellany", "socialweb-miscellany.jsonld"),
        ("https://gotosocial.org/ns", "gotosocial-ns.jsonld"),
        ("https://join-lemmy.org/context.json", "join-lemmy-context.jsonld"),
        ("https://w3id.org/fep/5711", "fep-5711.jsonld"),
        ("https://w3id.org/fep/7aa9", "fep-7aa9.jsonld"),
        ("https://w3id.org/fep/ef61", "fep-ef61.jsonld"),
        ("https://patch.cx/schemas/litepub-0.1.jsonld", "litepub-0.1.jsonld"),
        ("https://Queer.Hacktivis.me/schemas/litepub-0.1.jsonld", "litepub-0.1.jsonld"),
    ],
)
def test_contexts_are_served_under_the_iris_servers_write(iri: str, filename: str) -> None:
    expected = json.loads(fixture("contexts", filename).read_text("utf-8"))
    assert known_context(iri) == expected
    loaded = document_loader(iri)
    assert loaded["document"] == expected
    assert loaded["documentUrl"] == iri


@pytest.mark.parametrize(
    "iri",
    [
        "https://hubzilla.example.org/apschema/v1.2",
        "https://fedia.io/contexts",
        "http://schema.org",
        "https://www.w3.org/ns/activitystreams-evil",
        "https://evil.example/w3id.org/security/v1",
        "urn:unknown",
    ],
)
def test_unknown_contexts_load_as_empty(iri: str) -> None:
    assert known_context(iri) is None
    assert document_loader(iri)["document"] == {"@context": {}}


def test_known_context_returns_a_copy() -> None:
    known_context("https://w3id.org/security/v1")["@context"]["id"] = "mutated"  # type: ignore[index]
    assert known_context("https://w3id.org/security/v1")["@context"]["id"] == "@id"  # type: ignore[index]


# -- expansion of real documents ---------------------------------------------------


# Documents whose every context is unknown to us (mbin lists only its own).
ONLY_UNKNOWN_CONTEXTS = {"mbin-instance.json"}
# Its @context defines Mastodon's extension terms only, not ActivityStreams': nothing expands.
OBJECTS_WITHOUT_AS_TERMS = {"mastodon-delete-user.json"}


@pytest.mark.parametrize("name", _fixture_names("actors"))
def test_every_actor_fixture_expands(name: str) -> None:
    doc = _load("actors", name)
    expanded = expand(doc)
    if name in ONLY_UNKNOWN_CONTEXTS or "@context" not in doc:
        # No term is defined, so nothing survives expansion; readers of the
        # compact form (vocab, actor_documents) still handle these documents.
        assert expanded == []
    else:
        assert expanded[0]["@id"] == doc["id"]


@pytest.mark.parametrize("name", _fixture_names("objects"))
def test_every_object_fixture_expands(name: str) -> None:
    doc = _load("objects", name)
    assert isinstance(doc, dict)
    expanded = expand(doc)
    if name in OBJECTS_WITHOUT_AS_TERMS or "@context" not in doc:
        assert expanded == []
    elif "id" not in doc:  # GoToSocial's examples of a Delete: a blank node, still typed
        [node] = expanded
        assert "@id" not in node and node["@type"] == [AS + doc["type"]]
    else:  # the document itself comes first, typed
        assert expanded[0]["@id"] == doc["id"] and expanded[0]["@type"]


def test_mastodon_actor_expands_to_full_iris() -> None:
    [node] = expand(_load("actors", "mastodon-person.json"))
    base = "https://masto.qa.urbanwildlife.biz/users/mastodon"
    assert node["@type"] == [AS + "Person"]
    assert _values(node, LDP + "inbox") == [base + "/inbox"]
    assert _values(node, TOOT + "featured") == [base + "/collections/featured"]
    assert _values(node, TOOT + "discoverable") == [False]
    [key] = node[SEC + "publicKey"]
    assert key["@id"] == base + "#main-key"
    assert _values(key, SEC + "owner") == [base]
    assert _values(key, SEC + "publicKeyPem")[0].startswith("-----BEGIN PUBLIC KEY-----")


def test_instance_specific_litepub_context_is_served() -> None:
    # pleroma-person-rin.json lists https://patch.cx/schemas/litepub-0.1.jsonld.
    [node] = expand(_load("actors", "pleroma-person-rin.json"))
    assert AS + "manuallyApprovesFollowers" in node
    assert SEC + "publicKey" in node


def test_unknown_context_is_dropped_and_the_rest_expands() -> None:
    # hubzilla-person.json lists https://hubzilla.example.org/apschema/v1.2.
    doc = _load("actors", "hubzilla-person.json")
    assert "https://hubzilla.example.org/apschema/v1.2" in doc["@context"]
    [node] = expand(doc)
    assert _values(node, LDP + "inbox") == [doc["inbox"]]
    assert _values(node, AS + "preferredUsername") == [doc["preferredUsername"]]


def test_bare_joinmastodon_ns_context_is_served() -> None:
    # GoToSocial's documented actor lists http://joinmastodon.org/ns (which Mastodon
    # itself never serves) and http://schema.org (unknown to us: dropped).
    doc = _load("actors", "gotosocial-docs-person-profile-fields.json")
    assert doc["@context"][0] == "http://joinmastodon.org/ns"
    [node] = expand(doc)
    assert _values(node, TOOT + "discoverable") == [doc["discoverable"]]
    assert _values(node, AS + "name") == [doc["name"]]


def test_protected_contexts_of_mitra_actor() -> None:
    # did/v1, data-integrity/v1 and multikey/v1 all protect `id` and `type`.
    [node] = expand(_load("actors", "mitra-person-wizard-casa.json"))
    methods = node[SEC + "assertionMethod"]
    assert {m["@id"] for m in methods} == {
        "https://wizard.casa/users/hongminhee#main-key",
        "https://wizard.casa/users/hongminhee#ed25519-key",
    }


def test_invalid_inline_term_definition_is_repaired() -> None:
    # Pixelfed sends "capabilities": {"announce": {...}}, which JSON-LD rejects outright.
    doc = _load("objects", "pixelfed-note.json")
    with pytest.raises(pyld_jsonld.JsonLdError):
        pyld_jsonld.expand(doc, {"documentLoader": document_loader})
    [node] = expand(doc)
    assert node["@id"] == doc["id"]
    assert _values(node, AS + "content") == [doc["content"]]


def test_hopeless_document_raises_invalid_jsonld() -> None:
    with pytest.raises(InvalidJsonLd):
        expand({"@context": {"@version": 2.0}, "id": "https://a.example/x"})


def test_expand_refuses_urls() -> None:
    with pytest.raises(TypeError):
        expand("https://a.example/actor")  # type: ignore[arg-type]


# -- compaction -------------------------------------------------------------------


def test_compact_round_trip_against_activitystreams() -> None:
    doc = _load("actors", "mastodon-person.json")
    compacted = compact(expand(doc), "https://www.w3.org/ns/activitystreams")
    assert compacted["@context"] == "https://www.w3.org/ns/activitystreams"
    assert compacted["inbox"] == doc["inbox"]
    assert compacted["type"] == "Person"


def test_compact_with_inline_context() -> None:
    context = json.loads(fixture("contexts", "mastodon-inline-context-actor.jsonld").read_text("utf-8"))
    doc = _load("actors", "mastodon-person.json")
    compacted = compact(doc, ["https://www.w3.org/ns/activitystreams", context["@context"]])
    assert compacted["featured"] == doc["featured"]
    assert compacted["discoverable"] is False


# -- registering our own context --------------------------------------------------------


TALENT_CONTEXT = {"@context": {"tf": "https://talent.example/ns/talentfed#", "skill": "tf:skill"}}


def _skill_doc(iri: str) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", iri],
        "id": "https://talent.example/users/ada",
        "type": "Person",
        "skill": "compilers",
    }


def test_register_context_serves_our_own_vocabulary() -> None:
    iri = "https://talent.example/ns/talentfed"
    register_context(iri, TALENT_CONTEXT)
    register_context(iri, TALENT_CONTEXT)  # same content again: fine
    [node] = expand(_skill_doc(iri))
    assert _values(node, "https://talent.example/ns/talentfed#skill") == ["compilers"]
    assert known_context("http://talent.example/ns/talentfed/") == TALENT_CONTEXT


def test_register_accepts_a_bare_context_object() -> None:
    iri = "https://talent.example/ns/bare"
    register_context(iri, TALENT_CONTEXT["@context"])
    assert known_context(iri) == TALENT_CONTEXT


def test_register_refuses_to_change_a_served_context() -> None:
    with pytest.raises(ValueError, match="already served"):
        register_context("https://www.w3.org/ns/activitystreams", TALENT_CONTEXT)
    register_context("https://talent.example/ns/fixed", TALENT_CONTEXT)
    with pytest.raises(ValueError):
        register_context("https://talent.example/ns/fixed", {"@context": {"x": "tf:x"}})


def test_context_registered_after_being_unknown_takes_effect() -> None:
    iri = "https://talent.example/ns/late"
    [before] = expand(_skill_doc(iri))
    assert "https://talent.example/ns/talentfed#skill" not in before
    register_context(iri, TALENT_CONTEXT)
    [after] = expand(_skill_doc(iri))
    assert _values(after, "https://talent.example/ns/talentfed#skill") == ["compilers"]


def test_processed_contexts_stay_out_of_pyld_global_cache() -> None:
    # Another pyld user (with a network loader) must not feed our processing, nor we theirs.
    before = set(pyld_jsonld._resolved_context_cache)
    expand(_load("actors", "mitra-person-wizard-casa.json"))
    assert set(pyld_jsonld._resolved_context_cache) == before


def test_module_does_not_replace_pyld_default_loader() -> None:
    # Other users of pyld in the process keep their own loader.
    assert pyld_jsonld.get_document_loader() is not jsonld.document_loader
