"""Loading and making the keys that HTTP signatures use.

Remote actors publish keys as PEM (``publicKeyPem``, SPKI or PKCS#1) or, per
FEP-521a, as a Multikey ``publicKeyMultibase``; `load_public_key` takes any of
those so a key resolver can return whatever it found.
"""

from __future__ import annotations

import functools
from typing import TypeAlias

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from .errors import KeyResolutionError

PublicKey: TypeAlias = rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKey: TypeAlias = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
#: What a key resolver may hand back: a key object, PEM text/bytes, or a multibase string.
PublicKeyLike: TypeAlias = PublicKey | str | bytes

_PUBLIC_TYPES = (rsa.RSAPublicKey, ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey)
_PRIVATE_TYPES = (rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey)

# Multicodec varint prefixes (https://github.com/multiformats/multicodec table).
_ED25519_PUB_PREFIX = b"\xed\x01"
_ED25519_PRIV_PREFIX = b"\x80\x26"
_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def load_public_key(key: PublicKeyLike) -> PublicKey:
    """A public key from a key object, PEM (SPKI or PKCS#1), or ``z…`` Multikey."""
    if isinstance(key, _PUBLIC_TYPES):
        return key
    text = key.decode("ascii", "replace") if isinstance(key, bytes) else str(key)
    return _parse_public(text)


# Parsing a key is far dearer than using it (an RSA private key is validated on load: ~40 ms),
# and the same few keys sign and verify again and again: parse each text once.
@functools.lru_cache(maxsize=4096)
def _parse_public(text: str) -> PublicKey:
    if text.startswith("z"):
        return decode_multikey_ed25519(text)
    try:
        loaded = serialization.load_pem_public_key(text.strip().encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise KeyResolutionError("the public key is not a readable PEM key") from exc
    if not isinstance(loaded, _PUBLIC_TYPES):
        raise KeyResolutionError(f"unsupported public key type {type(loaded).__name__}")
    return loaded


def load_private_key(key: PrivateKey | str | bytes) -> PrivateKey:
    """A private key from a key object or unencrypted PEM (PKCS#8 or PKCS#1)."""
    if isinstance(key, _PRIVATE_TYPES):
        return key
    return _parse_private(key.encode("ascii") if isinstance(key, str) else key)


@functools.lru_cache(maxsize=1024)
def _parse_private(data: bytes) -> PrivateKey:
    # Private keys are only ever ours, made by `generate_rsa_keypair` (domain/members.py): the
    # RSA consistency checks that loading runs (~50 ms a key, every member's first signature
    # after each start, and so the Accept of a first Follow) guard against keys we did not make.
    loaded = serialization.load_pem_private_key(
        data.strip(), password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(loaded, _PRIVATE_TYPES):
        raise ValueError(f"unsupported private key type {type(loaded).__name__}")
    return loaded


def generate_rsa_keypair(bits: int = 2048) -> tuple[str, str]:
    """A fresh RSA key as ``(private PKCS#8 PEM, public SPKI PEM)``."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return private_pem.decode("ascii"), public_key_pem(private.public_key())


def public_key_pem(key: PublicKey) -> str:
    """SPKI PEM, the form ``publicKeyPem`` carries."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def decode_multikey_ed25519(multibase: str) -> ed25519.Ed25519PublicKey:
    """FEP-521a ``publicKeyMultibase``: ``z`` + base58btc(0xed01 + 32-byte key)."""
    raw = _multibase_payload(multibase, _ED25519_PUB_PREFIX, "Ed25519 public")
    return ed25519.Ed25519PublicKey.from_public_bytes(raw)


def decode_multikey_ed25519_private(multibase: str) -> ed25519.Ed25519PrivateKey:
    """``z`` + base58btc(0x8026 + 32-byte seed), as FEP test vectors spell secrets."""
    raw = _multibase_payload(multibase, _ED25519_PRIV_PREFIX, "Ed25519 private")
    return ed25519.Ed25519PrivateKey.from_private_bytes(raw)


def _multibase_payload(multibase: str, prefix: bytes, what: str) -> bytes:
    if not multibase.startswith("z"):
        raise KeyResolutionError(f"{what} Multikey must be base58btc ('z' prefix)")
    data = _base58_decode(multibase[1:])
    if not data.startswith(prefix) or len(data) != len(prefix) + 32:
        raise KeyResolutionError(f"not an {what} Multikey")
    return data[len(prefix) :]


def _base58_decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = _BASE58_ALPHABET.find(char)
        if digit < 0:
            raise KeyResolutionError(f"invalid base58 character {char!r}")
        number = number * 58 + digit
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    # Each leading '1' stands for one leading zero byte.
    leading_zeros = len(text) - len(text.lstrip("1"))
    return b"\x00" * leading_zeros + body
