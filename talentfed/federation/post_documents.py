"""Our posts as ActivityStreams objects, shaped so Mastodon shows something useful.

Mastodon shows the `content` of a Note (and of a Question without poll options), but
shows an Article only as its `name`, its `summary` and a link. So:
- an article is an `Article` with an HTML excerpt in `summary` and a canonical `url`;
- a question, an answer and a project call are `Note`s whose `content` carries the
  title and, for a project call, the skills, deadline and status as readable text.
  (A `Question` would turn into an empty poll on Misskey and Pleroma.)
- a Note's content warning is its `summary`, plain text as Mastodon writes it, with
  `sensitive: true` (kinds.summary_is_warning says which posts have one).
The structured fields travel as talentfed terms (`postKind`, `skills`, `deadline`,
`projectStatus`, `acceptedAnswer`, …) for other talentfed nodes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape
from typing import Any

from talentfed import kinds
from talentfed.federation.as_values import timestamp
from talentfed.federation.context import PUBLIC, PUBLISHED_CONTEXT
from talentfed.federation.limits import MAX_STRING
from talentfed.federation.post_terms import term_values
from talentfed.federation.uris import LocalURIs
from talentfed.federation.vocabulary.writing import write_terms
from talentfed.storage.models import Actor, MediaAttachment, Object
from talentfed.text import html_to_excerpt

EXCERPT_CHARS = 500


@dataclass(frozen=True)
class Mention:
    href: str  # the actor id
    name: str  # @user@domain


@dataclass(frozen=True)
class PostContext:
    """What rendering a post needs besides the post itself."""

    author: Actor
    uris: LocalURIs
    institution: Actor | None = None
    mentions: tuple[Mention, ...] = ()
    reply_count: int = 0
    extra_cc: tuple[str, ...] = field(default=())
    media: tuple[MediaAttachment, ...] = ()  # in order


def hashtag_name(tag: str) -> str:
    """'machine learning' → 'MachineLearning' (how people write hashtags on Mastodon)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[\s_-]+", tag) if part)


def addressing(post: Object, context: PostContext) -> dict[str, list[str]]:
    followers = context.author.followers_url
    if followers is None:
        raise ValueError(f"{context.author.uri} has no followers collection: it is not a local actor")
    mentioned = [mention.href for mention in context.mentions]
    if post.visibility == "followers":
        return {"to": [followers, *mentioned], "cc": list(context.extra_cc)}
    cc = [followers, *mentioned, *context.extra_cc]
    if post.visibility == "unlisted":
        return {"to": [followers], "cc": [PUBLIC, *mentioned, *context.extra_cc]}
    return {"to": [PUBLIC], "cc": list(dict.fromkeys(cc))}


def post_document(post: Object, context: PostContext) -> dict[str, Any]:
    """The object of a Create or Update, and what GET on the post's id returns."""
    uris = context.uris
    tags = list(dict.fromkeys([*post.tags, *post.skills]))
    document: dict[str, Any] = {
        "@context": PUBLISHED_CONTEXT,
        "id": post.uri,
        "type": post.type,
        "attributedTo": context.author.uri,
        "url": post.url or post.uri,
        "published": timestamp(post.published),
        **addressing(post, context),
        "content": display_content(post),
        "tag": [_hashtag(tag, uris) for tag in tags]
        + [{"type": "Mention", "href": m.href, "name": m.name} for m in context.mentions],
        "sensitive": post.sensitive,
    }
    if post.language:
        document["contentMap"] = {post.language: document["content"]}
    if post.updated:
        document["updated"] = timestamp(post.updated)
    if post.name:
        document["name"] = post.name
    if post.in_reply_to_uri:
        document["inReplyTo"] = post.in_reply_to_uri
    if post.context_uri:
        document["context"] = post.context_uri
    if post.kind == "article":
        document["summary"] = article_summary(post)
    elif warning := content_warning(post):
        document["summary"] = warning
    if post.kind == kinds.QUESTION:
        document["replies"] = f"{post.uri}/replies"
    if context.media:
        document["attachment"] = [attachment_document(media, uris) for media in context.media]
    document.update(write_terms(_term_values(post, context), post.kind))
    return document


def media_urls(media: MediaAttachment, uris: LocalURIs) -> tuple[str, str]:
    """(the picture, its preview): our files where we keep them, else the remote URL."""
    if media.file_name:
        return uris.media(media.file_name), uris.media(media.preview_name or media.file_name)
    remote = media.remote_url or ""
    return remote, remote


def attachment_document(media: MediaAttachment, uris: LocalURIs) -> dict[str, Any]:
    """A picture of a post as Mastodon writes it: a Document with its alt text as `name`."""
    document: dict[str, Any] = {"type": "Document", "url": media_urls(media, uris)[0]}
    optional = {
        "mediaType": media.media_type,
        "name": media.description,
        "blurhash": media.blurhash,
        "width": media.width,
        "height": media.height,
    }
    document.update({key: value for key, value in optional.items() if value})
    if media.focus_x is not None and media.focus_y is not None:
        document["focalPoint"] = [media.focus_x, media.focus_y]
    return document


def tombstone(post: Object) -> dict[str, Any]:
    # formerType holds an IRI (the AS context types it @id): a bare "Note" would be a relative
    # IRI. "as:Note" is the compact IRI, the form Fedify writes too.
    former_type = f"as:{post.type}"
    document = {"@context": PUBLISHED_CONTEXT, "id": post.uri, "type": "Tombstone", "formerType": former_type}
    if post.deleted_at:
        document["deleted"] = timestamp(post.deleted_at)
    return document


def _hashtag(tag: str, uris: LocalURIs) -> dict[str, Any]:
    name = hashtag_name(tag)
    return {"type": "Hashtag", "href": f"{uris.base_url}/tags/{name.lower()}", "name": f"#{name}"}


def display_content(post: Object) -> str:
    """The HTML that Mastodon users see as the post's text: a question's and a project call's
    title and facts come first, since Mastodon shows no other field of a Note."""
    body = post.content or ""
    if post.kind == "question":
        return f"<p><strong>{escape(post.name or '')}</strong></p>{body}{_tag_line(post.tags)}"
    if post.kind == "project":
        return f"<p><strong>Project call: {escape(post.name or '')}</strong></p>{body}{_project_lines(post)}"
    return body


def _tag_line(tags: list[str]) -> str:
    if not tags:
        return ""
    return "<p>" + " ".join(f"#{escape(hashtag_name(tag))}" for tag in tags) + "</p>"


def _project_lines(post: Object) -> str:
    facts = []
    if post.skills:
        facts.append("Skills: " + " ".join(f"#{escape(hashtag_name(s))}" for s in post.skills))
    details = []
    if post.deadline:
        details.append(f"Deadline: {post.deadline.strftime('%Y-%m-%d')}")
    details.append(f"Status: {escape(post.status or 'open')}")
    team_size = term_values(post)["team_size"]
    if team_size:
        details.append(f"Team size: {int(team_size)}")
    facts.append(" · ".join(details))
    return "".join(f"<p>{fact}</p>" for fact in facts)


def _term_values(post: Object, context: PostContext) -> dict[str, Any]:
    """What `write_terms` picks from (those the kind carries): a project call is open until
    said otherwise, and our own calls name our institution."""
    values = term_values(post)
    if post.kind == kinds.PROJECT:
        values["status"] = post.status or "open"
    if context.institution is not None:
        values["institution"] = context.institution.uri
    return values


def content_warning(post: Object) -> str:
    """The post's content warning as plain text (Mastodon's `spoiler_text`), "" without one. The
    `summary` column holds HTML (ours escaped, others' sanitised); a warning is one line of text."""
    if not post.summary or not kinds.summary_is_warning(post.kind):
        return ""
    return html_to_excerpt(post.summary, limit=MAX_STRING)  # never cut: the limit is beyond any text


def article_summary(post: Object) -> str:
    """Mastodon shows only this (and a link) for an Article: an HTML excerpt."""
    if post.summary:
        return post.summary  # stored as HTML already (the author's text, escaped)
    text = re.sub(r"<[^>]+>", " ", post.content or "")
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > EXCERPT_CHARS:
        text = text[:EXCERPT_CHARS].rsplit(" ", 1)[0] + "…"
    return f"<p>{escape(text)}</p>"
