"""The restore drill: back up a running node, lose its database and its uploaded pictures,
restore them, and check that the federation does not notice — its followers are still there,
other servers still verify its signatures with the keys they know, and its members' avatars are
served again. On SQLite and on PostgreSQL (the node backed up; the other node is on SQLite)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import httpx
import pytest

from talentfed.config import load_config
from talentfed.domain import media
from talentfed.domain.members import ProfileChanges, find_local_actor, update_profile
from talentfed.storage.db import create_engine, session_factory
from tests.domain.test_media import picture
from tests.multinode.nodes import Node, query, running
from tests.support.databases import destroy_database
from tests.support.waiting import wait_until

pytestmark = pytest.mark.multinode


def _follow_state(node: Node, command: str, user: str, other: str) -> str | None:
    return next((edge["state"] for edge in node.cli_json(command, user) if edge["id"] == other), None)


def _stored(node: Node, uri: str) -> bool:
    return bool(query(node, "SELECT 1 FROM objects WHERE uri = :u", u=uri))


def _key_known_to(node: Node, actor: str) -> str:
    return query(node, "SELECT public_key_pem FROM actors WHERE uri = :u", u=actor)[0][0]


def _upload_avatar(node: Node, username: str) -> str:
    """Give a member an avatar, stored as an upload through the client API is; its URL."""

    async def upload() -> str:
        config = load_config(node.directory / "config.toml", environ={})
        engine = create_engine(node.db_url)
        try:
            async with session_factory(engine)() as session, session.begin():
                member = await find_local_actor(session, username)
                assert member is not None
                prepared = await media.prepare(config, picture("PNG"), purpose=media.AVATAR)
                avatar = await media.add(session, member, prepared)
                url = media.local_url(config, avatar.file_name or "")
                await update_profile(session, config, member, ProfileChanges(icon_url=url))
                return url
        finally:
            await engine.dispose()

    return asyncio.run(upload())


def test_restored_node_keeps_its_followers_and_keys(tmp_path: Path, backend: str, fresh_database) -> None:
    a = Node("a", tmp_path / "a", fresh_database(backend, schema=False))
    b = Node("b", tmp_path / "b", fresh_database("sqlite"))
    a.cli_ok("user", "add", "alice", "--display-name", "Alice")
    b.cli_ok("user", "add", "bob", "--display-name", "Bob")
    alice, bob = a.actor_uri("alice"), b.actor_uri("bob")
    body = tmp_path / "note.md"
    archive = tmp_path / "a.backup"

    with running((b,)):
        with running((a,)):
            b.cli_json("follow", "bob", a.handle("alice"))
            wait_until(lambda: _follow_state(b, "following", "bob", alice) == "accepted", what="A's Accept")
            body.write_text("Before the backup.")
            before = a.cli_ok("post", "note", "alice", "--file", str(body)).strip()
            wait_until(lambda: _stored(b, before), what="the first note on B")
            published_key = a.get_json("/users/alice")["publicKey"]["publicKeyPem"]
            assert _key_known_to(b, alice) == published_key
            avatar_url = _upload_avatar(a, "alice")
            avatar = httpx.get(avatar_url, timeout=5).content

            made = a.cli_ok("backup", str(archive))  # while A serves
            assert "private key" in made

        destroy_database(a.db_url)
        shutil.rmtree(a.directory / "data" / "media")  # [media] directory, lost with the disk
        restored = a.cli_ok("restore", str(archive))
        assert "(current)" in restored and "and 1 media files" in restored

        with running((a,)):  # the same port, so the same domain and URLs
            assert _follow_state(a, "followers", "alice", bob) == "accepted"
            assert a.get_json("/users/alice/followers?page=1")["orderedItems"] == [bob]
            assert a.get_json("/users/alice")["publicKey"]["publicKeyPem"] == published_key
            assert a.get_json("/users/alice")["icon"]["url"] == avatar_url
            assert httpx.get(avatar_url, timeout=5).content == avatar
            outbox = a.get_json("/users/alice/outbox?page=1")["orderedItems"]
            assert [item["object"]["id"] for item in outbox] == [before]

            # Delivered to B, which verifies A's signature with the key it already knew: at the
            # first attempt, without fetching another key.
            body.write_text("After the restore.")
            after = a.cli_ok("post", "note", "alice", "--file", str(body)).strip()
            wait_until(lambda: _stored(b, after), what="the note written after the restore on B")
            assert _key_known_to(b, alice) == published_key
            deliveries = "SELECT j.state, j.attempts, j.last_status FROM delivery_jobs j JOIN activities"
            deliveries += " ON activities.id = j.activity_id WHERE activities.object_uri = :u"
            wait_until(lambda: query(a, deliveries, u=after)[0][0] == "done", what="A to record the delivery")
            assert query(a, deliveries, u=after) == [("done", 1, 202)]
