"""The rows a node would hold at each schema revision, and what later migrations make of them.

`SEEDS[revision]` writes, once the schema is at `revision`, rows into the tables that revision
has (or values into the columns it added); `BACKFILLS[revision]` says what that migration
changes in rows written before it; the two checks read what 0006 and 0012 derived. Used by
test_migration_path.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from talentfed.domain.stored_secrets import digest
from tests.storage.seeded_rows import SeededRows

BASE = "http://127.0.0.1:8000"  # write_config's node
REMOTE = "https://remote.example"
T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
ACCESS_TOKEN = "migrated-access-token"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@dataclass
class Seed:
    """The rows written so far, and the ids later revisions' rows point at."""

    keys: tuple[str, str]  # alice's (private, public) PEM
    institution_keys: tuple[str, str]
    rows: SeededRows = field(default_factory=SeededRows)
    ids: dict[str, int] = field(default_factory=dict)

    async def actor(self, c: AsyncConnection, handle: str, *, local: bool, **values: object) -> None:
        base = BASE if local else REMOTE
        domain = "127.0.0.1:8000" if local else "remote.example"
        uri = f"{base}/users/{handle}"
        self.ids[handle] = await self.rows.add(
            c,
            "actors",
            **{
                "uri": uri,
                "type": "Person",
                "username": handle,
                "domain": domain,
                "local": local,
                "display_name": handle.title(),
                "skills": [],
                "fields": [],
                "open_to_collaboration": False,
                "inbox_url": f"{uri}/inbox",
                "outbox_url": f"{uri}/outbox",
                "followers_url": f"{uri}/followers",
                "following_url": f"{uri}/following",
                "shared_inbox_url": f"{base}/inbox",
                "manually_approves_followers": False,
                "discoverable": True,
                "indexable": True,
                "created_at": at(0),
                "updated_at": at(0),
                **values,
            },
        )

    async def post(self, c: AsyncConnection, slug: str, author: str, **values: object) -> None:
        local = author in ("alice", "institution")
        self.ids[slug] = await self.rows.add(
            c,
            "objects",
            **{
                "uri": f"{BASE}/objects/{slug}" if local else f"{REMOTE}/notes/{slug}",
                "type": "Note",
                "kind": "note",
                "author_id": self.ids[author],
                "local": local,
                "visibility": "public",
                "sensitive": False,
                "tags": [],
                "skills": [],
                "extra": {},
                "pinned": False,
                "published": at(len(self.ids)),
                **values,
            },
        )


# --- what each revision's tables get ----------------------------------------------------


async def seed_0001(seed: Seed, c: AsyncConnection) -> None:
    add = seed.rows.add
    private_key, public_key = seed.keys
    await seed.actor(
        c,
        "institution",
        local=True,
        type="Organization",
        display_name="Migrated University",
        public_key_id=f"{BASE}/users/institution#main-key",
        public_key_pem=seed.institution_keys[1],
        private_key_pem=seed.institution_keys[0],
    )
    await seed.actor(
        c,
        "alice",
        local=True,
        summary="<p>Graph learning at scale.</p>",
        skills=["NLP", "graph learning"],
        department="Computer Science",
        public_key_id=f"{BASE}/users/alice#main-key",
        public_key_pem=public_key,
        private_key_pem=private_key,
    )
    # A link 0007 forgets (not http), a remote actor whose links stay, and one nobody follows.
    await seed.actor(c, "bob", local=False, url="javascript:alert(1)", icon_url="data:,x")
    await seed.actor(c, "carol", local=False, url=f"{REMOTE}/@carol", icon_url=f"{REMOTE}/carol.png")
    seed.ids["alice_user"] = await add(
        c,
        "users",
        actor_id=seed.ids["alice"],
        username="alice",
        email="alice@uni.example",
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        role="admin",
        disabled=False,
        created_at=at(1),
    )
    await seed.post(
        c,
        "article",
        "alice",
        type="Article",
        kind="article",
        name="Graph neural networks",
        content="<p>Message passing on <em>citation graphs</em>.</p>",
        source="Message passing…",
        skills=["graph learning"],
        tags=["gnn"],
    )
    await seed.post(c, "note", "alice", content="<p>Seminar at noon.</p>", language="en")
    await seed.post(c, "private_note", "alice", content="<p>For followers.</p>", visibility="followers")
    # Before 0012, a remote post's attachments lived in `extra`.
    chart = {"url": f"{REMOTE}/media/chart.png", "media_type": "image/png", "name": "A chart"}
    await seed.post(c, "remote_note", "bob", content="<p>Look at this.</p>", extra={"attachments": [chart]})
    await seed.post(c, "carol_note", "carol", content="<p>Hiring a postdoc.</p>")
    await seed.post(c, "carol_thesis", "carol", content="<p>My thesis is out.</p>")
    for follower, followed, state in (
        ("alice", "bob", "accepted"),
        ("carol", "alice", "accepted"),
        ("bob", "alice", "pending"),
    ):
        seed.ids[f"{follower}_follows_{followed}"] = await add(
            c,
            "follows",
            uri=f"{REMOTE}/follows/{follower}-{followed}",
            follower_id=seed.ids[follower],
            followed_id=seed.ids[followed],
            state=state,
            created_at=at(5),
            accepted_at=at(6) if state == "accepted" else None,
        )
    seed.ids["like"] = await _reaction(seed, c, "like", "carol", "article", 1, minute=7)
    seed.ids["boost"] = await _reaction(seed, c, "announce", "bob", "carol_note", 1, minute=8)
    seed.ids["mention"] = await add(
        c,
        "interactions",
        kind="mention",
        actor_id=seed.ids["bob"],
        target_actor_id=seed.ids["alice"],
        created_at=at(9),
    )
    create = {"type": "Create", "id": f"{BASE}/activities/create-note", "actor": f"{BASE}/users/alice"}
    seed.ids["create"] = await add(
        c,
        "activities",
        uri=create["id"],
        type="Create",
        actor_uri=create["actor"],
        object_uri=f"{BASE}/objects/note",
        local=True,
        document=create,
        created_at=at(3),
    )
    seed.ids["delivery"] = await add(
        c,
        "delivery_jobs",
        activity_id=seed.ids["create"],
        signer_id=seed.ids["alice"],
        inbox_url=f"{REMOTE}/inbox",
        host="remote.example",
        state="queued",
        attempts=2,
        next_attempt_at=at(20),
        last_status=503,
        last_error="503 Service Unavailable",
        created_at=at(3),
        updated_at=at(10),
    )
    await add(
        c,
        "instances",
        host="remote.example",
        signature_scheme="cavage",
        software="mastodon",
        last_success_at=at(4),
    )
    seed.ids["domain_block"] = await add(
        c, "domain_blocks", domain="spam.example", reason="spam", created_at=at(2)
    )


async def seed_0002(seed: Seed, c: AsyncConnection) -> None:
    await seed.rows.update(c, "users", seed.ids["alice_user"], api_token_hash=digest("legacy-api-token"))


async def seed_0003(seed: Seed, c: AsyncConnection) -> None:
    await seed.rows.update(c, "actors", seed.ids["bob"], crawled_at=at(30))


async def seed_0004(seed: Seed, c: AsyncConnection) -> None:
    add = seed.rows.add
    await add(c, "analytics_runs", computed_at=at(40), actors=4, edges=3, projects=0, seconds=0.25)
    await add(
        c,
        "actor_scores",
        key_column="actor_id",
        actor_id=seed.ids["alice"],
        influence=0.5,
        pagerank=0.125,
        computed_at=at(40),
    )
    await add(
        c,
        "recommendations",
        actor_id=seed.ids["alice"],
        kind="person",
        rank=1,
        target_uri=f"{REMOTE}/users/carol",
        score=0.75,
        shared={"skills": ["NLP"]},
        computed_at=at(40),
    )


async def seed_0005(seed: Seed, c: AsyncConnection) -> None:
    await seed.rows.add(
        c,
        "invitations",
        token_hash=digest("invite"),
        role="member",
        note="for Dan",
        created_by_id=seed.ids["alice"],
        created_at=at(50),
        expires_at=at(50 + 7 * 24 * 60),
    )
    await seed.rows.update(c, "users", seed.ids["alice_user"], notifications_seen_at=at(51))


async def seed_0006(seed: Seed, c: AsyncConnection) -> None:
    # Written after the search index exists: its triggers index it, as they do every new row.
    await seed.actor(c, "dan", local=False, skills=["robotics"], headline="Robot arms")


async def seed_0008(seed: Seed, c: AsyncConnection) -> None:
    add = seed.rows.add
    seed.ids["app"] = await add(
        c,
        "oauth_applications",
        client_id="migrated-client",
        client_secret_hash=digest("secret"),
        name="Elk",
        website="https://elk.example",
        redirect_uris=["urn:ietf:wg:oauth:2.0:oob"],
        scopes="read write follow",
        created_at=at(60),
    )
    seed.ids["authorization"] = await add(
        c,
        "oauth_authorizations",
        code_hash=digest("code"),
        application_id=seed.ids["app"],
        user_id=seed.ids["alice_user"],
        scopes="read write follow",
        redirect_uri="urn:ietf:wg:oauth:2.0:oob",
        code_challenge="x" * 43,
        code_challenge_method="S256",
        created_at=at(61),
        expires_at=at(71),
        used_at=at(62),
    )
    seed.ids["token"] = await add(
        c,
        "oauth_tokens",
        token_hash=digest(ACCESS_TOKEN),
        refresh_token_hash=digest("refresh"),
        application_id=seed.ids["app"],
        user_id=seed.ids["alice_user"],
        scopes="read write follow",
        created_at=at(62),
    )


async def seed_0009(seed: Seed, c: AsyncConnection) -> None:
    await seed.rows.add(
        c,
        "notification_dismissals",
        actor_id=seed.ids["alice"],
        source=1,
        ref_id=seed.ids["like"],
        at=at(7),
        created_at=at(70),
    )


async def seed_0010(seed: Seed, c: AsyncConnection) -> None:
    await seed.rows.update(c, "oauth_tokens", seed.ids["token"], authorization_id=seed.ids["authorization"])


async def seed_0011(seed: Seed, c: AsyncConnection) -> None:
    await seed.rows.add(
        c,
        "markers",
        actor_id=seed.ids["alice"],
        timeline="home",
        last_read_id=str(seed.ids["note"]),
        version=3,
        updated_at=at(80),
    )


async def seed_0012(seed: Seed, c: AsyncConnection) -> None:
    await seed.rows.add(
        c,
        "media_attachments",
        actor_id=seed.ids["alice"],
        object_id=seed.ids["note"],
        position=0,
        purpose="attachment",
        type="image",
        media_type="image/png",
        file_name="A" * 32 + ".png",
        preview_name="B" * 32 + ".webp",
        description="The seminar room",
        blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
        width=640,
        height=480,
        preview_width=400,
        preview_height=300,
        focus_x=0.0,
        focus_y=-0.5,
        file_size=12345,
        created_at=at(90),
    )
    await seed.rows.update(c, "actors", seed.ids["alice"], image_url=f"{BASE}/media/{'C' * 32}.jpg")


async def seed_0013(seed: Seed, c: AsyncConnection) -> None:
    add = seed.rows.add
    await add(
        c,
        "post_edits",
        object_id=seed.ids["note"],
        content="<p>Seminar at 11.</p>",
        language="en",
        sensitive=False,
        tags=[],
        replaced_at=at(100),
    )
    await add(
        c, "bookmarks", actor_id=seed.ids["alice"], object_id=seed.ids["remote_note"], created_at=at(101)
    )
    await add(
        c,
        "idempotency_keys",
        actor_id=seed.ids["alice"],
        key="retry-1",
        object_id=seed.ids["note"],
        created_at=at(102),
    )


async def seed_0014(seed: Seed, c: AsyncConnection) -> None:
    await seed.rows.update(c, "delivery_jobs", seed.ids["delivery"], request_id="5c0e1f")


async def seed_0015(seed: Seed, c: AsyncConnection) -> None:
    after = seed.ids["remote_note"]
    seed.ids["boost_after"] = await _reaction(
        seed, c, "announce", "bob", "carol_thesis", 2, minute=110, after_post_id=after
    )


async def seed_0023(seed: Seed, c: AsyncConnection) -> None:
    """Carol's like of the article, stored a second time under another id (issue 19)."""
    seed.ids["like_again"] = await _reaction(seed, c, "like", "carol", "article", 2, minute=120)


async def _reaction(
    seed: Seed,
    c: AsyncConnection,
    kind: str,
    actor: str,
    post: str,
    number: int,
    *,
    minute: int,
    **values: object,
) -> int:
    """A remote actor's like or boost, activity number `number` of its kind."""
    return await seed.rows.add(
        c,
        "interactions",
        kind=kind,
        actor_id=seed.ids[actor],
        object_id=seed.ids[post],
        activity_uri=f"{REMOTE}/{kind}s/{number}",
        created_at=at(minute),
        **values,
    )


SEEDS: dict[str, Callable[[Seed, AsyncConnection], Awaitable[None]]] = {
    "0001": seed_0001,
    "0002": seed_0002,
    "0003": seed_0003,
    "0004": seed_0004,
    "0005": seed_0005,
    "0006": seed_0006,
    "0008": seed_0008,
    "0009": seed_0009,
    "0010": seed_0010,
    "0011": seed_0011,
    "0012": seed_0012,
    "0013": seed_0013,
    "0014": seed_0014,
    "0015": seed_0015,
    "0023": seed_0023,
}


# --- what migrations compute -------------------------------------------------------------


def backfilled_0007(seed: Seed) -> None:
    seed.rows.expect("actors", seed.ids["bob"], url=None, icon_url=None)  # not http(s): forgotten


def backfilled_0015(seed: Seed) -> None:
    for name in ("like", "boost", "mention"):  # a boost falls after the post it boosts
        values = seed.rows.expected[("interactions", seed.ids[name])]
        seed.rows.expect("interactions", seed.ids[name], after_post_id=values.get("object_id") or 0)


def backfilled_0016(seed: Seed) -> None:
    """A block from before severities suspends, as blocks did; its reason is the admins' own."""
    values = seed.rows.expected[("domain_blocks", seed.ids["domain_block"])]
    values["private_comment"] = values.pop("reason")
    seed.rows.expect("domain_blocks", seed.ids["domain_block"], severity="suspend", reject_media=False)


def backfilled_0024(seed: Seed) -> None:
    """One like per actor and post: the first stays, the one stored again goes."""
    seed.rows.expect_removed("interactions", seed.ids["like_again"])


BACKFILLS: dict[str, Callable[[Seed], None]] = {
    "0007": backfilled_0007,
    "0015": backfilled_0015,
    "0016": backfilled_0016,
    "0024": backfilled_0024,
}


async def check_search_documents(seed: Seed, c: AsyncConnection) -> None:
    """0006 indexed the people and articles written before it; its triggers, those after."""
    rows = await c.execute(text("SELECT actor_id, object_id, title FROM search_documents"))
    indexed = {(actor or object_id): title for actor, object_id, title in rows}
    ids = seed.ids
    assert indexed == {
        ids["alice"]: "Alice alice",
        ids["bob"]: "Bob bob",
        ids["carol"]: "Carol carol",
        ids["dan"]: "Dan dan",
        ids["article"]: "Graph neural networks",
    }


async def check_copied_attachments(seed: Seed, c: AsyncConnection) -> None:
    """0012 made a row of the attachment a remote post kept in `extra`."""
    rows = await c.execute(
        text(
            "SELECT actor_id, position, type, media_type, description FROM media_attachments"
            " WHERE object_id = :post"
        ),
        {"post": seed.ids["remote_note"]},
    )
    assert [tuple(row) for row in rows] == [(seed.ids["bob"], 0, "image", "image/png", "A chart")]
