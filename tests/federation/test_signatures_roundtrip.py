"""Our signer against our verifier, key rotation, and every rejection path."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from starlette.datastructures import Headers

from talentfed.federation.signatures import (
    DigestMismatchError,
    InsufficientCoverageError,
    InvalidSignatureError,
    KeyResolutionError,
    MalformedDigestError,
    MalformedSignatureError,
    MissingSignatureError,
    PublicKeyLike,
    SignatureError,
    SignatureTimeError,
    UnsupportedAlgorithmError,
    VerifiedSignature,
    cavage,
    content_digest_header,
    digest_header,
    generate_rsa_keypair,
    load_public_key,
    rfc9421,
    sign_request,
    verify_content_digest,
    verify_digest,
    verify_request,
)
from talentfed.federation.signatures.message import HttpMessage
from tests.support.signing import SCHEMES, signed_headers

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
KEY_ID = "https://a.example/users/alice#main-key"
INBOX = "https://b.example/users/bob/inbox"
ACTOR = "https://b.example/users/bob?page=1"
OURS = frozenset({"b.example"})  # the verifying server's hosts
BODY = b'{"type": "Follow", "actor": "https://a.example/users/alice"}'


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[str, str]:
    return generate_rsa_keypair()


@pytest.fixture(scope="module")
def other_rsa_keys() -> tuple[str, str]:
    return generate_rsa_keypair()


@pytest.fixture(scope="module")
def ed_keys() -> tuple[str, str]:
    private = ed25519.Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


class Resolver:
    """Answers with ``cached`` first and ``fresh`` when asked to refresh; records calls."""

    def __init__(self, cached: str | None, fresh: str | None = None) -> None:
        self.cached, self.fresh = cached, fresh
        self.calls: list[tuple[str, bool]] = []

    async def __call__(self, key_id: str, refresh: bool) -> str | None:
        self.calls.append((key_id, refresh))
        return self.fresh if refresh else self.cached


def signed(
    method: str, url: str, body: bytes | None, private_pem: str, scheme: str, now: datetime = NOW
) -> dict[str, str]:
    """A request as an ActivityPub client sends it: Accept on GET, Content-Type with a body."""
    return signed_headers(method, url, body, key_id=KEY_ID, private_pem=private_pem, scheme=scheme, now=now)


async def verify(
    method: str,
    url: str,
    headers: object,
    body: bytes | None,
    public_pem: PublicKeyLike,
    now: datetime = NOW,
    **kw: int,
) -> VerifiedSignature:
    return await verify_request(
        method,
        url,
        headers,
        body,
        resolve_key=Resolver(public_pem, public_pem),
        our_hosts=OURS,
        now=now,
        **kw,
    )


# --- round trips ----------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_post_round_trip(scheme: str, rsa_keys: tuple[str, str]) -> None:
    headers = signed("POST", INBOX, BODY, rsa_keys[0], scheme)
    result = await verify("POST", INBOX, headers, BODY, rsa_keys[1])
    assert (result.key_id, result.scheme, result.algorithm) == (KEY_ID, scheme, "rsa-v1_5-sha256")
    digest = "digest" if scheme == "cavage" else "content-digest"
    assert digest in result.covered and "content-type" in result.covered


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_get_round_trip_with_query(scheme: str, rsa_keys: tuple[str, str]) -> None:
    headers = signed("GET", ACTOR, None, rsa_keys[0], scheme)
    result = await verify("GET", ACTOR, headers, None, rsa_keys[1])
    assert result.scheme == scheme
    assert "accept" in result.covered
    assert not any("digest" in name for name in result.covered)


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_ed25519_round_trip(scheme: str, ed_keys: tuple[str, str]) -> None:
    headers = signed("POST", INBOX, BODY, ed_keys[0], scheme)
    result = await verify("POST", INBOX, headers, BODY, ed_keys[1])
    assert result.algorithm == "ed25519"
    if scheme == "cavage":
        assert 'algorithm="hs2019"' in headers["Signature"]


def test_signer_adds_transport_headers(rsa_keys: tuple[str, str]) -> None:
    added = sign_request(
        "POST", "https://b.example:8443/inbox", {}, b"{}", key_id=KEY_ID, private_key_pem=rsa_keys[0], now=NOW
    )
    assert added["Host"] == "b.example:8443"
    assert added["Date"] == "Sun, 01 Mar 2026 12:00:00 GMT"
    assert added["Digest"] == digest_header(b"{}")
    assert 'headers="(request-target) host date digest"' in added["Signature"]
    added = sign_request(
        "POST", INBOX, {}, b"{}", key_id=KEY_ID, private_key_pem=rsa_keys[0], scheme="rfc9421", now=NOW
    )
    assert added["Content-Digest"] == content_digest_header(b"{}")
    assert added["Signature-Input"] == (
        f'sig1=("@method" "@target-uri" "content-digest");created={int(NOW.timestamp())};'
        f'keyid="{KEY_ID}";alg="rsa-v1_5-sha256"'
    )


def test_signer_keeps_headers_the_caller_set(rsa_keys: tuple[str, str]) -> None:
    given = {"host": "b.example", "DATE": "Sun, 01 Mar 2026 11:59:00 GMT", "Digest": digest_header(BODY)}
    added = sign_request("POST", INBOX, given, BODY, key_id=KEY_ID, private_key_pem=rsa_keys[0], now=NOW)
    assert set(added) == {"Signature"}


def test_signer_refuses_a_digest_that_does_not_match(rsa_keys: tuple[str, str]) -> None:
    with pytest.raises(ValueError, match="does not match"):
        sign_request(
            "POST",
            INBOX,
            {"Digest": digest_header(b"other")},
            BODY,
            key_id=KEY_ID,
            private_key_pem=rsa_keys[0],
        )


def test_signer_refuses_an_unknown_scheme(rsa_keys: tuple[str, str]) -> None:
    with pytest.raises(ValueError, match="scheme"):
        sign_request("GET", INBOX, {}, None, key_id=KEY_ID, private_key_pem=rsa_keys[0], scheme="jws")


@pytest.mark.parametrize("shape", ["pairs", "upper-case dict", "starlette", "httpx"])
async def test_verifier_accepts_any_headers_container(shape: str, rsa_keys: tuple[str, str]) -> None:
    headers = signed("POST", INBOX, BODY, rsa_keys[0], "cavage")
    pairs = list(headers.items())
    container = {
        "pairs": lambda: pairs,
        "upper-case dict": lambda: {name.upper(): value for name, value in pairs},
        "starlette": lambda: Headers(raw=[(n.lower().encode(), v.encode()) for n, v in pairs]),
        "httpx": lambda: httpx.Headers(pairs),
    }[shape]()
    assert (await verify("POST", INBOX, container, BODY, rsa_keys[1])).scheme == "cavage"


async def test_authorization_signature_form(rsa_keys: tuple[str, str]) -> None:
    headers = signed("GET", ACTOR, None, rsa_keys[0], "cavage")
    headers["Authorization"] = "Signature " + headers.pop("Signature")
    assert (await verify("GET", ACTOR, headers, None, rsa_keys[1])).scheme == "cavage"


async def test_rfc9421_is_preferred_when_both_are_present(rsa_keys: tuple[str, str]) -> None:
    draft = signed("GET", ACTOR, None, rsa_keys[0], "cavage")
    headers = signed("GET", ACTOR, None, rsa_keys[0], "rfc9421")
    headers["Authorization"] = "Signature " + draft["Signature"]
    assert (await verify("GET", ACTOR, headers, None, rsa_keys[1])).scheme == "rfc9421"


async def test_resolver_may_return_a_key_object(rsa_keys: tuple[str, str]) -> None:
    headers = signed("GET", ACTOR, None, rsa_keys[0], "rfc9421")
    key = load_public_key(rsa_keys[1])
    assert await verify("GET", ACTOR, headers, None, key)


# --- key rotation ---------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_key_rotation_refreshes_exactly_once(
    scheme: str, rsa_keys: tuple[str, str], other_rsa_keys: tuple[str, str]
) -> None:
    headers = signed("POST", INBOX, BODY, rsa_keys[0], scheme)
    resolver = Resolver(cached=other_rsa_keys[1], fresh=rsa_keys[1])
    result = await verify_request("POST", INBOX, headers, BODY, resolve_key=resolver, our_hosts=OURS, now=NOW)
    assert result.key_id == KEY_ID
    assert resolver.calls == [(KEY_ID, False), (KEY_ID, True)]


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_wrong_key_is_rejected_after_one_refresh(
    scheme: str, rsa_keys: tuple[str, str], other_rsa_keys: tuple[str, str]
) -> None:
    headers = signed("POST", INBOX, BODY, rsa_keys[0], scheme)
    resolver = Resolver(cached=other_rsa_keys[1], fresh=other_rsa_keys[1])
    with pytest.raises(InvalidSignatureError, match="Verification failed for key"):
        await verify_request("POST", INBOX, headers, BODY, resolve_key=resolver, our_hosts=OURS, now=NOW)
    assert resolver.calls == [(KEY_ID, False), (KEY_ID, True)]


async def test_key_of_the_wrong_type_is_a_failed_verification(
    rsa_keys: tuple[str, str], ed_keys: tuple[str, str]
) -> None:
    headers = signed("POST", INBOX, BODY, rsa_keys[0], "cavage")
    with pytest.raises(InvalidSignatureError):
        await verify("POST", INBOX, headers, BODY, ed_keys[1])


async def test_unknown_key_is_not_refreshed(rsa_keys: tuple[str, str]) -> None:
    headers = signed("GET", ACTOR, None, rsa_keys[0], "cavage")
    resolver = Resolver(cached=None)
    with pytest.raises(KeyResolutionError, match="Public key not found"):
        await verify_request("GET", ACTOR, headers, None, resolve_key=resolver, our_hosts=OURS, now=NOW)
    assert resolver.calls == [(KEY_ID, False)]


async def test_unreadable_key_is_a_key_error(rsa_keys: tuple[str, str]) -> None:
    headers = signed("GET", ACTOR, None, rsa_keys[0], "cavage")
    with pytest.raises(KeyResolutionError):
        await verify(
            "GET", ACTOR, headers, None, "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----"
        )


# --- time -----------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("offset", [timedelta(hours=-2), timedelta(hours=2)])
async def test_date_two_hours_off_is_rejected(
    scheme: str, offset: timedelta, rsa_keys: tuple[str, str]
) -> None:
    headers = signed("GET", ACTOR, None, rsa_keys[0], scheme, now=NOW + offset)
    with pytest.raises(SignatureTimeError, match="outside acceptable time window"):
        await verify("GET", ACTOR, headers, None, rsa_keys[1])


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_date_within_the_hour_is_accepted(scheme: str, rsa_keys: tuple[str, str]) -> None:
    headers = signed("GET", ACTOR, None, rsa_keys[0], scheme, now=NOW - timedelta(minutes=59))
    assert await verify("GET", ACTOR, headers, None, rsa_keys[1])


async def test_max_skew_is_configurable(rsa_keys: tuple[str, str]) -> None:
    headers = signed("GET", ACTOR, None, rsa_keys[0], "cavage", now=NOW - timedelta(minutes=10))
    with pytest.raises(SignatureTimeError):
        await verify("GET", ACTOR, headers, None, rsa_keys[1], max_skew=300)


async def test_unparsable_date_is_rejected(rsa_keys: tuple[str, str]) -> None:
    headers = signed("GET", ACTOR, None, rsa_keys[0], "cavage") | {"Date": "wrong date"}
    with pytest.raises(SignatureTimeError, match="Invalid Date header"):
        await verify("GET", ACTOR, headers, None, rsa_keys[1])


async def test_rfc9421_expires_in_the_past_is_rejected(rsa_keys: tuple[str, str]) -> None:
    message = HttpMessage.request("GET", ACTOR, {})
    created = int(NOW.timestamp()) - 60
    headers = rfc9421.sign(
        message,
        private_key=serialization.load_pem_private_key(rsa_keys[0].encode(), None),
        components=["@method", "@target-uri"],
        params={"created": created, "expires": created + 30, "keyid": KEY_ID},
    )
    with pytest.raises(SignatureTimeError, match="expired"):
        await verify("GET", ACTOR, headers, None, rsa_keys[1])
    assert await verify("GET", ACTOR, headers, None, rsa_keys[1], now=NOW - timedelta(seconds=45))


async def test_rfc9421_created_is_required(rsa_keys: tuple[str, str]) -> None:
    headers = rfc9421.sign(
        HttpMessage.request("GET", ACTOR, {}),
        private_key=serialization.load_pem_private_key(rsa_keys[0].encode(), None),
        components=["@method", "@target-uri"],
        params={"keyid": KEY_ID},
    )
    with pytest.raises(MalformedSignatureError, match="created"):
        await verify("GET", ACTOR, headers, None, rsa_keys[1])


# --- order of the covered headers -----------------------------------------------------


def test_swapping_the_headers_order_changes_the_signing_string() -> None:
    message = HttpMessage.request(
        "GET", ACTOR, {"Host": "b.example", "Date": "Sun, 01 Mar 2026 12:00:00 GMT"}
    )
    one = cavage.CavageSignature(KEY_ID, "rsa-sha256", ("(request-target)", "host", "date"), b"")
    two = cavage.CavageSignature(KEY_ID, "rsa-sha256", ("date", "host", "(request-target)"), b"")
    assert cavage.signing_string(message, one) == (
        "(request-target): get /users/bob?page=1\nhost: b.example\ndate: Sun, 01 Mar 2026 12:00:00 GMT"
    )
    assert cavage.signing_string(message, two) == (
        "date: Sun, 01 Mar 2026 12:00:00 GMT\nhost: b.example\n(request-target): get /users/bob?page=1"
    )


async def test_cavage_verifies_in_the_listed_order_and_only_that(rsa_keys: tuple[str, str]) -> None:
    headers = signed("POST", INBOX, BODY, rsa_keys[0], "cavage")
    order = 'headers="(request-target) host date digest content-type"'
    assert order in headers["Signature"]
    assert await verify("POST", INBOX, headers, BODY, rsa_keys[1])
    swapped = headers | {
        "Signature": headers["Signature"].replace(
            order, 'headers="host (request-target) date digest content-type"'
        )
    }
    with pytest.raises(InvalidSignatureError):
        await verify("POST", INBOX, swapped, BODY, rsa_keys[1])


async def test_rfc9421_verifies_in_the_listed_order_and_only_that(rsa_keys: tuple[str, str]) -> None:
    headers = signed("POST", INBOX, BODY, rsa_keys[0], "rfc9421")
    swapped = headers | {
        "Signature-Input": headers["Signature-Input"].replace(
            '("@method" "@target-uri"', '("@target-uri" "@method"'
        )
    }
    assert swapped != headers
    with pytest.raises(InvalidSignatureError):
        await verify("POST", INBOX, swapped, BODY, rsa_keys[1])


# --- what must be signed, and the body -----------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_tampered_body_is_rejected(scheme: str, rsa_keys: tuple[str, str]) -> None:
    headers = signed("POST", INBOX, BODY, rsa_keys[0], scheme)
    with pytest.raises(DigestMismatchError, match="does not match"):
        await verify("POST", INBOX, headers, BODY + b" ", rsa_keys[1])


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_body_without_a_signed_digest_is_rejected(scheme: str, rsa_keys: tuple[str, str]) -> None:
    headers = signed("GET", ACTOR, None, rsa_keys[0], scheme)  # signed with no body
    with pytest.raises(InsufficientCoverageError, match="igest"):
        await verify("GET", ACTOR, headers, b"smuggled", rsa_keys[1])


async def test_signed_digest_header_must_be_present(rsa_keys: tuple[str, str]) -> None:
    headers = signed("POST", INBOX, BODY, rsa_keys[0], "cavage")
    del headers["Digest"]
    with pytest.raises(SignatureError, match="Digest header missing"):
        await verify("POST", INBOX, headers, BODY, rsa_keys[1])


@pytest.mark.parametrize(
    ("covered", "reason"),
    [
        ("host date digest", r"\(request-target\)"),
        ("(request-target) date digest", "Host"),
        ("(request-target) host digest", r"Date header or \(created\)"),
    ],
)
async def test_cavage_coverage_rules(covered: str, reason: str, rsa_keys: tuple[str, str]) -> None:
    headers = signed("POST", INBOX, BODY, rsa_keys[0], "cavage")
    headers["Signature"] = headers["Signature"].replace(
        'headers="(request-target) host date digest content-type"', f'headers="{covered}"'
    )
    with pytest.raises(InsufficientCoverageError, match=reason):
        await verify("POST", INBOX, headers, BODY, rsa_keys[1])


async def test_rfc9421_must_cover_method_and_target_uri(rsa_keys: tuple[str, str]) -> None:
    headers = rfc9421.sign(
        HttpMessage.request("GET", ACTOR, {}),
        private_key=serialization.load_pem_private_key(rsa_keys[0].encode(), None),
        components=["@method", "@path", "@query", "@authority"],
        params={"created": int(NOW.timestamp()), "keyid": KEY_ID},
    )
    with pytest.raises(InsufficientCoverageError, match="@target-uri"):
        await verify("GET", ACTOR, headers, None, rsa_keys[1])


async def test_rfc9421_covered_header_missing_from_request(rsa_keys: tuple[str, str]) -> None:
    headers = signed("GET", ACTOR, None, rsa_keys[0], "rfc9421")
    del headers["Accept"]
    with pytest.raises(InvalidSignatureError, match="accept"):
        await verify("GET", ACTOR, headers, None, rsa_keys[1])


# --- malformed and missing signatures --------------------------------------------------


async def test_no_signature(rsa_keys: tuple[str, str]) -> None:
    with pytest.raises(MissingSignatureError, match="Request not signed"):
        await verify("GET", ACTOR, {"Authorization": "Bearer abc"}, None, rsa_keys[1])


@pytest.mark.parametrize(
    "value",
    [
        'keyId="a" headers="date",signature="AAAA"',  # missing comma
        'keyId="a",signature="AAAA',  # unterminated quote
        'keyId="a",keyId="b",signature="AAAA"',  # repeated parameter
        'headers="date",signature="AAAA"',  # no keyId
        'keyId="a",signature="not base64!"',
        'keyId="a",created=yesterday,signature="AAAA"',
    ],
)
async def test_unparsable_cavage_header(value: str, rsa_keys: tuple[str, str]) -> None:
    with pytest.raises(MalformedSignatureError):
        await verify("GET", ACTOR, {"Signature": value}, None, rsa_keys[1])


@pytest.mark.parametrize(
    ("signature_input", "signature"),
    [
        ('sig1=("@method" "@target-uri";created=1', "sig1=:AAAA:"),  # unterminated list
        ('sig1=("@method");created=1;keyid="k"', 'sig1="not bytes"'),
        ('sig1=("@method");created=1;keyid="k"', "sig2=:AAAA:"),  # labels differ
        ('sig1=("@method");created="now";keyid="k"', "sig1=:AAAA:"),
        ('sig1=("@Method");created=1;keyid="k"', "sig1=:AAAA:"),
        ('sig1=("@method" "@method");created=1;keyid="k"', "sig1=:AAAA:"),
    ],
)
async def test_unparsable_rfc9421_headers(signature_input: str, signature: str, rsa_keys) -> None:
    headers = {"Signature-Input": signature_input, "Signature": signature}
    with pytest.raises(MalformedSignatureError):
        await verify("GET", ACTOR, headers, None, rsa_keys[1])


async def test_signature_input_without_signature(rsa_keys: tuple[str, str]) -> None:
    headers = {"Signature-Input": 'sig1=("@method");created=1;keyid="k"'}
    with pytest.raises(MalformedSignatureError, match="Signature is missing"):
        await verify("GET", ACTOR, headers, None, rsa_keys[1])


async def test_unsupported_cavage_algorithm(rsa_keys: tuple[str, str]) -> None:
    headers = signed("GET", ACTOR, None, rsa_keys[0], "cavage")
    headers["Signature"] = headers["Signature"].replace('"rsa-sha256"', '"hmac-sha256"')
    with pytest.raises(UnsupportedAlgorithmError, match="hmac-sha256"):
        await verify("GET", ACTOR, headers, None, rsa_keys[1])


async def test_unsupported_rfc9421_algorithm(rsa_keys: tuple[str, str]) -> None:
    headers = signed("GET", ACTOR, None, rsa_keys[0], "rfc9421")
    headers["Signature-Input"] = headers["Signature-Input"].replace("rsa-v1_5-sha256", "hmac-sha256")
    with pytest.raises(UnsupportedAlgorithmError, match="hmac-sha256"):
        await verify("GET", ACTOR, headers, None, rsa_keys[1])


async def test_rfc9421_alg_must_fit_the_key(rsa_keys: tuple[str, str]) -> None:
    headers = signed("GET", ACTOR, None, rsa_keys[0], "rfc9421")
    headers["Signature-Input"] = headers["Signature-Input"].replace("rsa-v1_5-sha256", "ed25519")
    with pytest.raises(InvalidSignatureError):
        await verify("GET", ACTOR, headers, None, rsa_keys[1])


def test_every_rejection_has_a_reason_and_a_status() -> None:
    for error in (MissingSignatureError("x"), MalformedDigestError("y")):
        assert isinstance(error, SignatureError) and error.reason
    assert MissingSignatureError("x").status_code == 401
    assert MalformedDigestError("y").status_code == 400


# --- digests --------------------------------------------------------------------------

HELLO = b'{"hello": "world"}'


def test_digest_values_match_the_specs() -> None:
    # draft-cavage-12 Appendix C and RFC 9421 Appendix B.2 print these for {"hello": "world"}.
    assert digest_header(HELLO) == "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
    assert content_digest_header(HELLO, "sha-512") == (
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
    )


@pytest.mark.parametrize("algorithm", ["sha-256", "sha-512"])
def test_digests_verify(algorithm: str) -> None:
    expected = base64.b64encode(hashlib.new(algorithm.replace("-", ""), HELLO).digest()).decode()
    legacy, structured = digest_header(HELLO, algorithm), content_digest_header(HELLO, algorithm)
    assert (legacy, structured) == (f"{algorithm.upper()}={expected}", f"{algorithm}=:{expected}:")
    verify_digest(legacy, HELLO)
    name, value = legacy.split("=", 1)
    verify_digest(f"{name.lower()}={value}", HELLO)  # algorithm names are case-insensitive
    verify_content_digest(structured, HELLO)
    # …and the same headers refuse another body: verifying checks, it does not just parse.
    for verify, header in ((verify_digest, legacy), (verify_content_digest, structured)):
        with pytest.raises(DigestMismatchError, match="does not match"):
            verify(header, HELLO + b" ")


def test_digest_ignores_unknown_algorithms_but_needs_one_known() -> None:
    verify_digest("MD5=Sd/dVLAcvNLSq16eXua5uQ==, " + digest_header(HELLO), HELLO)
    verify_content_digest("md5=:Sd/dVLAcvNLSq16eXua5uQ==:, " + content_digest_header(HELLO), HELLO)
    with pytest.raises(DigestMismatchError, match="no supported algorithm"):
        verify_digest("MD5=Sd/dVLAcvNLSq16eXua5uQ==", HELLO)


def test_every_known_digest_must_match() -> None:
    mixed = content_digest_header(HELLO) + ", " + content_digest_header(b"other", "sha-512")
    with pytest.raises(DigestMismatchError, match="sha-512"):
        verify_content_digest(mixed, HELLO)


@pytest.mark.parametrize(
    "value",
    ["SHA-256", "SHA-256=not*base64", "SHA-256=" + "A" * 8, "=abc"],
)
def test_malformed_legacy_digest(value: str) -> None:
    with pytest.raises(MalformedDigestError):
        verify_digest(value, HELLO)


@pytest.mark.parametrize(
    "value",
    [
        "SHA-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",
        "sha-256=X48E9q",
        "sha-256=:AAAA:",
        "sha-256=:é:",
    ],
)
def test_malformed_content_digest(value: str) -> None:
    with pytest.raises(MalformedDigestError):
        verify_content_digest(value, HELLO)


def test_digest_mismatch_is_not_called_malformed() -> None:
    with pytest.raises(DigestMismatchError) as caught:
        verify_digest(digest_header(b"other"), HELLO)
    assert not isinstance(caught.value, MalformedDigestError)


def test_generated_keys_are_rsa_2048(rsa_keys: tuple[str, str]) -> None:
    assert "BEGIN PRIVATE KEY" in rsa_keys[0]
    assert load_public_key(rsa_keys[1]).key_size == 2048
