"""The one verifier for incoming signed requests, whichever scheme they use.

Order of checks (cheap and local first, so a bad request never costs a key
fetch): parse → algorithm → time window → coverage → host → body digest → key →
signature. RFC 9421 (``Signature-Input``) wins when both schemes are present.

Host: a signature is only good for the server it was made for. draft-cavage
signs the ``Host`` header, RFC 9421 the ``@target-uri`` (and ``@authority``),
both taken from the request as received: the caller says which hosts are its
own (``our_hosts``), and a request signed for any other host is refused, so a
request signed for another server cannot be replayed here.

Every refusal is counted by its `code` (`talentfed_signature_failures_total`, see
observability/metrics.py), whichever request was verified: an inbox POST or a signed GET.

Key rotation: if the signature does not verify with the key the resolver
returns first, the resolver is asked once more with ``refresh=True`` and the
signature is tried again with that key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from talentfed.observability import metrics

from . import cavage, rfc9421
from .digest import verify_content_digest, verify_digest
from .errors import (
    DigestMismatchError,
    InvalidSignatureError,
    KeyResolutionError,
    MalformedSignatureError,
    MissingSignatureError,
    SignatureError,
    SignatureTimeError,
    WrongHostError,
)
from .keys import PublicKey, PublicKeyLike, load_public_key
from .message import HeadersLike, HttpMessage

#: ``await resolve_key(key_id, refresh=...)`` → the key (object, PEM or multibase), or None
#: when there is no such key. Expected failures (a 404, a timeout) should be raised as
#: `KeyResolutionError` so they reach the client as a 401; anything else propagates.
ResolveKey = Callable[..., Awaitable[PublicKeyLike | None]]

CAVAGE = "cavage"
RFC9421 = "rfc9421"


@dataclass(frozen=True)
class VerifiedSignature:
    """Who signed and how.

    ``algorithm`` uses RFC 9421 names for both schemes (``rsa-v1_5-sha256``,
    ``ed25519``, …); ``covered`` lists the signed headers / components in order.
    """

    key_id: str
    scheme: str
    algorithm: str
    covered: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Pending:
    """A request that passed every local check and only needs the key."""

    key_id: str
    scheme: str
    covered: tuple[str, ...]
    attempt: Callable[[PublicKey], str | None]


async def verify_request(
    method: str,
    url: str,
    headers: HeadersLike,
    body: bytes | None,
    *,
    resolve_key: ResolveKey,
    our_hosts: Collection[str],
    now: datetime | None = None,
    max_skew: int = 3600,
) -> VerifiedSignature:
    """Verify a request's signature or raise `SignatureError` with a reason for the 401.

    ``url`` is the absolute URL the client asked for (scheme, Host, path and
    query as received); ``body`` the raw bytes. ``our_hosts`` are the
    authorities (``host`` or ``host:port``, lowercase, default port dropped)
    this server answers for: the URL's and the Host header's must be one of
    them. Date / ``created`` must be within ``max_skew`` seconds of ``now``
    (Mastodon uses one hour) and a signed ``expires`` must not have passed.
    """
    if isinstance(our_hosts, str):  # `in` would then match substrings: "a.example" in "ka.example"
        raise TypeError("our_hosts is a collection of hosts, not one string")
    try:
        message = HttpMessage.request(method, url, headers)
        body = body or b""
        clock = _timestamp(now)
        if message.has_header("signature-input"):
            pending = _prepare_rfc9421(message, body, clock, max_skew)
        else:
            pending = _prepare_cavage(message, body, clock, max_skew)
        _check_host(message, our_hosts)  # before any key is fetched
        return await _verify_with_rotation(pending, resolve_key)
    except SignatureError as exc:
        metrics.count_signature_failure(exc.code)
        raise


def _prepare_cavage(message: HttpMessage, body: bytes, now: float, max_skew: int) -> _Pending:
    sig = cavage.find_signature(message)
    if sig is None:
        raise MissingSignatureError("Request not signed")
    cavage.check_algorithm_label(sig.algorithm)
    times = cavage.signature_times(sig, message)
    if times is not None:
        _check_window(*times, now=now, max_skew=max_skew)
    cavage.check_coverage(sig, message, body)
    if "digest" in sig.headers:
        verify_digest(_required_header(message, "digest", "Digest"), body)
    strings = cavage.signing_strings(message, sig)
    return _Pending(sig.key_id, CAVAGE, sig.headers, lambda key: cavage.verify_with_key(strings, sig, key))


def _prepare_rfc9421(message: HttpMessage, body: bytes, now: float, max_skew: int) -> _Pending:
    signature = message.header("signature")
    if signature is None:
        raise MalformedSignatureError("Signature-Input is present but Signature is missing")
    sig = rfc9421.parse_signatures(message.header("signature-input") or "", signature)[0]
    key_id, created = rfc9421.check_params(sig)
    _check_window(created, sig.expires, now=now, max_skew=max_skew)
    rfc9421.check_coverage(sig, message, body)
    if "content-digest" in sig.names:
        verify_content_digest(_required_header(message, "content-digest", "Content-Digest"), body)
    base = rfc9421.signature_base(message, sig)
    return _Pending(key_id, RFC9421, sig.names, lambda key: rfc9421.verify_with_key(base, sig, key))


def _check_host(message: HttpMessage, our_hosts: Collection[str]) -> None:
    """The request was made to, and signed for, one of our hosts.

    Both the URL (what RFC 9421's ``@target-uri`` and ``@authority`` resolve to) and the
    Host header (what draft-cavage signs) are checked, whichever scheme signed, so neither
    can name another server while the other names us.
    """
    for claimed in (message.authority, message.host_authority):
        if claimed is not None and claimed not in our_hosts:
            ours = ", ".join(sorted(our_hosts)) or "none"
            raise WrongHostError(
                f"the request is signed for the host {claimed!r}, not for this server ({ours})"
            )


def _required_header(message: HttpMessage, name: str, spelled: str) -> str:
    value = message.header(name)
    if value is None:
        raise DigestMismatchError(f"{spelled} header missing")
    return value


def _check_window(created: float, expires: float | None, *, now: float, max_skew: int) -> None:
    if abs(now - created) > max_skew:
        raise SignatureTimeError("Signed request date outside acceptable time window")
    if expires is not None and now > expires:
        raise SignatureTimeError("Signature has expired")


async def _verify_with_rotation(pending: _Pending, resolve_key: ResolveKey) -> VerifiedSignature:
    algorithm = pending.attempt(await _fetch_key(resolve_key, pending.key_id, refresh=False))
    if algorithm is None:
        # The sender may have rotated its key since we cached it: look once more.
        algorithm = pending.attempt(await _fetch_key(resolve_key, pending.key_id, refresh=True))
    if algorithm is None:
        raise InvalidSignatureError(f"Verification failed for key {pending.key_id}")
    return VerifiedSignature(pending.key_id, pending.scheme, algorithm, pending.covered)


async def _fetch_key(resolve_key: ResolveKey, key_id: str, *, refresh: bool) -> PublicKey:
    raw = await resolve_key(key_id, refresh=refresh)
    if raw is None:
        raise KeyResolutionError(f"Public key not found for key {key_id}")
    return load_public_key(raw)


def _timestamp(now: datetime | None) -> float:
    if now is None:
        return datetime.now(UTC).timestamp()
    if now.tzinfo is None:  # a naive time is taken as UTC, never as local time
        now = now.replace(tzinfo=UTC)
    return now.timestamp()
