"""The Fedify peer (tests/interop/fedify_peer/peer.mjs): start and stop it, drive it.

The peer is a separate Node.js process on a loopback port, run by the Node 22 that its
package-lock.json pins (tests/interop/npm_projects.py says whether it is installed).
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx

from tests.interop.npm_projects import FEDIFY_PEER
from tests.multinode.nodes import free_port, wait_for_health

CAVAGE = "draft-cavage-http-signatures-12"
RFC9421 = "rfc9421"


class ControlError(AssertionError):
    """The peer refused a control request; the message carries its reason."""


class FedifyPeer:
    """`node peer.mjs PORT`: one Fedify actor, `fedi`, at http://127.0.0.1:PORT/users/fedi."""

    def __init__(self, directory: Path, *, trusted_certificate: Path) -> None:
        self.port = free_port()
        self.domain = f"127.0.0.1:{self.port}"
        self.origin = f"http://{self.domain}"
        self.actor_id = f"{self.origin}/users/fedi"
        self.handle = f"@fedi@{self.domain}"
        self.trusted_certificate = trusted_certificate
        self.log_path = directory / "fedify-peer.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [FEDIFY_PEER.node_binary() or "node", "peer.mjs", str(self.port)],
            cwd=FEDIFY_PEER.directory,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Our node serves https with a self-signed certificate; the peer trusts just that one.
            env={**os.environ, "NODE_EXTRA_CA_CERTS": str(self.trusted_certificate)},
        )
        wait_for_health(self.process, f"{self.origin}/_control/health", "the Fedify peer", self.log)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    # -- the control API ----------------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(method, f"{self.origin}/_control/{path}", json=body, timeout=30)
        if response.status_code != 200:
            raise ControlError(f"peer {method} {path} {body}: {response.status_code} {response.text}")
        return response.json()

    def lookup(self, handle: str) -> dict[str, Any]:
        """WebFinger, the raw actor, its strict expansion, and what Fedify's lookupObject made of it."""
        return self._call("POST", "lookup", {"handle": handle})

    def follow(self, actor: str, *, sign: str) -> str:
        """Send a Follow, signed first with `sign`; returns its id."""
        return self._call("POST", "follow", {"actor": actor, "sign": sign})["id"]

    def reply(self, in_reply_to: str, content: str, *, to: str, sign: str) -> str:
        """Send Create(Note) replying to `in_reply_to` to `to`'s inbox; returns the note's id."""
        body = {"inReplyTo": in_reply_to, "content": content, "to": to, "sign": sign}
        return self._call("POST", "reply", body)["id"]

    def require_rfc9421(self, on: bool) -> None:
        self._call("POST", "require-rfc9421", {"on": on})

    def received(self) -> list[dict[str, Any]]:
        """Every POST to the peer's inboxes: scheme, status, raw, strict expansion, what Fedify parsed."""
        return self._call("GET", "received")

    def sent(self) -> list[dict[str, Any]]:
        """Every POST the peer made: url, scheme (how Fedify signed it), status."""
        return self._call("GET", "sent")
