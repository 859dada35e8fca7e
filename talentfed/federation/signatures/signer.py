"""The one signer for outgoing requests, in either scheme.

What gets signed follows Mastodon's ``Request`` / ``HttpSignatureDraft``, which
signs every header it sends except User-Agent and Accept-Encoding:

* cavage: ``(request-target) host date`` + ``digest`` when there is a body or
  the method is POST + ``content-type`` / ``accept`` when the caller set them
  (Mastodon's deliveries carry Content-Type, its fetches Accept).
* RFC 9421: ``@method @target-uri`` + ``content-digest`` (same condition) +
  the same optional headers, with ``created``, ``keyid`` and ``alg`` -- what
  Mastodon requires of incoming RFC 9421 signatures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime

from . import algorithms, cavage, rfc9421
from .digest import content_digest_header, digest_header, verify_content_digest, verify_digest
from .errors import SignatureError
from .keys import PrivateKey, load_private_key
from .message import HttpMessage

_OPTIONAL_SIGNED = ("content-type", "accept")


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    key_id: str,
    private_key_pem: str | bytes | PrivateKey,
    scheme: str = "cavage",
    now: datetime | None = None,
) -> dict[str, str]:
    """Headers to add to the request: Host, Date, a digest if needed, and the signature.

    Headers the caller already set (Host, Date, Digest / Content-Digest) are
    signed as given and not returned again; a given digest must match ``body``.
    """
    if scheme not in ("cavage", "rfc9421"):
        raise ValueError(f"unknown signature scheme {scheme!r}")
    key = load_private_key(private_key_pem)
    message = HttpMessage.request(method, url, headers)
    needs_digest = body is not None or message.method == "POST"
    added = _transport_headers(message, body or b"", scheme, needs_digest, now)
    message = message.with_headers(added)
    optional = [name for name in _OPTIONAL_SIGNED if message.has_header(name)]
    if scheme == "cavage":
        covered = ["(request-target)", "host", "date", *(["digest"] * needs_digest), *optional]
        added["Signature"] = cavage.sign(message, key_id=key_id, private_key=key, headers=covered)
    else:
        components = ["@method", "@target-uri", *(["content-digest"] * needs_digest), *optional]
        added.update(_sign_rfc9421(message, key, key_id, components, now))
    return added


def _transport_headers(
    message: HttpMessage, body: bytes, scheme: str, needs_digest: bool, now: datetime | None
) -> dict[str, str]:
    added: dict[str, str] = {}
    if not message.has_header("host"):
        added["Host"] = message.authority
    if not message.has_header("date"):
        added["Date"] = format_datetime(_utc(now), usegmt=True)
    if needs_digest:
        name, make, check = (
            ("Digest", digest_header, verify_digest)
            if scheme == "cavage"
            else ("Content-Digest", content_digest_header, verify_content_digest)
        )
        given = message.header(name)
        if given is None:
            added[name] = make(body)
        else:
            _check_given_digest(check, given, body, name)
    return added


def _check_given_digest(check: Callable[[str, bytes], None], given: str, body: bytes, name: str) -> None:
    try:
        check(given, body)
    except SignatureError as exc:
        raise ValueError(f"the {name} header passed in does not match the body: {exc}") from exc


def _sign_rfc9421(
    message: HttpMessage, key: PrivateKey, key_id: str, components: list[str], now: datetime | None
) -> dict[str, str]:
    params = {
        "created": int(_utc(now).timestamp()),
        "keyid": key_id,
        "alg": algorithms.algorithm_for_key(key),
    }
    return rfc9421.sign(message, private_key=key, components=components, params=params)


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
