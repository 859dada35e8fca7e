"""Hostile input (issue 12, points 7-10): the caps on federated input (`federation/limits.py`).

Every bad document is sent validly signed (or unsigned where that is the point) to the inbox
of a node on SQLite and on PostgreSQL: both must answer the same 400 naming the field, store
nothing, and log no error. Links that are not http(s) never leave the parsers.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from talentfed.federation import handlers, limits
from talentfed.federation.actor_documents import InvalidDocument, parse_actor
from talentfed.federation.as_values import url_of
from talentfed.federation.fetcher import InvalidJSON, _parse_json_object
from talentfed.federation.post_reader import read_post
from talentfed.storage.models import Activity, Actor, Object
from tests.federation.local_node import Node
from tests.federation.remote_server import RemoteServer, RemoteUser

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = AS + "#Public"


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture):
    """No refusal here may be an unhandled exception: nothing at ERROR, no traceback."""
    caplog.set_level(logging.INFO)
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


def _create(actor: RemoteUser, **note_fields: Any) -> dict:
    server = actor.server
    note = {
        "id": f"{server.base}/notes/{uuid.uuid4().hex}",
        "type": "Note",
        "attributedTo": actor.uri,
        "to": [PUBLIC],
        "content": "<p>hello</p>",
        **note_fields,
    }
    return {
        "@context": AS,
        "id": server.activity_id(uuid.uuid4().hex),
        "type": "Create",
        "actor": actor.uri,
        "to": [PUBLIC],
        "object": note,
    }


def _with_raw(document: dict, raw: str) -> bytes:
    """The JSON of `document` with the string "RAW" replaced by `raw` (NaN, 1e400, …)."""
    return json.dumps(document).replace('"RAW"', raw).encode()


async def _refused(node: Node, body: dict | bytes, signer: RemoteUser | None, *words: str) -> None:
    response = await node.post("/inbox", body, signer)
    assert response.status_code == 400, response.text
    reason = response.json()["reason"]
    for word in words:
        assert word in reason, reason
    assert await node.count(Activity) == 0 and await node.count(Object) == 0


# --- 7: nesting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000,
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        b"[" * (limits.MAX_DEPTH + 1) + b"]" * (limits.MAX_DEPTH + 1),
        b'{"id": "x", "a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    ],
    ids=["open-brackets", "nested-objects", "one-level-too-deep", "deep-and-closed"],
)
async def test_deep_nesting_is_400_before_anything_recurses(node: Node, body: bytes) -> None:
    await _refused(node, body, None, "nested deeper than 32 levels")


async def test_deep_nesting_inside_a_signed_activity_is_400(node: Node, alice: RemoteUser) -> None:
    deep: Any = "bottom"
    for _ in range(limits.MAX_DEPTH):
        deep = {"next": deep}
    await _refused(node, _create(alice, deep=deep), alice, "nested deeper")


def test_nesting_at_the_cap_is_read() -> None:
    deep: Any = []
    for _ in range(limits.MAX_DEPTH - 1):
        deep = [deep]
    assert limits.parse_json(json.dumps(deep)) == deep
    # Brackets inside strings, escaped quotes and backslashes do not count.
    tricky = {"s": "[[[[" * 100 + '\\"' + "{" * 100, "t": "\\", "u": ["]]]"]}
    assert limits.parse_json(json.dumps(tricky)) == tricky


def test_a_fetched_document_is_held_to_the_same_caps() -> None:
    url = "https://remote.example/users/deep"
    for body, reason in [
        (b"[" * 5000, "nested deeper than 32 levels"),
        (b'{"id": "x", "n": NaN}', "NaN"),
        (b'{"id": "x", "s": "a\\u0000b"}', "s: a NUL character"),
    ]:
        with pytest.raises(InvalidJSON, match=reason):
            _parse_json_object(body, url)


async def test_a_fetched_actor_nested_too_deep_is_unavailable(node: Node, remote: RemoteServer) -> None:
    deep: Any = "x"
    for _ in range(limits.MAX_DEPTH + 5):
        deep = [deep]
    remote.serve({"id": f"{remote.base}/things/deep", "type": "Note", "deep": deep})
    with pytest.raises(InvalidJSON, match="nested deeper"):
        await node.federation.fetcher.fetch_json(f"{remote.base}/things/deep")


# --- 8: what PostgreSQL refuses, refused on both ----------------------------------------------


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda a: a.update(type="X" * 100), ("type", "longer than 32")),
        (lambda a: a.update(type=["Create", "Y" * 33]), ("type", "longer than 32")),
        (lambda a: a.update(id=a["id"] + "/" + "i" * 3000), ("id", "at most 2048")),
        (lambda a: a["object"].update(id=a["object"]["id"] + "/" + "o" * 3000), ("object", "at most 2048")),
        (lambda a: a["object"].update(content="nul\x00here"), ("object.content", "NUL")),
        (lambda a: a.update(summary="\x00"), ("summary", "NUL")),
        (lambda a: a["object"].update({"key\x00": "v"}), ("object", "NUL")),
        (
            lambda a: a["object"].update(tag=[{"type": "Hashtag", "name": "#a\x00"}]),
            ("object.tag.0.name", "NUL"),
        ),
        (lambda a: a["object"].update(content="lone \ud800 surrogate"), ("object.content", "surrogate")),
    ],
    ids=[
        "type-100",
        "second-type-33",
        "id-3000",
        "object-id-3000",
        "nul-content",
        "nul-activity",
        "nul-key",
        "nul-nested",
        "lone-surrogate",
    ],
)
async def test_what_postgresql_refuses_is_400_on_both(
    node: Node, alice: RemoteUser, change: Any, words: tuple[str, ...]
) -> None:
    activity = _create(alice)
    change(activity)
    await _refused(node, activity, alice, *words)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("NaN", ("NaN",)),
        ("Infinity", ("Infinity",)),
        ("-Infinity", ("-Infinity",)),
        ("1e400", ("1e400", "too large")),
        ("-1.5e999", ("too large",)),
        ("1" + "0" * 30, ("out of range",)),
        ("9" * 5000, ("out of range",)),
    ],
)
async def test_non_finite_and_huge_numbers_are_400_on_both(
    node: Node, alice: RemoteUser, raw: str, words: tuple[str, ...]
) -> None:
    body = _with_raw(_create(alice, teamSize="RAW"), raw)
    await _refused(node, body, alice, *words)


async def test_an_actor_iri_over_the_column_is_400_before_the_signature(node: Node) -> None:
    actor = "https://remote.example/users/" + "a" * 3000
    follow = {"id": "https://remote.example/f/1", "type": "Follow", "actor": actor, "object": "x"}
    await _refused(node, follow, None, "actor", "at most 2048")


# --- 9: arrays, strings, recipients: refused cheaply, before the transaction --------------------


def _tags(count: int) -> list[dict]:
    return [{"type": "Hashtag", "name": f"#t{i}"} for i in range(count)]


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"tag": _tags(14_000)}, ("object.tag", "14000 entries", "at most 200")),
        ({"tag": _tags(201)}, ("object.tag", "at most 200")),
        ({"attachment": [{"type": "Image", "url": "https://r.example/i.png"}] * 65}, ("object.attachment",)),
        ({"skills": ["nlp"] * 101}, ("object.skills", "at most 100")),
        ({"tf:skills": ["nlp"] * 101}, ("object.tf:skills", "at most 100")),
        (
            {"to": [f"https://r.example/u/{i}" for i in range(1001)]},
            ("object.to", "1001 entries", "at most 1000"),
        ),
        ({"cc": ["https://r.example/u/1"] * 600, "bcc": ["https://r.example/u/2"] * 401}, ("recipients",)),
        ({"anything": list(range(1001))}, ("object.anything", "at most 1000")),
        ({"content": "x" * (limits.MAX_STRING + 1)}, ("object.content", "at most 262144")),
        ({"content": "*a" * 50_001, "mediaType": "text/markdown"}, ("object.content", "Markdown")),
    ],
    ids=[
        "14000-tags",
        "201-tags",
        "65-attachments",
        "101-skills",
        "101-prefixed-skills",
        "1001-to",
        "1001-recipients",
        "1001-anything",
        "long-string",
        "long-markdown",
    ],
)
async def test_arrays_strings_and_recipients_over_their_caps_are_400(
    node: Node, alice: RemoteUser, fields: dict, words: tuple[str, ...]
) -> None:
    await _refused(node, _create(alice, **fields), alice, *words)


async def test_a_14000_tag_create_is_refused_cheaply(
    node: Node, alice: RemoteUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused on parsing, before the signature and the transaction: the post is never read."""

    def never(document: Any) -> None:
        raise AssertionError("the post was read: the caps came too late")

    monkeypatch.setattr(handlers, "read_post", never)
    body = json.dumps(_create(alice, tag=_tags(14_000))).encode()
    started = time.perf_counter()
    with pytest.raises(limits.InputRefused, match="14000 entries"):
        limits.parse_json(body)
    assert time.perf_counter() - started < 0.5  # reading the post took ~0.75 s; this ~0.01 s
    await _refused(node, body, alice, "object.tag")


async def test_a_post_at_every_cap_is_accepted(node: Node, alice: RemoteUser) -> None:
    activity = _create(
        alice,
        tag=_tags(limits.FIELD_ITEMS["tag"]),
        attachment=[{"type": "Document", "url": f"https://r.example/{i}.pdf"} for i in range(64)],
        to=[PUBLIC] + [f"https://r.example/u/{i}" for i in range(limits.MAX_RECIPIENTS - 1)],
        content="<p>" + "x" * 100_000 + "</p>",
        teamSize=2**63 - 1,
        ratio=1.5e308,
    )
    response = await node.post("/inbox", activity, alice)
    assert response.status_code == 202, response.text
    async with node.sessions() as session:
        stored = await session.scalar(select(Object).where(Object.uri == activity["object"]["id"]))
    assert stored is not None and len(stored.tags) == limits.FIELD_ITEMS["tag"]


# --- 10: only http(s) links leave the parsers ------------------------------------------------


BAD_LINKS = ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:x", "JavaScript:x"]


@pytest.mark.parametrize("link", BAD_LINKS)
def test_url_of_keeps_only_http_urls(link: str) -> None:
    assert url_of(link) is None
    assert url_of({"type": "Link", "href": link}) is None
    assert url_of([link, "https://ok.example/p"]) == "https://ok.example/p"
    assert (
        url_of([{"href": link, "mediaType": "text/html"}, {"href": "https://ok.example/"}])
        == "https://ok.example/"
    )


def test_an_actor_keeps_only_http_links() -> None:
    actor = parse_actor(
        {
            "id": "https://r.example/users/x",
            "type": "Person",
            "inbox": "https://r.example/users/x/inbox",
            "url": "javascript:alert(1)",
            "icon": {"type": "Image", "url": "data:image/png;base64,AAAA"},
            "outbox": "javascript:alert(2)",
            "alsoKnownAs": ["javascript:alert(3)", "https://old.example/u/x"],
            "published": "0001-01-01T00:00:00+01:00",  # before year 1 in UTC: no date
        }
    )
    assert (actor.url, actor.icon_url, actor.outbox, actor.published) == (None, None, None, None)
    assert actor.also_known_as == ("https://old.example/u/x",)


def test_a_username_over_the_column_is_refused() -> None:
    base = {"type": "Person", "inbox": "https://r.example/inbox"}
    with pytest.raises(InvalidDocument, match="username longer than 255"):
        parse_actor({**base, "id": "https://r.example/users/x", "preferredUsername": "u" * 256})
    with pytest.raises(InvalidDocument, match="username longer than 255"):
        parse_actor({**base, "id": "https://r.example/users/" + "u" * 256})
    with pytest.raises(InvalidDocument, match="longer than 2048"):
        parse_actor({**base, "id": "https://r.example/users/" + "u" * 2048})


def test_a_post_keeps_only_http_links() -> None:
    post = read_post(
        {
            "id": "https://r.example/notes/1",
            "type": "Note",
            "attributedTo": "https://r.example/users/x",
            "content": "<p>hi</p>",
            "url": "javascript:alert(1)",
            "attachment": [
                {"type": "Image", "url": "javascript:alert(2)"},
                {"type": "Image", "url": "https://r.example/ok.png"},
            ],
            "tag": [{"type": "Mention", "href": "javascript:alert(3)", "name": "@x"}],
        }
    )
    assert post.url is None and post.mentions == ()
    assert [a.url for a in post.attachments] == ["https://r.example/ok.png"]


async def test_a_javascript_profile_link_is_not_rendered_on_the_followers_page(
    node: Node, remote: RemoteServer
) -> None:
    mallory = remote.add_user(
        "mallory", extra={"url": "javascript:alert(document.cookie)", "icon": {"url": "javascript:x"}}
    )
    follow = {"@context": AS, "id": remote.activity_id("f"), "type": "Follow"}
    follow |= {"actor": mallory.uri, "object": node.actor_uri("bob")}
    assert (await node.to_bob(follow, mallory)).status_code == 202
    stored = await node.actor(mallory.uri)
    assert stored is not None and (stored.url, stored.icon_url) == (None, None)
    page = await node.client.get("/users/bob/followers", headers={"Accept": "text/html"})
    assert page.status_code == 200 and mallory.uri in page.text
    assert "javascript:" not in page.text.lower()


async def test_an_actor_update_with_a_javascript_url_keeps_no_link(node: Node, alice: RemoteUser) -> None:
    changed = alice.document(url="javascript:alert(1)", published="0001-01-01T00:30:00+01:00")
    update = {"@context": AS, "id": alice.server.activity_id("u"), "type": "Update"}
    update |= {"actor": alice.uri, "object": changed}
    response = await node.to_bob(update, alice)
    assert response.status_code == 202, response.text
    async with node.sessions() as session:
        stored = await session.scalar(select(Actor).where(Actor.uri == alice.uri))
    assert stored is not None and stored.url is None and stored.published is None
