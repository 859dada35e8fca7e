"""Fan-out: one Create delivered to 10,000 followers on 1,000 hosts by the real delivery workers.

Setup (all on 127.0.0.1):

* a light receiver, in its own process: an asyncio server on 1,000 loopback ports,
  one "host" (a distinct netloc) per port. It only checks that a Signature header is
  present (no crypto), answers 202, and counts POSTs per host in shared memory.
  5 % of the hosts are *dead*: they accept the TCP connection and never answer.
* an SQLite database seeded directly: 10 remote followers per host, half of the hosts
  advertising a sharedInbox, every follow accepted.
* the Create queued with `federation.outbox.send` (one job per shared inbox, one per
  personal inbox elsewhere: 5,500 jobs), then delivered by the node's delivery jobs (`talentfed.jobs`)
  with the node's own defaults (2 workers, dev mode so loopback is allowed).

Two runs, each on a fresh copy of the database and a fresh receiver:

1. baseline: the 950 live hosts only;
2. measured: the same 950 live hosts plus the 50 dead ones.

Reported: time until every live inbox has received the Create, POSTs received per
second, and the ratio measured/baseline (dead hosts must not slow the live ones).
Target: <= 20 s with the dead hosts present. Each run stops by itself at --deadline.

    .venv/bin/python bench/bench_fanout.py [--deadline 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import multiprocessing
import random
import resource
import shutil
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from _common import (
    LOOPBACK,
    BenchError,
    free_port,
    load_line,
    machine_line,
    percentile,
    run_cli,
    run_in_temp_dir,
    sqlite_url,
    verdict,
    write_config,
)

TARGET_SECONDS = 20.0
# Dead hosts "do not slow the live ones" when the live hosts finish within this factor of the baseline.
TARGET_RATIO = 1.25
CLOSE_TIMEOUT = 45.0  # seconds for the workers to finish their POSTs in flight after a run
SEED = 20_240_601
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
ACCEPTED = b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n"
UNAUTHORIZED = b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n"


# --- the plan: which host is shared, which is dead ---------------------------------------


@dataclass(frozen=True)
class HostPlan:
    hosts: int
    followers_per_host: int
    shared: frozenset[int]  # hosts that advertise a sharedInbox
    dead: frozenset[int]  # hosts that accept connections and never answer

    @classmethod
    def make(cls, hosts: int, followers_per_host: int, dead_fraction: float) -> HostPlan:
        """Half shared, and the dead ones drawn evenly from both halves, so job counts are exact."""
        order = list(range(hosts))
        random.Random(SEED).shuffle(order)
        shared, personal = order[: hosts // 2], order[hosts // 2 :]
        dead_each = round(hosts * dead_fraction / 2)
        return cls(
            hosts, followers_per_host, frozenset(shared), frozenset(shared[:dead_each] + personal[:dead_each])
        )

    def posts_for(self, host: int) -> int:
        """POSTs a host should get: one to its shared inbox, or one per follower's own inbox."""
        return 1 if host in self.shared else self.followers_per_host

    def included(self, with_dead: bool) -> list[int]:
        return [h for h in range(self.hosts) if with_dead or h not in self.dead]

    @property
    def live(self) -> list[int]:
        return [h for h in range(self.hosts) if h not in self.dead]


# --- the receiver (its own process) --------------------------------------------------------


@dataclass
class Counters:
    """Shared memory between the receiver (writer) and the benchmark (reader)."""

    expected: Any  # Array('i'): POSTs each host should get; written by the benchmark
    received: Any  # Array('i'): signed POSTs received per host
    completed_at: Any  # Array('d'): time.monotonic() when a host received its last expected POST
    dead_connections: Any  # Array('i'): connections accepted by each dead host
    duplicates: Any  # Value('i'): POSTs to an inbox that had already received one
    unsigned: Any  # Value('i'): POSTs without a Signature header (answered 401)
    stray: Any  # Value('i'): anything but a POST, i.e. not from talentfed (answered 401)

    @classmethod
    def create(cls, context: Any, hosts: int) -> Counters:
        arrays = [context.Array(kind, hosts, lock=False) for kind in ("i", "i", "d", "i")]
        values = [context.Value("i", 0, lock=False) for _ in range(3)]
        return cls(*arrays, *values)


class Receiver:
    """Serves every host; HTTP/1.1 keep-alive, just enough parsing to count correctly."""

    def __init__(self, counters: Counters, notes: Path) -> None:
        self.counters = counters
        self.notes = notes  # request lines of refused requests, for the report
        self.seen: set[tuple[int, bytes]] = set()
        self.open: set[asyncio.StreamWriter] = set()

    def close_all(self) -> None:
        """Abort every open connection: each handler then sees EOF and ends by itself."""
        for writer in list(self.open):
            writer.transport.abort()

    async def live(self, host: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open.add(writer)
        with contextlib.suppress(asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head.split(b"\r\n")
                headers = dict(_header(line) for line in lines if line)
                await reader.readexactly(int(headers.get(b"content-length", b"0")))
                writer.write(self.record(host, request_line, headers))
                await writer.drain()
        self.open.discard(writer)
        writer.close()

    def record(self, host: int, request_line: bytes, headers: dict[bytes, bytes]) -> bytes:
        counters = self.counters
        method, path, _ = request_line.split(b" ", 2)
        signed = b"signature" in headers or b"signature-input" in headers
        if method != b"POST" or not signed:
            counter = counters.unsigned if method == b"POST" else counters.stray
            counter.value += 1
            with self.notes.open("ab") as notes:
                notes.write(b"%d %s %s\n" % (host, request_line, headers.get(b"user-agent", b"-")))
            return UNAUTHORIZED
        if (host, path) in self.seen:
            counters.duplicates.value += 1
        self.seen.add((host, path))
        counters.received[host] += 1
        if counters.received[host] == counters.expected[host]:
            counters.completed_at[host] = time.monotonic()
        return ACCEPTED

    async def dead(self, host: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Accept, read whatever comes, never answer: the client must time out."""
        self.counters.dead_connections[host] += 1
        self.open.add(writer)
        with contextlib.suppress(ConnectionError):
            while await reader.read(65536):
                pass
        self.open.discard(writer)
        writer.close()


def _header(line: bytes) -> tuple[bytes, bytes]:
    name, _, value = line.partition(b":")
    return name.strip().lower(), value.strip()


def receiver_main(connection: Connection, plan: HostPlan, counters: Counters, notes: Path) -> None:
    """Entry point of the receiver process: bind every host, send the ports, serve until told."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = plan.hosts * 2 + 1024  # listening sockets plus accepted connections
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    asyncio.run(_serve(connection, plan, counters, notes))


def listening_sockets(count: int) -> list[socket.socket]:
    """`count` sockets on fixed ports below the kernel's ephemeral range.

    Not port 0: the kernel would hand out ephemeral ports, the very ones other programs
    pick with the bind-to-0-then-close idiom (as the test suite does), and a node that
    then finds its port taken by us would be talking to this receiver.
    """
    first_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    sockets: list[socket.socket] = []
    for port in range(first_ephemeral - 1, 1024, -1):
        if len(sockets) == count:
            return sockets
        sock = socket.socket()
        try:
            sock.bind((LOOPBACK, port))
        except OSError:  # in use: skip it
            sock.close()
            continue
        sockets.append(sock)
    raise BenchError(f"only {len(sockets)} free ports below {first_ephemeral}")


async def _serve(connection: Connection, plan: HostPlan, counters: Counters, notes: Path) -> None:
    receiver = Receiver(counters, notes)
    servers, ports = [], []
    for host, sock in enumerate(listening_sockets(plan.hosts)):
        handler = receiver.dead if host in plan.dead else receiver.live
        servers.append(await asyncio.start_server(functools.partial(handler, host), sock=sock, backlog=256))
        ports.append(sock.getsockname()[1])
    connection.send(ports)
    stop = asyncio.Event()
    # The benchmark writes to (or closes) the pipe to stop us.
    asyncio.get_running_loop().add_reader(connection.fileno(), stop.set)
    await stop.wait()
    for server in servers:
        server.close()
    receiver.close_all()
    await asyncio.sleep(0.2)  # let the handlers see their EOF and return


class ReceiverProcess:
    def __init__(self, plan: HostPlan, notes: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self.counters = Counters.create(context, plan.hosts)
        self.notes = notes
        self._pipe, child = context.Pipe()
        self.process = context.Process(
            target=receiver_main, args=(child, plan, self.counters, notes), name="bench-fanout-receiver"
        )
        self.process.start()
        child.close()
        if not self._pipe.poll(60):
            self.stop()
            raise BenchError("the receiver did not start within 60 s")
        try:
            self.ports: list[int] = self._pipe.recv()
        except EOFError:
            self.stop()
            raise BenchError("the receiver process died while binding its ports") from None

    def stop(self) -> None:
        """Stop it; its sockets close with it, so POSTs still waiting on dead hosts fail at once."""
        if self._pipe.closed:
            return
        with contextlib.suppress(OSError):
            self._pipe.send("stop")
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self._pipe.close()


# --- the node's database -------------------------------------------------------------------


def make_template(tmp: Path) -> Path:
    """A migrated SQLite file with the institution and the author (RSA keys are slow to make)."""
    directory = tmp / "template"
    config_path = write_config(directory, sqlite_url(directory / "node.db"))
    run_cli("migrate", cwd=directory)
    asyncio.run(_local_actors(config_path))
    return directory / "node.db"


async def _local_actors(config_path: Path) -> None:
    from talentfed.config import load_config
    from talentfed.domain.members import NewMember, add_member, ensure_institution
    from talentfed.storage.db import create_engine, session_factory

    config = load_config(config_path)
    engine = create_engine(config.database.url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await ensure_institution(session, config)
            await add_member(session, config, NewMember(username="author", display_name="Author"))
    finally:
        await engine.dispose()


async def seed_followers(sessions: Any, plan: HostPlan, ports: list[int], with_dead: bool) -> int:
    """Remote actors and accepted follows of the author, inserted in bulk; returns the followers."""
    from sqlalchemy import insert, select

    from talentfed.storage.models import Actor, Follow, utcnow

    now, actors = utcnow(), []
    for host in plan.included(with_dead):
        netloc = f"{LOOPBACK}:{ports[host]}"
        shared_inbox = f"http://{netloc}/inbox" if host in plan.shared else None
        for number in range(plan.followers_per_host):
            uri = f"http://{netloc}/users/u{number}"
            actors.append(
                {
                    "uri": uri,
                    "type": "Person",
                    "username": f"u{number}",
                    "domain": netloc,
                    "local": False,
                    "inbox_url": f"{uri}/inbox",
                    "shared_inbox_url": shared_inbox,
                    "public_key_id": f"{uri}#main-key",
                    "skills": [],
                    "fields": [],
                    "fetched_at": now,
                }
            )
    async with sessions() as session, session.begin():
        await session.execute(insert(Actor), actors)
        author_id = await session.scalar(select(Actor.id).where(Actor.username == "author", Actor.local))
        follower_ids = list(await session.scalars(select(Actor.id).where(Actor.local.is_(False))))
        follows = [
            {"follower_id": i, "followed_id": author_id, "state": "accepted", "accepted_at": now}
            for i in follower_ids
        ]
        await session.execute(insert(Follow), follows)
    return len(follower_ids)


async def queue_create(sessions: Any, config: Any) -> tuple[int, int]:
    """Queue one public Create(Note) for all followers with outbox.send; (activity id, jobs)."""
    from sqlalchemy import func, select

    from talentfed.federation import activities, outbox
    from talentfed.federation.uris import LocalURIs
    from talentfed.storage.models import Actor, DeliveryJob

    async with sessions() as session, session.begin():
        author = await session.scalar(select(Actor).where(Actor.username == "author", Actor.local))
        note = {
            "id": LocalURIs(config.node.base_url).object("fanout-note"),
            "type": "Note",
            "attributedTo": author.uri,
            "content": "<p>We are hiring three PhD students in federated learning.</p>",
            "to": [PUBLIC],
            "cc": [author.followers_url],
        }
        document = activities.build(config, "Create", author, note, to=[PUBLIC], cc=[author.followers_url])
        recipients = await outbox.follower_recipients(session, author)
        activity = await outbox.send(session, config, author, document, recipients)
    async with sessions() as session:
        jobs = await session.scalar(select(func.count()).where(DeliveryJob.activity_id == activity.id))
    return activity.id, jobs or 0


async def job_states(sessions: Any, dead_netlocs: set[str]) -> dict[str, Counter[str]]:
    """Final state of every delivery job, split by live and dead hosts."""
    from sqlalchemy import func, select

    from talentfed.storage.models import DeliveryJob

    states: dict[str, Counter[str]] = {"live": Counter(), "dead": Counter()}
    async with sessions() as session:
        rows = await session.execute(
            select(DeliveryJob.host, DeliveryJob.state, func.count()).group_by(
                DeliveryJob.host, DeliveryJob.state
            )
        )
        for host, state, count in rows:
            states["dead" if host in dead_netlocs else "live"][state] += count
    return states


# --- one run -------------------------------------------------------------------------------


@dataclass
class RunResult:
    name: str
    followers: int = 0
    jobs: int = 0
    expected_jobs: int = 0
    queue_seconds: float = 0.0
    live_hosts: int = 0
    live_posts_expected: int = 0
    live_posts: int = 0  # signed POSTs received by live hosts
    hosts_done: int = 0
    elapsed: float = 0.0  # from starting the workers to all live hosts done, or to the deadline
    complete: bool = False
    host_times: list[float] = field(default_factory=list)  # per live host: seconds until it had all
    dead_connections: int = 0
    duplicates: int = 0
    unsigned: int = 0
    stray: int = 0
    refused_sample: list[str] = field(default_factory=list)  # request lines the receiver refused
    states: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.live_posts / self.elapsed if self.elapsed else 0.0

    @property
    def live_seconds(self) -> float:
        """Time for every live inbox; when cut off by the deadline, projected from the rate."""
        if self.complete:
            return self.elapsed
        return self.live_posts_expected / self.rate if self.rate else float("inf")

    def lines(self) -> list[str]:
        done = "all" if self.complete else "NOT all"
        p50, p90 = (percentile(self.host_times, q) for q in (50, 90))
        live = ", ".join(f"{k} {v}" for k, v in sorted(self.states.get("live", {}).items()))
        dead = ", ".join(f"{k} {v}" for k, v in sorted(self.states.get("dead", {}).items())) or "-"
        projected = "" if self.complete else f" (projected from the rate: {self.live_seconds:.1f} s)"
        return [
            f"-- {self.name}",
            f"   followers {self.followers}, delivery jobs queued {self.jobs} "
            f"(expected {self.expected_jobs}), outbox.send + commit {self.queue_seconds:.2f} s",
            f"   {done} live inboxes reached: {self.live_posts}/{self.live_posts_expected} POSTs, "
            f"{self.hosts_done}/{self.live_hosts} hosts complete in {self.elapsed:.2f} s{projected}",
            f"   per live host, time until complete: p50 {p50:.2f} s, p90 {p90:.2f} s",
            f"   POSTs received: {self.rate:.1f}/s; duplicates {self.duplicates}; unsigned {self.unsigned}; "
            f"connections held open by dead hosts {self.dead_connections}",
            *(f"   stray request (not from talentfed), e.g.: {line}" for line in self.refused_sample[:3]),
            f"   job states after the workers stopped: live [{live}], dead [{dead}]",
        ]


async def wait_for_live(counters: Counters, live: list[int], deadline: float) -> None:
    """Until every live host has all its POSTs, or `deadline` seconds have passed."""
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        if all(counters.received[h] >= counters.expected[h] for h in live):
            return
        await asyncio.sleep(0.05)


async def run_once(
    name: str, tmp: Path, template: Path, plan: HostPlan, with_dead: bool, deadline: float
) -> RunResult:
    from talentfed.config import load_config
    from talentfed.storage.db import create_engine, session_factory

    directory = tmp / name.split(":")[0]
    directory.mkdir()
    shutil.copyfile(template, directory / "node.db")
    port = free_port()  # only names the node in ids; nothing has to listen there
    config_path = write_config(
        directory,
        sqlite_url(directory / "node.db"),
        **{"node.domain": f"{LOOPBACK}:{port}", "node.base_url": f"http://{LOOPBACK}:{port}"},
    )
    config = load_config(config_path)
    engine = create_engine(config.database.url)
    sessions = session_factory(engine)
    result = RunResult(name)
    receiver = ReceiverProcess(plan, directory / "refused-requests.txt")
    try:
        await prepare(result, sessions, config, plan, receiver, with_dead)
        await deliver(result, sessions, config, plan, receiver, deadline)
        dead_netlocs = {f"{LOOPBACK}:{receiver.ports[h]}" for h in plan.dead}
        result.states = await job_states(sessions, dead_netlocs)
    finally:
        receiver.stop()
        await engine.dispose()
    if receiver.notes.exists():
        result.refused_sample = receiver.notes.read_text(errors="replace").splitlines()[:5]
    return result


async def prepare(
    result: RunResult, sessions: Any, config: Any, plan: HostPlan, receiver: ReceiverProcess, with_dead: bool
) -> None:
    """Seed the followers and queue the Create; the job count must be exactly as planned."""
    result.followers = await seed_followers(sessions, plan, receiver.ports, with_dead)
    result.expected_jobs = sum(plan.posts_for(h) for h in plan.included(with_dead))
    for host in plan.live:
        receiver.counters.expected[host] = plan.posts_for(host)
    started = time.perf_counter()
    _, result.jobs = await queue_create(sessions, config)
    result.queue_seconds = time.perf_counter() - started
    if result.jobs != result.expected_jobs:
        raise BenchError(
            f"{result.name}: {result.jobs} delivery jobs queued, expected {result.expected_jobs}"
        )


async def deliver(
    result: RunResult, sessions: Any, config: Any, plan: HostPlan, receiver: ReceiverProcess, deadline: float
) -> None:
    """The real workers, as `talentfed serve` starts them, until the live hosts are done or the deadline."""
    from talentfed.federation.runtime import Federation
    from talentfed.jobs.runner import DELIVERY, BackgroundJobs, node_jobs

    federation = await Federation.open(config, sessions)
    every_job = node_jobs(config, sessions, federation, delivery_workers=config.federation.delivery_workers)
    workers = BackgroundJobs([job for job in every_job if job.name == DELIVERY])
    try:
        started = time.monotonic()
        workers.start()
        await wait_for_live(receiver.counters, plan.live, deadline)
        collect(result, receiver.counters, plan, plan.live, started)
    finally:
        # A graceful stop with the receiver still up, so every job in flight ends in a recorded
        # state (a POST to a dead host ends by its own read timeout); bounded all the same.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(workers.stop(), CLOSE_TIMEOUT)
        await federation.close()
    # Again after the stop: POSTs made while the workers drained must be correct too.
    counters = receiver.counters
    result.duplicates, result.unsigned = counters.duplicates.value, counters.unsigned.value
    result.stray = counters.stray.value


def collect(result: RunResult, counters: Counters, plan: HostPlan, live: list[int], t0: float) -> None:
    """Read the receiver's counters into `result` (called before the receiver stops)."""
    now = time.monotonic()
    done = [h for h in live if counters.received[h] >= counters.expected[h]]
    result.live_hosts = len(live)
    result.live_posts_expected = sum(plan.posts_for(h) for h in live)
    result.live_posts = sum(min(counters.received[h], counters.expected[h]) for h in live)
    result.hosts_done = len(done)
    result.host_times = [counters.completed_at[h] - t0 for h in done]
    result.complete = len(done) == len(live)
    # When complete, stop the clock at the last live arrival, as the receiver saw it.
    result.elapsed = max(result.host_times) if result.complete and result.host_times else now - t0
    result.dead_connections = sum(counters.dead_connections[h] for h in plan.dead)
    result.duplicates = counters.duplicates.value
    result.unsigned = counters.unsigned.value
    result.stray = counters.stray.value


# --- the benchmark -------------------------------------------------------------------------


def log_to_file(path: Path) -> None:
    """As `talentfed worker` does: INFO lines (one per delivery), here into a file, not the report."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def report(args: argparse.Namespace, plan: HostPlan, baseline: RunResult, measured: RunResult) -> None:
    print(
        f"== fan-out: one Create to {plan.hosts * plan.followers_per_host} followers on {plan.hosts} hosts "
        f"({len(plan.shared)} with a sharedInbox, {len(plan.dead)} dead)"
    )
    print(machine_line())
    print(f"at the start: {args.load_at_start}; at the end: {load_line()}")
    print(
        "workers: talentfed delivery jobs in-process, the node's default delivery settings; "
        f"deadline {args.deadline:g} s per run"
    )
    for result in (baseline, measured):
        for line in result.lines():
            print(line)
    ratio = measured.live_seconds / baseline.live_seconds if baseline.live_seconds else float("inf")
    how = "measured" if baseline.complete and measured.complete else "projected from the POST rate"
    print(
        f"ratio with/without dead hosts, time for the live inboxes: x{ratio:.2f} ({how}); "
        f"POST rate x{measured.rate / baseline.rate if baseline.rate else float('nan'):.2f}"
    )
    met = measured.complete and measured.elapsed <= TARGET_SECONDS
    shown = f"{measured.elapsed:.1f} s" if measured.complete else f"not done in {measured.elapsed:.0f} s"
    print(f"all live inboxes reached with dead hosts present: {shown}, ", end="")
    print(f"target <= {TARGET_SECONDS:g} s: {verdict(met)}")
    slowed = verdict(ratio <= TARGET_RATIO)
    print(f"dead hosts slow the live ones by x{ratio:.2f}, target <= x{TARGET_RATIO:g}: {slowed}")


def check(results: list[RunResult]) -> int:
    problems = [f"{r.name}: {r.duplicates} duplicate POSTs" for r in results if r.duplicates]
    problems += [f"{r.name}: {r.unsigned} unsigned POSTs" for r in results if r.unsigned]
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def run(args: argparse.Namespace, tmp: Path) -> int:
    log_to_file(tmp / "delivery.log")
    plan = HostPlan.make(args.hosts, args.followers_per_host, args.dead_fraction)
    template = make_template(tmp)
    baseline = asyncio.run(run_once("baseline: live hosts only", tmp, template, plan, False, args.deadline))
    measured = asyncio.run(run_once("measured: with dead hosts", tmp, template, plan, True, args.deadline))
    report(args, plan, baseline, measured)
    return check([baseline, measured])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--followers-per-host", type=int, default=10)
    parser.add_argument("--dead-fraction", type=float, default=0.05)
    parser.add_argument("--deadline", type=float, default=60.0, help="seconds per run before it stops itself")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run_in_temp_dir("talentfed-bench-fanout-", args, run)
    finally:
        logging.shutdown()


if __name__ == "__main__":
    sys.exit(main())
