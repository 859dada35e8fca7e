"""Content warnings (Mastodon's `spoiler_text`): a note's AS2 `summary`, sent as plain text with
`sensitive: true`, read back from other servers' Notes, kept in the edit history, answered by
`source`, and shown collapsed on the post's page. An article's summary is its abstract, never a
warning (kinds.summary_is_warning)."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.federation.post_documents import content_warning
from talentfed.federation.post_reader import read_post
from talentfed.federation.post_store import store_post
from talentfed.storage.db import session_factory
from talentfed.storage.models import Activity, Object
from tests.fixtures_path import fixture
from tests.support.factories import actor_row_at
from tests.web.mastodon.test_posting import _stored, _token, demo_post
from tests.web.test_pages import form_post

WARNING = 'Spoilers: <b>"the end"</b> & more'  # markup in a warning is text, not HTML


async def _create(client: httpx.AsyncClient, auth: dict[str, str], **fields: Any) -> httpx.Response:
    return await client.post("/api/v1/statuses", json=fields, headers=auth)


async def _sent(engine: AsyncEngine, verb: str, uri: str) -> list[dict[str, Any]]:
    """The objects of the activities of `verb` about `uri`, as delivered."""
    async with session_factory(engine)() as session:
        rows = await session.scalars(
            select(Activity).where(Activity.type == verb, Activity.object_uri == uri).order_by(Activity.id)
        )
        return [row.document["object"] for row in rows]


async def test_a_warning_is_stored_shown_and_federated_as_mastodon_does(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    auth = await _token(demo_client)
    created = await _create(demo_client, auth, status="The plot twist", spoiler_text=WARNING)
    assert created.status_code == 200, created.text
    status = created.json()
    assert (status["spoiler_text"], status["sensitive"]) == (WARNING, True)
    assert status["content"] == "<p>The plot twist</p>"
    row = await _stored(engine, status["id"])
    assert (row.kind, row.sensitive) == ("note", True)
    assert unescape(row.summary or "") == f"<p>{WARNING}</p>"  # HTML in the column, escaped

    [note] = await _sent(engine, "Create", status["uri"])
    assert (note["type"], note["summary"], note["sensitive"]) == ("Note", WARNING, True)  # plain text
    shown = (await demo_client.get(f"/api/v1/statuses/{status['id']}")).json()
    assert (shown["spoiler_text"], shown["sensitive"]) == (WARNING, True)
    source = (await demo_client.get(f"/api/v1/statuses/{status['id']}/source", headers=auth)).json()
    assert source == {"id": status["id"], "text": "The plot twist", "spoiler_text": WARNING}


async def test_without_a_warning_nothing_is_sensitive_unless_asked(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    auth = await _token(demo_client)
    plain = (await _create(demo_client, auth, status="Nothing to hide", spoiler_text="  ")).json()
    assert (plain["spoiler_text"], plain["sensitive"]) == ("", False)
    [note] = await _sent(engine, "Create", plain["uri"])
    assert "summary" not in note and note["sensitive"] is False
    marked = await demo_client.post(
        "/api/v1/statuses", data={"status": "a picture, say", "sensitive": "true"}, headers=auth
    )
    assert (marked.json()["spoiler_text"], marked.json()["sensitive"]) == ("", True)


async def test_an_edit_changes_keeps_or_removes_the_warning_and_the_history_keeps_each(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    auth = await _token(demo_client)
    status = (await _create(demo_client, auth, status="Text", spoiler_text="first warning")).json()
    path = f"/api/v1/statuses/{status['id']}"

    changed = await demo_client.put(path, json={"status": "Text", "spoiler_text": "second"}, headers=auth)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["spoiler_text"], changed.json()["sensitive"]) == ("second", True)
    kept = (await demo_client.put(path, json={"status": "New text"}, headers=auth)).json()
    assert (kept["spoiler_text"], kept["sensitive"], kept["content"]) == ("second", True, "<p>New text</p>")
    removed = (
        await demo_client.put(path, json={"status": "New text", "spoiler_text": ""}, headers=auth)
    ).json()
    assert (removed["spoiler_text"], removed["sensitive"]) == ("", False)

    history = (await demo_client.get(f"{path}/history")).json()
    assert [(v["spoiler_text"], v["sensitive"]) for v in history] == [
        ("first warning", True),
        ("second", True),
        ("second", True),
        ("", False),
    ]
    updates = await _sent(engine, "Update", status["uri"])
    assert [u.get("summary") for u in updates] == ["second", "second", None]
    assert [u["sensitive"] for u in updates] == [True, True, False]


async def test_an_article_has_an_abstract_not_a_warning(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    article = await demo_post(engine, "article")
    assert article.summary
    auth = await _token(demo_client)
    path = f"/api/v1/statuses/{article.id}"
    shown = (await demo_client.get(path)).json()
    assert (shown["spoiler_text"], shown["sensitive"]) == ("", False)
    assert (await demo_client.get(f"{path}/source", headers=auth)).json()["spoiler_text"] == ""

    refused = await demo_client.put(path, json={"status": "x", "spoiler_text": "careful"}, headers=auth)
    assert refused.status_code == 422
    assert refused.json() == {
        "error": "Validation failed: spoiler_text: the summary of this article is its abstract, not a warning"
    }
    # What an app sends back from `source` (an empty warning) keeps the abstract.
    edited = await demo_client.put(path, json={"status": "Longer now.", "spoiler_text": ""}, headers=auth)
    assert edited.status_code == 200, edited.text
    assert (await demo_post(engine, "article")).summary == article.summary


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        # Text PostgreSQL cannot store is refused where the body is read (params.py), naming the field
        ({"status": "fine", "spoiler_text": "a\x00b"}, "the body is not JSON we accept: spoiler_text: a NUL"),
        ({"status": "fine", "spoiler_text": "\ud800"}, "the body is not JSON we accept: spoiler_text: an"),
        ({"status": "fine", "spoiler_text": "w" * 1001}, "summary: at most 1000 characters"),
        ({"status": "fine", "spoiler_text": ["one", "two"]}, "spoiler_text: given more than once"),
        ({"status": "fine", "sensitive": "maybe"}, "sensitive: expected true or false, got 'maybe'"),
    ],
)
async def test_refused_warnings_are_422_on_both_backends(
    demo_client: httpx.AsyncClient, fields: dict[str, Any], says: str
) -> None:
    auth = await _token(demo_client)
    raw = json.dumps(fields).encode()  # "\ud800" goes out as the escape a JSON parser reads back
    response = await demo_client.post(
        "/api/v1/statuses", content=raw, headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"].startswith(f"Validation failed: {says}"), response.text


async def test_a_warning_of_exactly_the_limit_is_taken(demo_client: httpx.AsyncClient) -> None:
    auth = await _token(demo_client)
    response = await _create(demo_client, auth, status="fine", spoiler_text="w" * 1000)
    assert response.status_code == 200 and response.json()["spoiler_text"] == "w" * 1000


async def test_a_mastodon_notes_summary_is_its_spoiler_text(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    document = json.loads(fixture("objects", "mastodon-create-hashtag.json").read_text())["object"]
    incoming = read_post(document)
    async with session_factory(engine)() as session, session.begin():
        author = actor_row_at(document["attributedTo"])
        session.add(author)
        await session.flush()
        row = await store_post(session, incoming, author)
        await session.flush()
        post_id = row.id
    shown = (await demo_client.get(f"/api/v1/statuses/{post_id}")).json()
    assert (shown["spoiler_text"], shown["sensitive"]) == ("cw", True)


async def test_our_note_read_back_by_another_node_keeps_its_warning(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    auth = await _token(demo_client)
    status = (await _create(demo_client, auth, status="x", spoiler_text=WARNING)).json()
    [note] = await _sent(engine, "Create", status["uri"])
    incoming = read_post(note)
    assert (incoming.sensitive, incoming.summary is not None) == (True, True)
    assert content_warning(Object(kind=incoming.kind, summary=incoming.summary)) == WARNING


async def test_the_post_page_shows_the_warning_collapsed(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    auth = await _token(demo_client)
    status = (await _create(demo_client, auth, status="The *hidden* part", spoiler_text=WARNING)).json()
    page = await demo_client.get(status["url"].removeprefix("http://127.0.0.1:8000"))
    assert page.status_code == 200
    html = page.text
    opened = html.index('<details class="content-warning">')
    assert "<summary>Spoilers: &lt;b&gt;&#34;the end&#34;&lt;/b&gt; &amp; more</summary>" in html[opened:]
    assert html.index("<em>hidden</em>") > opened
    [description] = re.findall(r'<meta property="og:description" content="([^"]*)">', html)
    assert unescape(description) == WARNING  # link previews show the warning, not the text

    article = await demo_post(engine, "article")
    article_page = (await demo_client.get("/objects/demo-article")).text
    assert "content-warning" not in article_page and article.summary in article_page


async def test_the_web_form_keeps_an_apps_warning_and_shows_an_abstract_as_text(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    project = await demo_post(engine, "project")  # ada's
    auth = await _token(demo_client)  # signs ada in on the web too
    path = f"/api/v1/statuses/{project.id}"
    warned = await demo_client.put(
        path, json={"status": project.source, "spoiler_text": "Long"}, headers=auth
    )
    assert warned.status_code == 200, warned.text

    edit_url = f"/write/edit?uri={project.uri}"
    fields = {
        "title": project.name,
        "summary": "",
        "body": "Edited on the web.",
        "skills": ", ".join(project.skills),
        "status": "open",
        "visibility": "public",
    }
    saved = await form_post(demo_client, edit_url, edit_url, {**fields, "action": "publish"})
    assert saved.status_code == 303, saved.text
    shown = (await demo_client.get(path)).json()
    assert (shown["spoiler_text"], shown["sensitive"]) == ("Long", True)
    assert "Edited on the web." in shown["content"]

    article = await demo_post(engine, "article")
    form = (await demo_client.get(f"/write/edit?uri={article.uri}")).text
    [value] = re.findall(r'<input id="summary" name="summary" value="([^"]*)">', form)
    assert unescape(value) == unescape(article.summary or "").removeprefix("<p>").removesuffix("</p>")
