"""The signature algorithms we sign and verify with, by their RFC 9421 names.

Both schemes end up here: draft-cavage ``rsa-sha256`` is ``rsa-v1_5-sha256``,
and ``hs2019`` means "whatever the key is" (see `algorithm_for_key`).
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from .errors import UnsupportedAlgorithmError
from .keys import PrivateKey, PublicKey

RSA_V1_5_SHA256 = "rsa-v1_5-sha256"
RSA_PSS_SHA512 = "rsa-pss-sha512"
ED25519 = "ed25519"
ECDSA_P256_SHA256 = "ecdsa-p256-sha256"

SUPPORTED = frozenset({RSA_V1_5_SHA256, RSA_PSS_SHA512, ED25519, ECDSA_P256_SHA256})

# RFC 9421 3.3.1: PSS with SHA-512, MGF1(SHA-512) and a 64-byte salt.
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
_P256_HALF = 32  # bytes in each of r and s


def algorithm_for_key(key: PublicKey | PrivateKey) -> str:
    """The algorithm a key implies when the signature does not name one."""
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return RSA_V1_5_SHA256
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return ED25519
    is_ec = isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey)
    if is_ec and isinstance(key.curve, ec.SECP256R1):
        return ECDSA_P256_SHA256
    raise UnsupportedAlgorithmError(f"unsupported key type {type(key).__name__}")


def require_supported(algorithm: str) -> None:
    if algorithm not in SUPPORTED:
        raise UnsupportedAlgorithmError(
            f"unsupported signature algorithm {algorithm!r} (we accept {', '.join(sorted(SUPPORTED))})"
        )


def key_matches(algorithm: str, key: PublicKey | PrivateKey) -> bool:
    """Whether ``key`` can be used with ``algorithm`` (RSA keys serve both RSA schemes)."""
    if algorithm == RSA_PSS_SHA512:
        return isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey)
    try:
        return algorithm_for_key(key) == algorithm
    except UnsupportedAlgorithmError:
        return False


def sign(algorithm: str, key: PrivateKey, data: bytes) -> bytes:
    """Raw signature bytes (ECDSA as fixed-size r||s, as RFC 9421 3.3.4 wants)."""
    require_supported(algorithm)
    if not key_matches(algorithm, key):
        raise UnsupportedAlgorithmError(f"a {type(key).__name__} cannot sign {algorithm}")
    # key_matches has paired the key's type with the algorithm: dispatch on the type.
    if isinstance(key, rsa.RSAPrivateKey):
        if algorithm == RSA_PSS_SHA512:
            return key.sign(data, _PSS, hashes.SHA512())
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(_P256_HALF, "big") + s.to_bytes(_P256_HALF, "big")


def verify(algorithm: str, key: PublicKey, signature: bytes, data: bytes) -> bool:
    """True when ``signature`` is valid; False on a bad signature or a wrong key type."""
    if algorithm not in SUPPORTED or not key_matches(algorithm, key):
        return False
    try:
        _verify(algorithm, key, signature, data)
    except InvalidSignature:
        return False
    return True


def _verify(algorithm: str, key: PublicKey, signature: bytes, data: bytes) -> None:
    # verify has checked that the key's type goes with the algorithm: dispatch on the type.
    if isinstance(key, rsa.RSAPublicKey):
        if algorithm == RSA_PSS_SHA512:
            key.verify(signature, data, _PSS, hashes.SHA512())
        else:
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(signature, data)
    else:
        if len(signature) != 2 * _P256_HALF:
            raise InvalidSignature
        r = int.from_bytes(signature[:_P256_HALF], "big")
        s = int.from_bytes(signature[_P256_HALF:], "big")
        key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
