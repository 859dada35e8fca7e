"""NodeInfo 2.0 and 2.1: what software this is and how big the node is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from talentfed import __version__
from talentfed.config import Config

SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/{version}"
VERSIONS = ("2.0", "2.1")


@dataclass(frozen=True)
class Usage:
    users_total: int
    users_active_month: int
    users_active_halfyear: int
    local_posts: int


def discovery_document(base_url: str) -> dict[str, Any]:
    return {
        "links": [
            {"rel": SCHEMA.format(version=version), "href": f"{base_url}/nodeinfo/{version}"}
            for version in VERSIONS
        ]
    }


def nodeinfo_document(
    version: str,
    config: Config,
    usage: Usage,
    *,
    mastodon_api_version: str,
    rules: Sequence[Mapping[str, str]] = (),
    maintainer_name: str = "",
) -> dict[str, Any]:
    """`software` says what we are (servers federating with us read it); `metadata.upstream`
    says that we answer the Mastodon client API, at `mastodon_api_version`. Apps that pick
    their API by nodeinfo (megalodon: Whalebird, Fedistar) read it, and know no "talentfed".
    `metadata.rules` and `maintainer.name` (the contact member's handle) are the node's own,
    as its home page shows them (domain/node_about.py)."""
    software: dict[str, Any] = {"name": "talentfed", "version": __version__}
    return {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0", "rss2.0"]},  # our feeds
        "openRegistrations": False,
        "usage": {
            "users": {
                "total": usage.users_total,
                "activeMonth": usage.users_active_month,
                "activeHalfyear": usage.users_active_halfyear,
            },
            "localPosts": usage.local_posts,
        },
        "metadata": {
            "nodeName": config.node.name,
            "nodeDescription": config.node.summary,
            "maintainer": {"name": maintainer_name, "email": config.node.admin_contact},
            "rules": [dict(rule) for rule in rules],
            "upstream": {"name": "mastodon", "version": mastodon_api_version},
        },
    }


def content_type(version: str) -> str:
    return f'application/json; profile="{SCHEMA.format(version=version)}#"'
