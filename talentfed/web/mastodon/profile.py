"""A member's own profile through the client API: `update_credentials` and featured tags.

Changes go through `domain/members.update_profile`, as the web's profile form does: the same
checks, the note rendered from Markdown, and an Update of the Person sent to the followers.
Our skills are what Mastodon calls featured tags: adding or removing one changes the skills
(`members.add_skill`, `remove_skill`), within the vocabulary's limits; a featured tag's id is
its name (`MachineLearning`), any spelling of which finds it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.config import Config
from talentfed.domain import media
from talentfed.domain.media import MediaError
from talentfed.domain.members import MemberError, ProfileChanges, add_skill, remove_skill, update_profile
from talentfed.domain.profiles import profile_counts, recent_tags
from talentfed.storage.models import Actor, MediaAttachment
from talentfed.web.mastodon.accounts import account_id, visible_account
from talentfed.web.mastodon.auth import Holder, member_in, scoped
from talentfed.web.mastodon.entities import hashtag, tag
from talentfed.web.mastodon.errors import NOT_FOUND, MastodonError, validation_failed
from talentfed.web.mastodon.me import credential_account
from talentfed.web.mastodon.params import (
    Params,
    flag_param,
    read_params,
    read_params_and_files,
    sent_text,
    text_param,
)

UPLOADS = {"avatar": media.AVATAR, "header": media.HEADER}
FIELD_PARAM = re.compile(r"^fields_attributes\[(\d{1,3})\]\[(name|value)\]$")


async def _pictures(config: Config, params: Params, files: dict[str, bytes]) -> dict[str, MediaAttachment]:
    """The avatar and header sent, checked, cleaned and written (domain/media.py) before the
    transaction opens."""
    prepared = {}
    for field, purpose in UPLOADS.items():
        if field in params:
            raise validation_failed(f"{field}: expected a picture, sent as a file (multipart/form-data)")
        if field in files:
            try:
                prepared[field] = await media.prepare(config, files[field], purpose=purpose)
            except MediaError as exc:
                raise validation_failed(f"{field}: {exc.message}") from None
    return prepared


def _fields(params: Params) -> tuple[tuple[str, str], ...] | None:
    """`fields_attributes[i][name|value]` (JSON lists and objects read the same, params.py),
    in the order of i; pairs left empty are dropped, as Mastodon drops them."""
    if params.get("fields_attributes") == []:  # JSON `[]`: no fields at all
        return ()
    rows: dict[int, dict[str, str]] = {}
    for key in params:
        match = FIELD_PARAM.match(key)
        if match:
            rows.setdefault(int(match[1]), {})[match[2]] = sent_text(params, key) or ""
    if not rows:
        return None
    pairs = ((row.get("name", ""), row.get("value", "")) for _, row in sorted(rows.items()))
    return tuple((name, value) for name, value in pairs if name.strip() or value.strip())


def _changes(params: Params, pictures: dict[str, str]) -> ProfileChanges:
    return ProfileChanges(
        icon_url=pictures.get("avatar"),
        image_url=pictures.get("header"),
        display_name=sent_text(params, "display_name"),
        bio=sent_text(params, "note"),
        fields=_fields(params),
        discoverable=flag_param(params, "discoverable"),
        indexable=flag_param(params, "indexable"),
        manually_approves_followers=flag_param(params, "locked"),
    )


@scoped("write:accounts")
async def update_credentials(request: Request, holder: Holder) -> Response:
    """The changed Account with `source`; followers' servers get an Update. `avatar` and
    `header` are files (multipart), as apps send them."""
    config = request.app.state.config
    params, files = await read_params_and_files(request, tuple(UPLOADS), config.media.max_image_bytes)
    _changes(params, {})  # refusals of the text fields come before the pictures' work
    prepared = await _pictures(config, params, files)
    try:
        async with request.app.state.sessions.begin() as session:
            member = await member_in(session, holder)
            urls = {field: await _added(session, config, member, item) for field, item in prepared.items()}
            actor = await update_profile(session, config, member, _changes(params, urls))
            body = credential_account(actor, await profile_counts(session, actor), config)
    except MemberError as exc:  # names the field: "display name: expected a non-empty name"
        raise validation_failed(str(exc)) from None
    return JSONResponse(body)


def _removal(picture: str) -> Callable[[Request], Awaitable[Response]]:
    """`DELETE /api/v1/profile/avatar` or `/header` (Mastodon 4.2): the picture goes (its file
    with `talentfed prune-media`), followers' servers get an Update; the CredentialAccount
    answers, also when there was no picture."""
    removed = ProfileChanges(icon_url="") if picture == "avatar" else ProfileChanges(image_url="")

    @scoped("write:accounts")
    async def endpoint(request: Request, holder: Holder) -> Response:
        config = request.app.state.config
        async with request.app.state.sessions.begin() as session:
            actor = await update_profile(session, config, await member_in(session, holder), removed)
            body = credential_account(actor, await profile_counts(session, actor), config)
        return JSONResponse(body)

    return endpoint


async def _added(session: AsyncSession, config: Config, member: Actor, picture: MediaAttachment) -> str:
    stored = await media.add(session, member, picture)
    return media.local_url(config, stored.file_name or "")


@scoped("read:accounts")
async def featured_tags(request: Request, holder: Holder) -> Response:
    """The member's skills as FeaturedTag entities; a skill's name is its id."""
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        actor = await member_in(session, holder)
        skills = list(actor.skills or [])
    return JSONResponse([_featured(skill, config) for skill in skills])


@scoped("write:accounts")
async def feature_tag(request: Request, holder: Holder) -> Response:
    """POST /api/v1/featured_tags: `name` becomes one of the member's skills (followers get an
    Update); 422 for no name, one over the limits, one already featured, or too many."""
    name = text_param(await read_params(request), "name")  # ParamsError: the app's 422
    if name is None:
        raise validation_failed("name: can't be blank")
    config = request.app.state.config
    try:
        async with request.app.state.sessions.begin() as session:
            skill = await add_skill(session, config, await member_in(session, holder), name)
    except MemberError as exc:
        raise validation_failed(str(exc)) from None
    return JSONResponse(_featured(skill, config))


@scoped("write:accounts")
async def unfeature_tag(request: Request, holder: Holder) -> Response:
    """DELETE /api/v1/featured_tags/:id: the skill is removed; 404 if the member has none such."""
    config = request.app.state.config
    async with request.app.state.sessions.begin() as session:
        removed = await remove_skill(
            session, config, await member_in(session, holder), request.path_params["id"]
        )
    if not removed:
        raise MastodonError(404, NOT_FOUND)
    return JSONResponse({})


@scoped("read:accounts")
async def suggestions(request: Request, holder: Holder) -> Response:
    """GET /api/v1/featured_tags/suggestions: tags of the member's latest posts not featured yet."""
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        names = await recent_tags(session, await member_in(session, holder))
    return JSONResponse([hashtag(name, config) for name in names])


async def account_featured_tags(request: Request) -> Response:
    """GET /api/v1/accounts/:id/featured_tags: anyone may read an account's skills."""
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        actor = await visible_account(session, config, await session.get(Actor, account_id(request)))
        skills = list(actor.skills or [])
    return JSONResponse([_featured(skill, config) for skill in skills])


def _featured(skill: str, config: Config) -> dict[str, object]:
    shown = tag(skill, config)
    return {"id": shown["name"], **shown, "statuses_count": 0, "last_status_at": None}


routes = [
    Route("/api/v1/accounts/update_credentials", update_credentials, methods=["PATCH"]),
    Route("/api/v1/profile/avatar", _removal("avatar"), methods=["DELETE"]),
    Route("/api/v1/profile/header", _removal("header"), methods=["DELETE"]),
    Route("/api/v1/accounts/{id}/featured_tags", account_featured_tags),
    Route("/api/v1/featured_tags", featured_tags),
    Route("/api/v1/featured_tags", feature_tag, methods=["POST"]),
    Route("/api/v1/featured_tags/suggestions", suggestions),
    Route("/api/v1/featured_tags/{id}", unfeature_tag, methods=["DELETE"]),
]
