"""Destroying a database whole, as a lost disk would (backups and the restore drill)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url


def destroy_database(url: str) -> None:
    """Delete an SQLite database with its -wal and -shm files; drop a PostgreSQL database and
    create it again, empty (as an admin does before restoring: docs/deploy.md section 7)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        return

    async def recreate() -> None:
        connection = await asyncpg.connect(
            host=parsed.host, port=parsed.port, user=parsed.username, database="test", timeout=5
        )
        try:
            await connection.execute(f'DROP DATABASE "{parsed.database}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{parsed.database}"')
        finally:
            await connection.close()

    asyncio.run(recreate())
