"""Home timeline latency: what a Mastodon app polls most, on SQLite and on PostgreSQL.

A member follows 1,000 accounts; the database holds 100,000 posts, a third of them by accounts
she does not follow (so the query must filter, not just read the newest rows). With
`--announces N`, N reblogs are spread among the posts as they would have arrived, by followed
and other accounts alike, of posts she may or may not read: the home timeline interleaves those
of the accounts she follows (domain/timelines.py). One real
`talentfed serve` per back-end answers `GET /api/v1/timelines/home` for her app's token, over
HTTP on 127.0.0.1, one request at a time (an app polls, it does not flood):

1. baseline: `GET /healthz` (one `SELECT 1`), measured in the same run;
2. measured: the first page (limit 20), then older pages through the `Link` header's `next`.

Target: p99 <= 50 ms for the home timeline on each back-end.

    .venv/bin/python bench/bench_home_timeline.py [--posts 100000] [--followed 1000] [--requests 300]
        [--announces 0] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
from _common import (
    LOOPBACK,
    BenchError,
    ServedNode,
    load_line,
    machine_line,
    percentile,
    print_profile,
    run_cli,
    run_in_temp_dir,
    sqlite_url,
    stopped_on_exit,
    verdict,
)
from sqlalchemy import insert, select

from talentfed.domain import oauth
from talentfed.storage.db import create_engine, session_factory
from talentfed.storage.models import Actor, Follow, Interaction, Object, User, utcnow

TARGET_P99_MS = 50.0
BATCH = 5_000
PG_ADMIN = f"postgresql://postgres@{LOOPBACK}:5432/test"
OOB = "urn:ietf:wg:oauth:2.0:oob"
NEXT = re.compile(r'<([^>]+)>; rel="next"')


# --- the data -------------------------------------------------------------------------------


def _remote_actor_rows(count: int) -> list[dict[str, object]]:
    return [
        {
            "uri": f"https://peer{i % 50}.example/users/u{i}",
            "type": "Person",
            "username": f"u{i}",
            "domain": f"peer{i % 50}.example",
            "local": False,
            "inbox_url": f"https://peer{i % 50}.example/users/u{i}/inbox",
            "skills": [],
            "fields": [],
        }
        for i in range(count)
    ]


def _post_rows(author_ids: list[int], count: int) -> list[dict[str, object]]:
    start = utcnow() - timedelta(days=365)
    return [
        {
            "uri": f"https://bench.example/objects/{i}",
            "type": "Note",
            "kind": "note",
            "author_id": author_ids[i % len(author_ids)],
            "local": False,
            "content": f"<p>post {i}</p>",
            "visibility": "public" if i % 10 else "followers",
            "tags": [],
            "skills": [],
            "extra": {},
            "published": start + timedelta(seconds=300 * i),
        }
        for i in range(count)
    ]


def _announce_rows(actor_ids: list[int], post_ids: list[int], count: int) -> list[dict[str, object]]:
    """Reblogs spread evenly among the posts: each of a post stored a little before it, placed
    where it arrived (`after_post_id`, which a bulk insert must give: its default would be the
    newest post's id for all of them)."""
    start = utcnow() - timedelta(days=365)
    rows = []
    for i in range(count):
        at = (i + 1) * len(post_ids) // (count + 1)
        rows.append(
            {
                "kind": "announce",
                "actor_id": actor_ids[(i * 7) % len(actor_ids)],
                "object_id": post_ids[max(0, at - 1 - i % 50)],
                "target_actor_id": None,
                "after_post_id": post_ids[at],
                "created_at": start + timedelta(seconds=300 * at + 1),
            }
        )
    return rows


async def populate(db_url: str, *, followed: int, posts: int, announces: int = 0) -> str:
    """Actors, follows and posts for `ada` (the demo member); returns her app's access token."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            ada = await session.scalar(select(Actor).where(Actor.username == "ada", Actor.local.is_(True)))
            if ada is None:
                raise BenchError("the demo member ada is missing")
            await session.execute(insert(Actor), _remote_actor_rows(followed * 3))
            others = list(
                await session.scalars(select(Actor.id).where(Actor.local.is_(False)).order_by(Actor.id))
            )
            follows = [
                {"follower_id": ada.id, "followed_id": actor_id, "state": "accepted", "accepted_at": utcnow()}
                for actor_id in others[:followed]
            ]
            await session.execute(insert(Follow), follows)
            rows = _post_rows(others, posts)
            for offset in range(0, len(rows), BATCH):
                await session.execute(insert(Object), rows[offset : offset + BATCH])
            if announces:
                post_ids = list(await session.scalars(select(Object.id).order_by(Object.id)))
                boosts = _announce_rows(others, post_ids, announces)
                for offset in range(0, len(boosts), BATCH):
                    await session.execute(insert(Interaction), boosts[offset : offset + BATCH])
            return await _token(session, ada)
    finally:
        await engine.dispose()


async def _token(session: object, ada: Actor) -> str:
    from sqlalchemy.ext.asyncio import AsyncSession

    assert isinstance(session, AsyncSession)
    user = await session.scalar(select(User).where(User.actor_id == ada.id))
    if user is None:
        raise BenchError("ada has no login")
    app, _secret = await oauth.register_application(
        session, oauth.NewApplication(name="bench", redirect_uris=(OOB,), scopes="read")
    )
    request = oauth.authorization_request(
        app, OOB, response_type="code", scope="read", code_challenge=None, code_challenge_method=None
    )
    code = await oauth.issue_code(session, request, user)
    issued = await oauth.exchange_code(session, app, code, redirect_uri=OOB, code_verifier=None)
    return issued.access_token


# --- the measurement ------------------------------------------------------------------------


def _timed_get(client: httpx.Client, url: str, headers: dict[str, str]) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise BenchError(f"GET {url}: {response.status_code} {response.text[:200]}")
    return elapsed, response


def measure(base_url: str, token: str, requests: int) -> tuple[list[float], list[float], int]:
    """(healthz latencies, home latencies, statuses seen); pages follow `next`, then start over."""
    auth = {"Authorization": f"Bearer {token}"}
    first_page = f"{base_url}/api/v1/timelines/home?limit=20"
    healthz, home, seen = [], [], 0
    with httpx.Client(timeout=30) as client:
        for _ in range(20):  # warm up: connections, caches, the planner
            _timed_get(client, first_page, auth)
        url = first_page
        for _ in range(requests):
            healthz.append(_timed_get(client, f"{base_url}/healthz", {})[0])
            elapsed, response = _timed_get(client, url, auth)
            home.append(elapsed)
            seen += len(response.json())
            found = NEXT.search(response.headers.get("link", ""))
            url = found.group(1) if found and response.json() else first_page
    return healthz, home, seen


def report(backend: str, healthz: list[float], home: list[float], seen: int) -> bool:
    h50, h99 = (percentile(healthz, q) * 1000 for q in (50, 99))
    p50, p99 = (percentile(home, q) * 1000 for q in (50, 99))
    met = p99 <= TARGET_P99_MS
    print(f"{backend}: home timeline p50 {p50:.1f} ms, p99 {p99:.1f} ms; {len(home)} pages, {seen} statuses")
    print(f"{backend}: baseline GET /healthz p50 {h50:.1f} ms, p99 {h99:.1f} ms")
    print(f"{backend}: home / baseline at p50: ×{p50 / h50:.1f}")
    print(f"{backend}: target p99 <= {TARGET_P99_MS:g} ms: {verdict(met)}")
    return met


# --- the back-ends --------------------------------------------------------------------------


async def _pg(statement: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def run_backend(backend: str, args: argparse.Namespace, directory: Path) -> bool:
    database = f"talentfed_bench_{uuid.uuid4().hex[:10]}"
    node = ServedNode(backend, directory / backend, **{"federation.delivery_workers": 0})
    if backend == "postgresql":
        asyncio.run(_pg(f'CREATE DATABASE "{database}"'))
        url = f"postgresql+asyncpg://postgres@{LOOPBACK}:5432/{database}"
        node = ServedNode(
            backend, directory / backend, **{"database.url": url, "federation.delivery_workers": 0}
        )
    else:
        url = sqlite_url(node.db_path)
    try:
        node.migrate()
        run_cli("demo", cwd=node.directory)
        started = time.perf_counter()
        token = asyncio.run(populate(url, followed=args.followed, posts=args.posts, announces=args.announces))
        stored_in = time.perf_counter() - started
        print(
            f"{backend}: {args.posts:,} posts, {args.announces:,} reblogs, {args.followed:,} followed,"
            f" stored in {stored_in:.1f} s"
        )
        profile = directory / f"{backend}.prof"
        wrapper = ("-m", "cProfile", "-o", str(profile)) if args.profile else ()
        with stopped_on_exit([node]):
            node.start(wrapper=wrapper)
            met = report(backend, *measure(node.base_url, token, args.requests))
        if args.profile:
            print_profile(profile, limit=40)
        return met
    finally:
        if backend == "postgresql":
            asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def run(args: argparse.Namespace, directory: Path) -> int:
    print(machine_line())
    print(f"load at start: {args.load_at_start}")
    results = [run_backend(backend, args, directory) for backend in args.backends]
    print(f"load at end: {load_line()}")
    return 0 if all(results) else 2


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--followed", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--announces", type=int, default=0, help="reblogs among the posts")
    parser.add_argument(
        "--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument(
        "--profile", action="store_true", help="run the server under cProfile and print where time goes"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return run_in_temp_dir("talentfed-home-", parser.parse_args(), run)


if __name__ == "__main__":
    sys.exit(main())
