"""Which long-running processes may share a database: the one home of that rule.

PostgreSQL takes any number of web processes and workers, on any number of machines: jobs
are claimed with FOR UPDATE SKIP LOCKED and leases (`federation/delivery.py`), and what
several processes must agree on lives in the database or in Redis (`talentfed/shared_state.py`).

SQLite has one writer at a time and the node relies on it in-process (`storage/db.write_lock`,
the inbox's group commit, the in-memory rate-limit counters). So one long-running writer
process at most: `talentfed serve`, `talentfed worker` and `talentfed migrate` hold an
exclusive lock (`fcntl.flock`) on `<database>.lock` while they run, and a second one is refused
with a message saying who holds it. One-shot commands (`user add`, `post`, …) do not take it:
their few writes wait on SQLite's busy timeout while `serve` runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from talentfed.config import Config, ConfigError

SEVERAL_WRITERS = "SQLite has one writer process; run several web processes or workers on PostgreSQL"


class DatabaseBusy(Exception):
    """Another long-running process already writes to this SQLite database."""


def check_web_processes(config: Config, workers: int) -> None:
    """Refuse several web processes on SQLite, or without a session secret they all share."""
    if workers < 2:
        return
    if config.is_sqlite:
        raise ConfigError(
            config.source, "[server] workers (or serve --workers)", f"expected 1: {SEVERAL_WRITERS}"
        )
    if not config.web.session_secret:
        raise ConfigError(
            config.source,
            "[web] session_secret",
            f"expected a secret for the {workers} web processes to share (empty, each would draw its "
            "own, and a sign-in would hold in one of them only)",
        )


def lock_path(config: Config) -> Path | None:
    """`<database>.lock` beside an SQLite file; None for PostgreSQL or an in-memory database."""
    url = make_url(config.database.url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database + ".lock")


@contextlib.contextmanager
def sole_writer(config: Config, role: str) -> Iterator[None]:
    """Hold the SQLite database's writer lock for the block (no-op on PostgreSQL).

    The lock is the kernel's, on an open file: it goes with the process, however it ends.
    """
    path = lock_path(config)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 200, 0).decode(errors="replace").strip() or "another process"
            raise DatabaseBusy(
                f"the SQLite database {make_url(config.database.url).database} is in use by {holder}; "
                f"stop it first ({SEVERAL_WRITERS})"
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"talentfed {role} (pid {os.getpid()})".encode(), 0)
        yield
    finally:
        os.close(descriptor)  # releases the lock
