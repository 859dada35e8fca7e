"""Who is asking: the client's address, and the bearer token it presents. Decided here only.

Behind a reverse proxy every connection comes from the proxy, which names the real client in
X-Forwarded-For. That header is believed only when the connection comes from one of
`[server] forwarded_allow_ips` (anyone else could write it to pass for any address). uvicorn's
ProxyHeadersMiddleware applies that rule and rewrites the connection's client (and scheme);
`create_app` installs it outermost, so every ASGI server and every test sees the same rule.
Whatever counts or refuses by address (rate limits, sign-in throttling) reads `client_address`.
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.requests import HTTPConnection
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from talentfed.config import Config

UNKNOWN = "unknown"  # no client in the scope (some test transports, unix sockets)


def behind_proxies(config: Config) -> Middleware:
    """The app's outermost middleware: trust X-Forwarded-For/-Proto from the configured proxies only."""
    return Middleware(ProxyHeadersMiddleware, trusted_hosts=config.server.forwarded_allow_ips)


def client_address(connection: HTTPConnection) -> str:
    """The client's IP address as a string, after a trusted proxy's X-Forwarded-For was applied."""
    return connection.client.host if connection.client else UNKNOWN


def bearer_token(connection: HTTPConnection) -> str | None:
    """The token of an `Authorization: Bearer` header, unchecked (the client API's `auth` looks
    it up; rate limits count by its digest)."""
    scheme, _, credentials = connection.headers.get("authorization", "").partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None
