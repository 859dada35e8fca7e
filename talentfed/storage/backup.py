"""Backing up the node's database and restoring it (`talentfed backup`, `talentfed restore`).

A backup is one tar archive, readable by its owner only, holding `manifest.json` (the format,
talentfed's version, the schema revision, the back-end, the node's domain and when it was made),
the database itself, and the uploaded pictures ([media] directory) under `media/`:

- SQLite: a copy made with SQLite's online backup API in one step, so it is one consistent
  snapshot; in WAL mode the copy's read transaction does not hold up the node's writer, so the
  node keeps running;
- PostgreSQL: `pg_dump --format=custom` of the configured database, every table.

Either way it holds every local actor's private key: whoever has a backup can sign as the node.

The pictures are copied after the database: a file never changes under its name, and one that
`prune-media` removes meanwhile is one no row of the copied database uses any more (or the file
of an upload a day old that nothing used), so the backup still has every picture its rows name.

A backup is restored only under the domain it was made for (a node's actors are named by URLs
on its domain, and other servers know their keys by those names), into the same back-end, and
by a release that knows its schema revision. It is restored as it is: an older backup is then
brought up to date by `talentfed migrate`, like any database after an upgrade, so that a restore
made to undo a failed upgrade does not run that upgrade's migrations again behind the admin's back.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import inspect, literal, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed import __version__
from talentfed.config import Config
from talentfed.storage import migrate
from talentfed.storage.db import check_reachable, create_engine
from talentfed.storage.media_files import MediaFiles, media_type_of
from talentfed.storage.models import Base

# Of the archive and its manifest; a release reads the formats up to its own. 2: with media/.
FORMAT = 2
MANIFEST = "manifest.json"
MEDIA = "media/"  # the uploaded pictures, each under its own name
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
_COPY_CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or a restore cannot be done as asked; the text says why, in one line."""


@dataclass(frozen=True)
class Manifest:
    """What a backup is, written next to the database in the archive."""

    format: int
    talentfed_version: str
    schema_revision: str | None
    backend: str  # "sqlite" or "postgresql"
    domain: str
    created: str  # ISO 8601, UTC

    @property
    def database_file(self) -> str:
        return DATABASE_FILES[self.backend]

    @property
    def described(self) -> str:
        return f"a {BACKEND_NAMES[self.backend]} backup of {self.domain}"

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2).encode("utf-8") + b"\n"


@dataclass(frozen=True)
class BackedUp:
    manifest: Manifest
    media_files: int  # pictures in the backup


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    schema: migrate.SchemaState  # where the restored database stands against this release
    emptied: bool  # a PostgreSQL database at another revision was emptied first
    media_files: int  # pictures written into [media] directory


def backend_of(config: Config) -> str:
    return make_url(config.database.url).get_backend_name()


def shown_url(config: Config) -> str:
    """The configured database URL, for messages: without its password."""
    return make_url(config.database.url).render_as_string(hide_password=True)


# --- backing up ------------------------------------------------------------------------


async def back_up(config: Config, path: Path, *, force: bool) -> BackedUp:
    """Write a backup of the configured database and the uploaded pictures to `path`: a
    temporary file in the same directory, renamed to `path` once complete, so `path` is never
    a partial backup."""
    _check_target(path, force=force)
    await check_reachable(config)
    engine = create_engine(config.database.url, pool_size=1)
    try:
        revision = await migrate.current_revision(engine)
        manifest = Manifest(
            format=FORMAT,
            talentfed_version=__version__,
            schema_revision=revision,
            backend=backend_of(config),
            domain=config.node.domain,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        # Created 0700: the snapshot inside holds the keys before it is in the archive.
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.") as scratch:
            database = Path(scratch) / manifest.database_file
            if manifest.backend == "sqlite":
                await asyncio.to_thread(_sqlite_copy, sqlite_path(config), database)
            else:
                await asyncio.to_thread(_pg_dump, config.database.url, database)
            if await migrate.current_revision(engine) != revision:
                raise BackupError("a migration ran while the backup was made: run `talentfed backup` again")
            archive = Path(scratch) / "backup.tar"
            media = MediaFiles(config.media.directory)
            pictures = await asyncio.to_thread(_write_archive, archive, manifest, database, media)
            _check_target(path, force=force)  # it may have appeared meanwhile
            os.replace(archive, path)
        _sync_directory(path.parent)
    finally:
        await engine.dispose()
    return BackedUp(manifest, pictures)


def _check_target(path: Path, *, force: bool) -> None:
    if path.is_dir():
        raise BackupError(f"{path} is a directory: name the backup file to write")
    if path.exists() and not force:
        raise BackupError(f"{path} already exists (use --force to overwrite it)")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent} is not a directory")


def sqlite_path(config: Config) -> Path:
    database = make_url(config.database.url).database
    if not database or database == ":memory:":
        raise BackupError("[database] url: an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """`source` copied into `target` with SQLite's backup API, all pages in one step: copying
    in steps would start again whenever the node writes, and could never finish on a busy node."""
    with (
        contextlib.closing(sqlite3.connect(source, timeout=30)) as origin,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        origin.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, without a -wal beside it


def _write_archive(archive: Path, manifest: Manifest, database: Path, media: MediaFiles) -> int:
    """Write the archive; the number of pictures in it."""
    descriptor = os.open(archive, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    pictures = 0
    with open(descriptor, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            data = manifest.to_json()
            info = tarfile.TarInfo(MANIFEST)  # first, so that reading it needs no scan
            info.size, info.mode, info.mtime = len(data), 0o600, int(datetime.now(UTC).timestamp())
            tar.addfile(info, io.BytesIO(data))
            tar.add(database, arcname=manifest.database_file, recursive=False)
            for name in media.stored():
                with contextlib.suppress(FileNotFoundError):  # pruned since it was listed
                    tar.add(media.directory / name, arcname=MEDIA + name, recursive=False)
                    pictures += 1
        raw.flush()
        os.fsync(raw.fileno())
    return pictures


def _sync_directory(directory: Path) -> None:
    """Make the rename durable: a crash right after the command must not lose the backup."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- reading a backup ------------------------------------------------------------------


@dataclass(frozen=True)
class _Contents:
    manifest: Manifest
    database: IO[bytes]
    pictures: dict[str, tarfile.TarInfo]  # by the name a file gets in [media] directory
    tar: tarfile.TarFile

    def picture(self, name: str) -> IO[bytes]:
        stream = self.tar.extractfile(self.pictures[name])
        assert stream is not None  # a regular file: _pictures_in checked
        return stream


@contextlib.contextmanager
def _archive(path: Path) -> Iterator[_Contents]:
    """What the backup holds. Members are read by name, never extracted to paths the archive
    names: a picture is written only under a name talentfed gives (storage/media_files.py)."""
    try:
        with path.open("rb"):
            pass
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BackupError(f"{path} is a directory, not a backup file") from None
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror or exc}") from None
    opened = False
    try:
        with tarfile.open(path, "r:*") as tar:  # also a backup the admin compressed
            opened = True
            manifest = _manifest_in(path, tar)
            stream = _member(tar, manifest.database_file)
            if stream is None:
                raise BackupError(f"{path} is damaged: it holds no {manifest.database_file}")
            yield _Contents(manifest, stream, _pictures_in(path, tar), tar)
    except tarfile.TarError as exc:  # also while the caller reads the database: a cut-off file
        if not opened:
            raise BackupError(f"{path} is not a talentfed backup (not a tar archive)") from None
        raise BackupError(f"{path} is damaged: {exc}") from None


def _member(tar: tarfile.TarFile, name: str) -> IO[bytes] | None:
    for member in tar:
        if member.name == name and member.isfile():
            return tar.extractfile(member)
    return None


def _pictures_in(path: Path, tar: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    pictures = {}
    for member in tar:
        if member.name.startswith(MEDIA):
            name = member.name.removeprefix(MEDIA)
            if media_type_of(name) is None or not member.isfile():
                raise BackupError(f"{path} is damaged: {member.name!r} is not an uploaded picture")
            pictures[name] = member
    return pictures


def _manifest_in(path: Path, tar: tarfile.TarFile) -> Manifest:
    stream = _member(tar, MANIFEST)
    if stream is None:
        raise BackupError(f"{path} is not a talentfed backup (it holds no {MANIFEST})")
    damaged = BackupError(f"{path} is damaged: its {MANIFEST} is not a talentfed manifest")
    try:
        values = json.loads(stream.read(1 << 16))
    except ValueError:
        raise damaged from None
    if not isinstance(values, dict) or not isinstance(values.get("format"), int):
        raise damaged
    if values["format"] > FORMAT:
        raise BackupError(
            f"{path} was made by talentfed {values.get('talentfed_version')} in a backup format this "
            "release cannot read: restore it with that release or a newer one"
        )
    try:
        manifest = Manifest(**values)
    except TypeError:
        raise damaged from None
    if manifest.backend not in DATABASE_FILES or not isinstance(manifest.domain, str):
        raise damaged
    return manifest


def read_manifest(path: Path) -> Manifest:
    with _archive(path) as contents:
        return contents.manifest


# --- restoring -------------------------------------------------------------------------


def check_restorable(config: Config, manifest: Manifest) -> None:
    """Refuse a backup of another node, of another back-end, or of a newer schema."""
    if manifest.domain != config.node.domain:
        raise BackupError(
            f"the backup is of the node {manifest.domain}, this configuration is for {config.node.domain}: "
            "a node's actors are named by URLs on its domain and other servers know their keys by "
            "those names, so a backup is restored only under its own [node] domain"
        )
    backend = backend_of(config)
    if manifest.backend != backend:
        raise BackupError(
            f"the backup is of a {BACKEND_NAMES[manifest.backend]} database and the configured one "
            f"is {BACKEND_NAMES[backend]}: restore it into a {BACKEND_NAMES[manifest.backend]} "
            "database (moving between back-ends is docs/deploy.md section 8)"
        )
    state = migrate.state_of(manifest.schema_revision)
    if state.newer:
        raise BackupError(
            f"the backup's schema is at revision {manifest.schema_revision}, newer than this "
            f"release's {state.head}: restore it with talentfed {manifest.talentfed_version} or newer"
        )


async def restore(config: Config, path: Path, *, force: bool) -> Restored:
    """Replace the configured database with the backup at `path`, and write its pictures into
    [media] directory (files already there stay: those no row names go with `prune-media`).

    Refuses a database that holds data unless `force`. The node and its workers must be stopped:
    a running process would go on with what it had read of the replaced database.
    """
    with _archive(path) as contents:
        manifest, stream = contents.manifest, contents.database
        check_restorable(config, manifest)
        await check_reachable(config)
        engine = create_engine(config.database.url, pool_size=1)
        try:
            filled = await tables_with_rows(engine)
            if filled and not force:
                raise BackupError(
                    f"the database {shown_url(config)} already holds data ({', '.join(filled[:3])}"
                    f"{', …' if len(filled) > 3 else ''}): restoring replaces all of it; stop the node "
                    "and its workers and run again with --force"
                )
            # Pictures first: should that fail (a full disk), the database is as it was.
            await asyncio.to_thread(_restore_pictures, contents, MediaFiles(config.media.directory))
            emptied = False
            if manifest.backend == "sqlite":
                await engine.dispose()
                await asyncio.to_thread(_sqlite_restore, path, stream, sqlite_path(config))
            else:
                emptied = await _pg_prepare(engine, manifest)
                await engine.dispose()
                await asyncio.to_thread(_pg_restore, config.database.url, stream)
            schema = await migrate.schema_state(engine)
        finally:
            await engine.dispose()
    return Restored(manifest, schema, emptied, len(contents.pictures))


def _restore_pictures(contents: _Contents, media: MediaFiles) -> None:
    for name in contents.pictures:
        try:
            media.put(name, contents.picture(name))
        except OSError as exc:
            raise BackupError(f"cannot write {media.directory / name}: {exc.strerror or exc}") from None


async def tables_with_rows(engine: AsyncEngine) -> list[str]:
    """talentfed's tables that hold at least one row."""
    async with engine.connect() as connection:
        existing = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        filled = []
        for table in Base.metadata.sorted_tables:
            if table.name in existing:
                row = (await connection.execute(select(literal(1)).select_from(table).limit(1))).first()
                if row is not None:
                    filled.append(table.name)
        return filled


def _sqlite_restore(path: Path, stream: IO[bytes], database: Path) -> None:
    """The backup's database copied into `database` with the backup API, which rewrites every
    page of it (tables the backup lacks included) in one transaction: pages in a -wal beside it,
    even one left by a lost database of the same name, are superseded, where copying the file
    over it would leave them to be read as part of it."""
    database.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        dir=database.parent, prefix=f".{database.name}.", suffix=".restore"
    ) as copy:
        shutil.copyfileobj(stream, copy, _COPY_CHUNK)
        copy.flush()
        with contextlib.closing(sqlite3.connect(copy.name)) as origin:
            try:  # before the target is touched
                origin.execute("PRAGMA schema_version").fetchone()
            except sqlite3.DatabaseError:
                raise BackupError(
                    f"{path} is damaged: its {DATABASE_FILES['sqlite']} is not an SQLite database"
                ) from None
            with contextlib.closing(sqlite3.connect(database, timeout=30)) as target:
                origin.backup(target)


async def _pg_prepare(engine: AsyncEngine, manifest: Manifest) -> bool:
    """Empty a database whose schema is at another revision than the backup's.

    `pg_restore --clean` drops only what the backup holds, in the same transaction as the
    restore, so a failed restore changes nothing. Tables and functions of a newer schema
    (restoring the backup made before a failed upgrade) would stay and break the next
    `talentfed migrate`; only then is the database emptied first, in its own transaction.
    """
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    if not tables or await migrate.current_revision(engine) == manifest.schema_revision:
        return False
    quote = engine.dialect.identifier_preparer.quote
    async with engine.begin() as connection:
        await connection.exec_driver_sql(f"DROP TABLE {', '.join(quote(t) for t in tables)} CASCADE")
        functions = await connection.scalars(
            text(
                "SELECT p.oid::regprocedure::text FROM pg_proc p"
                " WHERE p.pronamespace = current_schema()::regnamespace"
                " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
            )
        )
        for function in list(functions):
            await connection.exec_driver_sql(f"DROP FUNCTION {function} CASCADE")
    return True


# --- the PostgreSQL client programs ----------------------------------------------------


def pg_environment(url: str) -> dict[str, str]:
    """Where `[database] url` connects, as libpq's environment variables for pg_dump and
    pg_restore: nothing of it on a command line (where `ps` shows a password), nothing of it
    parsed again as a connection string. What the URL leaves out, libpq takes from the
    admin's environment, as asyncpg does."""
    parsed = make_url(url)

    def query(name: str) -> str | None:
        value = parsed.query.get(name)
        return value[-1] if isinstance(value, tuple) else value

    ssl = query("sslmode") or query("ssl")
    values = {
        "PGHOST": query("host") or parsed.host,  # asyncpg's ?host=/var/run/postgresql: a socket
        "PGPORT": query("port") or parsed.port,
        "PGUSER": parsed.username,
        "PGPASSWORD": parsed.password,
        "PGDATABASE": parsed.database,
        "PGSSLMODE": {"true": "require", "false": "disable"}.get(ssl or "", ssl),
    }
    return {name: str(value) for name, value in values.items() if value not in (None, "")}


def _database_argument(url: str) -> str:
    """`--dbname` as a connection string naming only the database, quoted as libpq reads it: a
    bare name containing `=` would be read as a connection string itself."""
    name = make_url(url).database or ""
    return "--dbname=dbname='" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _client(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise BackupError(
            f"{program} is not installed: install the PostgreSQL client programs "
            "(Debian: postgresql-client) of the server's major version or newer"
        )
    return found


def _pg_dump(url: str, target: Path) -> None:
    _run_client(
        [_client("pg_dump"), "--format=custom", "--no-password", f"--file={target}", _database_argument(url)],
        url,
    )


def _pg_restore(url: str, stream: IO[bytes]) -> None:
    # --single-transaction: all or nothing. --no-owner and --no-acl: the restoring role owns
    # everything, whatever the roles of the server the backup was made on.
    _run_client(
        [
            _client("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-acl",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            _database_argument(url),
        ],
        url,
        stdin=stream,
    )


def _run_client(arguments: list[str], url: str, *, stdin: IO[bytes] | None = None) -> None:
    """Run a PostgreSQL client program (no shell); its error, if it fails, as one line."""
    environment = {**os.environ, **pg_environment(url)}
    # Errors go to a file, not a pipe: a pipe nobody reads while we write stdin could fill up.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            arguments,
            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            env=environment,
        )
        try:
            if stdin is not None and process.stdin is not None:
                # Its exit status says why, should the program stop reading early.
                with contextlib.suppress(BrokenPipeError), process.stdin:
                    shutil.copyfileobj(stdin, process.stdin, _COPY_CHUNK)
        finally:
            status = process.wait()  # also when reading the backup failed: stdin is closed by now
        if status != 0:
            errors.seek(0)
            lines = [line for line in errors.read().decode("utf-8", "replace").splitlines() if line.strip()]
            # The first error says what went wrong; what follows it ("Command was: …") is context.
            reason = next((line for line in lines if "error" in line.lower()), None)
            reason = reason or (lines[-1] if lines else f"exit status {status}")
            raise BackupError(f"{Path(arguments[0]).name} failed: {reason}")
