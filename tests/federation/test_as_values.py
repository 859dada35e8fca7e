"""Tolerant readers for the value shapes real servers send."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from talentfed.federation.as_values import (
    PUBLIC,
    as_list,
    bool_of,
    first_public_key,
    id_of,
    ids_of,
    is_public,
    multikey_to_pem,
    public_keys,
    url_of,
)
from tests.fixtures_path import fixture


def _actor(name: str) -> dict[str, Any]:
    return json.loads(fixture("actors", name).read_text("utf-8"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, []), ("a", ["a"]), (["a", "b"], ["a", "b"]), ({"id": "x"}, [{"id": "x"}]), ([], [])],
)
def test_as_list(value: Any, expected: list[Any]) -> None:
    assert as_list(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://a.example/users/x", "https://a.example/users/x"),
        ({"id": "https://a.example/users/x", "type": "Person"}, "https://a.example/users/x"),
        ({"type": "Link", "href": "https://a.example/p/1"}, "https://a.example/p/1"),
        ({"type": "Mention", "href": "https://a.example/u", "name": "@u"}, "https://a.example/u"),
        (
            {"type": "Link", "id": "https://a.example/link", "href": "https://b.example/x"},
            "https://b.example/x",
        ),
        ({"@id": "https://a.example/expanded"}, "https://a.example/expanded"),
        (["https://a.example/1", "https://a.example/2"], "https://a.example/1"),
        ([{"type": "Note"}, {"id": "https://a.example/2"}], "https://a.example/2"),
        ({"type": "Note"}, None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_id_of(value: Any, expected: str | None) -> None:
    assert id_of(value) == expected


def test_ids_of_reads_peertube_attributed_to_array() -> None:
    group = json.loads(fixture("actors", "peertube-group.json").read_text("utf-8"))
    # PeerTube sends attributedTo as an array of embedded objects.
    assert ids_of(group["attributedTo"]) == ["https://tilvids.com/accounts/thelinuxexperiment"]
    assert ids_of(None) == []


@pytest.mark.parametrize(
    "addressing",
    [
        PUBLIC,
        "as:Public",
        "Public",
        [PUBLIC],
        ["https://a.example/users/x/followers", "as:Public"],
        {"id": PUBLIC},
        {"to": ["https://a.example/u"], "cc": "Public"},
    ],
)
def test_public_spellings(addressing: Any) -> None:
    assert is_public(addressing)


@pytest.mark.parametrize(
    "addressing",
    [None, [], "https://a.example/users/x/followers", ["https://a.example/u"], {"to": [], "cc": []}],
)
def test_not_public(addressing: Any) -> None:
    assert not is_public(addressing)


@pytest.mark.parametrize(
    ("name", "public"),
    [
        ("bookwyrm-quotation.json", True),  # to: [full IRI]
        ("ghost-article.json", True),  # to: "as:Public"
        ("bookwyrm-note.json", False),  # addressed to one user
        ("gotosocial-docs-move.json", False),  # followers only
    ],
)
def test_public_addressing_in_fixtures(name: str, public: bool) -> None:
    doc = json.loads(fixture("objects", name).read_text("utf-8"))
    assert is_public(doc) is public


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("False", False),
        (None, False),
        ("yes", False),
        (1, False),
    ],
)
def test_bool_of(value: Any, expected: bool) -> None:
    assert bool_of(value) is expected


def test_url_of_shapes() -> None:
    assert url_of("https://a.example/@x") == "https://a.example/@x"
    assert url_of({"type": "Link", "href": "https://a.example/@x"}) == "https://a.example/@x"
    links = [
        {"type": "Link", "mediaType": "application/activity+json", "href": "https://a.example/ap"},
        {"type": "Link", "mediaType": "text/html", "href": "https://a.example/@x"},
    ]
    assert url_of(links) == "https://a.example/@x"
    assert url_of({"type": "Image", "url": "https://a.example/i.png"}) == "https://a.example/i.png"
    assert (
        url_of({"type": "Image", "url": [{"href": "https://a.example/i.png"}]}) == "https://a.example/i.png"
    )
    assert url_of(None) is None
    assert url_of({"type": "Image"}) is None


# -- keys --------------------------------------------------------------------------


def test_public_key_object() -> None:
    actor = _actor("mastodon-person.json")
    key = first_public_key(actor)
    assert key is not None
    assert key.id == "https://masto.qa.urbanwildlife.biz/users/mastodon#main-key"
    assert key.owner == "https://masto.qa.urbanwildlife.biz/users/mastodon"
    assert key.pem == actor["publicKey"]["publicKeyPem"]
    assert isinstance(load_pem_public_key(key.pem.encode()), rsa.RSAPublicKey)


def test_public_key_array_without_owner() -> None:
    # Fedify's test actor: publicKey is an array and its key has no owner.
    actor = _actor("fedify-person-handle.json")
    [key] = public_keys(actor)
    assert key.id == "https://example.com/users/handle#main-key"
    assert key.owner == "https://example.com/users/handle"


def test_public_key_array_of_two_plus_multikeys() -> None:
    actor = _actor("fedify-person-multikey.json")
    keys = public_keys(actor)
    assert [(k.id, k.type) for k in keys] == [
        ("https://example.com/person2#key3", "CryptographicKey"),
        ("https://example.com/person2#key4", "CryptographicKey"),
        # The Multikey copy of key3 is listed under a typo'd id ("peson2#key3"): a fragment of
        # another document, so not person2's key (origins.key_belongs_to); key4's is a duplicate.
    ]
    assert isinstance(load_pem_public_key(keys[1].pem.encode()), ed25519.Ed25519PublicKey)
    # The RSA Multikey decodes to the same key as the PEM published for key3.
    [typo] = [m for m in actor["assertionMethod"] if m["id"] == "https://example.com/peson2#key3"]
    multikey_pem = multikey_to_pem(typo["publicKeyMultibase"])
    assert multikey_pem is not None
    assert load_pem_public_key(multikey_pem.encode()).public_numbers() == (  # type: ignore[union-attr]
        load_pem_public_key(keys[0].pem.encode()).public_numbers()  # type: ignore[union-attr]
    )


def test_assertion_method_multikey_only() -> None:
    actor = _actor("fedify-fep8b32-alice.json")
    key = first_public_key(actor)
    assert key is not None
    assert (key.id, key.type, key.owner) == (
        "https://server.example/users/alice#ed25519-key",
        "Multikey",
        "https://server.example/users/alice",
    )
    assert key.multibase == "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    assert isinstance(load_pem_public_key(key.pem.encode()), ed25519.Ed25519PublicKey)


def test_key_listed_as_publickey_and_multikey_is_kept_once() -> None:
    actor = _actor("mitra-person-wizard-casa.json")
    keys = public_keys(actor)
    assert [(k.id, k.type) for k in keys] == [
        ("https://wizard.casa/users/hongminhee#main-key", "CryptographicKey"),
        ("https://wizard.casa/users/hongminhee#ed25519-key", "Multikey"),
    ]


def test_key_owned_by_someone_else_is_skipped() -> None:
    # GNU social group fixture: actor /actor/21, key owner /actor/2.
    actor = _actor("gnusocial-group.json")
    assert actor["publicKey"]["owner"] != actor["id"]
    assert public_keys(actor) == []
    assert first_public_key(actor) is None


def test_missing_or_bare_keys() -> None:
    assert public_keys({"id": "https://a.example/u"}) == []
    assert public_keys({"id": "https://a.example/u", "publicKey": "https://a.example/u#k"}) == []
    assert first_public_key({"id": "https://a.example/u", "publicKey": [{"id": "k"}]}) is None


def test_multikey_decoding_rejects_garbage() -> None:
    assert multikey_to_pem("u6Mk-base64url") is None  # only base58btc
    assert multikey_to_pem("z0OIl") is None  # not base58
    assert multikey_to_pem("z" + "1" * 10) is None  # unknown codec
