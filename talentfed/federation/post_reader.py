"""Reading remote posts: an ActivityStreams object in, an `IncomingPost` out. Pure: no I/O.

`read_post` turns an object (a Note, Article, Page, Question, Event, Video, … from Mastodon,
Lemmy, PeerTube, WordPress, another talentfed node …) into an `IncomingPost`, or raises
`UnsupportedObject` for what is not a post (actors, activities, tombstones, collections, links,
poll votes). Everything a browser will render is sanitised here; URLs are kept only when they
are http(s).

Common properties are read from the compact JSON with the tolerant readers in `as_values`
(servers disagree on arrays vs single values and objects vs ids). talentfed's own terms are
read through JSON-LD expansion (`vocabulary.reading`), so they are understood whatever prefix
or term name the sender's @context gives them. Storing what was read is `post_store`'s job.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from talentfed import kinds
from talentfed.federation.as_values import (
    as_list,
    bool_of,
    clean_text,
    datetime_of,
    id_of,
    ids_of,
    is_public,
    language_tag,
    types_of,
    url_of,
)
from talentfed.federation.limits import MAX_IRI, MAX_MEDIA_DESCRIPTION, MAX_TYPE, http_url, iri
from talentfed.federation.object_types import (
    ACTIVITY_TYPES,
    ACTOR_TYPES,
    CARRIER_TYPES,
    OTHER_NON_POSTS,
    POST_TYPES,
)
from talentfed.federation.vocabulary import POST_CARRIERS, terms_of
from talentfed.federation.vocabulary.reading import expanded_node, read_terms
from talentfed.text import normalize_skills, plain_text_to_html, render_markdown, sanitize_html

__all__ = [
    "IncomingAttachment",
    "IncomingPost",
    "UnsupportedObject",
    "carried_objects",
    "read_post",
    "visibility_of",
]

# The talentfed terms a post may carry, whatever its kind (each kind's are a subset).
_POST_TERMS = tuple({t.name: t for kind in POST_CARRIERS for t in terms_of(kind)}.values())


class UnsupportedObject(ValueError):
    """The document is not a post we read (an actor, an activity, a tombstone, …)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IncomingAttachment:
    """A remote post's picture, video or file: a link, never fetched."""

    url: str
    media_type: str | None = None
    name: str | None = None  # the alt text, at most MAX_MEDIA_DESCRIPTION characters
    blurhash: str | None = None
    width: int | None = None
    height: int | None = None
    focus: tuple[float, float] | None = None  # Mastodon's focalPoint, each from -1 to 1


@dataclass(frozen=True)
class IncomingPost:
    """A remote post as read from its document; HTML fields are already sanitised."""

    uri: str
    type: str  # the ActivityStreams type
    kind: str  # article|question|answer|project|note|page|event|video|poll|other
    attributed_to: str | None = None
    in_reply_to: str | None = None
    context: str | None = None  # FEP-7888 context, or Mastodon's/Pleroma's `conversation`
    url: str | None = None  # the HTML page
    name: str | None = None  # plain text
    summary: str | None = None  # sanitised HTML (a Note's warning: its plain text, escaped)
    content: str | None = None  # sanitised HTML
    language: str | None = None
    visibility: str = "direct"  # public|unlisted|followers|direct
    sensitive: bool = False
    tags: tuple[str, ...] = ()  # normalised hashtag names
    mentions: tuple[str, ...] = ()  # actor ids
    mention_names: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    attachments: tuple[IncomingAttachment, ...] = ()  # links, never fetched
    published: datetime | None = None
    updated: datetime | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    # talentfed's structured fields, read through JSON-LD expansion.
    skills: tuple[str, ...] = ()
    status: str | None = None
    deadline: datetime | None = None
    accepted_answer: str | None = None
    team_size: int | None = None
    contact: str | None = None
    institution: str | None = None
    document: MappingProxyType[str, Any] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, repr=False
    )


# --- links ---------------------------------------------------------------------------------


def _iri(value: Any) -> str | None:
    """The referenced IRI if it fits our columns and has no whitespace or control characters."""
    return iri(id_of(value))


def _http_iri(value: Any) -> str | None:
    """The referenced IRI if it is also an http(s) URL: the only links that leave the parser."""
    return http_url(id_of(value))


# --- what kind of document ------------------------------------------------------------------


def _post_type(doc: dict[str, Any]) -> str:
    """The type we store, or UnsupportedObject saying why the document is not a post."""
    types = types_of(doc)
    if not types:
        raise UnsupportedObject("no type")
    named = "/".join(types)
    for not_post, what in ((ACTOR_TYPES, "an actor"), (ACTIVITY_TYPES, "an activity")):
        if not_post.intersection(types):
            raise UnsupportedObject(f"{named} is {what}, not a post")
    if OTHER_NON_POSTS.intersection(types):
        raise UnsupportedObject(f"{named} is not a post")
    known = next((t for t in types if t in POST_TYPES), None)
    if known:
        return known
    # Unknown types (BookWyrm's Quotation, Pleroma's ChatMessage, …) count if they have text.
    if "actor" in doc and "object" in doc:
        raise UnsupportedObject(f"{types[0]} has an actor and an object: it is an activity, not a post")
    if not (_has_text(doc.get("content")) or isinstance(doc.get("contentMap"), dict)):
        raise UnsupportedObject(f"{types[0]} is not a post type we know and has no content")
    if len(types[0]) > MAX_TYPE:
        raise UnsupportedObject(f"type name {types[0][:40]!r}… is too long")
    return types[0]


def _has_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_poll_vote(doc: dict[str, Any], post_type: str) -> bool:
    """Mastodon and GoToSocial vote with a Note whose `name` is the option, replying to the poll."""
    return (
        post_type == "Note"
        and _has_text(doc.get("name"))
        and doc.get("inReplyTo") is not None
        and not _has_text(doc.get("content"))
        and not doc.get("contentMap")
        and not doc.get("attachment")
    )


def _kind(doc: dict[str, Any], post_type: str, post_kind: str | None) -> str:
    """The kind the sender names (postKind), else the one its type implies."""
    if post_kind:
        return post_kind
    if post_type == "Question" and (as_list(doc.get("oneOf")) or as_list(doc.get("anyOf"))):
        return kinds.POLL  # a Question without options is an open question
    return POST_TYPES.get(post_type, kinds.OTHER)


# --- text -------------------------------------------------------------------------------------


def _declared_language(doc: dict[str, Any]) -> str | None:
    """`@language` of the document's context (Pleroma writes {"@language": "und"})."""
    for item in as_list(doc.get("@context")):
        if isinstance(item, dict) and "@language" in item:
            return language_tag(item["@language"])
    return None


def _from_map(text: Any, language_map: Any, preferred: str | None) -> tuple[str | None, str | None]:
    """(text, its language) from `content` and `contentMap` (likewise name/summary).

    `content` wins when present; its language is the map key holding the same text, or
    the map's first key (as Mastodon reads it). Without `content`, the map's entry in the
    declared language is taken, else its first entry.
    """
    entries: dict[str, str] = {}
    if isinstance(language_map, dict):
        entries = {k: v for k, v in language_map.items() if isinstance(k, str) and isinstance(v, str)}
    if isinstance(text, str):
        same = next((k for k, v in entries.items() if v == text), None)
        return text, same or next(iter(entries), None)
    if preferred and preferred in entries:
        return entries[preferred], preferred
    first = next(iter(entries), None)
    return (entries[first], first) if first is not None else (None, None)


def _html(text: str | None, media_type: Any) -> str | None:
    """Sanitised HTML from a body declared as HTML (the default), Markdown or plain text."""
    if not text or not text.strip():
        return None
    media = media_type.split(";")[0].strip().lower() if isinstance(media_type, str) else "text/html"
    if media == "text/markdown":
        html = render_markdown(text)  # raw HTML in the Markdown is escaped
    elif media == "text/plain":
        html = plain_text_to_html(text)
    else:
        html = sanitize_html(text)
    return html.strip() or None


def _escaped_line(text: str | None) -> str | None:
    """Plain text as one line of HTML: a warning is shown on one line."""
    line = " ".join(text.split()) if text else ""
    return escape(line) if line else None


def _other_language(doc: dict[str, Any]) -> str | None:
    """Language given outside contentMap: Lemmy and PeerTube `language`, Mobilizon `inLanguage`."""
    language = doc.get("language")
    if isinstance(language, dict):
        return language_tag(language.get("identifier"))
    return language_tag(language) or language_tag(doc.get("inLanguage"))


def _text_fields(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    """A Note's summary is its content warning, plain text as Mastodon and GoToSocial write it
    (and as Mastodon reads it: "<b>" in a warning is text); an article's is HTML."""
    declared = _declared_language(doc)
    content, content_language = _from_map(doc.get("content"), doc.get("contentMap"), declared)
    name, _ = _from_map(doc.get("name"), doc.get("nameMap"), declared)
    summary, _ = _from_map(doc.get("summary"), doc.get("summaryMap"), declared)
    warning = kinds.summary_is_warning(kind)
    return {
        "content": _html(content, doc.get("mediaType")),
        "name": clean_text(name),
        "summary": _escaped_line(summary) if warning else _html(summary, "text/html"),
        "language": language_tag(content_language) or declared or _other_language(doc),
    }


# --- addressing, tags, attachments --------------------------------------------------------


def _looks_like_followers(addressee: str, author: str | None) -> bool:
    """Without the author's actor document: a …/followers collection on the author's host."""
    if not author:
        return False
    if addressee == author.rstrip("/") + "/followers":
        return True
    parts, author_parts = urlsplit(addressee), urlsplit(author)
    return parts.netloc == author_parts.netloc and "followers" in parts.path.split("/")


def _listed(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def visibility_of(to: Any, cc: Any, followers: str | None = None, author: str | None = None) -> str:
    """public (Public in `to`), unlisted (Public only in `cc`), followers, else direct.

    `followers` is the author's followers collection when known; otherwise a collection
    that looks like it (see `_looks_like_followers`) counts. Public in any spelling.
    """
    to, cc = _listed(to), _listed(cc)
    if is_public(to):
        return "public"
    if is_public(cc):
        return "unlisted"
    addressees = ids_of(to) + ids_of(cc)
    if followers:
        return "followers" if followers in addressees else "direct"
    return "followers" if any(_looks_like_followers(a, author) for a in addressees) else "direct"


def _tags_of(doc: dict[str, Any], tag_type: str) -> list[dict[str, Any]]:
    wanted = {tag_type, f"as:{tag_type}"}
    return [t for t in as_list(doc.get("tag")) if isinstance(t, dict) and wanted.intersection(types_of(t))]


def _hashtags(doc: dict[str, Any]) -> tuple[str, ...]:
    names = [t["name"] for t in _tags_of(doc, "Hashtag") if isinstance(t.get("name"), str)]
    return tuple(normalize_skills(names))


def _mentions(doc: dict[str, Any]) -> dict[str, str]:
    """Actor id → the name the tag gives (`@user@domain`, or '' when it gives none)."""
    found: dict[str, str] = {}
    for tag in _tags_of(doc, "Mention"):
        href = _http_iri(tag.get("href") or tag.get("id"))
        if href and href not in found:
            found[href] = clean_text(tag.get("name")) or ""
    return found


def _attachment(item: Any) -> IncomingAttachment | None:
    """One attachment, or None when it has no http(s) URL."""
    if isinstance(item, str):
        url = _http_iri(item)
        return IncomingAttachment(url) if url else None
    if not isinstance(item, dict):
        return None
    url = _http_iri(item.get("href")) or _http_iri(url_of(item.get("url"), media_type=None))
    if url is None:
        return None
    link = item.get("url")
    media_type = item.get("mediaType") or (link.get("mediaType") if isinstance(link, dict) else None)
    # Mastodon puts the alt text in `name`; older GoToSocial in `summary`.
    name = clean_text(item.get("name")) or clean_text(item.get("summary"))
    blurhash = item.get("blurhash")
    return IncomingAttachment(
        url=url,
        media_type=_media_type(media_type),
        name=name[:MAX_MEDIA_DESCRIPTION] if name else None,
        blurhash=blurhash if isinstance(blurhash, str) and BLURHASH.match(blurhash) else None,
        width=_dimension(item.get("width")),
        height=_dimension(item.get("height")),
        focus=_focus(item.get("focalPoint")),
    )


BLURHASH = re.compile(r"^[0-9A-Za-z#$%*+,\-.:;=?@\[\]^_{|}~]{6,100}$")
MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
MAX_DIMENSION = 100_000  # pixels: beyond any real picture, and within a 32-bit column


def _media_type(value: Any) -> str | None:
    """A MIME type without parameters, lower case; None for anything else."""
    text = clean_text(value)
    media_type = text.split(";")[0].strip().lower() if text else ""
    return media_type if MEDIA_TYPE.match(media_type) else None


def _dimension(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return int(value) if 0 < value <= MAX_DIMENSION else None


def _focus(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, list) or len(value) != 2:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return None
    x, y = float(value[0]), float(value[1])
    return (x, y) if -1.0 <= x <= 1.0 and -1.0 <= y <= 1.0 else None


def _attachments(doc: dict[str, Any]) -> tuple[IncomingAttachment, ...]:
    found = (_attachment(item) for item in as_list(doc.get("attachment")))
    return tuple(a for a in found if a is not None)


# --- talentfed's terms ---------------------------------------------------------------------


def _talentfed_terms(doc: dict[str, Any]) -> dict[str, Any]:
    """Our terms by field name (`kind` is the postKind's kind); all absent for other servers."""
    node = expanded_node(doc)
    return read_terms(node, _POST_TERMS) if node else {"kind": None}


# --- reading ------------------------------------------------------------------------------


def read_post(document: dict[str, Any]) -> IncomingPost:
    """Read a remote object of any post type; raises `UnsupportedObject` for anything else.

    Pass the object itself, not the Create/Update/Announce around it (see
    `carried_objects`, which also hands down the activity's @context).
    """
    if not isinstance(document, dict):
        raise UnsupportedObject("not a JSON object")
    post_type = _post_type(document)
    uri = _http_iri(document.get("id"))
    if uri is None:
        raise UnsupportedObject(f"no usable id (an http(s) URL of at most {MAX_IRI} characters)")
    if _is_poll_vote(document, post_type):
        raise UnsupportedObject("a poll vote (a Note with only a name, replying to a poll)")
    author = _http_iri(document.get("attributedTo"))  # the first actor of an array
    mentions = _mentions(document)
    terms = _talentfed_terms(document)
    to, cc = tuple(ids_of(document.get("to"))), tuple(ids_of(document.get("cc")))
    kind = _kind(document, post_type, terms.pop("kind"))
    return IncomingPost(
        uri=uri,
        type=post_type,
        kind=kind,
        attributed_to=author,
        in_reply_to=_iri(document.get("inReplyTo")),
        context=_iri(document.get("context")) or _iri(document.get("conversation")),
        url=_http_iri(url_of(document.get("url"), media_type="text/html")),
        visibility=visibility_of(to, cc, author=author),
        sensitive=bool_of(document.get("sensitive")),
        tags=_hashtags(document),
        mentions=tuple(mentions),
        mention_names=MappingProxyType(mentions),
        attachments=_attachments(document),
        published=datetime_of(document.get("published")),
        updated=datetime_of(document.get("updated")),
        to=to,
        cc=cc,
        document=MappingProxyType(copy.deepcopy(document)),
        **_text_fields(document, kind),
        **terms,
    )


def carried_objects(activity: dict[str, Any]) -> list[dict[str, Any]]:
    """The objects a Create, Update or Announce carries embedded, ready for `read_post`.

    Nested carriers are opened too (Lemmy and WordPress announce a Create or Update).
    Each object gets the @context it must be read in: the activity's, followed by its
    own, as JSON-LD would apply them. Objects given only by IRI are not here: the
    caller fetches them. Any other activity gives [].
    """
    if not isinstance(activity, dict) or not CARRIER_TYPES.intersection(types_of(activity)):
        return []
    found: list[dict[str, Any]] = []
    for item in as_list(activity.get("object")):
        if not isinstance(item, dict):
            continue
        item = _with_context(item, activity.get("@context"))
        found.extend(carried_objects(item) if CARRIER_TYPES.intersection(types_of(item)) else [item])
    return found


def _with_context(item: dict[str, Any], outer: Any) -> dict[str, Any]:
    if outer is None:
        return item
    inner = item.get("@context")
    combined = as_list(outer) + as_list(inner) if inner is not None else outer
    return {**item, "@context": combined}
