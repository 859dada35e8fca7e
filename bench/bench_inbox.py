"""Inbox throughput: signed activities verified and stored per second by one `talentfed serve`.

Two real nodes run on 127.0.0.1, each `talentfed serve` on its own SQLite file:
the *receiver* (measured) and the *sender*, whose members sign the activities and
serve the actor documents the receiver fetches their keys from. A separate process
(a `multiprocessing` child with a bare HTTP/1.1 client and keep-alive connections) then POSTs,
to the receiver's shared inbox:

1. baseline: the same bodies, unsigned: refused with 401 after the JSON and block
   checks, so this is the bare HTTP + routing + parsing path;
2. reference: GET /healthz (one `SELECT 1`);
3. measured: N distinct `Create(Note)` activities, pre-signed (draft-cavage, as
   Mastodon signs), each verified and stored with a 202.

Then the receiver's database must hold every measured activity exactly once.
Target: >= 500 verified-and-stored activities per second on this machine.

Throughput is a capacity: it is measured with enough requests in flight to keep the node
busy (32 connections by default, as when many servers deliver at once). Each connection
waits for its answer before it sends again, so with a handful of connections the figure is
bounded by latency rather than by the node; `--concurrency 8` shows that case.

    .venv/bin/python bench/bench_inbox.py [--count 5000] [--concurrency 32] [--profile out.prof]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import sqlite3
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from pathlib import Path

import httpx
from _common import (
    BenchError,
    ServedNode,
    load_line,
    machine_line,
    percentile,
    print_profile,
    run_in_temp_dir,
    stopped_on_exit,
    verdict,
)

TARGET_PER_SECOND = 500.0
PHASE_BUDGET = 150.0  # seconds; a phase stops by itself after this, finished or not
CLIENT_TIMEOUT = 600.0  # seconds the parent waits for the client process in all
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@dataclass(frozen=True)
class SenderKey:
    actor_uri: str
    key_id: str
    private_pem: str


@dataclass(frozen=True)
class ClientPlan:
    inbox_url: str
    healthz_url: str
    senders: list[SenderKey]
    count: int
    concurrency: int
    id_prefix: str  # every measured activity id starts with this


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None = None


@dataclass
class PhaseResult:
    name: str
    sent: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, one per answered request
    statuses: Counter[int] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)  # a few unexpected answers, for the report
    presign_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        p50, p99 = (percentile(self.latencies, q) * 1000 for q in (50, 99))
        statuses = ", ".join(f"{status}x{n}" for status, n in sorted(self.statuses.items()))
        return (
            f"{self.name:<34} {len(self.latencies):>6} req in {self.seconds:7.2f} s = "
            f"{self.rate:8.1f}/s   p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   [{statuses}]"
        )


# --- the client (runs in its own process) ------------------------------------------------


def activity(index: int, sender: SenderKey, prefix: str) -> dict:
    """A Create of a Note that lives on the sender's host, as the origin check requires."""
    host = sender.actor_uri.rsplit("/users/", 1)[0]
    published = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{prefix}{index}",
        "type": "Create",
        "actor": sender.actor_uri,
        "published": published,
        "to": [PUBLIC],
        "cc": [f"{sender.actor_uri}/followers"],
        "object": {
            "id": f"{host}/objects/{prefix.rsplit('/', 1)[-1]}{index}",
            "type": "Note",
            "attributedTo": sender.actor_uri,
            "content": f"<p>Benchmark note {index}: looking for collaborators on graph learning.</p>",
            "published": published,
            "to": [PUBLIC],
            "cc": [f"{sender.actor_uri}/followers"],
        },
    }


def signed_requests(plan: ClientPlan, prefix: str, count: int) -> list[Request]:
    """Sign up front with loaded keys, so the client's signing is not part of what we measure."""
    from talentfed.federation.signatures import load_private_key, sign_request

    keys = [load_private_key(sender.private_pem) for sender in plan.senders]
    requests = []
    for index in range(count):
        slot = index % len(plan.senders)
        body = json.dumps(activity(index, plan.senders[slot], prefix)).encode()
        headers = {"Content-Type": "application/activity+json"}
        headers.update(
            sign_request(
                "POST",
                plan.inbox_url,
                headers,
                body,
                key_id=plan.senders[slot].key_id,
                private_key_pem=keys[slot],
            )
        )
        requests.append(Request("POST", plan.inbox_url, headers, body))
    return requests


def unsigned(requests: list[Request]) -> list[Request]:
    return [Request(r.method, r.url, {"Content-Type": "application/activity+json"}, r.body) for r in requests]


class Connection:
    """A bare HTTP/1.1 keep-alive connection for the load generator.

    httpx costs the client process about a millisecond of CPU per request, and on a 2-core
    machine the client shares the cores with the node: it would measure itself. This client
    writes pre-encoded requests and reads status, headers and a Content-Length or chunked
    body, nothing else.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, wire: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(wire)
        reader = self.reader
        status_line = await reader.readline()
        if not status_line:
            raise BenchError("the server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked, close = 0, False, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = value == b"chunked"
            elif name == b"connection":
                close = value == b"close"
        body = await self._chunked() if chunked else await reader.readexactly(length)
        if close:
            await self.close()
        return status, body

    async def _chunked(self) -> bytes:
        parts = []
        while size := int((await self.reader.readline()).split(b";")[0], 16):
            parts.append(await self.reader.readexactly(size))
            await self.reader.readline()
        await self.reader.readline()
        return b"".join(parts)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


def encode(request: Request) -> bytes:
    url = httpx.URL(request.url)
    target = url.raw_path.decode()
    lines = [f"{request.method} {target} HTTP/1.1", f"Host: {url.netloc.decode()}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items() if name.lower() != "host"]
    body = request.body or b""
    if request.body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def run_phase(
    address: tuple[str, int], name: str, requests: list[Request], concurrency: int, expect: int
) -> PhaseResult:
    """Send `requests` over `concurrency` connections; stops by itself after PHASE_BUDGET."""
    result = PhaseResult(name)
    pending = iter([encode(request) for request in requests])
    deadline = time.monotonic() + PHASE_BUDGET

    async def connection() -> None:
        http = Connection(*address)
        try:
            for wire in pending:  # a shared iterator: each request is taken exactly once
                if time.monotonic() > deadline:
                    return
                result.sent += 1
                started = time.perf_counter()
                status, body = await http.request(wire)
                result.latencies.append(time.perf_counter() - started)
                result.statuses[status] += 1
                if (status != expect or b"duplicate" in body) and len(result.examples) < 5:
                    result.examples.append(f"{status} {body[:200].decode(errors='replace')}")
        finally:
            await http.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


async def client_phases(plan: ClientPlan) -> list[PhaseResult]:
    started = time.perf_counter()
    measured = signed_requests(plan, plan.id_prefix, plan.count)
    presign = time.perf_counter() - started
    # One activity per sender first: the receiver fetches each sender's key once, unmeasured.
    warmup = signed_requests(plan, plan.id_prefix.replace("bench-", "warmup-"), len(plan.senders))
    healthz = [Request("GET", plan.healthz_url, {})] * plan.count
    inbox = httpx.URL(plan.inbox_url)
    address = (inbox.host, inbox.port or 80)
    warm = await run_phase(address, "warm-up (key fetches)", warmup, 1, 202)
    await run_phase(address, "warm-up (connections)", unsigned(measured[:200]), plan.concurrency, 401)
    baseline = await run_phase(
        address, "baseline: unsigned POST -> 401", unsigned(measured), plan.concurrency, 401
    )
    health = await run_phase(address, "reference: GET /healthz", healthz, plan.concurrency, 200)
    signed = await run_phase(address, "measured: signed POST -> 202", measured, plan.concurrency, 202)
    signed.presign_seconds = presign
    return [warm, baseline, health, signed]


def client_main(connection: Pipe, plan: ClientPlan) -> None:
    """Entry point of the client process: run the phases, send the results back."""
    try:
        connection.send(("ok", asyncio.run(client_phases(plan))))
    except BaseException as exc:
        connection.send(("error", f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        connection.close()


def run_client(plan: ClientPlan) -> list[PhaseResult]:
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=client_main, args=(sending, plan), name="bench-inbox-client")
    process.start()
    sending.close()
    try:
        if not receiving.poll(CLIENT_TIMEOUT):
            raise BenchError(f"the client process gave no answer within {CLIENT_TIMEOUT:g} s")
        kind, payload = receiving.recv()
    except EOFError:
        raise BenchError("the client process died without an answer") from None
    finally:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()
    if kind != "ok":
        raise BenchError(f"the client process failed: {payload}")
    return payload


# --- the nodes ---------------------------------------------------------------------------


async def create_senders(node: ServedNode, count: int) -> list[SenderKey]:
    """Members of the sender node, with their keys read back from its database."""
    from sqlalchemy import select

    from talentfed.config import load_config
    from talentfed.domain.members import NewMember, add_member
    from talentfed.storage.db import create_engine, session_factory
    from talentfed.storage.models import Actor

    config = load_config(node.config_path)
    engine = create_engine(config.database.url)
    try:
        names = [f"sender{index}" for index in range(count)]
        async with session_factory(engine)() as session, session.begin():
            for name in names:
                await add_member(session, config, NewMember(username=name, display_name=name.title()))
        async with session_factory(engine)() as session:
            rows = await session.execute(
                select(Actor.uri, Actor.public_key_id, Actor.private_key_pem).where(
                    Actor.local.is_(True), Actor.username.in_(names)
                )
            )
            return [SenderKey(uri, key_id, pem) for uri, key_id, pem in rows]
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Stored:
    rows: int  # received activities with a measured id
    distinct: int  # distinct ids among them
    posts: int  # their Notes, stored as posts by the Create handler


def stored_counts(db_path: Path, prefix: str) -> Stored:
    """What the receiver's database holds of the measured activities (read after it stopped)."""
    post_prefix = prefix.replace("/activities/", "/objects/")
    # sqlite3's own context manager commits but never closes; closing() does.
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as db:
        rows, distinct = db.execute(
            "SELECT count(*), count(DISTINCT uri) FROM activities WHERE local = 0 AND uri LIKE ? || '%'",
            (prefix,),
        ).fetchone()
        (posts,) = db.execute(
            "SELECT count(*) FROM objects WHERE uri LIKE ? || '%'", (post_prefix,)
        ).fetchone()
    return Stored(rows, distinct, posts)


# --- the run -----------------------------------------------------------------------------


def run(args: argparse.Namespace, tmp: Path) -> int:
    receiver = ServedNode("receiver", tmp / "receiver")
    sender = ServedNode("sender", tmp / "sender")
    receiver.migrate()
    sender.migrate()
    senders = asyncio.run(create_senders(sender, args.senders))
    run_id = uuid.uuid4().hex[:8]
    plan = ClientPlan(
        inbox_url=f"{receiver.base_url}/inbox",
        healthz_url=f"{receiver.base_url}/healthz",
        senders=senders,
        count=args.count,
        concurrency=args.concurrency,
        id_prefix=f"{sender.base_url}/activities/bench-{run_id}-",
    )
    wrapper = ("-m", "cProfile", "-o", str(args.profile.resolve())) if args.profile else ()
    with stopped_on_exit([receiver, sender]):
        sender.start()
        receiver.start(wrapper=wrapper)
        phases = run_client(plan)
    stored = stored_counts(receiver.db_path, plan.id_prefix)
    report(args, phases, stored)
    if args.profile:
        print_profile(args.profile)
    return check(phases, stored)


def report(args: argparse.Namespace, phases: list[PhaseResult], stored: Stored) -> None:
    warm, baseline, health, signed = phases
    print(
        f"== inbox throughput: {args.count} signed Create(Note) activities from {args.senders} remote actors"
    )
    print(machine_line())
    print(f"at the start: {args.load_at_start}")
    print(
        f"client: separate process, bare HTTP/1.1, {args.concurrency} keep-alive connections; "
        "server: talentfed serve"
    )
    print(f"pre-signing {args.count} activities in the client: {signed.presign_seconds:.2f} s (not measured)")
    for phase in (warm, baseline, health, signed):
        print(phase.line())
    print(
        f"stored in the receiver's database: {stored.rows} activities, {stored.distinct} distinct ids, "
        f"{stored.posts} posts (expected {args.count} each)"
    )
    if baseline.rate and signed.rate:
        ratio = signed.rate / baseline.rate
        p50_ratio = percentile(signed.latencies, 50) / percentile(baseline.latencies, 50)
        print(
            f"ratio vs baseline (unsigned POST -> 401): throughput x{ratio:.2f} "
            f"(verify+store adds {1 / signed.rate * 1000 - 1 / baseline.rate * 1000:.2f} ms per activity "
            f"to the node's time per request), p50 latency x{p50_ratio:.2f}"
        )
    print(f"at the end: {load_line()}")
    complete = len(signed.latencies) == args.count
    if not complete:
        print(f"only {len(signed.latencies)} of {args.count} activities were sent within {PHASE_BUDGET:g} s")
    met = signed.rate >= TARGET_PER_SECOND and complete
    print(f"verified-and-stored: {signed.rate:.1f}/s, target >= {TARGET_PER_SECOND:g}/s: {verdict(met)}")


def check(phases: list[PhaseResult], stored: Stored) -> int:
    """A wrong answer or a lost/duplicated activity means the benchmark did not run properly.

    Slowness is not a failure: an unfinished phase is reported as a missed target above.
    """
    warm, baseline, _, signed = phases
    problems = []
    for phase, expected in ((warm, 202), (baseline, 401), (signed, 202)):
        if set(phase.statuses) - {expected} or phase.examples:
            problems.append(f"{phase.name}: unexpected answers, e.g. {phase.examples[:3]}")
    answered = signed.statuses.get(202, 0)
    if stored.rows != answered or stored.distinct != answered:
        problems.append(
            f"{answered} activities were accepted but {stored.rows} rows / {stored.distinct} ids were stored"
        )
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=5000, help="measured activities (default 5000)")
    parser.add_argument("--concurrency", type=int, default=32, help="client connections (default 32)")
    parser.add_argument("--senders", type=int, default=4, help="remote actors signing (default 4)")
    parser.add_argument("--profile", type=Path, help="run the receiver under cProfile, write stats here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (for its logs)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return run_in_temp_dir("talentfed-bench-inbox-", parse_args(argv), run)


if __name__ == "__main__":
    sys.exit(main())
