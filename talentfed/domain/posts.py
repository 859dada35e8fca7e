"""Publishing: articles, questions, answers and project calls written by local members.

Every change is stored and federated in the caller's transaction: Create on publish,
Update on edits (including an accepted answer or a project call's new status), Delete
on removal (the post becomes a tombstone). The institution announces its members'
project calls, so following the institution is enough to see them all.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from html import escape, unescape
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed import audiences, kinds
from talentfed.config import Config
from talentfed.domain import media
from talentfed.domain.errors import FieldError
from talentfed.domain.moves import posting_refusal
from talentfed.domain.visibility import ANONYMOUS, OPEN, Viewer, may_read, readable_by
from talentfed.federation import activities, outbox, vocabulary
from talentfed.federation.as_values import language_tag
from talentfed.federation.context import PUBLIC
from talentfed.federation.limits import unstorable
from talentfed.federation.post_documents import Mention, PostContext, post_document, tombstone
from talentfed.federation.post_edits import forget_edits, record_edit, version_of
from talentfed.federation.post_terms import set_term_values, term_values
from talentfed.federation.remote_actors import ActorUnavailable, RemoteActors
from talentfed.federation.uris import LocalURIs
from talentfed.storage.models import Actor, Interaction, Object, utcnow
from talentfed.storage.reactions import VERB_OF_KIND, record_reaction
from talentfed.text import normalize_skills, render_markdown

KIND_TO_TYPE = {"article": "Article", "question": "Note", "answer": "Note", "project": "Note", "note": "Note"}
PROJECT_STATUSES = tuple(vocabulary.term("projectStatus").tokens.values())
VISIBILITIES = ("public", "unlisted", "followers")
MAX_TITLE = 300
MAX_SUMMARY = 1_000
MAX_PINNED = 5  # as Mastodon  # an abstract of one or two sentences, or a content warning
MAX_BODY = 100_000
# @user@domain (a port is allowed: dev-mode handles carry one), not part of an e-mail address.
MENTION = re.compile(
    r"(?<![\w@/])@([A-Za-z0-9_.]+)@([A-Za-z0-9.-]+\.[A-Za-z]{2,}|127\.0\.0\.1|localhost)(:\d+)?"
)


class PostError(FieldError):
    """A post cannot be published or changed as asked."""


@dataclass(frozen=True)
class Draft:
    kind: str
    body: str  # Markdown
    title: str = ""
    # An article's abstract; on every other kind, its content warning (kinds.summary_is_warning).
    summary: str = ""
    tags: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    language: str | None = "en"
    in_reply_to: str | None = None
    deadline: datetime | None = None
    status: str | None = None
    visibility: str = "public"
    team_size: int | None = None
    contact: str | None = None
    media_ids: tuple[int, ...] = ()  # the author's uploads to attach (domain/media.py), on publishing
    sensitive: bool = False  # a post with a content warning is sensitive whatever this says


def check_draft(draft: Draft, *, now: datetime | None = None, new: bool = True) -> None:
    _check_text(draft)
    if draft.kind not in KIND_TO_TYPE:
        raise PostError("kind", f"expected one of {', '.join(KIND_TO_TYPE)}, got {draft.kind!r}")
    if draft.kind in ("article", "question", "project") and not draft.title.strip():
        raise PostError("title", "a title is required")
    if len(draft.title) > MAX_TITLE:
        raise PostError("title", f"at most {MAX_TITLE} characters")
    if len(draft.summary) > MAX_SUMMARY:
        raise PostError("summary", f"at most {MAX_SUMMARY} characters")
    if not draft.body.strip() and not (draft.kind == kinds.NOTE and draft.media_ids):
        raise PostError("body", "the text is empty")  # a note may be pictures alone, as on Mastodon
    if len(draft.body) > MAX_BODY:
        raise PostError("body", f"at most {MAX_BODY} characters")
    if draft.visibility not in VISIBILITIES:
        raise PostError("visibility", f"expected one of {', '.join(VISIBILITIES)}")
    media.check_count(draft.media_ids)
    if draft.kind == "answer" and not draft.in_reply_to:
        raise PostError("in_reply_to", "an answer must reply to a question")
    if draft.kind == "project":
        _check_project(draft, now or utcnow(), new)


def _check_text(draft: Draft) -> None:
    """Text that a database refuses (PostgreSQL: NUL, unpaired surrogates) is refused here on
    both back-ends; a language must be a tag that fits its column."""
    texts = [
        *{"title": draft.title, "body": draft.body, "summary": draft.summary}.items(),
        *{"contact": draft.contact, "language": draft.language, "in_reply_to": draft.in_reply_to}.items(),
        *(("tags", tag) for tag in draft.tags),
        *(("skills", skill) for skill in draft.skills),
    ]
    for name, value in texts:
        if value and (problem := unstorable(value)):
            raise PostError(name, problem)
    if draft.language is not None and language_tag(draft.language) is None and draft.language != "und":
        raise PostError("language", "expected a language tag such as en or pt-BR")


def _check_project(draft: Draft, now: datetime, new: bool) -> None:
    if draft.status is None:
        raise PostError("status", f"expected one of {', '.join(PROJECT_STATUSES)}")
    _check_terms(draft)
    if new and draft.deadline is not None and draft.deadline < now:
        raise PostError("deadline", "the deadline is in the past")


def _check_terms(draft: Draft) -> None:
    """The limits of talentfed's terms (federation/vocabulary/terms.toml) on the draft's values."""
    values = {
        "status": draft.status,
        "deadline": draft.deadline,
        "team_size": draft.team_size,
        "contact": draft.contact,
    }
    for term in vocabulary.terms_of(draft.kind):
        value = values.get(term.field)
        if value is not None and (problem := vocabulary.problem(term, value)):
            raise PostError(term.field, problem)


# --- mentions ------------------------------------------------------------------------------


def mention_handles(markdown: str) -> list[str]:
    """The @user@domain handles written in a Markdown text, in order, once each."""
    found = (f"@{m.group(1)}@{m.group(2)}{m.group(3) or ''}" for m in MENTION.finditer(markdown))
    return list(dict.fromkeys(handle.lower() for handle in found))


async def resolve_mentions(actors: RemoteActors, markdown: str) -> dict[str, Actor]:
    """The actors of the @user@domain handles in a text, looked up (WebFinger) where unknown.

    This waits on other servers, so callers resolve before they open the transaction that
    stores the post, and pass the result to `publish` or `edit`.
    """
    found = {}
    for handle in mention_handles(markdown):
        try:
            found[handle] = await actors.by_handle(handle)
        except ActorUnavailable as exc:
            raise PostError("body", f"cannot find {handle}: {exc}") from None
    return found


async def _attached(session: AsyncSession, mentions: dict[str, Actor] | None) -> dict[str, Actor]:
    """The mentioned actors (resolved in sessions of their own) as records of this session."""
    return {handle: await session.merge(actor) for handle, actor in (mentions or {}).items()}


def _link_mentions(html: str, mentioned: dict[str, Actor]) -> str:
    """Turn resolved @user@domain into the h-card links Mastodon writes."""

    def replace(match: re.Match[str]) -> str:
        handle = f"@{match.group(1)}@{match.group(2)}{match.group(3) or ''}".lower()
        actor = mentioned.get(handle)
        if actor is None:
            return match.group(0)
        href = escape(actor.url or actor.uri)
        return (
            f'<span class="h-card" translate="no"><a href="{href}" class="u-url mention">'
            f"@<span>{escape(actor.username)}</span></a></span>"
        )

    return MENTION.sub(replace, html)


# --- publishing -----------------------------------------------------------------------------


async def publish(
    session: AsyncSession,
    config: Config,
    author: Actor,
    draft: Draft,
    *,
    object_id: str | None = None,
    mentions: dict[str, Actor] | None = None,
) -> Object:
    """Store a new local post and federate it. `mentions` maps handles in the body to actors
    (`resolve_mentions`)."""
    _check_may_post(author)
    check_draft(draft)
    mentions = await _attached(session, mentions)
    parent = await _parent(session, draft)
    uris = LocalURIs(config.node.base_url)
    uri = uris.object(object_id or uuid.uuid4().hex)
    post = Object(
        uri=uri,
        url=uri,
        type=KIND_TO_TYPE[draft.kind],
        kind=draft.kind,
        author_id=author.id,
        local=True,
        published=utcnow(),
    )
    _apply_draft(post, draft, mentions)
    post.context_uri = (parent.context_uri or parent.uri) if parent else None
    session.add(post)
    await session.flush()
    await media.attach(session, author, post, draft.media_ids)
    session.add_all(_thread_edges(author, post, parent, mentions))
    await _federate(session, config, author, post, "Create", mentions, parent)
    if post.kind == "project":
        await _announce_by_institution(session, config, post)
    return post


def _thread_edges(
    author: Actor, post: Object, parent: Object | None, mentions: dict[str, Actor]
) -> list[Interaction]:
    """A reply and its mentions as edges of the observed graph, shaped as the inbox records
    them for other servers' posts: the new post is the object, the other actor the target."""
    edges = [
        Interaction(kind="mention", actor_id=author.id, object_id=post.id, target_actor_id=actor.id)
        for actor in {actor.id: actor for actor in mentions.values()}.values()
        if actor.id != author.id
    ]
    if parent is not None:
        edges.append(
            Interaction(kind="reply", actor_id=author.id, object_id=post.id, target_actor_id=parent.author_id)
        )
    return edges


async def edit(
    session: AsyncSession,
    config: Config,
    author: Actor,
    post: Object,
    draft: Draft,
    *,
    mentions: dict[str, Actor] | None = None,
) -> Object:
    """Change a post's text and fields; followers get an Update. The version it replaces is
    kept for the post's history (`post_edits.record_edit`) when the post reads differently."""
    _check_owner(author, post)
    _check_may_post(author)
    if draft.kind != post.kind:
        raise PostError("kind", f"a {post.kind} cannot become a {draft.kind}")
    check_draft(draft, new=False)
    mentions = await _attached(session, mentions)
    before, edited = version_of(post), utcnow()
    _apply_draft(post, draft, mentions)
    post.updated = edited
    record_edit(session, post, before, edited)
    await session.flush()
    await _federate(session, config, author, post, "Update", mentions, await _parent(session, draft))
    return post


async def delete(session: AsyncSession, config: Config, author: Actor, post: Object) -> None:
    """The post becomes a tombstone (GET answers 410) and followers get a Delete."""
    _check_owner(author, post)
    if post.deleted_at is not None:
        return
    post.deleted_at = utcnow()
    document = activities.build(
        config, "Delete", author, tombstone(post), to=[PUBLIC], cc=[author.followers_url]
    )
    post.content = post.name = post.summary = post.source = None
    post.skills, post.tags = [], []
    await media.detach(session, post)
    await forget_edits(session, Object.id == post.id)
    await session.flush()
    recipients = await _audience(session, author, post, {}, None)
    await outbox.send(session, config, author, document, recipients)


async def accept_answer(
    session: AsyncSession, config: Config, asker: Actor, question: Object, answer: Object
) -> None:
    """Mark `answer` as the accepted answer of `question`; federated as an Update of the question."""
    _check_owner(asker, question)
    if question.kind != "question":
        raise PostError("question", "only a question has an accepted answer")
    if answer.in_reply_to_uri != question.uri or answer.deleted_at is not None:
        raise PostError("answer", "that post is not an answer to this question")
    question.accepted_answer_uri = answer.uri
    question.updated = utcnow()
    await session.flush()
    await _federate(session, config, asker, question, "Update", {}, None)


async def set_project_status(
    session: AsyncSession, config: Config, author: Actor, project: Object, status: str
) -> None:
    """Close a project call or mark it filled (or reopen it); federated as an Update."""
    _check_owner(author, project)
    if project.kind != "project":
        raise PostError("project", "only a project call has a status")
    if status not in PROJECT_STATUSES:
        raise PostError("status", f"expected one of {', '.join(PROJECT_STATUSES)}, got {status!r}")
    project.status = status
    project.updated = utcnow()
    await session.flush()
    await _federate(session, config, author, project, "Update", {}, None)


async def set_pinned(session: AsyncSession, author: Actor, post: Object, pinned: bool) -> None:
    """Pinned posts fill the author's `featured` collection: at most MAX_PINNED of the author's
    own posts that anyone may read (as Mastodon: a followers-only post would be shown to the
    public there). Pinning again or unpinning what is not pinned is no error."""
    _check_owner(author, post)
    if pinned and not post.pinned:
        if post.visibility not in OPEN:
            raise PostError("post", "only a public or unlisted post can be pinned")
        # The author's row is locked (PostgreSQL) so that two pins at once cannot both be the fifth.
        await session.execute(select(Actor.id).where(Actor.id == author.id).with_for_update())
        if await _pinned_count(session, author) >= MAX_PINNED:
            raise PostError("post", f"at most {MAX_PINNED} posts can be pinned")
    post.pinned = pinned
    await session.flush()


async def _pinned_count(session: AsyncSession, author: Actor) -> int:
    query = select(func.count()).where(
        Object.author_id == author.id, Object.pinned.is_(True), Object.deleted_at.is_(None)
    )
    return int(await session.scalar(query) or 0)


# --- helpers ------------------------------------------------------------------------------


def _check_may_post(author: Actor) -> None:
    if refusal := posting_refusal(author):
        raise PostError("account", refusal)


def _check_owner(actor: Actor, post: Object) -> None:
    if post.author_id != actor.id or not post.local:
        raise PostError("post", "only its author can change a post")
    if post.deleted_at is not None:
        raise PostError("post", "the post was deleted")


def draft_of(post: Object) -> Draft:
    """A local post as the draft that writes it: an edit that changes some fields (the client
    API's, which changes the text) keeps the others, the kind and its terms among them."""
    terms = term_values(post)
    return Draft(
        kind=post.kind,
        body=post.source or "",
        title=post.name or "",
        summary=summary_source(post.summary),
        tags=tuple(post.tags or ()),
        skills=tuple(post.skills or ()),
        language=post.language,
        in_reply_to=post.in_reply_to_uri,
        deadline=post.deadline,
        status=post.status if post.kind == kinds.PROJECT else None,
        visibility=post.visibility,
        team_size=terms["team_size"],
        contact=terms["contact"],
        sensitive=post.sensitive,
    )


def _apply_draft(post: Object, draft: Draft, mentions: dict[str, Actor]) -> None:
    post.name = draft.title.strip() or None
    summary = draft.summary.strip()
    post.summary = f"<p>{escape(summary)}</p>" if summary else None
    post.sensitive = draft.sensitive or bool(summary and kinds.summary_is_warning(draft.kind))
    post.source = draft.body
    post.content = _link_mentions(render_markdown(draft.body), mentions)
    post.language = draft.language
    post.in_reply_to_uri = draft.in_reply_to
    post.visibility = draft.visibility
    post.tags = normalize_skills(list(draft.tags))
    post.extra = {}  # mentions are set again when the post is federated
    set_term_values(
        post,
        {
            "skills": normalize_skills(list(draft.skills)),
            "status": draft.status if draft.kind == kinds.PROJECT else None,
            "deadline": draft.deadline,
            "team_size": draft.team_size,
            "contact": draft.contact,
        },
    )


def summary_source(summary: str | None) -> str:
    """The text `_apply_draft` wrapped as a summary's HTML."""
    return unescape(summary.removeprefix("<p>").removesuffix("</p>")) if summary else ""


async def _parent(session: AsyncSession, draft: Draft) -> Object | None:
    if not draft.in_reply_to:
        return None
    parent = await find_object(session, draft.in_reply_to)
    if parent is None:
        if draft.kind == "answer":
            raise PostError("in_reply_to", f"no known post at {draft.in_reply_to}")
        return None
    if draft.kind == "answer" and parent.kind != "question":
        raise PostError("in_reply_to", "an answer must reply to a question")
    if parent.deleted_at is not None:
        raise PostError("in_reply_to", "the post was deleted")
    return parent


async def _audience(
    session: AsyncSession, author: Actor, post: Object, mentions: dict[str, Actor], parent: Object | None
) -> list[Actor]:
    recipients = await outbox.follower_recipients(session, author)
    recipients += list(mentions.values())
    if parent is not None:
        parent_author = await session.get(Actor, parent.author_id)
        if parent_author is not None:
            recipients.append(parent_author)
    return recipients


async def post_context(
    session: AsyncSession,
    config: Config,
    author: Actor,
    post: Object,
    mentions: dict[str, Actor] | None = None,
) -> PostContext:
    """What rendering `post` needs: its author, the institution, mentions, its thread."""
    uris = LocalURIs(config.node.base_url)
    institution = await session.scalar(
        select(Actor).where(Actor.local.is_(True), Actor.username == config.node.institution_username)
    )
    mentioned = tuple(Mention(a.uri, f"@{a.handle}") for a in (mentions or {}).values())
    if not mentioned and (post.extra or {}).get("mentions"):
        mentioned = tuple(Mention(m["href"], m["name"]) for m in post.extra["mentions"])
    extra_cc: tuple[str, ...] = ()
    if post.in_reply_to_uri:
        parent = await find_object(session, post.in_reply_to_uri)
        parent_author = await session.get(Actor, parent.author_id) if parent else None
        if parent_author is not None and parent_author.id != author.id:
            extra_cc = (parent_author.uri,)
    attached = (await media.media_of(session, [post]))[post.id]
    return PostContext(
        author=author,
        uris=uris,
        institution=institution,
        mentions=mentioned,
        extra_cc=extra_cc,
        media=tuple(attached),
    )


async def _federate(
    session: AsyncSession,
    config: Config,
    author: Actor,
    post: Object,
    verb: str,
    mentions: dict[str, Actor],
    parent: Object | None,
) -> None:
    if mentions:
        post.extra = {
            **(post.extra or {}),
            "mentions": [{"href": a.uri, "name": f"@{a.handle}"} for a in mentions.values()],
        }
    context = await post_context(session, config, author, post, mentions)
    document = post_document(post, context)
    activity = activities.build(config, verb, author, document, to=document["to"], cc=document["cc"])
    if verb == "Update":
        activity["id"] = f"{post.uri}#updates/{int(utcnow().timestamp() * 1000)}"
    recipients = await _audience(session, author, post, mentions, parent)
    await outbox.send(session, config, author, activity, recipients)


async def _announce_by_institution(session: AsyncSession, config: Config, post: Object) -> None:
    institution = await session.scalar(
        select(Actor).where(Actor.local.is_(True), Actor.username == config.node.institution_username)
    )
    if institution is None or institution.id == post.author_id:
        return
    author = await session.get(Actor, post.author_id)
    document = activities.build(
        config,
        "Announce",
        institution,
        post.uri,
        to=[PUBLIC],
        cc=[institution.followers_url, author.uri if author else post.uri],
    )
    recipients = await outbox.follower_recipients(session, institution)
    await outbox.send(session, config, institution, document, recipients)


async def find_object(session: AsyncSession, uri: str) -> Object | None:
    return await session.scalar(select(Object).where(Object.uri == uri))


async def posts_of(session: AsyncSession, author: Actor, *, kind: str | None = None) -> list[Object]:
    query = select(Object).where(Object.author_id == author.id, Object.deleted_at.is_(None))
    if kind:
        query = query.where(Object.kind == kind)
    return list(await session.scalars(query.order_by(Object.published.desc(), Object.id.desc())))


async def answers_to(
    session: AsyncSession, question: Object, viewer: Viewer = ANONYMOUS
) -> list[tuple[Object, int]]:
    """The answers `viewer` may read, with their likes (votes): the accepted one first, then
    by votes. A reply addressed to particular people stays theirs (domain/visibility.py)."""
    votes = (
        select(func.count())
        .where(Interaction.object_id == Object.id, Interaction.kind == "like")
        .correlate(Object)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Object, votes.label("votes"))
        .where(Object.in_reply_to_uri == question.uri, Object.deleted_at.is_(None), readable_by(viewer))
        .order_by(Object.published)
    )
    answers = [(answer, count) for answer, count in rows]
    answers.sort(key=lambda pair: (pair[0].uri != question.accepted_answer_uri, -pair[1]))
    return answers


# --- likes and boosts by our members ------------------------------------------------------


async def _author_of(session: AsyncSession, post: Object) -> Actor:
    author = await session.get(Actor, post.author_id)
    if author is None:  # objects.author_id is a foreign key: only a concurrent delete gets here
        raise PostError("post", "the post's author no longer exists")
    return author


class NotAllowed(PostError):
    """Refused whoever asks in whatever way: the post may not be boosted by this member (the
    client API answers Mastodon's 403, the CLI prints it)."""


async def react(session: AsyncSession, config: Config, actor: Actor, post: Object, kind: str) -> Interaction:
    """Like (a vote, for an answer) or announce (boost) a post the member may read; sent to its
    author. Boosts follow `audiences.may_boost`: an author's boost of a followers-only post goes
    to the same followers, never to the public."""
    if kind not in ("like", "announce"):
        raise PostError("kind", "expected like or announce")
    if post.deleted_at is not None:
        raise PostError("post", "the post was deleted")
    if not await may_read(session, Viewer(actor_id=actor.id), post):
        raise PostError("post", "no post the member may read")
    if kind == "announce" and not audiences.may_boost(post.visibility, post.author_id, actor.id):
        raise NotAllowed("post", f"a {post.visibility} post may not be boosted")
    author = await _author_of(session, post)
    verb = VERB_OF_KIND[kind]
    document = activities.build(
        config, verb, actor, post.uri, **_reaction_audience(kind, post, author, actor)
    )
    recorded = await record_reaction(session, kind, actor.id, post, document["id"])
    if recorded is None:  # liked or boosted already (maybe by a request running at the same time)
        return await _reaction_of(session, kind, actor, post)
    edge = await session.get_one(Interaction, recorded)
    recipients = [author] + (await outbox.follower_recipients(session, actor) if kind == "announce" else [])
    await outbox.send(session, config, actor, document, recipients)
    return edge


def _reaction_query(kind: str, actor: Actor, post: Object) -> Select[Interaction]:
    return select(Interaction).where(
        Interaction.kind == kind, Interaction.actor_id == actor.id, Interaction.object_id == post.id
    )


async def _reaction_of(session: AsyncSession, kind: str, actor: Actor, post: Object) -> Interaction:
    edge = await session.scalar(_reaction_query(kind, actor, post))
    if edge is None:  # the edge that won was taken back at once, by another request
        raise PostError("post", f"the {kind} was just undone; try again")
    return edge


def _reaction_audience(kind: str, post: Object, author: Actor, actor: Actor) -> dict[str, Any]:
    """A like is the author's business; a boost is public, unless it passes on a followers-only
    post (its author's own), which stays with those followers."""
    if kind == "like":
        return {"to": [author.uri]}
    if post.visibility in OPEN:
        return {"to": [PUBLIC], "cc": [author.uri, actor.followers_url]}
    return {"to": [actor.followers_url], "cc": [author.uri]}


async def unreact(session: AsyncSession, config: Config, actor: Actor, post: Object, kind: str) -> None:
    """Take a like or a boost back: Undo with the original activity embedded."""
    edge = await session.scalar(_reaction_query(kind, actor, post))
    if edge is None:
        raise PostError("post", f"there is no {kind} of this post to undo")
    verb = VERB_OF_KIND[kind]
    original = {"id": edge.activity_uri, "type": verb, "actor": actor.uri, "object": post.uri}
    await session.delete(edge)
    await session.flush()
    author = await _author_of(session, post)
    document = activities.build(config, "Undo", actor, original, to=[author.uri])
    recipients = [author] + (await outbox.follower_recipients(session, actor) if kind == "announce" else [])
    await outbox.send(session, config, actor, document, recipients)
