"""WebFinger (RFC 7033): which resources name a local actor, and the JRD we answer with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from talentfed.federation import limits
from talentfed.federation.fetcher import Fetcher
from talentfed.federation.uris import LocalURIs

ACTIVITY_JSON = "application/activity+json"
PROFILE_PAGE_REL = "http://webfinger.net/rel/profile-page"
SUBSCRIBE_REL = "http://ostatus.org/schema/1.0/subscribe"


class MalformedResource(ValueError):
    """The `resource` parameter is missing or is not an acct: URI or a URL (answer 400)."""


@dataclass(frozen=True)
class ResourceQuery:
    """A resource reduced to what we look up: a username on a domain."""

    username: str
    domain: str


def parse_resource(resource: str | None, uris: LocalURIs) -> ResourceQuery | None:
    """Read `acct:user@domain`, `user@domain`, or one of our actor / profile URLs.

    Returns None for a well-formed resource that cannot be ours (another host or path);
    raises MalformedResource for text that is not a resource at all.
    """
    if not resource or not resource.strip():
        raise MalformedResource("the resource parameter is required")
    resource = resource.strip()
    if resource.startswith(("http://", "https://")):
        return _parse_url(resource, uris)
    account = resource.removeprefix("acct:").lstrip("@")
    username, at, domain = unquote(account).rpartition("@")
    if not at or not username or not domain or " " in account:
        raise MalformedResource(f"expected acct:user@domain or a URL, got {resource!r}")
    return ResourceQuery(username=username.lower(), domain=domain.lower())


def _parse_url(resource: str, uris: LocalURIs) -> ResourceQuery | None:
    parts = urlsplit(resource)
    if not parts.netloc:
        raise MalformedResource(f"expected a URL with a host, got {resource!r}")
    base = urlsplit(uris.base_url)
    if parts.netloc.lower() != base.netloc.lower():
        return None
    path = parts.path.rstrip("/")
    for prefix in (urlsplit(uris.actor("")).path, urlsplit(uris.profile_page("")).path):
        if path.startswith(prefix) and "/" not in path[len(prefix) :] and len(path) > len(prefix):
            return ResourceQuery(username=path[len(prefix) :].lower(), domain=base.netloc.lower())
    return None


def build_jrd(username: str, domain: str, uris: LocalURIs) -> dict[str, Any]:
    actor = uris.actor(username)
    profile = uris.profile_page(username)
    return {
        "subject": f"acct:{username}@{domain}",
        "aliases": [profile, actor],
        "links": [
            {"rel": PROFILE_PAGE_REL, "type": "text/html", "href": profile},
            {"rel": "self", "type": ACTIVITY_JSON, "href": actor},
            {"rel": SUBSCRIBE_REL, "template": f"{uris.base_url}/authorize_interaction?uri={{uri}}"},
        ],
    }


def host_meta_xrd(uris: LocalURIs) -> str:
    template = f"{uris.base_url}/.well-known/webfinger?resource={{uri}}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template="{_xml_escape(template)}"/>\n'
        "</XRD>\n"
    )


def host_meta_json(uris: LocalURIs) -> dict[str, Any]:
    template = f"{uris.base_url}/.well-known/webfinger?resource={{uri}}"
    return {"links": [{"rel": "lrdd", "template": template}]}


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


# --- the client side: finding a remote actor from a handle ----------------------------


class WebFingerError(Exception):
    """The handle's server did not name an ActivityPub actor for it."""


def parse_handle(handle: str) -> ResourceQuery:
    """`@user@domain`, `user@domain` or `acct:user@domain` → (user, domain); MalformedResource if not."""
    text = handle.strip().removeprefix("acct:").lstrip("@")
    username, at, domain = text.rpartition("@")
    # Control characters are in no handle (and PostgreSQL refuses a NUL in a query).
    if not at or not username or not domain or any(c in text for c in " /?#") or not text.isprintable():
        raise MalformedResource(f"expected a handle like @user@example.org, got {handle!r}")
    return ResourceQuery(username=username.lower(), domain=domain.lower())


async def _jrd(fetcher: Fetcher, query: ResourceQuery, https: bool) -> dict[str, Any]:
    """The JRD the handle's server publishes for it; WebFingerError when there is none."""
    scheme = "https" if https else "http"
    resource = f"acct:{query.username}@{query.domain}"
    url = f"{scheme}://{query.domain}/.well-known/webfinger?resource={resource}"
    response = await fetcher.get(url, accept="application/jrd+json, application/json", signed=False)
    if response.status != 200:
        raise WebFingerError(f"WebFinger for {resource} answered HTTP {response.status}")
    try:
        document = limits.parse_json(response.body)
    except limits.InputRefused as exc:
        raise WebFingerError(
            f"WebFinger for {resource} did not answer JSON we accept: {exc.reason}"
        ) from None
    if not isinstance(document, dict):
        raise WebFingerError(f"WebFinger for {resource} did not answer a JRD")
    return document


def _links(document: dict[str, Any]) -> list[dict[str, Any]]:
    links = document.get("links")
    return [link for link in links if isinstance(link, dict)] if isinstance(links, list) else []


async def lookup(fetcher: Fetcher, query: ResourceQuery, *, https: bool = True) -> str:
    """Ask the handle's server for the actor id (the `self` link of an ActivityPub type)."""
    for link in _links(await _jrd(fetcher, query, https)):
        media_type = str(link.get("type", "")).split(";", 1)[0].strip()
        href = link.get("href")
        if (
            link.get("rel") == "self"
            and media_type in (ACTIVITY_JSON, "application/ld+json")
            and isinstance(href, str)
        ):
            return href
    raise WebFingerError(f"WebFinger for acct:{query.username}@{query.domain} names no ActivityPub actor")


async def subscribe_template(fetcher: Fetcher, query: ResourceQuery, *, https: bool = True) -> str:
    """The handle's server's remote-follow template (OStatus subscribe), with its `{uri}` slot."""
    for link in _links(await _jrd(fetcher, query, https)):
        template = link.get("template")
        if link.get("rel") != SUBSCRIBE_REL or not isinstance(template, str):
            continue
        if "{uri}" in template and template.startswith(("https://", "http://")):
            return template
    raise WebFingerError(f"{query.domain} does not offer remote follows for {query.username}")
