"""Home timeline latency: what a Mastodon app polls most, on SQLite and on PostgreSQL.

A member follows 1,000 accounts; the database holds 100,000 posts, a third of them by accounts
she does not follow (so the query must filter, not just read the newest rows), with what a real
node's posts carry: replies, pictures, edits, content warnings, likes, the member's own likes and
bookmarks, and 20,000 reblogs by followed and other accounts alike (`--announces`), which the
home timeline interleaves with the posts (domain/timelines.py). bench/home_timeline_data.py
writes it in bulk; PostgreSQL's tables are then vacuumed and analyzed, as autovacuum would have
done by the time a node holds this much. One real `talentfed serve` per back-end answers
`GET /api/v1/timelines/home` for her app's token, over HTTP on 127.0.0.1, one request at a time
(an app polls, it does not flood):

1. reported apart: pages read while the node's first analytics run (which starts with the node
   and reads every post) is under way, until /metrics counts it done;
2. baseline: `GET /healthz` (one `SELECT 1`), measured in the same run;
3. measured: the first page (limit 20), then older pages through the `Link` header's `next`.

Target: p99 <= 50 ms for the home timeline on each back-end, outside analytics runs.

    .venv/bin/python bench/bench_home_timeline.py [--posts 100000] [--followed 1000] [--requests 300]
        [--announces 20000] [--profile | --pyinstrument]

`--pyinstrument` (the bench extra) samples the node's main thread and prints its call tree by
wall time: where the event loop spends each page, which cProfile's `--profile` misreads for
coroutines.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from pathlib import Path

import home_timeline_data
import httpx
from _common import (
    BenchError,
    ServedNode,
    cpu_seconds,
    load_line,
    machine_line,
    percentile,
    postgres,
    print_profile,
    run_cli,
    run_in_temp_dir,
    sqlite_url,
    stopped_on_exit,
    throwaway_database,
    verdict,
)
from home_timeline_data import Shape
from sqlalchemy import select

from talentfed.domain import oauth
from talentfed.storage.db import create_engine, session_factory
from talentfed.storage.models import Actor, User

TARGET_P99_MS = 50.0
OOB = "urn:ietf:wg:oauth:2.0:oob"
NEXT = re.compile(r'<([^>]+)>; rel="next"')


# --- the data -------------------------------------------------------------------------------


async def populate(db_url: str, shape: Shape) -> str:
    """The data for `ada` (the demo member, home_timeline_data.py); returns her app's access token."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            ada = await session.scalar(select(Actor).where(Actor.username == "ada", Actor.local.is_(True)))
            if ada is None:
                raise BenchError("the demo member ada is missing")
            await home_timeline_data.populate(session, ada, shape)
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


def _next_page(response: httpx.Response, first_page: str) -> str:
    found = NEXT.search(response.headers.get("link", ""))
    return found.group(1) if found and response.json() else first_page


def during_startup_analytics(base_url: str, token: str, budget: float = 180.0) -> list[float]:
    """Home pages read while the node's first analytics run is under way (it starts with the
    node and reads every post): their latencies, until the run is stored or `budget` s pass."""
    auth = {"Authorization": f"Bearer {token}"}
    first_page = f"{base_url}/api/v1/timelines/home?limit=20"
    latencies: list[float] = []
    deadline = time.monotonic() + budget
    with httpx.Client(timeout=30) as client:
        url = first_page
        while _full_analytics_runs(client, base_url) == 0:
            if time.monotonic() > deadline:
                raise BenchError(f"the node's first analytics run did not end within {budget:g} s")
            for _ in range(5):
                elapsed, response = _timed_get(client, url, auth)
                latencies.append(elapsed)
                url = _next_page(response, first_page)
    return latencies


def _full_analytics_runs(client: httpx.Client, base_url: str) -> int:
    """Full analytics runs this node has finished, from its /metrics (open to loopback)."""
    text = client.get(f"{base_url}/metrics").text
    found = re.search(r'^talentfed_analytics_run_duration_seconds_count\{kind="full"\} (\S+)$', text, re.M)
    return int(float(found.group(1))) if found else 0


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
            url = _next_page(response, first_page)
    return healthz, home, seen


def server_cpu(pid: int, base_url: str, token: str, requests: int) -> tuple[float, float]:
    """The node's CPU seconds per request (its own process: PostgreSQL's are not counted) for
    `requests` GET /healthz alone, then as many home pages: a figure the machine's load does
    not inflate as it does latencies."""
    auth = {"Authorization": f"Bearer {token}"}
    first_page = f"{base_url}/api/v1/timelines/home?limit=20"
    with httpx.Client(timeout=30) as client:
        started = cpu_seconds(pid)
        for _ in range(requests):
            _timed_get(client, f"{base_url}/healthz", {})
        healthz = cpu_seconds(pid) - started
        url, started = first_page, cpu_seconds(pid)
        for _ in range(requests):
            url = _next_page(_timed_get(client, url, auth)[1], first_page)
        home = cpu_seconds(pid) - started
    return healthz / requests, home / requests


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


def run_backend(backend: str, args: argparse.Namespace, directory: Path) -> bool:
    if backend == "postgresql":
        with throwaway_database() as (database, url):
            node = ServedNode(
                backend, directory / backend, **{"database.url": url, "federation.delivery_workers": 0}
            )
            return measure_node(node, url, args, directory, database=database)
    node = ServedNode(backend, directory / backend, **{"federation.delivery_workers": 0})
    return measure_node(node, sqlite_url(node.db_path), args, directory)


def measure_node(
    node: ServedNode, url: str, args: argparse.Namespace, directory: Path, database: str | None = None
) -> bool:
    backend = node.name
    node.migrate()
    run_cli("demo", "--without-neighbourhood", cwd=node.directory)
    started = time.perf_counter()
    shape = Shape(followed=args.followed, posts=args.posts, announces=args.announces)
    token = asyncio.run(populate(url, shape))
    stored_in = time.perf_counter() - started
    if database is not None:
        # A node that holds this much has been vacuumed and has table statistics: autovacuum
        # sees to both as rows arrive. Without statistics the planner guesses, and scanned a
        # whole index for `deleted_at IS NULL` on every page.
        asyncio.run(postgres("VACUUM ANALYZE", database))
    print(
        f"{backend}: {args.posts:,} posts, {args.announces:,} reblogs, {args.followed:,} followed,"
        f" stored in {stored_in:.1f} s"
    )
    profile = directory / f"{backend}.prof"
    wrapper: tuple[str, ...] = ()
    if args.profile:
        wrapper = ("-m", "cProfile", "-o", str(profile))
    elif args.pyinstrument:
        wrapper = ("-m", "pyinstrument", "-r", "text", "--no-color", "-o", str(profile))
    with stopped_on_exit([node]):
        node.start(wrapper=wrapper)
        during = during_startup_analytics(node.base_url, token)
        met = report(backend, *measure(node.base_url, token, args.requests))
        if during:
            p50, p99 = (percentile(during, q) * 1000 for q in (50, 99))
            print(
                f"{backend}: while the first analytics run was under way (not in the target):"
                f" {len(during)} pages, p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(during) * 1000:.1f} ms"
            )
        if node.process is None:
            raise BenchError(f"node {backend} is not running")
        healthz_cpu, home_cpu = server_cpu(node.process.pid, node.base_url, token, args.requests)
        print(
            f"{backend}: the node's CPU per request: home {home_cpu * 1000:.1f} ms,"
            f" baseline GET /healthz {healthz_cpu * 1000:.1f} ms"
        )
    if args.profile:
        print_profile(profile, limit=40)
    elif args.pyinstrument:
        print(profile.read_text())
    return met


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
    parser.add_argument("--announces", type=int, default=20_000, help="reblogs among the posts")
    parser.add_argument(
        "--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument(
        "--profile", action="store_true", help="run the server under cProfile and print where time goes"
    )
    parser.add_argument(
        "--pyinstrument", action="store_true", help="run the server under pyinstrument (the bench extra)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return run_in_temp_dir("talentfed-home-", parser.parse_args(), run)


if __name__ == "__main__":
    sys.exit(main())
