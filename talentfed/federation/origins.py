"""Which host a URL belongs to: the origin rules, in one place.

A server speaks only for its own host. Every check that binds an id to its owner uses these:

- an activity's `id`, and the object a Create/Update/Delete touches, live on its actor's
  host (`same_host`; `federation/inbox.py`);
- a key belongs to the actor whose document lists it only if it lives on that actor's host,
  and, when the key id is a fragment, is a fragment of the actor's own document
  (`key_belongs_to`; `as_values.public_keys`, `remote_actors`);
- a signed request is for this node only if the host it was signed for is ours
  (`our_hosts`; `signatures.verify_request` compares).

Hosts are compared as authorities ("host" or "host:port", lowercase, default port dropped),
so `https://a.example:443/x` and `https://a.example/x` are on the same host, while two
dev-mode nodes on 127.0.0.1 with different ports are not.
"""

from __future__ import annotations

from urllib.parse import urldefrag, urlsplit

from talentfed.config import Config
from talentfed.federation.signatures.message import authority_of


def authority(url: str | None) -> str:
    """The authority of an http(s) URL; "" when it has none we would trust.

    A URL with userinfo (`https://victim.example@evil.example/`) has no authority here: it
    is never anyone's legitimate id, and reading it either way invites confusion.
    """
    if not isinstance(url, str):
        return ""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or "@" in parts.netloc:
        return ""
    return authority_of(url)


def same_host(url: str | None, other: str | None) -> bool:
    """Both URLs are on one host (and have one)."""
    host = authority(url)
    return bool(host) and host == authority(other)


def key_belongs_to(key_id: str, actor_id: str) -> bool:
    """May `actor_id`'s document list `key_id` as its own key?

    Its host must be the actor's: otherwise any document could claim another server's key
    URL and shadow its real owner. A fragment key (`…/users/a#main-key`) must be a fragment
    of the actor's own document, so that two actors of one host cannot claim one key either.
    A key id without a fragment is a separate document, which `RemoteActors.resolve_key`
    fetches from its own URL and whose `owner` must be the actor.
    """
    if not same_host(key_id, actor_id):
        return False
    document, fragment = urldefrag(key_id)
    return not fragment or document == urldefrag(actor_id).url


def our_hosts(config: Config) -> frozenset[str]:
    """The hosts a request to this node may be signed for: `[node] base_url`'s and `[node] domain`.

    Only the Host header the client sent counts (and, for RFC 9421, the URL built from it):
    X-Forwarded-Host is never read, since uvicorn's proxy support only rewrites the scheme
    and the client address, and only for `[server] forwarded_allow_ips`. A reverse proxy
    must therefore pass Host unchanged (deploy/nginx-talentfed.conf does).
    """
    scheme = urlsplit(config.node.base_url).scheme
    hosts = {authority(config.node.base_url), authority(f"{scheme}://{config.node.domain}/")}
    return frozenset(host for host in hosts if host)
