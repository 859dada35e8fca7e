"""`GET /api/v1/accounts/search`, for @-mention completion: accounts whose username or a word of
whose display name starts with `q`, among those this node knows; the privacy rule of search
(opted-out people only by exact name or by who follows them), blocked domains never;
`resolve=true` looks a handle up on its server (a real one on loopback), as v2 search does."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.domain.members import find_local_actor
from talentfed.storage.db import session_factory
from talentfed.storage.models import AccountBlock, Actor, DomainBlock, Follow
from tests.federation.remote_server import RemoteServer
from tests.support import remote_actor
from tests.web.mastodon.test_posting import _token
from tests.web.mastodon.test_search import held_during_lookups  # noqa: F401  (a fixture)

URL = "/api/v1/accounts/search"


@pytest.fixture
async def people(engine: AsyncEngine) -> None:
    """Remote people ada knows of: kim and kimberly (opted out of discovery, ada follows her),
    kimo (opted out, not followed), kim_spam on a blocked domain, and "Lee Kimura" whose display
    name has a word starting with kim."""
    async with session_factory(engine)() as session, session.begin():
        listed = {"discoverable": True, "indexable": True}
        kim = remote_actor("kim", "lab.example", display_name="Kim Park", **listed)
        kimberly = remote_actor("kimberly", "lab.example", display_name="Kimberly")
        kimo = remote_actor("kimo", "other.example", display_name="Kimo")
        spam = remote_actor("kim_spam", "bad.example", **listed)
        lee = remote_actor("lee", "lab.example", display_name="Lee Kimura", **listed)
        odd = remote_actor("k_m", "lab.example", display_name="100% K", **listed)
        session.add_all([kim, kimberly, kimo, spam, lee, odd, DomainBlock(domain="bad.example")])
        await session.flush()
        ada = await find_local_actor(session, "ada")
        session.add(Follow(follower_id=ada.id, followed_id=kimberly.id, state="accepted"))


async def _names(client: httpx.AsyncClient, auth: dict[str, str], **params: str) -> list[str]:
    response = await client.get(URL, params=params, headers=auth)
    assert response.status_code == 200, response.text
    return [account["acct"] for account in response.json()]


async def test_prefixes_of_usernames_and_display_names(demo_client: httpx.AsyncClient, people: None) -> None:
    auth = await _token(demo_client)
    # The exact name first, then who ada follows (kimberly), then by username; kimo opted out,
    # kim_spam is on a blocked domain.
    assert await _names(demo_client, auth, q="kim") == [
        "kim@lab.example",
        "kimberly@lab.example",
        "lee@lab.example",
    ]
    assert await _names(demo_client, auth, q="@KIM") == [
        "kim@lab.example",
        "kimberly@lab.example",
        "lee@lab.example",
    ]
    assert await _names(demo_client, auth, q="kimo") == ["kimo@other.example"]  # the exact name finds her
    assert await _names(demo_client, auth, q="kimo@oth") == ["kimo@other.example"]
    assert await _names(demo_client, auth, q="kim@oth") == []  # kimo, opted out, by a prefix only
    assert await _names(demo_client, auth, q="kim@lab", following="true") == ["kimberly@lab.example"]
    assert await _names(demo_client, auth, q="gr") == ["grace"]  # ours: acct without the domain
    assert await _names(demo_client, auth, q="kim", limit="1", offset="1") == ["kimberly@lab.example"]
    assert await _names(demo_client, auth, q="park") == ["kim@lab.example"]


@pytest.mark.parametrize("q", ["", "   ", "@", "%", "_", "k%", "k_", "\\", "'; drop table actors; --"])
async def test_wildcards_and_nothing_find_nothing(
    demo_client: httpx.AsyncClient, people: None, q: str
) -> None:
    auth = await _token(demo_client)
    expected = ["k_m@lab.example"] if q == "k_" else []  # "_" is a character, not a wildcard
    assert await _names(demo_client, auth, q=q) == expected


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"q": "a\x00b"}, 422, "Validation failed: q: a NUL character"),
        ({"q": "a" * 201}, 422, "Validation failed: q: at most 200 characters"),
        ({"q": "a", "limit": "many"}, 400, "Pagination values for `limit`"),
        ({"q": "a", "offset": "-1"}, 400, "Pagination values for `offset`"),
        ({"q": "a", "limit": "9" * 12}, 400, "Pagination values for `limit`"),
        ({"q": "a", "limit": "0"}, 200, None),
        ({"q": "a", "limit": "500"}, 200, None),
        ({"q": "a", "offset": "999999999"}, 200, None),
    ],
)
async def test_odd_input_is_a_clear_4xx_on_both_backends(
    demo_client: httpx.AsyncClient, params: dict[str, str], status: int, says: str | None
) -> None:
    auth = await _token(demo_client)
    response = await demo_client.get(URL, params=params, headers=auth)
    assert response.status_code == status, response.text
    if says is not None:
        assert response.json()["error"].startswith(says)


async def test_a_members_token_with_read_accounts(demo_client: httpx.AsyncClient) -> None:
    assert (await demo_client.get(URL, params={"q": "gr"})).status_code == 401
    statuses_only = await _token(demo_client, scope="read:statuses")
    assert (await demo_client.get(URL, params={"q": "gr"}, headers=statuses_only)).status_code == 403
    accounts = await _token(demo_client, scope="read:accounts")
    assert (await demo_client.get(URL, params={"q": "gr"}, headers=accounts)).status_code == 200


async def test_resolve_looks_a_handle_up_with_no_connection_held(
    demo_client: httpx.AsyncClient,
    engine: AsyncEngine,
    held_during_lookups: list[int],  # noqa: F811
) -> None:
    auth = await _token(demo_client)
    async with RemoteServer() as remote:
        remote.add_user("alice", name="Alice Remote")
        found: list[dict[str, Any]] = (
            await demo_client.get(
                URL, params={"q": f"alice@{remote.netloc}", "resolve": "true"}, headers=auth
            )
        ).json()
        unresolved = await _names(demo_client, auth, q=f"@nobody@{remote.netloc}", resolve="true")
    assert [a["acct"] for a in found] == [f"alice@{remote.netloc}"]
    assert held_during_lookups == [0, 0]
    async with session_factory(engine)() as session:
        stored = await session.scalar(select(Actor).where(Actor.username == "alice"))
    assert stored is not None and found[0]["id"] == str(stored.id)
    assert unresolved == []
    # Without resolve, what is stored: alice now (by her exact name: she did not opt in).
    assert await _names(demo_client, auth, q=f"alice@{remote.netloc}") == [f"alice@{remote.netloc}"]


async def test_accounts_blocked_either_way_are_not_found(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, people: None
) -> None:
    """As in Mastodon's account search: ada does not find whom she blocks, nor who blocks her;
    lifting the block finds them again."""
    auth = await _token(demo_client)
    async with session_factory(engine)() as session, session.begin():
        ada = await find_local_actor(session, "ada")
        actors = {
            a.username: a for a in await session.scalars(select(Actor).where(Actor.domain == "lab.example"))
        }
        session.add(AccountBlock(blocker_id=ada.id, blocked_id=actors["kim"].id))
        session.add(
            AccountBlock(blocker_id=actors["lee"].id, blocked_id=ada.id, uri="https://lab.example/b/1")
        )
    assert await _names(demo_client, auth, q="kim") == ["kimberly@lab.example"]
    assert await _names(demo_client, auth, q="kim@lab.example") == ["kimberly@lab.example"]  # exact name too
    async with session_factory(engine)() as session, session.begin():
        await session.execute(delete(AccountBlock))
    assert await _names(demo_client, auth, q="kim") == [
        "kim@lab.example",
        "kimberly@lab.example",
        "lee@lab.example",
    ]
