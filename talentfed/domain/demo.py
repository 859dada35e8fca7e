"""A demo institution: three members, an article, a question with an answer, an open project call.

Running it again changes nothing: members are looked up by username and posts by
their fixed ids before anything is created.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain.accounts import hash_password
from talentfed.domain.members import NewMember, add_member, ensure_institution, find_local_actor, find_member
from talentfed.domain.posts import Draft, find_object, publish
from talentfed.federation.uris import LocalURIs
from talentfed.storage.models import Actor, utcnow

DEMO_MEMBERS = (
    NewMember(
        username="ada",
        display_name="Ada Okafor",
        headline="Research engineer, machine learning for speech",
        bio="I build **speech recognition** systems for low-resource languages.",
        department="Computer Science",
        skills=("Machine Learning", "Speech Recognition", "Python"),
        role="admin",
        open_to_collaboration=True,
    ),
    NewMember(
        username="grace",
        display_name="Grace Lindqvist",
        headline="PhD student in natural language processing",
        bio="Working on multilingual NLP and evaluation of language models.",
        department="Linguistics",
        skills=("NLP", "Machine Learning", "Evaluation"),
    ),
    NewMember(
        username="alan",
        display_name="Alan Mwangi",
        headline="Systems engineer",
        bio="Distributed systems, databases and the occasional compiler.",
        department="Research Computing",
        skills=("Distributed Systems", "PostgreSQL", "Rust"),
        manually_approves_followers=True,
    ),
)


# Demo members sign in with this password (a demo is for trying the node, never for real people).
DEMO_PASSWORD = "talentfed-demo"


@functools.cache
def _demo_password_hash() -> str:
    return hash_password(DEMO_PASSWORD)  # argon2 is slow on purpose: hash once per process


async def _member(session: AsyncSession, config: Config, new: NewMember) -> Actor:
    actor = await find_local_actor(session, new.username)
    if actor is None:
        actor = await add_member(session, config, new)
        _, user = await find_member(session, new.username)
        user.password_hash = _demo_password_hash()
    return actor


async def ensure_demo(session: AsyncSession, config: Config) -> dict[str, int]:
    """Create whatever part of the demo is missing; return how many things were created."""
    created = {"members": 0, "posts": 0}
    await ensure_institution(session, config)
    members = {}
    for new in DEMO_MEMBERS:
        existed = await find_local_actor(session, new.username) is not None
        members[new.username] = await _member(session, config, new)
        created["members"] += not existed

    uris = LocalURIs(config.node.base_url)
    posts = (
        (
            "demo-article",
            "ada",
            Draft(
                kind="article",
                title="Speech recognition for languages with little data",
                summary="What worked for us when we had ten hours of transcribed audio.",
                body="We trained on **ten hours** of audio.\n\nSelf-supervised pre-training helped most.",
                tags=("SpeechRecognition", "MachineLearning"),
            ),
        ),
        (
            "demo-question",
            "grace",
            Draft(
                kind="question",
                title="How do you evaluate a multilingual model fairly?",
                body="Averages over languages hide the weakest ones. What do you report?",
                tags=("NLP", "Evaluation"),
            ),
        ),
        (
            "demo-answer",
            "ada",
            Draft(
                kind="answer",
                body="Report the worst language next to the mean, and the spread across seeds.",
                in_reply_to=uris.object("demo-question"),
            ),
        ),
        (
            "demo-project",
            "ada",
            Draft(
                kind="project",
                title="Collaborators wanted: speech corpus for Swahili",
                body="We are collecting and transcribing a Swahili speech corpus.",
                skills=("Speech Recognition", "Swahili", "Data Engineering"),
                status="open",
                deadline=utcnow() + timedelta(days=60),
                team_size=4,
                contact="ada",
            ),
        ),
    )
    for object_id, author, draft in posts:
        if await find_object(session, uris.object(object_id)) is None:
            await publish(session, config, members[author], draft, object_id=object_id)
            created["posts"] += 1
    return created
