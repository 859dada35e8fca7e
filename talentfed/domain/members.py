"""The institution and its members: local actors with their keys and login accounts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain.stored_secrets import digest, new_secret
from talentfed.federation import activities, outbox, vocabulary
from talentfed.federation.context import PUBLIC
from talentfed.federation.render import actor_document
from talentfed.federation.signatures.keys import generate_rsa_keypair
from talentfed.federation.uris import LocalURIs
from talentfed.storage.models import Actor, User, utcnow
from talentfed.text import normalize_skill, normalize_skills, render_markdown

USERNAME_RULE = re.compile(r"^[a-z0-9_]{1,30}$")
# Paths and names that must never become a member's handle.
RESERVED_USERNAMES = frozenset({"admin", "root", "inbox", "actor", "api", "static", "well_known"})


class MemberError(ValueError):
    """A member cannot be created or changed as asked; the text says why."""


@dataclass(frozen=True)
class NewMember:
    username: str
    display_name: str
    skills: tuple[str, ...] = ()
    headline: str = ""
    bio: str = ""
    department: str = ""
    role: str = "member"
    open_to_collaboration: bool = False
    manually_approves_followers: bool = False
    discoverable: bool = True
    indexable: bool = True


def check_username(username: str) -> str:
    if not USERNAME_RULE.match(username):
        raise MemberError(f"username: expected 1-30 lowercase letters, digits or _, got {username!r}")
    if username in RESERVED_USERNAMES:
        raise MemberError(f"username: {username!r} is reserved")
    return username


def _local_actor(config: Config, username: str, actor_type: str) -> Actor:
    uris = LocalURIs(config.node.base_url)
    private_pem, public_pem = generate_rsa_keypair()
    return Actor(
        uri=uris.actor(username),
        type=actor_type,
        username=username,
        domain=config.node.domain,
        local=True,
        url=uris.profile_page(username),
        inbox_url=uris.inbox(username),
        outbox_url=uris.outbox(username),
        followers_url=uris.followers(username),
        following_url=uris.following(username),
        featured_url=uris.featured(username),
        shared_inbox_url=uris.shared_inbox,
        public_key_id=uris.key_id(username),
        public_key_pem=public_pem,
        private_key_pem=private_pem,
        skills=[],
        fields=[],
    )


async def find_local_actor(session: AsyncSession, username: str) -> Actor | None:
    return await session.scalar(select(Actor).where(Actor.local.is_(True), Actor.username == username))


async def ensure_institution(session: AsyncSession, config: Config) -> Actor:
    """The institution's Organization actor, created once with its key pair."""
    username = config.node.institution_username
    actor = await find_local_actor(session, username)
    if actor is None:
        actor = _local_actor(config, username, "Organization")
        actor.discoverable = True
        actor.indexable = True
        session.add(actor)
    actor.display_name = config.node.name
    actor.summary_source = config.node.summary
    actor.summary = render_markdown(config.node.summary) if config.node.summary else None
    await session.flush()
    return actor


async def add_member(session: AsyncSession, config: Config, new: NewMember) -> Actor:
    """Create a member's Person actor (RSA-2048 key pair) and login account."""
    username = check_username(new.username)
    if username == config.node.institution_username:
        raise MemberError(f"username: {username!r} is the institution's own handle")
    if not new.display_name.strip():
        raise MemberError("display name: expected a non-empty name")
    if new.role not in ("member", "admin"):
        raise MemberError(f"role: expected member or admin, got {new.role!r}")
    if await find_local_actor(session, username) is not None:
        raise MemberError(f"username: a member called {username!r} already exists")
    actor = _local_actor(config, username, "Person")
    actor.display_name = new.display_name.strip()
    actor.headline = new.headline.strip() or None
    actor.summary_source = new.bio
    actor.summary = render_markdown(new.bio) if new.bio.strip() else None
    actor.department = new.department.strip() or None
    actor.skills = _checked_skills(new.skills)
    actor.open_to_collaboration = new.open_to_collaboration
    actor.manually_approves_followers = new.manually_approves_followers
    actor.discoverable = new.discoverable
    actor.indexable = new.indexable
    session.add(actor)
    await session.flush()
    session.add(User(actor_id=actor.id, username=username, role=new.role))
    await session.flush()
    return actor


def _members_query() -> Select[Actor, User]:
    return select(Actor, User).join(User, User.actor_id == Actor.id)


async def list_members(session: AsyncSession) -> list[tuple[Actor, User]]:
    rows = await session.execute(_members_query().order_by(Actor.username))
    return [(actor, user) for actor, user in rows]


async def find_member(session: AsyncSession, username: str) -> tuple[Actor, User]:
    row = (await session.execute(_members_query().where(User.username == username))).first()
    if row is None:
        raise MemberError(f"username: no member called {username!r}")
    return row[0], row[1]


@dataclass(frozen=True)
class ProfileChanges:
    """Fields to change on a member's profile; None leaves a field as it is."""

    display_name: str | None = None
    headline: str | None = None
    bio: str | None = None
    department: str | None = None
    icon_url: str | None = None  # "" removes the picture
    image_url: str | None = None  # the header picture; "" removes it
    skills: tuple[str, ...] | None = None
    fields: tuple[tuple[str, str], ...] | None = None
    open_to_collaboration: bool | None = None
    discoverable: bool | None = None
    indexable: bool | None = None
    manually_approves_followers: bool | None = None


MAX_PROFILE_FIELDS = 8
SKILLS = vocabulary.term("skills")
MAX_SKILLS = SKILLS.max_items  # a profile lists the skills another server would read of it


def _checked_skills(raw: tuple[str, ...]) -> list[str]:
    """Normalised skill names within the vocabulary's limits (terms.toml), or MemberError."""
    skills = normalize_skills(list(raw))
    if problem := vocabulary.problem(SKILLS, skills):
        raise MemberError(f"skills: {problem}")
    return skills


def _apply_profile(actor: Actor, changes: ProfileChanges) -> None:
    if changes.display_name is not None:
        if not changes.display_name.strip():
            raise MemberError("display name: expected a non-empty name")
        actor.display_name = changes.display_name.strip()
    if changes.headline is not None:
        actor.headline = changes.headline.strip() or None
    if changes.bio is not None:
        actor.summary_source = changes.bio
        actor.summary = render_markdown(changes.bio) if changes.bio.strip() else None
    if changes.department is not None:
        actor.department = changes.department.strip() or None
    if changes.icon_url is not None:
        actor.icon_url = _picture_url("avatar", changes.icon_url)
    if changes.image_url is not None:
        actor.image_url = _picture_url("header", changes.image_url)
    if changes.skills is not None:
        actor.skills = _checked_skills(changes.skills)
    if changes.fields is not None:
        if len(changes.fields) > MAX_PROFILE_FIELDS:
            raise MemberError(f"fields: at most {MAX_PROFILE_FIELDS} profile fields")
        actor.fields = [{"name": name.strip(), "value": value.strip()} for name, value in changes.fields]
    for flag in ("open_to_collaboration", "discoverable", "indexable", "manually_approves_followers"):
        value = getattr(changes, flag)
        if value is not None:
            setattr(actor, flag, value)


def _picture_url(field: str, url: str) -> str | None:
    if url and not url.startswith(("https://", "http://")):
        raise MemberError(f"{field}: expected an http(s) URL, got {url!r}")
    return url or None


async def update_profile(
    session: AsyncSession, config: Config, actor: Actor, changes: ProfileChanges
) -> Actor:
    """Change a member's profile and send Update(Person) to their followers."""
    _apply_profile(actor, changes)
    await send_actor_update(session, config, actor)
    return actor


async def send_actor_update(session: AsyncSession, config: Config, actor: Actor) -> None:
    """The member's actor changed: followers get an Update(Person) with the whole document."""
    actor.updated_at = utcnow()
    await session.flush()
    uris = LocalURIs(config.node.base_url)
    institution = await find_local_actor(session, config.node.institution_username)
    document = actor_document(actor, uris, institution=institution)
    update = activities.build(config, "Update", actor, document, to=[PUBLIC], cc=[actor.followers_url])
    await outbox.send(session, config, actor, update, await outbox.follower_recipients(session, actor))


async def issue_api_token(session: AsyncSession, username: str) -> str:
    """A new API token for a member (replacing any earlier one); only its hash is stored."""
    _, user = await find_member(session, username)
    token = new_secret()
    user.api_token_hash = digest(token)
    await session.flush()
    return token


async def member_for_token(session: AsyncSession, token: str) -> tuple[Actor, User] | None:
    if not token:
        return None
    row = (
        await session.execute(
            _members_query().where(User.api_token_hash == digest(token), User.disabled.is_(False))
        )
    ).first()
    return (row[0], row[1]) if row else None


# --- skills one at a time (the client API's featured tags) ------------------------------


async def add_skill(session: AsyncSession, config: Config, actor: Actor, name: str) -> str:
    """Add one skill to the member's profile through `update_profile` (followers get an Update);
    the normalised name. MemberError when it is no name, over the limits, or already there."""
    skill = normalize_skill(name)
    if not skill:
        raise MemberError("skills: expected a skill or hashtag name")
    if skill in (actor.skills or []):
        raise MemberError(f"skills: {skill!r} is already one of your skills")
    await update_profile(session, config, actor, ProfileChanges(skills=(*(actor.skills or []), skill)))
    return skill


async def remove_skill(session: AsyncSession, config: Config, actor: Actor, name: str) -> bool:
    """Remove one skill (named in any spelling: `MachineLearning`, `machine learning`) through
    `update_profile`; False when the member has no such skill."""
    skill = normalize_skill(name)
    if skill not in (actor.skills or []):
        return False
    kept = tuple(other for other in actor.skills if other != skill)
    await update_profile(session, config, actor, ProfileChanges(skills=kept))
    return True
