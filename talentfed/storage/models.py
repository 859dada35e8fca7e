"""Database tables.

These classes are plain records: no protocol logic, no side effects on save.
Code that turns them into ActivityPub documents lives in `talentfed.federation`,
code that decides what may change them lives in `talentfed.domain`.
Every change here needs an Alembic migration (`tests/storage/test_migrations.py`
fails when models and migrations disagree).
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

URI = String(2048)
NAME = String(255)
MAX_ROW_ID = 2**31 - 1  # the largest id of an Integer key (PostgreSQL): a larger one fails in the database


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Actor(Base):
    """A local member, the institution, or a remote actor we have seen."""

    __tablename__ = "actors"
    __table_args__ = (UniqueConstraint("domain", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(URI, unique=True, insert_sentinel=True)
    type: Mapped[str] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(NAME)
    domain: Mapped[str] = mapped_column(NAME, index=True)
    local: Mapped[bool] = mapped_column(Boolean, default=False)

    display_name: Mapped[str | None] = mapped_column(Text)
    headline: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)  # sanitised HTML
    summary_source: Mapped[str | None] = mapped_column(Text)  # Markdown, local actors only
    department: Mapped[str | None] = mapped_column(Text)
    skills: Mapped[list[str]] = mapped_column(JSONType, default=list)
    fields: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    open_to_collaboration: Mapped[bool] = mapped_column(Boolean, default=False)

    url: Mapped[str | None] = mapped_column(URI)
    icon_url: Mapped[str | None] = mapped_column(URI)
    image_url: Mapped[str | None] = mapped_column(URI)  # the profile's header picture
    inbox_url: Mapped[str] = mapped_column(URI)
    outbox_url: Mapped[str | None] = mapped_column(URI)
    followers_url: Mapped[str | None] = mapped_column(URI)
    following_url: Mapped[str | None] = mapped_column(URI)
    featured_url: Mapped[str | None] = mapped_column(URI)
    shared_inbox_url: Mapped[str | None] = mapped_column(URI)

    public_key_id: Mapped[str | None] = mapped_column(URI, index=True)
    public_key_pem: Mapped[str | None] = mapped_column(Text)
    private_key_pem: Mapped[str | None] = mapped_column(Text)

    manually_approves_followers: Mapped[bool] = mapped_column(Boolean, default=False)
    # Mastodon reads a missing discoverable/indexable as false; so do we for remote actors.
    discoverable: Mapped[bool] = mapped_column(Boolean, default=False)
    indexable: Mapped[bool] = mapped_column(Boolean, default=False)

    # Account migration: the other accounts this one says it also is (its `alsoKnownAs`), and
    # the account it moved to (`movedTo`); for our members and for remote actors alike.
    also_known_as: Mapped[list[str]] = mapped_column(JSONType, default=list)
    moved_to_uri: Mapped[str | None] = mapped_column(URI)

    document: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    published: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the crawler last read this actor's followers/following (the crawl resumes from it).
    crawled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.domain}"


class User(Base):
    """A login account of a local member."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), unique=True)
    username: Mapped[str] = mapped_column(NAME, unique=True)
    email: Mapped[str | None] = mapped_column(NAME)
    password_hash: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16), default="member")  # member | admin
    # SHA-256 of the member's API token; the token itself is shown once and never stored.
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The notifications page shows what arrived after this as new.
    notifications_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Invitation(Base):
    """A single-use link an admin gives a new member; only the token's hash is stored."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="member")
    note: Mapped[str | None] = mapped_column(Text)  # whom it is for, as the admin wrote it
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"))


class Object(Base):
    """A post of any kind: article, question, answer, project call, note, or a remote object."""

    __tablename__ = "objects"
    __table_args__ = (
        Index(None, "author_id", "published"),
        # An author's listed posts are counted from the index alone (an Account's statuses_count).
        Index(None, "author_id", "visibility", "deleted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(URI, unique=True, insert_sentinel=True)
    type: Mapped[str] = mapped_column(String(32))  # the ActivityStreams type
    kind: Mapped[str] = mapped_column(String(16), index=True)  # article|question|answer|project|note
    author_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    local: Mapped[bool] = mapped_column(Boolean, default=False)

    in_reply_to_uri: Mapped[str | None] = mapped_column(URI, index=True)
    context_uri: Mapped[str | None] = mapped_column(URI)
    url: Mapped[str | None] = mapped_column(URI)
    name: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str | None] = mapped_column(Text)  # sanitised HTML
    source: Mapped[str | None] = mapped_column(Text)  # Markdown, local objects only
    language: Mapped[str | None] = mapped_column(String(16))
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)  # normalised hashtags

    # Structured fields of talentfed's richer objects.
    skills: Mapped[list[str]] = mapped_column(JSONType, default=list)
    status: Mapped[str | None] = mapped_column(String(16))  # project calls: open|closed|filled
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_answer_uri: Mapped[str | None] = mapped_column(URI)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    document: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    published: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When an edit last changed what the post shows (post_edits.record_edit keeps it), so that a
    # page of statuses needs no query of `post_edits`.
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Activity(Base):
    """Every activity sent or received, by id: the record that makes the inbox idempotent."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(URI, unique=True, insert_sentinel=True)
    type: Mapped[str] = mapped_column(String(32))
    actor_uri: Mapped[str] = mapped_column(URI, index=True)
    object_uri: Mapped[str | None] = mapped_column(URI, index=True)
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Follow(Base):
    """follower follows followed; pending until the followed side accepts."""

    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("follower_id", "followed_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str | None] = mapped_column(URI, unique=True)  # the Follow activity's id
    follower_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    followed_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | accepted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryJob(Base):
    """One activity to POST to one inbox; written in the same transaction as the activity."""

    __tablename__ = "delivery_jobs"
    __table_args__ = (
        UniqueConstraint("activity_id", "inbox_url"),
        Index(None, "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    signer_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    inbox_url: Mapped[str] = mapped_column(URI)
    host: Mapped[str] = mapped_column(NAME, index=True)
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|done|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Which worker holds the lease; a worker whose lease was taken over cannot finish the job.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The id of the request that queued the job (X-Request-Id), so that its delivery is logged
    # under it; None for work no request caused (CLI commands).
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Set by the outbox on a job queued with its activity, so that one flush writes both
    # (the activity has no id before it); never loaded.
    activity: Mapped[Activity] = relationship(lazy="raise")


class Instance(Base):
    """What we know about a remote host: how it wants to be signed, whether it answers."""

    __tablename__ = "instances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host: Mapped[str] = mapped_column(NAME, unique=True)
    signature_scheme: Mapped[str | None] = mapped_column(String(16))  # cavage | rfc9421
    software: Mapped[str | None] = mapped_column(NAME)
    unreachable_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The newest post's id as a row is inserted: 0 before the first post.
NEWEST_POST_ID = select(func.coalesce(func.max(Object.id), 0)).scalar_subquery()


# The edges an actor makes at most once per post (a second Like of a post is the same like).
COUNTED_KINDS = ("like", "announce")
# The predicate of the partial unique index that holds that rule (migration 0024), written as
# text so that both back-ends, the migration and ON CONFLICT name the same index.
COUNTED_ONCE = text("kind IN ({})".format(", ".join(f"'{kind}'" for kind in COUNTED_KINDS)))


class Interaction(Base):
    """An edge of the observed graph other than a follow: reply, like, announce, mention."""

    __tablename__ = "interactions"
    __table_args__ = (
        Index(None, "kind", "actor_id"),
        Index(None, "kind", "after_post_id", "id"),
        # A page's counts (object_id IN … AND kind IN …) and its reader's likes and boosts.
        Index(None, "object_id", "kind", "actor_id"),
        # One like and one boost per actor and post, however many activities say so and however
        # many transactions store them at once (storage/reactions.py inserts against it).
        Index(
            "ux_interactions_counted_once",
            "actor_id",
            "object_id",
            "kind",
            unique=True,
            sqlite_where=COUNTED_ONCE,
            postgresql_where=COUNTED_ONCE,
        ),
    )
    # Read back on insert (RETURNING): an expired column would be loaded lazily, which async
    # sessions cannot do.
    __mapper_args__ = MappingProxyType({"eager_defaults": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # reply | like | announce | mention
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    object_id: Mapped[int | None] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"))
    target_actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("actors.id", ondelete="CASCADE"), index=True
    )
    activity_uri: Mapped[str | None] = mapped_column(URI, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Where the edge falls among posts in time: after the newest post stored when it was
    # recorded. A reblog's place in a timeline is here (domain/timelines.py): post ids are in
    # the order posts arrived, and this puts reblogs in that order too. Filled in by the INSERT
    # itself, whoever writes the row; rows older than migration 0014 have their post's id.
    after_post_id: Mapped[int | None] = mapped_column(Integer, default=NEWEST_POST_ID)

    # Lets an edge be added before its post has its id (one flush writes the posts and edges
    # of a whole group commit: federation/handlers.py). Never loaded lazily.
    post: Mapped[Object | None] = relationship(lazy="raise", foreign_keys=[object_id])


class DomainBlock(Base):
    """A remote domain moderated by this node's admins, with Mastodon's severities: `suspend`
    (refused, its data purged), `silence` (kept off public pages) or `noop` (only the flags)."""

    __tablename__ = "domain_blocks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(NAME, unique=True)
    severity: Mapped[str] = mapped_column(String(16), default="suspend", server_default="suspend")
    reject_media: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reject_reports: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    obfuscate: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    private_comment: Mapped[str | None] = mapped_column(Text)  # for admins only
    public_comment: Mapped[str | None] = mapped_column(Text)  # shown where blocks are published
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DomainAllow(Base):
    """A domain that may federate when `[federation] mode = "allowlist"` (ignored otherwise)."""

    __tablename__ = "domain_allows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(NAME, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnalyticsRun(Base):
    """One recomputation of similarity and influence over the observed graph."""

    __tablename__ = "analytics_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actors: Mapped[int] = mapped_column(Integer, default=0)
    edges: Mapped[int] = mapped_column(Integer, default=0)
    projects: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


class ActorScore(Base):
    """An actor's influence and PageRank in the latest run."""

    __tablename__ = "actor_scores"

    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)
    influence: Mapped[float] = mapped_column(Float, default=0.0, index=True)
    pagerank: Mapped[float] = mapped_column(Float, default=0.0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Recommendation(Base):
    """For a local member: similar people elsewhere, or open project calls that fit, with why."""

    __tablename__ = "recommendations"
    __table_args__ = (Index(None, "actor_id", "kind", "rank"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # person | project
    rank: Mapped[int] = mapped_column(Integer)
    target_uri: Mapped[str] = mapped_column(URI)
    score: Mapped[float] = mapped_column(Float)
    shared: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchDocument(Base):
    """The plain text of one searchable person or post, as the full-text index reads it.

    Written only by the database's own triggers on `actors` and `objects` (migration 0006),
    never by Python code; `talentfed.storage.search` says what is indexed and how.
    """

    __tablename__ = "search_documents"
    __table_args__ = (CheckConstraint("(actor_id IS NULL) <> (object_id IS NULL)", name="one_source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), unique=True)
    object_id: Mapped[int | None] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), unique=True)
    title: Mapped[str] = mapped_column(Text, default="")  # a person's name and username; a post's title
    skills: Mapped[str] = mapped_column(Text, default="")  # skills (and a post's tags), comma-separated
    lead: Mapped[str] = mapped_column(Text, default="")  # a person's headline and department; a summary
    body: Mapped[str] = mapped_column(Text, default="")  # a person's bio; a post's text


class OAuthApplication(Base):
    """A client app registered for the Mastodon client API (POST /api/v1/apps).

    The client secret is shown once, at registration; only its SHA-256 is kept.
    """

    __tablename__ = "oauth_applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(NAME)
    website: Mapped[str | None] = mapped_column(URI)
    redirect_uris: Mapped[list[str]] = mapped_column(JSONType, default=list)
    scopes: Mapped[str] = mapped_column(Text)  # space-separated, as OAuth writes them
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OAuthAuthorization(Base):
    """An authorization code a member granted an app: single-use, short-lived, stored hashed."""

    __tablename__ = "oauth_authorizations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("oauth_applications.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[str] = mapped_column(Text)
    redirect_uri: Mapped[str] = mapped_column(URI)
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OAuthToken(Base):
    """An access token (and its refresh token) of an app; a member's, or the app's own
    (client_credentials, no user). Both tokens are stored as SHA-256 only."""

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("oauth_applications.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The code this token (or the token it was refreshed from) was issued for: a code presented
    # twice revokes every token issued from it (RFC 6749 §4.1.2). None for client_credentials.
    authorization_id: Mapped[int | None] = mapped_column(
        ForeignKey("oauth_authorizations.id", ondelete="SET NULL"), index=True
    )
    scopes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationDismissal(Base):
    """A notification a member dismissed (or cleared). Notifications are derived from other
    rows (domain/notifications.py); this names one by its key: its source table (`source`),
    that row's id and its time. The time is kept so that a reused row id (SQLite may reuse the
    largest one after a delete) is not hidden by an old dismissal."""

    __tablename__ = "notification_dismissals"
    __table_args__ = (UniqueConstraint("actor_id", "source", "ref_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    source: Mapped[int] = mapped_column(SmallInteger)
    ref_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Marker(Base):
    """Where a member stopped reading a timeline (`home` or `notifications`), as Mastodon's
    markers: the id last read (a status id, or a notification's key), and a version that grows
    with each change, for apps that sync the position between devices."""

    __tablename__ = "markers"
    __table_args__ = (UniqueConstraint("actor_id", "timeline"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    timeline: Mapped[str] = mapped_column(String(16))
    last_read_id: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MediaAttachment(Base):
    """A picture: a member's upload (a media attachment, an avatar or a header), kept as files
    under [media] directory (`storage/media_files.py`), or a remote post's attachment, known only
    by its URL (never downloaded). domain/media.py decides what is accepted; federation/
    post_store.py writes the remote ones.

    An upload has no post until a status attaches it; uploads left without one, and avatars or
    headers no longer shown, are orphans that `talentfed prune-media` removes.
    """

    __tablename__ = "media_attachments"
    __table_args__ = (Index(None, "actor_id", "object_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))  # uploader or author
    object_id: Mapped[int | None] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger, default=0)  # order within the post
    purpose: Mapped[str] = mapped_column(String(16), default="attachment")  # attachment | avatar | header
    type: Mapped[str] = mapped_column(String(16))  # Mastodon's: image | video | gifv | audio | unknown
    media_type: Mapped[str | None] = mapped_column(String(255))
    file_name: Mapped[str | None] = mapped_column(String(64), unique=True)  # local files only
    preview_name: Mapped[str | None] = mapped_column(String(64))
    remote_url: Mapped[str | None] = mapped_column(URI)  # remote attachments only
    description: Mapped[str | None] = mapped_column(Text)  # alt text
    blurhash: Mapped[str | None] = mapped_column(String(100))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    preview_width: Mapped[int | None] = mapped_column(Integer)
    preview_height: Mapped[int | None] = mapped_column(Integer)
    focus_x: Mapped[float | None] = mapped_column(Float)
    focus_y: Mapped[float | None] = mapped_column(Float)
    file_size: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Lets a remote post's attachments be added before the post has its id (one flush writes
    # both: storage/group_commit.py stores many posts at once). Never loaded lazily.
    post: Mapped[Object | None] = relationship(lazy="raise")


class PostEdit(Base):
    """A version of a post that an edit replaced, for the post's history (Mastodon's StatusEdit).

    Written only through `federation/post_edits.record_edit`, for our members' edits and other
    servers' Updates alike. The current version is the post itself; a version was shown from
    the `replaced_at` of the one before it (the post's `published` for the first) until its own.
    """

    __tablename__ = "post_edits"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str | None] = mapped_column(Text)  # sanitised HTML
    source: Mapped[str | None] = mapped_column(Text)  # Markdown, local objects only
    language: Mapped[str | None] = mapped_column(String(16))
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Bookmark(Base):
    """A post a member bookmarked: private to the member, never federated."""

    __tablename__ = "bookmarks"
    __table_args__ = (UniqueConstraint("actor_id", "object_id"), Index(None, "actor_id", "id"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyKey(Base):
    """An `Idempotency-Key` a member's app sent with a new post, and the post it made; a key is
    claimed in the transaction that publishes, so a second request with it answers that post."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("actor_id", "key"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(NAME)
    # Set in the transaction that claimed the key, so a committed key always names its post.
    object_id: Mapped[int | None] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Report(Base):
    """An account (and some of its posts) reported to this node's moderators: filed by a member
    here, or received from another server as a `Flag` (then `reporter_id` is the actor that sent
    it, often that server's instance actor). domain/reports.py files and resolves them;
    federation/flags.py stores the received ones."""

    __tablename__ = "reports"
    __table_args__ = (Index(None, "resolved_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The Flag's id: received (a second delivery of it stores nothing) or sent (forwarded).
    uri: Mapped[str | None] = mapped_column(URI, unique=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    post_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    comment: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(16), default="other")  # spam | legal | violation | other
    rule_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)  # the node's rules broken
    forwarded: Mapped[bool] = mapped_column(Boolean, default=False)  # a Flag went to the target's server
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ReportNote(Base):
    """A moderator's note on a report, for the other moderators."""

    __tablename__ = "report_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModerationLogEntry(Base):
    """One moderation action, kept for the record: who did what to what, and why
    (domain/moderation_log.py writes every one)."""

    __tablename__ = "moderation_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    moderator_name: Mapped[str] = mapped_column(NAME)  # kept when the account is gone
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(Text)  # a domain, an account's handle, a post's URI, "report 12"
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ThreadMute(Base):
    """A thread a member muted (Mastodon's conversation mute): the thread is named by the
    `context_uri` its posts share, or its first post's uri; see domain/thread_mutes.py."""

    __tablename__ = "thread_mutes"
    __table_args__ = (UniqueConstraint("actor_id", "thread_uri"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    thread_uri: Mapped[str] = mapped_column(URI)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationPolicy(Base):
    """What a member does with notifications from some people (Mastodon's notification
    policy): each `for_…` is accept, filter or drop; see domain/notification_policy.py."""

    __tablename__ = "notification_policies"

    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)
    for_not_following: Mapped[str] = mapped_column(String(8), default="accept")
    for_not_followers: Mapped[str] = mapped_column(String(8), default="accept")
    for_new_accounts: Mapped[str] = mapped_column(String(8), default="accept")
    for_private_mentions: Mapped[str] = mapped_column(String(8), default="accept")
    for_limited_accounts: Mapped[str] = mapped_column(String(8), default="accept")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RateLimitCounter(Base):
    """One rate-limit window of one key, shared by every process (storage/rate_counters.py)."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the rule and key
    resets_at: Mapped[float] = mapped_column(Float, index=True)  # Unix time the window ends
    hits: Mapped[int] = mapped_column(Integer)


class AccountBlock(Base):
    """`blocker_id` blocks `blocked_id` (Mastodon's Block): a member blocking someone, or a
    remote actor's Block of a member received here; the direction tells which. `uri` is the
    Block activity's id (ours, or the one received), which an Undo names."""

    __tablename__ = "account_blocks"
    __table_args__ = (UniqueConstraint("blocker_id", "blocked_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    blocker_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    blocked_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    uri: Mapped[str | None] = mapped_column(URI)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccountMute(Base):
    """A member mutes an account (Mastodon's Mute): its posts leave the member's timelines,
    with `notifications` its notifications too, until `expires_at` (never when None). Private
    to the member: nothing is federated."""

    __tablename__ = "account_mutes"
    __table_args__ = (UniqueConstraint("actor_id", "muted_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    muted_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Embedding(Base):
    """The sentence embedding of one person's profile or one post, as the local model made it
    (domain/embeddings.py): int8 codes and their scale (analytics/embeddings.py), the model's
    name, and a SHA-256 of the text embedded, so unchanged text is never embedded again.
    Exactly one of `actor_id` and `object_id` is set; the row goes with its actor or post."""

    __tablename__ = "embeddings"
    __table_args__ = (CheckConstraint("(actor_id IS NULL) <> (object_id IS NULL)", name="one_subject"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), unique=True)
    object_id: Mapped[int | None] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), unique=True)
    model: Mapped[str] = mapped_column(String(64))
    text_hash: Mapped[str] = mapped_column(String(64))
    codes: Mapped[bytes] = mapped_column(LargeBinary)
    scale: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
