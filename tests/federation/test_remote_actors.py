"""Remote actors: the cache, its refresh, handles that change owner, WebFinger.

This module also holds `RemoteServer`, a small real ActivityPub server on a loopback port
(actor documents with real keys, WebFinger, documents, inboxes that record what they are
sent). test_inbox.py and test_delivery.py import it from here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from talentfed.config import Config
from talentfed.federation.remote_actors import ActorUnavailable, RemoteActors
from talentfed.federation.runtime import Federation
from talentfed.federation.signatures import generate_rsa_keypair, sign_request
from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, DomainBlock, utcnow

AS_JSON = "application/activity+json"
AS_CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]


# --- a real remote server, for these tests and for test_inbox / test_delivery ----------------


@dataclass
class Received:
    """One POST the remote server was sent."""

    path: str
    url: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class RemoteUser:
    server: RemoteServer
    slug: str  # the last part of the actor's URL
    name: str
    preferred_username: str
    shared_inbox: bool = True
    manually_approves: bool = False
    gone: bool = False  # the account was deleted: its document answers 410
    extra: dict[str, Any] = field(default_factory=dict)  # more properties for its actor document
    private_pem: str = ""
    public_pem: str = ""

    def __post_init__(self) -> None:
        if not self.private_pem:
            self.rotate_key()

    @property
    def uri(self) -> str:
        return f"{self.server.base}/users/{self.slug}"

    @property
    def key_id(self) -> str:
        return f"{self.uri}#main-key"

    @property
    def inbox(self) -> str:
        return f"{self.uri}/inbox"

    def rotate_key(self) -> None:
        """A new key pair under the same key id, as an admin rotating keys would make."""
        self.private_pem, self.public_pem = generate_rsa_keypair()

    def document(self, **changes: Any) -> dict:
        document = {
            "@context": AS_CONTEXT,
            "id": self.uri,
            "type": "Person",
            "preferredUsername": self.preferred_username,
            "name": self.name,
            "inbox": self.inbox,
            "outbox": f"{self.uri}/outbox",
            "followers": f"{self.uri}/followers",
            "manuallyApprovesFollowers": self.manually_approves,
            "publicKey": {"id": self.key_id, "owner": self.uri, "publicKeyPem": self.public_pem},
        }
        if self.shared_inbox:
            document["endpoints"] = {"sharedInbox": self.server.shared_inbox}
        document.update(self.extra)
        document.update(changes)
        return document

    def signed_headers(
        self, url: str, body: bytes, *, private_pem: str | None = None, scheme: str = "cavage"
    ) -> dict[str, str]:
        headers = {"Content-Type": AS_JSON}
        headers.update(
            sign_request(
                "POST",
                url,
                headers,
                body,
                key_id=self.key_id,
                private_key_pem=private_pem or self.private_pem,
                scheme=scheme,
            )
        )
        return headers


# What an inbox answers: a status, or a status with headers, or a coroutine deciding per request.
Answer = int | tuple[int, dict[str, str]]
AnswerFunction = Callable[[Received], Awaitable[Answer]]


class _InProcessServer(uvicorn.Server):
    """uvicorn in the test's own event loop, leaving the process's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[override]
        yield


@dataclass
class RemoteServer:
    """A remote ActivityPub server on 127.0.0.1:<free port>; use as `async with RemoteServer()`."""

    users: dict[str, RemoteUser] = field(default_factory=dict)
    documents: dict[str, dict] = field(default_factory=dict)  # path -> document served at it
    redirects: dict[str, str] = field(default_factory=dict)  # path -> absolute URL
    gets: Counter[str] = field(default_factory=Counter)  # path -> GETs received
    received: list[Received] = field(default_factory=list)  # POSTs, in order
    down: bool = False  # every GET answers 503
    answer: AnswerFunction | None = None
    port: int = 0
    _answers: list[Answer] = field(default_factory=list)
    _server: _InProcessServer | None = None
    _task: asyncio.Task | None = None

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base(self) -> str:
        return f"http://{self.netloc}"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    def add_user(self, slug: str, **options: Any) -> RemoteUser:
        options.setdefault("name", slug.title())
        options.setdefault("preferred_username", slug)
        user = RemoteUser(self, slug, **options)
        self.users[slug] = user
        return user

    def serve(self, document: dict) -> None:
        """Serve `document` at the path of its id."""
        self.documents[urlsplit(document["id"]).path] = document

    def answer_with(self, *answers: Answer) -> None:
        """Inboxes answer these in turn; the last one is repeated."""
        self._answers = list(answers)

    def activity_id(self, name: str) -> str:
        return f"{self.base}/activities/{name}"

    # -- lifecycle ------------------------------------------------------------------

    async def __aenter__(self) -> RemoteServer:
        app = Starlette(
            routes=[
                Route("/.well-known/webfinger", self._webfinger),
                Route("/users/{slug}", self._actor, methods=["GET"]),
                Route("/users/{slug}/inbox", self._inbox, methods=["POST"]),
                Route("/inbox", self._inbox, methods=["POST"]),
                Route("/{path:path}", self._document, methods=["GET"]),
            ]
        )
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = _InProcessServer(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises why it did not start
                raise RuntimeError("the remote server stopped before it started")
            await asyncio.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        await self._task

    # -- handlers --------------------------------------------------------------------

    def _count(self, request: Request) -> Response | None:
        self.gets[request.url.path] += 1
        return Response(status_code=503) if self.down else None

    async def _actor(self, request: Request) -> Response:
        if (refused := self._count(request)) is not None:
            return refused
        user = self.users.get(request.path_params["slug"])
        if user is None:
            return Response(status_code=404)
        if user.gone:
            return Response(status_code=410)
        return JSONResponse(user.document(), media_type=AS_JSON)

    async def _webfinger(self, request: Request) -> Response:
        if (refused := self._count(request)) is not None:
            return refused
        resource = request.query_params.get("resource", "")
        name, _, domain = resource.removeprefix("acct:").rpartition("@")
        user = next((u for u in self.users.values() if u.preferred_username == name), None)
        if user is None or domain != self.netloc:
            return Response(status_code=404)
        links = [{"rel": "self", "type": AS_JSON, "href": user.uri}]
        return JSONResponse({"subject": resource, "links": links}, media_type="application/jrd+json")

    async def _document(self, request: Request) -> Response:
        if (refused := self._count(request)) is not None:
            return refused
        path = request.url.path
        if path in self.redirects:
            return RedirectResponse(self.redirects[path], status_code=302)
        if path in self.documents:
            return JSONResponse(self.documents[path], media_type=AS_JSON)
        return Response(status_code=404)

    async def _inbox(self, request: Request) -> Response:
        received = Received(request.url.path, str(request.url), dict(request.headers), await request.body())
        self.received.append(received)
        if self.answer is not None:
            answer = await self.answer(received)
        elif self._answers:
            answer = self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]
        else:
            answer = 202
        status, headers = answer if isinstance(answer, tuple) else (answer, {})
        return Response(status_code=status, headers=headers)


# --- the tests of this module ------------------------------------------------------------


@pytest.fixture
async def remote() -> AsyncIterator[RemoteServer]:
    async with RemoteServer() as server:
        yield server


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker:
    return session_factory(engine)


@pytest.fixture
async def actors(config: Config, sessions: async_sessionmaker) -> AsyncIterator[RemoteActors]:
    runtime = await Federation.open(config, sessions)
    yield runtime.actors
    await runtime.close()


async def _make_stale(sessions: async_sessionmaker, uri: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(Actor).where(Actor.uri == uri).values(fetched_at=utcnow() - timedelta(days=2))
        )


async def _row(sessions: async_sessionmaker, uri: str) -> Actor | None:
    async with sessions() as session:
        return await session.scalar(select(Actor).where(Actor.uri == uri))


async def test_first_get_fetches_and_stores_the_actor(
    actors: RemoteActors, remote: RemoteServer, sessions: async_sessionmaker
) -> None:
    alice = remote.add_user("alice", name="Alice Liddell")
    actor = await actors.get(alice.uri)
    assert remote.gets[f"/users/{alice.slug}"] == 1
    stored = await _row(sessions, alice.uri)
    assert stored is not None and stored.id == actor.id
    assert (stored.local, stored.username, stored.domain) == (False, "alice", remote.netloc)
    assert stored.display_name == "Alice Liddell"
    assert stored.inbox_url == alice.inbox and stored.shared_inbox_url == remote.shared_inbox
    assert (stored.public_key_id, stored.public_key_pem) == (alice.key_id, alice.public_pem)


async def test_a_cache_hit_does_not_fetch(actors: RemoteActors, remote: RemoteServer) -> None:
    alice = remote.add_user("alice")
    first = await actors.get(alice.uri)
    alice.name = "Renamed on the remote"
    second = await actors.get(alice.uri)
    assert remote.gets[f"/users/{alice.slug}"] == 1
    assert second.id == first.id and second.display_name == "Alice"


async def test_a_stale_copy_is_refetched(
    actors: RemoteActors, remote: RemoteServer, sessions: async_sessionmaker
) -> None:
    alice = remote.add_user("alice")
    await actors.get(alice.uri)
    alice.name = "Alice, renamed"
    await _make_stale(sessions, alice.uri)
    refreshed = await actors.get(alice.uri)
    assert remote.gets[f"/users/{alice.slug}"] == 2
    assert refreshed.display_name == "Alice, renamed"
    assert utcnow() - refreshed.fetched_at < timedelta(minutes=1)


async def test_a_failed_refresh_returns_the_stale_copy(
    actors: RemoteActors, remote: RemoteServer, sessions: async_sessionmaker
) -> None:
    alice = remote.add_user("alice")
    original = await actors.get(alice.uri)
    await _make_stale(sessions, alice.uri)
    alice.name = "Never seen"
    remote.down = True
    stale = await actors.get(alice.uri)
    assert remote.gets[f"/users/{alice.slug}"] == 2  # it did try
    assert stale.id == original.id and stale.display_name == "Alice"
    # An explicit refresh (as key rotation asks for) does not settle for the stale copy.
    with pytest.raises(ActorUnavailable):
        await actors.get(alice.uri, refresh=True)


async def test_an_unknown_actor_that_cannot_be_fetched_is_unavailable(
    actors: RemoteActors, remote: RemoteServer, sessions: async_sessionmaker
) -> None:
    with pytest.raises(ActorUnavailable):
        await actors.get(f"{remote.base}/users/nobody")
    assert await _row(sessions, f"{remote.base}/users/nobody") is None


async def test_a_blocked_domain_is_never_fetched(
    actors: RemoteActors, remote: RemoteServer, sessions: async_sessionmaker
) -> None:
    alice = remote.add_user("alice")
    async with sessions() as session, session.begin():
        session.add(DomainBlock(domain=remote.netloc))
    with pytest.raises(ActorUnavailable, match="blocked"):
        await actors.get(alice.uri)
    assert sum(remote.gets.values()) == 0


async def test_a_handle_that_changed_owner_renames_the_old_row(
    actors: RemoteActors, remote: RemoteServer, sessions: async_sessionmaker
) -> None:
    old = remote.add_user("alice")
    old_actor = await actors.get(old.uri)
    # The account was deleted and re-created: same handle, new actor id.
    new = remote.add_user("alice-2", preferred_username="alice", name="Alice again")
    new_actor = await actors.get(new.uri)

    assert new_actor.id != old_actor.id and new_actor.username == "alice"
    renamed = await _row(sessions, old.uri)
    assert renamed is not None and renamed.username == f"alice~{old_actor.id}"
    found = await actors.by_handle(f"@alice@{remote.netloc}")
    assert found.uri == new.uri


async def test_webfinger_finds_an_actor_by_handle_and_caches_it(
    actors: RemoteActors, remote: RemoteServer
) -> None:
    alice = remote.add_user("alice")
    found = await actors.by_handle(f"@Alice@{remote.netloc}")
    assert found.uri == alice.uri
    assert remote.gets["/.well-known/webfinger"] == 1 and remote.gets["/users/alice"] == 1
    again = await actors.resolve(f"alice@{remote.netloc}")
    assert again.id == found.id
    assert remote.gets["/.well-known/webfinger"] == 1 and remote.gets["/users/alice"] == 1


async def test_webfinger_for_an_unknown_handle_is_unavailable(
    actors: RemoteActors, remote: RemoteServer
) -> None:
    with pytest.raises(ActorUnavailable):
        await actors.by_handle(f"@nobody@{remote.netloc}")
    assert remote.gets["/.well-known/webfinger"] == 1
    with pytest.raises(ActorUnavailable):
        await actors.by_handle("not a handle")


async def test_resolve_key_reads_the_cache_then_refetches_on_request(
    actors: RemoteActors, remote: RemoteServer
) -> None:
    alice = remote.add_user("alice")
    first_key = alice.public_pem
    assert await actors.resolve_key(alice.key_id) == first_key
    assert await actors.resolve_key(alice.key_id) == first_key
    assert remote.gets["/users/alice"] == 1
    alice.rotate_key()
    assert await actors.resolve_key(alice.key_id) == first_key  # cached
    assert await actors.resolve_key(alice.key_id, refresh=True) == alice.public_pem
    assert remote.gets["/users/alice"] == 2
    owner = await actors.owner_of_key(alice.key_id)
    assert owner is not None and owner.uri == alice.uri


async def test_the_server_helper_serves_what_the_tests_rely_on(remote: RemoteServer) -> None:
    """A guard on the helper itself: documents are served as ActivityStreams, POSTs recorded."""
    alice = remote.add_user("alice")
    remote.answer_with(500, (429, {"Retry-After": "7"}))
    async with httpx.AsyncClient() as client:
        document = await client.get(alice.uri)
        assert document.headers["content-type"].startswith(AS_JSON)
        assert document.json()["publicKey"]["publicKeyPem"] == alice.public_pem
        statuses = [(await client.post(remote.shared_inbox, content=b"{}")).status_code for _ in range(3)]
        last = await client.post(alice.inbox, content=b"{}")
    assert statuses == [500, 429, 429] and last.headers["retry-after"] == "7"
    assert [r.path for r in remote.received] == ["/inbox"] * 3 + ["/users/alice/inbox"]
