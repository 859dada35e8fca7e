"""Grouped notifications (API v2) and unread counts: likes and reblogs of one status group
together, as do follows, within one twelve-hour window; mentions never group. Paging by
notification id with Link headers (a group may come back on the next page with its older
notifications), one group and its accounts, dismissing a group, the unread counts against the
notifications marker, and the refusals (malformed keys and ids, scopes, tokens)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.domain.notifications import FOLLOWS, MENTIONS, REACTIONS, REPLIES, NotificationKey
from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, DomainBlock, Follow, Interaction
from tests.support import post_row, remote_actor
from tests.web.mastodon.test_oauth import bearer, member_token, register

T0 = datetime(2031, 1, 1, 12, 0, tzinfo=UTC)  # a window starts here (noon, UTC); after the demo
BUCKET = (T0 - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(hours=1)  # its first hour


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@dataclasses.dataclass
class Scene:
    k: list[str]  # account ids of k1…k4
    p: str  # ada's post P: liked by k1, k2, k3 (and k4 just before the window), reblogged by k1, k2
    q: str  # ada's post Q, liked by k1
    m1: str  # k1's posts mentioning ada
    m2: str
    reply: str  # k2's reply to P
    ids: dict[str, str]  # notification ids by name


def _key(at: datetime, source: int, ref_id: int) -> str:
    return NotificationKey(at, source, ref_id).id


@pytest.fixture
async def scene(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> Scene:
    async with session_factory(engine)() as session, session.begin():
        ada = await session.scalar(select(Actor).where(Actor.username == "ada", Actor.local.is_(True)))
        assert ada is not None
        ks = [remote_actor(f"k{n}", "lab.example") for n in range(1, 5)]
        spam = remote_actor("spam", "bad.example")
        session.add_all([*ks, spam, DomainBlock(domain="bad.example")])
        await session.flush()
        p = post_row(ada, "grouped-p", local=True, content="<p>P</p>", published=_at(-60))
        q = post_row(ada, "grouped-q", local=True, content="<p>Q</p>", published=_at(-50))
        m1 = post_row(ks[0], "m1", content="<p>@ada one</p>", published=_at(10))
        m2 = post_row(ks[0], "m2", content="<p>@ada two</p>", published=_at(11))
        session.add_all([p, q, m1, m2])
        await session.flush()
        reply = post_row(ks[1], "re-p", in_reply_to_uri=p.uri, content="<p>Yes</p>", published=_at(12))
        session.add(reply)

        def edge(kind: str, who: Actor, post: Any, at: datetime) -> Interaction:
            return Interaction(
                kind=kind, actor_id=who.id, object_id=post.id, target_actor_id=ada.id, created_at=at
            )

        likes = {
            "like_k4": edge("like", ks[3], p, T0 - timedelta(microseconds=1)),  # the window before
            "like_k1": edge("like", ks[0], p, _at(1)),
            "like_k2": edge("like", ks[1], p, _at(2)),
            "like_k3": edge("like", ks[2], p, _at(5)),
            "like_spam": edge("like", spam, p, _at(5.5)),  # a blocked domain: never shown nor counted
            "boost_k1": edge("announce", ks[0], p, _at(3)),
            "boost_k2": edge("announce", ks[1], p, _at(4)),
            "like_q": edge("like", ks[0], q, _at(6)),
            "mention_1": edge("mention", ks[0], m1, _at(10)),
            "mention_2": edge("mention", ks[0], m2, _at(11)),
        }
        follows = {
            "follow_k1": Follow(
                follower_id=ks[0].id, followed_id=ada.id, state="accepted", created_at=_at(7)
            ),
            "follow_k2": Follow(
                follower_id=ks[1].id, followed_id=ada.id, state="accepted", created_at=_at(8)
            ),
            "request_k4": Follow(
                follower_id=ks[3].id, followed_id=ada.id, state="pending", created_at=_at(9)
            ),
            "follow_k3": Follow(
                follower_id=ks[2].id, followed_id=ada.id, state="accepted", created_at=_at(13 * 60)
            ),
        }
        session.add_all([*likes.values(), *follows.values()])
        await session.flush()
        ids = {
            name: _key(edge.created_at, MENTIONS if edge.kind == "mention" else REACTIONS, edge.id)
            for name, edge in likes.items()
        }
        ids |= {name: _key(follow.created_at, FOLLOWS, follow.id) for name, follow in follows.items()}
        ids["reply"] = _key(reply.published, REPLIES, reply.id)
        return Scene(
            [str(k.id) for k in ks], str(p.id), str(q.id), str(m1.id), str(m2.id), str(reply.id), ids
        )


async def _token(client: httpx.AsyncClient, scope: str = "read write follow") -> dict[str, str]:
    app = await register(client)
    return bearer(str((await member_token(client, app, scope=scope))["access_token"]))


async def _groups(client: httpx.AsyncClient, auth: dict[str, str], **params: Any) -> httpx.Response:
    response = await client.get("/api/v2/notifications", params=params, headers=auth)
    assert response.status_code == 200, response.text
    return response


def _summary(body: dict[str, Any]) -> list[tuple[str, str, int, list[str]]]:
    return [
        (g["group_key"], g["type"], g["notifications_count"], g["sample_account_ids"])
        for g in body["notification_groups"]
    ]


async def test_likes_reblogs_and_follows_group_mentions_do_not(
    demo_client: httpx.AsyncClient, scene: Scene
) -> None:
    auth = await _token(demo_client)
    body = (await _groups(demo_client, auth, limit=10)).json()
    k1, k2, k3, k4 = scene.k
    ids = scene.ids
    assert _summary(body) == [
        (f"follow-{BUCKET + 12}", "follow", 1, [k3]),  # thirteen hours later: another window
        (f"ungrouped-{ids['reply']}", "mention", 1, [k2]),
        (f"ungrouped-{ids['mention_2']}", "mention", 1, [k1]),
        (f"ungrouped-{ids['mention_1']}", "mention", 1, [k1]),
        (f"ungrouped-{ids['request_k4']}", "follow_request", 1, [k4]),
        (f"follow-{BUCKET}", "follow", 2, [k2, k1]),
        (f"favourite-{scene.q}-{BUCKET}", "favourite", 1, [k1]),
        (f"favourite-{scene.p}-{BUCKET}", "favourite", 3, [k3, k2, k1]),  # spam is left out
        (f"reblog-{scene.p}-{BUCKET}", "reblog", 2, [k2, k1]),
        (f"favourite-{scene.p}-{BUCKET - 12}", "favourite", 1, [k4]),  # a microsecond before noon
    ]
    follows = body["notification_groups"][5]
    assert follows["most_recent_notification_id"] == follows["page_max_id"] == ids["follow_k2"]
    assert follows["page_min_id"] == ids["follow_k1"]
    assert follows["latest_page_notification_at"] == "2031-01-01T12:08:00.000Z"
    assert "status_id" not in follows
    liked = body["notification_groups"][7]
    assert liked["status_id"] == scene.p and liked["most_recent_notification_id"] == ids["like_k3"]
    assert body["notification_groups"][1]["status_id"] == scene.reply

    assert [a["id"] for a in body["accounts"]] == [k3, k2, k1, k4]  # each once, full by default
    assert "partial_accounts" not in body
    assert [s["id"] for s in body["statuses"]] == [scene.reply, scene.m2, scene.m1, scene.q, scene.p]

    v1 = await demo_client.get("/api/v1/notifications", params={"account_id": k3}, headers=auth)
    assert [n["group_key"] for n in v1.json()] == [f"follow-{BUCKET + 12}", f"favourite-{scene.p}-{BUCKET}"]


async def test_grouped_types_expand_accounts_and_filters(
    demo_client: httpx.AsyncClient, scene: Scene
) -> None:
    auth = await _token(demo_client)
    k1, k2, k3, _ = scene.k
    only_favourites = await _groups(
        demo_client, auth, limit=10, **{"grouped_types[]": "favourite", "exclude_types[]": "mention"}
    )
    keys = [g["group_key"] for g in only_favourites.json()["notification_groups"]]
    assert f"ungrouped-{scene.ids['follow_k1']}" in keys and f"ungrouped-{scene.ids['boost_k2']}" in keys
    assert f"favourite-{scene.p}-{BUCKET}" in keys
    assert {g["type"] for g in only_favourites.json()["notification_groups"]} >= {"follow", "reblog"}
    nothing_groups = await _groups(demo_client, auth, limit=3, **{"grouped_types[]": "poll"})
    assert all(g["group_key"].startswith("ungrouped-") for g in nothing_groups.json()["notification_groups"])

    partial = (await _groups(demo_client, auth, limit=10, expand_accounts="partial_avatars")).json()
    newest = [a["id"] for a in partial["accounts"]]
    assert newest == [k3, k2, k1, scene.k[3]]  # the newest of each group, in full
    assert partial["partial_accounts"] == []  # everyone is someone's newest here
    likes = (
        await _groups(
            demo_client, auth, limit=3, expand_accounts="partial_avatars", **{"types[]": "favourite"}
        )
    ).json()
    assert [a["id"] for a in likes["accounts"]] == [k1, k3, scene.k[3]]
    assert [a["id"] for a in likes["partial_accounts"]] == [k2]
    assert set(likes["partial_accounts"][0]) == {
        "id",
        "acct",
        "locked",
        "bot",
        "url",
        "avatar",
        "avatar_static",
    }

    from_k3 = await _groups(demo_client, auth, account_id=k3)
    assert [g["type"] for g in from_k3.json()["notification_groups"]] == ["follow", "favourite"]
    assert (await _groups(demo_client, auth, account_id="k3")).json() == {
        "accounts": [],
        "statuses": [],
        "notification_groups": [],
    }


async def test_paging_by_notification_id(demo_client: httpx.AsyncClient, scene: Scene) -> None:
    auth = await _token(demo_client)
    k1, k2, _, _ = scene.k
    first = await _groups(demo_client, auth, limit=8, **{"types[]": ["favourite", "reblog", "follow"]})
    groups = first.json()["notification_groups"]
    assert [g["group_key"] for g in groups][:6] == [
        f"follow-{BUCKET + 12}",
        f"follow-{BUCKET}",
        f"favourite-{scene.q}-{BUCKET}",
        f"favourite-{scene.p}-{BUCKET}",
        f"reblog-{scene.p}-{BUCKET}",
        f"favourite-{scene.p}-{BUCKET - 12}",
    ]
    liked = groups[3]  # its newest like is in the page, and so are all three
    assert liked["notifications_count"] == 3 and liked["page_min_id"] == scene.ids["like_k1"]
    link = first.headers["link"]
    last = groups[-1]["most_recent_notification_id"]
    assert f"max_id={last}" in link and f"min_id={groups[0]['most_recent_notification_id']}" in link
    assert "types%5B%5D=favourite" in link  # the filters are kept

    # Stop a page inside P's likes: the next page shows the group again, with its older likes.
    cut = await _groups(demo_client, auth, limit=10, max_id=scene.ids["like_k3"])
    again = [
        g for g in cut.json()["notification_groups"] if g["group_key"] == f"favourite-{scene.p}-{BUCKET}"
    ]
    assert again and again[0]["notifications_count"] == 2 and again[0]["sample_account_ids"] == [k2, k1]
    assert again[0]["most_recent_notification_id"] == scene.ids["like_k2"]

    forward = await _groups(demo_client, auth, limit=2, min_id=scene.ids["mention_1"])
    assert [g["group_key"] for g in forward.json()["notification_groups"]] == [
        f"ungrouped-{scene.ids['reply']}",
        f"ungrouped-{scene.ids['mention_2']}",
    ]  # the two next after min_id, newest first
    since = await _groups(demo_client, auth, limit=2, since_id=scene.ids["mention_1"])
    assert [g["group_key"] for g in since.json()["notification_groups"]] == [
        f"follow-{BUCKET + 12}",
        f"ungrouped-{scene.ids['reply']}",
    ]  # the newest two
    empty = await _groups(demo_client, auth, min_id=scene.ids["follow_k3"])
    assert empty.json()["notification_groups"] == [] and "link" not in empty.headers


async def test_one_group_its_accounts_and_dismissing_it(demo_client: httpx.AsyncClient, scene: Scene) -> None:
    auth = await _token(demo_client)
    k1, k2, k3, _ = scene.k
    key = f"favourite-{scene.p}-{BUCKET}"
    shown = await demo_client.get(f"/api/v2/notifications/{key}", headers=auth)
    assert shown.status_code == 200, shown.text
    assert _summary(shown.json()) == [(key, "favourite", 3, [k3, k2, k1])]
    assert "page_min_id" not in shown.json()["notification_groups"][0]
    assert [s["id"] for s in shown.json()["statuses"]] == [scene.p]
    alone = await demo_client.get(f"/api/v2/notifications/ungrouped-{scene.ids['mention_1']}", headers=auth)
    assert _summary(alone.json()) == [(f"ungrouped-{scene.ids['mention_1']}", "mention", 1, [k1])]

    accounts = await demo_client.get(f"/api/v2/notifications/{key}/accounts", headers=auth)
    assert [a["id"] for a in accounts.json()] == [k3, k2, k1]
    two = await demo_client.get(f"/api/v2/notifications/{key}/accounts", params={"limit": 2}, headers=auth)
    assert [a["id"] for a in two.json()] == [k3, k2]
    rest = await demo_client.get(two.headers["link"].split(";")[0].strip("<>"), headers=auth)
    assert [a["id"] for a in rest.json()] == [k1]

    dismissed = await demo_client.post(f"/api/v2/notifications/{key}/dismiss", headers=auth)
    assert dismissed.status_code == 200 and dismissed.json() == {}
    assert (await demo_client.get(f"/api/v2/notifications/{key}", headers=auth)).status_code == 404
    keys = [
        g["group_key"] for g in (await _groups(demo_client, auth, limit=10)).json()["notification_groups"]
    ]
    assert key not in keys and f"favourite-{scene.p}-{BUCKET - 12}" in keys  # another window stays
    v1 = await demo_client.get("/api/v1/notifications", params={"types[]": "favourite"}, headers=auth)
    assert scene.ids["like_k1"] not in {n["id"] for n in v1.json()}
    again = await demo_client.post(f"/api/v2/notifications/{key}/dismiss", headers=auth)
    assert again.status_code == 200  # nothing left to dismiss: still {} (Mastodon's destroy_all)
    one = await demo_client.post(
        f"/api/v2/notifications/ungrouped-{scene.ids['reply']}/dismiss", headers=auth
    )
    assert one.status_code == 200
    assert (
        await demo_client.get(f"/api/v1/notifications/{scene.ids['reply']}", headers=auth)
    ).status_code == 404


async def test_unread_counts_follow_the_marker(demo_client: httpx.AsyncClient, scene: Scene) -> None:
    auth = await _token(demo_client)

    async def count(version: int, **params: Any) -> int:
        response = await demo_client.get(
            f"/api/v{version}/notifications/unread_count", params=params, headers=auth
        )
        assert response.status_code == 200, response.text
        return int(response.json()["count"])

    assert await count(1) >= 14  # no marker: everything (k's and the demo's), up to 100
    assert await count(1, limit=5) == 5 and await count(2, limit=5) == 5
    marked = await demo_client.post(
        "/api/v1/markers", data={"notifications[last_read_id]": scene.ids["like_q"]}, headers=auth
    )
    assert marked.status_code == 200, marked.text
    # After like_q: follows by k1 and k2, k4's request, two mentions, the reply, k3's follow.
    assert await count(1) == 7
    assert await count(2) == 6  # k1's and k2's follows are one group
    assert await count(2, **{"grouped_types[]": "favourite"}) == 7
    assert await count(1, **{"types[]": "mention"}) == 3 and await count(2, **{"types[]": "mention"}) == 3
    assert await count(1, **{"exclude_types[]": ["mention", "follow"]}) == 1
    assert await count(1, account_id=scene.k[0]) == 3 and await count(1, account_id="x") == 0
    assert await count(1, limit=2) == 2 and await count(1, limit=5000) == 7
    assert await count(1, max_id=scene.ids["like_q"]) == 7  # paging ids do not change the count
    await demo_client.post(
        "/api/v1/markers", data={"notifications[last_read_id]": scene.ids["follow_k3"]}, headers=auth
    )
    assert await count(1) == 0 and await count(2) == 0


BAD_KEYS = [
    "favourite-abc-12",
    "favourite-1-13",  # no window starts at that hour
    "follow-9999999999",  # too many digits
    "follow-999999996",  # a window beyond year 9999
    f"favourite-{'9' * 19}-12",
    "reblog--12",
    "mention-1-12",  # mentions never group
    "ungrouped-x",
    "ungrouped-" + "9" * 29,
    "ungrouped-" + "0" * 18 + "1" + "9" * 10,  # no row has that id: PostgreSQL's integer
    f"favourite-{'9' * 18}-{BUCKET}",
    "follow-12%00",  # a NUL byte
    "%00",
    "x" * 3000,
]


async def test_refusals(demo_client: httpx.AsyncClient, scene: Scene) -> None:
    auth = await _token(demo_client)
    for bad in BAD_KEYS:
        for suffix in ("", "/accounts"):
            refused = await demo_client.get(f"/api/v2/notifications/{bad}{suffix}", headers=auth)
            assert refused.status_code == 404, (bad, suffix, refused.text)
            assert refused.json() == {"error": "Record not found"}
        assert (
            await demo_client.post(f"/api/v2/notifications/{bad}/dismiss", headers=auth)
        ).status_code == 404
    nobody = await demo_client.get(f"/api/v2/notifications/favourite-{scene.q}-{BUCKET - 24}", headers=auth)
    assert nobody.status_code == 404
    for name, value in [
        ("max_id", "x1"),
        ("since_id", "9" * 60),
        ("min_id", "1\x00"),
        ("limit", "x"),
        ("limit", "-1"),
    ]:
        for path in (
            "/api/v2/notifications",
            "/api/v2/notifications/unread_count",
            "/api/v1/notifications/unread_count",
        ):
            if path.endswith("unread_count") and name != "limit":
                continue  # the counts read no paging ids
            response = await demo_client.get(path, params={name: value}, headers=auth)
            assert response.status_code == 422, (path, name, value, response.text)
    beyond_any_row = "0" * 18 + "1" + "9" * 10
    assert (await demo_client.get(f"/api/v1/notifications/{beyond_any_row}", headers=auth)).status_code == 404
    paged_beyond = await demo_client.get(
        "/api/v2/notifications", params={"max_id": beyond_any_row}, headers=auth
    )
    assert paged_beyond.status_code == 422
    for account in ("9" * 18, "0" * 30 + "5", "2147483648"):  # no account has such an id
        assert (await _groups(demo_client, auth, account_id=account)).json()["notification_groups"] == []
        nobody = await demo_client.get("/api/v1/notifications", params={"account_id": account}, headers=auth)
        assert nobody.json() == []
        for version in (1, 2):
            counted = await demo_client.get(
                f"/api/v{version}/notifications/unread_count", params={"account_id": account}, headers=auth
            )
            assert counted.json() == {"count": 0}
    bad_expand = await demo_client.get(
        "/api/v2/notifications", params={"expand_accounts": "all"}, headers=auth
    )
    assert bad_expand.status_code == 400 and "expand_accounts" in bad_expand.json()["error"]
    huge = await _groups(demo_client, auth, limit="9" * 30)  # a limit beyond 80 is 80
    assert len(huge.json()["notification_groups"]) <= 80

    writer = await _token(demo_client, scope="write")
    for path in (
        "/api/v2/notifications",
        "/api/v2/notifications/unread_count",
        "/api/v1/notifications/unread_count",
    ):
        assert (await demo_client.get(path)).status_code == 401
        assert (await demo_client.get(path, headers=writer)).status_code == 403
    key = f"follow-{BUCKET}"
    assert (await demo_client.post(f"/api/v2/notifications/{key}/dismiss")).status_code == 401
    reader = await _token(demo_client, scope="read:notifications")
    assert (await demo_client.get(f"/api/v2/notifications/{key}/accounts", headers=reader)).status_code == 200
    assert (await demo_client.post(f"/api/v2/notifications/{key}/dismiss", headers=reader)).status_code == 403
