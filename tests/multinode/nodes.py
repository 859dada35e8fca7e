"""Real talentfed nodes on loopback ports, each its own process and database."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.support import run_cli, write_config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Node:
    """One node: `talentfed serve` in dev mode on 127.0.0.1:<port>.

    With `tls` (a PEM certificate for 127.0.0.1 and its key) it serves https itself.
    """

    def __init__(
        self, name: str, directory: Path, db_url: str, *, tls: tuple[Path, Path] | None = None
    ) -> None:
        self.name = name
        self.directory = directory
        self.port = free_port()
        self.domain = f"127.0.0.1:{self.port}"
        self.base_url = f"{'https' if tls else 'http'}://{self.domain}"
        # What the test's own HTTP clients trust: the node's self-signed certificate, with tls.
        self.verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=tls[0]) if tls else True
        self.db_url = db_url
        self.process: subprocess.Popen | None = None
        self.log_path = directory / "server.log"
        directory.mkdir(parents=True, exist_ok=True)
        write_config(
            directory,
            db_url,
            **{
                "node.domain": self.domain,
                "node.base_url": self.base_url,
                "node.name": f"Node {name}",
                "server.port": self.port,
                "federation.retry_initial_delay": 0.5,
                "federation.request_timeout": 5.0,
                **(_tls_settings(*tls) if tls else {}),
            },
        )
        self.cli_ok("migrate")

    # -- processes -------------------------------------------------------------

    def start(self, *, timeout: float = 30.0) -> None:
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "talentfed", "serve"],
            cwd=self.directory,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "TALENTFED_LOG_LEVEL": "INFO"},
        )
        wait_for_health(
            self.process,
            f"{self.base_url}/healthz",
            f"node {self.name}",
            self.log,
            verify=self.verify,
            timeout=timeout,
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    # -- talking to it ------------------------------------------------------------

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, cwd=self.directory)

    def cli_ok(self, *args: str) -> str:
        result = self.cli(*args)
        assert result.returncode == 0, f"{self.name}: talentfed {' '.join(args)}\n{result.stderr}"
        return result.stdout

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli_ok(*args, "--json"))

    def handle(self, username: str) -> str:
        return f"@{username}@{self.domain}"

    def actor_uri(self, username: str) -> str:
        return f"{self.base_url}/users/{username}"

    def get_json(self, path: str) -> Any:
        headers = {"Accept": "application/activity+json"}
        response = httpx.get(self.base_url + path, headers=headers, timeout=5, verify=self.verify)
        response.raise_for_status()
        return response.json()


def _tls_settings(certificate: Path, private_key: Path) -> dict[str, str]:
    return {"server.tls_certificate": str(certificate), "server.tls_private_key": str(private_key)}


def wait_for_health(
    process: subprocess.Popen,
    url: str,
    what: str,
    log: Callable[[], str],
    *,
    verify: Any = True,
    timeout: float = 30.0,
) -> None:
    """Wait until `url` answers 200; fail with the process's log if it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited:\n{log()}")
        try:
            if httpx.get(url, timeout=1, verify=verify).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{what} did not start:\n{log()}")


def query(node: Node, statement: str, **params: Any) -> list[tuple]:
    """Read the node's database directly (to check what it stored, or borrow a key)."""
    import asyncio

    from sqlalchemy import text

    from talentfed.storage.db import create_engine

    async def run() -> list[tuple]:
        engine = create_engine(node.db_url)
        try:
            async with engine.connect() as connection:
                return [tuple(row) for row in await connection.execute(text(statement), params)]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def private_key_of(node: Node, username: str) -> tuple[str, str]:
    """(key id, private PEM) of a local actor."""
    rows = query(
        node,
        "SELECT public_key_id, private_key_pem FROM actors WHERE local = :yes AND username = :u",
        yes=True,
        u=username,
    )
    return rows[0]


def three_nodes(directory: Path, fresh_database: Callable[[str], str]) -> tuple[Node, Node, Node]:
    """Nodes a and c on SQLite, b on PostgreSQL, not started yet (add members first)."""
    return (
        Node("a", directory / "a", fresh_database("sqlite")),
        Node("b", directory / "b", fresh_database("postgresql")),
        Node("c", directory / "c", fresh_database("sqlite")),
    )


@contextlib.contextmanager
def running(nodes: tuple[Node, ...]) -> Iterator[tuple[Node, ...]]:
    """Start the nodes; stop them all afterwards, whatever happened."""
    try:
        for node in nodes:
            node.start()
        yield nodes
    finally:
        for node in nodes:
            node.stop()


@contextlib.contextmanager
def demo_and_bob(directory: Path, fresh_database: Callable[[str], str]) -> Iterator[tuple[Node, Node]]:
    """Two running nodes, as the client library tests use them: A (SQLite) with the demo
    institution (ada, grace, alan and their posts), B (PostgreSQL) with bob."""
    a = Node("a", directory / "a", fresh_database("sqlite"))
    b = Node("b", directory / "b", fresh_database("postgresql"))
    a.cli_ok("demo")
    b.cli_ok("user", "add", "bob", "--display-name", "Bob")
    with running((a, b)):
        yield a, b
