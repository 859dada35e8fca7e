"""Signed requests, in either scheme (draft-cavage-12 or RFC 9421), made with the project's own
signer (talentfed/federation/signatures): what an ActivityPub server sends.

    headers = signed_headers("GET", url, key_id=..., private_pem=...)
    body, headers = signed_post(url, activity, key_id=..., private_pem=..., scheme="rfc9421")
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from talentfed.federation.signatures import sign_request
from tests.support.factories import AS_JSON

SCHEMES = ("cavage", "rfc9421")


def signed_headers(
    method: str,
    url: str,
    body: bytes | None = None,
    *,
    key_id: str,
    private_pem: str,
    scheme: str = "cavage",
    now: datetime | None = None,
) -> dict[str, str]:
    """The headers of a request as an ActivityPub client sends it, signature included: Accept
    on a GET, Content-Type with a body, then Host, Date, the digest and the signature."""
    headers = {"Accept": AS_JSON} if method.upper() == "GET" else {}
    if body is not None:
        headers["Content-Type"] = AS_JSON
    return headers | sign_request(
        method, url, headers, body, key_id=key_id, private_key_pem=private_pem, scheme=scheme, now=now
    )


def signed_post(
    url: str,
    document: dict[str, Any] | bytes,
    *,
    key_id: str,
    private_pem: str,
    scheme: str = "cavage",
    now: datetime | None = None,
) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of a signed POST of `document` (JSON-encoded unless already bytes)."""
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    headers = signed_headers(
        "POST", url, body, key_id=key_id, private_pem=private_pem, scheme=scheme, now=now
    )
    return body, headers
