"""Media attachments through the client API (docs.joinmastodon.org, methods/media): upload a
picture, then read or change it until a status attaches it. Every rule is domain/media.py's;
pictures are processed before the answer, so v2 answers 200 with the URL, never 202."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.domain import media
from talentfed.domain.media import MediaChanges, MediaError
from talentfed.storage.models import MediaAttachment
from talentfed.web.mastodon.auth import Holder, member_in, scoped
from talentfed.web.mastodon.entities import media_attachment
from talentfed.web.mastodon.errors import NOT_FOUND, MastodonError, validation_failed
from talentfed.web.mastodon.params import Params, read_params, read_params_and_files, text_param

# Only `file`: Mastodon's `thumbnail` is the preview of a video or audio file, which we refuse.
FILE_FIELDS = ("file",)


def _changes(params: Params) -> MediaChanges:
    description = params.get("description")
    return MediaChanges(
        description=text_param(params, "description") or "" if description is not None else None,
        focus=text_param(params, "focus"),
    )


@scoped("write:media")
async def upload(request: Request, holder: Holder) -> Response:
    """POST /api/v1/media and /api/v2/media: `file`, `description`, `focus`."""
    config = request.app.state.config
    params, files = await read_params_and_files(request, FILE_FIELDS, config.media.max_image_bytes)
    if not files.get("file"):
        raise validation_failed("file: can't be blank")
    try:
        prepared = await media.prepare(config, files["file"], changes=_changes(params))
    except MediaError as exc:
        raise validation_failed(exc) from None
    async with request.app.state.sessions.begin() as session:
        stored = await media.add(session, await member_in(session, holder), prepared)
        return JSONResponse(media_attachment(stored, config))


async def _own_upload(request: Request, holder: Holder, session: AsyncSession) -> MediaAttachment:
    """The path's upload if it is the member's and no status has it yet; else Mastodon's 404."""
    raw = request.path_params["id"]
    found = None
    if raw.isdigit() and len(raw) <= 18:
        found = await media.find_upload(session, await member_in(session, holder), int(raw))
    if found is None:
        raise MastodonError(404, NOT_FOUND)
    return found


@scoped("write:media")
async def show(request: Request, holder: Holder) -> Response:
    async with request.app.state.sessions() as session:
        found = await _own_upload(request, holder, session)
        return JSONResponse(media_attachment(found, request.app.state.config))


@scoped("write:media")
async def update(request: Request, holder: Holder) -> Response:
    """PUT /api/v1/media/:id: `description`, `focus` (form or JSON)."""
    changes = _changes(await read_params(request))
    async with request.app.state.sessions.begin() as session:
        found = await _own_upload(request, holder, session)
        try:
            await media.change(session, found, changes)
        except MediaError as exc:
            raise validation_failed(exc) from None
        return JSONResponse(media_attachment(found, request.app.state.config))


routes = [
    Route("/api/v1/media", upload, methods=["POST"]),
    Route("/api/v2/media", upload, methods=["POST"]),
    Route("/api/v1/media/{id}", show, methods=["GET"]),
    Route("/api/v1/media/{id}", update, methods=["PUT"]),
]
