"""The JSON-LD `@context` of every document we publish, and talentfed's own terms.

Strict JSON-LD processors (Fedify and anything built on jsonld.js or pyld with a network
loader) load every context IRI a document names and throw the whole document away when one
cannot be loaded. So a published document names only contexts that every processor ships
(ActivityStreams, security v1) and defines everything else inline, as Mastodon does with its
`toot:` terms. talentfed's terms keep their IRIs under `TALENTFED_NAMESPACE`; that namespace
is an identifier, never fetched.

Older talentfed nodes named `LEGACY_CONTEXT_IRI`, which never resolved. We still read such
documents: `jsonld.py` serves the same definitions for that IRI from memory.
"""

from __future__ import annotations

import copy
from typing import Any

from talentfed.federation import vocabulary

ACTIVITYSTREAMS = "https://www.w3.org/ns/activitystreams"
SECURITY_V1 = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

TALENTFED_NAMESPACE = vocabulary.NAMESPACE
# Named by documents of talentfed nodes before the context was inlined; never published again.
LEGACY_CONTEXT_IRI = "https://w3id.org/talentfed/v1"

# talentfed's vocabulary, derived from its one definition (vocabulary/terms.toml): every term
# with the IRI and value type receivers expand it to.
TALENTFED_TERMS: dict[str, Any] = {name: t.definition() for name, t in vocabulary.TERMS.items()}

# The context document for the legacy IRI and for GET /ns/v1 (kept for older nodes).
TALENTFED_CONTEXT: dict[str, Any] = {"@context": vocabulary.context_definitions()}

# Terms that Mastodon reads but that the ActivityStreams context does not define; the IRIs
# are Mastodon's own (including its `http://schema.org#`), so that Mastodon matches them.
_MASTODON_TERMS: dict[str, Any] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive",
    "Hashtag": "as:Hashtag",
    "toot": "http://joinmastodon.org/ns#",
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "blurhash": "toot:blurhash",
    "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
    "movedTo": {"@id": "as:movedTo", "@type": "@id"},
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
}

# The one context of every document we publish: two IRIs that every JSON-LD processor in the
# fediverse ships, and the rest inline.
PUBLISHED_CONTEXT: list[Any] = [
    ACTIVITYSTREAMS,
    SECURITY_V1,
    {**_MASTODON_TERMS, **vocabulary.context_definitions()},
]


def published(document: dict[str, Any]) -> dict[str, Any]:
    """`document` as it leaves the node: our one context on top and none inside.

    Every document we serve or deliver passes through here, so documents stored before the
    context was inlined (they name the legacy IRI, on the activity or on its embedded object)
    go out in the current form too. Embedded objects need no context of their own: all of
    them are ours and use only terms of PUBLISHED_CONTEXT.
    """
    body = {key: _without_context(value) for key, value in document.items() if key != "@context"}
    return {"@context": copy.deepcopy(PUBLISHED_CONTEXT), **body}


def _without_context(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_context(item) for item in value]
    if isinstance(value, dict):
        return {key: _without_context(item) for key, item in value.items() if key != "@context"}
    return value
