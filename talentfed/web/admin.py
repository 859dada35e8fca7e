"""The admin's page: members, invitations, the institution's profile, domain blocks and allows
(with Mastodon's CSV import and export)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from talentfed.config import Config
from talentfed.domain import block_lists, invitations, moderation, reports
from talentfed.domain.accounts import AccountError
from talentfed.domain.members import (
    MemberError,
    ProfileChanges,
    find_local_actor,
    list_members,
    update_profile,
)
from talentfed.domain.moderation import BlockTerms
from talentfed.federation.blocks import SEVERITIES
from talentfed.storage.models import User
from talentfed.web.accounts import admins_only
from talentfed.web.sessions import form_id, read_form
from talentfed.web.templating import Viewer, render


async def _admin_page(request: Request, *, errors=None, values=None, new_link: str = "") -> Response:
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        context = {
            "members": await list_members(session),
            "invitations": await invitations.pending_invitations(session),
            "blocks": await moderation.list_blocks(session, config),
            "open_reports": await reports.count_open(session),
            "severities": SEVERITIES,
            "allowlist": config.federation.mode == "allowlist",
            "allows": await moderation.list_allows(session, config),
            "institution": await find_local_actor(session, config.node.institution_username),
            "errors": errors or {},
            "values": values or {},
            "new_link": new_link,
        }
    return await render(request, "admin.html", context, status_code=400 if errors else 200)


@admins_only
async def admin_page(request: Request, me: Viewer) -> Response:
    return await _admin_page(request)


@admins_only
async def invite(request: Request, me: Viewer) -> Response:
    form = await read_form(request)
    role, note = str(form.get("role", "member")), str(form.get("note", ""))[:300]
    try:
        async with request.app.state.sessions.begin() as session:
            token = await invitations.create_invitation(
                session, request.app.state.config, created_by=me.actor, role=role, note=note
            )
    except AccountError as exc:
        return await _admin_page(request, errors={exc.field: exc.message}, values={"note": note})
    link = f"{request.app.state.config.node.base_url}/join?invitation={token}"
    return await _admin_page(request, new_link=link)


@admins_only
async def revoke(request: Request, me: Viewer) -> Response:
    form = await read_form(request)
    invitation_id = form_id(form, "invitation")
    async with request.app.state.sessions.begin() as session:
        revoked = invitation_id is not None and await invitations.revoke_invitation(session, invitation_id)
    if not revoked:
        return await _admin_page(
            request, errors={"invitations": "That invitation is used or no longer exists."}
        )
    request.session["flash"] = "Invitation revoked."
    return RedirectResponse("/admin", status_code=303)


@admins_only
async def member_state(request: Request, me: Viewer) -> Response:
    """Disable or re-enable a member's sign-in (their profile and posts stay)."""
    form = await read_form(request)
    user_id = form_id(form, "user")
    async with request.app.state.sessions.begin() as session:
        user = await session.get(User, user_id) if user_id else None
        if user is None or user.id == me.user.id:
            return await _admin_page(request, errors={"members": "You cannot change that account here."})
        user.disabled = form.get("disabled") == "on"
    request.session["flash"] = f"{user.username} can {'no longer' if user.disabled else 'again'} sign in."
    return RedirectResponse("/admin", status_code=303)


@admins_only
async def institution_profile(request: Request, me: Viewer) -> Response:
    form = await read_form(request)
    values = {name: str(form.get(name, ""))[:20_000] for name in ("display_name", "bio", "icon_url")}
    config = request.app.state.config
    try:
        async with request.app.state.sessions.begin() as session:
            institution = await find_local_actor(session, config.node.institution_username)
            if institution is None:  # the admin page shows no form then: a stale or forged POST
                raise MemberError("display name: this node has no institution actor yet")
            changes = ProfileChanges(
                display_name=values["display_name"], bio=values["bio"], icon_url=values["icon_url"].strip()
            )
            await update_profile(session, config, institution, changes)
    except MemberError as exc:
        field, _, text = str(exc).partition(": ")
        name = {"display name": "display_name", "avatar": "icon_url"}.get(field, "display_name")
        return await _admin_page(request, errors={name: text}, values=values)
    request.session["flash"] = "The institution's profile is saved; followers' servers get the update."
    return RedirectResponse("/admin", status_code=303)


def _block_terms(form: FormData) -> BlockTerms:
    return BlockTerms(
        severity=str(form.get("severity", "suspend")),
        reject_media=form.get("reject_media") == "on",
        reject_reports=form.get("reject_reports") == "on",
        obfuscate=form.get("obfuscate") == "on",
        public_comment=str(form.get("public_comment", ""))[: moderation.MAX_COMMENT + 1],
        private_comment=str(form.get("private_comment", ""))[: moderation.MAX_COMMENT + 1],
    )


async def _moderate(
    request: Request,
    change: Callable[[AsyncSession, Config], Awaitable[str]],
    values: dict[str, str],
    field: str | None = None,
) -> Response:
    """Run one moderation change; its refusal shows on the admin page next to `field` (or the
    field it names), else the flash it returns does."""
    try:
        async with request.app.state.sessions.begin() as session:
            flash = await change(session, request.app.state.config)
    except moderation.ModerationError as exc:
        return await _admin_page(request, errors={field or exc.field: exc.message}, values=values)
    request.app.state.federation.policies.forget()  # this process applies the change at once
    request.session["flash"] = flash
    return RedirectResponse("/admin", status_code=303)


@admins_only
async def blocks(request: Request, me: Viewer) -> Response:
    """Block a domain, change the terms of its block, or lift it."""
    form = await read_form(request)
    domain = str(form.get("domain", ""))[:300]
    terms = _block_terms(form)
    values = {"domain": domain, **{k: str(v) for k, v in dataclasses.asdict(terms).items()}}

    async def change(session: AsyncSession, config: Config) -> str:
        if form.get("action") == "unblock":
            await moderation.unblock_domain(session, config, domain, moderator=me.user)
            return f"{domain} is no longer blocked."
        saved = await moderation.save_block(session, config, domain, terms, moderator=me.user)
        purge = " What it left here is purged within a minute." if terms.severity == "suspend" else ""
        return f"{saved} is blocked ({terms.severity}).{purge}"

    return await _moderate(request, change, values)


@admins_only
async def allows(request: Request, me: Viewer) -> Response:
    """Allow a domain to federate in allow-list mode, or take the allow back."""
    form = await read_form(request)
    domain = str(form.get("allow_domain", ""))[:300]

    async def change(session: AsyncSession, config: Config) -> str:
        if form.get("action") == "disallow":
            await moderation.disallow_domain(session, config, domain, moderator=me.user)
            return f"{domain} is no longer allowed."
        return f"{await moderation.allow_domain(session, config, domain, moderator=me.user)} is allowed."

    return await _moderate(request, change, {"allow_domain": domain}, field="allow_domain")


@admins_only
async def export_blocks(request: Request, me: Viewer) -> Response:
    """The blocks as Mastodon's CSV, to download."""
    async with request.app.state.sessions() as session:
        text = await block_lists.export_csv(session, request.app.state.config)
    disposition = 'attachment; filename="domain_blocks.csv"'
    return Response(text, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition})


@admins_only
async def import_blocks(request: Request, me: Viewer) -> Response:
    """Blocks from an uploaded Mastodon CSV: all of them, or none when a line is wrong."""
    form = await read_form(request, max_files=1)
    upload = form.get("file")
    config = request.app.state.config
    try:
        if not isinstance(upload, UploadFile):
            raise block_lists.BlockListError("file", "choose a CSV file exported by Mastodon or talentfed")
        data = await upload.read(block_lists.MAX_BYTES + 1)
        found = block_lists.read_csv(config, data, source=upload.filename or "an upload")
        async with request.app.state.sessions.begin() as session:
            result = await block_lists.import_blocks(session, config, found, moderator=me.user)
    except moderation.ModerationError as exc:
        return await _admin_page(request, errors={"import": str(exc)})
    request.app.state.federation.policies.forget()
    request.session["flash"] = (
        f"{len(result.added)} blocks imported; {len(result.kept)} domains were blocked already."
    )
    return RedirectResponse("/admin", status_code=303)


routes = [
    Route("/admin", admin_page),
    Route("/admin/invitations", invite, methods=["POST"]),
    Route("/admin/invitations/revoke", revoke, methods=["POST"]),
    Route("/admin/members", member_state, methods=["POST"]),
    Route("/admin/institution", institution_profile, methods=["POST"]),
    Route("/admin/blocks", blocks, methods=["POST"]),
    Route("/admin/blocks.csv", export_blocks),
    Route("/admin/blocks/import", import_blocks, methods=["POST"]),
    Route("/admin/allows", allows, methods=["POST"]),
]
