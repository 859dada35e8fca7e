"""JSON-LD processing with bundled contexts only: never a network request.

Remote documents name their contexts by IRI. We serve the contexts we bundle
(see `contexts/SOURCES.md`) and those registered with `register_context`,
whatever scheme (http/https), trailing `/` or `#` the document writes.

An unknown context IRI is *dropped*, i.e. loaded as an empty context, and the
document is expanded with the rest. Real servers list contexts we cannot know
(instance-specific URLs, dead hosts such as Hubzilla's `apschema`), and fetching
them would let any sender make us issue requests. Terms defined only in a
dropped context expand to nothing useful (the ActivityStreams context maps
undefined terms to blank-node IRIs) instead of failing the whole document.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
from collections import OrderedDict
from functools import cache
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

from pyld import jsonld as pyld_jsonld
from pyld.context_resolver import ContextResolver

from talentfed.federation.context import LEGACY_CONTEXT_IRI, TALENTFED_CONTEXT

__all__ = [
    "AS_CONTEXT",
    "InvalidJsonLd",
    "compact",
    "document_loader",
    "expand",
    "known_context",
    "register_context",
]

log = logging.getLogger(__name__)

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"

_BUNDLED_FILES: dict[str, str] = {
    AS_CONTEXT: "activitystreams.jsonld",
    "https://w3id.org/security/v1": "security-v1.jsonld",
    "https://w3id.org/security/data-integrity/v1": "security-data-integrity-v1.jsonld",
    "https://w3id.org/security/data-integrity/v2": "security-data-integrity-v2.jsonld",
    "https://w3id.org/security/multikey/v1": "security-multikey-v1.jsonld",
    "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
    "https://w3id.org/identity/v1": "identity-v1.jsonld",
    "https://purl.archive.org/socialweb/webfinger": "socialweb-webfinger.jsonld",
    "https://purl.archive.org/miscellany": "socialweb-miscellany.jsonld",
    "https://purl.archive.org/miscellany/1.0": "socialweb-miscellany.jsonld",
    "https://gotosocial.org/ns": "gotosocial-ns.jsonld",
    "https://join-lemmy.org/context.json": "join-lemmy-context.jsonld",
    "http://joinmastodon.org/ns": "joinmastodon-ns.jsonld",
    "https://w3id.org/fep/5711": "fep-5711.jsonld",
    "https://w3id.org/fep/7aa9": "fep-7aa9.jsonld",
    "https://w3id.org/fep/ef61": "fep-ef61.jsonld",
    # Approximation: the older LitePub context, from which litepub-0.1 derives.
    "https://litepub.social/litepub/context.jsonld": "litepub-0.1.jsonld",
}
# Pleroma and Akkoma reference LitePub at https://<their instance>/schemas/...
_LITEPUB_PATH_SUFFIX = "/schemas/litepub-0.1.jsonld"
_LITEPUB_FILE = "litepub-0.1.jsonld"

_EMPTY_CONTEXT: dict[str, Any] = {"@context": {}}

_registered: dict[str, dict[str, Any]] = {}
_registered_lock = threading.Lock()


def _key(iri: str) -> str:
    """What identifies a context IRI: scheme, case of host, trailing / or # ignored."""
    iri = iri.strip()
    scheme, sep, rest = iri.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return iri
    host, slash, path = rest.partition("/")
    return (host.lower() + slash + path).rstrip("/#")


@cache
def _bundled(filename: str) -> dict[str, Any]:
    text = (files("talentfed.federation") / "contexts" / filename).read_text("utf-8")
    bundled: dict[str, Any] = json.loads(text)
    return bundled


_BUNDLED_BY_KEY = {_key(iri): filename for iri, filename in _BUNDLED_FILES.items()}


def known_context(iri: str) -> dict[str, Any] | None:
    """A copy of the context document (`{"@context": ...}`) served for `iri`, or None."""
    document = _lookup(iri)
    return copy.deepcopy(document) if document is not None else None


def _lookup(iri: str) -> dict[str, Any] | None:
    key = _key(iri)
    if key in _registered:
        return _registered[key]
    filename = _BUNDLED_BY_KEY.get(key)
    if filename is None and urlsplit(iri).path.endswith(_LITEPUB_PATH_SUFFIX):
        filename = _LITEPUB_FILE
    return _bundled(filename) if filename else None


def register_context(iri: str, document: dict[str, Any]) -> None:
    """Serve `document` for `iri` (e.g. talentfed's own `https://<host>/ns/talentfed`).

    `document` is a context document (`{"@context": {...}}`) or the bare context
    object. A context is immutable once served (pyld caches it by IRI), so
    registering different content for an already-known IRI raises ValueError.
    """
    wrapped = document if "@context" in document else {"@context": document}
    wrapped = copy.deepcopy(wrapped)
    with _registered_lock:
        existing = _lookup(iri)
        if existing is not None and existing != wrapped:
            raise ValueError(f"a different context is already served for {iri}")
        _registered[_key(iri)] = wrapped


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader: bundled or registered contexts, else an empty context."""
    document = _lookup(url)
    if document is None:
        log.debug("dropping unknown JSON-LD context %s", url)
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        # pyld resolves relative IRIs in place, so it gets a private copy.
        "document": copy.deepcopy(document if document is not None else _EMPTY_CONTEXT),
        # "static" lets the processed context be cached across calls; an
        # unknown IRI stays uncached so that a later register_context applies.
        "tag": "static" if document is not None else None,
    }


class _LRUCache(OrderedDict[str, Any]):
    """The two operations pyld's ContextResolver uses, bounded: remote inline
    contexts are cached too, keyed by their content."""

    def __init__(self, maxsize: int) -> None:
        super().__init__()
        self.maxsize = maxsize

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self:
            return default
        self.move_to_end(key)
        return self[key]

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        if len(self) > self.maxsize:
            self.popitem(last=False)


# Our own cache of processed contexts, not pyld's process-wide one: nothing
# another pyld user loads (possibly from the network) can leak into ours.
_context_cache = _LRUCache(maxsize=256)


def _options() -> dict[str, Any]:
    return {
        "documentLoader": document_loader,
        "contextResolver": ContextResolver(_context_cache, document_loader),
    }


class InvalidJsonLd(ValueError):
    """The document is not JSON-LD we can process, even after tolerating known mistakes."""


# Keys JSON-LD 1.1 allows in an expanded term definition.
_TERM_DEFINITION_KEYS = frozenset(
    {
        "@id", "@reverse", "@type", "@language", "@direction", "@container", "@context",
        "@prefix", "@propagate", "@protected", "@index", "@nest",
    }
)  # fmt: skip


def _repair_inline_context(context: Any) -> Any:
    """Drop what JSON-LD forbids inside inline term definitions.

    Pixelfed, for one, sends `"capabilities": {"announce": {...}}` as a term
    definition; JSON-LD rejects the whole document for it.
    """
    if isinstance(context, list):
        return [_repair_inline_context(item) for item in context]
    if not isinstance(context, dict):
        return context
    repaired: dict[str, Any] = {}
    for term, definition in context.items():
        if isinstance(definition, dict) and not term.startswith("@"):
            definition = {k: v for k, v in definition.items() if k in _TERM_DEFINITION_KEYS}
        if term.startswith("@") or definition is None or isinstance(definition, str | dict):
            repaired[term] = definition
    return repaired


def _repair(value: Any) -> Any:
    """A copy of `value` with every inline @context repaired."""
    if isinstance(value, list):
        return [_repair(item) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: _repair_inline_context(item) if key == "@context" else _repair(item)
        for key, item in value.items()
    }


def expand(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Expand a JSON-LD document (a parsed JSON object) without network access.

    Unknown context IRIs are dropped (see the module docstring); if the document
    is still rejected, invalid inline term definitions are dropped and it is
    tried once more. Raises `InvalidJsonLd` if that fails too.
    """
    if not isinstance(doc, dict):
        raise TypeError("expand() takes a parsed JSON object, not a URL or other value")
    # pyld is untyped: its results are typed here, as its documentation gives them
    expanded: list[dict[str, Any]]
    try:
        expanded = pyld_jsonld.expand(doc, _options())
        return expanded
    except pyld_jsonld.JsonLdError:
        pass
    try:
        expanded = pyld_jsonld.expand(_repair(doc), _options())
        return expanded
    except pyld_jsonld.JsonLdError as exc:
        raise InvalidJsonLd(f"cannot expand document {doc.get('id')!r}: {exc}") from exc


def compact(doc: dict[str, Any] | list[Any], context: Any) -> dict[str, Any]:
    """Compact `doc` against `context` (an IRI, a context object, or a list of them).

    Raises `InvalidJsonLd` if pyld rejects the document or the context.
    """
    if not isinstance(doc, dict | list):
        raise TypeError("compact() takes a parsed JSON document, not a URL or other value")
    try:
        compacted: dict[str, Any] = pyld_jsonld.compact(doc, context, _options())
        return compacted
    except pyld_jsonld.JsonLdError as exc:
        raise InvalidJsonLd(f"cannot compact document: {exc}") from exc


# Documents of older talentfed nodes name this IRI (it never resolved); we read them as before.
register_context(LEGACY_CONTEXT_IRI, TALENTFED_CONTEXT)
