"""Remote posts in, from any server: read an ActivityStreams object, then store it.

`read_post` is pure: it turns an object (a Note, Article, Page, Question, Event,
Video, … from Mastodon, Lemmy, PeerTube, WordPress, another talentfed node …) into
an `IncomingPost`, or raises `UnsupportedObject` for what is not a post (actors,
activities, tombstones, collections, links, poll votes). Everything a browser will
render is sanitised here; URLs are kept only when they are http(s).

Common properties are read from the compact JSON with the tolerant readers in
`vocab` (servers disagree on arrays vs single values and objects vs ids).
talentfed's own terms (`skills`, `deadline`, `projectStatus`, …) are read through
JSON-LD expansion instead, so they are understood whatever prefix or term name the
sender's @context gives them.

`store_post` inserts or updates the `Object` row. It neither fetches nor resolves
anything over the network; the caller has already resolved the author.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.federation.context import POST_KINDS, TALENTFED_NAMESPACE
from talentfed.federation.limits import MAX_IRI, MAX_TYPE, http_url, iri
from talentfed.federation.talentfed_terms import expanded_node, first_string, values
from talentfed.federation.vocab import as_list, bool_of, id_of, ids_of, is_public, types_of, url_of
from talentfed.storage.models import Actor, Object, utcnow
from talentfed.text import normalize_skills, plain_text_to_html, render_markdown, sanitize_html

__all__ = [
    "POST_TYPES",
    "IncomingPost",
    "IngestError",
    "UnsupportedObject",
    "carried_objects",
    "note_absent_posts",
    "read_post",
    "store_post",
    "visibility_of",
]

# Object types we read as posts, and the talentfed kind each becomes by default.
POST_TYPES: dict[str, str] = {
    "Note": "note",
    "Article": "article",
    "Page": "page",
    "Question": "poll",  # a Question without options is a question, see _kind
    "Event": "event",
    "Video": "video",
    "Audio": "other",
    "Image": "other",
    "Document": "other",
}
ACTOR_TYPES = frozenset({"Person", "Service", "Group", "Organization", "Application"})
# ActivityStreams activities (Question, an IntransitiveActivity in the spec, is a post in
# practice) and the extension activities seen in the wild.
ACTIVITY_TYPES = frozenset(
    {
        "Accept", "Add", "Announce", "Arrive", "Block", "Create", "Delete", "Dislike", "Flag",
        "Follow", "Ignore", "Invite", "Join", "Leave", "Like", "Listen", "Move", "Offer", "Read",
        "Reject", "Remove", "TentativeAccept", "TentativeReject", "Travel", "Undo", "Update", "View",
        "EmojiReact", "EmojiReaction", "QuoteRequest", "Lock", "Warn", "Resolve",
    }
)  # fmt: skip
OTHER_NON_POSTS = frozenset(
    {
        "Tombstone", "Collection", "OrderedCollection", "CollectionPage", "OrderedCollectionPage",
        "Link", "Mention", "Hashtag", "Emoji", "Place", "Profile", "Relationship", "PropertyValue",
        "CryptographicKey", "Key", "Multikey",
    }
)  # fmt: skip
PROJECT_STATUSES = frozenset({"open", "closed", "filled"})
# Kinds that keep their own shape when they reply to a question; everything else is an answer.
STRUCTURED_KINDS = frozenset({"question", "project", "poll", "event"})
# What `extra` holds for a remote post (the same names local posts use).
EXTRA_KEYS = ("teamSize", "contact", "institution", "attachments", "mentions")

ABSENT_POSTS = "talentfed.absent_posts"  # session.info key: uris known not to be stored
MAX_TEAM_SIZE = 1000
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
_TF = TALENTFED_NAMESPACE


class IngestError(Exception):
    """A remote post cannot be stored; the text says why."""


class UnsupportedObject(IngestError):
    """The document is not a post we read (an actor, an activity, a tombstone, …)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
    summary: str | None = None  # sanitised HTML
    content: str | None = None  # sanitised HTML
    language: str | None = None
    visibility: str = "direct"  # public|unlisted|followers|direct
    sensitive: bool = False
    tags: tuple[str, ...] = ()  # normalised hashtag names
    mentions: tuple[str, ...] = ()  # actor ids
    mention_names: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    attachments: tuple[dict[str, str | None], ...] = ()  # url, media_type, name: links, never fetched
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


# --- small tolerant readers -----------------------------------------------------------------


def _clean_text(value: Any) -> str | None:
    """A stripped string, or None. (NUL characters never get this far: `limits.parse_json`.)"""
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _iri(value: Any) -> str | None:
    """The referenced IRI if it fits our columns and has no whitespace or control characters."""
    return iri(id_of(value))


def _http_iri(value: Any) -> str | None:
    """The referenced IRI if it is also an http(s) URL: the only links that leave the parser."""
    return http_url(id_of(value))


def _datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from an ISO 8601 string; garbage and non-strings give None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)  # naive: assume UTC
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _language(value: Any) -> str | None:
    """A BCP 47-looking tag that fits the column; 'und' (undetermined) is no language."""
    if not isinstance(value, str) or len(value) > 16 or not _LANGUAGE_TAG.fullmatch(value):
        return None
    return None if value.lower() == "und" else value


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
    if post_kind in POST_KINDS:
        return POST_KINDS[post_kind]
    if post_type == "Question" and not (as_list(doc.get("oneOf")) or as_list(doc.get("anyOf"))):
        # No options: an open question, not a poll (Mastodon shows it as an ordinary post).
        return "question"
    return POST_TYPES.get(post_type, "other")


# --- text -------------------------------------------------------------------------------------


def _declared_language(doc: dict[str, Any]) -> str | None:
    """`@language` of the document's context (Pleroma writes {"@language": "und"})."""
    for item in as_list(doc.get("@context")):
        if isinstance(item, dict) and "@language" in item:
            return _language(item["@language"])
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


def _other_language(doc: dict[str, Any]) -> str | None:
    """Language given outside contentMap: Lemmy and PeerTube `language`, Mobilizon `inLanguage`."""
    language = doc.get("language")
    if isinstance(language, dict):
        return _language(language.get("identifier"))
    return _language(language) or _language(doc.get("inLanguage"))


def _text_fields(doc: dict[str, Any]) -> dict[str, Any]:
    declared = _declared_language(doc)
    content, content_language = _from_map(doc.get("content"), doc.get("contentMap"), declared)
    name, _ = _from_map(doc.get("name"), doc.get("nameMap"), declared)
    summary, _ = _from_map(doc.get("summary"), doc.get("summaryMap"), declared)
    return {
        "content": _html(content, doc.get("mediaType")),
        "name": _clean_text(name),
        "summary": _html(summary, "text/html"),
        "language": _language(content_language) or declared or _other_language(doc),
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
            found[href] = _clean_text(tag.get("name")) or ""
    return found


def _attachment(item: Any) -> dict[str, str | None] | None:
    """url/media_type/name of one attachment, or None when it has no http(s) URL."""
    if isinstance(item, str):
        url = _http_iri(item)
        return {"url": url, "media_type": None, "name": None} if url else None
    if not isinstance(item, dict):
        return None
    url = _http_iri(item.get("href")) or _http_iri(url_of(item.get("url"), media_type=None))
    if url is None:
        return None
    link = item.get("url")
    media_type = item.get("mediaType") or (link.get("mediaType") if isinstance(link, dict) else None)
    return {
        "url": url,
        "media_type": _clean_text(media_type),
        # Mastodon puts the alt text in `name`; older GoToSocial in `summary`.
        "name": _clean_text(item.get("name")) or _clean_text(item.get("summary")),
    }


def _attachments(doc: dict[str, Any]) -> tuple[dict[str, str | None], ...]:
    found = (_attachment(item) for item in as_list(doc.get("attachment")))
    return tuple(a for a in found if a is not None)


# --- talentfed's terms, through JSON-LD expansion ------------------------------------------


def _post_kind(node: dict[str, Any]) -> str | None:
    value = first_string(node, "postKind")
    # A sender whose context types the term as @vocab sends our namespace's IRI.
    return value.removeprefix(_TF) if value else None


def _team_size(node: dict[str, Any]) -> int | None:
    for value in values(node, "teamSize"):
        if isinstance(value, bool):
            continue
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, int) and 1 <= value <= MAX_TEAM_SIZE:
            return value
    return None


def _talentfed_fields(doc: dict[str, Any]) -> dict[str, Any]:
    node = expanded_node(doc)
    if not node:
        return {"post_kind": None}
    status = (first_string(node, "projectStatus") or "").strip().lower()
    deadline = next(filter(None, (_datetime(v) for v in values(node, "deadline"))), None)
    return {
        "post_kind": _post_kind(node),
        "skills": tuple(normalize_skills([v for v in values(node, "skills") if isinstance(v, str)])),
        "status": status if status in PROJECT_STATUSES else None,
        "deadline": deadline,
        "accepted_answer": _http_iri(first_string(node, "acceptedAnswer")),
        "team_size": _team_size(node),
        "contact": _clean_text(first_string(node, "contact")),
        "institution": _http_iri(first_string(node, "institution")),
    }


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
    tf = _talentfed_fields(document)
    to, cc = tuple(ids_of(document.get("to"))), tuple(ids_of(document.get("cc")))
    return IncomingPost(
        uri=uri,
        type=post_type,
        kind=_kind(document, post_type, tf.pop("post_kind")),
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
        published=_datetime(document.get("published")),
        updated=_datetime(document.get("updated")),
        to=to,
        cc=cc,
        document=MappingProxyType(copy.deepcopy(document)),
        **_text_fields(document),
        **tf,
    )


CARRIER_TYPES = frozenset({"Create", "Update", "Announce"})


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


# --- storing ------------------------------------------------------------------------------


def _host(uri: str | None) -> str:
    return urlsplit(uri or "").netloc.lower()


def _check_author(post: IncomingPost, author: Actor, existing: Object | None) -> None:
    if author.local:
        raise IngestError(f"{author.uri} is a local actor: its posts are not ingested")
    if post.attributed_to and post.attributed_to != author.uri:
        raise IngestError(f"{post.uri} is attributed to {post.attributed_to}, not {author.uri}")
    if _host(post.uri) != _host(author.uri):
        raise IngestError(f"{post.uri} is not on the host of its author {author.uri}")
    if existing is None:
        return
    if existing.local:
        raise IngestError(f"{post.uri} is a local object")
    if existing.author_id != author.id:
        raise IngestError(f"{post.uri} belongs to another actor; {author.uri} cannot update it")
    if existing.deleted_at is not None:
        raise IngestError(f"{post.uri} was deleted")


async def _stored_kind(session: AsyncSession, post: IncomingPost) -> str:
    """A reply to a question we hold is an answer (a plain Mastodon reply counts)."""
    if not post.in_reply_to or post.kind in STRUCTURED_KINDS:
        return post.kind
    parent_kind = await session.scalar(select(Object.kind).where(Object.uri == post.in_reply_to))
    return "answer" if parent_kind == "question" else post.kind


def _extra(post: IncomingPost, previous: dict[str, Any] | None) -> dict[str, Any]:
    extra = {k: v for k, v in (previous or {}).items() if k not in EXTRA_KEYS}
    optional = {"teamSize": post.team_size, "contact": post.contact, "institution": post.institution}
    extra.update({k: v for k, v in optional.items() if v is not None})
    extra["attachments"] = [dict(a) for a in post.attachments]
    extra["mentions"] = [{"href": href, "name": post.mention_names.get(href, "")} for href in post.mentions]
    return extra


def _fill(row: Object, post: IncomingPost, author: Actor, kind: str) -> None:
    row.type = post.type
    row.kind = kind
    row.author_id = author.id
    row.local = False
    row.in_reply_to_uri = post.in_reply_to
    row.context_uri = post.context
    row.url = post.url
    row.name = post.name
    row.summary = post.summary
    row.content = post.content
    row.language = post.language
    # The author's real followers collection beats the reader's guess.
    row.visibility = visibility_of(post.to, post.cc, author.followers_url, post.attributed_to)
    row.sensitive = post.sensitive
    row.tags = list(post.tags)
    row.skills = list(post.skills)
    row.status = post.status
    row.deadline = post.deadline
    row.accepted_answer_uri = post.accepted_answer
    row.extra = _extra(post, row.extra)
    row.document = copy.deepcopy(dict(post.document))


async def store_post(session: AsyncSession, post: IncomingPost, author: Actor) -> Object:
    """Insert or update the stored copy of a remote post (added, not flushed: a new row has
    its id after the session's next flush).

    `author` is the resolved actor of `post.attributed_to` (it must match when the
    document names one, and live on the post's host). An update must come from the
    actor who owns the row, keeps `published`, and sets `updated`; an update older than
    the stored one is ignored. Deleted and local objects are never overwritten.
    Raises `IngestError`.
    """
    known_absent = post.uri in session.info.get(ABSENT_POSTS, ())
    existing = None if known_absent else await _stored_post(session, post.uri)
    _check_author(post, author, existing)
    kind = await _stored_kind(session, post)
    if existing is None:
        row = Object(uri=post.uri, published=post.published or utcnow(), updated=post.updated)
        session.add(row)
    else:
        if _older_than_stored(post, existing):
            return existing  # a late delivery of an older version
        row = existing
        row.updated = post.updated or utcnow()
    _fill(row, post, author, kind)
    if kind == "question":
        await _promote_answers(session, post.uri)
    return row


async def note_absent_posts(session: AsyncSession, uris: list[str]) -> None:
    """Look up at once which of `uris` are not stored, so `store_post` need not ask for each
    (a group commit stores many posts in one transaction)."""
    stored = set(await session.scalars(select(Object.uri).where(Object.uri.in_(uris)))) if uris else set()
    session.info[ABSENT_POSTS] = {uri for uri in uris if uri not in stored}


async def _stored_post(session: AsyncSession, uri: str) -> Object | None:
    # Without autoflush: rows other writes of this transaction added are not needed to answer
    # "is this uri stored?" (a second insert of one uri fails the unique index at flush, and a
    # group commit then reruns the writes one by one), and not flushing here lets one flush
    # insert the posts of a whole batch.
    with session.no_autoflush:
        # The id alone first: a new post (the usual case) needs no row loaded.
        stored_id = await session.scalar(select(Object.id).where(Object.uri == uri))
        return await session.get(Object, stored_id) if stored_id is not None else None


def _older_than_stored(post: IncomingPost, existing: Object) -> bool:
    """Compares the sender's own `updated` stamps: ours (set when one is missing) may be skewed."""
    stored = _datetime((existing.document or {}).get("updated"))
    return bool(post.updated and stored and post.updated < stored)


async def _promote_answers(session: AsyncSession, question_uri: str) -> None:
    """Replies that arrived before their question become answers now."""
    await session.execute(
        update(Object)
        .where(
            Object.in_reply_to_uri == question_uri,
            Object.local.is_(False),
            Object.kind.not_in(STRUCTURED_KINDS | {"answer"}),
        )
        .values(kind="answer")
        .execution_options(synchronize_session="fetch")
    )
