"""HTTP signatures: draft-cavage-12 and RFC 9421, one signer and one verifier.

    headers.update(sign_request("POST", inbox, headers, body, key_id=..., private_key_pem=...))
    signed = await verify_request(method, url, headers, body, resolve_key=resolver)

Every refusal is a `SignatureError` whose ``reason`` can go in the 401 body.
"""

from .digest import content_digest_header, digest_header, verify_content_digest, verify_digest
from .errors import (
    DigestMismatchError,
    InsufficientCoverageError,
    InvalidSignatureError,
    KeyResolutionError,
    MalformedDigestError,
    MalformedSignatureError,
    MissingSignatureError,
    SignatureError,
    SignatureTimeError,
    UnsupportedAlgorithmError,
    WrongHostError,
)
from .keys import (
    PrivateKey,
    PublicKey,
    PublicKeyLike,
    decode_multikey_ed25519,
    generate_rsa_keypair,
    load_private_key,
    load_public_key,
    public_key_pem,
)
from .message import HttpMessage
from .signer import sign_request
from .verifier import ResolveKey, VerifiedSignature, verify_request

__all__ = [
    "DigestMismatchError",
    "HttpMessage",
    "InsufficientCoverageError",
    "InvalidSignatureError",
    "KeyResolutionError",
    "MalformedDigestError",
    "MalformedSignatureError",
    "MissingSignatureError",
    "PrivateKey",
    "PublicKey",
    "PublicKeyLike",
    "ResolveKey",
    "SignatureError",
    "SignatureTimeError",
    "UnsupportedAlgorithmError",
    "VerifiedSignature",
    "WrongHostError",
    "content_digest_header",
    "decode_multikey_ed25519",
    "digest_header",
    "generate_rsa_keypair",
    "load_private_key",
    "load_public_key",
    "public_key_pem",
    "sign_request",
    "verify_content_digest",
    "verify_digest",
    "verify_request",
]
