"""Tolerant readers for the shapes ActivityStreams values take in real documents.

The same property arrives as a bare id, an embedded object, a Link, or an array
of any of these depending on the server; ingest code reads it through these
helpers instead of assuming one shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
)

from talentfed.federation.limits import http_url
from talentfed.federation.origins import key_belongs_to

__all__ = [
    "PUBLIC",
    "PublicKey",
    "as_list",
    "bool_of",
    "clean_text",
    "datetime_of",
    "first_public_key",
    "id_of",
    "ids_of",
    "is_public",
    "language_tag",
    "multikey_to_pem",
    "public_keys",
    "timestamp",
    "types_of",
    "url_of",
]

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
# Compacted and bare forms that servers send in to/cc; the http:// form is a
# seen-in-the-wild mistake that can only mean the same thing.
_PUBLIC_FORMS = frozenset({PUBLIC, "as:Public", "Public", "http://www.w3.org/ns/activitystreams#Public"})
_LINK_TYPES = frozenset({"Link", "Mention", "Hashtag"})
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")


def as_list(value: Any) -> list[Any]:
    """`None` -> [], a list -> itself, anything else -> [value]."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def clean_text(value: Any) -> str | None:
    """A stripped string, or None. (NUL characters never get this far: `limits.parse_json`.)"""
    if not isinstance(value, str):
        return None
    return value.strip() or None


def datetime_of(value: Any) -> datetime | None:
    """An aware UTC datetime from an ISO 8601 string; garbage and non-strings give None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)  # naive: assume UTC
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def timestamp(moment: datetime) -> str:
    """How we write a date: xsd:dateTime in UTC, to the second, as Mastodon writes it.
    (A naive datetime is UTC already: SQLite returns stored ones without their zone.)"""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def language_tag(value: Any) -> str | None:
    """A BCP 47-looking tag that fits the column; 'und' (undetermined) is no language."""
    if not isinstance(value, str) or len(value) > 16 or not _LANGUAGE_TAG.fullmatch(value):
        return None
    return None if value.lower() == "und" else value


def types_of(value: Any) -> list[str]:
    """The `type` of an object as a list of strings (it may be a string or an array)."""
    if not isinstance(value, dict):
        return []
    return [t for t in as_list(value.get("type")) if isinstance(t, str)]


def id_of(value: Any) -> str | None:
    """The IRI a value refers to: a bare IRI, an object's `id`, a Link's `href`.

    For an array, the first element that has one.
    """
    if isinstance(value, str):
        return value or None
    if isinstance(value, list):
        return next((found for item in value if (found := id_of(item))), None)
    if not isinstance(value, dict):
        return None
    href = value.get("href")
    if _LINK_TYPES.intersection(types_of(value)) and isinstance(href, str):
        return href
    for key in ("id", "@id", "href"):
        found = value.get(key)
        if isinstance(found, str) and found:
            return found
    return None


def ids_of(value: Any) -> list[str]:
    """Every IRI in a single-or-array value, in order, skipping what has none."""
    return [found for item in as_list(value) if (found := id_of(item))]


def url_of(value: Any, media_type: str | None = "text/html") -> str | None:
    """A usable URL from `url`/`icon`-style values: an http(s) URL only (`limits.http_url`),
    since what we keep is rendered as a link, and `javascript:` must never be.

    Accepts a string, a Link (`href`), an object with a `url` (e.g. an Image,
    whose `url` may itself be a Link or an array), or an array of those. In an
    array the first usable entry wins, except that an entry whose `mediaType` is
    `media_type` is preferred (text/html for profile links, as Mastodon does).
    """
    if isinstance(value, str):
        return http_url(value)
    if isinstance(value, list):
        preferred = [
            v for v in value if media_type and isinstance(v, dict) and v.get("mediaType") == media_type
        ]
        return next((found for v in preferred + value if (found := url_of(v, media_type))), None)
    if not isinstance(value, dict):
        return None
    return http_url(value.get("href")) or url_of(value.get("url"), media_type)


def bool_of(value: Any, default: bool = False) -> bool:
    """A JSON boolean, also accepting "true"/"false" strings (seen in the wild)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return default


def _addressees(addressing: Any) -> Iterable[str]:
    if isinstance(addressing, dict) and ("to" in addressing or "cc" in addressing):
        # An activity or object: look at its audience fields.
        fields = ("to", "cc", "bto", "bcc", "audience")
        return (i for field in fields for i in ids_of(addressing.get(field)))
    return ids_of(addressing)


def is_public(addressing: Any) -> bool:
    """True if the public collection is among the addressees.

    `addressing` is a `to`/`cc` value (string, object or array), or a whole
    object/activity, whose `to`, `cc`, `bto`, `bcc` and `audience` are read.
    """
    return any(addressee in _PUBLIC_FORMS for addressee in _addressees(addressing))


@dataclass(frozen=True)
class PublicKey:
    """An actor's verification key, always as a PEM (Multikeys are converted)."""

    id: str
    owner: str
    pem: str
    type: str = "CryptographicKey"
    multibase: str | None = None  # the original publicKeyMultibase of a Multikey


_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_MULTICODEC_ED25519 = 0xED
_MULTICODEC_RSA = 0x1205
_MULTICODEC_EC = {0x1200: ec.SECP256R1(), 0x1201: ec.SECP384R1()}


def _base58btc_decode(text: str) -> bytes:
    number = 0
    for char in text:
        number = number * 58 + _BASE58_ALPHABET.index(char)  # ValueError if invalid
    leading_zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * leading_zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


def _read_varint(data: bytes) -> tuple[int, bytes]:
    value = shift = 0
    for index, byte in enumerate(data[:9]):
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, data[index + 1 :]
    raise ValueError("bad multicodec varint")


def multikey_to_pem(multibase: str) -> str | None:
    """PEM (SubjectPublicKeyInfo) for a FEP-521a `publicKeyMultibase`, or None.

    Supports base58btc ('z') Ed25519, RSA, P-256 and P-384 keys.
    """
    if not multibase.startswith("z"):
        return None
    try:
        codec, raw = _read_varint(_base58btc_decode(multibase[1:]))
        if codec == _MULTICODEC_ED25519:
            key: Any = ed25519.Ed25519PublicKey.from_public_bytes(raw)
        elif codec == _MULTICODEC_RSA:
            key = load_der_public_key(raw)
        elif codec in _MULTICODEC_EC:
            key = ec.EllipticCurvePublicKey.from_encoded_point(_MULTICODEC_EC[codec], raw)
        else:
            return None
    except ValueError:
        return None
    pem: bytes = key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    return pem.decode("ascii")


def _owner_ok(claimed: Any, actor_id: str | None) -> str | None:
    """The key's owner: missing means the actor; naming someone else disqualifies it."""
    if claimed is None or claimed == actor_id:
        return actor_id
    return None


def _from_public_key_entry(entry: Any, actor_id: str | None) -> PublicKey | None:
    if not isinstance(entry, dict):
        return None  # a bare key id: nothing to verify with until it is fetched
    key_id, pem = entry.get("id"), entry.get("publicKeyPem")
    owner = _owner_ok(id_of(entry.get("owner")), actor_id)
    if not (isinstance(key_id, str) and isinstance(pem, str) and owner):
        return None
    key_type = next(iter(types_of(entry)), "CryptographicKey")
    return PublicKey(id=key_id, owner=owner, pem=pem.strip() + "\n", type=key_type)


def _from_multikey_entry(entry: Any, actor_id: str | None) -> PublicKey | None:
    if not isinstance(entry, dict) or "Multikey" not in types_of(entry):
        return None
    key_id, multibase = entry.get("id"), entry.get("publicKeyMultibase")
    owner = _owner_ok(id_of(entry.get("controller")), actor_id)
    if not (isinstance(key_id, str) and isinstance(multibase, str) and owner):
        return None
    pem = multikey_to_pem(multibase)
    if pem is None:
        return None
    return PublicKey(id=key_id, owner=owner, pem=pem, type="Multikey", multibase=multibase)


def public_keys(actor: dict[str, Any]) -> list[PublicKey]:
    """All usable keys of an actor: `publicKey` entries, then FEP-521a Multikeys.

    `publicKey` may be an object or an array; a missing `owner` (or Multikey
    `controller`) means the actor itself; a key owned by anyone else is skipped,
    and so is a key whose id does not belong to the actor (`origins.key_belongs_to`:
    another host's key URL, or a fragment of another document), so that no document
    can claim, and shadow, someone else's key. A key id listed twice (Mitra lists
    its RSA key in both) is kept once.
    """
    actor_id = id_of(actor.get("id"))
    if not actor_id:
        return []
    candidates = [_from_public_key_entry(e, actor_id) for e in as_list(actor.get("publicKey"))]
    candidates += [_from_multikey_entry(e, actor_id) for e in as_list(actor.get("assertionMethod"))]
    unique: dict[str, PublicKey] = {}
    for key in candidates:
        if key is not None and key.id not in unique and key_belongs_to(key.id, actor_id):
            unique[key.id] = key
    return list(unique.values())


def first_public_key(actor: dict[str, Any]) -> PublicKey | None:
    """The key HTTP signatures usually name: the first `publicKey`, else the first Multikey."""
    keys = public_keys(actor)
    return keys[0] if keys else None
