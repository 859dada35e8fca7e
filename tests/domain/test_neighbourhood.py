"""A member's neighbourhood: who is around them, how, and how strongly; opt-outs never named."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain.members import NewMember, add_member
from talentfed.domain.neighbourhood import Edge, Neighbour, Neighbourhood, load_neighbourhood
from talentfed.storage.models import Actor, DomainBlock, Follow, Interaction
from tests.support.factories import remote_actor


def _remote(
    name: str,
    domain: str = "lab.example",
    *,
    discoverable: bool = True,
    indexable: bool = True,
    url: str | None = None,
    display_name: str | None = None,
) -> Actor:
    return remote_actor(
        name,
        domain,
        url=url,
        discoverable=discoverable,
        indexable=indexable,
        display_name=display_name if display_name is not None else name.title(),
    )


def _follow(follower: Actor, followed: Actor, state: str = "accepted") -> Follow:
    return Follow(follower_id=follower.id, followed_id=followed.id, state=state)


def _interactions(actor: Actor, target: Actor, count: int, kind: str = "like") -> list[Interaction]:
    return [Interaction(kind=kind, actor_id=actor.id, target_actor_id=target.id) for _ in range(count)]


@pytest.fixture
async def world(session: AsyncSession, config: Config) -> dict[str, Actor]:
    """ada (the centre) and grace here; kim, lee, una on lab.example; people who must stay unnamed.

    - kim: ada and kim follow each other; ada liked kim twice, kim replied to ada once → 3
    - lee: follows ada
    - grace (local): followed by ada
    - una (uni.example): no follow, interactions only: 2 from ada, 2 to ada → 4
    - pat: a pending follow of ada only → not a neighbour at all
    - hidden (not discoverable), shy (discoverable, not indexable), quiet (a local member who opted
      out), evil (on a blocked domain, itself opted in): neighbours that count only in `hidden`
    Among the neighbours: kim follows lee; kim and una interact 3 times; lee's follow of una is
    pending; kim follows hidden (an edge to someone who is never drawn).
    """
    ada = await add_member(session, config, NewMember("ada", "Ada Lovelace"))
    grace = await add_member(session, config, NewMember("grace", "Grace"))
    quiet = await add_member(
        session, config, NewMember("quiet", "Quiet", discoverable=False, indexable=False)
    )
    kim = _remote("kim", url="https://lab.example/@kim")
    lee = _remote("lee", url="javascript:alert(1)")
    una = _remote("una", "uni.example")
    pat = _remote("pat")
    hidden = _remote("hidden", discoverable=False, indexable=False)
    shy = _remote("shy", indexable=False)
    evil = _remote("evil", "sub.evil.example")
    session.add_all([kim, lee, una, pat, hidden, shy, evil, DomainBlock(domain="evil.example")])
    await session.flush()
    session.add_all(
        [
            _follow(ada, kim),
            _follow(kim, ada),
            _follow(lee, ada),
            _follow(ada, grace),
            _follow(pat, ada, "pending"),
            _follow(hidden, ada),
            _follow(ada, shy),
            _follow(quiet, ada),
            _follow(evil, ada),
            _follow(ada, ada),  # a self-follow is no neighbour
            _follow(kim, lee),
            _follow(lee, una, "pending"),
            _follow(kim, hidden),
            *_interactions(ada, kim, 2),
            *_interactions(kim, ada, 1, "reply"),
            *_interactions(ada, una, 2, "announce"),
            *_interactions(una, ada, 2, "mention"),
            *_interactions(ada, ada, 5),  # liking one's own posts counts for nothing
            *_interactions(hidden, ada, 7),
            *_interactions(kim, una, 2),
            *_interactions(una, kim, 1),
        ]
    )
    await session.flush()
    return {
        "ada": ada,
        "grace": grace,
        "quiet": quiet,
        "kim": kim,
        "lee": lee,
        "una": una,
        "pat": pat,
        "hidden": hidden,
        "shy": shy,
        "evil": evil,
    }


def _by_handle(n: Neighbourhood) -> dict[str, Neighbour]:
    return {neighbour.handle: neighbour for neighbour in n.neighbours}


async def test_relations_and_interaction_counts(session: AsyncSession, config: Config, world: dict) -> None:
    n = await load_neighbourhood(session, config, world["ada"])
    assert n.centre.id == world["ada"].id
    assert n.centre.name == "Ada Lovelace"
    assert n.centre.handle == f"@ada@{config.node.domain}"
    assert n.centre.url == f"{config.node.base_url}/@ada"
    found = _by_handle(n)
    assert set(found) == {
        "@kim@lab.example",
        "@lee@lab.example",
        "@una@uni.example",
        f"@grace@{config.node.domain}",
    }

    kim = found["@kim@lab.example"]
    assert (kim.follows_centre, kim.followed_by_centre, kim.mutual, kim.interactions) == (True, True, True, 3)
    assert kim.url == "https://lab.example/@kim" and kim.domain == "lab.example" and not kim.local

    lee = found["@lee@lab.example"]
    assert (lee.follows_centre, lee.followed_by_centre, lee.mutual, lee.interactions) == (
        True,
        False,
        False,
        0,
    )
    assert lee.url == world["lee"].uri  # a javascript: url is never a profile link

    grace = found[f"@grace@{config.node.domain}"]
    assert (grace.follows_centre, grace.followed_by_centre, grace.mutual) == (False, True, False)
    assert grace.local and grace.url == f"{config.node.base_url}/@grace" and grace.name == "Grace"

    una = found["@una@uni.example"]
    assert (una.follows_centre, una.followed_by_centre, una.interactions) == (False, False, 4)


async def test_strongest_first_and_deterministic(session: AsyncSession, config: Config, world: dict) -> None:
    first = await load_neighbourhood(session, config, world["ada"])
    # mutual first, then by interactions, then by name (Grace before Lee)
    assert [x.handle.split("@")[1] for x in first.neighbours] == ["kim", "una", "grace", "lee"]
    assert await load_neighbourhood(session, config, world["ada"]) == first
    session.expunge_all()
    ada = await session.get(Actor, world["ada"].id)
    assert await load_neighbourhood(session, config, ada) == first


async def test_ties_are_broken_by_name(session: AsyncSession, config: Config) -> None:
    centre = await add_member(session, config, NewMember("centre", "Centre"))
    people = [
        _remote(name, display_name=display) for name, display in (("b1", "bea"), ("a1", "Abe"), ("c1", "Cy"))
    ]
    session.add_all(people)
    await session.flush()
    session.add_all([_follow(person, centre) for person in reversed(people)])
    await session.flush()
    n = await load_neighbourhood(session, config, centre)
    assert [x.name for x in n.neighbours] == ["Abe", "bea", "Cy"]


async def test_opted_out_and_blocked_people_are_never_named(
    session: AsyncSession, config: Config, world: dict
) -> None:
    n = await load_neighbourhood(session, config, world["ada"])
    # hidden, shy, quiet and evil are neighbours that cannot be shown; pat's follow is pending
    assert n.hidden == 4
    assert n.total == 8
    unnamed = {world[name].id for name in ("hidden", "shy", "quiet", "evil", "pat")}
    assert not unnamed & {x.id for x in n.neighbours}
    assert not unnamed & {end for edge in n.edges for end in (edge.a, edge.b)}
    text = repr(n)
    for name in ("hidden", "shy", "quiet", "evil", "pat"):
        assert world[name].uri not in text
        assert f"@{name}@" not in text


async def test_a_block_from_the_configuration_hides_too(
    session: AsyncSession, config: Config, world: dict
) -> None:
    blocked = dataclasses.replace(
        config, federation=dataclasses.replace(config.federation, blocked_domains=("uni.example",))
    )
    n = await load_neighbourhood(session, blocked, world["ada"])
    assert "@una@uni.example" not in _by_handle(n)
    assert n.hidden == 5
    assert all(world["una"].id not in (edge.a, edge.b) for edge in n.edges)


async def test_pending_follows_are_not_edges(session: AsyncSession, config: Config, world: dict) -> None:
    n = await load_neighbourhood(session, config, world["ada"])
    assert world["pat"].id not in {x.id for x in n.neighbours}
    lee, una = world["lee"].id, world["una"].id
    assert (min(lee, una), max(lee, una)) not in {(edge.a, edge.b) for edge in n.edges}
    for follow in await session.scalars(select(Follow).where(Follow.state == "pending")):
        follow.state = "accepted"
    await session.flush()
    accepted = await load_neighbourhood(session, config, world["ada"])
    assert world["pat"].id in {x.id for x in accepted.neighbours}
    assert Edge(min(lee, una), max(lee, una), lee < una, una < lee, 0) in accepted.edges


async def test_edges_among_the_shown_neighbours(session: AsyncSession, config: Config, world: dict) -> None:
    n = await load_neighbourhood(session, config, world["ada"])
    kim, lee, una = world["kim"].id, world["lee"].id, world["una"].id

    def edge(x: int, y: int, x_follows_y: bool, y_follows_x: bool, interactions: int) -> Edge:
        if x < y:
            return Edge(x, y, x_follows_y, y_follows_x, interactions)
        return Edge(y, x, y_follows_x, x_follows_y, interactions)

    assert set(n.edges) == {edge(kim, lee, True, False, 0), edge(kim, una, False, False, 3)}
    assert list(n.edges) == sorted(n.edges, key=lambda e: (e.a, e.b))
    assert all(e.a < e.b for e in n.edges)


async def test_limit_keeps_the_strongest_and_counts_the_rest(
    session: AsyncSession, config: Config, world: dict
) -> None:
    n = await load_neighbourhood(session, config, world["ada"], limit=2)
    assert [x.handle for x in n.neighbours] == ["@kim@lab.example", "@una@uni.example"]
    assert n.hidden == 4 + 2
    assert {(e.a, e.b) for e in n.edges} == {tuple(sorted((world["kim"].id, world["una"].id)))}
    nobody = await load_neighbourhood(session, config, world["ada"], limit=0)
    assert nobody.neighbours == () and nobody.edges == () and nobody.hidden == 8
    with pytest.raises(ValueError):
        await load_neighbourhood(session, config, world["ada"], limit=-1)


async def test_a_member_with_no_connections(session: AsyncSession, config: Config) -> None:
    alone = await add_member(session, config, NewMember("alone", "Alone"))
    n = await load_neighbourhood(session, config, alone)
    assert n == Neighbourhood(n.centre, (), (), 0)
    assert n.centre.name == "Alone"


async def test_the_neighbourhood_of_a_remote_actor(
    session: AsyncSession, config: Config, world: dict
) -> None:
    n = await load_neighbourhood(session, config, world["kim"])
    found = _by_handle(n)
    assert set(found) == {"@ada@" + config.node.domain, "@lee@lab.example", "@una@uni.example"}
    assert found["@ada@" + config.node.domain].mutual
    assert found["@una@uni.example"].interactions == 3
    assert n.hidden == 1  # kim follows hidden
    assert n.centre.url == "https://lab.example/@kim"
