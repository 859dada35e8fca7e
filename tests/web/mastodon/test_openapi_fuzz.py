"""schemathesis against the OpenAPI description a real node serves: no answer is a 5xx, and what
the description allows is answered as it describes (status, content type, headers, body).

A node (uvicorn on 127.0.0.1, in a thread) runs on SQLite and on PostgreSQL, which refuses what
SQLite lets through (NUL characters, integers beyond its columns). Its database holds the demo
institution plus a few statuses, follows, follow requests, favourites, a boost, a reply, a
bookmark and two uploads, so that reading endpoints answer something to check; path ids are
often those of seeded records rather than made-up ones, for the same reason, and uploads often
send a real picture. Every request carries a token of ada's holding every scope.

Hypothesis is derandomized: a run sends the same requests as the last one, so CI does not pass
or fail by chance (TALENTFED_FUZZ_EXAMPLES and TALENTFED_FUZZ_ONLY search longer, by hand).

What would spoil the rest of a run is designed around:
- deletes and edits go to statuses seeded to be deleted, never to the ones other operations
  read; what dismisses notifications or removes featured tags runs last (DESTRUCTIVE), and the
  member's favourites and bookmarks, and who favourited or boosted, are read first (READ_FIRST);
- the token is never revoked: schemathesis does not know it (it makes up tokens to revoke, and
  the app's real credentials half the time, so that revoke and token answer 200 too); revoking
  is tested in test_oauth.py;
- nothing leaves the machine: every host name resolves to nothing for the node's fetcher (search
  with `resolve=true`, mentions in new statuses); the fixture checks that a lookup gets there.

Positive cases (what the description allows) are held to every check; negative ones (what it
does not allow, such as a path id with a slash that reaches another route) only to "no 5xx".
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from talentfed.config import Config, load_config
from talentfed.domain import bookmarks, follows, media, oauth, posts
from talentfed.domain.demo import ensure_demo
from talentfed.domain.members import NewMember, add_member, find_local_actor, find_member
from talentfed.domain.posts import Draft
from talentfed.federation import fetcher
from talentfed.storage.db import create_engine, session_factory
from talentfed.storage.models import Actor, Object
from talentfed.web.app import create_app
from tests.domain.test_media import picture
from tests.support import write_config

ALL_SCOPES = " ".join(oauth.TOP_SCOPES)
OOB = oauth.OOB_REDIRECT
HASHTAGS = ("MachineLearning", "nlp", "evaluation")
ADA_SKILLS = ("MachineLearning", "SpeechRecognition", "Python")  # the demo's, as featured tags
PICTURE = picture()  # a PNG the node accepts, for uploads
# Examples per operation and generation mode. The description has 85 operations, each example
# is one request (5-20 ms), and each operation is run in two modes: 20 keeps the test near two
# minutes of CPU for both back-ends together (on an idle machine about as long in wall time; on
# one busy with other tests, several times that), while every parameter and the seeded records
# are still reached many times over. Bugs that need rarer input (an overlong language tag, a
# surrogate) turned up at 150: TALENTFED_FUZZ_EXAMPLES=150 searches longer, by hand.
MAX_EXAMPLES = int(os.environ.get("TALENTFED_FUZZ_EXAMPLES", "20"))
# By hand, to search some operations longer: the labels to run contain one of these words
# (`TALENTFED_FUZZ_ONLY=media,featured_tags`).
ONLY = [word for word in os.environ.get("TALENTFED_FUZZ_ONLY", "").split(",") if word]

POSITIVE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
NEGATIVE_CHECKS = [not_a_server_error]
# Operations that must have answered 200 with something in it at least once in a run.
ANSWERED = (
    "GET /api/v1/accounts/{id}",
    "GET /api/v1/accounts/{id}/statuses",
    "GET /api/v1/accounts/{id}/followers",
    "GET /api/v1/accounts/relationships",
    "GET /api/v1/accounts/lookup",
    "GET /api/v1/statuses/{id}",
    "GET /api/v1/statuses/{id}/context",
    "GET /api/v1/timelines/home",
    "GET /api/v1/timelines/public",
    "GET /api/v1/timelines/tag/{hashtag}",
    "GET /api/v1/notifications",
    "GET /api/v1/notifications/{id}",
    "GET /api/v1/follow_requests",
    # Not GET /api/v2/search: with 20 examples a run can miss every query that finds something
    # (seen once in CI); tests/web/mastodon/test_search.py checks what it finds.
    "POST /api/v1/statuses",
    "POST /api/v1/statuses/{id}/favourite",
    "DELETE /api/v1/statuses/{id}",
    "POST /api/v1/follow_requests/{id}/authorize",
    "POST /oauth/token",
    "GET /api/v1/statuses",
    "GET /api/v1/statuses/{id}/history",
    "GET /api/v1/statuses/{id}/source",
    "GET /api/v1/statuses/{id}/favourited_by",
    "GET /api/v1/favourites",
    "GET /api/v1/bookmarks",
    "POST /api/v1/statuses/{id}/bookmark",
    "POST /api/v1/statuses/{id}/pin",
    "PUT /api/v1/statuses/{id}",
    "GET /api/v1/accounts/search",
    "GET /api/v1/accounts/{id}/featured_tags",
    "POST /api/v1/markers",
    "POST /api/v2/media",
    "GET /api/v1/media/{id}",
    "PUT /api/v1/media/{id}",
    "GET /api/v2/notifications",
    "GET /api/v2/notifications/{group_key}",
    "GET /api/v2/notifications/{group_key}/accounts",
)


@dataclass
class Seeded:
    """What the node's database holds for the run, and the way in."""

    base_url: str
    token: str
    client_id: str
    client_secret: str
    accounts: list[str] = field(default_factory=list)  # ada, grace, alan
    requesters: list[str] = field(default_factory=list)  # accounts asking to follow ada
    statuses: list[str] = field(default_factory=list)
    deletable: list[str] = field(default_factory=list)  # ada's, for DELETE only
    notifications: list[str] = field(default_factory=list)
    group_keys: list[str] = field(default_factory=list)  # of ada's notifications
    uploads: list[str] = field(default_factory=list)  # ada's media, attached to nothing
    favourited: list[str] = field(default_factory=list)  # statuses someone favourited
    reblogged: list[str] = field(default_factory=list)  # statuses someone boosted


# --- the node --------------------------------------------------------------------------------


async def _seed(config: Config) -> Seeded:
    engine = create_engine(config.database.url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await ensure_demo(session, config)
            seeded = await _token(session, config)
            await _social(session, config, seeded)
        return seeded
    finally:
        await engine.dispose()


async def _token(session: AsyncSession, config: Config) -> Seeded:
    """An app with every scope, and ada's token for it, as the OAuth flow would make them."""
    new = oauth.NewApplication(name="schemathesis", redirect_uris=(OOB,), scopes=ALL_SCOPES, website=None)
    application, secret = await oauth.register_application(session, new)
    _, user = await find_member(session, "ada")
    asked = oauth.authorization_request(
        application,
        OOB,
        response_type="code",
        scope=ALL_SCOPES,
        code_challenge=None,
        code_challenge_method=None,
    )
    code = await oauth.issue_code(session, asked, user)
    issued = await oauth.exchange_code(session, application, code, redirect_uri=OOB, code_verifier=None)
    return Seeded(config.node.base_url, issued.access_token, application.client_id, secret)


async def _social(session: AsyncSession, config: Config, seeded: Seeded) -> None:
    """Follows each way, follow requests for ada, her statuses favourited, boosted, answered."""
    ada, grace, alan = [await find_local_actor(session, name) for name in ("ada", "grace", "alan")]
    assert ada is not None and grace is not None and alan is not None
    await follows.follow(session, config, grace, ada)
    await follows.follow(session, config, ada, grace)
    await follows.follow(session, config, ada, alan)  # alan approves by hand: pending
    ada.manually_approves_followers = True
    requesters = [await add_member(session, config, NewMember(name, name.title())) for name in ("lin", "max")]
    for requester in requesters:
        await follows.follow(session, config, requester, ada)
    notes = [await _note(session, config, ada, f"Note {n} on #{HASHTAGS[n % 3]}") for n in range(3)]
    seeded.deletable = [str((await _note(session, config, ada, f"To delete {n}")).id) for n in range(3)]
    await _note(session, config, grace, "Only for my followers", visibility="followers")
    await posts.react(session, config, grace, notes[0], "like")
    await posts.react(session, config, grace, notes[1], "announce")
    await _note(session, config, grace, "A reply", in_reply_to=notes[0].uri)
    liked = await _note(session, config, grace, "Worth keeping")
    await posts.react(session, config, ada, liked, "like")
    await bookmarks.bookmark(session, ada, liked)
    seeded.favourited = [str(notes[0].id), str(liked.id)]
    seeded.reblogged = [str(notes[1].id)]
    uploads = [await media.add(session, ada, await media.prepare(config, PICTURE)) for _ in range(2)]
    seeded.uploads = [str(upload.id) for upload in uploads]
    seeded.accounts = [str(actor.id) for actor in (ada, grace, alan)]
    seeded.requesters = [str(requester.id) for requester in requesters]


async def _note(session: AsyncSession, config: Config, author: Actor, text: str, **fields: Any) -> Object:
    return await posts.publish(session, config, author, Draft(kind="note", body=text, **fields))


class NoHostResolves:
    """The node's fetcher's resolver for the run: every host name is unknown, so nothing leaves
    the machine (search with `resolve=true`, mentions); the hosts asked for are kept."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        raise httpcore.ConnectError(f"tests do not leave the machine: {host} is not resolved")


@contextmanager
def listening_port() -> Iterator[socket.socket]:
    """A port of 127.0.0.1 held from the start: one only looked up (bound, then let go) may be
    taken before the node binds it, by another test's server or by an outgoing connection of
    this one (seeding's own connections to PostgreSQL draw from the same ephemeral ports), and
    then the node does not start."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held


@contextmanager
def serving(app: Starlette, held: socket.socket) -> Iterator[None]:
    """uvicorn in a thread of its own, on the port held (the app's lifespan opens and closes
    its database)."""
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [held]}, name="fuzzed-node", daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        while not server.started and thread.is_alive() and time.monotonic() - started < 30:
            time.sleep(0.01)
        assert server.started, "the node did not start"
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _harvest(seeded: Seeded, resolver: NoHostResolves) -> None:
    """Ids the node gives out: statuses everyone may read, ada's notifications. And a lookup
    elsewhere, to see that it reaches the stand-in resolver."""
    auth = {"Authorization": f"Bearer {seeded.token}"}
    with httpx.Client(base_url=seeded.base_url, headers=auth) as client:
        public = client.get("/api/v1/timelines/public").json()
        notifications = client.get("/api/v1/notifications").json()
        elsewhere = {"q": "@someone@elsewhere.example", "resolve": "true", "type": "accounts"}
        assert client.get("/api/v2/search", params=elsewhere).json()["accounts"] == []
    assert "elsewhere.example" in resolver.asked
    seeded.statuses = [item["id"] for item in public if item["id"] not in seeded.deletable]
    seeded.notifications = [item["id"] for item in notifications]
    seeded.group_keys = list(dict.fromkeys(item["group_key"] for item in notifications))
    assert seeded.statuses and len(seeded.notifications) >= 5, (public, notifications)


@pytest.fixture
def node(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Seeded]:
    with listening_port() as held:
        port = held.getsockname()[1]
        where = {"node.domain": f"127.0.0.1:{port}", "node.base_url": f"http://127.0.0.1:{port}"}
        config = load_config(write_config(tmp_path, db_url, **where), environ={})
        seeded = asyncio.run(_seed(config))
        resolver = NoHostResolves()
        monkeypatch.setattr(fetcher, "system_resolver", resolver)
        with serving(create_app(config, run_workers=False), held):
            _harvest(seeded, resolver)
            yield seeded


# --- schemathesis ----------------------------------------------------------------------------


def _path_ids(seeded: Seeded, method: str, path: str) -> list[str]:
    """Ids of seeded records for an operation's `{id}` (or `{hashtag}`), if it has one."""
    by_operation = {
        ("DELETE", "/api/v1/statuses/{id}"): seeded.deletable,
        ("PUT", "/api/v1/statuses/{id}"): seeded.deletable,  # edits would change what others read
        ("POST", "/api/v1/follow_requests/{id}/authorize"): seeded.requesters[:1],
        ("POST", "/api/v1/follow_requests/{id}/reject"): seeded.requesters[1:],
        # who favourited or boosted: statuses that have some, so the answers are not all empty
        ("GET", "/api/v1/statuses/{id}/favourited_by"): seeded.favourited,
        ("GET", "/api/v1/statuses/{id}/reblogged_by"): seeded.reblogged,
    }
    by_prefix = {
        "/api/v1/statuses/{id}": seeded.statuses,
        "/api/v1/accounts/{id}": seeded.accounts,
        "/api/v1/notifications/{id}": seeded.notifications,
        "/api/v2/notifications/{group_key}": seeded.group_keys,
        "/api/v1/media/{id}": seeded.uploads,
        "/api/v1/featured_tags/{id}": list(ADA_SKILLS),
        "/api/v1/timelines/tag/{hashtag}": list(HASHTAGS),
    }
    if (method, path) in by_operation:
        return by_operation[method, path]
    return next((ids for prefix, ids in by_prefix.items() if path.startswith(prefix)), [])


def _parameter_seeds(seeded: Seeded, label: str) -> dict[str, Any]:
    """Query or body parameters that name seeded records (or the app), by operation."""
    credentials = {"client_id": seeded.client_id, "client_secret": seeded.client_secret}
    markers = {
        "home[last_read_id]": seeded.statuses[0],
        "notifications[last_read_id]": seeded.notifications[0],
    }
    return {
        "GET /oauth/authorize": {"client_id": seeded.client_id, "redirect_uri": OOB},
        "POST /oauth/token": {**credentials, "grant_type": "client_credentials", "scope": "read"},
        "POST /oauth/revoke": credentials,
        "GET /api/v1/accounts/lookup": {"acct": "grace"},
        "GET /api/v1/accounts/relationships": {"id[]": seeded.accounts},
        "GET /api/v1/accounts/search": {"q": "gr"},
        "GET /api/v1/notifications": {"account_id": seeded.accounts[1]},
        "GET /api/v2/notifications": {"account_id": seeded.accounts[1]},
        "GET /api/v1/statuses": {"id[]": seeded.statuses},
        "POST /api/v1/statuses": {"in_reply_to_id": seeded.statuses[0]},
        "GET /api/v2/search": {"q": "speech", "account_id": seeded.accounts[0]},
        "POST /api/v1/markers": markers,
        "POST /api/v1/featured_tags": {"name": "Statistics"},
        "POST /api/v1/media": {"file": PICTURE},
        "POST /api/v2/media": {"file": PICTURE},
        "PUT /api/v1/media/{id}": {"focus": "0.5,-0.25"},
    }.get(label, {})


def _with_seeded_records(seeded: Seeded, schema: Any) -> None:
    """Half the time, what a request names is a seeded record rather than a made-up one."""

    def either(generated: Any, seeds: dict[str, Any]) -> Any:
        if not seeds or not isinstance(generated, dict):
            return st.just(generated)
        return st.sampled_from([generated, {**generated, **seeds}])

    @schema.hook
    def flatmap_path_parameters(context: Any, parameters: dict[str, Any]) -> Any:
        operation = context.operation
        ids = _path_ids(seeded, operation.method.upper(), operation.path)
        if not ids or len(parameters) != 1:
            return st.just(parameters)
        [name] = parameters
        return st.one_of(st.just(parameters), st.sampled_from(ids).map(lambda value: {name: value}))

    @schema.hook
    def flatmap_query(context: Any, query: Any) -> Any:
        return either(query, _parameter_seeds(seeded, context.operation.label))

    @schema.hook
    def flatmap_body(context: Any, body: Any) -> Any:
        return either(body, _parameter_seeds(seeded, context.operation.label))


# Run last, in this order: they take away what the other operations read.
DESTRUCTIVE = (
    "POST /api/v2/notifications/{group_key}/dismiss",
    "POST /api/v1/notifications/{id}/dismiss",
    "POST /api/v1/notifications/clear",
    "DELETE /api/v1/featured_tags/{id}",
    "DELETE /api/v1/statuses/{id}",
)


# Run first: unfavourite, unbookmark and unreblog take away the seeded favourites, bookmark and
# boost, and a block of grace hides her favourite from ada.
READ_FIRST = (
    "GET /api/v1/favourites",
    "GET /api/v1/bookmarks",
    "GET /api/v1/statuses/{id}/favourited_by",
    "GET /api/v1/statuses/{id}/reblogged_by",
)


def _in_order(operations: list[Any]) -> list[Any]:
    def place(operation: Any) -> int:
        if operation.label in READ_FIRST:
            return -1
        return 1 + DESTRUCTIVE.index(operation.label) if operation.label in DESTRUCTIVE else 0

    return sorted(operations, key=place)


@pytest.fixture
def api(node: Seeded) -> Any:
    schema = schemathesis.openapi.from_url(f"{node.base_url}/api/v1/openapi.json")
    _with_seeded_records(node, schema)
    return schema


def _fuzz(operation: Any, mode: schemathesis.GenerationMode, token: str, seen: Counter[str]) -> None:
    """Up to MAX_EXAMPLES requests to one operation in one mode; raises what the checks found.
    No shrinking: a failure is reported as found (with a curl command), at once. Derandomized,
    with no example database: the same examples every run, so CI does not fail by chance."""
    checks = NEGATIVE_CHECKS if mode.is_negative else POSITIVE_CHECKS

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def send(case: schemathesis.Case) -> None:
        response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=checks)
        if response.status_code == 200 and _has_something(response):
            seen[operation.label] += 1

    try:
        send()
    except Unsatisfiable:
        assert mode.is_negative  # nothing to send that the description does not allow


def _has_something(response: Any) -> bool:
    """A body with a record in it: not `[]`, `{}` or a search that found nothing."""
    try:
        body = response.json()
    except ValueError:  # a page, not JSON
        return False
    return any(body.values()) if isinstance(body, dict) else bool(body)


def test_the_api_answers_as_described(api: Any, node: Seeded) -> None:
    """Every operation in both modes; the failures of all are told together. (schemathesis'
    own pytest integration, `from_fixture`, does not run on pytest 9.2, hence this loop.)"""
    operations = _in_order([result.ok() for result in api.get_all_operations()])
    if ONLY:
        operations = [op for op in operations if any(word in op.label for word in ONLY)]
    failures, answered = [], Counter[str]()
    for operation in operations:
        for mode in schemathesis.GenerationMode:
            try:
                _fuzz(operation, mode, node.token, answered)
            except (Exception, FailureGroup) as exc:  # FailureGroup: several checks failed
                failures.append(f"--- {operation.label} ({mode.value})\n{exc}")
    assert not failures, "\n\n".join(failures)
    # The answers checked were not all refusals or empty lists: the seeded records were read.
    ran = {operation.label for operation in operations}
    unanswered = [label for label in ANSWERED if label in ran and answered[label] == 0]
    assert not unanswered, f"never answered 200 with something to check: {unanswered}"
