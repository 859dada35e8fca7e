"""HTTP signatures against published vectors: draft-cavage-12 Appendix C, RFC 9421
Appendix B.2 and Section 4.3, and the requests from Mastodon's own spec.

See shared/fixtures/SOURCES.md (section "signatures") for where each file comes from.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from talentfed.federation.signatures import (
    DigestMismatchError,
    InsufficientCoverageError,
    InvalidSignatureError,
    MalformedDigestError,
    MalformedSignatureError,
    PublicKey,
    ResolveKey,
    SignatureError,
    SignatureTimeError,
    VerifiedSignature,
    algorithms,
    cavage,
    content_digest_header,
    decode_multikey_ed25519,
    load_private_key,
    load_public_key,
    rfc9421,
    verify_content_digest,
    verify_request,
)
from talentfed.federation.signatures.keys import decode_multikey_ed25519_private
from talentfed.federation.signatures.message import HttpMessage
from tests import fixtures_path
from tests.fixtures_path import fixture

# --- reading the fixture files --------------------------------------------------------


@dataclass
class RawMessage:
    start_line: list[str]
    headers: list[tuple[str, str]]
    body: bytes

    def request(self, origin: str) -> HttpMessage:
        return HttpMessage.request(self.start_line[0], origin + self.start_line[1], self.headers)

    def response(self) -> HttpMessage:
        return HttpMessage.response(int(self.start_line[1]), self.headers)


def read_http(path: Path) -> RawMessage:
    """A request or response written as HTTP/1.1 text with LF line endings."""
    head, _, body = path.read_bytes().partition(b"\n\n")
    start, *lines = head.decode("ascii").split("\n")
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines]
    length = dict((name.lower(), value) for name, value in headers).get("content-length")
    if length is not None:  # the files end with a newline that is not part of the body
        body = body[: int(length)]
    return RawMessage(start.split(" "), headers, body)


def pem_blocks(path: Path) -> list[str]:
    """The RFC prints each test key as a public block followed by a private block."""
    return re.findall(r"-----BEGIN [A-Z ]+-----.*?-----END [A-Z ]+-----\n", path.read_text(), re.S)


def unwrap(text: str) -> str:
    """Undo the draft's line wrapping of a header value."""
    return " ".join(text.split())


def at(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp).replace(tzinfo=UTC)


def resolver_for(key: PublicKey, calls: list | None = None) -> ResolveKey:
    async def resolve(key_id: str, refresh: bool) -> PublicKey:
        if calls is not None:
            calls.append((key_id, refresh))
        return key

    return resolve


# --- draft-cavage-12 Appendix C -------------------------------------------------------

CAVAGE = ("signatures", "cavage-12")
CAVAGE_NOW = at("2014-01-05T21:31:40")  # the Date of the example request


def cavage_request() -> HttpMessage:
    return read_http(fixture(*CAVAGE, "request.http")).request("http://example.com")


def cavage_header(name: str) -> str:
    """The ``Signature:`` example of a C.x section, unwrapped to one line."""
    text = fixture(*CAVAGE, f"{name}.headers.txt").read_text()
    block = (
        text.split("\nSignature: ", 1)[1]
        if "\nSignature: " in text
        else text.split("Authorization: Signature ", 1)[1].split("\n\n")[0]
    )
    return unwrap(block)


def cavage_expected(name: str) -> tuple[bytes, bytes]:
    string = fixture(*CAVAGE, f"{name}.signing-string.txt").read_bytes()
    signature = base64.b64decode(fixture(*CAVAGE, f"{name}.signature.b64.txt").read_text())
    return string, signature


@pytest.mark.parametrize("name", ["c1-default", "c2-basic"])
def test_cavage_appendix_c_signing_string_and_signature(name: str) -> None:
    expected_string, expected_signature = cavage_expected(name)
    sig = cavage.parse_signature_header(cavage_header(name))
    string = cavage.signing_string(cavage_request(), sig).encode()
    assert string == expected_string
    assert sig.signature == expected_signature
    public = load_public_key(fixture(*CAVAGE, "test-key.pub.pem").read_text())
    assert cavage.verify_with_key([string], sig, public) == algorithms.RSA_V1_5_SHA256
    # RSA PKCS#1 v1.5 is deterministic, so our signer must produce the very same bytes.
    private = load_private_key(fixture(*CAVAGE, "test-key.priv.pem").read_text())
    assert algorithms.sign(algorithms.RSA_V1_5_SHA256, private, string) == expected_signature


def test_cavage_c1_default_headers_is_date_only() -> None:
    sig = cavage.parse_signature_header(cavage_header("c1-default"))
    assert sig.headers == ("date",)


def test_cavage_c1_authorization_form_parses_the_same() -> None:
    text = fixture(*CAVAGE, "c1-default.headers.txt").read_text()
    authorization = unwrap(text.split("Authorization: ", 1)[1].split("\n\n")[0])
    message = HttpMessage.request("GET", "http://example.com/", [("Authorization", authorization)])
    assert cavage.find_signature(message) == cavage.parse_signature_header(cavage_header("c1-default"))


def test_cavage_c3_signature_is_over_the_six_plain_headers() -> None:
    """C.3 lists (created)(expires) but its signature only verifies without them (SOURCES.md)."""
    expected_string, expected_signature = cavage_expected("c3-all-headers")
    printed = cavage.parse_signature_header(cavage_header("c3-all-headers"))
    plain = cavage.CavageSignature(
        printed.key_id,
        printed.algorithm,
        tuple(h for h in printed.headers if not h.startswith("(c") and not h.startswith("(e")),
        printed.signature,
    )
    string = cavage.signing_string(cavage_request(), plain).encode()
    assert string == expected_string
    public = load_public_key(fixture(*CAVAGE, "test-key.pub.pem").read_text())
    assert cavage.verify_with_key([string], plain, public) == algorithms.RSA_V1_5_SHA256
    assert printed.signature == expected_signature


def test_cavage_c3_as_printed_is_rejected_created_with_rsa_sha256() -> None:
    printed = cavage.parse_signature_header(cavage_header("c3-all-headers"))
    with pytest.raises(MalformedSignatureError, match=r"\(created\) for rsa-sha256"):
        cavage.signing_string(cavage_request(), printed)


async def test_cavage_c3_as_printed_is_rejected_by_the_verifier() -> None:
    request = read_http(fixture(*CAVAGE, "request.http"))
    headers = [*request.headers, ("Signature", cavage_header("c3-all-headers"))]
    public = load_public_key(fixture(*CAVAGE, "test-key.pub.pem").read_text())
    calls: list = []
    with pytest.raises(MalformedSignatureError, match=r"\(created\) for rsa-sha256"):
        await verify_request(
            "POST",
            "http://example.com/foo?param=value&pet=dog",
            headers,
            request.body,
            resolve_key=resolver_for(public, calls),
            our_hosts={"example.com"},
            now=datetime.fromtimestamp(1402170696, UTC),  # between created and expires
        )
    assert calls == []  # refused before any key fetch


async def test_cavage_c2_is_refused_by_our_policy_for_an_unsigned_digest() -> None:
    """C.2 verifies cryptographically, but a POST whose Digest is unsigned is not accepted."""
    request = read_http(fixture(*CAVAGE, "request.http"))
    headers = [*request.headers, ("Signature", cavage_header("c2-basic"))]
    public = load_public_key(fixture(*CAVAGE, "test-key.pub.pem").read_text())
    with pytest.raises(InsufficientCoverageError, match="Digest header must be signed"):
        await verify_request(
            "POST",
            "http://example.com/foo?param=value&pet=dog",
            headers,
            request.body,
            resolve_key=resolver_for(public),
            our_hosts={"example.com"},
            now=CAVAGE_NOW,
        )


# --- RFC 9421 Appendix B.2 and Section 4.3 --------------------------------------------

RFC = ("signatures", "rfc9421")


def rfc_signature(name: str) -> rfc9421.MessageSignature:
    lines = fixture(*RFC, f"{name}.headers.txt").read_text().splitlines()
    values = {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in lines if line}
    (sig,) = rfc9421.parse_signatures(values["Signature-Input"], values["Signature"])
    return sig


def rfc_request() -> HttpMessage:
    return read_http(fixture(*RFC, "test-request.http")).request("https://example.com")


def rfc_public_key(name: str) -> PublicKey:
    return load_public_key(pem_blocks(fixture(*RFC, f"{name}.pem"))[0])


@pytest.mark.parametrize("name", ["sig-b21", "sig-b22", "sig-b23", "sig-b25", "sig-b26"])
def test_rfc9421_request_signature_base_matches_byte_for_byte(name: str) -> None:
    expected = fixture(*RFC, f"{name}.signature-base.txt").read_bytes()
    assert rfc9421.signature_base(rfc_request(), rfc_signature(name)) == expected


@pytest.mark.parametrize("name", ["sig-b21", "sig-b22", "sig-b23"])
def test_rfc9421_rsa_pss_sha512_vectors_verify(name: str) -> None:
    sig = rfc_signature(name)
    base = rfc9421.signature_base(rfc_request(), sig)
    key = rfc_public_key("test-key-rsa-pss")
    # These carry no alg: the verifier knows out of band that the key is an RSA-PSS key.
    assert rfc9421.verify_with_key(base, sig, key, algorithm="rsa-pss-sha512") == "rsa-pss-sha512"
    assert rfc9421.verify_with_key(base, sig, key) is None  # an RSA key alone implies v1.5


def test_rfc9421_rsa_pss_tampered_base_fails() -> None:
    sig = rfc_signature("sig-b23")
    base = rfc9421.signature_base(rfc_request(), sig).replace(b"POST", b"PUT")
    key = rfc_public_key("test-key-rsa-pss")
    assert rfc9421.verify_with_key(base, sig, key, algorithm="rsa-pss-sha512") is None


def test_rfc9421_ed25519_vector_verifies() -> None:
    sig = rfc_signature("sig-b26")
    base = rfc9421.signature_base(rfc_request(), sig)
    assert rfc9421.verify_with_key(base, sig, rfc_public_key("test-key-ed25519")) == "ed25519"


def test_rfc9421_hmac_vector_base_is_right() -> None:
    """We never accept shared secrets, but B.2.5 still proves the base: check the MAC by hand."""
    sig = rfc_signature("sig-b25")
    base = rfc9421.signature_base(rfc_request(), sig)
    secret = base64.b64decode(fixture(*RFC, "test-shared-secret.b64.txt").read_text())
    assert hmac.new(secret, base, hashlib.sha256).digest() == sig.signature


def test_rfc9421_response_vector_b24_with_the_corrected_digest() -> None:
    """The RFC's test-response carries a Content-Digest that does not match its body
    (a known inconsistency); B.2.4 signed the correct one. Fix it, then B.2.4 verifies."""
    raw = read_http(fixture(*RFC, "test-response.http"))
    printed = dict((name.lower(), value) for name, value in raw.headers)["content-digest"]
    with pytest.raises(DigestMismatchError):
        verify_content_digest(printed, raw.body)
    corrected = [
        (name, content_digest_header(raw.body, "sha-512") if name.lower() == "content-digest" else value)
        for name, value in raw.headers
    ]
    response = HttpMessage.response(200, corrected)
    sig = rfc_signature("sig-b24")
    base = rfc9421.signature_base(response, sig)
    assert base == fixture(*RFC, "sig-b24.signature-base.txt").read_bytes()
    assert rfc9421.verify_with_key(base, sig, rfc_public_key("test-key-ecc-p256")) == "ecdsa-p256-sha256"


def test_rfc9421_section_4_3_proxy_signature_rsa_v1_5() -> None:
    message = read_http(fixture(*RFC, "sec4.3-final-request.http")).request(
        "https://origin.host.internal.example"
    )
    sigs = rfc9421.parse_signatures(message.header("signature-input"), message.header("signature"))
    assert [sig.label for sig in sigs] == ["sig1", "proxy_sig"]
    proxy = sigs[1]
    assert (proxy.alg, proxy.expires) == ("rsa-v1_5-sha256", 1618884540)
    base = rfc9421.signature_base(message, proxy)
    assert base == fixture(*RFC, "sec4.3-proxy_sig.signature-base.txt").read_bytes()
    assert rfc9421.verify_with_key(base, proxy, rfc_public_key("test-key-rsa")) == "rsa-v1_5-sha256"
    # Deterministic: signing the same base with the RFC's key gives the printed bytes.
    private = load_private_key(pem_blocks(fixture(*RFC, "test-key-rsa.pem"))[1])
    expected = fixture(*RFC, "sec4.3-proxy_sig.signature.b64.txt").read_text().strip()
    assert base64.b64encode(algorithms.sign("rsa-v1_5-sha256", private, base)).decode() == expected


def test_rfc9421_section_4_3_client_ecdsa_signature_verifies() -> None:
    message = read_http(fixture(*RFC, "sec4.3-client-request.http")).request("https://example.com")
    (sig,) = rfc9421.parse_signatures(message.header("signature-input"), message.header("signature"))
    base = rfc9421.signature_base(message, sig)
    assert rfc9421.verify_with_key(base, sig, rfc_public_key("test-key-ecc-p256")) == "ecdsa-p256-sha256"


def test_rfc9421_sign_reproduces_the_proxy_signature_headers() -> None:
    message = read_http(fixture(*RFC, "sec4.3-forwarded-request.http")).request(
        "https://origin.host.internal.example"
    )
    private = load_private_key(pem_blocks(fixture(*RFC, "test-key-rsa.pem"))[1])
    headers = rfc9421.sign(
        message,
        private_key=private,
        components=[
            "@method",
            "@authority",
            "@path",
            "content-digest",
            "content-type",
            "content-length",
            "forwarded",
        ],
        params={
            "created": 1618884480,
            "keyid": "test-key-rsa",
            "alg": "rsa-v1_5-sha256",
            "expires": 1618884540,
        },
        label="proxy_sig",
    )
    expected = fixture(*RFC, "sec4.3-proxy_sig.signature.b64.txt").read_text().strip()
    assert headers["Signature"] == f"proxy_sig=:{expected}:"
    assert headers["Signature-Input"].endswith(
        '"forwarded");created=1618884480;keyid="test-key-rsa";alg="rsa-v1_5-sha256";expires=1618884540'
    )


# --- Mastodon's spec requests ---------------------------------------------------------

MASTODON = ("signatures", "mastodon-spec")
MASTODON_NOW = at("2023-12-20T10:00:00")  # the spec travels to this moment

ACCEPTED = {
    "draft-get-acct-keyid": "cavage",
    "draft-get-query": "cavage",
    "draft-get-query-not-signed-compat": "cavage",
    "draft-post-digest": "cavage",
    "rfc9421-get": "rfc9421",
    "rfc9421-get-query": "rfc9421",
    "rfc9421-get-ed25519": "rfc9421",
}
REJECTED = {
    "draft-get-older-than-a-day": (SignatureTimeError, "outside acceptable time window"),
    "draft-get-query-mismatch": (InvalidSignatureError, "Verification failed"),
    "draft-post-digest-not-signed": (InsufficientCoverageError, "Digest header must be signed"),
    "draft-post-instead-of-get": (InsufficientCoverageError, "Digest header must be signed"),
    "draft-post-tampered-body": (DigestMismatchError, "does not match the request body"),
    "rfc9421-post-content-digest-not-signed": (
        InsufficientCoverageError,
        "Content-Digest header must be signed",
    ),
    "rfc9421-post-malformed-content-digest": (MalformedDigestError, "RFC 8941"),
    "rfc9421-post-tampered-body": (DigestMismatchError, "does not match the request body"),
}


def bob_public_key(name: str) -> PublicKey:
    pem = "bob-ed25519-private-key.pem" if "ed25519" in name else "bob-rsa-private-key.pem"
    return load_private_key(fixture(*MASTODON, pem).read_bytes()).public_key()


async def verify_mastodon(
    name: str, calls: list | None = None, now: datetime = MASTODON_NOW
) -> VerifiedSignature:
    raw = read_http(fixture(*MASTODON, f"{name}.http"))
    return await verify_request(
        raw.start_line[0],
        "https://www.example.com" + raw.start_line[1],
        raw.headers,
        raw.body,
        resolve_key=resolver_for(bob_public_key(name), calls),
        our_hosts={"www.example.com"},
        now=now,
    )


def test_every_mastodon_spec_request_is_classified() -> None:
    names = {path.stem for path in fixture(*MASTODON).glob("*.http")}
    assert names == set(ACCEPTED) | set(REJECTED)


@pytest.mark.parametrize("name", sorted(ACCEPTED))
async def test_mastodon_spec_valid_requests_verify(name: str) -> None:
    calls: list = []
    result = await verify_mastodon(name, calls)
    assert result.scheme == ACCEPTED[name]
    assert result.key_id == calls[0][0]
    assert calls == [(result.key_id, False)]  # a good key is not refreshed


async def test_mastodon_spec_algorithms() -> None:
    assert (await verify_mastodon("draft-post-digest")).algorithm == "rsa-v1_5-sha256"
    assert (await verify_mastodon("rfc9421-get")).algorithm == "rsa-v1_5-sha256"
    assert (await verify_mastodon("rfc9421-get-ed25519")).algorithm == "ed25519"
    assert (await verify_mastodon("draft-get-acct-keyid")).key_id == "acct:bob@remote.domain"


@pytest.mark.parametrize("name", sorted(REJECTED))
async def test_mastodon_spec_invalid_requests_are_rejected(name: str) -> None:
    error, reason = REJECTED[name]
    with pytest.raises(error, match=reason) as caught:
        await verify_mastodon(name)
    assert caught.value.reason  # always a sentence for the 401 body


@pytest.mark.parametrize(
    "name", ["draft-post-tampered-body", "draft-post-digest-not-signed", "rfc9421-post-tampered-body"]
)
async def test_mastodon_spec_cheap_rejections_fetch_no_key(name: str) -> None:
    calls: list = []
    with pytest.raises(SignatureError):
        await verify_mastodon(name, calls)
    assert calls == []


async def test_mastodon_older_than_a_day_is_otherwise_valid() -> None:
    assert await verify_mastodon("draft-get-older-than-a-day", now=at("2023-12-18T10:30:00"))


async def test_mastodon_query_mismatch_tries_key_refresh_once() -> None:
    calls: list = []
    with pytest.raises(InvalidSignatureError):
        await verify_mastodon("draft-get-query-mismatch", calls)
    key_id = "https://remote.domain/users/bob#main-key"
    assert calls == [(key_id, False), (key_id, True)]


def test_mastodon_post_instead_of_get_signature_is_really_over_get() -> None:
    """Beyond the policy refusal: the signature verifies over GET and not over POST."""
    raw = read_http(fixture(*MASTODON, "draft-post-instead-of-get.http"))
    key = bob_public_key("rsa")
    for method, expected in (("POST", None), ("GET", "rsa-v1_5-sha256")):
        message = HttpMessage.request(method, "https://www.example.com" + raw.start_line[1], raw.headers)
        sig = cavage.find_signature(message)
        assert cavage.verify_with_key(cavage.signing_strings(message, sig), sig, key) == expected


def test_mastodon_query_compat_needs_the_path_only_string() -> None:
    raw = read_http(fixture(*MASTODON, "draft-get-query-not-signed-compat.http"))
    message = raw.request("https://www.example.com")
    sig = cavage.find_signature(message)
    with_query, path_only = cavage.signing_strings(message, sig)
    assert with_query.endswith(b"(request-target): get /activitypub/success?foo=42")
    assert path_only.endswith(b"(request-target): get /activitypub/success")
    key = bob_public_key("rsa")
    assert cavage.verify_with_key([with_query], sig, key) is None
    assert cavage.verify_with_key([path_only], sig, key) == "rsa-v1_5-sha256"


def test_mastodon_rfc9421_get_signature_reproduced_by_our_signer() -> None:
    raw = read_http(fixture(*MASTODON, "rfc9421-get.http"))
    message = HttpMessage.request("GET", "https://www.example.com/activitypub/success", [])
    private = load_private_key(fixture(*MASTODON, "bob-rsa-private-key.pem").read_bytes())
    headers = rfc9421.sign(
        message,
        private_key=private,
        components=["@method", "@target-uri"],
        params={"created": 1703066400, "keyid": "https://remote.domain/users/bob#main-key"},
    )
    expected = dict(raw.headers)
    assert headers == {"Signature-Input": expected["Signature-Input"], "Signature": expected["Signature"]}


def test_mastodon_draft_get_signature_reproduced_by_our_signer() -> None:
    raw = read_http(fixture(*MASTODON, "draft-get-query.http"))
    message = raw.request("https://www.example.com")
    private = load_private_key(fixture(*MASTODON, "bob-rsa-private-key.pem").read_bytes())
    header = cavage.sign(
        message,
        key_id="https://remote.domain/users/bob#main-key",
        private_key=private,
        headers=["date", "host", "(request-target)"],
    )
    assert header == dict(raw.headers)["Signature"]


# --- keys -----------------------------------------------------------------------------


def test_pkcs1_rsa_public_key_loads() -> None:
    assert "BEGIN RSA PUBLIC KEY" in pem_blocks(fixture(*RFC, "test-key-rsa.pem"))[0]
    assert rfc_public_key("test-key-rsa").key_size == 2048


def test_fep_521a_multikey_matches_the_fep_8b32_secret_key() -> None:
    actor = json.loads(fixture("signatures", "fep-8b32", "actor.json").read_text())
    multibase = actor["assertionMethod"][0]["publicKeyMultibase"]
    public = decode_multikey_ed25519(multibase)
    secret = fixture("signatures", "fep-8b32", "ed25519-secret-key.multibase.txt").read_text().strip()
    derived = decode_multikey_ed25519_private(secret).public_key()
    assert isinstance(public, ed25519.Ed25519PublicKey)
    assert public.public_bytes_raw() == derived.public_bytes_raw()
    assert load_public_key(multibase).public_bytes_raw() == public.public_bytes_raw()


def test_missing_fixture_directory_fails_loudly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(fixtures_path, "FIXTURES", tmp_path / "nowhere")
    with pytest.raises(pytest.fail.Exception, match="shared fixtures directory not found"):
        fixture("signatures")
