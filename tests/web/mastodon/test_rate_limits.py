"""Rate limits on the client API, as an app and as an abuser meet them: X-RateLimit-* headers that
count down, Mastodon's 429 with Retry-After (and CORS, for browser apps), a count per token and
per address, windows that end (on a clock the test moves), X-Forwarded-For believed only from a
trusted proxy, bounded memory, the sign-in and join pages, and limits turned off."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from talentfed.config import Config, RateLimitsConfig
from talentfed.domain.demo import DEMO_PASSWORD, ensure_demo
from talentfed.rate_limiter import MemoryLimiter
from talentfed.storage.db import session_factory
from talentfed.web.app import create_app
from tests.test_rate_limiter import Clock
from tests.web.mastodon.test_oauth import bearer, member_token, register
from tests.web.test_pages import form_post, sign_in

LIMITS = RateLimitsConfig(
    api_per_token=5,
    api_per_account=12,
    api_per_address=4,
    all_per_address=40,
    media_per_token=2,
    deletions_per_token=2,
    accounts_per_address=2,
    oauth_per_address=3,
    max_keys=50,
)
CLIENT = "198.51.100.7"  # the client under test
ELSEWHERE = "198.51.100.8"
SETUP = "192.0.2.10"  # where tokens are fetched from, so that fetching them costs CLIENT nothing
PROXY = "127.0.0.1"  # [server] forwarded_allow_ips by default


@dataclasses.dataclass
class Node:
    app: Starlette
    clock: Clock
    limiter: MemoryLimiter
    base_url: str

    def client(self, address: str = CLIENT) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(address, 50123))
        return httpx.AsyncClient(transport=transport, base_url=self.base_url)

    async def tokens(self, count: int) -> list[dict[str, str]]:
        """`count` tokens of ada's, through the real OAuth flow."""
        async with self.client(SETUP) as setup:
            app = await register(setup)
            return [bearer(str((await member_token(setup, app))["access_token"])) for _ in range(count)]


async def _node(config: Config, engine: AsyncEngine, limits: RateLimitsConfig) -> AsyncIterator[Node]:
    async with session_factory(engine)() as session, session.begin():
        await ensure_demo(session, config)
    clock = Clock()
    limiter = MemoryLimiter(limits.max_keys, clock)
    web = dataclasses.replace(config.web, open_registrations=True)
    limited = dataclasses.replace(config, rate_limits=limits, web=web)
    app = create_app(limited, engine=engine, run_workers=False, rate_limiter=limiter)
    async with app.router.lifespan_context(app):
        yield Node(app, clock, limiter, config.node.base_url)


@pytest.fixture
async def node(config: Config, engine: AsyncEngine) -> AsyncIterator[Node]:
    async for made in _node(config, engine, LIMITS):
        yield made


@pytest.fixture
async def unlimited(config: Config, engine: AsyncEngine) -> AsyncIterator[Node]:
    async for made in _node(config, engine, dataclasses.replace(LIMITS, enabled=False)):
        yield made


def standing(response: httpx.Response) -> tuple[int, int]:
    return int(response.headers["x-ratelimit-limit"]), int(response.headers["x-ratelimit-remaining"])


def assert_too_many(response: httpx.Response, limit: int, retry_after: int) -> None:
    assert response.status_code == 429, response.text
    assert response.json() == {"error": "Too many requests"}
    assert standing(response) == (limit, 0)
    assert response.headers["retry-after"] == str(retry_after)


# --- what apps see ---------------------------------------------------------------------


async def test_answers_count_down_then_429_until_the_window_ends(node: Node) -> None:
    async with node.client() as client:
        answers = [await client.get("/api/v1/instance") for _ in range(4)]
        assert [a.status_code for a in answers] == [200] * 4
        assert [standing(a) for a in answers] == [(4, 3), (4, 2), (4, 1), (4, 0)]
        reset = datetime.fromisoformat(answers[0].headers["x-ratelimit-reset"])
        assert reset.timestamp() == node.clock.now + 300  # 5 minutes from the first request

        node.clock.now += 120
        refused = await client.get("/api/v1/instance")
        assert_too_many(refused, 4, retry_after=180)
        assert refused.headers["access-control-allow-origin"] == "*"  # a browser app may read it
        assert "X-RateLimit-Remaining" in refused.headers["access-control-expose-headers"]

        node.clock.now += 180
        again = await client.get("/api/v1/instance")
        assert again.status_code == 200 and standing(again) == (4, 3)
    async with node.client(ELSEWHERE) as elsewhere:
        assert standing(await elsewhere.get("/api/v1/instance")) == (4, 3)


async def test_each_token_counts_apart_from_other_tokens_and_from_its_address(node: Node) -> None:
    first, second = await node.tokens(2)
    async with node.client() as client:
        for left in range(4, -1, -1):
            mine = await client.get("/api/v1/accounts/verify_credentials", headers=first)
            assert mine.status_code == 200 and standing(mine) == (5, left)
        assert_too_many(await client.get("/api/v1/accounts/verify_credentials", headers=first), 5, 300)
        other = await client.get("/api/v1/accounts/verify_credentials", headers=second)
        assert other.status_code == 200 and standing(other) == (5, 4)
        anonymous = await client.get("/api/v1/instance")
        assert anonymous.status_code == 200 and standing(anonymous) == (4, 3)


async def test_an_accounts_tokens_share_its_own_limit(node: Node) -> None:
    """Mastodon's per-user limit: new tokens do not buy a member more requests."""
    tokens = await node.tokens(3)
    async with node.client() as client:
        for token in tokens[:2]:
            answers = [
                await client.get("/api/v1/accounts/verify_credentials", headers=token) for _ in range(5)
            ]
            assert {a.status_code for a in answers} == {200}
        third = [await client.get("/api/v1/accounts/verify_credentials", headers=tokens[2]) for _ in range(2)]
        assert [standing(a) for a in third] == [(12, 1), (12, 0)]
        assert_too_many(await client.get("/api/v1/accounts/verify_credentials", headers=tokens[2]), 12, 300)
        anonymous = await client.get("/api/v1/instance")  # the address's own limit is apart
        assert anonymous.status_code == 200 and standing(anonymous) == (4, 3)


async def test_the_node_counts_in_the_database_on_postgresql_and_takes_any_sign_in_name(
    config: Config, engine: AsyncEngine
) -> None:
    """The counter the app chooses itself (no test clock): shared in the database on PostgreSQL,
    in memory on SQLite; a sign-in name a database would refuse is counted like any other."""
    async with session_factory(engine)() as session, session.begin():
        await ensure_demo(session, config)
    limited = dataclasses.replace(config, rate_limits=LIMITS)
    app = create_app(limited, engine=engine, run_workers=False)
    hostile = "\x00ada" + "é" * 20_000
    async with app.router.lifespan_context(app):
        assert type(app.state.rate_limits.limiter).__name__ == (
            "MemoryLimiter" if config.is_sqlite else "DatabaseLimiter"
        )
        transport = httpx.ASGITransport(app=app, client=(CLIENT, 50123))
        async with httpx.AsyncClient(transport=transport, base_url=config.node.base_url) as client:
            answers = [await sign_in(client, hostile, "wrong") for _ in range(6)]
            assert [a.status_code for a in answers] == [401] * 5 + [429]
            counted = [await client.get("/api/v1/instance") for _ in range(5)]
            assert [standing(a) for a in counted[:4]] == [(4, 3), (4, 2), (4, 1), (4, 0)]
            assert_too_many(counted[4], 4, 300)


async def test_made_up_tokens_do_not_escape_the_address_limit(node: Node) -> None:
    async with node.client() as client:
        answers = [
            await client.get("/api/v1/timelines/home", headers=bearer(f"made-up-token-number-{n:04d}"))
            for n in range(LIMITS.all_per_address)
        ]
        assert {a.status_code for a in answers} == {401}
        assert standing(answers[-1]) == (40, 0)  # the limit closest to running out
        refused = await client.get("/api/v1/timelines/home", headers=bearer("yet-another-made-up-token"))
        assert_too_many(refused, 40, retry_after=300)


async def test_deletions_have_their_own_smaller_limit(node: Node) -> None:
    (token,) = await node.tokens(1)
    async with node.client() as client:
        for _ in range(2):
            gone = await client.delete("/api/v1/statuses/999999", headers=token)
            assert gone.status_code == 404 and standing(gone) == (2, 1 if _ == 0 else 0)
        assert_too_many(await client.delete("/api/v1/statuses/999999", headers=token), 2, 1800)
        unreblog = await client.post("/api/v1/statuses/999999/unreblog", headers=token)
        assert_too_many(unreblog, 2, 1800)  # Mastodon counts an unreblog as a deletion
        reading = await client.get("/api/v1/accounts/verify_credentials", headers=token)
        assert reading.status_code == 200 and standing(reading) == (5, 0)


async def test_token_requests_are_limited_per_address(node: Node) -> None:
    guess = {"grant_type": "client_credentials", "client_id": "guess", "client_secret": "guess"}
    async with node.client() as client:
        for left in (2, 1, 0):
            answer = await client.post("/oauth/token", data=guess)
            assert answer.status_code == 401 and standing(answer) == (3, left)
        refused = await client.post("/oauth/token", data=guess)
        assert_too_many(refused, 3, retry_after=300)
        assert refused.headers["access-control-allow-origin"] == "*"
        assert_too_many(await client.post("/oauth/revoke", data={**guess, "token": "x"}), 3, 300)


async def test_federation_discovery_and_pages_are_not_limited(node: Node) -> None:
    async with node.client() as client:
        for _ in range(10):
            for url in (
                "/.well-known/nodeinfo",
                "/.well-known/webfinger?resource=acct:ada@127.0.0.1:8000",
                "/users/ada",
                "/",
            ):
                answer = await client.get(url)
                assert answer.status_code == 200, url
                assert "x-ratelimit-limit" not in answer.headers, url
        preflight = await client.options(
            "/api/v1/instance",
            headers={"Origin": "https://elk.example", "Access-Control-Request-Method": "GET"},
        )
        assert preflight.status_code == 204
    assert node.limiter.keys_held() == 0


async def test_limits_turned_off_count_nothing(unlimited: Node) -> None:
    async with unlimited.client() as client:
        for _ in range(10):
            answer = await client.get("/api/v1/instance")
            assert answer.status_code == 200 and "x-ratelimit-limit" not in answer.headers
    assert unlimited.limiter.keys_held() == 0


# --- who the client is -----------------------------------------------------------------


async def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(node: Node) -> None:
    async with node.client(CLIENT) as untrusted:
        for n in range(4):
            spoofed = await untrusted.get("/api/v1/instance", headers={"X-Forwarded-For": f"203.0.113.{n}"})
            assert spoofed.status_code == 200
        refused = await untrusted.get("/api/v1/instance", headers={"X-Forwarded-For": "203.0.113.99"})
        assert refused.status_code == 429
    async with node.client(PROXY) as proxy:
        for address in ("203.0.113.1", "203.0.113.2"):
            for left in (3, 2, 1, 0):
                answer = await proxy.get("/api/v1/instance", headers={"X-Forwarded-For": address})
                assert standing(answer) == (4, left), address


async def test_an_ipv6_client_is_counted_by_its_64(node: Node) -> None:
    async with node.client(PROXY) as proxy:
        for address in ("2001:db8::1", "2001:db8::2", "2001:db8::3", "2001:db8::ffff:1"):
            assert (
                await proxy.get("/api/v1/instance", headers={"X-Forwarded-For": address})
            ).status_code == 200
        same_64 = await proxy.get("/api/v1/instance", headers={"X-Forwarded-For": "2001:db8::4"})
        assert same_64.status_code == 429
        other_64 = await proxy.get("/api/v1/instance", headers={"X-Forwarded-For": "2001:db8:0:1::1"})
        assert other_64.status_code == 200 and standing(other_64) == (4, 3)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-For": "not an address"},
        {"X-Forwarded-For": ", , ,"},
        {"X-Forwarded-For": "[::1]:80, 300.1.1.1"},
        {"Authorization": "Bearer " + "x" * 10_000},
        {"Authorization": "Bearer " + "\u00e9" * 16},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic Zm9vOmJhcg=="},
    ],
)
async def test_odd_headers_are_counted_somewhere_and_never_a_500(node: Node, headers: dict[str, str]) -> None:
    async with node.client(PROXY) as proxy:
        encoded = {name: value.encode("utf-8") for name, value in headers.items()}
        answer = await proxy.get("/api/v1/timelines/public", headers=encoded)
        assert answer.status_code in (200, 401), answer.text
        assert answer.headers["x-ratelimit-limit"]


async def test_a_flood_of_addresses_keeps_memory_bounded(node: Node) -> None:
    async with node.client(PROXY) as proxy:
        for n in range(500):
            address = f"10.{n // 65536}.{n // 256 % 256}.{n % 256}"
            answer = await proxy.get("/api/v1/instance", headers={"X-Forwarded-For": address})
            assert answer.status_code == 200
    # Two limits count each of them (per address, all per address), each keeps at most max_keys.
    assert node.limiter.keys_held() == 2 * LIMITS.max_keys
    node.clock.now += 300
    async with node.client() as client:
        await client.get("/api/v1/instance")
    assert node.limiter.keys_held() == 2  # the ended windows are gone; CLIENT's are new


# --- the web pages' limits, kept in the same place --------------------------------------


async def test_failed_sign_ins_are_throttled_per_address_and_per_account(node: Node) -> None:
    async with node.client() as guesser:
        for _ in range(5):
            assert (await sign_in(guesser, "grace", "wrong")).status_code == 401
        limited = await sign_in(guesser, "grace", DEMO_PASSWORD)
        assert limited.status_code == 429 and limited.headers["retry-after"] == str(15 * 60)
        assert (await sign_in(guesser, "ada")).status_code == 429  # this address guessed enough
    async with node.client(ELSEWHERE) as other:
        assert (await sign_in(other, "grace")).status_code == 429  # this account was guessed at
        assert (await sign_in(other, "ada")).status_code == 303
    node.clock.now += 15 * 60
    async with node.client() as guesser:
        assert (await sign_in(guesser, "grace")).status_code == 303


async def test_accounts_created_are_limited_per_address(node: Node) -> None:
    fields = {
        "display_name": "New",
        "password": "a long enough password",
        "password_again": "a long enough password",
    }
    async with node.client() as client:
        for name in ("ann", "ben"):
            taken = await form_post(client, "/join", "/join", {**fields, "username": "ada"})
            assert taken.status_code == 400  # refused joins create nothing, so they count nothing
            joined = await form_post(client, "/join", "/join", {**fields, "username": name})
            assert joined.status_code == 303, joined.text
        refused = await form_post(client, "/join", "/join", {**fields, "username": "cat"})
        assert refused.status_code == 429 and "Too many accounts" in refused.text
        assert refused.headers["retry-after"] == str(30 * 60)
    async with node.client(ELSEWHERE) as other:
        joined = await form_post(other, "/join", "/join", {**fields, "username": "cat"})
        assert joined.status_code == 303
