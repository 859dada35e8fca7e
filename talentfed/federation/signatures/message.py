"""A framework-free view of the HTTP message being signed or verified.

Signatures are computed over header *values as sent*, so headers are kept as
the ordered list of field lines: a dict would silently merge or reorder them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias
from urllib.parse import urlsplit

#: Anything a web framework hands us: a (case-insensitive) mapping, an object
#: with ``multi_items()`` (httpx, starlette), or plain ``(name, value)`` pairs.
HeadersLike: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]] | Any


def header_lines(headers: HeadersLike) -> tuple[tuple[str, str], ...]:
    """Normalise any headers container to ``((lowercase name, value), ...)``."""
    if hasattr(headers, "multi_items"):
        pairs = headers.multi_items()
    elif hasattr(headers, "items"):
        pairs = headers.items()
    else:
        pairs = headers
    return tuple((str(name).lower(), str(value)) for name, value in pairs)


@dataclass(frozen=True)
class HttpMessage:
    """A request (``method`` + absolute ``url``) or a response (``status``)."""

    headers: tuple[tuple[str, str], ...]
    method: str = ""
    url: str = ""
    status: int | None = None

    @classmethod
    def request(cls, method: str, url: str, headers: HeadersLike) -> HttpMessage:
        return cls(headers=header_lines(headers), method=method.upper(), url=url)

    @classmethod
    def response(cls, status: int, headers: HeadersLike) -> HttpMessage:
        return cls(headers=header_lines(headers), status=status)

    def header(self, name: str) -> str | None:
        """All field lines of ``name`` trimmed and joined with ", " (RFC 9110 5.3)."""
        name = name.lower()
        values = [value.strip(" \t") for key, value in self.headers if key == name]
        return ", ".join(values) if values else None

    def has_header(self, name: str) -> bool:
        return self.header(name) is not None

    def with_headers(self, extra: Mapping[str, str]) -> HttpMessage:
        """A copy with ``extra`` appended, as the receiver will see it."""
        added = tuple((name.lower(), value) for name, value in extra.items())
        return HttpMessage(self.headers + added, self.method, self.url, self.status)

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    @property
    def query(self) -> str:
        return urlsplit(self.url).query

    @property
    def request_target(self) -> str:
        """Path and query exactly as in the URL (still percent-encoded)."""
        return f"{self.path}?{self.query}" if self.query else self.path

    @property
    def authority(self) -> str:
        """Host[:port] of the URL as a Host header carries it: lowercase, default port dropped."""
        return authority_of(self.url)

    @property
    def host_authority(self) -> str | None:
        """The Host header in the same form as `authority` (None when there is none).

        `Host: uni.example:443` on an https request is the same host as `uni.example`.
        """
        host = self.header("host")
        if host is None:
            return None
        if any(char in host for char in "@/?#\\ "):
            return ""  # not a host at all; never read as one (userinfo, a path…)
        scheme = urlsplit(self.url).scheme or "https"
        return authority_of(f"{scheme}://{host}/")


def authority_of(url: str) -> str:
    """Host[:port] of `url`, lowercase, default port dropped; "" when it names no host."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # a port that is not a number, or out of range
        return ""
    host = (parts.hostname or "").lower()
    if not host:
        return ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    if port is None or port == default:
        return host
    return f"{host}:{port}"
