"""The remote fetcher against real local servers (127.0.0.1 only, no other network).

Production mode refuses loopback, so production-mode exchanges are tested with
a stand-in for DNS (`resolver`) and for the Internet (`LoopbackInternet`, an
inner network backend that serves every *already checked* public address from
a local TLS server with a certificate for `public.example`).
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpcore
import pytest

from talentfed.federation.fetcher import (
    AP_ACCEPT,
    AddressNotAllowed,
    BadStatus,
    Fetcher,
    FetcherConfig,
    FetchError,
    FetchTimeout,
    GuardedNetworkBackend,
    IdMismatch,
    InvalidJSON,
    ResponseTooLarge,
    TooManyRedirects,
    URLNotAllowed,
    WrongContentType,
    is_activitystreams_content_type,
)
from tests.support import self_signed_certificate
from tests.support.waiting import eventually

AS_JSON = "application/activity+json"
PUBLIC_IP = "93.184.215.14"  # judged public; never contacted (LoopbackInternet stands in)
PUBLIC_HOST = "public.example"


# -- a tiny HTTP/1.1 server ------------------------------------------------------


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


Writer = asyncio.StreamWriter
Handler = Callable[[Writer], Awaitable[None]]


async def send(writer: Writer, status: int, headers: dict[str, str], body: bytes = b"") -> None:
    head = [f"HTTP/1.1 {status} X", "Connection: close", f"Content-Length: {len(body)}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()


def document(doc: dict[str, Any], content_type: str = AS_JSON) -> Handler:
    return lambda w: send(w, 200, {"Content-Type": content_type}, json.dumps(doc).encode())


def redirect(location: str, status: int = 302) -> Handler:
    return lambda w: send(w, status, {"Location": location})


@dataclass
class LocalServer:
    ssl_context: ssl.SSLContext | None = None
    routes: dict[str, Handler] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        assert self._server is not None
        self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            seen = await self._read_request(reader)
            self.seen.append(seen)
            handler = self.routes.get(seen.target, lambda w: send(w, 404, {}))
            await handler(writer)
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader) -> Seen:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *lines = head.strip().split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return Seen(method, target, headers, body)


def dev_config(**overrides: Any) -> FetcherConfig:
    values = {"connect_timeout": 2.0, "read_timeout": 2.0, "total_timeout": 5.0, **overrides}
    return FetcherConfig(base_url="http://127.0.0.1:8000", dev_mode=True, **values)


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    srv = LocalServer()
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def dev_fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(dev_config()) as fetcher:
        yield fetcher


# -- production mode: TLS, a stand-in DNS and a stand-in Internet -----------------


def _certificate(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path, PUBLIC_HOST, "mixed.example", "rebind.example", hours=1)


class LoopbackInternet(httpcore.AsyncNetworkBackend):
    """Inner backend: every checked address it is asked for is served by one local port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.asked: list[str] = []
        self._real = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        self.asked.append(host)
        return await self._real.connect_tcp("127.0.0.1", self.port, *args, **kwargs)

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


def fake_dns(table: dict[str, list[str]]) -> Callable[[str, int], Awaitable[list[str]]]:
    async def resolve(host: str, port: int) -> list[str]:
        return table.get(host, [host])  # IP literals resolve to themselves

    return resolve


@dataclass
class Production:
    server: LocalServer
    fetcher: Fetcher
    internet: LoopbackInternet
    client_ctx: ssl.SSLContext


@pytest.fixture
async def production(tmp_path: Path) -> AsyncIterator[Production]:
    cert_path, key_path = _certificate(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert_path, key_path)
    srv = LocalServer(ssl_context=server_ctx)
    await srv.start()
    internet = LoopbackInternet(srv.port)
    config = FetcherConfig(base_url="https://talent.example", read_timeout=2, total_timeout=5)
    dns = fake_dns(
        {
            PUBLIC_HOST: [PUBLIC_IP],
            "internal.example": ["10.0.0.7"],
            "metadata.example": ["169.254.169.254"],
            "mixed.example": ["127.0.0.1", "10.1.1.1", PUBLIC_IP],
            "wrong-name.example": [PUBLIC_IP],
        }
    )
    client_ctx = ssl.create_default_context(cafile=str(cert_path))
    async with Fetcher(config, resolver=dns, verify=client_ctx, inner_backend=internet) as f:
        yield Production(srv, f, internet, client_ctx)
    await srv.stop()


# -- SSRF ---------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]"])
async def test_production_refuses_loopback(host: str, server: LocalServer) -> None:
    async with Fetcher(FetcherConfig(base_url="https://talent.example")) as fetcher:
        with pytest.raises(AddressNotAllowed) as caught:
            await fetcher.get(f"https://{host}:{server.port}/actor")
    assert "loopback" in caught.value.reason
    assert server.seen == []


async def test_production_refuses_plain_http() -> None:
    async with Fetcher(FetcherConfig(base_url="https://talent.example")) as fetcher:
        with pytest.raises(URLNotAllowed, match="scheme 'http'"):
            await fetcher.get("http://public.example/actor")


@pytest.mark.parametrize(
    "url",
    ["ftp://public.example/x", "file:///etc/passwd", "https://user:pw@public.example/", "nonsense"],
)
async def test_refuses_other_urls(url: str) -> None:
    async with Fetcher(FetcherConfig(base_url="https://talent.example")) as fetcher:
        with pytest.raises(URLNotAllowed):
            await fetcher.get(url)


async def test_dev_mode_allows_loopback_over_http(server: LocalServer, dev_fetcher: Fetcher) -> None:
    server.routes["/actor"] = document({"id": f"{server.base}/actor", "type": "Person"})
    doc = await dev_fetcher.fetch_json(f"{server.base}/actor")
    assert doc["type"] == "Person"
    headers = server.seen[0].headers
    assert headers["accept"] == AP_ACCEPT
    assert headers["user-agent"] == "talentfed/0.1.0 (+http://127.0.0.1:8000)"
    assert headers["host"] == f"127.0.0.1:{server.port}"
    assert headers["date"].endswith(" GMT")


async def test_dev_mode_still_refuses_metadata_and_unspecified() -> None:
    dns = fake_dns({"metadata.example": ["169.254.169.254"], "zero.example": ["0.0.0.0"]})
    async with Fetcher(dev_config(), resolver=dns) as fetcher:
        for url in ("http://metadata.example/latest", "http://zero.example/"):
            with pytest.raises(AddressNotAllowed):
                await fetcher.get(url)


async def test_dev_mode_connects_to_the_resolved_ip_but_keeps_the_name(server: LocalServer) -> None:
    server.routes["/actor"] = document({"id": f"http://node-a.test:{server.port}/actor"})
    dns = fake_dns({"node-a.test": ["127.0.0.1"]})
    async with Fetcher(dev_config(), resolver=dns) as fetcher:
        await fetcher.fetch_json(f"http://node-a.test:{server.port}/actor")
    assert server.seen[0].headers["host"] == f"node-a.test:{server.port}"


async def test_environment_proxies_are_ignored(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy would connect on our behalf, past the address check.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    server.routes["/a"] = document({"id": f"{server.base}/a"})
    async with Fetcher(dev_config()) as fetcher:
        assert (await fetcher.fetch_json(f"{server.base}/a"))["id"] == f"{server.base}/a"


async def test_production_fetch_over_tls_with_checked_ip(production: Production) -> None:
    production.server.routes["/users/alice"] = document({"id": f"https://{PUBLIC_HOST}/users/alice"})
    doc = await production.fetcher.fetch_json(f"https://{PUBLIC_HOST}/users/alice")
    assert doc["id"] == f"https://{PUBLIC_HOST}/users/alice"
    # The inner backend only ever saw the checked IP; TLS verified the name.
    assert production.internet.asked == [PUBLIC_IP]
    assert production.server.seen[0].headers["host"] == PUBLIC_HOST


@pytest.mark.parametrize("host", ["internal.example", "metadata.example"])
async def test_production_refuses_names_resolving_to_private(host: str, production: Production) -> None:
    with pytest.raises(AddressNotAllowed, match=host):
        await production.fetcher.get(f"https://{host}/x")
    assert production.internet.asked == []


async def test_tls_is_verified_against_the_name_not_the_ip(production: Production) -> None:
    with pytest.raises(FetchError, match="certificate"):
        await production.fetcher.get("https://wrong-name.example/x")
    assert production.internet.asked == [PUBLIC_IP]


async def test_every_new_connection_is_checked_again(production: Production) -> None:
    # DNS rebinding: the name first resolves to a public address, then to loopback.
    answers = iter([[PUBLIC_IP], ["127.0.0.1"]])

    async def rebinding_dns(host: str, port: int) -> list[str]:
        return next(answers)

    fetcher = Fetcher(
        production.fetcher.config,
        resolver=rebinding_dns,
        verify=production.client_ctx,
        inner_backend=production.internet,
    )
    production.server.routes["/x"] = document({"id": "https://rebind.example/x"})
    async with fetcher:
        await fetcher.fetch_json("https://rebind.example/x")
        with pytest.raises(AddressNotAllowed, match="loopback"):
            await fetcher.fetch_json("https://rebind.example/x")
    assert production.internet.asked == [PUBLIC_IP]


async def test_production_skips_private_addresses_of_a_mixed_answer(production: Production) -> None:
    production.server.routes["/x"] = document({"id": "https://mixed.example/x"})
    await production.fetcher.fetch_json("https://mixed.example/x")
    assert production.internet.asked == [PUBLIC_IP]


async def test_backend_refuses_when_every_address_is_refused() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["10.0.0.1", "::ffff:192.168.0.1", "fe80::1"]

    class Unreachable(LoopbackInternet):
        async def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError("must not connect")

    backend = GuardedNetworkBackend(resolver=resolver, inner=Unreachable(0))
    with pytest.raises(AddressNotAllowed) as caught:
        await backend.connect_tcp("rebound.example", 443)
    assert caught.value.reason == (
        "refusing to connect to rebound.example, which resolves to 10.0.0.1 (private), "
        "::ffff:192.168.0.1 (IPv4-mapped 192.168.0.1, private), fe80::1 (link-local)"
    )


async def test_backend_filters_addresses_after_resolution() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1", PUBLIC_IP, "192.168.1.1", "2606:4700::1"]

    backend = GuardedNetworkBackend(resolver=resolver)
    assert await backend.permitted_addresses("a.example", 443) == [PUBLIC_IP, "2606:4700::1"]
    dev = GuardedNetworkBackend(resolver=resolver, allow_local=True)
    assert await dev.permitted_addresses("a.example", 443) == [
        "127.0.0.1",
        PUBLIC_IP,
        "192.168.1.1",
        "2606:4700::1",
    ]


# -- redirects ---------------------------------------------------------------------


async def test_redirects_are_followed_up_to_the_limit(server: LocalServer) -> None:
    for hop in range(3):
        server.routes[f"/r{hop}"] = redirect(f"/r{hop + 1}")
    server.routes["/r3"] = document({"id": f"{server.base}/r3"})
    async with Fetcher(dev_config(max_redirects=3)) as fetcher:
        assert (await fetcher.fetch_json(f"{server.base}/r0"))["id"] == f"{server.base}/r3"
    async with Fetcher(dev_config(max_redirects=2)) as fetcher:
        with pytest.raises(TooManyRedirects, match="more than 2 redirects"):
            await fetcher.get(f"{server.base}/r0")


async def test_redirect_loop_stops(server: LocalServer, dev_fetcher: Fetcher) -> None:
    server.routes["/loop"] = redirect("/loop", status=301)
    with pytest.raises(TooManyRedirects):
        await dev_fetcher.get(f"{server.base}/loop")
    assert len(server.seen) == 4  # the request and 3 redirects


async def test_redirect_to_private_address_is_refused(production: Production) -> None:
    production.server.routes["/start"] = redirect("https://internal.example/admin")
    with pytest.raises(AddressNotAllowed, match=r"internal\.example"):
        await production.fetcher.get(f"https://{PUBLIC_HOST}/start")
    assert [s.target for s in production.server.seen] == ["/start"]


async def test_redirect_to_loopback_literal_is_refused(production: Production) -> None:
    production.server.routes["/start"] = redirect("https://[::ffff:127.0.0.1]/")
    with pytest.raises(AddressNotAllowed, match="loopback"):
        await production.fetcher.get(f"https://{PUBLIC_HOST}/start")


async def test_redirect_to_http_is_refused_in_production(production: Production) -> None:
    production.server.routes["/start"] = redirect(f"http://{PUBLIC_HOST}/plain")
    with pytest.raises(URLNotAllowed, match="scheme 'http'"):
        await production.fetcher.get(f"https://{PUBLIC_HOST}/start")


async def test_dev_mode_redirect_to_metadata_is_refused(server: LocalServer) -> None:
    server.routes["/start"] = redirect("http://169.254.169.254/latest/meta-data/")
    async with Fetcher(dev_config()) as fetcher:
        with pytest.raises(AddressNotAllowed, match="link-local"):
            await fetcher.get(f"{server.base}/start")


async def test_redirect_to_other_scheme_is_refused(server: LocalServer, dev_fetcher: Fetcher) -> None:
    server.routes["/start"] = redirect("file:///etc/passwd")
    with pytest.raises(URLNotAllowed):
        await dev_fetcher.get(f"{server.base}/start")


# -- size and time limits ---------------------------------------------------------------


async def test_announced_size_over_limit(server: LocalServer) -> None:
    server.routes["/big"] = lambda w: send(w, 200, {"Content-Type": AS_JSON}, b"x" * 5000)
    async with Fetcher(dev_config(max_response_bytes=4096)) as fetcher:
        with pytest.raises(ResponseTooLarge, match="announces 5000 bytes"):
            await fetcher.get(f"{server.base}/big")


async def test_streamed_size_over_limit_is_abandoned(server: LocalServer) -> None:
    async def endless_chunks(writer: Writer) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(1000):  # 1 MB if read to the end
            writer.write(b"3e8\r\n" + b"x" * 1000 + b"\r\n")
            await writer.drain()
            await asyncio.sleep(0)
        writer.write(b"0\r\n\r\n")

    server.routes["/stream"] = endless_chunks
    async with Fetcher(dev_config(max_response_bytes=10_000)) as fetcher:
        with pytest.raises(ResponseTooLarge, match="more than 10000 bytes"):
            await fetcher.get(f"{server.base}/stream")


async def test_body_at_the_limit_is_accepted(server: LocalServer) -> None:
    body = json.dumps({"id": f"{server.base}/ok", "pad": "x" * 100}).encode()
    server.routes["/ok"] = lambda w: send(w, 200, {"Content-Type": AS_JSON}, body)
    async with Fetcher(dev_config(max_response_bytes=len(body))) as fetcher:
        assert (await fetcher.fetch_json(f"{server.base}/ok"))["pad"] == "x" * 100


async def test_read_timeout(server: LocalServer) -> None:
    async def silent(writer: Writer) -> None:
        await asyncio.Event().wait()  # never answers

    server.routes["/slow"] = silent
    async with Fetcher(dev_config(read_timeout=0.2)) as fetcher:
        with pytest.raises(FetchTimeout, match="ReadTimeout"):
            await fetcher.get(f"{server.base}/slow")


async def test_total_timeout_bounds_a_trickling_response(server: LocalServer) -> None:
    async def trickle(writer: Writer) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):  # each byte well within the read timeout
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.05)  # the slow trickle is what is tested

    server.routes["/trickle"] = trickle
    async with Fetcher(dev_config(read_timeout=1, total_timeout=0.5)) as fetcher:
        with pytest.raises(FetchTimeout, match=r"0\.5s in total"):
            await fetcher.get(f"{server.base}/trickle")


async def test_connect_timeout_covers_name_resolution() -> None:
    async def hanging_dns(host: str, port: int) -> list[str]:
        await anyio.sleep_forever()  # never answers
        return []

    async with Fetcher(dev_config(connect_timeout=0.2), resolver=hanging_dns) as fetcher:
        with pytest.raises(FetchTimeout, match="ConnectTimeout"):
            await fetcher.get("http://slow-dns.example/")


async def test_connection_refused_is_a_fetch_error(server: LocalServer, dev_fetcher: Fetcher) -> None:
    port = server.port
    await server.stop()

    async def refused() -> bool:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except ConnectionRefusedError:
            return True
        writer.close()
        return False

    await eventually(refused, what=f"port {port} to refuse connections")
    with pytest.raises(FetchError, match="ConnectError"):
        await dev_fetcher.get(f"http://127.0.0.1:{port}/gone")


# -- ActivityPub documents -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        ("application/activity+json", True),
        ("application/activity+json; charset=utf-8", True),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', True),
        ("application/ld+json;profile=https://www.w3.org/ns/activitystreams", True),
        ('application/ld+json; profile="https://example.org/x https://www.w3.org/ns/activitystreams"', True),
        ("Application/Activity+JSON", True),
        ("application/ld+json", False),
        ('application/ld+json; profile="https://example.org/other"', False),
        ("application/json", False),  # Mastodon refuses it too (CVE-2024-23832)
        ("text/html", False),
        ("", False),
        (None, False),
    ],
)
def test_activitystreams_content_types(content_type: str | None, accepted: bool) -> None:
    assert is_activitystreams_content_type(content_type) is accepted


@pytest.mark.parametrize("content_type", ["application/json", "text/html", "application/ld+json"])
async def test_fetch_json_requires_activitystreams_type(
    content_type: str, server: LocalServer, dev_fetcher: Fetcher
) -> None:
    server.routes["/upload.json"] = document({"id": f"{server.base}/upload.json"}, content_type)
    with pytest.raises(WrongContentType, match="not as an ActivityStreams document"):
        await dev_fetcher.fetch_json(f"{server.base}/upload.json")


async def test_fetch_json_accepts_ld_json_with_profile(server: LocalServer, dev_fetcher: Fetcher) -> None:
    ld = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    server.routes["/n"] = document({"id": f"{server.base}/n", "type": "Note"}, ld)
    assert (await dev_fetcher.fetch_json(f"{server.base}/n"))["type"] == "Note"


@pytest.mark.parametrize("status", [404, 410, 500])
async def test_fetch_json_requires_200(status: int, server: LocalServer, dev_fetcher: Fetcher) -> None:
    server.routes["/x"] = lambda w: send(w, status, {"Content-Type": AS_JSON}, b"{}")
    with pytest.raises(BadStatus) as caught:
        await dev_fetcher.fetch_json(f"{server.base}/x")
    assert caught.value.status == status


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"a string"', b"\xff\xfe"])
async def test_fetch_json_requires_a_json_object(
    body: bytes, server: LocalServer, dev_fetcher: Fetcher
) -> None:
    server.routes["/x"] = lambda w: send(w, 200, {"Content-Type": AS_JSON}, body)
    with pytest.raises(InvalidJSON):
        await dev_fetcher.fetch_json(f"{server.base}/x")


async def test_id_must_match_the_url(server: LocalServer, dev_fetcher: Fetcher) -> None:
    server.routes["/users/mallory"] = document({"id": f"{server.base}/users/alice"})
    with pytest.raises(IdMismatch) as caught:
        await dev_fetcher.fetch_json(f"{server.base}/users/mallory")
    assert "users/alice" in caught.value.reason
    assert len(server.seen) == 1  # no refetch unless asked


async def test_fragments_are_ignored(server: LocalServer, dev_fetcher: Fetcher) -> None:
    actor = f"{server.base}/users/alice"
    server.routes["/users/alice"] = document({"id": actor, "publicKey": {"id": actor + "#main-key"}})
    server.routes["/keys/1"] = document({"id": f"{server.base}/keys/1#key", "type": "CryptographicKey"})
    # A key id dereferences to the document that holds the key.
    assert (await dev_fetcher.fetch_json(actor + "#main-key"))["id"] == actor
    assert (await dev_fetcher.fetch_json(f"{server.base}/keys/1"))["type"] == "CryptographicKey"
    assert [s.target for s in server.seen] == ["/users/alice", "/keys/1"]


async def test_missing_id_is_a_mismatch(server: LocalServer, dev_fetcher: Fetcher) -> None:
    server.routes["/anon"] = document({"type": "Note"})
    with pytest.raises(IdMismatch):
        await dev_fetcher.fetch_json(f"{server.base}/anon")


async def test_id_is_compared_with_the_url_that_served_it(server: LocalServer, dev_fetcher: Fetcher) -> None:
    server.routes["/@alice"] = redirect("/users/alice")
    server.routes["/users/alice"] = document({"id": f"{server.base}/users/alice"})
    doc = await dev_fetcher.fetch_json(f"{server.base}/@alice")
    assert doc["id"] == f"{server.base}/users/alice"


async def test_document_claiming_the_requested_url_after_redirect_is_refused(
    server: LocalServer, dev_fetcher: Fetcher
) -> None:
    # An open redirect on the requested host must not let another URL speak for it.
    server.routes["/redirect"] = redirect("/uploads/forged.json")
    server.routes["/uploads/forged.json"] = document({"id": f"{server.base}/redirect"})
    with pytest.raises(IdMismatch):
        await dev_fetcher.fetch_json(f"{server.base}/redirect")


async def test_refetch_from_own_id_when_allowed(server: LocalServer, dev_fetcher: Fetcher) -> None:
    canonical = f"{server.base}/users/alice"
    server.routes["/profile/alice"] = document({"id": canonical, "name": "stale copy"})
    server.routes["/users/alice"] = document({"id": canonical, "name": "Alice"})
    doc = await dev_fetcher.fetch_json(f"{server.base}/profile/alice", allow_refetch=True)
    assert doc["name"] == "Alice"
    assert [s.target for s in server.seen] == ["/profile/alice", "/users/alice"]


async def test_refetch_happens_once_only(server: LocalServer, dev_fetcher: Fetcher) -> None:
    server.routes["/a"] = document({"id": f"{server.base}/b"})
    server.routes["/b"] = document({"id": f"{server.base}/c"})
    with pytest.raises(IdMismatch):
        await dev_fetcher.fetch_json(f"{server.base}/a", allow_refetch=True)
    assert [s.target for s in server.seen] == ["/a", "/b"]


async def test_refetch_ignores_non_http_ids(server: LocalServer, dev_fetcher: Fetcher) -> None:
    server.routes["/a"] = document({"id": "file:///etc/passwd"})
    with pytest.raises(IdMismatch):
        await dev_fetcher.fetch_json(f"{server.base}/a", allow_refetch=True)
    assert len(server.seen) == 1


# -- signing and POST ----------------------------------------------------------------------------


class RecordingSigner:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Mapping[str, str], bytes | None]] = []

    def __call__(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> dict[str, str]:
        self.calls.append((method, url, headers, body))
        return {"Signature": f'keyId="k",n="{len(self.calls)}"'}


async def test_get_is_signed_per_hop(server: LocalServer) -> None:
    server.routes["/old"] = redirect("/new")
    server.routes["/new"] = document({"id": f"{server.base}/new"})
    signer = RecordingSigner()
    async with Fetcher(dev_config(), sign=signer) as fetcher:
        await fetcher.fetch_json(f"{server.base}/old")
    assert [(m, u) for m, u, _, _ in signer.calls] == [
        ("GET", f"{server.base}/old"),
        ("GET", f"{server.base}/new"),
    ]
    _, _, headers, body = signer.calls[0]
    assert headers["Host"] == headers["host"] == f"127.0.0.1:{server.port}"
    assert "Date" in headers and headers["Accept"] == AP_ACCEPT
    assert body is None
    assert [s.headers["signature"] for s in server.seen] == ['keyId="k",n="1"', 'keyId="k",n="2"']


async def test_unsigned_get_when_asked(server: LocalServer) -> None:
    server.routes["/a"] = document({"id": f"{server.base}/a"})
    signer = RecordingSigner()
    async with Fetcher(dev_config(), sign=signer) as fetcher:
        await fetcher.get(f"{server.base}/a", signed=False)
    assert signer.calls == []
    assert "signature" not in server.seen[0].headers


async def test_post_delivers_signed_body_and_returns_status(server: LocalServer) -> None:
    server.routes["/inbox"] = lambda w: send(w, 202, {"X-Request-Id": "r-1"})
    signer = RecordingSigner()
    body = json.dumps({"type": "Follow"}).encode()
    async with Fetcher(dev_config(), sign=signer) as fetcher:
        result = await fetcher.post(f"{server.base}/inbox", body, {"X-Extra": "1"})
    assert result.status == 202
    assert result.headers["x-request-id"] == "r-1"
    seen = server.seen[0]
    assert (seen.method, seen.body) == ("POST", body)
    assert seen.headers["content-type"] == AS_JSON
    assert seen.headers["x-extra"] == "1"
    assert seen.headers["signature"] == 'keyId="k",n="1"'
    assert signer.calls[0][0] == "POST" and signer.calls[0][3] == body


async def test_post_content_type_can_be_replaced(server: LocalServer, dev_fetcher: Fetcher) -> None:
    server.routes["/inbox"] = lambda w: send(w, 202, {})
    ld = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    await dev_fetcher.post(f"{server.base}/inbox", b"{}", {"content-type": ld})
    assert server.seen[0].headers["content-type"] == ld


async def test_post_does_not_follow_redirects(server: LocalServer, dev_fetcher: Fetcher) -> None:
    server.routes["/inbox"] = redirect("/elsewhere", status=307)
    result = await dev_fetcher.post(f"{server.base}/inbox", b"{}")
    assert result.status == 307
    assert [s.target for s in server.seen] == ["/inbox"]


async def test_post_is_guarded_too() -> None:
    async with Fetcher(FetcherConfig(base_url="https://talent.example")) as fetcher:
        with pytest.raises(AddressNotAllowed):
            await fetcher.post("https://127.0.0.1/inbox", b"{}")


async def test_posts_to_one_server_reuse_one_connection(dev_fetcher: Fetcher) -> None:
    # As a burst of deliveries to one server (the Accepts of many Follows): the answer of each
    # POST is read, though unused, so that its connection goes back to the pool.
    connections = 0

    async def keep_alive(reader: asyncio.StreamReader, writer: Writer) -> None:
        nonlocal connections
        connections += 1
        try:
            while True:
                request = await LocalServer._read_request(reader)
                assert request.method == "POST"
                writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 9\r\n\r\naccepted.")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    inbox = await asyncio.start_server(keep_alive, "127.0.0.1", 0)
    port = inbox.sockets[0].getsockname()[1]
    try:
        for _ in range(3):
            assert (await dev_fetcher.post(f"http://127.0.0.1:{port}/inbox", b"{}")).status == 202
    finally:
        inbox.close()
    assert connections == 1


async def test_a_post_whose_answer_breaks_off_still_reports_its_status(dev_fetcher: Fetcher) -> None:
    # The inbox answered 202 and the connection broke before the body: the activity was
    # delivered, and an error here would make the delivery worker send it again.
    async def cut_short(reader: asyncio.StreamReader, writer: Writer) -> None:
        await LocalServer._read_request(reader)
        writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 9\r\n\r\nacc")
        await writer.drain()
        writer.close()

    inbox = await asyncio.start_server(cut_short, "127.0.0.1", 0)
    port = inbox.sockets[0].getsockname()[1]
    try:
        assert (await dev_fetcher.post(f"http://127.0.0.1:{port}/inbox", b"{}")).status == 202
    finally:
        inbox.close()


def test_a_network_error_without_a_message_is_reported_by_its_cause() -> None:
    # httpx's ReadError often carries no text; the delivery log then said only "ReadError".
    from talentfed.federation import fetcher

    try:
        try:
            raise ConnectionResetError(104, "Connection reset by peer")
        except ConnectionResetError as reset:
            raise httpcore.ReadError() from reset
    except httpcore.ReadError as read_error:
        assert fetcher._reason(read_error) == "ConnectionResetError: [Errno 104] Connection reset by peer"
    assert fetcher._reason(httpcore.ReadError("the peer went away")) == "the peer went away"
    assert fetcher._reason(httpcore.ReadError()) == "no reason given"


def test_a_connection_closed_before_the_answer_is_reported_as_such() -> None:
    # anyio's EndOfStream says nothing and its context is an IndexError of its own deque, which
    # the delivery log once gave as the reason ("IndexError: pop from an empty deque").
    from talentfed.federation import fetcher

    try:
        try:
            try:
                [].pop()
            except IndexError:
                raise anyio.EndOfStream from None
        except anyio.EndOfStream as end:
            raise httpcore.ReadError() from end
    except httpcore.ReadError as read_error:
        assert fetcher._reason(read_error) == "the connection was closed before the answer came"
