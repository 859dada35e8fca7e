"""Rate limits: which requests count against which limit, keyed by whom.

The one home of the rules. The limits are Mastodon's (docs.joinmastodon.org/api/rate-limits)
with the numbers of `[rate_limits]`; failed sign-ins keep `[web] sign_in_attempts`. Counting is
`talentfed/rate_limiter.py`, in the store `counter_for` chooses: Redis with `[cache] url`, else
the database on PostgreSQL (every process of the node shares the counts either way), else this
process's memory (SQLite: one process). The client API's answers (X-RateLimit-* headers, 429)
are `web/mastodon/throttling.py`, the sign-in and join pages' are theirs (`web/accounts.py`).

| Requests | Limit, window | Key |
|---|---|---|
| `/api/v1/…`, `/api/v2/…` with a bearer token | `api_per_token`, 5 min | the token's SHA-256 |
| the same, with a valid token of a member's | `api_per_account`, 5 min | the member (all tokens) |
| the same without a token | `api_per_address`, 5 min | the client's address |
| all of the above, and `POST /oauth/token`, `/oauth/revoke` | `all_per_address`, 5 min | address |
| `POST /api/v*/media` | `media_per_token`, 30 min | token |
| `DELETE /api/v1/statuses/:id`, `POST …/:id/unreblog` | `deletions_per_token`, 30 min | token |
| `POST /api/v1/accounts`; accounts created through `/join` | `accounts_per_address`, 30 min | address |
| `POST /oauth/token`, `/oauth/revoke` (they carry client secrets) | `oauth_per_address`, 5 min | address |
| failed sign-ins (`/sign-in`) | `[web] sign_in_attempts`, `sign_in_window_minutes` | address; account name |

The address is `client_address` (a trusted proxy's X-Forwarded-For applied), an IPv6 address
counted by its /64 as Mastodon does: one machine gets a whole /64. A token is never kept, only
its digest; a made-up token gets its own count, but the address's `all_per_address` bounds how
many of those one client can try.

Not limited here: ActivityPub (inbox, actors, objects, collections), `/.well-known`, NodeInfo
and the web pages; federation traffic is bounded by the inbox's own caps instead.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from talentfed.config import Config
from talentfed.domain.stored_secrets import digest
from talentfed.rate_limiter import Limiter, MemoryLimiter, Rule, Window
from talentfed.storage.rate_counters import DatabaseLimiter, RedisLimiter
from talentfed.web.caller import bearer_token, client_address

FIVE_MINUTES = 5 * 60.0
HALF_AN_HOUR = 30 * 60.0

API_PREFIXES = ("/api/v1/", "/api/v2/")
OAUTH_PATHS = frozenset({"/oauth/token", "/oauth/revoke"})
_MEDIA = re.compile(r"^/api/v\d+/media$")
_STATUS = re.compile(r"^/api/v1/statuses/[^/]+$")
_UNREBLOG = re.compile(r"^/api/v1/statuses/[^/]+/unreblog$")
# RFC 6750's token characters, at a plausible length: anything else is no token, counted by address
_TOKEN = re.compile(r"^[A-Za-z0-9._~+/=-]{16,512}$")

Counted = list[tuple[Rule, str]]  # what one request counts against: (rule, key)


@dataclass(frozen=True)
class Rules:
    api_token: Rule
    api_account: Rule
    api_address: Rule
    all_address: Rule
    media: Rule
    deletions: Rule
    accounts: Rule
    oauth: Rule
    sign_in_address: Rule
    sign_in_account: Rule


def rules_of(config: Config) -> Rules:
    limits, sign_in_window = config.rate_limits, config.web.sign_in_window_minutes * 60.0
    return Rules(
        api_token=Rule("api per token", limits.api_per_token, FIVE_MINUTES),
        api_account=Rule("api per account", limits.api_per_account, FIVE_MINUTES),
        api_address=Rule("api per address", limits.api_per_address, FIVE_MINUTES),
        all_address=Rule("all per address", limits.all_per_address, FIVE_MINUTES),
        media=Rule("media", limits.media_per_token, HALF_AN_HOUR),
        deletions=Rule("deletions", limits.deletions_per_token, HALF_AN_HOUR),
        accounts=Rule("accounts", limits.accounts_per_address, HALF_AN_HOUR),
        oauth=Rule("oauth", limits.oauth_per_address, FIVE_MINUTES),
        sign_in_address=Rule("failed sign-ins per address", config.web.sign_in_attempts, sign_in_window),
        sign_in_account=Rule("failed sign-ins per account", config.web.sign_in_attempts, sign_in_window),
    )


def address_key(connection: HTTPConnection) -> str:
    """The client's address as counted: IPv4 as is, IPv6 by its /64."""
    address = client_address(connection)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def counter_for(config: Config, sessions: async_sessionmaker[AsyncSession]) -> Limiter:
    """Where the node counts: shared by all its processes, except on SQLite (one process)."""
    if config.cache.url:
        return RedisLimiter(config.cache.url)
    if config.is_sqlite:
        return MemoryLimiter(config.rate_limits.max_keys)
    return DatabaseLimiter(sessions)


class RateLimits:
    """The node's limits and the counter behind them: one per app, `app.state.rate_limits`."""

    def __init__(self, config: Config, limiter: Limiter) -> None:
        self.enabled = config.rate_limits.enabled
        self.rules = rules_of(config)
        self.limiter = limiter

    def of_request(self, connection: HTTPConnection) -> Counted:
        """What a request counts against; nothing when limits are off or the path is not limited."""
        path, method = connection.scope["path"], connection.scope["method"]
        limited = path.startswith(API_PREFIXES) or (method == "POST" and path in OAUTH_PATHS)
        if not self.enabled or not limited:
            return []
        address = address_key(connection)
        if path in OAUTH_PATHS:
            return [(self.rules.oauth, address), (self.rules.all_address, address)]
        bearer = bearer_token(connection)
        token = digest(bearer) if bearer and _TOKEN.match(bearer) else None
        counted = [(self.rules.api_token, token) if token else (self.rules.api_address, address)]
        counted += self._endpoint_limits(method, path, token, address)
        return [*counted, (self.rules.all_address, address)]

    def counts_a_token(self, counted: Counted) -> bool:
        """Whether a request is counted by its token: then its member's count applies too."""
        return any(rule is self.rules.api_token for rule, _ in counted)

    def of_account(self, user_id: int) -> Counted:
        """What a request made with a valid token of member `user_id` counts against besides."""
        return [(self.rules.api_account, f"user {user_id}")]

    def _endpoint_limits(self, method: str, path: str, token: str | None, address: str) -> Counted:
        if method == "POST" and path == "/api/v1/accounts":
            return [(self.rules.accounts, address)]
        if token is None:  # the rest are per account: without a token the endpoint answers 401
            return []
        if method == "POST" and _MEDIA.match(path):
            return [(self.rules.media, token)]
        if (method == "DELETE" and _STATUS.match(path)) or (method == "POST" and _UNREBLOG.match(path)):
            return [(self.rules.deletions, token)]
        return []

    def of_sign_in(self, connection: HTTPConnection, username: str) -> tuple[Counted, Counted]:
        """(the address's and the account's failures, the account's alone): all of them count
        a failure; a success starts only the account over (the address may be guessing others)."""
        account = (self.rules.sign_in_account, username)
        return [(self.rules.sign_in_address, address_key(connection)), account], [account]

    def of_joining(self, connection: HTTPConnection) -> Counted:
        """Accounts created from the client's address; nothing when limits are off."""
        return [(self.rules.accounts, address_key(connection))] if self.enabled else []

    async def count(self, counted: Counted) -> list[Window]:
        return [await self.limiter.hit(rule, key) for rule, key in counted]

    async def forget(self, counted: Counted) -> None:
        for rule, key in counted:
            await self.limiter.forget(rule, key)

    async def wait(self, counted: Counted) -> int:
        """0 when one more may be done now, else the seconds until every full limit has reset."""
        windows = [await self.limiter.peek(rule, key) for rule, key in counted]
        return max((window.retry_after for window in windows if window.full), default=0)


def rate_limits(connection: HTTPConnection) -> RateLimits:
    limits: RateLimits = connection.app.state.rate_limits
    return limits
