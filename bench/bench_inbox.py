"""Inbox throughput on realistic traffic: each kind of activity alone, then a mix.

Two real nodes run on 127.0.0.1, each `talentfed serve`: the *receiver* (measured; SQLite by
default, `--database postgresql` for PostgreSQL at 127.0.0.1:5432) and the *sender* (SQLite),
whose members sign the activities and serve the actor documents the receiver fetches their keys
from. The receiver has members with notes and a question of their own, so that the traffic can
mention them, answer them, like, boost and follow them.

A separate process (a `multiprocessing` child with a bare HTTP/1.1 client and keep-alive
connections) pre-signs every request (draft-cavage, as Mastodon signs) and then POSTs:

1. baseline: the plain posts' bodies, unsigned: refused with 401 after the JSON and block
   checks, so this is the bare HTTP + routing + parsing path;
2. each kind alone (KINDS below), in an order that lets the later kinds name what the earlier
   ones stored (an Update edits a plain post, a Delete removes a mention, an Undo a Follow);
3. the mix (MIX below: proportions and why in docs/benchmarks.md), in a fixed shuffled order.

Each phase reports its rate, latencies and the receiver's CPU time per activity, and its time
per activity relative to the plain post measured in the same run. A phase whose activities make
the receiver deliver something (`follow`: an Accept each; the mix) lasts until the receiver's
delivery queue is empty (its /metrics says), so that what it delivers is charged to it. Then
the receiver's database must hold every accepted activity exactly once, every created post once
and one mention edge per mention.

Throughput is a capacity: it is measured with enough requests in flight to keep the node busy
(32 connections by default, as when many servers deliver at once).

    .venv/bin/python bench/bench_inbox.py [--quick] [--count 1000] [--mix-count 3000]
        [--concurrency 32] [--database sqlite|postgresql] [--only post,mention] [--profile out.prof]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from pathlib import Path

import httpx
from _common import (
    BenchError,
    ServedNode,
    cpu_seconds,
    load_line,
    machine_line,
    percentile,
    print_profile,
    run_in_temp_dir,
    stopped_on_exit,
    throwaway_database,
    verdict,
)

MIX_TARGET_PER_SECOND = 1000.0  # the mix, SQLite, 32 connections
SLOWEST_KIND_TARGET = 1.5  # no kind's time per activity above 1.5 x the plain post's
PHASE_BUDGET = 150.0  # seconds; a phase stops by itself after this, finished or not
DELIVERY_BUDGET = 120.0  # seconds a phase waits for the deliveries it queued (the Accepts)
# The kinds whose activities queue deliveries at the receiver: a Follow of a member is answered
# with an Accept, signed and POSTed to the follower. Their phase lasts until the receiver's
# delivery queue is empty, so that the Accepts' cost is the phase's (the mix waits too).
DELIVERING = frozenset({"follow"})
CLIENT_TIMEOUT = 1800.0  # seconds the parent waits for the client process in all
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
# What Mastodon (4.x) puts on a Create or Update of a status: the ActivityStreams context and
# its own inline terms. Half of the Creates, Updates and Deletes carry it.
MASTODON_STATUS_CONTEXT: list[object] = [
    AS_CONTEXT,
    {
        "ostatus": "http://ostatus.org#",
        "atomUri": "ostatus:atomUri",
        "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
        "conversation": "ostatus:conversation",
        "sensitive": "as:sensitive",
        "toot": "http://joinmastodon.org/ns#",
        "votersCount": "toot:votersCount",
        "blurhash": "toot:blurhash",
        "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
        "Hashtag": "as:Hashtag",
    },
]
MEMBERS = 8  # receiver members the traffic mentions, likes and follows
POSTS_PER_MEMBER = 25  # their notes, liked and boosted; each member also has one question


@dataclass(frozen=True)
class SenderKey:
    actor_uri: str
    key_id: str
    private_pem: str


@dataclass(frozen=True)
class Member:
    """A member of the receiver, with what the traffic names of theirs."""

    username: str
    uri: str
    inbox_url: str
    question_uri: str
    post_uris: tuple[str, ...]


@dataclass(frozen=True)
class ClientPlan:
    shared_inbox_url: str
    senders: list[SenderKey]
    members: list[Member]
    run_id: str  # every activity and post id of this run holds f"{run_id}-{phase}-"
    count: int  # activities per kind
    mix_count: int
    concurrency: int
    kinds: tuple[str, ...]  # the kinds run alone, in KINDS order
    receiver_pid: int


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
    server_cpu: float = 0.0  # the receiver's CPU seconds during the phase
    latencies: list[float] = field(default_factory=list)  # seconds, one per answered request
    statuses: Counter[int] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)  # a few unexpected answers, for the report
    # Of `seconds` and `server_cpu`: what came after the last answer, until the receiver's
    # delivery queue was empty (DELIVERING kinds and the mix); None for the other phases.
    delivering: tuple[float, float] | None = None
    undelivered: int = 0  # deliveries still queued when DELIVERY_BUDGET ran out

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """The receiver's CPU time per answered request, in ms: less noisy than the rate when
        other work shares the machine."""
        return self.server_cpu / len(self.latencies) * 1000 if self.latencies else float("nan")

    def line(self) -> str:
        p50, p99 = (percentile(self.latencies, q) * 1000 for q in (50, 99))
        statuses = ", ".join(f"{status}x{n}" for status, n in sorted(self.statuses.items()))
        line = (
            f"{self.name:<28} {len(self.latencies):>5} in {self.seconds:6.2f} s = {self.rate:7.1f}/s  "
            f"cpu {self.cpu_ms:5.2f} ms  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  [{statuses}]"
        )
        if self.delivering is not None:
            seconds, cpu = self.delivering
            answering = len(self.latencies) / (self.seconds - seconds) if self.seconds > seconds else 0.0
            cpu_ms = (self.server_cpu - cpu) / len(self.latencies) * 1000 if self.latencies else float("nan")
            line += (
                f"\n{'':<28} of which delivering after the last answer: {seconds:.2f} s, "
                f"cpu {cpu:.2f} s; until the last answer: {answering:.1f}/s, cpu {cpu_ms:.2f} ms"
            )
            line += f"; {self.undelivered} left undelivered" if self.undelivered else ""
        return line


# --- the activities ------------------------------------------------------------------------


@dataclass(frozen=True)
class Made:
    """One activity of a kind, and where it goes."""

    document: dict
    inbox_url: str


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _sender_of(plan: ClientPlan, n: int) -> SenderKey:
    """The n-th object of every phase is by the same sender: an Update or a Delete of it must
    come from its author."""
    return plan.senders[n % len(plan.senders)]


def _status_uri(sender: SenderKey, plan: ClientPlan, phase: str, n: int) -> str:
    return f"{sender.actor_uri}/statuses/{plan.run_id}-{phase}-{n}"


def _context(n: int) -> object:
    """Every other status activity carries Mastodon's full @context array."""
    return MASTODON_STATUS_CONTEXT if n % 2 else AS_CONTEXT


def _note(
    plan: ClientPlan, phase: str, n: int, *, reply_to: str | None = None, mention: Member | None = None
) -> dict:
    """A Create(Note) as Mastodon sends it; with `mention`, the member is in cc and tagged."""
    sender = _sender_of(plan, n)
    uri = _status_uri(sender, plan, phase, n)
    published = _now()
    cc = [f"{sender.actor_uri}/followers"]
    text = f"<p>Note {n}: looking for collaborators on graph learning and sparse solvers.</p>"
    note: dict = {
        "id": uri,
        "type": "Note",
        "summary": None,
        "inReplyTo": reply_to,
        "published": published,
        "url": uri.replace("/users/", "/@").replace("/statuses/", "/"),
        "attributedTo": sender.actor_uri,
        "to": [PUBLIC],
        "cc": cc,
        "sensitive": False,
        "atomUri": uri,
        "inReplyToAtomUri": reply_to,
        "conversation": f"tag:bench,2026:objectId={plan.run_id}-{phase}-{n}:objectType=Conversation",
        "content": text,
        "contentMap": {"en": text},
        "attachment": [],
        "tag": [],
    }
    if mention is not None:
        cc.append(mention.uri)
        handle = mention.uri.rsplit("/", 1)[-1]
        note["content"] = note["contentMap"]["en"] = (
            f'<p><span class="h-card"><a href="{mention.uri}" class="u-url mention">@<span>{handle}'
            f"</span></a></span> {text[3:-4]}</p>"
        )
        note["tag"] = [{"type": "Mention", "href": mention.uri, "name": f"@{handle}"}]
    return {
        "@context": _context(n),
        "id": f"{uri}/activity",
        "type": "Create",
        "actor": sender.actor_uri,
        "published": published,
        "to": [PUBLIC],
        "cc": list(cc),
        "object": note,
    }


def _member(plan: ClientPlan, n: int) -> Member:
    return plan.members[n % len(plan.members)]


def make_post(plan: ClientPlan, phase: str, n: int) -> Made:
    return Made(_note(plan, phase, n), plan.shared_inbox_url)


def make_mention(plan: ClientPlan, phase: str, n: int) -> Made:
    """A Mastodon user's reply to one of a member's notes: the member in cc and a Mention tag."""
    member = _member(plan, n)
    reply_to = member.post_uris[n % len(member.post_uris)]
    return Made(_note(plan, phase, n, reply_to=reply_to, mention=member), plan.shared_inbox_url)


def make_mention_personal(plan: ClientPlan, phase: str, n: int) -> Made:
    """The same reply, delivered to the member's own inbox."""
    return Made(make_mention(plan, phase, n).document, _member(plan, n).inbox_url)


def make_answer(plan: ClientPlan, phase: str, n: int) -> Made:
    """A reply to a member's question: stored as an answer."""
    member = _member(plan, n)
    return Made(_note(plan, phase, n, reply_to=member.question_uri, mention=member), plan.shared_inbox_url)


def _pair(plan: ClientPlan, phase: str, n: int) -> tuple[SenderKey, Member, str]:
    """Distinct (sender, member's post) pairs, the mix's after the kinds' own."""
    j = n + (plan.count if phase.startswith("mix") else 0)
    sender = plan.senders[j % len(plan.senders)]
    posts = [uri for member in plan.members for uri in member.post_uris]
    post = posts[(j // len(plan.senders)) % len(posts)]
    member = next(m for m in plan.members if post in m.post_uris)
    return sender, member, post


def make_like(plan: ClientPlan, phase: str, n: int) -> Made:
    """A favourite, which Mastodon sends to the post's author's own inbox."""
    sender, member, post = _pair(plan, phase, n)
    document = {
        "@context": AS_CONTEXT,
        "id": f"{sender.actor_uri}#likes/{plan.run_id}-{phase}-{n}",
        "type": "Like",
        "actor": sender.actor_uri,
        "object": post,
    }
    return Made(document, member.inbox_url)


def make_announce(plan: ClientPlan, phase: str, n: int) -> Made:
    """A boost: to the booster's followers (shared inbox), the author in cc."""
    sender, member, post = _pair(plan, phase, n)
    document = {
        "@context": AS_CONTEXT,
        "id": f"{_status_uri(sender, plan, phase, n)}/activity",
        "type": "Announce",
        "actor": sender.actor_uri,
        "published": _now(),
        "to": [PUBLIC],
        "cc": [member.uri, f"{sender.actor_uri}/followers"],
        "object": post,
    }
    return Made(document, plan.shared_inbox_url)


def _follow(plan: ClientPlan, phase: str, n: int) -> tuple[dict, Member]:
    sender = plan.senders[n % len(plan.senders)]
    member = plan.members[(n // len(plan.senders)) % len(plan.members)]
    document = {
        "@context": AS_CONTEXT,
        "id": f"{sender.actor_uri}/follows/{plan.run_id}-{phase}-{n}",
        "type": "Follow",
        "actor": sender.actor_uri,
        "object": member.uri,
    }
    return document, member


def make_follow(plan: ClientPlan, phase: str, n: int) -> Made:
    document, member = _follow(plan, phase, n)
    return Made(document, member.inbox_url)


def make_undo(plan: ClientPlan, phase: str, n: int) -> Made:
    """Undo of the n-th Follow of the kind `follow` (or of the mix's n-th Follow)."""
    follow, member = _follow(plan, "mix_follow" if phase.startswith("mix") else "follow", n)
    document = {
        "@context": AS_CONTEXT,
        "id": f"{follow['actor']}#follows/{plan.run_id}-{phase}-{n}/undo",
        "type": "Undo",
        "actor": follow["actor"],
        "object": follow,
    }
    return Made(document, member.inbox_url)


def make_update(plan: ClientPlan, phase: str, n: int) -> Made:
    """An edit of a plain post of the kind `post` (the mix edits the first ones)."""
    target = n % plan.count
    create = _note(plan, "post", target)
    note = create["object"]
    note["updated"] = _now()
    note["content"] = note["contentMap"]["en"] = f"<p>Note {target}, edited: we found a collaborator.</p>"
    document = {
        "@context": _context(n),
        "id": f"{note['id']}#updates/{plan.run_id}-{phase}-{n}",
        "type": "Update",
        "actor": create["actor"],
        "published": note["updated"],
        "to": [PUBLIC],
        "cc": create["cc"],
        "object": note,
    }
    return Made(document, plan.shared_inbox_url)


def make_delete(plan: ClientPlan, phase: str, n: int) -> Made:
    """A deleted status, as a Tombstone: the kind deletes the mentions, the mix the last plain
    posts (which its Updates do not edit)."""
    target_phase, target = (
        ("post", plan.count - 1 - n % plan.count) if phase.startswith("mix") else ("mention", n)
    )
    sender = _sender_of(plan, target)
    uri = _status_uri(sender, plan, target_phase, target)
    document = {
        "@context": [AS_CONTEXT, {"ostatus": "http://ostatus.org#", "atomUri": "ostatus:atomUri"}]
        if n % 2
        else AS_CONTEXT,
        "id": f"{uri}#delete-{plan.run_id}-{phase}-{n}",
        "type": "Delete",
        "actor": sender.actor_uri,
        "to": [PUBLIC],
        "object": {"id": uri, "type": "Tombstone", "atomUri": uri},
    }
    return Made(document, plan.shared_inbox_url)


Maker = Callable[[ClientPlan, str, int], Made]
# The kinds, in the order they run alone: an Update edits a `post`, a Delete removes a
# `mention`, an Undo takes back a `follow`.
KINDS: dict[str, Maker] = {
    "post": make_post,
    "mention": make_mention,
    "mention_personal": make_mention_personal,
    "answer": make_answer,
    "like": make_like,
    "announce": make_announce,
    "follow": make_follow,
    "undo": make_undo,
    "update": make_update,
    "delete": make_delete,
}
CREATES = ("post", "mention", "mention_personal", "answer")  # each stores one post
MENTIONS = ("mention", "mention_personal", "answer")  # each mentions one member
# Percent of the mix (docs/benchmarks.md says why): what an institution's node receives from
# Mastodon servers is mostly its followed accounts' posts, then favourites and boosts of its
# members' posts, and fewer mentions, answers, follows, edits and deletions.
MIX: dict[str, int] = {
    "post": 45,
    "like": 15,
    "announce": 10,
    "mention": 8,
    "mention_personal": 4,
    "answer": 5,
    "update": 5,
    "delete": 3,
    "follow": 3,
    "undo": 2,
}


def mix_schedule(total: int) -> list[str]:
    """`total` kinds in the MIX proportions, in a shuffled order that is the same every run."""
    slots = [kind for kind, percent in MIX.items() for _ in range(percent)]
    random.Random(19).shuffle(slots)
    return [slots[i % len(slots)] for i in range(total)]


# --- the client (runs in its own process) ------------------------------------------------


class Signer:
    """Signs up front with loaded keys, so the client's signing is not part of what we measure."""

    def __init__(self, plan: ClientPlan) -> None:
        from talentfed.federation.signatures import load_private_key

        self.keys = {
            sender.actor_uri: (sender.key_id, load_private_key(sender.private_pem)) for sender in plan.senders
        }

    def request(self, made: Made) -> Request:
        from talentfed.federation.signatures import sign_request

        key_id, key = self.keys[made.document["actor"]]
        body = json.dumps(made.document).encode()
        headers = {"Content-Type": "application/activity+json"}
        headers.update(
            sign_request("POST", made.inbox_url, headers, body, key_id=key_id, private_key_pem=key)
        )
        return Request("POST", made.inbox_url, headers, body)


def kind_requests(plan: ClientPlan, signer: Signer, kind: str) -> list[Request]:
    return [signer.request(KINDS[kind](plan, kind, n)) for n in range(plan.count)]


def mix_requests(plan: ClientPlan, signer: Signer) -> list[Request]:
    counters: Counter[str] = Counter()
    requests = []
    for kind in mix_schedule(plan.mix_count):
        requests.append(signer.request(KINDS[kind](plan, f"mix_{kind}", counters[kind])))
        counters[kind] += 1
    return requests


def unsigned(requests: list[Request]) -> list[Request]:
    return [Request(r.method, r.url, {"Content-Type": "application/activity+json"}, r.body) for r in requests]


def warmup_requests(plan: ClientPlan, signer: Signer) -> list[Request]:
    """One plain post per sender: the receiver fetches each sender's key once, unmeasured."""
    warm = ClientPlan(**{**plan.__dict__, "run_id": "warmup"})
    return [signer.request(make_post(warm, "post", n)) for n in range(len(plan.senders))]


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
    address: tuple[str, int],
    name: str,
    requests: list[Request],
    concurrency: int,
    expect: int,
    server_pid: int,
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

    started, cpu_before = time.perf_counter(), cpu_seconds(server_pid)
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    result.server_cpu = cpu_seconds(server_pid) - cpu_before
    return result


async def queued_deliveries(metrics_url: str) -> int:
    """The receiver's delivery jobs due or running, from its /metrics (loopback may scrape)."""
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(metrics_url)).text
    total = 0
    for line in text.splitlines():
        if line.startswith("talentfed_delivery_queue_jobs{") and ('"due"' in line or '"running"' in line):
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


async def delivered(result: PhaseResult, metrics_url: str, pid: int) -> None:
    """Extend `result` until the deliveries its activities queued are done: their time and the
    receiver's CPU count as the phase's."""
    started, cpu_before = time.perf_counter(), cpu_seconds(pid)
    deadline = started + DELIVERY_BUDGET
    while True:  # polled: the receiver is another process
        left = await queued_deliveries(metrics_url)
        if not left or time.perf_counter() > deadline:
            break
        await asyncio.sleep(0.5)  # each scrape costs the receiver a little CPU: not too often
    seconds, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu_before
    result.delivering, result.undelivered = (seconds, cpu), left
    result.seconds += seconds
    result.server_cpu += cpu


async def settled(pid: int, budget: float = 30.0) -> None:
    """Wait until the receiver is idle: what an earlier phase left to do (delivering the Accepts
    of Follows) is not charged to the next one."""
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        await asyncio.sleep(0.5)
        if cpu_seconds(pid) - before < 0.05:
            return


async def client_phases(plan: ClientPlan) -> tuple[float, list[PhaseResult]]:
    started = time.perf_counter()
    signer = Signer(plan)
    measured = {kind: kind_requests(plan, signer, kind) for kind in plan.kinds}
    mix = mix_requests(plan, signer) if plan.mix_count else []
    warmup = warmup_requests(plan, signer)
    presign = time.perf_counter() - started
    inbox = httpx.URL(plan.shared_inbox_url)
    address = (inbox.host, inbox.port or 80)

    metrics_url = str(inbox.copy_with(path="/metrics", query=None))

    async def phase(
        name: str, requests: list[Request], concurrency: int, expect: int, *, delivering: bool = False
    ) -> PhaseResult:
        await settled(plan.receiver_pid)
        result = await run_phase(address, name, requests, concurrency, expect, plan.receiver_pid)
        if delivering:
            await delivered(result, metrics_url, plan.receiver_pid)
        return result

    phases = [await phase("warm-up (key fetches)", warmup, 1, 202)]
    plain = measured.get("post") or mix
    await phase("warm-up (connections)", unsigned(plain[:200]), plan.concurrency, 401)
    phases.append(await phase("baseline: unsigned -> 401", unsigned(plain), plan.concurrency, 401))
    for kind, requests in measured.items():
        phases.append(await phase(kind, requests, plan.concurrency, 202, delivering=kind in DELIVERING))
    if mix:
        phases.append(await phase("mix", mix, plan.concurrency, 202, delivering=True))
    return presign, phases


def client_main(connection: Pipe, plan: ClientPlan) -> None:
    """Entry point of the client process: run the phases, send the results back."""
    try:
        connection.send(("ok", asyncio.run(client_phases(plan))))
    except BaseException as exc:
        connection.send(("error", f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        connection.close()


def run_client(plan: ClientPlan) -> tuple[float, list[PhaseResult]]:
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

    from talentfed.storage.models import Actor

    names = [f"sender{index}" for index in range(count)]
    async with _node_session(node) as (session, config):
        await _add_members(session, config, names)
    async with _node_session(node) as (session, _):
        rows = await session.execute(
            select(Actor.uri, Actor.public_key_id, Actor.private_key_pem).where(
                Actor.local.is_(True), Actor.username.in_(names)
            )
        )
        return [SenderKey(uri, key_id, pem) for uri, key_id, pem in rows]


async def create_members(node: ServedNode) -> list[Member]:
    """The receiver's members, each with POSTS_PER_MEMBER notes and one question."""
    from talentfed.domain.members import find_local_actor
    from talentfed.domain.posts import Draft, publish
    from talentfed.federation.uris import LocalURIs

    names = [f"member{index}" for index in range(MEMBERS)]
    members = []
    async with _node_session(node) as (session, config):
        await _add_members(session, config, names)
        uris = LocalURIs(config.node.base_url)
        for name in names:
            author = await find_local_actor(session, name)
            assert author is not None
            question = await publish(
                session,
                config,
                author,
                Draft(kind="question", title="Who knows sparse solvers?", body="Ideas?"),
            )
            notes = [
                await publish(
                    session, config, author, Draft(kind="note", body=f"Our lab's result number {i}.")
                )
                for i in range(POSTS_PER_MEMBER)
            ]
            post_uris = tuple(note.uri for note in notes)
            members.append(Member(name, author.uri, uris.inbox(name), question.uri, post_uris))
    return members


async def _add_members(session, config, names: list[str]) -> None:  # type: ignore[no-untyped-def]
    from talentfed.domain.members import NewMember, add_member

    for name in names:
        await add_member(session, config, NewMember(username=name, display_name=name.title()))


@contextlib.asynccontextmanager
async def _node_session(node: ServedNode):  # type: ignore[no-untyped-def]
    """A session on a node's database, in a transaction committed at the end."""
    from talentfed.config import load_config
    from talentfed.storage.db import create_engine, session_factory

    config = load_config(node.config_path)
    engine = create_engine(config.database.url)
    try:
        async with session_factory(engine)() as session, session.begin():
            yield session, config
    finally:
        await engine.dispose()


# What each kind's activities are stored as.
KIND_TYPES = {
    "post": "Create",
    "mention": "Create",
    "mention_personal": "Create",
    "answer": "Create",
    "like": "Like",
    "announce": "Announce",
    "follow": "Follow",
    "undo": "Undo",
    "update": "Update",
    "delete": "Delete",
}


@dataclass(frozen=True)
class Stored:
    rows: int  # received activities of the phase
    distinct: int  # distinct ids among them
    posts: int | None  # posts stored by a phase that creates them
    mention_edges: int | None  # mention edges of those posts, for the kinds that mention


async def stored_counts(node: ServedNode, run_id: str, phases: list[str]) -> dict[str, Stored]:
    """What the receiver's database holds of each phase (read after it stopped)."""
    from sqlalchemy import text

    counts = {}
    async with _node_session(node) as (session, _):
        for phase in phases:
            kind = phase.removeprefix("mix_")
            pattern = f"%{run_id}-{phase}-%".replace("_", "\\_")
            rows, distinct = (
                await session.execute(
                    text(
                        "SELECT count(*), count(DISTINCT uri) FROM activities "
                        "WHERE local = false AND type = :type AND uri LIKE :pattern ESCAPE '\\'"
                    ),
                    {"type": KIND_TYPES[kind], "pattern": pattern},
                )
            ).one()
            posts = edges = None
            if kind in CREATES:
                posts = await session.scalar(
                    text("SELECT count(*) FROM objects WHERE uri LIKE :pattern ESCAPE '\\'"),
                    {"pattern": pattern},
                )
            if kind in MENTIONS:
                edges = await session.scalar(
                    text(
                        "SELECT count(*) FROM interactions JOIN objects ON objects.id = object_id "
                        "WHERE interactions.kind = 'mention' AND objects.uri LIKE :pattern ESCAPE '\\'"
                    ),
                    {"pattern": pattern},
                )
            counts[phase] = Stored(rows, distinct, posts, edges)
    return counts


# --- the run -----------------------------------------------------------------------------


def run(args: argparse.Namespace, tmp: Path) -> int:
    run_id = uuid.uuid4().hex[:8]
    with contextlib.ExitStack() as stack:
        overrides = {}
        if args.database == "postgresql":
            _, overrides["database.url"] = stack.enter_context(throwaway_database("bench_inbox"))
        receiver = ServedNode("receiver", tmp / "receiver", **overrides)
        sender = ServedNode("sender", tmp / "sender")
        receiver.migrate()
        sender.migrate()
        senders = asyncio.run(create_senders(sender, args.senders))
        members = asyncio.run(create_members(receiver))
        wrapper = ("-m", "cProfile", "-o", str(args.profile.resolve())) if args.profile else ()
        with stopped_on_exit([receiver, sender]):
            sender.start()
            receiver.start(wrapper=wrapper)
            assert receiver.process is not None
            plan = ClientPlan(
                shared_inbox_url=f"{receiver.base_url}/inbox",
                senders=senders,
                members=members,
                run_id=run_id,
                count=args.count,
                mix_count=args.mix_count,
                concurrency=args.concurrency,
                kinds=tuple(kind for kind in KINDS if kind in args.only),
                receiver_pid=receiver.process.pid,
            )
            presign, phases = run_client(plan)
        stored_phases = list(plan.kinds) + ([f"mix_{kind}" for kind in MIX] if plan.mix_count else [])
        stored = asyncio.run(stored_counts(receiver, run_id, stored_phases))
    report(args, presign, phases, stored)
    if args.profile:
        print_profile(args.profile)
    return check(phases, stored)


def report(
    args: argparse.Namespace, presign: float, phases: list[PhaseResult], stored: dict[str, Stored]
) -> None:
    print(
        f"== inbox on realistic traffic: {args.count} activities per kind, a mix of {args.mix_count}, "
        f"from {args.senders} remote actors; receiver on {args.database}"
    )
    print(machine_line())
    print(f"at the start: {args.load_at_start}")
    print(
        f"client: separate process, bare HTTP/1.1, {args.concurrency} keep-alive connections; "
        f"server: talentfed serve; pre-signing {presign:.2f} s (not measured)"
    )
    print(f"mix (percent): {', '.join(f'{kind} {percent}' for kind, percent in MIX.items())}")
    by_name = {phase.name: phase for phase in phases}
    post = by_name.get("post")
    for phase in phases:
        first, *rest = phase.line().split("\n")
        print("\n".join([first + _relative(phase, post), *rest]))
    for phase, counts in stored.items():
        print(f"stored, {phase}: {_stored_line(counts)}")
    print(f"at the end: {load_line()}")
    _verdicts(args, by_name, post)


def _relative(phase: PhaseResult, post: PhaseResult | None) -> str:
    """Time per activity relative to the plain post of the same run (1.00 = as fast)."""
    if post is None or not phase.rate or phase.name.startswith(("warm", "baseline")):
        return ""
    return f"  x{post.rate / phase.rate:.2f} post's time, x{phase.cpu_ms / post.cpu_ms:.2f} its cpu"


def _stored_line(counts: Stored) -> str:
    line = f"{counts.rows} activities, {counts.distinct} distinct"
    if counts.posts is not None:
        line += f", {counts.posts} posts"
    if counts.mention_edges is not None:
        line += f", {counts.mention_edges} mention edges"
    return line


def _verdicts(args: argparse.Namespace, by_name: dict[str, PhaseResult], post: PhaseResult | None) -> None:
    kinds = [by_name[kind] for kind in KINDS if kind in by_name]
    if post is not None and len(kinds) > 1:
        slowest = max(kinds, key=lambda phase: post.rate / phase.rate if phase.rate else float("inf"))
        ratio = post.rate / slowest.rate if slowest.rate else float("inf")
        print(
            f"slowest kind: {slowest.name}, x{ratio:.2f} the plain post's time, "
            f"target <= x{SLOWEST_KIND_TARGET:g}: {verdict(ratio <= SLOWEST_KIND_TARGET)}"
        )
    mix = by_name.get("mix")
    if mix is not None:
        complete = len(mix.latencies) == args.mix_count
        target = f"target >= {MIX_TARGET_PER_SECOND:g}/s on sqlite"
        met = verdict(complete and mix.rate >= MIX_TARGET_PER_SECOND)
        print(f"mix: {mix.rate:.1f}/s, {target}: {met if args.database == 'sqlite' else 'reported only'}")


def check(phases: list[PhaseResult], stored: dict[str, Stored]) -> int:
    """A wrong answer or a lost/duplicated activity means the benchmark did not run properly.

    Slowness is not a failure: it is reported as a missed target above.
    """
    problems = []
    for phase in phases:
        expected = 401 if phase.name.startswith("baseline") else 202
        if phase.name.startswith("warm-up (conn"):
            continue
        if set(phase.statuses) - {expected} or phase.examples:
            problems.append(f"{phase.name}: unexpected answers, e.g. {phase.examples[:3]}")
    by_name = {phase.name: phase for phase in phases}
    mix = by_name.get("mix")
    for name, counts in stored.items():
        answered = _answered(name, by_name, mix)
        if counts.rows != answered or counts.distinct != answered:
            problems.append(
                f"{name}: {answered} accepted but {counts.rows} rows / {counts.distinct} ids stored"
            )
        for what, value in (("posts", counts.posts), ("mention edges", counts.mention_edges)):
            if value is not None and value != answered:
                problems.append(f"{name}: {answered} accepted but {value} {what}")
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _answered(name: str, by_name: dict[str, PhaseResult], mix: PhaseResult | None) -> int:
    """How many of a phase's activities were accepted (for the mix's kinds: its share, when
    every activity of the mix was answered 202)."""
    if not name.startswith("mix_"):
        return by_name[name].statuses.get(202, 0)
    assert mix is not None
    sent = Counter(mix_schedule(len(mix.latencies)))
    return sent[name.removeprefix("mix_")] if mix.statuses.get(202, 0) == len(mix.latencies) else -1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1000, help="activities per kind (default 1000)")
    parser.add_argument("--mix-count", type=int, default=3000, help="activities in the mix (default 3000)")
    parser.add_argument("--quick", action="store_true", help="a short run: 200 per kind, a mix of 600")
    parser.add_argument("--concurrency", type=int, default=32, help="client connections (default 32)")
    parser.add_argument("--senders", type=int, default=16, help="remote actors signing (default 16)")
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql"), default="sqlite", help="the receiver's"
    )
    parser.add_argument(
        "--only",
        default=",".join(KINDS),
        help=f"kinds run alone, comma-separated (default all: {','.join(KINDS)})",
    )
    parser.add_argument("--profile", type=Path, help="run the receiver under cProfile, write stats here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (for its logs)")
    args = parser.parse_args(argv)
    if args.quick:
        args.count, args.mix_count = 200, 600
    args.only = [kind.strip() for kind in args.only.split(",") if kind.strip()]
    unknown = set(args.only) - set(KINDS)
    if unknown:
        parser.error(f"unknown kinds: {', '.join(sorted(unknown))}")
    if args.count < 1 or args.mix_count < 0:
        parser.error("--count must be at least 1 and --mix-count at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    return run_in_temp_dir("talentfed-bench-inbox-", parse_args(argv), run)


if __name__ == "__main__":
    sys.exit(main())
