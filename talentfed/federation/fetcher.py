"""The one HTTP client for talking to remote servers (GETs now, deliveries later).

Security properties, and where each is enforced:

* SSRF: `GuardedNetworkBackend` resolves the host itself, refuses non-public
  addresses (see `addresses`), and connects to a checked IP while TLS (SNI,
  certificate) and the Host header keep the name. The check therefore covers
  the address actually connected to, including after DNS rebinding and on
  every redirect hop. Environment proxies are ignored, since a proxy would
  connect on our behalf unchecked.
* Schemes: https only; http too in dev mode. Checked again on every redirect.
* Size: the body is counted while it streams and abandoned once over the limit; a JSON
  document is then held to the caps on federated input (`limits.parse_json`).
* Authority of a fetched ActivityPub document (`fetch_json`): it must be served
  with an ActivityStreams media type and its `id` must be the URL that served
  it. See `Fetcher.fetch_json` for how this relates to Mastodon.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Self, TypeGuard
from urllib.parse import urldefrag, urljoin

import anyio
import httpcore
import httpx

from talentfed import __version__
from talentfed.federation import limits
from talentfed.federation.addresses import (
    AddressNotAllowed,
    FetchError,
    blocked_reason,
    is_local_network_address,
)
from talentfed.federation.connection_pool import pooled_transport

__all__ = [
    "AP_ACCEPT",
    "AddressNotAllowed",
    "BadStatus",
    "ConnectionFailed",
    "FetchError",
    "FetchTimeout",
    "Fetcher",
    "FetcherConfig",
    "GuardedNetworkBackend",
    "IdMismatch",
    "InvalidJSON",
    "PostResult",
    "Response",
    "ResponseTooLarge",
    "TooManyRedirects",
    "URLNotAllowed",
    "WrongContentType",
    "is_activitystreams_content_type",
]

AS_PROFILE = "https://www.w3.org/ns/activitystreams"
AP_ACCEPT = f'application/activity+json, application/ld+json; profile="{AS_PROFILE}"'
MAX_CONNECTIONS = 512
# A POST's answer (an inbox's 202) is read, up to this, though no one uses it: a connection whose
# answer was not read to its end cannot be reused, and each delivery would open a new one.
DRAIN_BYTES = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# sign(method, url, headers, body) -> headers to add (Signature, Digest, ...).
# `headers` is case-insensitive and holds everything that will be sent, Host and
# Date included; it is a copy, so the signer cannot change what is sent but
# through its return value.
Signer = Callable[[str, str, Mapping[str, str], bytes | None], Mapping[str, str]]
# resolve(host, port) -> IP address literals, in the order to try them.
Resolver = Callable[[str, int], Awaitable[list[str]]]


class URLNotAllowed(FetchError):
    """Not an absolute http(s) URL we may request (scheme, credentials, no host)."""


class ResponseTooLarge(FetchError):
    """The response body is larger than the configured limit."""


class TooManyRedirects(FetchError):
    """More redirects than the configured limit."""


class FetchTimeout(FetchError):
    """Connecting, reading or the whole exchange took too long."""


class ConnectionFailed(FetchError):
    """DNS, TCP, TLS or HTTP protocol failure."""


class BadStatus(FetchError):
    """The remote answered with a status we cannot use."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.status = status


class WrongContentType(FetchError):
    """The response is not served as an ActivityStreams document."""


class InvalidJSON(FetchError):
    """The body is not a JSON object."""


class IdMismatch(FetchError):
    """The document's `id` is not the URL that served it."""


@dataclass(frozen=True)
class FetcherConfig:
    base_url: str
    dev_mode: bool = False
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0
    max_response_bytes: int = 1024 * 1024
    max_redirects: int = 3

    @property
    def user_agent(self) -> str:
        return f"talentfed/{__version__} (+{self.base_url})"


@dataclass(frozen=True)
class Response:
    url: str  # the URL that produced this response, after redirects
    status: int
    headers: httpx.Headers
    body: bytes


@dataclass(frozen=True)
class PostResult:
    status: int
    headers: httpx.Headers


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with the system resolver (getaddrinfo), without blocking the loop."""
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that only connects to permitted addresses.

    httpcore hands us the URL's host name; we resolve it, drop every refused
    address and connect to a remaining IP literal. httpcore then starts TLS with
    the original name as SNI, so certificates are still checked against it.
    """

    def __init__(
        self,
        *,
        allow_local: bool = False,
        resolver: Resolver | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._allow_local = allow_local
        self._resolve = resolver or system_resolver
        self._inner = inner or httpcore.AnyIOBackend()

    def refusal(self, ip: str) -> str | None:
        """Why we will not connect to `ip`, or None if we will."""
        reason = blocked_reason(ip)
        if reason is None or (self._allow_local and is_local_network_address(ip)):
            return None
        return reason

    async def permitted_addresses(self, host: str, port: int, timeout: float | None = None) -> list[str]:
        """The resolved addresses of `host` we may connect to; raises if there are none."""
        try:
            with anyio.fail_after(timeout):
                addresses = await self._resolve(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        verdicts = [(ip, self.refusal(ip)) for ip in addresses]
        permitted = [ip for ip, reason in verdicts if reason is None]
        if not permitted:
            refused = ", ".join(f"{ip} ({reason})" for ip, reason in verdicts) or "nothing"
            target = refused if addresses == [host] else f"{host}, which resolves to {refused}"
            raise AddressNotAllowed(f"refusing to connect to {target}")
        return permitted

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        *others, last = await self.permitted_addresses(host, port, timeout)
        for ip in others:
            try:
                return await self._inner.connect_tcp(ip, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout):
                continue  # try the next permitted address, as browsers do
        return await self._inner.connect_tcp(last, port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        raise AddressNotAllowed("unix sockets are never used for federation")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def is_activitystreams_content_type(content_type: str | None) -> bool:
    """`application/activity+json`, or `application/ld+json` with the AS profile.

    Plain `application/json` is refused, as Mastodon does since CVE-2024-23832:
    anything a server stores as user content (uploads, API output) must not be
    mistaken for an ActivityPub object of that server.
    """
    if not content_type:
        return False
    media_type, *params = (part.strip() for part in content_type.split(";"))
    media_type = media_type.lower()
    if media_type == "application/activity+json":
        return True
    if media_type != "application/ld+json":
        return False
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "profile" and AS_PROFILE in value.strip().strip('"').split():
            return True
    return False


def _parse_json_object(body: bytes, url: str) -> dict[str, Any]:
    try:
        document = limits.parse_json(body)  # the caps on federated input apply to what we fetch
    except limits.InputRefused as exc:
        raise InvalidJSON(f"{url} did not return a JSON document we accept: {exc.reason}") from None
    if not isinstance(document, dict):
        raise InvalidJSON(f"{url} returned JSON that is not an object")
    return document


def _reason(exc: BaseException) -> str:
    """The exception's message, or else that of what caused it: httpx's ReadError often says
    nothing, while the OSError under it names the errno (a reset, a broken pipe)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, anyio.EndOfStream):  # its own context is an IndexError of anyio's
            return "the connection was closed before the answer came"
        if str(seen):
            return str(seen) if seen is exc else f"{type(seen).__name__}: {seen}"
        seen = seen.__cause__ or seen.__context__
    return "no reason given"


def _declared_length(response: httpx.Response) -> int:
    """The body's Content-Length; unbounded (and so never drained) when it declares none."""
    declared = response.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else DRAIN_BYTES + 1


def _is_http_url(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value.startswith(("https://", "http://"))


def _same_resource(document_id: object, url: str) -> bool:
    """True if `document_id` names the resource at `url` (fragments aside)."""
    return isinstance(document_id, str) and urldefrag(document_id)[0] == urldefrag(url)[0]


class Fetcher:
    """Owns one `httpx.AsyncClient`; use as `async with Fetcher(config) as f:`."""

    def __init__(
        self,
        config: FetcherConfig,
        *,
        sign: Signer | None = None,
        resolver: Resolver | None = None,
        verify: ssl.SSLContext | bool = True,
        inner_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        """`resolver` and `inner_backend` (which opens the already-checked
        connections) exist so tests can stand in for DNS and the Internet."""
        self.config = config
        self._sign = sign
        self.backend = GuardedNetworkBackend(
            allow_local=config.dev_mode, resolver=resolver, inner=inner_backend
        )
        self._client = httpx.AsyncClient(
            # Room for every delivery in flight (workers × concurrency) plus fetches: a request that
            # waited for a pooled connection would time out and count against a healthy host.
            transport=pooled_transport(
                limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=128),
                verify=verify,
                network_backend=self.backend,
            ),
            timeout=httpx.Timeout(
                connect=config.connect_timeout,
                read=config.read_timeout,
                write=config.read_timeout,
                pool=config.connect_timeout,
            ),
            follow_redirects=False,  # followed by hand, re-checking every hop
            trust_env=False,  # no proxies from the environment: they would bypass the guard
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- public API -----------------------------------------------------------

    async def get(self, url: str, *, accept: str = AP_ACCEPT, signed: bool = True) -> Response:
        """GET `url`, following up to `max_redirects` redirects, each re-checked.

        Returns the final response whatever its status; raises `FetchError`
        subclasses for refused URLs/addresses, timeouts, oversize bodies and
        network failures.
        """
        async with self._deadline(url):
            current = url
            for _ in range(self.config.max_redirects + 1):
                response = await self._request("GET", current, {"Accept": accept}, None, signed)
                location = response.headers.get("location")
                if response.status not in REDIRECT_STATUSES or not location:
                    return response
                current = urljoin(current, location)
            raise TooManyRedirects(f"more than {self.config.max_redirects} redirects starting from {url}")

    async def fetch_json(self, url: str, *, allow_refetch: bool = False) -> dict[str, Any]:
        """Fetch an ActivityPub document that is authoritative for its own `id`.

        Requires HTTP 200, an ActivityStreams content type, a JSON object, and
        `id` equal to the URL that finally served it (after redirects). Fragments
        are ignored on both sides, since they are never sent: fetching a key id
        such as `…/users/alice#main-key` returns the actor `…/users/alice`.

        Mastodon (`JsonLdHelper#fetch_resource`) compares `id` with the URL it
        *requested* and trusts the redirect chain; we compare with the URL that
        served the bytes, which also defeats open redirects on the requested
        host. The returned `id` can differ from `url` after a redirect: callers
        that need exactly `url` compare it themselves.

        `allow_refetch=True` is Mastodon's `id_is_known = false` mode, for URLs
        that are not object ids (search input, profile links): when `id`
        differs, the document is fetched once more from its own `id`, and that
        copy must satisfy the same rule.
        """
        document, served_from = await self._fetch_as_document(url)
        claimed = document.get("id")
        if _same_resource(claimed, served_from):
            return document
        if allow_refetch and _is_http_url(claimed):
            document, served_from = await self._fetch_as_document(claimed)
            if _same_resource(document.get("id"), claimed) and _same_resource(claimed, served_from):
                return document
        raise IdMismatch(f"document id {claimed!r} is not the URL that served it ({served_from})")

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str] | None = None, *, signed: bool = True
    ) -> PostResult:
        """POST `body` (e.g. an activity to an inbox). Redirects are not followed.

        Returns the status and headers; the response body is not read.
        """
        merged = httpx.Headers({"Content-Type": "application/activity+json"})
        merged.update(headers or {})  # case-insensitive: a caller's content-type replaces ours
        async with self._deadline(url):
            response = await self._request("POST", url, merged, body, signed, read_body=False)
        return PostResult(status=response.status, headers=response.headers)

    # -- internals --------------------------------------------------------------

    async def _fetch_as_document(self, url: str) -> tuple[dict[str, Any], str]:
        response = await self.get(url)
        if response.status != 200:
            raise BadStatus(f"HTTP {response.status} from {response.url}", response.status)
        content_type = response.headers.get("content-type")
        if not is_activitystreams_content_type(content_type):
            raise WrongContentType(
                f"{response.url} is served as {content_type or 'nothing'!r}, "
                "not as an ActivityStreams document"
            )
        return _parse_json_object(response.body, response.url), response.url

    def _checked_url(self, url: str) -> httpx.URL:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise URLNotAllowed(f"invalid URL {url!r}: {exc}") from exc
        allowed = ("https", "http") if self.config.dev_mode else ("https",)
        if parsed.scheme not in allowed:
            raise URLNotAllowed(f"scheme {parsed.scheme!r} is not allowed for {url}")
        if not parsed.host:
            raise URLNotAllowed(f"no host in {url}")
        if parsed.userinfo:
            raise URLNotAllowed(f"credentials in URLs are not allowed: {url}")
        return parsed

    def _headers_for(
        self,
        method: str,
        url: str,
        parsed: httpx.URL,
        extra: Mapping[str, str],
        body: bytes | None,
        signed: bool,
    ) -> httpx.Headers:
        """Headers as sent; the signer sees them all (case-insensitively) and may add some."""
        headers = httpx.Headers(
            {
                "Host": parsed.netloc.decode("ascii"),
                "Date": formatdate(usegmt=True),
                "User-Agent": self.config.user_agent,
            }
        )
        headers.update(extra)
        if signed and self._sign is not None:
            headers.update(self._sign(method, url, headers.copy(), body))
        return headers

    async def _request(
        self,
        method: str,
        url: str,
        extra_headers: Mapping[str, str],
        body: bytes | None,
        signed: bool,
        *,
        read_body: bool = True,
    ) -> Response:
        parsed = self._checked_url(url)
        headers = self._headers_for(method, url, parsed, extra_headers, body, signed)
        request = self._client.build_request(method, parsed, headers=headers, content=body)
        async with self._translate_errors(url):
            response = await self._client.send(request, stream=True)
            try:
                payload = b""
                if read_body and response.status_code not in REDIRECT_STATUSES:
                    payload = await self._read_limited(response, url)
                elif _declared_length(response) <= DRAIN_BYTES:
                    # Dropped: read only so that the connection goes back to the pool. The status
                    # is the answer; a body that fails to arrive must not turn a delivered 202
                    # into an error (the delivery would be sent again).
                    with suppress(httpx.HTTPError, httpcore.TimeoutException, httpcore.NetworkError):
                        await response.aread()
            finally:
                await response.aclose()
        return Response(url=url, status=response.status_code, headers=response.headers, body=payload)

    async def _read_limited(self, response: httpx.Response, url: str) -> bytes:
        limit = self.config.max_response_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ResponseTooLarge(f"{url} announces {declared} bytes, over the {limit} limit")
        chunks: list[bytes] = []
        received = 0
        # Decoded bytes are counted, so a compressed body cannot slip past the limit.
        async for chunk in response.aiter_bytes():
            received += len(chunk)
            if received > limit:
                raise ResponseTooLarge(f"{url} sent more than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    @asynccontextmanager
    async def _deadline(self, url: str) -> AsyncIterator[None]:
        try:
            with anyio.fail_after(self.config.total_timeout):
                yield
        except TimeoutError as exc:
            raise FetchTimeout(f"{url} took longer than {self.config.total_timeout}s in total") from exc

    @asynccontextmanager
    async def _translate_errors(self, url: str) -> AsyncIterator[None]:
        try:
            yield
        except httpx.TimeoutException as exc:
            raise FetchTimeout(f"{type(exc).__name__} for {url}: {exc}") from exc
        except httpx.UnsupportedProtocol as exc:
            raise URLNotAllowed(f"unsupported URL {url}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise ConnectionFailed(f"{type(exc).__name__} for {url}: {_reason(exc)}") from exc
