"""`talentfed backup` and `talentfed restore`, run as an admin runs them, on both back-ends.

The restore drill with real nodes federating is tests/multinode/test_restore_drill.py.
"""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import stat
import tarfile
from datetime import datetime
from pathlib import Path

import pytest

from talentfed import __version__
from talentfed.storage import backup, migrate
from talentfed.storage.db import create_engine
from talentfed.storage.media_files import MediaFiles
from tests.domain.test_media import picture
from tests.multinode.nodes import query
from tests.support import run_cli, write_config
from tests.support.databases import destroy_database

DOMAIN = "127.0.0.1:8000"  # write_config's


class Node:
    """A node's configuration and database, handled through the CLI only."""

    def __init__(self, directory: Path, db_url: str, **overrides: object) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory, self.db_url = directory, db_url
        write_config(directory, db_url, **overrides)

    def cli(self, *args: str):
        return run_cli(*args, cwd=self.directory)

    def ok(self, *args: str) -> str:
        result = self.cli(*args)
        assert result.returncode == 0, f"talentfed {' '.join(args)}: {result.stderr}"
        return result.stdout

    def refused(self, *args: str) -> str:
        """The one line of a refusal, after checking that it is one line and exit status 1."""
        result = self.cli(*args)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
        return result.stderr

    def usernames(self) -> list[str]:
        return [member["username"] for member in json.loads(self.ok("user", "list", "--json"))]

    @property
    def media(self) -> MediaFiles:
        return MediaFiles(self.directory / "data" / "media")  # [media] directory's default


def _manifest(path: Path) -> dict:
    with tarfile.open(path) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        return json.load(member)


def _private_key(node: Node, username: str) -> str:
    statement = "SELECT private_key_pem FROM actors WHERE local = :yes AND username = :u"
    return query(node, statement, yes=True, u=username)[0][0]


def test_backup_then_restore_into_an_empty_database(tmp_path: Path, backend: str, fresh_database) -> None:
    node = Node(tmp_path / "node", fresh_database(backend, schema=False))
    node.ok("migrate")
    node.ok("user", "add", "alice", "--display-name", "Alice")
    path = tmp_path / "node.backup"

    written = node.ok("backup", str(path))
    assert "private key" in written and "secret" in written
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    manifest = _manifest(path)
    assert manifest["schema_revision"] == migrate.head_revision()
    assert manifest["backend"] == backend and manifest["domain"] == DOMAIN
    assert manifest["talentfed_version"] == __version__ and manifest["format"] == backup.FORMAT
    assert datetime.fromisoformat(manifest["created"]).tzinfo is not None
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".node.backup")], "a temporary file"

    assert "already exists (use --force" in node.refused("backup", str(path))
    node.ok("backup", str(path), "--force")
    assert "already holds data" in node.refused("restore", str(path))

    # Another database, empty, configured for the same node: the restore brings everything back.
    other = Node(tmp_path / "other", fresh_database(backend, schema=False))
    restored = other.ok("restore", str(path))
    assert f"a {backup.BACKEND_NAMES[backend]} backup of {DOMAIN}" in restored
    assert "(current)" in restored and "talentfed migrate" not in restored
    assert other.usernames() == ["alice"]
    assert _private_key(other, "alice") == _private_key(node, "alice")
    assert other.cli("migrate", "--check").returncode == 0

    # Over data only with --force, and then the backup replaces everything.
    other.ok("user", "add", "bob", "--display-name", "Bob")
    assert "already holds data" in other.refused("restore", str(path))
    other.ok("restore", str(path), "--force")
    assert other.usernames() == ["alice"]


def test_a_lost_database_is_restored_where_it_was(tmp_path: Path, backend: str, fresh_database) -> None:
    node = Node(tmp_path, fresh_database(backend, schema=False))
    node.ok("migrate")
    node.ok("user", "add", "alice", "--display-name", "Alice")
    node.ok("backup", str(tmp_path / "b.tar"))
    key = _private_key(node, "alice")
    stale = _changed_after_the_backup(node) if backend == "sqlite" else None
    destroy_database(node.db_url)
    if stale is not None:
        # The lost database's -wal, left behind: none of it may be read as part of the restored one.
        Path(node.db_url.split("///", 1)[1] + "-wal").write_bytes(stale)
    node.ok("restore", str(tmp_path / "b.tar"))
    assert node.usernames() == ["alice"] and _private_key(node, "alice") == key
    assert query(node, "SELECT display_name FROM actors WHERE username = 'alice'") == [("Alice",)]


def test_pictures_are_backed_up_and_restored(tmp_path: Path, backend: str, fresh_database) -> None:
    node = Node(tmp_path / "node", fresh_database(backend, schema=False))
    node.ok("migrate")
    pictures = {node.media.save(picture(fmt), f"image/{fmt.lower()}"): picture(fmt) for fmt in ("PNG", "GIF")}
    (node.media.directory / ".upload-cut_short").write_bytes(b"half a picture")  # a write cut short
    path = tmp_path / "node.backup"

    assert "with 2 media files" in node.ok("backup", str(path))
    with tarfile.open(path) as tar:
        assert sorted(tar.getnames()) == sorted(
            ["manifest.json", f"database.{'sqlite3' if backend == 'sqlite' else 'pgdump'}"]
            + [f"media/{name}" for name in pictures]
        )

    other = Node(tmp_path / "other", fresh_database(backend, schema=False))
    restored = other.ok("restore", str(path))
    assert f"and 2 media files into {other.media.directory}" in restored
    assert other.media.stored() == sorted(pictures)
    assert {name: (other.media.directory / name).read_bytes() for name in pictures} == pictures

    # Over a node's own pictures (--force): the backup's come back; others stay for prune-media.
    kept = other.media.save(picture("JPEG"), "image/jpeg")
    for name in pictures:
        (other.media.directory / name).write_bytes(b"damaged")
    other.ok("restore", str(path), "--force")
    assert {name: (other.media.directory / name).read_bytes() for name in pictures} == pictures
    assert other.media.stored() == sorted([*pictures, kept])


def test_a_backup_made_before_pictures_were_in_backups_restores(
    tmp_path: Path, backend: str, fresh_database
) -> None:
    node = Node(tmp_path / "node", fresh_database(backend, schema=False))
    node.ok("migrate")
    node.ok("user", "add", "alice", "--display-name", "Alice")
    node.ok("backup", str(tmp_path / "new.tar"))
    old = _rewritten(tmp_path / "new.tar", tmp_path / "old.tar", {"format": 1})

    other = Node(tmp_path / "other", fresh_database(backend, schema=False))
    assert "and 0 media files" in other.ok("restore", str(old))
    assert other.usernames() == ["alice"] and other.media.stored() == []


def _rewritten(
    source: Path, target: Path, manifest_changes: dict, extra: dict[str, bytes] | None = None
) -> Path:
    """A copy of a backup with its manifest changed and members added, and without pictures."""
    with tarfile.open(source) as original, tarfile.open(target, "w") as copy:
        for member in original.getmembers():
            data = original.extractfile(member)
            assert data is not None
            if member.name == "manifest.json":
                values = {**json.load(data), **manifest_changes}
                data, member.size = io.BytesIO(json.dumps(values).encode()), len(json.dumps(values).encode())
            if not member.name.startswith("media/"):
                copy.addfile(member, data)
        for name, content in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            copy.addfile(info, io.BytesIO(content))
    return target


@pytest.mark.parametrize(
    "member",
    [
        "media/../../escaped.png",
        "media/chosen-by-someone.png",
        "media/" + "A" * 32 + ".sh",
        "media/" + "A" * 32 + ".png\n",  # a name "$" would let through
    ],
)
def test_restore_refuses_a_picture_talentfed_would_not_name(
    tmp_path: Path, backend: str, fresh_database, member: str
) -> None:
    node = Node(tmp_path / "node", fresh_database(backend, schema=False))
    node.ok("migrate")
    node.ok("user", "add", "alice", "--display-name", "Alice")
    node.ok("backup", str(tmp_path / "good.tar"))
    hostile = _rewritten(tmp_path / "good.tar", tmp_path / "hostile.tar", {}, {member: b"GIF89a"})
    node.ok("user", "add", "bob", "--display-name", "Bob")

    refusal = node.refused("restore", str(hostile), "--force")
    assert f"hostile.tar is damaged: {member!r} is not an uploaded picture" in refusal
    assert not node.media.directory.exists() and not (tmp_path / "escaped.png").exists()
    assert node.usernames() == ["alice", "bob"], "a refused restore touched the database"


def _changed_after_the_backup(node: Node) -> bytes:
    """The -wal of a change made after the backup and not yet copied into the database file."""
    path = node.db_url.split("///", 1)[1]
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_autocheckpoint = 0")
        connection.execute("UPDATE actors SET display_name = 'after the backup' WHERE username = 'alice'")
        connection.commit()
        return Path(path + "-wal").read_bytes()
    finally:
        connection.close()


def test_restore_refuses_another_domain_even_with_force(tmp_path: Path, backend: str, fresh_database) -> None:
    node = Node(tmp_path / "node", fresh_database(backend, schema=False))
    node.ok("migrate")
    node.ok("backup", str(tmp_path / "b.tar"))
    other = Node(
        tmp_path / "other",
        fresh_database(backend, schema=False),
        **{"node.domain": "other.example", "node.base_url": "http://other.example"},
    )
    for flags in ((), ("--force",)):
        refusal = other.refused("restore", str(tmp_path / "b.tar"), *flags)
        assert f"the backup is of the node {DOMAIN}, this configuration is for other.example" in refusal
        assert "only under its own [node] domain" in refusal


def test_an_older_backup_is_restored_as_it_is_then_migrated(
    tmp_path: Path, backend: str, fresh_database
) -> None:
    """The backup made before an upgrade, restored after the upgrade went wrong."""
    old = Node(tmp_path / "old", fresh_database(backend, schema=False))
    older = _revision_before(migrate.head_revision())

    async def at_older_revision() -> None:
        engine = create_engine(old.db_url)
        await migrate.upgrade(engine, older)
        await engine.dispose()

    asyncio.run(at_older_revision())
    made = old.ok("backup", str(tmp_path / "old.tar"))  # a schema with migrations pending backs up
    assert f"revision {older}" in made

    node = Node(tmp_path / "node", fresh_database(backend, schema=False))
    restored = node.ok("restore", str(tmp_path / "old.tar"))
    assert f"at revision {older}, 1 migration(s) behind" in restored and "run `talentfed migrate`" in restored
    assert node.cli("migrate", "--check").returncode == 1
    node.ok("migrate")
    node.ok("user", "add", "zed", "--display-name", "Zed")

    # Over a database at a newer revision: replaced whole (on PostgreSQL, emptied first, so
    # that what the newer schema added does not stand in the next migration's way).
    again = node.ok("restore", str(tmp_path / "old.tar"), "--force")
    assert ("emptied" in again) == (backend == "postgresql")
    assert node.cli("migrate", "--check").returncode == 1
    node.ok("migrate")
    assert node.usernames() == []


def _revision_before(revision: str | None) -> str:
    state = migrate.state_of(None)
    index = state.pending.index(revision)
    assert index > 0
    return state.pending[index - 1]


def _archive(path: Path, manifest: dict | None, database: bytes = b"not read") -> Path:
    with tarfile.open(path, "w") as tar:
        members = {"database.sqlite3": database, "database.pgdump": database}
        if manifest is not None:
            members = {"manifest.json": json.dumps(manifest).encode(), **members}
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"backend": "postgresql"}, "is of a PostgreSQL database and the configured one is SQLite"),
        ({"schema_revision": "9999"}, "at revision 9999, newer than this release's"),
        ({"format": backup.FORMAT + 1}, "in a backup format this release cannot read"),
        ({"domain": 7}, "its manifest.json is not a talentfed manifest"),
        ({"surprise": True}, "its manifest.json is not a talentfed manifest"),
    ],
)
def test_restore_refuses_what_it_cannot_restore(tmp_path: Path, change: dict, refusal: str) -> None:
    node = Node(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'node.db'}")
    manifest = {
        "format": backup.FORMAT,
        "talentfed_version": __version__,
        "schema_revision": migrate.head_revision(),
        "backend": "sqlite",
        "domain": DOMAIN,
        "created": "2030-01-01T00:00:00+00:00",
        **change,
    }
    assert refusal in node.refused("restore", str(_archive(tmp_path / "b.tar", manifest)))
    assert not (tmp_path / "node.db").exists(), "a refused restore touched the database"


DAMAGED = {
    "sqlite": "b.tar is damaged: its database.sqlite3 is not an SQLite database",
    "postgresql": "pg_restore failed: ",
}


def test_a_damaged_database_in_a_backup_replaces_nothing(
    tmp_path: Path, backend: str, fresh_database
) -> None:
    node = Node(tmp_path, fresh_database(backend, schema=False))
    node.ok("migrate")
    node.ok("user", "add", "alice", "--display-name", "Alice")
    created = "2030-01-01T00:00:00+00:00"
    manifest = backup.Manifest(backup.FORMAT, __version__, migrate.head_revision(), backend, DOMAIN, created)
    damaged = _archive(tmp_path / "b.tar", json.loads(manifest.to_json()), b"not a database" * 100)
    assert DAMAGED[backend] in node.refused("restore", str(damaged), "--force")
    assert node.usernames() == ["alice"]


def test_restore_names_what_is_not_a_backup(tmp_path: Path) -> None:
    node = Node(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'node.db'}")
    (tmp_path / "notes.txt").write_text("hello")
    assert "notes.txt is not a talentfed backup (not a tar archive)" in node.refused("restore", "notes.txt")
    assert "holds no manifest.json" in node.refused("restore", str(_archive(tmp_path / "x.tar", None)))
    assert "missing.tar: no such file" in node.refused("restore", "missing.tar")
    assert "is a directory" in node.refused("restore", str(tmp_path))


def test_pg_dump_gets_the_connection_from_the_environment_not_the_command_line() -> None:
    url = "postgresql+asyncpg://tf:p%40ss%3D1%20x@db.internal:6543/talent=fed?ssl=true"
    assert backup.pg_environment(url) == {
        "PGHOST": "db.internal",
        "PGPORT": "6543",
        "PGUSER": "tf",
        "PGPASSWORD": "p@ss=1 x",
        "PGDATABASE": "talent=fed",
        "PGSSLMODE": "require",
    }
    socket = backup.pg_environment("postgresql+asyncpg://talentfed@/talentfed?host=/var/run/postgresql")
    assert socket == {"PGHOST": "/var/run/postgresql", "PGUSER": "talentfed", "PGDATABASE": "talentfed"}
    assert backup._database_argument(url) == "--dbname=dbname='talent=fed'"
    assert backup._database_argument("postgresql+asyncpg://u@h/it's") == "--dbname=dbname='it\\'s'"
