"""Authorized fetch (Mastodon's "secure mode"): GETs of ActivityPub resources must be signed.

With `[federation] authorized_fetch = true`:
- collections and objects need a valid signature from an actor whose domain is not
  blocked (401 unsigned or badly signed, 403 blocked);
- actors can still be fetched unsigned, but then only their technical attributes
  (id, inboxes, key) come back — enough to verify their signatures, as in Mastodon;
- the institution actor is always served in full: other servers fetch its key to
  verify our own signed GETs.
Responses vary on the Signature header (`Vary: Signature`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from talentfed.federation.blocks import domain_policies
from talentfed.federation.origins import our_hosts
from talentfed.federation.runtime import Federation
from talentfed.federation.signatures import SignatureError, verify_request


@dataclass(frozen=True)
class FetchAuthorization:
    signer: str | None  # the verified signer's actor id (URI), if validly signed
    status: int = 200  # 200 allowed; 401 or 403 refused
    reason: str = ""
    signer_row: int | None = None  # the signer's row in `actors`

    @property
    def allowed(self) -> bool:
        return self.status == 200


def _is_signed(headers: Mapping[str, str]) -> bool:
    return any(name in headers for name in ("signature", "signature-input")) or headers.get(
        "authorization", ""
    ).startswith("Signature")


async def authorize_fetch(
    federation: Federation, method: str, url: str, headers: Mapping[str, str]
) -> FetchAuthorization:
    """Who signed this GET, and may they read?

    A valid signature names the signer in either mode, so that an approved follower can read
    followers-only posts (`domain/visibility.py`). Without authorized fetch an unsigned or
    badly signed GET is simply anonymous; with it, it is refused.
    """
    strict = federation.config.federation.authorized_fetch
    if not _is_signed(headers):
        if strict:
            return FetchAuthorization(None, 401, "this server requires signed fetches (authorized fetch)")
        return FetchAuthorization(signer=None)
    try:
        signed = await verify_request(
            method,
            url,
            headers,
            None,
            resolve_key=federation.actors.resolve_key,
            our_hosts=our_hosts(federation.config),  # a GET signed for another server is not for us
        )
    except SignatureError as exc:
        return FetchAuthorization(None, 401, exc.reason) if strict else FetchAuthorization(None)
    signer = await federation.actors.owner_of_key(signed.key_id)
    if signer is None:
        reason = f"no known actor owns the key {signed.key_id}"
        return FetchAuthorization(None, 401, reason) if strict else FetchAuthorization(None)
    async with federation.sessions() as session:
        blocked = await domain_policies(session, federation.config)
    if blocked.refuses(signer.uri):
        return FetchAuthorization(signer.uri, 403, "the signer's domain is blocked here")
    return FetchAuthorization(signer.uri, signer_row=signer.id)
