"""draft-cavage-http-signatures-12, the ``Signature:`` header the fediverse grew up on.

What we accept (checked by `check_coverage`), compared with Mastodon's
``SignedRequest::HttpSignature#verify_signature_strength!``:

* Mastodon requires: ``date`` or ``(created)``; ``(request-target)`` or
  ``digest``; ``host`` on GET; ``digest`` on POST.
* We require, a little more strictly: ``(request-target)`` always (a signature
  without it can be replayed against any path), ``host`` always (binds the
  signature to this server), ``date`` or ``(created)``, and ``digest`` for a
  POST or for any request that has a body. Every sender we know of (Mastodon,
  Misskey, Pleroma/Akkoma, GoToSocial, Lemmy, Fedify) already signs all of these.

Like Mastodon, a signature whose ``(request-target)`` lacks the query string
is also accepted (older Mastodon releases signed the path only); see
`signing_strings`.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from . import algorithms
from .errors import (
    InsufficientCoverageError,
    InvalidSignatureError,
    MalformedSignatureError,
    SignatureTimeError,
    UnsupportedAlgorithmError,
)
from .keys import PrivateKey, PublicKey
from .message import HttpMessage

REQUEST_TARGET = "(request-target)"
CREATED = "(created)"
EXPIRES = "(expires)"
HS2019 = "hs2019"
RSA_SHA256 = "rsa-sha256"
LABELS = frozenset({HS2019, RSA_SHA256})

# auth-param = token BWS "=" BWS ( token / quoted-string ), comma separated.
_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))\s*(?:,|$)')
_INTEGER = re.compile(r"\d+")
_TIMESTAMP = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class CavageSignature:
    """A parsed ``Signature`` header; ``headers`` are lowercase, in signed order."""

    key_id: str
    algorithm: str | None
    headers: tuple[str, ...]
    signature: bytes
    created: str | None = None
    expires: str | None = None


# --- parsing -------------------------------------------------------------------------


def find_signature(message: HttpMessage) -> CavageSignature | None:
    """The ``Signature`` header, else ``Authorization: Signature …``, parsed."""
    value = message.header("signature")
    if value is None:
        scheme, _, rest = (message.header("authorization") or "").partition(" ")
        if scheme.lower() != "signature":
            return None
        value = rest
    return parse_signature_header(value)


def parse_signature_header(value: str) -> CavageSignature:
    params = _parse_params(value)
    if not params.get("keyid") or not params.get("signature"):
        raise MalformedSignatureError("Incompatible request signature: keyId and signature are required")
    algorithm = params.get("algorithm")
    # Without a headers parameter draft-12 signs "(created)"; Mastodon keeps the older
    # "date" default for rsa-sha256 (as Appendix C.1 does). Either way our coverage
    # rules then refuse it, since (request-target) is not signed.
    default = (CREATED,) if algorithm in (None, HS2019) else ("date",)
    headers = tuple(params["headers"].lower().split()) if "headers" in params else default
    if len(set(headers)) != len(headers):
        raise MalformedSignatureError("the headers parameter lists a header twice")
    return CavageSignature(
        key_id=params["keyid"],
        algorithm=algorithm.lower() if algorithm else None,
        headers=headers,
        signature=_decode_signature(params["signature"]),
        created=_checked(params.get("created"), _INTEGER, "created"),
        expires=_checked(params.get("expires"), _TIMESTAMP, "expires"),
    )


def _parse_params(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    position, end = 0, len(value.rstrip())
    while position < end:
        match = _PARAM.match(value, position)
        if match is None or match.end() == position:
            raise MalformedSignatureError("Error parsing signature parameters")
        name = match.group(1).lower()
        if name in params:
            raise MalformedSignatureError(f"signature parameter {name!r} appears twice")
        quoted = match.group(2)
        if quoted is None:
            params[name] = match.group(3)
        else:
            params[name] = re.sub(r"\\(.)", r"\1", quoted) if "\\" in quoted else quoted
        position = match.end()
    return params


def _decode_signature(encoded: str) -> bytes:
    try:
        return base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedSignatureError("the signature parameter is not valid base64") from exc


def _checked(value: str | None, pattern: re.Pattern[str], name: str) -> str | None:
    if value is not None and not pattern.fullmatch(value):
        raise MalformedSignatureError(f"the {name} parameter must be a Unix timestamp")
    return value


# --- policy --------------------------------------------------------------------------


def check_algorithm_label(label: str | None) -> None:
    """Refuse labels we never verify before any key is fetched."""
    if label is not None and label not in LABELS:
        raise UnsupportedAlgorithmError(
            f"Unsupported signature algorithm {label!r} (only rsa-sha256 and hs2019 are supported)"
        )


def check_coverage(sig: CavageSignature, message: HttpMessage, body: bytes) -> None:
    """The rule in the module docstring."""
    covered = set(sig.headers)
    if REQUEST_TARGET not in covered:
        raise InsufficientCoverageError("the (request-target) pseudo-header must be signed")
    if "host" not in covered:
        raise InsufficientCoverageError("the Host header must be signed")
    if "date" not in covered and CREATED not in covered:
        raise InsufficientCoverageError("the Date header or (created) pseudo-header must be signed")
    if (message.method == "POST" or body) and "digest" not in covered:
        raise InsufficientCoverageError(
            "the Digest header must be signed when doing a POST request or sending a body"
        )


def signature_times(sig: CavageSignature, message: HttpMessage) -> tuple[float, float | None] | None:
    """``(created, expires)`` as signed; None when neither a time nor a Date is signed."""
    expires = float(sig.expires) if sig.expires and EXPIRES in sig.headers else None
    if CREATED in sig.headers and sig.created is not None:
        return float(sig.created), expires
    if "date" not in sig.headers:
        return None
    date = message.header("date") or ""
    try:
        return parsedate_to_datetime(date).timestamp(), expires
    except (TypeError, ValueError) as exc:
        raise SignatureTimeError(f"Invalid Date header: not an HTTP date: {date!r}") from exc


# --- signing strings -----------------------------------------------------------------


def signing_string(message: HttpMessage, sig: CavageSignature, *, include_query: bool = True) -> str:
    """Lines ``name: value`` in exactly the order the ``headers`` parameter lists."""
    return "\n".join(_line(message, sig, name, include_query) for name in sig.headers)


def signing_strings(message: HttpMessage, sig: CavageSignature) -> list[bytes]:
    """The strings a valid signature may be over: with the query, then (compat) without."""
    strings = [signing_string(message, sig)]
    if message.query and REQUEST_TARGET in sig.headers:
        strings.append(signing_string(message, sig, include_query=False))
    return [string.encode("utf-8") for string in strings]


def _line(message: HttpMessage, sig: CavageSignature, name: str, include_query: bool) -> str:
    if name == REQUEST_TARGET:
        target = message.request_target if include_query else message.path
        return f"{REQUEST_TARGET}: {message.method.lower()} {target}"
    if name in (CREATED, EXPIRES):
        return f"{name}: {_pseudo_value(sig, name)}"
    if name.startswith("("):
        raise MalformedSignatureError(f"unknown pseudo-header {name}")
    value = message.header(name)
    if value is None:
        raise InvalidSignatureError(f"the signed header {name!r} is missing from the request")
    return f"{name}: {value}"


def _pseudo_value(sig: CavageSignature, name: str) -> str:
    # draft-cavage-12 2.3: (created)/(expires) are an error with rsa/hmac/ecdsa labels.
    if sig.algorithm is not None and sig.algorithm.startswith(("rsa", "hmac", "ecdsa")):
        raise MalformedSignatureError(f"Invalid pseudo-header {name} for {sig.algorithm}")
    value = sig.created if name == CREATED else sig.expires
    if value is None:
        raise MalformedSignatureError(f"Pseudo-header {name} used but its parameter is missing")
    return value


# --- crypto --------------------------------------------------------------------------


def algorithm_for(label: str | None, key: PublicKey | PrivateKey) -> str | None:
    """The concrete algorithm for a label and key; None when they do not fit together.

    ``rsa-sha256`` needs an RSA key. ``hs2019`` (or no label) lets the key decide:
    RSA PKCS#1 v1.5 SHA-256 for RSA, Ed25519 for Ed25519, as Mastodon does.
    """
    if label == RSA_SHA256:
        wanted = algorithms.RSA_V1_5_SHA256
        return wanted if algorithms.key_matches(wanted, key) else None
    try:
        found = algorithms.algorithm_for_key(key)
    except UnsupportedAlgorithmError:
        return None
    return found if found in (algorithms.RSA_V1_5_SHA256, algorithms.ED25519) else None


def verify_with_key(strings: list[bytes], sig: CavageSignature, key: PublicKey) -> str | None:
    """The algorithm name when ``sig`` verifies over one of ``strings`` with ``key``."""
    algorithm = algorithm_for(sig.algorithm, key)
    if algorithm is None:
        return None
    for string in strings:
        if algorithms.verify(algorithm, key, sig.signature, string):
            return algorithm
    return None


def sign(message: HttpMessage, *, key_id: str, private_key: PrivateKey, headers: list[str]) -> str:
    """A ``Signature`` header value over ``headers`` (in that order) of ``message``."""
    # Mastodon labels RSA signatures rsa-sha256; Ed25519 only exists under hs2019.
    algorithm = algorithms.algorithm_for_key(private_key)
    labels = {algorithms.RSA_V1_5_SHA256: RSA_SHA256, algorithms.ED25519: HS2019}
    if algorithm not in labels:
        raise UnsupportedAlgorithmError("draft-cavage signing needs an RSA or Ed25519 key")
    label = labels[algorithm]
    unsigned = CavageSignature(key_id, label, tuple(h.lower() for h in headers), b"")
    raw = algorithms.sign(algorithm, private_key, signing_string(message, unsigned).encode("utf-8"))
    return (
        f'keyId="{_quote(key_id)}",algorithm="{label}",'
        f'headers="{" ".join(unsigned.headers)}",'
        f'signature="{base64.b64encode(raw).decode("ascii")}"'
    )


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
