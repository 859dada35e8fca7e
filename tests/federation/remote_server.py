"""A real remote ActivityPub server on a loopback port, for the federation tests.

Actor documents with real keys, WebFinger, documents at chosen paths, redirects, inboxes that
record what they are sent and answer what a test tells them to.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from talentfed.federation.signatures import generate_rsa_keypair
from tests.support.factories import AS_JSON, actor_doc
from tests.support.signing import signed_headers

__all__ = ["AS_JSON", "Received", "RemoteServer", "RemoteUser"]


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
        fields = {
            "name": self.name,
            "preferredUsername": self.preferred_username,
            "manuallyApprovesFollowers": self.manually_approves,
            **self.extra,
            **changes,
        }
        shared_inbox = self.server.shared_inbox if self.shared_inbox else None
        return actor_doc(
            self.uri, public_pem=self.public_pem, key_id=self.key_id, shared_inbox=shared_inbox, **fields
        )

    def signed_headers(
        self, url: str, body: bytes, *, private_pem: str | None = None, scheme: str = "cavage"
    ) -> dict[str, str]:
        return signed_headers(
            "POST", url, body, key_id=self.key_id, private_pem=private_pem or self.private_pem, scheme=scheme
        )


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
        links = [
            {"rel": "self", "type": AS_JSON, "href": user.uri},
            {
                "rel": "http://ostatus.org/schema/1.0/subscribe",
                "template": f"{self.base}/authorize_interaction?uri={{uri}}",
            },
        ]
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
