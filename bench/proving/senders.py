"""Remote servers sending signed activities to a node's shared inbox: members of a real sender
node (bench/bench_inbox.py makes them; the receiving node fetches their keys from it), each
activity a Create of a Note signed with our own signer, as a remote talentfed would send it."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from _common import ServedNode
from bench_inbox import PUBLIC, Request, SenderKey, create_senders

from proving.harness import sqlite_rows


def activity(index: int, sender: SenderKey, prefix: str) -> dict[str, Any]:
    """A Create of a Note that lives on the sender's host, as the origin check requires."""
    host = sender.actor_uri.rsplit("/users/", 1)[0]
    published = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    audience = {"to": [PUBLIC], "cc": [f"{sender.actor_uri}/followers"]}
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{prefix}{index}",
        "type": "Create",
        "actor": sender.actor_uri,
        "published": published,
        **audience,
        "object": {
            "id": f"{host}/objects/{prefix.rsplit('/', 1)[-1]}{index}",
            "type": "Note",
            "attributedTo": sender.actor_uri,
            "content": f"<p>Note {index}: looking for collaborators on graph learning.</p>",
            "published": published,
            **audience,
        },
    }


@dataclass(frozen=True)
class Stored:
    rows: int  # received activities whose id starts with the run's prefix
    distinct: int  # distinct ids among them
    posts: int  # their Notes, stored as posts by the Create handler


def stored_counts(db_path: Path, prefix: str) -> Stored:
    """What a node's SQLite database holds of the activities whose ids start with `prefix`."""
    [(rows, distinct)] = sqlite_rows(
        db_path,
        "SELECT count(*), count(DISTINCT uri) FROM activities WHERE local = 0 AND uri LIKE ? || '%'",
        prefix,
    )
    post_prefix = prefix.replace("/activities/", "/objects/")
    [(posts,)] = sqlite_rows(db_path, "SELECT count(*) FROM objects WHERE uri LIKE ? || '%'", post_prefix)
    return Stored(rows, distinct, posts)


class SignedSenders:
    def __init__(self, sender_node: ServedNode, receiver: ServedNode, keys: list[SenderKey]) -> None:
        from talentfed.federation.signatures import load_private_key

        self.keys = keys
        self.loaded = [load_private_key(key.private_pem) for key in keys]
        self.inbox = f"{receiver.base_url}/inbox"
        # Every activity of this run has an id that starts so (to find them in the database).
        self.prefix = f"{sender_node.base_url}/activities/prove-{uuid.uuid4().hex[:8]}-"

    @classmethod
    def made(cls, sender_node: ServedNode, receiver: ServedNode, count: int) -> SignedSenders:
        """`count` members of `sender_node` (migrated, not yet started) to sign with."""
        return cls(sender_node, receiver, asyncio.run(create_senders(sender_node, count)))

    def activity_id(self, index: int) -> str:
        return f"{self.prefix}{index}"

    def signed(self, index: int) -> Request:
        """The POST of activity `index`, signed now (a retry is signed again, as servers do)."""
        from talentfed.federation.signatures import sign_request

        slot = index % len(self.keys)
        body = json.dumps(activity(index, self.keys[slot], self.prefix)).encode()
        headers: dict[str, Any] = {"Content-Type": "application/activity+json"}
        key_id, private = self.keys[slot].key_id, self.loaded[slot]
        headers.update(
            sign_request("POST", self.inbox, headers, body, key_id=key_id, private_key_pem=private)
        )
        return Request("POST", self.inbox, headers, body)

    async def post(self, client: httpx.AsyncClient, index: int) -> tuple[str, httpx.Response | None]:
        """POST activity `index`; (its status or the transport error's name, the response)."""
        request = self.signed(index)
        try:
            response = await client.post(self.inbox, content=request.body, headers=request.headers)
        except httpx.TransportError as exc:
            return type(exc).__name__, None
        return str(response.status_code), response
