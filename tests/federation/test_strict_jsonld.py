"""Every document the node emits, read as a strict JSON-LD processor reads it.

Fedify-based servers (and any jsonld.js or pyld processor with a network loader) load every
context a document names and throw the whole document away when one cannot be loaded. The
processor here knows only the contexts that every such processor ships (ActivityStreams,
security v1, data integrity), taken from the shared fixtures rather than from our package,
and fails on any other context IRI. Each document must expand, every property in it must
have a real IRI (ActivityStreams maps undefined terms to blank nodes, `_:term`), and each
talentfed term must arrive under its full IRI.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pyld import jsonld
from pyld.context_resolver import ContextResolver
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from talentfed.config import Config
from talentfed.domain import follows, posts
from talentfed.domain.demo import ensure_demo
from talentfed.domain.members import ProfileChanges, find_local_actor, update_profile
from talentfed.federation.runtime import Federation
from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, Follow, Object, utcnow
from tests.federation.remote_server import RemoteServer
from tests.fixtures_path import fixture
from tests.support.factories import actor_row

TF = "https://w3id.org/talentfed#"
AS = "https://www.w3.org/ns/activitystreams#"
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
AS_JSON = {"Accept": "application/activity+json"}

# What every fediverse JSON-LD processor ships; nothing else can be loaded.
SHIPPED_CONTEXTS = {
    "https://www.w3.org/ns/activitystreams": "activitystreams.jsonld",
    "https://w3id.org/security/v1": "security-v1.jsonld",
    "https://w3id.org/security/data-integrity/v1": "security-data-integrity-v1.jsonld",
    "https://w3id.org/security/data-integrity/v2": "security-data-integrity-v2.jsonld",
}


class UnloadableContext(Exception):
    pass


def strict_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    filename = SHIPPED_CONTEXTS.get(url)
    if filename is None:
        raise UnloadableContext(f"a strict processor cannot load the context {url}")
    document = json.loads(fixture("contexts", filename).read_text())
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": document,
    }


def strict_expand(document: dict[str, Any]) -> dict[str, Any]:
    """The top node of `document`, expanded strictly; fails the test if it cannot be."""
    options = {"documentLoader": strict_loader, "contextResolver": ContextResolver({}, strict_loader)}
    try:
        [node] = jsonld.expand(document, options)
    except jsonld.JsonLdError as exc:
        pytest.fail(f"{document.get('type')} {document.get('id')} cannot be expanded strictly: {exc}")
    undefined = sorted({name for name in _names(node) if name.startswith("_:")})
    assert not undefined, f"{document.get('id')}: terms without an IRI: {undefined}"
    relative = sorted({iri for iri in _references(node) if ":" not in iri})
    assert not relative, f"{document.get('id')}: relative IRIs, which no receiver can resolve: {relative}"
    return node


def _references(value: Any) -> Iterator[str]:
    """Every @id in an expanded document."""
    if isinstance(value, list):
        for item in value:
            yield from _references(item)
    elif isinstance(value, dict):
        if isinstance(value.get("@id"), str):
            yield value["@id"]
        for item in value.values():
            yield from _references(item)


def _names(value: Any) -> Iterator[str]:
    """Every property and type IRI in an expanded document."""
    if isinstance(value, list):
        for item in value:
            yield from _names(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            if key == "@type":
                yield from (t for t in item if isinstance(t, str)) if isinstance(item, list) else [item]
            else:
                yield from _names(item)


def values(node: dict[str, Any], term: str) -> list[Any]:
    return [item.get("@value", item.get("@id")) for item in node.get(TF + term, [])]


def typed(node: dict[str, Any], term: str) -> list[str | None]:
    return [item.get("@type") for item in node.get(TF + term, [])]


# --- documents served over HTTP -----------------------------------------------------------------


async def get_json(client: httpx.AsyncClient, path: str, status: int = 200) -> dict[str, Any]:
    response = await client.get(path, headers=AS_JSON)
    assert response.status_code == status, f"{path}: {response.status_code} {response.text[:200]}"
    return response.json()


async def test_actors_are_read_strictly_with_every_talentfed_term(
    demo_client: httpx.AsyncClient, config: Config
) -> None:
    base = config.node.base_url
    ada = strict_expand(await get_json(demo_client, "/users/ada"))
    assert ada["@type"] == [AS + "Person"]
    assert values(ada, "skills") == ["machine learning", "speech recognition", "python"]
    assert values(ada, "affiliation") == [f"{base}/users/institution"]
    assert values(ada, "headline") and values(ada, "department")
    assert values(ada, "openToCollaboration") in ([True], [False])
    assert ada["https://w3id.org/security#publicKey"][0]["@id"] == f"{base}/users/ada#main-key"
    assert ada["http://joinmastodon.org/ns#discoverable"] == [{"@value": True}]
    institution = strict_expand(await get_json(demo_client, f"/users/{config.node.institution_username}"))
    assert institution["@type"] == [AS + "Organization"]
    assert TF + "affiliation" not in institution


async def test_each_post_kind_is_read_strictly_with_its_structured_fields(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    async with session_factory(engine)() as session:
        demo = {p.uri.rsplit("/", 1)[1]: p for p in await session.scalars(select(Object))}
    documents = {
        slug: strict_expand(await get_json(demo_client, f"/objects/{slug}"))
        for slug in ("demo-article", "demo-question", "demo-answer", "demo-project")
    }
    assert documents["demo-article"]["@type"] == [AS + "Article"]
    assert {slug: values(node, "postKind") for slug, node in documents.items()} == {
        "demo-article": ["article"],
        "demo-question": ["question"],
        "demo-answer": ["answer"],
        "demo-project": ["projectCall"],
    }
    project = documents["demo-project"]
    assert values(project, "skills") == list(demo["demo-project"].skills)
    assert typed(project, "deadline") == [XSD_DATETIME]
    assert values(project, "deadline")[0].startswith(demo["demo-project"].deadline.strftime("%Y-%m-%dT"))
    assert values(project, "projectStatus") == ["open"]
    assert values(project, "teamSize") == [4]
    assert values(project, "contact") == ["ada"]
    assert values(project, "institution") == [f"{config.node.base_url}/users/institution"]
    assert documents["demo-answer"][AS + "inReplyTo"] == [{"@id": demo["demo-question"].uri}]


async def test_accepted_answers_and_tombstones_are_read_strictly(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    async with session_factory(engine)() as session, session.begin():
        ada = await find_local_actor(session, "ada")
        grace = await find_local_actor(session, "grace")
        question = await posts.find_object(session, f"{config.node.base_url}/objects/demo-question")
        answer = await posts.find_object(session, f"{config.node.base_url}/objects/demo-answer")
        article = await posts.find_object(session, f"{config.node.base_url}/objects/demo-article")
        await posts.accept_answer(
            session, config, ada if question.author_id == ada.id else grace, question, answer
        )
        await posts.delete(session, config, ada if article.author_id == ada.id else grace, article)
    accepted = strict_expand(await get_json(demo_client, "/objects/demo-question"))
    assert values(accepted, "acceptedAnswer") == [answer.uri]
    gone = strict_expand(await get_json(demo_client, "/objects/demo-article", status=410))
    assert gone["@type"] == [AS + "Tombstone"]
    assert gone[AS + "formerType"] == [{"@id": AS + "Article"}]


@pytest.mark.parametrize(
    "path",
    [
        "/users/ada/outbox",
        "/users/ada/outbox?page=1",
        "/users/ada/followers",
        "/users/ada/following",
        "/users/ada/collections/featured",
        "/objects/demo-question/replies",
    ],
)
async def test_collections_are_read_strictly(demo_client: httpx.AsyncClient, path: str) -> None:
    node = strict_expand(await get_json(demo_client, path))
    assert node["@type"][0].startswith(AS + "OrderedCollection")


async def test_outbox_items_keep_their_talentfed_terms(demo_client: httpx.AsyncClient) -> None:
    page = strict_expand(await get_json(demo_client, "/users/ada/outbox?page=1"))
    creates = page[AS + "items"][0]["@list"]  # orderedItems is as:items, a @list
    kinds = {values(create[AS + "object"][0], "postKind")[0] for create in creates}
    assert {"article", "projectCall"} <= kinds


async def test_public_activities_are_read_strictly(demo_client: httpx.AsyncClient) -> None:
    page = await get_json(demo_client, "/users/ada/outbox?page=1")
    create_id = page["orderedItems"][0]["id"]
    path = create_id.split("://", 1)[1].split("/", 1)[1]
    create = strict_expand(await get_json(demo_client, "/" + path))
    assert create["@type"] == [AS + "Create"]
    assert values(create[AS + "object"][0], "postKind")


async def test_nodeinfo_is_plain_json_that_expands_to_nothing_strictly(
    demo_client: httpx.AsyncClient,
) -> None:
    links = (await demo_client.get("/.well-known/nodeinfo")).json()["links"]
    for link in links:
        document = (await demo_client.get(httpx.URL(link["href"]).path)).json()
        assert "@context" not in document
        assert jsonld.expand(document, {"documentLoader": strict_loader}) == []


async def test_documents_stored_with_the_legacy_context_are_served_with_the_inline_one(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    """Activities stored by earlier versions name https://w3id.org/talentfed/v1 inside."""
    from talentfed.storage.models import Activity

    async with session_factory(engine)() as session, session.begin():
        create = await session.scalar(
            select(Activity).where(Activity.type == "Create", Activity.local.is_(True))
        )
        legacy = dict(create.document)
        legacy["@context"] = ["https://www.w3.org/ns/activitystreams"]
        legacy["object"] = {
            **legacy["object"],
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/talentfed/v1"],
        }
        create.document = legacy
    path = "/" + create.uri.split("://", 1)[1].split("/", 1)[1]
    served = await get_json(demo_client, path)
    assert "https://w3id.org/talentfed/v1" not in json.dumps(served)
    assert values(strict_expand(served)[AS + "object"][0], "postKind")


# --- activities as delivery sends them -----------------------------------------------------------


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker:
    return session_factory(engine)


async def _follower_on(remote: RemoteServer, sessions: async_sessionmaker, *followed: str) -> Actor:
    """`alice` on the remote server, an accepted follower of each local member named."""
    user = remote.add_user("alice")
    async with sessions() as session, session.begin():
        alice = actor_row("alice", remote.netloc, scheme="http", fetched_at=utcnow())
        assert alice.uri == user.uri
        session.add(alice)
        await session.flush()
        for username in followed:
            member = await find_local_actor(session, username)
            session.add(Follow(follower_id=alice.id, followed_id=member.id, state="accepted"))
    return alice


async def test_every_activity_delivery_sends_is_read_strictly(
    config: Config, sessions: async_sessionmaker, remote: RemoteServer
) -> None:
    async with sessions() as session, session.begin():
        await ensure_demo(session, config)
    alice = await _follower_on(remote, sessions, "ada", "grace", config.node.institution_username)
    async with sessions() as session, session.begin():
        ada = await find_local_actor(session, "ada")
        grace = await find_local_actor(session, "grace")
        alice = await session.merge(alice)
        await update_profile(session, config, ada, ProfileChanges(headline="Speech, in many languages"))
        project = await posts.publish(
            session,
            config,
            ada,
            posts.Draft(
                kind="project",
                title="Annotators wanted",
                body="Label **speech**.",
                skills=("Swahili", "Annotation"),
                status="open",
                deadline=utcnow() + timedelta(days=20),
                team_size=3,
                contact="ada@uni.example",
            ),
        )
        question = await posts.publish(
            session, config, ada, posts.Draft(kind="question", title="Which corpus?", body="Any?")
        )
        answer = await posts.publish(
            session, config, grace, posts.Draft(kind="answer", body="This one.", in_reply_to=question.uri)
        )
        article = await posts.publish(
            session, config, grace, posts.Draft(kind="article", title="Notes", body="Some **notes**.")
        )
        await posts.accept_answer(session, config, ada, question, answer)
        await posts.set_project_status(session, config, ada, project, "filled")
        await posts.react(session, config, ada, article, "like")
        await posts.delete(session, config, grace, article)
        await follows.follow(session, config, ada, alice)
        await follows.unfollow(session, config, ada, alice)
    runtime = await Federation.open(config, sessions)
    try:
        await runtime.new_worker().run_until_idle()
    finally:
        await runtime.close()

    sent = [received.json() for received in remote.received]
    nodes = [strict_expand(document) for document in sent]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for node in nodes:
        by_type.setdefault(node["@type"][0].removeprefix(AS), []).append(node)
    assert {"Create", "Update", "Announce", "Delete", "Follow", "Undo"} <= set(by_type), sorted(by_type)

    created = {values(n[AS + "object"][0], "postKind")[0]: n[AS + "object"][0] for n in by_type["Create"]}
    assert set(created) == {"projectCall", "question", "answer", "article"}
    call = created["projectCall"]
    assert values(call, "skills") == ["swahili", "annotation"]
    assert typed(call, "deadline") == [XSD_DATETIME] and values(call, "projectStatus") == ["open"]
    assert values(call, "teamSize") == [3] and values(call, "contact") == ["ada@uni.example"]

    updated = [n[AS + "object"][0] for n in by_type["Update"]]
    assert any(values(obj, "headline") == ["Speech, in many languages"] for obj in updated)
    assert any(values(obj, "acceptedAnswer") == [answer.uri] for obj in updated)
    assert any(values(obj, "projectStatus") == ["filled"] for obj in updated)
