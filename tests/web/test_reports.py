"""Reports: members file them (the web form, the client API), a report about another server's
account can be forwarded there as a Flag from the institution, and moderators work the queue:
notes, removing a post, blocking a server, resolving; every action is in the moderation log."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain.members import find_local_actor
from talentfed.storage.db import session_factory
from talentfed.storage.models import (
    Activity,
    Actor,
    DeliveryJob,
    DomainBlock,
    ModerationLogEntry,
    Object,
    Report,
)
from tests.support.factories import post_row, remote_actor
from tests.web.mastodon.test_oauth import bearer, member_token, register
from tests.web.test_pages import form_post, sign_in

REPORTS = "/api/v1/reports"


async def _rows(engine: AsyncEngine, model: type) -> list:
    async with session_factory(engine)() as session:
        return list(await session.scalars(select(model).order_by(model.id)))


async def _demo_post(engine: AsyncEngine, username: str) -> Object:
    async with session_factory(engine)() as session:
        author = await find_local_actor(session, username)
        return (await session.scalars(select(Object).where(Object.author_id == author.id).limit(1))).one()


async def _remote_with_post(engine: AsyncEngine) -> tuple[Actor, Object]:
    async with session_factory(engine)() as session, session.begin():
        troll = remote_actor("troll", "social.example", shared=False)
        session.add(troll)
        await session.flush()
        post = post_row(troll, "bad-post", visibility="public")
        session.add(post)
        await session.flush()
        return troll, post


async def _ada_token(client: httpx.AsyncClient, scope: str = "read write") -> dict[str, str]:
    app = await register(client)
    return bearer(str((await member_token(client, app, scope=scope))["access_token"]))


async def test_a_member_reports_a_post_and_the_moderators_work_the_report(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    reported = await _demo_post(engine, "grace")  # reported by alan
    await sign_in(demo_client, "alan")
    form = await demo_client.get(f"/report?post={reported.id}")
    assert form.status_code == 200 and "Report @grace@" in form.text
    filed = await form_post(
        demo_client,
        f"/report?post={reported.id}",
        "/report",
        {"account": str(reported.author_id), "post": str(reported.id), "category": "spam", "comment": "Ads"},
    )
    assert filed.status_code == 303
    [report] = await _rows(engine, Report)
    assert (report.post_ids, report.comment, report.category, report.forwarded) == (
        [reported.id],
        "Ads",
        "spam",
        False,
    )

    # alan is no moderator
    assert (await demo_client.get("/admin/reports")).status_code == 403
    demo_client.cookies.clear()
    await sign_in(demo_client, "ada")
    queue = await demo_client.get("/admin/reports")
    assert f'href="/admin/reports/{report.id}"' in queue.text and "Ads" in queue.text
    page = f"/admin/reports/{report.id}"
    noted = await form_post(demo_client, page, page, {"action": "note", "note": "Looks like spam to me"})
    assert noted.status_code == 303
    assert "Looks like spam to me" in (await demo_client.get(page)).text
    removed = await form_post(demo_client, page, page, {"action": "remove_post", "post": str(reported.id)})
    assert removed.status_code == 303
    async with session_factory(engine)() as session:
        assert (await session.get(Object, reported.id)).deleted_at is not None
        # ours: the Delete goes to the author's followers' servers like any deletion
        assert await session.scalar(select(func.count()).where(Activity.type == "Delete")) >= 1
    resolved = await form_post(demo_client, page, page, {"action": "resolve"})
    assert resolved.status_code == 303
    assert "No open reports." in (await demo_client.get("/admin/reports")).text
    assert f"#{report.id}" in (await demo_client.get("/admin/reports?resolved=1")).text
    log = [(e.moderator_name, e.action, e.subject) for e in await _rows(engine, ModerationLogEntry)]
    assert log == [
        ("ada", "note_report", f"report {report.id}"),
        ("ada", "remove_post", reported.uri),
        ("ada", "resolve_report", f"report {report.id}"),
    ]
    assert "remove post" in (await demo_client.get("/admin/log")).text


async def test_refused_actions_say_why(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    reported = await _demo_post(engine, "grace")
    unrelated = await _demo_post(engine, "ada")  # not part of the report
    await sign_in(demo_client, "ada")
    headers = await _ada_token(demo_client)
    filed = await demo_client.post(REPORTS, data={"account_id": str(reported.author_id)}, headers=headers)
    report_id = filed.json()["id"]
    page = f"/admin/reports/{report_id}"
    not_in_report = await form_post(
        demo_client, page, page, {"action": "remove_post", "post": str(unrelated.id)}
    )
    assert not_in_report.status_code == 400 and "that post is not part of this report" in not_in_report.text
    local = await form_post(demo_client, page, page, {"action": "block_domain"})
    assert local.status_code == 400 and "there is no other server to block" in local.text
    empty_note = await form_post(demo_client, page, page, {"action": "note", "note": "  "})
    assert empty_note.status_code == 400 and "write something" in empty_note.text
    unknown = await form_post(demo_client, page, page, {"action": "explode"})
    assert unknown.status_code == 400
    assert (await demo_client.get("/admin/reports/999999")).status_code == 404
    assert (await demo_client.get(f"/admin/reports/{2**31}")).status_code == 404  # beyond any row id
    assert (await demo_client.get(f"/admin/reports/{10**30}")).status_code == 404
    no_csrf = await demo_client.post(page, data={"action": "resolve"})
    assert no_csrf.status_code in (400, 403)
    assert await _rows(engine, ModerationLogEntry) == []  # nothing was done


async def test_a_report_about_another_server_is_forwarded_as_a_flag_from_the_institution(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    troll, bad_post = await _remote_with_post(engine)
    headers = await _ada_token(demo_client)
    answer = await demo_client.post(
        REPORTS,
        json={
            "account_id": str(troll.id),
            "status_ids": [str(bad_post.id)],
            "comment": "Harassing our members",
            "forward": True,
            "rule_ids": ["1"],
        },
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    entity = answer.json()
    assert entity["category"] == "violation" and entity["rule_ids"] == ["1"]
    assert entity["status_ids"] == [str(bad_post.id)] and entity["forwarded"] is True
    assert entity["action_taken"] is False and entity["target_account"]["acct"] == "troll@social.example"
    [job] = await _rows(engine, DeliveryJob)
    assert job.inbox_url == troll.inbox_url  # the account's own inbox, as Mastodon sends it
    async with session_factory(engine)() as session:
        activity = await session.get(Activity, job.activity_id)
        institution = await find_local_actor(session, config.node.institution_username)
    flag = activity.document
    assert flag["type"] == "Flag" and flag["actor"] == institution.uri  # never the member who reported
    assert flag["object"] == [troll.uri, bad_post.uri] and flag["content"] == "Harassing our members"
    assert "ada" not in str(flag)

    # the moderators may block that server from the report (ada, signed in to approve the app)
    page = f"/admin/reports/{entity['id']}"
    bad = await form_post(
        demo_client, page, page, {"action": "block_domain", "severity": "banish", "reason": "trolls"}
    )
    assert bad.status_code == 400 and "one of" in bad.text
    silenced = await form_post(
        demo_client, page, page, {"action": "block_domain", "severity": "silence", "reason": "trolls"}
    )
    assert silenced.status_code == 303
    assert [(b.domain, b.severity) for b in await _rows(engine, DomainBlock)] == [
        ("social.example", "silence")
    ]
    suspended = await form_post(
        demo_client, page, page, {"action": "block_domain", "severity": "suspend", "reason": "worse"}
    )
    assert suspended.status_code == 303
    assert [(b.domain, b.severity) for b in await _rows(engine, DomainBlock)] == [
        ("social.example", "suspend")
    ]
    assert [(e.action, e.subject, e.detail) for e in await _rows(engine, ModerationLogEntry)] == [
        ("block_domain", "social.example", "silence; trolls"),
        ("block_domain", "social.example", "suspend; worse"),
    ]


async def test_a_report_without_forward_stays_here(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    troll, _ = await _remote_with_post(engine)
    headers = await _ada_token(demo_client)
    answer = await demo_client.post(REPORTS, data={"account_id": str(troll.id)}, headers=headers)
    assert answer.status_code == 200 and answer.json()["forwarded"] is False
    assert await _rows(engine, DeliveryJob) == []


@pytest.mark.parametrize(
    ("fields", "status", "reason"),
    [
        ({}, 422, "account_id: the account to report is required"),
        ({"account_id": "abc"}, 404, "Record not found"),
        ({"account_id": str(2**31)}, 404, "Record not found"),
        ({"account_id": "TARGET", "comment": "x" * 1001}, 422, "comment: at most 1000 characters"),
        (
            {"account_id": "TARGET", "category": "boring"},
            422,
            "category: one of spam, legal, violation, other",
        ),
        ({"account_id": "TARGET", "rule_ids[]": "99"}, 422, "rule_ids: each must be the id of one of"),
        ({"account_id": "TARGET", "status_ids[]": "OTHER"}, 422, "status_ids: each post must be one of"),
        ({"account_id": "TARGET", "status_ids[]": "x"}, 422, "status_ids: each must be the id of a status"),
        ({"account_id": "SELF"}, 422, "account_id: you cannot report yourself"),
    ],
)
async def test_bad_reports_are_refused_with_the_field(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, fields: dict[str, str], status: int, reason: str
) -> None:
    reported, unrelated = await _demo_post(engine, "grace"), await _demo_post(engine, "ada")
    async with session_factory(engine)() as session:
        ada = await find_local_actor(session, "ada")
    names = {"TARGET": str(reported.author_id), "OTHER": str(unrelated.id), "SELF": str(ada.id)}
    data = {key: names.get(value, value) for key, value in fields.items()}
    answer = await demo_client.post(REPORTS, data=data, headers=await _ada_token(demo_client))
    assert answer.status_code == status, answer.text
    assert reason in answer.json()["error"]
    assert await _rows(engine, Report) == []


async def test_reporting_needs_the_write_reports_scope(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    reported = await _demo_post(engine, "grace")
    read_only = await demo_client.post(
        REPORTS, data={"account_id": str(reported.author_id)}, headers=await _ada_token(demo_client, "read")
    )
    assert read_only.status_code == 403
    anonymous = await demo_client.post(REPORTS, data={"account_id": str(reported.author_id)})
    assert anonymous.status_code == 401


async def test_the_report_form_refuses_oneself_and_what_cannot_be_seen(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await sign_in(demo_client, "alan")
    async with session_factory(engine)() as session:
        alan = await find_local_actor(session, "alan")
    assert (await demo_client.get(f"/report?account={alan.id}")).status_code == 404
    assert (await demo_client.get("/report?account=99999999999")).status_code == 404
    reported = await _demo_post(engine, "grace")
    too_long = await form_post(
        demo_client,
        f"/report?account={reported.author_id}",
        "/report",
        {"account": str(reported.author_id), "comment": "x" * 1001},
    )
    assert too_long.status_code == 400 and "at most 1000 characters" in too_long.text
    assert re.search(r"<textarea[^>]*>x{1001}</textarea>", too_long.text)  # what was typed is kept
    assert await _rows(engine, Report) == []
