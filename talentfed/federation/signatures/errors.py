"""Every way a signed request can be refused, as one exception family.

`SignatureError.reason` is a sentence meant for the remote admin reading our
401 body, so it names what was wrong without echoing secrets; `code` names the
kind of refusal in a word, the same for every request refused that way (the
`reason` label of `talentfed_signature_failures_total`).
"""

from __future__ import annotations


class SignatureError(Exception):
    """A request signature was missing, malformed or did not verify."""

    #: The HTTP status an HTTP layer should answer with.
    status_code: int = 401
    code: str = "invalid"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MissingSignatureError(SignatureError):
    """The request carries no signature at all."""

    code = "missing"


class MalformedSignatureError(SignatureError):
    """A Signature / Signature-Input / Authorization header could not be parsed."""

    code = "malformed"


class UnsupportedAlgorithmError(SignatureError):
    """The signature names an algorithm, or uses a key type, that we do not verify."""

    code = "unsupported_algorithm"


class SignatureTimeError(SignatureError):
    """Date / created is outside the accepted window, or `expires` has passed."""

    code = "time_window"


class InsufficientCoverageError(SignatureError):
    """The signature does not cover what we require (e.g. the digest of a POST)."""

    code = "insufficient_coverage"


class DigestMismatchError(SignatureError):
    """A Digest / Content-Digest header is missing or does not match the body."""

    code = "digest_mismatch"


class MalformedDigestError(DigestMismatchError):
    """A Digest / Content-Digest header cannot be parsed.

    Mastodon answers 400 for this one: the header is broken, not the signature.
    """

    status_code = 400
    code = "malformed_digest"


class WrongHostError(SignatureError):
    """The request was signed for another server's host: it is not addressed to us.

    Without this check a signed request to any other server could be replayed here.
    """

    code = "wrong_host"


class KeyResolutionError(SignatureError):
    """No usable public key could be found for the signature's key id."""

    code = "key_unavailable"


class InvalidSignatureError(SignatureError):
    """The signature bytes do not verify against the signing base and key."""

    code = "invalid"
