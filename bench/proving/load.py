"""Load: readers and signing senders at once for a while, against one node (`talentfed serve`,
SQLite, the demo institution): readers fetch actors, WebFinger, outboxes, profile pages and the
Discover page; senders POST signed Creates to the shared inbox. Latency p50/p99 per kind of
request, errors (any answer but 200/202, any dropped connection) and the node's RSS.

The load generator runs on the same 2 cores as the node (and whatever else the machine runs):
the figures are what one such machine does with both, not the node's capacity alone."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from _common import LOOPBACK, BenchError, ServedNode, cpu_seconds, percentile, run_cli
from bench_inbox import Connection, Request, encode

from proving.harness import Report, open_fds, rss_mib
from proving.senders import SignedSenders

AP = {"Accept": "application/activity+json"}
HTML = {"Accept": "text/html"}
MEMBERS = ("ada", "grace", "alan")  # the demo institution's
P99_TARGET = 10.0  # seconds: the node keeps answering, however loaded the machine
RSS_TARGET = 1024.0  # MiB


@dataclass(frozen=True)
class Size:
    readers: int
    senders: int
    seconds: float


FULL = Size(readers=200, senders=50, seconds=60)
QUICK = Size(readers=20, senders=5, seconds=10)


@dataclass
class Traffic:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def record(self, kind: str, began: float, status: str) -> None:
        self.latencies[kind].append(time.monotonic() - began)
        self.statuses[kind][status] += 1

    def errors(self, kind: str) -> int:
        return sum(n for status, n in self.statuses[kind].items() if status not in ("200", "202"))


async def _warm_up(address: tuple[str, int], requests: list[Request]) -> None:
    async def send(request: Request) -> None:
        http = Connection(*address)
        try:
            status, _ = await http.request(encode(request))
        finally:
            await http.close()
        if status != 202:
            raise BenchError(f"a sender's first activity was answered {status} before the load began")

    await asyncio.gather(*(send(request) for request in requests))


def reads(domain: str) -> list[tuple[str, str, dict[str, str]]]:
    """(kind, path, headers) of every read the readers make, in turn."""
    paths = []
    for name in MEMBERS:
        paths += [
            ("actor", f"/users/{name}", AP),
            ("webfinger", f"/.well-known/webfinger?resource=acct:{name}@{domain}", {}),
            ("outbox", f"/users/{name}/outbox", AP),
            ("profile", f"/@{name}", HTML),
        ]
    return [*paths, ("discover", "/discover", HTML)]


async def drive(
    node: ServedNode,
    senders: SignedSenders,
    size: Size,
    every: float = 0.0,
    sample: Callable[[], None] | None = None,
) -> Traffic:
    """`size.readers` readers and `size.senders` senders for `size.seconds`, each on a keep-alive
    connection of its own; `sample` is called every `every` seconds meanwhile (the soak's
    memory readings). The client is bench_inbox's bare HTTP/1.1 one: httpx with hundreds of
    connections took more CPU than the node and measured itself.

    Before the clock starts, each sender's first activity is sent alone and not counted: the
    node fetches the 50 senders' keys then, as it would have long before for the servers it
    hears from daily. Measured cold, those first POSTs waited for 50 actor fetches behind 200
    readers (8–11 s) and made the inbox's p99 on their own; `crash_inbox` measures new senders."""
    traffic = Traffic()
    base = node.base_url
    reads_wire = [
        (kind, encode(Request("GET", base + path, headers)))
        for kind, path, headers in reads(base.removeprefix("http://"))
    ]
    numbers = itertools.count()
    address = (LOOPBACK, node.port)
    await _warm_up(address, [senders.signed(next(numbers)) for _ in range(size.senders)])
    end = time.monotonic() + size.seconds

    async def exchange(http: Connection, kind: str, wire: bytes) -> None:
        began = time.monotonic()
        try:
            status, _ = await http.request(wire)
            traffic.record(kind, began, str(status))
        except (OSError, asyncio.IncompleteReadError, BenchError, ValueError) as exc:
            traffic.record(kind, began, type(exc).__name__)
            await http.close()  # a new connection for the next request

    async def reader(offset: int) -> None:
        http = Connection(*address)
        for turn in itertools.count(offset):
            if time.monotonic() >= end:
                break
            await exchange(http, *reads_wire[turn % len(reads_wire)])
        await http.close()

    async def sender() -> None:
        http = Connection(*address)
        while time.monotonic() < end:
            await exchange(http, "inbox", encode(senders.signed(next(numbers))))
        await http.close()

    async def sampler() -> None:
        while sample is not None and time.monotonic() < end:
            await asyncio.to_thread(sample)
            await asyncio.sleep(every)

    await asyncio.gather(
        *(reader(n) for n in range(size.readers)), *(sender() for _ in range(size.senders)), sampler()
    )
    return traffic


def start_nodes(tmp: Path, senders: int) -> tuple[ServedNode, ServedNode, SignedSenders]:
    """The measured node with the demo institution, and the sender node, both started."""
    node = ServedNode("loaded", tmp / "node")
    sender = ServedNode("sender", tmp / "sender")
    node.migrate()
    sender.migrate()
    run_cli("demo", cwd=node.directory)
    signed = SignedSenders.made(sender, node, senders)
    sender.start(timeout=90)
    node.start(timeout=90)
    return node, sender, signed


def run(size: Size, tmp: Path, report: Report) -> None:
    report.start("load", f"{size.readers} readers and {size.senders} signing senders for {size.seconds:g} s")
    node, sender, senders = start_nodes(tmp, size.senders)
    try:
        assert node.pid is not None
        rss_before = rss_mib(node.pid)
        node_cpu, own_cpu = cpu_seconds(node.pid), time.process_time()
        traffic = asyncio.run(drive(node, senders, size))
        node_cpu, own_cpu = cpu_seconds(node.pid) - node_cpu, time.process_time() - own_cpu
        rss_after, fds = rss_mib(node.pid), open_fds(node.pid)
    finally:
        node.kill()
        sender.kill()
    total = sum(len(v) for v in traffic.latencies.values())
    report.info("requests", f"{total} in {size.seconds:g} s = {total / size.seconds:.0f}/s")
    cores = os.cpu_count() or 1
    # Who had the cores: the node, this load generator (HTTP clients and RSA signing), or others.
    report.info(
        "CPU during the run",
        f"node {node_cpu:.0f} s, load generator {own_cpu:.0f} s, "
        f"of {cores * size.seconds:g} s on {cores} cores (the rest: other work on the machine, or idle)",
    )
    for kind in ("actor", "webfinger", "outbox", "profile", "discover", "inbox"):
        latencies = traffic.latencies.get(kind, [])
        p50, p99 = (percentile(latencies, q) * 1000 for q in (50, 99))
        errors = traffic.errors(kind)
        shown = ", ".join(
            f"{s} x{n}" for s, n in sorted(traffic.statuses[kind].items()) if s not in ("200", "202")
        )
        report.check(
            f"{kind}: {len(latencies)} requests, p50 {p50:.0f} ms, p99 {p99:.0f} ms, errors {errors}",
            shown or "no errors",
            f"0 errors, p99 <= {P99_TARGET:g} s",
            bool(latencies) and errors == 0 and p99 <= P99_TARGET * 1000,
        )
    report.check(
        "node RSS",
        f"{rss_before:.0f} MiB before, {rss_after:.0f} MiB after; {fds} open fds",
        f"<= {RSS_TARGET:g} MiB",
        rss_after <= RSS_TARGET,
    )
