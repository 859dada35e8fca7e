"""Posts served at their ids: JSON for servers, HTML for people, 410 once deleted."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain import posts
from talentfed.domain.members import find_local_actor
from talentfed.domain.posts import Draft
from talentfed.storage.db import session_factory

AS_JSON = {"Accept": "application/activity+json"}
BASE = "http://127.0.0.1:8000"


async def test_project_call_as_json_and_html(demo_client: httpx.AsyncClient) -> None:
    document = (await demo_client.get("/objects/demo-project", headers=AS_JSON)).json()
    assert document["id"] == f"{BASE}/objects/demo-project"
    assert document["postKind"] == "projectCall" and document["projectStatus"] == "open"
    assert document["skills"] == ["speech recognition", "swahili", "data engineering"]
    assert document["attributedTo"] == f"{BASE}/users/ada"
    html = await demo_client.get("/objects/demo-project")
    assert html.headers["content-type"].startswith("text/html")
    assert "Collaborators wanted: speech corpus for Swahili" in html.text
    assert f'href="{BASE}/objects/demo-project"' in html.text  # rel=alternate


async def test_question_lists_its_answers(demo_client: httpx.AsyncClient) -> None:
    question = (await demo_client.get("/objects/demo-question", headers=AS_JSON)).json()
    assert question["type"] == "Note" and question["postKind"] == "question"
    assert "<strong>How do you evaluate a multilingual model fairly?</strong>" in question["content"]
    replies = (await demo_client.get(question["replies"], headers=AS_JSON)).json()
    assert replies["totalItems"] == 1 and replies["orderedItems"] == [f"{BASE}/objects/demo-answer"]
    answer = (await demo_client.get("/objects/demo-answer", headers=AS_JSON)).json()
    assert answer["inReplyTo"] == question["id"] and answer["context"] == question["id"]
    page = await demo_client.get("/objects/demo-question")
    assert "Report the worst language" in page.text


async def test_deleted_post_is_gone(
    demo_client: httpx.AsyncClient, config: Config, engine: AsyncEngine
) -> None:
    async with session_factory(engine)() as session, session.begin():
        ada = await find_local_actor(session, "ada")
        article = await posts.find_object(session, f"{BASE}/objects/demo-article")
        await posts.delete(session, config, ada, article)
    gone = await demo_client.get("/objects/demo-article", headers=AS_JSON)
    assert gone.status_code == 410
    assert gone.json()["type"] == "Tombstone" and gone.json()["formerType"] == "as:Article"
    assert (await demo_client.get("/objects/demo-article")).status_code == 410
    outbox = (await demo_client.get("/users/ada/outbox", headers=AS_JSON)).json()
    assert outbox["totalItems"] == 2  # the deleted article's Create is no longer listed


async def test_pinned_posts_fill_featured(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session, session.begin():
        ada = await find_local_actor(session, "ada")
        project = await posts.find_object(session, f"{BASE}/objects/demo-project")
        await posts.set_pinned(session, ada, project, True)
    featured = (await demo_client.get("/users/ada/collections/featured", headers=AS_JSON)).json()
    assert featured["totalItems"] == 1 and featured["orderedItems"] == [f"{BASE}/objects/demo-project"]


async def test_followers_only_post_is_not_public(
    demo_client: httpx.AsyncClient, config: Config, engine: AsyncEngine
) -> None:
    async with session_factory(engine)() as session, session.begin():
        grace = await find_local_actor(session, "grace")
        post = await posts.publish(
            session, config, grace, Draft(kind="note", body="for followers", visibility="followers")
        )
    response = await demo_client.get(post.uri.removeprefix(BASE), headers=AS_JSON)
    assert response.status_code == 404


async def test_unknown_object_is_404(demo_client: httpx.AsyncClient) -> None:
    assert (await demo_client.get("/objects/nope", headers=AS_JSON)).status_code == 404
    assert (await demo_client.get("/objects/nope")).status_code == 404


async def test_public_activities_can_be_dereferenced_by_their_id(
    demo_client: httpx.AsyncClient, config: Config, engine: AsyncEngine
) -> None:
    from sqlalchemy import select

    from talentfed.storage.models import Activity

    async with session_factory(engine)() as session, session.begin():
        create = await session.scalar(
            select(Activity).where(
                Activity.type == "Create", Activity.object_uri == f"{BASE}/objects/demo-project"
            )
        )
        grace = await find_local_actor(session, "grace")
        ada = await find_local_actor(session, "ada")
        private = Activity(
            uri=f"{BASE}/activities/private",
            type="Like",
            actor_uri=ada.uri,
            local=True,
            object_uri=f"{BASE}/objects/demo-question",
            document={"id": f"{BASE}/activities/private", "type": "Like", "to": [grace.uri]},
        )
        session.add(private)
    path = create.uri.removeprefix(BASE)
    document = (await demo_client.get(path, headers=AS_JSON)).json()
    assert document["id"] == create.uri and document["type"] == "Create"
    assert document["object"]["id"] == f"{BASE}/objects/demo-project"
    browser = await demo_client.get(path)
    assert browser.status_code == 303 and browser.headers["location"] == f"{BASE}/objects/demo-project"
    assert (await demo_client.get("/activities/private", headers=AS_JSON)).status_code == 404
    assert (await demo_client.get("/activities/nothing-here", headers=AS_JSON)).status_code == 404
    async with session_factory(engine)() as session, session.begin():
        project = await posts.find_object(session, f"{BASE}/objects/demo-project")
        await posts.delete(session, config, await find_local_actor(session, "ada"), project)
    assert (await demo_client.get(path, headers=AS_JSON)).status_code == 410
