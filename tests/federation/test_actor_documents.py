"""Remote actor documents from many servers parse into `RemoteActor`, with the values they carry."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from talentfed.federation.actor_documents import (
    ACTOR_TYPES,
    InvalidDocument,
    ProfileField,
    RemoteActor,
    parse_actor,
)
from tests.fixtures_path import FIXTURES, fixture

# Fixture files that are not complete actors, each with the rejection we expect and why.
NOT_ACTORS: dict[str, tuple[str, str]] = {
    "fedify-cryptographickey-doc.json": (
        "type 'CryptographicKey' is not an actor type",
        "a key document (what a keyId dereferences to), not an actor",
    ),
    "fedify-person-handle.json": ("no inbox", "Fedify unit-test actor trimmed to its keys"),
    "fedify-person-multikey.json": ("no inbox", "Fedify unit-test actor trimmed to its keys"),
    "gotosocial-docs-publickey-stub.json": ("no inbox", "the partial stub GtS serves at a key URL"),
    **{
        f"mastodon-docs-person-{part}.json": ("no inbox", "Mastodon docs fragment showing one property")
        for part in (
            "discoverable",
            "featured",
            "featuredtags",
            "identityproof",
            "memorial",
            "propertyvalue",
            "publickey",
            "suspended",
        )
    },
}


def _actor_names() -> list[str]:
    directory = FIXTURES / "actors"
    names = sorted(p.name for p in directory.glob("*.json")) if directory.is_dir() else []
    # An empty list would silently skip the parametrized test; a bogus name makes it fail instead.
    return names or [f"<no fixtures in {directory}>"]


def _doc(name: str) -> dict[str, Any]:
    return json.loads(fixture("actors", name).read_text("utf-8"))


def _parse(name: str) -> RemoteActor:
    return parse_actor(_doc(name))


def _parse_fragment(name: str) -> RemoteActor:
    """A docs fragment, completed with the inbox it omits, to read the property it shows."""
    doc = _doc(name)
    return parse_actor({**doc, "inbox": doc["id"] + "/inbox"})


@pytest.mark.parametrize("name", _actor_names())
def test_every_actor_fixture_parses_or_is_a_listed_exception(name: str) -> None:
    doc = _doc(name)
    if name in NOT_ACTORS:
        expected_reason, _why = NOT_ACTORS[name]
        with pytest.raises(InvalidDocument) as caught:
            parse_actor(doc)
        assert caught.value.reason == expected_reason
        return
    actor = parse_actor(doc)
    assert actor.id == doc["id"]
    assert actor.type in ACTOR_TYPES
    assert actor.inbox == doc["inbox"]
    assert actor.raw == doc


def test_exceptions_list_names_existing_files() -> None:
    assert set(NOT_ACTORS) <= set(_actor_names())


# -- values from real servers --------------------------------------------------------------


def test_mastodon_actor() -> None:
    actor = _parse("mastodon-person.json")
    base = "https://masto.qa.urbanwildlife.biz/users/mastodon"
    assert (actor.id, actor.type, actor.preferred_username, actor.name) == (
        base,
        "Person",
        "mastodon",
        "Mastodon",
    )
    assert actor.shared_inbox == "https://masto.qa.urbanwildlife.biz/inbox"
    assert actor.inbox == base + "/inbox"
    assert actor.outbox == base + "/outbox"
    assert actor.followers == base + "/followers"
    assert actor.following == base + "/following"
    assert actor.featured == base + "/collections/featured"
    assert actor.url == "https://masto.qa.urbanwildlife.biz/@mastodon"
    assert actor.summary == ""
    assert actor.published == datetime(2022, 10, 3, tzinfo=UTC)
    assert (actor.manually_approves_followers, actor.discoverable, actor.indexable) == (False, False, False)
    [key] = actor.public_keys
    assert (key.id, key.owner) == (base + "#main-key", base)
    assert key.pem.startswith(
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtBdE55VmV9"
    )


def test_gotosocial_actor_with_fields() -> None:
    actor = _parse("gotosocial-account-to-as-with-fields.json")
    assert actor.fields == (
        ProfileField(name="should you follow me?", value="maybe!"),
        ProfileField(name="age", value="120"),
    )
    assert actor.summary == "<p>i post about things that concern me</p>"
    assert actor.manually_approves_followers is True
    assert actor.shared_inbox is None  # GtS only sends endpoints when it has a shared inbox
    assert actor.featured == "http://localhost:8080/users/1happyturtle/collections/featured"
    assert actor.published == datetime(2022, 6, 4, 13, 12, tzinfo=UTC)


def test_gotosocial_shared_inbox() -> None:
    actor = _parse("gotosocial-account-to-as-with-shared-inbox.json")
    assert actor.shared_inbox == "http://localhost:8080/sharedInbox"


def test_gotosocial_aliased_and_moved() -> None:
    actor = _parse("gotosocial-account-to-as-aliased-and-moved.json")
    assert actor.also_known_as == ("http://localhost:8080/users/1happyturtle",)
    assert actor.moved_to == "http://localhost:8080/users/1happyturtle"
    assert actor.icon_url == (
        "http://localhost:8080/fileserver/01F8MH1H7YV1Z7D2C8K2730QBF/avatar/original/01F8MH58A357CV5K7R7TJMSH6S.jpg"
    )
    assert actor.name == "original zork (he/they)"
    [key] = actor.public_keys
    assert key.id == "http://localhost:8080/users/the_mighty_zork/main-key"  # no #fragment


def test_mastodon_actor_with_string_boolean_and_aliases() -> None:
    # Pleroma's fixture of a Mastodon actor carries "discoverable": "true" (a string).
    actor = _parse("mastodon-person-admin.json")
    assert actor.discoverable is True
    assert actor.also_known_as == ("http://example.org/users/foo",)
    assert actor.fields == (ProfileField("foo", "bar"), ProfileField("foo1", "bar1"))
    assert actor.shared_inbox == "http://mastodon.example.org/inbox"


def test_wordpress_group_is_indexable() -> None:
    actor = _parse("wordpress-group.json")
    assert (actor.type, actor.discoverable, actor.indexable) == ("Group", True, True)
    assert actor.shared_inbox == "https://dbzer0.com/wp-json/activitypub/1.0/inbox"
    assert actor.published == datetime(2005, 2, 11, 23, 20, 15, tzinfo=UTC)


def test_application_relay_with_null_name() -> None:
    actor = _parse("mastodon-application-relay.json")
    assert actor.type == "Application"
    assert actor.name is None


def test_type_array_with_vcard() -> None:
    actor = _parse("mastodon-person-vcard-individual.json")
    assert actor.type == "Person"
    assert actor.raw["type"] == ["Person", "vcard:individual"]


def test_hubzilla_url_is_a_link() -> None:
    actor = _parse("hubzilla-person.json")
    assert actor.url == "https://hubzilla.example.org/channel/kaniini"
    assert actor.icon_url == "https://hubzilla.example.org/photo/profile/l/281"
    assert actor.public_keys[0].id == "https://hubzilla.example.org/channel/kaniini/public_key_pem"


def test_peertube_icon_array() -> None:
    actor = _parse("peertube-person.json")
    assert (
        actor.icon_url == "https://tilvids.com/lazy-static/avatars/e74c2c6b-1f6b-4506-9d03-2cbba1635b20.jpg"
    )
    assert actor.published == datetime(2020, 6, 30, 13, 45, 17, 950000, tzinfo=UTC)


def test_smithereen_cropped_icon() -> None:
    actor = _parse("smithereen-person.json")
    assert actor.icon_url is not None and "/c:573:572:" in actor.icon_url
    assert actor.shared_inbox == "https://friends.grishka.me/activitypub/sharedInbox"


def test_lemmy_document_without_context() -> None:
    actor = _parse("lemmy-person.json")
    assert actor.shared_inbox == "https://enterprise.lemmy.ml/inbox"
    assert actor.published == datetime(2020, 1, 17, 1, 38, 22, 348392, tzinfo=UTC)


def test_mitra_keys_from_public_key_and_assertion_method() -> None:
    actor = _parse("mitra-person-wizard-casa.json")
    assert [(k.id, k.type) for k in actor.public_keys] == [
        ("https://wizard.casa/users/hongminhee#main-key", "CryptographicKey"),
        ("https://wizard.casa/users/hongminhee#ed25519-key", "Multikey"),
    ]
    assert actor.manually_approves_followers is True


def test_fep_8b32_actor_with_multikey_only() -> None:
    actor = _parse("fedify-fep8b32-alice.json")
    [key] = actor.public_keys
    assert key.type == "Multikey"
    assert key.pem.startswith("-----BEGIN PUBLIC KEY-----")


def test_misskey_key_type() -> None:
    actor = _parse("misskey-person-sjw.json")
    assert actor.public_keys[0].type == "Key"


def test_gnusocial_group_key_of_another_owner_is_dropped() -> None:
    actor = _parse("gnusocial-group.json")
    assert actor.public_keys == ()
    assert actor.shared_inbox == "https://instance.gnusocial.test/inbox.json"


# -- properties shown by Mastodon's documentation fragments --------------------------


def test_docs_memorial_suspended_discoverable() -> None:
    assert _parse_fragment("mastodon-docs-person-memorial.json").memorial is True
    assert _parse_fragment("mastodon-docs-person-suspended.json").suspended is True
    assert _parse_fragment("mastodon-docs-person-discoverable.json").discoverable is True
    # indexable is missing from all of them: False, as in Mastodon.
    assert _parse_fragment("mastodon-docs-person-discoverable.json").indexable is False


def test_docs_featured_and_fields() -> None:
    featured = _parse_fragment("mastodon-docs-person-featured.json")
    assert featured.featured == "https://example.com/@alice/collections/featured"
    fields = _parse_fragment("mastodon-docs-person-propertyvalue.json").fields
    assert [f.name for f in fields] == ["Patreon", "Homepage"]
    assert fields[0].value.startswith('<a href="https://www.patreon.com/mastodon"')


def test_docs_identity_proof_is_not_a_field() -> None:
    assert _parse_fragment("mastodon-docs-person-identityproof.json").fields == ()


def test_docs_public_key() -> None:
    [key] = _parse_fragment("mastodon-docs-person-publickey.json").public_keys
    assert key.id == "https://mastodon.social/users/Gargron#main-key"


# -- invalid documents ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ([], "not a JSON object"),
        ({"type": "Person", "inbox": "https://a.example/inbox"}, "no id"),
        ({"id": "acct:x@a.example", "type": "Person"}, "id 'acct:x@a.example' is not an http(s) URL"),
        ({"id": "https://a.example/n/1", "type": "Note"}, "type 'Note' is not an actor type"),
        ({"id": "https://a.example/u"}, "type None is not an actor type"),
        ({"id": "https://a.example/u", "type": "Person"}, "no inbox"),
        (
            {"id": "https://a.example/u", "type": "Person", "inbox": "ftp://a.example/in"},
            "inbox 'ftp://a.example/in' is not an http(s) URL",
        ),
    ],
)
def test_invalid_documents(doc: Any, reason: str) -> None:
    with pytest.raises(InvalidDocument) as caught:
        parse_actor(doc)
    assert caught.value.reason == reason


def test_odd_values_are_ignored_not_fatal() -> None:
    actor = parse_actor(
        {
            "id": "https://a.example/u",
            "type": ["Service"],
            "inbox": {"id": "https://a.example/u/inbox"},
            "name": {"en": "not a string"},
            "followers": "javascript:alert(1)",
            "endpoints": "https://a.example/endpoints",
            "published": "yesterday",
            "attachment": {"type": "PropertyValue", "name": "only", "value": "one"},
            "alsoKnownAs": "https://b.example/u",
            "movedTo": {"id": "https://b.example/u"},
        }
    )
    assert actor.type == "Service"
    assert actor.inbox == "https://a.example/u/inbox"
    assert (actor.name, actor.followers, actor.shared_inbox, actor.published) == (None, None, None, None)
    assert actor.fields == (ProfileField("only", "one"),)
    assert actor.also_known_as == ("https://b.example/u",)
    assert actor.moved_to == "https://b.example/u"


def test_remote_actor_is_immutable_and_hashable() -> None:
    actor = _parse("mastodon-person.json")
    with pytest.raises(AttributeError):
        actor.inbox = "https://evil.example/inbox"  # type: ignore[misc]
    with pytest.raises(TypeError):
        actor.raw["inbox"] = "https://evil.example/inbox"  # type: ignore[index]
    assert hash(actor) == hash(_parse("mastodon-person.json"))


def test_the_header_picture_is_read_as_image_url() -> None:
    actor = _parse("mastodon-person-emelie.json")
    assert actor.image_url == (
        "https://files.mastodon.social/accounts/headers/000/015/657/original/847f331f3dd9e38b.png"
    )
    assert actor.icon_url and actor.icon_url.endswith("e7163f98280da1a4.png")
