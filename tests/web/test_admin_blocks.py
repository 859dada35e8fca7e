"""The admin page's domain moderation: blocks with severities and comments (add, edit, remove),
allows, CSV download and upload; CSRF and bad input refused with a reason; the about page lists
public comments only when the admin publishes them. On both back-ends."""

from __future__ import annotations

import dataclasses
import re

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain.demo import ensure_demo
from talentfed.storage.db import session_factory
from talentfed.storage.models import DomainAllow, DomainBlock
from talentfed.web.app import create_app
from tests.web.test_pages import csrf_of, field_error, form_post, sign_in

HEADER = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"


async def _blocks(engine: AsyncEngine) -> dict[str, DomainBlock]:
    async with session_factory(engine)() as session:
        return {b.domain: b for b in await session.scalars(select(DomainBlock))}


async def test_an_admin_adds_edits_and_removes_a_block_with_severity_and_comments(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await sign_in(demo_client, "ada")
    fields = {
        "domain": "quiet.example",
        "severity": "silence",
        "reject_media": "on",
        "public_comment": "Harassment",
        "private_comment": "reports 3, 5",
    }
    saved = await form_post(demo_client, "/admin", "/admin/blocks", fields)
    assert saved.status_code == 303
    page = re.sub(r">\s+<", "><", (await demo_client.get("/admin")).text)
    assert "<strong>quiet.example</strong></td><td>silence</td><td>reject media</td>" in page
    assert "<td>Harassment</td><td>reports 3, 5</td>" in page
    block = (await _blocks(engine))["quiet.example"]
    assert (block.severity, block.reject_media, block.obfuscate) == ("silence", True, False)

    edited = await form_post(
        demo_client, "/admin", "/admin/blocks", {"domain": "quiet.example", "severity": "suspend"}
    )
    assert edited.status_code == 303 and "purged within a minute" in (await demo_client.get("/admin")).text
    block = (await _blocks(engine))["quiet.example"]
    assert (block.severity, block.reject_media, block.public_comment) == ("suspend", False, None)

    await form_post(demo_client, "/admin", "/admin/blocks", {"domain": "quiet.example", "action": "unblock"})
    assert await _blocks(engine) == {}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"domain": "a.example", "severity": "obliterate"}, "severity", "one of noop, silence, suspend"),
        ({"domain": "a.example", "public_comment": "x" * 1001}, "public_comment", "at most 1000 characters"),
        (
            {"domain": "a.example", "private_comment": "x" * 5000},
            "private_comment",
            "at most 1000 characters",
        ),
        ({"domain": "not a domain!"}, "domain", "expected a domain name"),
        ({"domain": "nobody.example", "action": "unblock"}, "domain", "nobody.example is not blocked"),
    ],
)
async def test_bad_block_input_is_a_400_naming_the_field(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, fields: dict, field: str, message: str
) -> None:
    await sign_in(demo_client, "ada")
    refused = await form_post(demo_client, "/admin", "/admin/blocks", fields)
    assert refused.status_code == 400 and message in field_error(refused.text, field)
    assert await _blocks(engine) == {}


async def test_forms_without_the_csrf_token_are_403(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await sign_in(demo_client, "ada")
    for url, data in (
        ("/admin/blocks", {"domain": "a.example"}),
        ("/admin/allows", {"allow_domain": "a.example"}),
    ):
        assert (await demo_client.post(url, data=data)).status_code == 403
        forged = await demo_client.post(url, data={**data, "csrf_token": "forged"})
        assert forged.status_code == 403
    upload = await demo_client.post(
        "/admin/blocks/import", files={"file": ("b.csv", HEADER + "a.example,suspend,,,,\n")}
    )
    assert upload.status_code == 403
    assert await _blocks(engine) == {}


async def test_a_member_who_is_not_an_admin_is_403(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await sign_in(demo_client, "grace")
    assert (await demo_client.get("/admin/blocks.csv")).status_code == 403
    refused = await form_post(demo_client, "/", "/admin/allows", {"allow_domain": "a.example"})
    assert refused.status_code == 403
    assert await _blocks(engine) == {}


async def test_csv_download_and_upload(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    await sign_in(demo_client, "ada")
    await form_post(
        demo_client, "/admin", "/admin/blocks", {"domain": "spam.example", "public_comment": "Spam"}
    )
    download = await demo_client.get("/admin/blocks.csv")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    assert download.text == HEADER + "spam.example,suspend,false,false,Spam,false\n"

    async def upload(text: str) -> httpx.Response:
        token = csrf_of((await demo_client.get("/admin")).text)
        return await demo_client.post(
            "/admin/blocks/import", data={"csrf_token": token}, files={"file": ("mine.csv", text.encode())}
        )

    bad = await upload(HEADER + "new.example,silence,,,,\nworse.example,suspend,perhaps,,,\n")
    assert bad.status_code == 400
    assert (
        field_error(bad.text, "import")
        == "line 3, column #reject_media: expected true or false, got 'perhaps'"
    )
    assert set(await _blocks(engine)) == {"spam.example"}  # nothing half-imported

    good = await upload(HEADER + "new.example,silence,true,false,Noise,false\nspam.example,noop,,,,\n")
    assert good.status_code == 303
    assert "1 blocks imported; 1 domains were blocked already." in (await demo_client.get("/admin")).text
    stored = await _blocks(engine)
    assert (
        stored["new.example"].severity == "silence"
        and stored["new.example"].private_comment == "imported from mine.csv"
    )
    assert stored["spam.example"].severity == "suspend"

    token = csrf_of((await demo_client.get("/admin")).text)
    no_file = await demo_client.post("/admin/blocks/import", data={"csrf_token": token})
    assert no_file.status_code == 400 and "file: choose a CSV file" in field_error(no_file.text, "import")


async def test_allows_are_added_and_removed(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    await sign_in(demo_client, "ada")
    assert "Read only in allow-list mode" in (await demo_client.get("/admin")).text
    added = await form_post(
        demo_client, "/admin", "/admin/allows", {"allow_domain": "https://Partner.Example/"}
    )
    assert added.status_code == 303
    assert "<strong>partner.example</strong>" in (await demo_client.get("/admin")).text
    bad = await form_post(demo_client, "/admin", "/admin/allows", {"allow_domain": "no such thing"})
    assert bad.status_code == 400 and field_error(bad.text, "allow_domain").startswith(
        "expected a domain name"
    )
    missing = await form_post(
        demo_client, "/admin", "/admin/allows", {"allow_domain": "x.example", "action": "disallow"}
    )
    assert (
        missing.status_code == 400 and field_error(missing.text, "allow_domain") == "x.example is not allowed"
    )
    await form_post(
        demo_client, "/admin", "/admin/allows", {"allow_domain": "partner.example", "action": "disallow"}
    )
    async with session_factory(engine)() as session:
        assert list(await session.scalars(select(DomainAllow.domain))) == []


async def _client(config: Config, engine: AsyncEngine):
    app = create_app(config, engine=engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=config.node.base_url) as client:
            yield client


async def test_the_about_page_lists_public_comments_only_when_published(
    config: Config, engine: AsyncEngine
) -> None:
    async with session_factory(engine)() as session, session.begin():
        await ensure_demo(session, config)
        session.add_all(
            [
                DomainBlock(
                    domain="spam.example", public_comment="Spam waves", private_comment="secret note"
                ),
                DomainBlock(
                    domain="harassment.example", severity="silence", obfuscate=True, public_comment="Abuse"
                ),
                DomainBlock(domain="harmless.example", severity="noop"),
            ]
        )
    async for client in _client(config, engine):
        page = (await client.get("/about")).text
        assert "Moderated servers" not in page and "spam.example" not in page
    published = dataclasses.replace(config, node=dataclasses.replace(config.node, publish_domain_blocks=True))
    async for client in _client(published, engine):
        page = re.sub(r">\s+<", "><", (await client.get("/about")).text)
        assert "<td>spam.example</td><td>Suspended</td><td>Spam waves</td>" in page
        # Mastodon's obfuscation: a quarter of the name kept at each end, the dots kept.
        assert "<td>haras*****.***mple</td><td>Limited</td><td>Abuse</td>" in page
        assert "harassment.example" not in page and "harmless.example" not in page
        assert "secret note" not in page
