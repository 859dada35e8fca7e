"""What the inbox and delivery tell operators: the inbox's answers and signature refusals counted
by reason, deliveries counted by outcome, and the request id of an inbox POST on the log lines
of the deliveries it caused (as JSON lines, the way `[log] format = "json"` writes them)."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from talentfed.federation.delivery import DeliveryPolicy
from talentfed.federation.runtime import Federation
from talentfed.federation.signatures import generate_rsa_keypair
from talentfed.observability.logs import JsonFormatter, current_request_id
from talentfed.storage.models import DeliveryJob, DomainBlock
from tests.federation.local_node import Node
from tests.federation.remote_server import RemoteServer, RemoteUser
from tests.support.factories import follow_doc
from tests.support.metrics import Scrape, scrape
from tests.support.signing import signed_headers
from tests.support.waiting import eventually


async def _follow(node: Node, user: RemoteUser, username: str, request_id: str) -> httpx.Response:
    """A signed Follow of our member, POSTed with the X-Request-Id a proxy would set."""
    follow = follow_doc(user.uri, node.actor_uri(username))
    body = json.dumps(follow).encode()
    path = f"/users/{username}/inbox"
    headers = user.signed_headers(f"{node.config.node.base_url}{path}", body)
    return await node.client.post(path, content=body, headers={**headers, "X-Request-Id": request_id})


def _json_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The captured records as the JSON log format writes them, each line parsed back."""
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert all("\n" not in line for line in lines)
    return [json.loads(line) for line in lines]


# --- counted --------------------------------------------------------------------------------


async def test_the_inbox_counts_what_it_accepts_and_refuses_by_reason(
    node: Node, remote: RemoteServer, alice: RemoteUser
) -> None:
    before = await scrape(node.client)
    follow = follow_doc(alice.uri, node.actor_uri("bob"))
    assert (await node.post("/users/bob/inbox", follow, signer=None)).status_code == 401  # unsigned
    assert (await node.post("/users/nobody/inbox", follow, alice)).status_code == 404
    assert (await node.to_bob(follow, alice)).status_code == 202
    assert (await node.to_bob(follow, alice)).status_code == 202  # the same again
    async with node.sessions() as session, session.begin():
        session.add(DomainBlock(domain=remote.netloc))
    node.federation.policies.forget()  # the inbox re-reads its policies every few seconds
    assert (await node.to_bob(follow_doc(alice.uri, node.actor_uri("bob")), alice)).status_code == 403
    after = await scrape(node.client)

    def moved(outcome: str, reason: str) -> float:
        labels = {"outcome": outcome, "reason": reason}
        return after.value("talentfed_inbox_activities_total", **labels) - before.value(
            "talentfed_inbox_activities_total", **labels
        )

    assert moved("refused", "signature") == 1
    assert moved("refused", "unknown_recipient") == 1
    assert moved("accepted", "applied") == 1
    assert moved("accepted", "duplicate") == 1
    assert moved("refused", "blocked_domain") == 1
    # The unsigned POST is also a signature failure, by its own reason; no URL is ever a label.
    assert _moved(before, after, "talentfed_signature_failures_total", reason="missing") == 1
    assert remote.netloc not in after.text


async def test_signature_failures_are_counted_by_reason(node: Node, alice: RemoteUser) -> None:
    before = await scrape(node.client)
    forged, _ = generate_rsa_keypair()
    follow = follow_doc(alice.uri, node.actor_uri("bob"))
    assert (await node.to_bob(follow, alice, private_pem=forged)).status_code == 401
    url = f"{node.config.node.base_url}/users/bob/inbox"
    body = json.dumps(follow_doc(alice.uri, node.actor_uri("bob"))).encode()
    stale = datetime(2001, 1, 1, tzinfo=UTC)  # signed long ago: outside the accepted window
    headers = signed_headers("POST", url, body, key_id=alice.key_id, private_pem=alice.private_pem, now=stale)
    assert (await node.client.post("/users/bob/inbox", content=body, headers=headers)).status_code == 401
    after = await scrape(node.client)
    assert _moved(before, after, "talentfed_signature_failures_total", reason="invalid") == 1
    assert _moved(before, after, "talentfed_signature_failures_total", reason="time_window") == 1
    refused = _moved(before, after, "talentfed_inbox_activities_total", outcome="refused", reason="signature")
    assert refused == 2


async def test_deliveries_are_counted_by_outcome(node: Node, remote: RemoteServer) -> None:
    users = [remote.add_user(name) for name in ("ann", "ben", "cid")]
    before = await scrape(node.client)
    # ann's inbox takes the Accept; ben's is gone (410: failed for good); cid's is down (503: retried)
    statuses = {"/users/ann/inbox": 202, "/users/ben/inbox": 410, "/users/cid/inbox": 503}
    remote.answer = _answers_by_path(statuses)
    for user in users:
        assert (await _follow(node, user, "bob", f"req-{user.slug}")).status_code == 202
    await node.federation.new_worker().run_until_idle()
    after = await scrape(node.client)
    assert _moved(before, after, "talentfed_delivery_attempts_total", outcome="done") == 1
    assert _moved(before, after, "talentfed_delivery_attempts_total", outcome="failed") == 1
    assert _moved(before, after, "talentfed_delivery_attempts_total", outcome="retry") == 1
    # cid's job waits out its backoff: the queue, read from the database, says so.
    assert after.value("talentfed_delivery_queue_jobs", state="deferred") == 1
    assert after.value("talentfed_delivery_queue_jobs", state="due") == 0


async def test_a_host_given_up_on_is_counted_and_shown_unreachable(
    node: Node, remote: RemoteServer, alice: RemoteUser
) -> None:
    before = await scrape(node.client)
    remote.answer_with(503)
    assert (await _follow(node, alice, "bob", "req-gone")).status_code == 202
    # A policy that gives up at the first failure, as two days of them would.
    impatient = await Federation.open(node.config, node.sessions, DeliveryPolicy(give_up_after=timedelta(0)))
    try:
        await impatient.new_worker().run_until_idle()
    finally:
        await impatient.close()
    after = await scrape(node.client)
    assert _moved(before, after, "talentfed_hosts_marked_unreachable_total") == 1
    assert after.value("talentfed_unreachable_hosts") == 1
    async with node.sessions() as session:
        assert await session.scalar(select(DeliveryJob.state)) == "dead"


# --- one request id from the inbox to the delivery ----------------------------------------------


async def test_the_request_id_of_an_inbox_post_is_on_its_deliveries_log_lines(
    node: Node, remote: RemoteServer, alice: RemoteUser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="httpx")  # a node shows its lines only when debugging
    response = await _follow(node, alice, "bob", "req-follow-1")
    assert response.status_code == 202 and response.headers["x-request-id"] == "req-follow-1"
    async with node.sessions() as session:
        assert await session.scalar(select(DeliveryJob.request_id)) == "req-follow-1"
    assert (await node.client.get("/healthz", headers={"X-Request-Id": "req-other"})).status_code == 200

    # Later, and in another task, as a worker process would:
    await node.federation.new_worker().run_until_idle()
    [accept] = remote.received

    lines = _json_lines(caplog)
    followed = [line for line in lines if line["request_id"] == "req-follow-1"]
    by_logger = {line["logger"]: line for line in followed}
    # The POST's access line, the Accept queued while it was applied, and the Accept's delivery.
    assert by_logger["talentfed.access"]["path"] == "/users/bob/inbox"
    assert by_logger["talentfed.access"]["status"] == 202
    assert by_logger["talentfed.outbox"]["activity"] == accept.json()["id"]
    delivered = by_logger["talentfed.delivery"]
    assert (delivered["outcome"], delivered["http_status"], delivered["inbox"]) == ("done", 202, alice.inbox)
    assert delivered["activity"] == accept.json()["id"] and delivered["level"] == "INFO"
    assert lines.index(by_logger["talentfed.access"]) < lines.index(delivered)
    # What the attempt logged besides carries it too (httpx's line of the POST to alice)...
    assert any(line["logger"] == "httpx" and alice.inbox in line["message"] for line in followed)
    assert {line["logger"] for line in followed} == {
        "talentfed.access",
        "talentfed.outbox",
        "talentfed.delivery",
        "httpx",
    }
    # ...and nothing else does: not the next request, nor what runs after the work.
    [health] = [line for line in lines if line.get("path") == "/healthz"]
    assert health["request_id"] == "req-other"
    assert current_request_id() is None


async def test_activities_applied_in_one_shared_transaction_keep_their_own_request_ids(
    node: Node, remote: RemoteServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inbox applies concurrent POSTs together (group commit); each Accept still carries the
    id of the POST that asked for it, not the id of whichever POST started the batch."""
    caplog.set_level(logging.INFO)
    users = [remote.add_user(f"u{n}") for n in range(6)]
    # One drainer, held at its first batch until every POST has queued its unit: the other five
    # then run in one transaction, whichever order the POSTs arrive in.
    writes = node.federation.inbox.writes
    monkeypatch.setattr(writes, "parallel", 1)
    queued, gate = 0, asyncio.Event()
    run, prepare = writes.run, writes.prepare

    async def counted_run(unit, *, hint=None):
        nonlocal queued
        queued += 1
        return await run(unit, hint=hint)

    async def held_prepare(session, hints):
        await gate.wait()
        await prepare(session, hints)

    monkeypatch.setattr(writes, "run", counted_run)
    monkeypatch.setattr(writes, "prepare", held_prepare)
    batches = writes.batches
    posts = asyncio.gather(*(_follow(node, user, "bob", f"req-{user.slug}") for user in users))
    await eventually(lambda: queued == len(users), what="every POST's unit queued")
    gate.set()
    assert all(response.status_code == 202 for response in await posts)
    assert writes.batches - batches == 2  # the first alone, then the five others together
    async with node.sessions() as session:
        rows = (await session.execute(select(DeliveryJob.inbox_url, DeliveryJob.request_id))).all()
    assert {(inbox, request_id) for inbox, request_id in rows} == {(u.inbox, f"req-{u.slug}") for u in users}

    await node.federation.new_worker().run_until_idle()
    delivered = {
        line["inbox"]: line["request_id"]
        for line in _json_lines(caplog)
        if line["logger"] == "talentfed.delivery" and "inbox" in line
    }
    assert delivered == {user.inbox: f"req-{user.slug}" for user in users}


# --- helpers -------------------------------------------------------------------------------


def _moved(before: Scrape, after: Scrape, name: str, **labels: str) -> float:
    return after.value(name, **labels) - before.value(name, **labels)


def _answers_by_path(statuses: dict[str, int]):
    async def answer(received) -> int:
        return statuses[received.path]

    return answer
