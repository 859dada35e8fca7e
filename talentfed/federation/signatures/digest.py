"""Body digests: legacy ``Digest`` (RFC 3230) and ``Content-Digest`` (RFC 9530).

A signature covers the digest header, never the body itself, so the check
that the digest matches the body is what actually protects the body.

Rules (both headers): algorithm names are matched case-insensitively in
``Digest`` and exactly (lowercase, as RFC 8941 keys must be) in
``Content-Digest``; we understand sha-256 and sha-512, ignore unknown
algorithms, require at least one we understand, and require *every* one we
understand to match.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable
from typing import Any, Protocol

import http_sf

from .errors import DigestMismatchError, MalformedDigestError


class _Hash(Protocol):
    def digest(self) -> bytes: ...


_HASHES: dict[str, Callable[[bytes], _Hash]] = {
    "sha-256": hashlib.sha256,
    "sha-512": hashlib.sha512,
}


def digest_header(body: bytes, algorithm: str = "sha-256") -> str:
    """``Digest`` value, e.g. ``SHA-256=X48E...=`` (the spelling Mastodon sends)."""
    raw = _hash(algorithm, body)
    return f"{algorithm.upper()}={base64.b64encode(raw).decode()}"


def content_digest_header(body: bytes, algorithm: str = "sha-256") -> str:
    """``Content-Digest`` value, e.g. ``sha-256=:X48E...=:``."""
    raw = _hash(algorithm, body)
    return f"{algorithm}=:{base64.b64encode(raw).decode()}:"


def verify_digest(value: str, body: bytes) -> None:
    """Check a legacy ``Digest`` header against ``body``; raise if it does not match."""
    _check_all(_parse_legacy(value), body, "Digest")


def verify_content_digest(value: str, body: bytes) -> None:
    """Check a ``Content-Digest`` header against ``body``; raise if it does not match."""
    _check_all(_parse_structured(value), body, "Content-Digest")


def _hash(algorithm: str, body: bytes) -> bytes:
    if algorithm not in _HASHES:
        raise ValueError(f"unsupported digest algorithm {algorithm!r}")
    return _HASHES[algorithm](body).digest()


def _parse_legacy(value: str) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for part in value.split(","):
        name, sep, encoded = part.strip().partition("=")
        if not sep or not name:
            raise MalformedDigestError(f"Digest header could not be parsed: {value!r}")
        algorithm = name.strip().lower()
        if algorithm in _HASHES:
            found[algorithm] = _b64decode(encoded.strip(), "Digest")
    return found


def _parse_structured(value: str) -> dict[str, bytes]:
    try:
        parsed = http_sf.parse(value.encode("ascii"), tltype="dictionary")
    except (ValueError, UnicodeEncodeError) as exc:
        raise MalformedDigestError(
            "Content-Digest could not be parsed: it is not a valid RFC 8941 dictionary"
        ) from exc
    if not isinstance(parsed, dict):  # what tltype="dictionary" always gives
        raise MalformedDigestError("Content-Digest could not be parsed: it is not an RFC 8941 dictionary")
    # http_sf's types describe bare items; parse() pairs each one with its parameters
    members: dict[str, Any] = parsed
    found: dict[str, bytes] = {}
    for algorithm, (member, _params) in members.items():
        if algorithm not in _HASHES:
            continue
        if not isinstance(member, bytes):
            raise MalformedDigestError(f"Content-Digest {algorithm} is not a byte sequence")
        found[algorithm] = member
    return found


def _b64decode(encoded: str, header: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedDigestError(f"{header} value is not valid base64: {encoded!r}") from exc


def _check_all(digests: dict[str, bytes], body: bytes, header: str) -> None:
    if not digests:
        raise DigestMismatchError(
            f"{header} header offers no supported algorithm (we accept sha-256, sha-512)"
        )
    for algorithm, given in digests.items():
        expected = _HASHES[algorithm](body).digest()
        if len(given) != len(expected):
            raise MalformedDigestError(f"{header} {algorithm} value has the wrong length")
        if not hmac.compare_digest(given, expected):
            raise DigestMismatchError(f"{header} {algorithm} does not match the request body")
