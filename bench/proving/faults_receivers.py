"""Receivers that misbehave: one post delivered to healthy hosts and to four that do not answer
as they should: one answers after 30 s, one resets the connection, one answers 500 and one 429
with Retry-After. The healthy hosts must not wait for the others; the faulty ones are retried
no sooner than the retry policy allows (backoff, Retry-After honoured), and nothing is stuck."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from _common import LOOPBACK, ServedNode, run_cli
from bench_fanout import HostPlan

from proving.harness import Report, queue_to_followers, seconds, sqlite_rows

SLOW_ANSWER = 30.0  # seconds the slow host takes
REQUEST_TIMEOUT = 10.0  # the node's: the slow host's POSTs are cut off here
RETRY_AFTER = 20  # seconds the 429 host asks for
BASE_DELAY = 2.0  # the node's retry_initial_delay here (30 s by default)
FAULTS = ("slow", "reset", "error500", "busy429")


@dataclass(frozen=True)
class Size:
    healthy: int
    window: float  # seconds the faulty hosts are watched after the node starts


FULL = Size(healthy=50, window=75)
QUICK = Size(healthy=10, window=45)


@dataclass
class Hosts:
    """What each host saw: the moment of every POST."""

    posts: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    writers: set[asyncio.StreamWriter] = field(default_factory=set)

    async def serve(self, kind: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        # Cancelled too: at the end of the scenario, the slow host may still be "thinking".
        with contextlib.suppress(
            asyncio.IncompleteReadError, ConnectionError, ValueError, asyncio.CancelledError
        ):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                port = writer.get_extra_info("sockname")[1]
                self.posts[f"{LOOPBACK}:{port}"].append(time.monotonic())
                if not await self._answer(kind, writer):
                    break
        self.writers.discard(writer)
        writer.transport.abort()

    async def _answer(self, kind: str, writer: asyncio.StreamWriter) -> bool:
        """Answer as `kind` does; whether the connection stays open."""
        if kind == "reset":
            return False  # closed under the client's feet, no answer
        if kind == "slow":
            await asyncio.sleep(SLOW_ANSWER)
        status = {"error500": b"500 Internal Server Error", "busy429": b"429 Too Many Requests"}.get(
            kind, b"202 Accepted"
        )
        extra = b"Retry-After: %d\r\n" % RETRY_AFTER if kind == "busy429" else b""
        writer.write(b"HTTP/1.1 %s\r\n%sContent-Length: 0\r\n\r\n" % (status, extra))
        await writer.drain()
        return True


def run(size: Size, tmp: Path, report: Report) -> None:
    report.start(
        "faults_receivers",
        f"one post to {size.healthy} healthy hosts and to hosts that answer after {SLOW_ANSWER:g} s, "
        f"reset the connection, answer 500, answer 429 with Retry-After: {RETRY_AFTER}",
    )
    asyncio.run(_run(size, tmp, report))


async def _run(size: Size, tmp: Path, report: Report) -> None:
    hosts = Hosts()
    kinds = ["healthy"] * size.healthy + list(FAULTS)
    servers = [
        await asyncio.start_server(lambda r, w, k=kind: hosts.serve(k, r, w), LOOPBACK, 0) for kind in kinds
    ]
    ports = [server.sockets[0].getsockname()[1] for server in servers]
    netloc = {
        kind: f"{LOOPBACK}:{port}" for kind, port in zip(kinds, ports, strict=True) if kind != "healthy"
    }
    healthy = {f"{LOOPBACK}:{port}" for kind, port in zip(kinds, ports, strict=True) if kind == "healthy"}
    node = ServedNode(
        "faulty",
        tmp / "node",
        **{"federation.request_timeout": REQUEST_TIMEOUT, "federation.retry_initial_delay": BASE_DELAY},
    )
    try:
        await asyncio.to_thread(node.migrate)
        await asyncio.to_thread(
            run_cli, "user", "add", "author", "--display-name", "Author", cwd=node.directory
        )
        await queue_to_followers(node, HostPlan.make(len(kinds), 1, dead_fraction=0.0), ports)
        started = time.monotonic()
        await asyncio.to_thread(node.start, timeout=90)
        await asyncio.sleep(size.window)
        await asyncio.to_thread(node.stop)
    finally:
        await asyncio.to_thread(node.kill)
        for server in servers:
            server.close()
        for writer in list(hosts.writers):
            writer.transport.abort()
    _judge(report, node, hosts, healthy, netloc, started, size.window)


def least_gaps(attempts: int) -> list[float]:
    """The shortest waits the retry policy allows between `attempts` POSTs of one job:
    BASE_DELAY x 2^(n-1), less the 50 % jitter."""
    return [0.5 * BASE_DELAY * 2**n for n in range(attempts - 1)]


def _judge(
    report: Report,
    node: ServedNode,
    hosts: Hosts,
    healthy: set[str],
    netloc: dict[str, str],
    started: float,
    window: float,
) -> None:
    jobs = {
        host: (state, attempts, error)
        for host, state, attempts, error in sqlite_rows(
            node.db_path, "SELECT host, state, attempts, coalesce(last_error, last_status) FROM delivery_jobs"
        )
    }
    reached = [min(hosts.posts[h]) - started for h in healthy if hosts.posts.get(h)]
    last = max(reached, default=float("inf"))
    report.check(
        "healthy hosts reached, with the faulty ones present",
        f"{len(reached)}/{len(healthy)}, the last {seconds(last)} after the node was started",
        f"all, before the slow host's {SLOW_ANSWER:g} s",
        len(reached) == len(healthy) and last < SLOW_ANSWER,
    )
    for kind in FAULTS:
        times = hosts.posts.get(netloc[kind], [])
        gaps = [b - a for a, b in itertools.pairwise(times)]
        least = [RETRY_AFTER] * len(gaps) if kind == "busy429" else least_gaps(len(times))
        state = jobs.get(netloc[kind])
        report.check(
            f"{kind}: POSTs in {window:g} s and the gaps between them",
            f"{len(times)} POSTs, gaps {', '.join(f'{g:.1f}' for g in gaps) or '-'} s; job {state}",
            "retried, never sooner than the policy allows "
            + (
                f"(Retry-After {RETRY_AFTER} s)"
                if kind == "busy429"
                else f"(>= {', '.join(f'{g:g}' for g in least[:4])} s)"
            ),
            len(times) >= 1
            and all(g >= want for g, want in zip(gaps, least, strict=False))
            and state is not None
            and state[0] == "queued",
        )
    done = sum(1 for host in healthy if jobs.get(host, ("",))[0] == "done")
    report.check("healthy hosts' jobs done", f"{done}/{len(healthy)}", "all", done == len(healthy))
