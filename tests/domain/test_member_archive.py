"""A member's archive holds what the node publishes about them, and reads Mastodon's lists.

`talentfed export` and `import-follows` against a second real node: tests/multinode/
test_member_archive.py.
"""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain.member_archive import (
    FOLLOWING_HEADER,
    FollowListError,
    ImportLine,
    member_archive,
    read_following_list,
)
from talentfed.domain.members import find_local_actor
from talentfed.domain.posts import Draft, publish
from talentfed.storage.db import session_factory
from talentfed.storage.models import Follow
from tests.support import AS_JSON, remote_actor


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


async def test_the_archive_is_what_the_node_publishes(
    config: Config, engine: AsyncEngine, demo_client: httpx.AsyncClient
) -> None:
    async with session_factory(engine)() as session, session.begin():
        ada = await find_local_actor(session, "ada")
        grace = await find_local_actor(session, "grace")
        assert ada is not None and grace is not None
        bea, cy, dan = (remote_actor(name, "other.example") for name in ("bea", "cy", "dan"))
        session.add_all([bea, cy, dan])
        await session.flush()
        session.add_all(
            [
                Follow(follower_id=ada.id, followed_id=bea.id, state="accepted"),
                Follow(follower_id=ada.id, followed_id=grace.id, state="accepted"),
                Follow(follower_id=ada.id, followed_id=cy.id, state="pending"),  # not yet a follow
                Follow(follower_id=dan.id, followed_id=ada.id, state="accepted"),
                Follow(follower_id=cy.id, followed_id=ada.id, state="pending"),
            ]
        )
        private = Draft(kind="note", body="For my followers only.", visibility="followers")
        followers_only = await publish(session, config, ada, private)
        archive = await member_archive(session, config, ada)

    # actor.json and outbox.json: the documents the node serves, in their published form.
    actor = (await demo_client.get("/users/ada", headers={"Accept": AS_JSON})).json()
    assert archive.actor == actor
    outbox = archive.outbox
    assert outbox["type"] == "OrderedCollection" and outbox["id"] == actor["outbox"]
    assert outbox["@context"] == actor["@context"]
    assert outbox["totalItems"] == len(outbox["orderedItems"])
    page = (await demo_client.get("/users/ada/outbox?page=1", headers={"Accept": AS_JSON})).json()
    assert page["orderedItems"], "the demo gives ada posts"
    # Anyone reads the public ones; the member's own archive has their followers-only post too.
    assert outbox["orderedItems"][1:] == page["orderedItems"]
    assert outbox["orderedItems"][0]["type"] == "Create"
    assert outbox["orderedItems"][0]["object"]["id"] == followers_only.uri
    assert all("@context" not in item for item in outbox["orderedItems"])

    files = archive.files()
    assert json.loads(files["actor.json"]) == actor
    assert _rows(files["following_accounts.csv"]) == [
        list(FOLLOWING_HEADER),
        ["bea@other.example", "true", "false", ""],
        [f"grace@{config.node.domain}", "true", "false", ""],
    ]
    assert _rows(files["followers.csv"]) == [["Account address"], ["dan@other.example"]]


def test_a_following_list_is_read_line_by_line() -> None:
    text = (
        "\ufeffAccount address,Show boosts,Notify on new posts,Languages\n"
        "bea@other.example,true,false,\n"
        "\n"
        '"@cy@other.example",false,true,"en,de"\n'
        "https://third.example/users/dan\n"
        "not an address,true\n"
        ",true\n"
    )
    assert read_following_list(text) == [
        ImportLine(2, "bea@other.example"),
        ImportLine(4, "@cy@other.example"),
        ImportLine(5, "https://third.example/users/dan"),
        ImportLine(6, "not an address"),  # the lookup says what is wrong with it
    ]
    # Mastodon's older exports: no header, one account a line.
    assert read_following_list("bea@other.example\ncy@other.example\n") == [
        ImportLine(1, "bea@other.example"),
        ImportLine(2, "cy@other.example"),
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [('"' + "a" * 200_000 + '"\n', "not a CSV file"), ("a@b.example\n" * 10_001, "at most 10000 lines")],
)
def test_what_is_not_a_following_list_is_refused_whole(text: str, problem: str) -> None:
    with pytest.raises(FollowListError, match=problem):
        read_following_list(text)
