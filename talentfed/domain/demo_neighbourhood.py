"""Demo data: an observed neighbourhood for the demo institution, so a first start has something
to recommend, rank and draw.

Researchers of two made-up institutions, stored as if this node had observed them (remote
actors, their public posts and project calls, who follows whom, among them and with the demo
members), some writing in English, some in Chinese or German, so that semantic matching has
something to find across languages. Everything here is made up and says so: the institutions'
domains end in `.invalid` (reserved, RFC 2606: no such host can exist, so nothing is ever
delivered or fetched there), and each profile carries a "Demo data" field, shown on its page
(a field, not a line of the bio, so the words of the mark do not count as something every demo
researcher has in common). `remove_neighbourhood`
(`talentfed demo --remove-neighbourhood`) deletes all of it: the actors, and with them their posts
and follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.domain.members import find_local_actor
from talentfed.storage.models import Actor, Follow, Object, utcnow

DEMO_DOMAINS = ("lab.demo.invalid", "uni.demo.invalid")
DEMO_FIELD = "Demo data"
DEMO_MARK = "a made-up researcher (talentfed demo --remove-neighbourhood deletes it)"


@dataclass(frozen=True)
class DemoPerson:
    username: str
    domain: str
    name: str
    headline: str
    bio: str
    skills: tuple[str, ...]


@dataclass(frozen=True)
class DemoPost:
    slug: str
    author: str  # username
    kind: str  # project | article
    title: str
    body: str
    skills: tuple[str, ...] = ()
    language: str = "en"


LAB, UNI = DEMO_DOMAINS
PEOPLE = (
    DemoPerson(
        "liwei",
        LAB,
        "Li Wei",
        "语音识别研究员",
        "研究低资源语言的语音识别和声学模型，也做自监督预训练。",
        ("语音识别", "机器学习"),
    ),
    DemoPerson(
        "jonas",
        LAB,
        "Jonas Weber",
        "Doktorand, Spracherkennung",
        "Ich arbeite an Spracherkennung für Dialekte und an der Bewertung von Sprachmodellen.",
        ("Spracherkennung", "Evaluation"),
    ),
    DemoPerson(
        "amina",
        LAB,
        "Amina Diallo",
        "Speech scientist",
        "Acoustic models and speech corpora for West African languages; fieldwork and transcription.",
        ("Speech Recognition", "Corpus Linguistics", "Python"),
    ),
    DemoPerson(
        "chen",
        UNI,
        "Chen Jing",
        "多语言自然语言处理",
        "多语言模型的公平评估，关注资源最少的语言。",
        ("自然语言处理", "Evaluation"),
    ),
    DemoPerson(
        "marta",
        UNI,
        "Marta Kowalska",
        "Research software engineer",
        "Distributed databases, PostgreSQL internals and reproducible research pipelines.",
        ("PostgreSQL", "Distributed Systems", "Data Engineering"),
    ),
    DemoPerson(
        "tomas",
        UNI,
        "Tomás Ruiz",
        "Machine learning engineer",
        "Graph neural networks for molecules, and the occasional GNN for citation graphs.",
        ("Graph Neural Networks", "Machine Learning", "Python"),
    ),
    DemoPerson(
        "sara",
        UNI,
        "Sara Nilsson",
        "Postdoc in NLP",
        "Benchmarks for multilingual language models and how to report the weakest language.",
        ("NLP", "Evaluation", "Machine Learning"),
    ),
)

POSTS = (
    DemoPost(
        "swahili-asr",
        "liwei",
        "project",
        "招募合作者：斯瓦希里语语音语料库",
        "我们正在为斯瓦希里语收集和转写语音数据，需要懂语音识别和数据工程的合作者。",
        ("语音识别", "Swahili"),
        "zh",
    ),
    DemoPost(
        "dialect-eval",
        "jonas",
        "project",
        "Mitarbeit gesucht: Bewertung von Spracherkennung für Dialekte",
        "Wir suchen Partner für einen Benchmark zur Spracherkennung in deutschen Dialekten.",
        ("Spracherkennung", "Evaluation"),
        "de",
    ),
    DemoPost(
        "db-pipeline",
        "marta",
        "project",
        "Help wanted: a reproducible pipeline on PostgreSQL",
        "We need someone who knows distributed systems to make our data pipeline reproducible.",
        ("PostgreSQL", "Distributed Systems"),
    ),
    DemoPost(
        "fair-eval",
        "sara",
        "article",
        "Reporting the weakest language",
        "Averages over languages hide where a multilingual model fails; we report the minimum too.",
    ),
)

# Who follows whom: demo researchers among themselves, and with the demo members (ada, grace, alan).
FOLLOWS = (
    ("liwei", "amina"),
    ("amina", "liwei"),
    ("jonas", "amina"),
    ("amina", "ada"),
    ("liwei", "ada"),
    ("chen", "sara"),
    ("sara", "chen"),
    ("sara", "grace"),
    ("tomas", "sara"),
    ("marta", "alan"),
    ("ada", "amina"),
    ("grace", "sara"),
    ("alan", "marta"),
)


def _uri(person: DemoPerson) -> str:
    return f"https://{person.domain}/users/{person.username}"


def _actor(person: DemoPerson) -> Actor:
    uri = _uri(person)
    return Actor(
        uri=uri,
        type="Person",
        username=person.username,
        domain=person.domain,
        local=False,
        display_name=person.name,
        headline=person.headline,
        summary=f"<p>{person.bio}</p>",
        skills=list(person.skills),
        fields=[{"name": DEMO_FIELD, "value": DEMO_MARK}],
        inbox_url=f"{uri}/inbox",
        followers_url=f"{uri}/followers",
        url=uri,
        discoverable=True,
        indexable=True,
        open_to_collaboration=True,
        published=utcnow(),
        fetched_at=utcnow(),
    )


def _post(post: DemoPost, author: Actor) -> Object:
    return Object(
        uri=f"https://{author.domain}/objects/{post.slug}",
        type="Note" if post.kind == "project" else "Article",
        kind=post.kind,
        author_id=author.id,
        name=post.title,
        content=f"<p>{post.body}</p>",
        language=post.language,
        skills=list(post.skills),
        status="open" if post.kind == "project" else None,
        deadline=utcnow() + timedelta(days=90) if post.kind == "project" else None,
        visibility="public",
        extra={},
    )


async def ensure_neighbourhood(session: AsyncSession) -> int:
    """Store whatever part of the demo neighbourhood is missing; the number of actors created."""
    actors: dict[str, Actor] = {}
    created = 0
    for person in PEOPLE:
        found = (await session.execute(select(Actor).where(Actor.uri == _uri(person)))).scalar_one_or_none()
        if found is None:
            found = _actor(person)
            session.add(found)
            created += 1
        actors[person.username] = found
    for username in ("ada", "grace", "alan"):
        member = await find_local_actor(session, username)
        if member is not None:
            actors[username] = member
    await session.flush()
    for post in POSTS:
        author = actors[post.author]
        uri = f"https://{author.domain}/objects/{post.slug}"
        if (await session.execute(select(Object.id).where(Object.uri == uri))).first() is None:
            session.add(_post(post, author))
    for follower, followed in FOLLOWS:
        if follower in actors and followed in actors:
            await _follow(session, actors[follower], actors[followed])
    await session.flush()
    return created


async def _follow(session: AsyncSession, follower: Actor, followed: Actor) -> None:
    exists = await session.execute(
        select(Follow.id).where(Follow.follower_id == follower.id, Follow.followed_id == followed.id)
    )
    if exists.first() is None:
        session.add(
            Follow(follower_id=follower.id, followed_id=followed.id, state="accepted", accepted_at=utcnow())
        )


async def remove_neighbourhood(session: AsyncSession) -> int:
    """Delete every demo actor (their posts and follows go with them); how many there were."""
    count = await session.execute(
        select(func.count()).select_from(Actor).where(Actor.domain.in_(DEMO_DOMAINS))
    )
    await session.execute(delete(Actor).where(Actor.domain.in_(DEMO_DOMAINS)))
    return int(count.scalar_one())
