"""Ids, keys and signatures are bound to their owners (issue 12, points 4-6; `federation/origins.py`).

- 4: an activity id on another host than its actor is refused, so no server can claim, and so
  block, another server's activity ids; forwarded activities still arrive.
- 5: a key belongs to the actor whose document lists it only when it lives on that actor's host
  (a fragment of its own document, or a key document served under its own id whose owner is
  on the same host): no document can shadow another actor's key.
- 6: a signature is good only for the host it was made for: a request signed for another
  server, inbox POST or signed GET, is not accepted here.

Two remote servers on loopback ports are two hosts: 127.0.0.1:A and 127.0.0.1:B.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.federation.origins import authority, key_belongs_to, our_hosts, same_host
from talentfed.federation.signatures import WrongHostError, sign_request, verify_request
from talentfed.storage.models import Activity, Actor, Follow
from tests.federation.local_node import Node, open_node
from tests.federation.remote_server import AS_JSON, RemoteServer, RemoteUser
from tests.support.factories import follow_doc
from tests.support.signing import signed_headers, signed_post


async def post_signed(
    node: Node,
    path: str,
    activity: dict,
    *,
    key_id: str,
    private_pem: str,
    signed_for: str | None = None,
    scheme: str = "cavage",
) -> httpx.Response:
    """POST `activity` signed under `key_id`, for the URL `signed_for` (ours by default).

    The signer sets the Host header of the URL it signs for, and the request goes out with it.
    """
    url = signed_for or node.config.node.base_url + path
    body, headers = signed_post(url, activity, key_id=key_id, private_pem=private_pem, scheme=scheme)
    return await node.client.post(path, content=body, headers=headers)


@pytest.fixture
async def other() -> AsyncIterator[RemoteServer]:
    """A second remote server: another host than `remote`'s."""
    async with RemoteServer() as server:
        yield server


# --- the rules themselves ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://A.example/users/a", "a.example"),
        ("https://a.example:443/users/a", "a.example"),
        ("http://a.example:80/x", "a.example"),
        ("http://127.0.0.1:8000/x", "127.0.0.1:8000"),
        ("https://[::1]:8443/x", "[::1]:8443"),
        ("https://victim.example@evil.example/x", ""),  # userinfo: no one's id
        ("ftp://a.example/x", ""),
        ("https://a.example:99999/x", ""),
        ("not a url", ""),
    ],
)
def test_authority(url: str, expected: str) -> None:
    assert authority(url) == expected


def test_same_host_needs_a_host_on_both_sides() -> None:
    assert same_host("https://a.example/activities/1", "https://a.example:443/users/a")
    assert not same_host("https://a.example/x", "https://a.example.evil/x")
    assert not same_host("http://127.0.0.1:1/x", "http://127.0.0.1:2/x")
    assert not same_host("urn:x:1", "urn:x:1")


@pytest.mark.parametrize(
    ("key_id", "belongs"),
    [
        ("https://a.example/users/a#main-key", True),
        ("https://a.example/users/a/main-key", True),  # a key document (GoToSocial)
        ("https://a.example/users/a", True),  # the actor itself as key id
        ("https://b.example/users/b#main-key", False),  # another host's key
        ("https://a.example/users/b#main-key", False),  # a fragment of another document
        ("https://a.example:8443/users/a#main-key", False),  # another port is another host
    ],
)
def test_key_belongs_to(key_id: str, belongs: bool) -> None:
    assert key_belongs_to(key_id, "https://a.example/users/a") is belongs


def test_our_hosts_are_the_base_url_and_the_domain(config: Config) -> None:
    assert our_hosts(config) == {"127.0.0.1:8000"}
    split = dataclasses.replace(config.node, domain="uni.example", base_url="https://social.uni.example:443")
    assert our_hosts(dataclasses.replace(config, node=split)) == {"uni.example", "social.uni.example"}


# --- 4: activity ids ---------------------------------------------------------------------


async def test_an_activity_id_on_another_host_is_refused_and_its_owner_is_still_heard(
    node: Node, remote: RemoteServer, other: RemoteServer
) -> None:
    mallory = remote.add_user("mallory")
    alice = other.add_user("alice")
    owned_id = other.activity_id("follow-1")  # alice's next activity id, on alice's host
    bob = node.actor_uri("bob")

    squatting = follow_doc(mallory.uri, bob, id=owned_id)
    response = await node.to_bob(squatting, mallory)
    assert response.status_code == 403, response.text
    assert f"activity id {owned_id} is not on the actor's host {remote.netloc}" in response.json()["reason"]
    assert await node.count(Activity) == 0 and await node.follow_state(mallory.uri, bob) is None

    response = await node.to_bob(follow_doc(alice.uri, bob, id=owned_id), alice)
    assert response.status_code == 202 and response.json()["reason"] == "follow accepted", response.text
    async with node.sessions() as session:
        stored = await session.scalar(select(Activity).where(Activity.uri == owned_id))
    assert stored is not None and stored.actor_uri == alice.uri


async def test_a_forwarded_activity_from_another_server_still_arrives(
    node: Node, remote: RemoteServer, other: RemoteServer
) -> None:
    """Inbox forwarding: a server passes on alice's activity, signed with its own actor's key."""
    alice = remote.add_user("alice")
    forwarder = other.add_user("forwarder")
    original = follow_doc(alice.uri, node.actor_uri("bob"))
    remote.serve(original)
    response = await node.to_bob(original, forwarder)
    assert response.status_code == 202, response.text
    assert await node.follow_state(alice.uri, node.actor_uri("bob")) == "accepted"


# --- 5: keys -----------------------------------------------------------------------------


def listing(user: RemoteUser, key_id: str) -> dict:
    """Properties that make `user`'s document list its own public key under `key_id`."""
    return {"publicKey": {"id": key_id, "owner": user.uri, "publicKeyPem": user.public_pem}}


async def test_a_document_listing_another_hosts_key_does_not_shadow_its_owner(
    node: Node, remote: RemoteServer, other: RemoteServer
) -> None:
    alice = remote.add_user("alice")
    mallory = other.add_user("mallory")
    mallory.extra = listing(mallory, alice.key_id)
    stored = await node.federation.actors.get(mallory.uri)
    assert stored.public_key_id is None and stored.public_key_pem is None  # the claim is not kept

    bob = node.actor_uri("bob")
    response = await node.to_bob(follow_doc(alice.uri, bob), alice)
    assert response.status_code == 202, response.text
    assert await node.follow_state(alice.uri, bob) == "accepted"

    # Nor can mallory sign under alice's key id with her own key.
    response = await post_signed(
        node,
        "/users/bob/inbox",
        follow_doc(mallory.uri, bob),
        key_id=alice.key_id,
        private_pem=mallory.private_pem,
    )
    assert response.status_code == 401, response.text
    assert await node.follow_state(mallory.uri, bob) is None


async def test_a_claim_stored_before_the_rule_does_not_shadow_its_owner(
    node: Node, remote: RemoteServer, other: RemoteServer
) -> None:
    """A row written before keys were bound to their actors' hosts answers for nothing."""
    alice = remote.add_user("alice")
    mallory = other.add_user("mallory")
    async with node.sessions() as session, session.begin():
        session.add(
            Actor(
                uri=mallory.uri,
                type="Person",
                username="mallory",
                domain=other.netloc,
                local=False,
                inbox_url=mallory.inbox,
                public_key_id=alice.key_id,
                public_key_pem=mallory.public_pem,
                document=mallory.document(**listing(mallory, alice.key_id)),
            )
        )
    assert await node.federation.actors.owner_of_key(alice.key_id) is None
    bob = node.actor_uri("bob")
    for scheme in ("cavage", "rfc9421"):
        response = await node.to_bob(follow_doc(alice.uri, bob), alice, scheme=scheme)
        assert response.status_code == 202, (scheme, response.text)
    owner = await node.federation.actors.owner_of_key(alice.key_id)
    assert owner is not None and owner.uri == alice.uri


async def test_a_separate_key_document_is_its_owners_on_the_same_host(
    node: Node, remote: RemoteServer
) -> None:
    alice = remote.add_user("alice")
    key_id = f"{remote.base}/keys/alice"  # no fragment: a document of its own (GoToSocial's shape)
    alice.extra = listing(alice, key_id)
    remote.serve({"id": key_id, "type": "Key", "owner": alice.uri, "publicKeyPem": alice.public_pem})
    bob = node.actor_uri("bob")
    response = await post_signed(
        node, "/users/bob/inbox", follow_doc(alice.uri, bob), key_id=key_id, private_pem=alice.private_pem
    )
    assert response.status_code == 202, response.text
    assert (await node.federation.actors.owner_of_key(key_id)).uri == alice.uri


async def test_a_key_url_serving_a_stub_of_its_actor_is_read_from_the_actor(
    node: Node, remote: RemoteServer
) -> None:
    """GoToSocial's shape: at …/main-key (no fragment) a stub of the actor, under the actor's id
    (shared/fixtures/actors/gotosocial-docs-publickey-stub.json)."""
    gts = remote.add_user("gts")
    key_id = f"{gts.uri}/main-key"
    gts.extra = listing(gts, key_id)
    stub = {"id": gts.uri, "type": "Person", "preferredUsername": "gts", **listing(gts, key_id)}
    remote.documents["/users/gts/main-key"] = stub  # served at the key URL, under the actor's id
    response = await post_signed(
        node,
        "/users/bob/inbox",
        follow_doc(gts.uri, node.actor_uri("bob")),
        key_id=key_id,
        private_pem=gts.private_pem,
    )
    assert response.status_code == 202, response.text
    assert (await node.federation.actors.owner_of_key(key_id)).uri == gts.uri


async def test_a_key_document_naming_an_owner_on_another_host_is_refused(
    node: Node, remote: RemoteServer, other: RemoteServer
) -> None:
    alice = other.add_user("alice")
    mallory = remote.add_user("mallory")
    key_id = f"{remote.base}/keys/planted"  # on mallory's host, claiming to be alice's
    alice.extra = listing(alice, key_id)  # even if alice's document were made to list it
    remote.serve({"id": key_id, "type": "Key", "owner": alice.uri, "publicKeyPem": mallory.public_pem})
    response = await post_signed(
        node,
        "/users/bob/inbox",
        follow_doc(alice.uri, node.actor_uri("bob")),
        key_id=key_id,
        private_pem=mallory.private_pem,
    )
    assert response.status_code == 401
    assert "owner on another host" in response.json()["reason"]
    assert await node.count(Follow) == 0


async def test_a_key_document_served_under_another_id_is_refused(node: Node, remote: RemoteServer) -> None:
    alice = remote.add_user("alice")
    key_id = f"{remote.base}/keys/moved"
    real = f"{remote.base}/keys/alice"
    alice.extra = listing(alice, key_id)
    remote.redirects["/keys/moved"] = real
    remote.serve({"id": real, "type": "Key", "owner": alice.uri, "publicKeyPem": alice.public_pem})
    response = await post_signed(
        node,
        "/users/bob/inbox",
        follow_doc(alice.uri, node.actor_uri("bob")),
        key_id=key_id,
        private_pem=alice.private_pem,
    )
    assert response.status_code == 401
    assert "served under another id" in response.json()["reason"]


# --- 6: signatures are for this node -----------------------------------------------------------


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_an_inbox_post_signed_for_another_host_is_401(
    node: Node, remote: RemoteServer, scheme: str
) -> None:
    alice = remote.add_user("alice")
    bob = node.actor_uri("bob")
    response = await post_signed(
        node,
        "/users/bob/inbox",
        follow_doc(alice.uri, bob),
        key_id=alice.key_id,
        private_pem=alice.private_pem,
        signed_for="http://other.example/users/bob/inbox",  # a request alice made to another server
        scheme=scheme,
    )
    assert response.status_code == 401, response.text
    assert (
        "signed for the host 'other.example', not for this server (127.0.0.1:8000)"
        in response.json()["reason"]
    )
    assert sum(remote.gets.values()) == 0  # refused before any key fetch
    assert await node.count(Activity) == 0 and await node.follow_state(alice.uri, bob) is None

    # The same request signed for us is fine.
    response = await node.to_bob(follow_doc(alice.uri, bob), alice, scheme=scheme)
    assert response.status_code == 202, response.text


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
@pytest.mark.parametrize(
    ("url", "host", "ours"),
    [
        ("https://uni.example/inbox", None, True),
        ("https://uni.example/inbox", "uni.example:443", True),  # the default port, spelled out
        ("https://UNI.example/inbox", None, True),
        ("https://uni.example.evil/inbox", None, False),
        ("https://uni.example:8443/inbox", None, False),
        ("https://uni.example/inbox", "other.example", False),  # the URL is ours, the Host is not
        ("https://uni.example/inbox", "other.example@uni.example", False),  # not a host at all
    ],
)
async def test_the_verifier_accepts_only_our_hosts(
    rsa_key_pool: list[tuple[str, str]], scheme: str, url: str, host: str | None, ours: bool
) -> None:
    private_pem, public_pem = rsa_key_pool[0]
    fetched: list[str] = []

    async def resolve(key_id: str, refresh: bool = False) -> str:
        fetched.append(key_id)
        return public_pem

    given = {"Content-Type": AS_JSON} | ({"Host": host} if host else {})
    headers = given | sign_request(
        "POST",
        url,
        given,
        b"{}",
        key_id="https://a.example/users/a#main-key",
        private_key_pem=private_pem,
        scheme=scheme,
    )
    verify = verify_request("POST", url, headers, b"{}", resolve_key=resolve, our_hosts={"uni.example"})
    if ours:
        assert (await verify).scheme == scheme
    else:
        with pytest.raises(WrongHostError, match="not for this server"):
            await verify
        assert fetched == []  # refused before the key is looked up


async def test_our_hosts_is_a_collection_not_a_string() -> None:
    async def resolve(key_id: str, refresh: bool = False) -> str:
        raise AssertionError

    with pytest.raises(TypeError):
        await verify_request(
            "GET", "https://uni.example/", {}, None, resolve_key=resolve, our_hosts="uni.example"
        )


def signed_get(node: Node, path: str, reader: RemoteUser, *, signed_for: str | None = None) -> dict[str, str]:
    url = signed_for or node.config.node.base_url + path
    return signed_headers("GET", url, key_id=reader.key_id, private_pem=reader.private_pem)


async def test_a_signed_get_for_another_host_is_refused_with_authorized_fetch(
    config: Config, engine: AsyncEngine, remote: RemoteServer
) -> None:
    alice = remote.add_user("alice")
    strict = dataclasses.replace(
        config, federation=dataclasses.replace(config.federation, authorized_fetch=True)
    )
    async with open_node(strict, engine) as node:
        path = "/users/bob/outbox"
        elsewhere = signed_get(node, path, alice, signed_for="http://other.example/users/bob/outbox")
        response = await node.client.get(path, headers=elsewhere)
        assert response.status_code == 401, response.text
        assert "signed for the host 'other.example'" in response.json()["error"]
        assert (await node.client.get(path, headers=signed_get(node, path, alice))).status_code == 200


async def test_a_signed_get_for_another_host_does_not_lend_its_signers_view(
    node: Node, remote: RemoteServer
) -> None:
    """Without authorized fetch, a GET signed for another server reads as anonymous: a
    follower's signature replayed here does not open followers-only posts."""
    fran = remote.add_user("fran")
    await node.follow_from(fran, "carol", approve=True)
    private = await node.followers_only_post("carol", "Budget", "For followers only.")
    path = "/users/carol/outbox?page=1"

    async def outbox(headers: dict[str, str]) -> list[str]:
        response = await node.client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        return [item["object"]["id"] for item in response.json()["orderedItems"]]

    assert private.uri in await outbox(signed_get(node, path, fran))
    replayed = signed_get(node, path, fran, signed_for="http://other.example" + path)
    assert private.uri not in await outbox(replayed)
