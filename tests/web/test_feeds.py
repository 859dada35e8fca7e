"""Atom and RSS feeds parse as XML and carry the public posts, with skills as categories."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain import posts
from talentfed.domain.members import find_local_actor
from talentfed.domain.posts import Draft
from talentfed.storage.db import session_factory

ATOM = "{http://www.w3.org/2005/Atom}"


async def test_member_atom_and_rss(
    demo_client: httpx.AsyncClient, config: Config, engine: AsyncEngine
) -> None:
    async with session_factory(engine)() as session, session.begin():
        ada = await find_local_actor(session, "ada")
        await posts.publish(
            session, config, ada, Draft(kind="note", body='Hidden "quote" & <b>', visibility="followers")
        )
    atom = await demo_client.get("/users/ada/feed.atom")
    assert atom.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(atom.content)
    titles = [entry.find(f"{ATOM}title").text for entry in feed.iter(f"{ATOM}entry")]
    assert "Speech recognition for languages with little data" in titles
    assert "Project call: Collaborators wanted: speech corpus for Swahili" in titles
    assert all("Hidden" not in (title or "") for title in titles)  # followers-only stays out
    terms = {c.get("term") for c in feed.iter(f"{ATOM}category")}
    assert {"speech recognition", "swahili"} <= terms
    rss = ET.fromstring((await demo_client.get("/users/ada/feed.rss")).content)
    assert len(rss.findall("./channel/item")) == len(titles)


async def test_institution_project_feed(demo_client: httpx.AsyncClient) -> None:
    feed = ET.fromstring((await demo_client.get("/projects.atom")).content)
    links = [e.find(f"{ATOM}link").get("href") for e in feed.iter(f"{ATOM}entry")]
    assert links == ["http://127.0.0.1:8000/objects/demo-project"]
    assert (
        ET.fromstring((await demo_client.get("/projects.rss")).content).find("./channel/item/guid")
        is not None
    )


async def test_unknown_feeds_are_404(demo_client: httpx.AsyncClient) -> None:
    assert (await demo_client.get("/users/nobody/feed.atom")).status_code == 404
    assert (await demo_client.get("/users/ada/feed.json")).status_code == 404
    assert (await demo_client.get("/projects.xml")).status_code == 404
