"""HTTP connection pooling that never closes a connection under a request about to use it.

httpcore's pool (1.0.9, the newest release) hands an idle connection to a queued request, and
the connection stays idle until that request's task next runs. A pool pass by another task
in between may close it as expired or surplus (encode/httpcore#1110, unfixed upstream). If
the request starts on it first, the socket is closed under a request already sent: the POST
reached the inbox, the sender gets a `ReadError` and sends it again. It happened in bursts
after the event loop stalled past the keep-alive expiry, which made every idle connection
"expired" at once (`tests/federation/test_connection_pool.py` reproduces it).

`RaceFreeConnectionPool` hides the connections promised to requests from that pass. The
fetcher's client is built on `pooled_transport`, and so are those of the tests and proving
scenarios that POST many requests at once.
"""

from __future__ import annotations

import ssl

import httpcore
import httpx


class RaceFreeConnectionPool(httpcore.AsyncConnectionPool):
    """httpcore's pool, but a pass never closes (or hands out again) an idle connection it has
    already handed to a request that has not started on it yet."""

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        promised = {
            id(request.connection)
            for request in self._requests
            if request.connection is not None and request.connection.is_idle()
        }
        if not promised:
            return super()._assign_requests_to_connections()
        everyone = self._connections
        held = [connection for connection in everyone if id(connection) in promised]
        # The pass sees the others only; its limits are lowered by what it does not see, so
        # the pool as a whole keeps the limits it was given.
        self._connections = [connection for connection in everyone if id(connection) not in promised]
        self._max_connections -= len(held)
        self._max_keepalive_connections -= len(held)
        try:
            return super()._assign_requests_to_connections()
        finally:
            self._max_connections += len(held)
            self._max_keepalive_connections += len(held)
            self._connections = held + self._connections


def pooled_transport(
    *,
    limits: httpx.Limits,
    verify: ssl.SSLContext | bool = True,
    network_backend: httpcore.AsyncNetworkBackend | None = None,
) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose pool is a `RaceFreeConnectionPool` (and which connects through
    `network_backend`, when given: httpx itself has no parameter for one)."""
    transport = httpx.AsyncHTTPTransport(verify=verify, trust_env=False, limits=limits)
    transport._pool = RaceFreeConnectionPool(
        ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=network_backend,
    )
    return transport
