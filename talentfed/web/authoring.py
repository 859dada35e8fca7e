"""Writing in the browser: articles, questions and project calls (with a preview), answers and
replies, accepting an answer, a project call's status, deleting, and one's own profile.

Every handler is for signed-in members only and checks the CSRF token; a refused field is
shown next to the field with everything the person typed kept in the form.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from talentfed import kinds
from talentfed.domain import posts
from talentfed.domain.members import MemberError, ProfileChanges, update_profile
from talentfed.domain.posts import Draft, PostError
from talentfed.federation import vocabulary
from talentfed.federation.post_terms import term_values
from talentfed.storage.models import Actor, Object
from talentfed.text import render_markdown
from talentfed.web import pages
from talentfed.web.accounts import members_only
from talentfed.web.sessions import read_form
from talentfed.web.templating import Viewer, render

KIND_NAMES = {"project": "Project call", "article": "Article", "question": "Question"}
POST_FIELDS = ("title", "summary", "body", "tags", "skills", "deadline", "team_size", "status", "visibility")


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace("\n", ",").split(",") if part.strip())


def _deadline(text: str) -> datetime | None:
    """A date from the form's date field: the call is open until the end of that day (UTC)."""
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise PostError("deadline", "expected a date such as 2027-03-31") from None
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def _team_size(text: str) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit():  # the domain checks the range
        raise PostError("team_size", vocabulary.problem(vocabulary.term("teamSize"), text) or "")
    return int(text)


def _form_values(form: FormData) -> dict[str, str]:
    return {name: str(form.get(name, "")) for name in POST_FIELDS}


def _draft(kind: str, values: dict[str, str], *, editing: Object | None = None) -> Draft:
    """The form has no content warning: an edit keeps the one an app gave the post."""
    kept = posts.draft_of(editing) if editing is not None else Draft(kind=kind, body="")
    status = editing.status if editing is not None else None
    return Draft(
        kind=kind,
        title=values["title"],
        summary=values["summary"] if kind == "article" else kept.summary,
        sensitive=kept.sensitive,
        body=values["body"],
        tags=_split(values["tags"]),
        skills=_split(values["skills"]) if kind == "project" else (),
        deadline=_deadline(values["deadline"]) if kind == "project" else None,
        status=(values["status"] or status or "open") if kind == "project" else None,
        visibility=values["visibility"] or "public",
        team_size=_team_size(values["team_size"]) if kind == "project" else None,
    )


def _values_of(post: Object) -> dict[str, str]:
    return {
        "title": post.name or "",
        "summary": posts.summary_source(post.summary),
        "body": post.source or "",
        "tags": ", ".join(post.tags or []),
        "skills": ", ".join(post.skills or []),
        "deadline": post.deadline.date().isoformat() if post.deadline else "",
        "team_size": str(term_values(post)["team_size"] or ""),
        "status": post.status or "",
        "visibility": post.visibility,
    }


async def _editor(
    request: Request,
    kind: str,
    values: dict[str, Any],
    *,
    editing: Object | None = None,
    errors: dict[str, str] | None = None,
    preview: str | None = None,
) -> Response:
    context = {
        "kind": kind,
        "kind_name": KIND_NAMES[kind],
        "values": values,
        "errors": errors or {},
        "preview": preview,
        "editing": editing,
        "today": date.today().isoformat(),
    }
    return await render(request, "write.html", context, status_code=400 if errors else 200)


@members_only
async def choose_kind(request: Request, me: Viewer) -> Response:
    return await render(request, "write_choose.html", {"kinds": KIND_NAMES})


async def _mentions(request: Request, markdown: str) -> dict[str, Actor]:
    """Resolved with no transaction open: the lookups wait on other servers."""
    return await posts.resolve_mentions(request.app.state.federation.actors, markdown)


async def _publish_or_preview(request: Request, me: Viewer, kind: str, editing: Object | None) -> Response:
    form = await read_form(request)
    values = _form_values(form)
    config = request.app.state.config
    try:
        draft = _draft(kind, values, editing=editing)
        if form.get("action") == "preview":
            posts.check_draft(draft, new=editing is None)
            return await _editor(request, kind, values, editing=editing, preview=render_markdown(draft.body))
        mentions = await _mentions(request, draft.body)
        async with request.app.state.sessions.begin() as session:
            author = await session.merge(me.actor)
            if editing is None:
                post = await posts.publish(session, config, author, draft, mentions=mentions)
            else:
                target = await session.merge(editing)
                post = await posts.edit(session, config, author, target, draft, mentions=mentions)
            location = post.url or post.uri
    except PostError as exc:
        return await _editor(request, kind, values, editing=editing, errors={exc.field: exc.message})
    request.session["flash"] = "Published." if editing is None else "Saved; followers get the new version."
    return RedirectResponse(location, status_code=303)


@members_only
async def write(request: Request, me: Viewer) -> Response:
    kind = request.path_params["kind"]
    if kind not in KIND_NAMES:
        return await pages.message(request, "Not found", "There is no such kind of post.", status_code=404)
    if request.method == "GET":
        return await _editor(request, kind, {name: "" for name in POST_FIELDS} | {"visibility": "public"})
    return await _publish_or_preview(request, me, kind, None)


async def _own_post(request: Request, me: Viewer, uri: str) -> Object | None:
    async with request.app.state.sessions() as session:
        post = await posts.find_object(session, uri) if uri else None
    if post is None or post.author_id != me.actor.id or post.deleted_at is not None:
        return None
    return post


@members_only
async def edit(request: Request, me: Viewer) -> Response:
    post = await _own_post(request, me, request.query_params.get("uri", ""))
    if post is None or post.kind not in KIND_NAMES:
        return await pages.message(request, "Not found", "You have no such post to edit.", status_code=404)
    if request.method == "GET":
        return await _editor(request, post.kind, _values_of(post), editing=post)
    return await _publish_or_preview(request, me, post.kind, post)


@members_only
async def reply(request: Request, me: Viewer) -> Response:
    """An answer to a question, or a reply to a project call or article (here or elsewhere)."""
    form = await read_form(request)
    parent_uri, body = str(form.get("in_reply_to", "")), str(form.get("body", ""))
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        parent = await posts.find_object(session, parent_uri) if parent_uri else None
        parent_author = await session.get(Actor, parent.author_id) if parent else None
    if parent is None or parent_author is None or parent.deleted_at is not None:
        return await pages.message(request, "Not found", "That post is not known here.", status_code=404)
    kind = kinds.kind_of_reply(kinds.NOTE, parent.kind)
    try:
        mentions = await _mentions(request, body)
        async with request.app.state.sessions.begin() as session:
            author = await session.merge(me.actor)
            draft = Draft(kind=kind, body=body, in_reply_to=parent.uri)
            await posts.publish(session, config, author, draft, mentions=mentions)
    except PostError as exc:
        errors = {"body": exc.message}
        return await pages.post(request, parent, parent_author, errors=errors, values={"body": body})
    request.session["flash"] = (
        "Your answer was published." if kind == kinds.ANSWER else "Your reply was published."
    )
    return RedirectResponse(pages.post_url(parent), status_code=303)


async def _change(request: Request, me: Viewer, change) -> Response:
    """Run `change(session, author, post, form)` on one of my posts, then go back to it."""
    form = await read_form(request)
    post = await _own_post(request, me, str(form.get("uri", "")))
    if post is None:
        return await pages.message(request, "Not found", "You have no such post.", status_code=404)
    try:
        async with request.app.state.sessions.begin() as session:
            author = await session.merge(me.actor)
            await change(session, author, await session.merge(post), form)
    except PostError as exc:
        return await pages.message(request, "Not changed", exc.message.capitalize() + ".", status_code=400)
    return RedirectResponse(pages.post_url(post), status_code=303)


@members_only
async def accept(request: Request, me: Viewer) -> Response:
    config = request.app.state.config

    async def change(session, author, question, form) -> None:
        answer = await posts.find_object(session, str(form.get("answer", "")))
        if answer is None:
            raise PostError("answer", "that answer is not known here")
        await posts.accept_answer(session, config, author, question, answer)

    response = await _change(request, me, change)
    if response.status_code == 303:
        request.session["flash"] = "Answer accepted; the answer's author is told."
    return response


@members_only
async def status(request: Request, me: Viewer) -> Response:
    config = request.app.state.config

    async def change(session, author, project, form) -> None:
        await posts.set_project_status(session, config, author, project, str(form.get("status", "")))

    return await _change(request, me, change)


@members_only
async def delete(request: Request, me: Viewer) -> Response:
    config = request.app.state.config

    async def change(session, author, post, form) -> None:
        await posts.delete(session, config, author, post)

    response = await _change(request, me, change)
    if response.status_code == 303:
        request.session["flash"] = "Deleted; followers' servers are told to remove it."
        return RedirectResponse(f"/users/{me.actor.username}", status_code=303)
    return response


PROFILE_FIELDS = ("display_name", "headline", "bio", "department", "skills", "icon_url", "links")


def _profile_values(actor: Actor) -> dict[str, Any]:
    return {
        "display_name": actor.display_name or "",
        "headline": actor.headline or "",
        "bio": actor.summary_source or "",
        "department": actor.department or "",
        "skills": ", ".join(actor.skills or []),
        "icon_url": actor.icon_url or "",
        "links": "\n".join(f"{f['name']}: {f['value']}" for f in actor.fields or []),
        "open_to_collaboration": actor.open_to_collaboration,
        "discoverable": actor.discoverable,
        "indexable": actor.indexable,
        "manually_approves_followers": actor.manually_approves_followers,
    }


def _links(text: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for line in text.splitlines():
        if not line.strip():
            continue
        name, separator, value = line.partition(":")
        if not separator or not value.strip() or value.startswith("//"):
            raise MemberError(f"links: write each link as 'Name: value', got {line.strip()[:60]!r}")
        pairs.append((name.strip(), value.strip()))
    return tuple(pairs)


FLAGS = ("open_to_collaboration", "discoverable", "indexable", "manually_approves_followers")


@members_only
async def profile_settings(request: Request, me: Viewer) -> Response:
    if request.method == "GET":
        return await render(request, "settings_profile.html", {"values": _profile_values(me.actor)})
    form = await read_form(request)
    values: dict[str, Any] = {name: str(form.get(name, ""))[:20_000] for name in PROFILE_FIELDS}
    values |= {flag: form.get(flag) == "on" for flag in FLAGS}
    try:
        changes = ProfileChanges(
            display_name=values["display_name"],
            headline=values["headline"],
            bio=values["bio"],
            department=values["department"],
            icon_url=values["icon_url"].strip(),
            skills=_split(values["skills"]),
            fields=_links(values["links"]),
            **{flag: values[flag] for flag in FLAGS},
        )
        async with request.app.state.sessions.begin() as session:
            await update_profile(session, request.app.state.config, await session.merge(me.actor), changes)
    except MemberError as exc:
        field, _, text = str(exc).partition(": ")
        errors = {_PROFILE_ERROR_FIELDS.get(field, field): text}
        return await render(
            request, "settings_profile.html", {"values": values, "errors": errors}, status_code=400
        )
    request.session["flash"] = "Profile saved; your followers' servers get the update."
    return RedirectResponse(f"/users/{me.actor.username}", status_code=303)


# MemberError names fields the way people read them; the form's inputs have these names.
_PROFILE_ERROR_FIELDS = {"display name": "display_name", "avatar": "icon_url", "fields": "links"}


routes = [
    Route("/write", choose_kind),
    Route("/write/edit", edit, methods=["GET", "POST"]),
    Route("/write/{kind}", write, methods=["GET", "POST"]),
    Route("/posts/reply", reply, methods=["POST"]),
    Route("/posts/accept", accept, methods=["POST"]),
    Route("/posts/status", status, methods=["POST"]),
    Route("/posts/delete", delete, methods=["POST"]),
    Route("/settings/profile", profile_settings, methods=["GET", "POST"]),
]
