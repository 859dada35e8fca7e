"""Who may reblog what (talentfed/audiences.py, applied by domain/posts.react), and actions on a
reblog's id, which act on the post it reblogs (web/mastodon/statuses.acted_on), as on Mastodon."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain.members import find_local_actor
from talentfed.domain.posts import Draft
from talentfed.storage.db import session_factory
from talentfed.storage.models import Activity, Bookmark, Follow, Interaction, Object
from talentfed.web.mastodon.reblogs import REBLOG_IDS
from tests.support import run_cli, write_config
from tests.web.mastodon.test_markers import token_of
from tests.web.mastodon.test_posting import _token, demo_post, publish_as

NOT_ALLOWED = {"error": "This action is not allowed"}


async def _follows(engine: AsyncEngine, follower: str, followed: str) -> None:
    async with session_factory(engine)() as session, session.begin():
        a, b = await find_local_actor(session, follower), await find_local_actor(session, followed)
        assert a is not None and b is not None
        session.add(Follow(follower_id=a.id, followed_id=b.id, state="accepted"))


async def _announces(engine: AsyncEngine, post: Object) -> int:
    async with session_factory(engine)() as session:
        rows = await session.scalars(
            select(Interaction.id).where(Interaction.kind == "announce", Interaction.object_id == post.id)
        )
        return len(list(rows))


async def test_a_followers_only_post_is_not_reblogged_by_a_follower(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    private = await publish_as(
        engine, config, "grace", Draft(kind="note", body="ours", visibility="followers")
    )
    await _follows(engine, "ada", "grace")
    auth = await _token(demo_client)
    assert (await demo_client.get(f"/api/v1/statuses/{private.id}", headers=auth)).status_code == 200
    refused = await demo_client.post(f"/api/v1/statuses/{private.id}/reblog", headers=auth)
    assert (refused.status_code, refused.json()) == (403, NOT_ALLOWED)
    assert await _announces(engine, private) == 0
    # Favouriting is another matter: a follower may.
    liked = await demo_client.post(f"/api/v1/statuses/{private.id}/favourite", headers=auth)
    assert liked.status_code == 200 and liked.json()["favourited"] is True


async def test_a_direct_post_is_reblogged_by_nobody(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    """Not by those it mentions, and not by its author either (Mastodon's `reblog?`)."""
    direct = await publish_as(engine, config, "ada", Draft(kind="note", body="just us"))
    async with session_factory(engine)() as session, session.begin():
        row = await session.get(Object, direct.id)
        assert row is not None
        row.visibility = "direct"  # as a remote direct message is stored; we publish none
    refused = await demo_client.post(
        f"/api/v1/statuses/{direct.id}/reblog", headers=await _token(demo_client)
    )
    assert (refused.status_code, refused.json()) == (403, NOT_ALLOWED)
    assert await _announces(engine, direct) == 0


async def test_the_author_reblogs_a_followers_only_post_to_the_same_followers(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    own = await publish_as(engine, config, "ada", Draft(kind="note", body="mine", visibility="followers"))
    answer = await demo_client.post(f"/api/v1/statuses/{own.id}/reblog", headers=await _token(demo_client))
    assert answer.status_code == 200, answer.text
    async with session_factory(engine)() as session:
        boost = await session.scalar(select(Interaction).where(Interaction.kind == "announce"))
        assert boost is not None
        sent = await session.scalar(select(Activity).where(Activity.uri == boost.activity_uri))
        ada = await find_local_actor(session, "ada")
    assert sent is not None and ada is not None
    assert sent.document["to"] == [ada.followers_url]
    assert "https://www.w3.org/ns/activitystreams#Public" not in str(sent.document)


async def test_a_reblog_of_something_unreadable_is_404_not_403(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    """Who may not read a post learns nothing of it: 404, as for any other action."""
    private = await publish_as(
        engine, config, "grace", Draft(kind="note", body="ours", visibility="followers")
    )
    refused = await demo_client.post(
        f"/api/v1/statuses/{private.id}/reblog", headers=await _token(demo_client)
    )
    assert (refused.status_code, refused.json()) == (404, {"error": "Record not found"})


def test_the_cli_refuses_the_same_boosts(tmp_path: Path, db_url: str) -> None:
    write_config(tmp_path, db_url)
    assert run_cli("demo", cwd=tmp_path).returncode == 0
    body = tmp_path / "body.md"
    body.write_text("for my followers")
    posted = run_cli("post", "note", "grace", "--file", str(body), "--visibility", "followers", cwd=tmp_path)
    assert posted.returncode == 0, posted.stderr
    url = posted.stdout.strip()
    unreadable = run_cli("boost", "ada", url, cwd=tmp_path)
    assert unreadable.returncode == 1 and "post: no post the member may read" in unreadable.stderr
    own = run_cli("boost", "grace", url, cwd=tmp_path)
    assert own.returncode == 0, own.stderr


# --- actions on a reblog's id --------------------------------------------------------------


async def _reblog_of(demo_client: httpx.AsyncClient, engine: AsyncEngine, booster: str) -> tuple[Object, str]:
    """The demo question, reblogged by `booster`: the post and the reblog's status id."""
    question = await demo_post(engine, "question")
    auth = await token_of(demo_client, engine, booster)
    wrapper = await demo_client.post(f"/api/v1/statuses/{question.id}/reblog", headers=auth)
    assert wrapper.status_code == 200, wrapper.text
    return question, wrapper.json()["id"]


@pytest.mark.parametrize("action", ["favourite", "bookmark", "reblog"])
async def test_an_action_on_a_reblogs_id_acts_on_the_original(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, action: str
) -> None:
    question, wrapper_id = await _reblog_of(demo_client, engine, "alan")
    auth = await _token(demo_client)
    answer = await demo_client.post(f"/api/v1/statuses/{wrapper_id}/{action}", headers=auth)
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    original = shown["reblog"] if action == "reblog" else shown  # a reblog answers its wrapper
    assert original["id"] == str(question.id)
    assert original[{"favourite": "favourited", "bookmark": "bookmarked", "reblog": "reblogged"}[action]]
    async with session_factory(engine)() as session:
        ada = await find_local_actor(session, "ada")
        assert ada is not None
        if action == "bookmark":
            marked = await session.scalar(select(Bookmark.object_id).where(Bookmark.actor_id == ada.id))
        else:
            kind = "like" if action == "favourite" else "announce"
            marked = await session.scalar(
                select(Interaction.object_id).where(Interaction.actor_id == ada.id, Interaction.kind == kind)
            )
    assert marked == question.id


async def test_undoing_on_a_reblogs_id_undoes_on_the_original(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    question, wrapper_id = await _reblog_of(demo_client, engine, "ada")
    auth = await _token(demo_client)
    undone = await demo_client.post(f"/api/v1/statuses/{wrapper_id}/unreblog", headers=auth)
    assert undone.status_code == 200 and undone.json()["id"] == str(question.id)
    assert undone.json()["reblogged"] is False and await _announces(engine, question) == 0


async def test_the_context_of_a_reblogs_id_is_the_originals(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    question, wrapper_id = await _reblog_of(demo_client, engine, "alan")
    by_wrapper = await demo_client.get(f"/api/v1/statuses/{wrapper_id}/context")
    by_post = await demo_client.get(f"/api/v1/statuses/{question.id}/context")
    assert by_wrapper.status_code == 200 and by_wrapper.json() == by_post.json()
    assert by_post.json()["descendants"]  # the demo question has its answer


async def test_a_reblogs_id_is_no_post_to_pin(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    _, wrapper_id = await _reblog_of(demo_client, engine, "ada")
    auth = await _token(demo_client)
    assert (await demo_client.post(f"/api/v1/statuses/{wrapper_id}/pin", headers=auth)).status_code == 404


async def test_a_reblog_of_a_post_the_reader_may_not_read_is_404(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    """grace reblogs her followers-only post; ada, who does not follow her, cannot act on it."""
    private = await publish_as(
        engine, config, "grace", Draft(kind="note", body="ours", visibility="followers")
    )
    grace = await token_of(demo_client, engine, "grace")
    wrapper_id = (await demo_client.post(f"/api/v1/statuses/{private.id}/reblog", headers=grace)).json()["id"]
    auth = await _token(demo_client)
    for action in ("favourite", "bookmark", "reblog", "unreblog", "mute"):
        answer = await demo_client.post(f"/api/v1/statuses/{wrapper_id}/{action}", headers=auth)
        assert (answer.status_code, answer.json()) == (404, {"error": "Record not found"}), action
    assert (await demo_client.get(f"/api/v1/statuses/{wrapper_id}/context", headers=auth)).status_code == 404


@pytest.mark.parametrize("status_id", [str(REBLOG_IDS), str(REBLOG_IDS + 2**31), "1" + "0" * 30, "１２"])
async def test_ids_of_no_status_are_404_for_actions(demo_client: httpx.AsyncClient, status_id: str) -> None:
    auth = await _token(demo_client)
    for action in ("favourite", "bookmark", "reblog", "unreblog"):
        answer = await demo_client.post(f"/api/v1/statuses/{status_id}/{action}", headers=auth)
        assert answer.status_code == 404, (action, answer.text)


async def test_a_reblog_needs_its_scope(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    _, wrapper_id = await _reblog_of(demo_client, engine, "alan")
    read_only = await _token(demo_client, "read")
    answer = await demo_client.post(f"/api/v1/statuses/{wrapper_id}/reblog", headers=read_only)
    assert answer.status_code == 403
