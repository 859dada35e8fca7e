"""Search for the discovery page: ranked full-text hits, filters, paging, and opt-outs never shown."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain import posts
from talentfed.domain.members import NewMember, ProfileChanges, add_member, ensure_institution, update_profile
from talentfed.domain.posts import Draft
from talentfed.domain.search import SearchError, SearchPage, SearchQuery, search
from talentfed.storage.models import Actor, DomainBlock, Object, utcnow
from tests.support.factories import post_row, remote_actor

LAB = "lab.example"


def _remote(name: str, domain: str = LAB, *, skills=(), discoverable=True, indexable=True, **fields) -> Actor:
    fields.setdefault("display_name", name.title())
    return remote_actor(
        name, domain, skills=list(skills), discoverable=discoverable, indexable=indexable, **fields
    )


def _remote_post(author: Actor, slug: str, kind: str = "article", **fields) -> Object:
    return post_row(author, slug, kind, **fields)


async def _find(session: AsyncSession, config: Config, **query) -> SearchPage:
    return await search(session, config, SearchQuery(**query))


def _uris(page: SearchPage) -> list[str]:
    return [hit.uri for hit in page.hits]


@pytest.fixture
async def world(session: AsyncSession, config: Config) -> dict:
    """Members here (one opted out), people on lab.example and on a blocked domain, their posts."""
    await ensure_institution(session, config)
    ada = await add_member(
        session,
        config,
        NewMember(
            "ada",
            "Ada Lovelace",
            skills=("#SpeechRecognition", "Python"),
            headline="Acoustic modelling",
            bio="Acoustic models for **low-resource** languages, see [corpus](https://corpus.example/zebra).",
            department="Linguistics",
        ),
    )
    shy = await add_member(
        session, config, NewMember("shy", "Shy Person", skills=("Speech Recognition",), discoverable=False)
    )
    kim = _remote("kim", skills=["speech recognition", "kaldi"], summary="<p>Acoustic models and corpora</p>")
    quiet = _remote("quiet", skills=["speech recognition"], indexable=False, summary="<p>Acoustic</p>")
    bad = _remote("bad", "spam.blocked.example", skills=["speech recognition"], summary="<p>Acoustic</p>")
    session.add_all([kim, quiet, bad])
    session.add(DomainBlock(domain="blocked.example"))
    await session.flush()
    soon, later = utcnow() + timedelta(days=10), utcnow() + timedelta(days=60)
    asr = await posts.publish(
        session,
        config,
        ada,
        Draft(
            kind="project",
            title="Acoustic models for Swahili",
            body="We build **acoustic** models and need a corpus.",
            skills=("Speech Recognition", "Swahili"),
            status="open",
            deadline=later,
        ),
    )
    closed = await posts.publish(
        session,
        config,
        ada,
        Draft(kind="project", title="Tokenizer audit", body="Acoustic tokens.", status="open", deadline=soon),
    )
    await posts.set_project_status(session, config, ada, closed, "closed")
    article = await posts.publish(
        session,
        config,
        ada,
        Draft(kind="article", title="Notes on Kaldi", body="Kaldi recipes.", tags=("ASR",)),
    )
    question = await posts.publish(
        session, config, ada, Draft(kind="question", title="Which acoustic toolkit?", body="Kaldi or ESPnet?")
    )
    private = await posts.publish(
        session,
        config,
        ada,
        Draft(kind="article", title="Acoustic secrets", body="Only followers.", visibility="followers"),
    )
    gone = await posts.publish(
        session, config, ada, Draft(kind="article", title="Acoustic draft", body="Old.")
    )
    await posts.delete(session, config, ada, gone)
    remote_posts = [
        _remote_post(
            kim, "kim-call", "project", name="Acoustic corpus call", content="<p>Yoruba</p>", status=None
        ),
        _remote_post(
            quiet, "quiet-call", "project", name="Acoustic quiet call", content="<p>x</p>", status="open"
        ),
        _remote_post(
            bad, "bad-call", "project", name="Acoustic spam call", content="<p>x</p>", status="open"
        ),
    ]
    session.add_all(remote_posts)
    await session.flush()
    return {
        "ada": ada,
        "shy": shy,
        "kim": kim,
        "quiet": quiet,
        "bad": bad,
        "asr": asr,
        "closed": closed,
        "article": article,
        "question": question,
        "private": private,
        "gone": gone,
        "kim_call": remote_posts[0],
    }


async def test_text_finds_people_and_posts_ranked(session: AsyncSession, config: Config, world: dict) -> None:
    page = await _find(session, config, text="acoustic")
    found = _uris(page)
    # Everything visible that says "acoustic", and nothing that is hidden.
    expected = [world[key].uri for key in ("ada", "kim", "asr", "closed", "question", "kim_call")]
    assert sorted(found) == sorted(expected)
    assert [hit.score for hit in page.hits] == sorted((hit.score for hit in page.hits), reverse=True)
    assert all(hit.score > 0 for hit in page.hits)
    ada = next(hit for hit in page.hits if hit.uri == world["ada"].uri)
    assert ada.kind == "person" and ada.title == "Ada Lovelace" and ada.handle == "@ada@127.0.0.1:8000"
    assert ada.skills == ("speech recognition", "python") and ada.domain == "127.0.0.1:8000"
    assert ada.snippet.startswith("Acoustic modelling")
    call = next(hit for hit in page.hits if hit.uri == world["asr"].uri)
    assert call.kind == "project" and call.status == "open" and call.deadline == world["asr"].deadline
    assert call.title == "Acoustic models for Swahili" and call.skills == ("speech recognition", "swahili")
    assert call.snippet == "We build acoustic models and need a corpus."
    remote_call = next(hit for hit in page.hits if hit.uri == world["kim_call"].uri)
    assert remote_call.status == "open" and remote_call.domain == LAB  # no status: open, as in discovery


async def test_a_better_match_ranks_first(session: AsyncSession, config: Config) -> None:
    author = _remote("writer")
    session.add(author)
    await session.flush()
    filler = "<p>" + "Other words about languages and corpora. " * 5 + "</p>"
    session.add_all(
        [
            _remote_post(author, "body-once", name="A study", content=filler + "<p>zebrafish</p>"),
            _remote_post(author, "title", name="Zebrafish genetics", content=filler),
            _remote_post(author, "body-often", name="Another study", content=filler + "<p>zebrafish " * 4),
            _remote_post(author, "both-words", name="Zebrafish hearing", content=filler + "<p>cochlea</p>"),
        ]
    )
    await session.flush()
    ranked = [uri.rsplit("/", 1)[1] for uri in _uris(await _find(session, config, text="zebrafish"))]
    assert ranked[-1] == "body-once"  # once, in the body: the weakest
    assert ranked.index("body-often") < ranked.index("body-once")
    assert set(ranked[:2]) == {"title", "both-words"}  # in the title: the strongest
    both = _uris(await _find(session, config, text="zebrafish cochlea"))
    assert [uri.rsplit("/", 1)[1] for uri in both] == ["both-words"]  # every word must match
    quoted = _uris(await _find(session, config, text='"hearing zebrafish"'))
    assert quoted == []  # a quoted phrase keeps its order


async def test_filters(session: AsyncSession, config: Config, world: dict) -> None:
    async def uris(**query) -> set[str]:
        return set(_uris(await _find(session, config, **query)))

    w = {key: value.uri for key, value in world.items()}
    assert await uris(kind="people", skill="#SpeechRecognition") == {w["ada"], w["kim"]}
    assert await uris(kind="people", skill="speech-recognition", institution=LAB.upper()) == {w["kim"]}
    assert await uris(kind="projects") == {w["asr"], w["closed"], w["kim_call"]}
    assert await uris(kind="projects", status="open") == {w["asr"], w["kim_call"]}
    assert await uris(status="closed") == {w["closed"]}  # a status means project calls
    assert await uris(kind="projects", skill="swahili") == {w["asr"]}
    assert await uris(deadline_after=date.today() + timedelta(days=30)) == {w["asr"]}
    assert await uris(deadline_after=date.today()) == {w["asr"], w["closed"]}  # kim's call has no deadline
    assert await uris(kind="articles") == {w["article"]}
    assert await uris(kind="questions", text="kaldi") == {w["question"]}
    assert await uris(text="kaldi") == {w["article"], w["question"], w["kim"]}
    assert await uris(skill="asr") == {w["article"]}  # a post's hashtags count as its skills
    assert await uris(text="acoustic", institution=LAB) == {w["kim"], w["kim_call"]}
    assert await uris(text="acoustic", institution="127.0.0.1:8000", kind="projects", status="open") == {
        w["asr"]
    }


async def test_listing_without_text_is_newest_first(
    session: AsyncSession, config: Config, world: dict
) -> None:
    page = await _find(session, config, kind="projects")
    assert all(hit.score == 0.0 for hit in page.hits)
    published = [hit.published for hit in page.hits]
    assert published == sorted(published, reverse=True)
    everything = _uris(await _find(session, config, limit=100))
    assert world["ada"].uri in everything and world["article"].uri in everything


async def test_hidden_things_never_appear(session: AsyncSession, config: Config, world: dict) -> None:
    seen = set()
    for kind in ("all", "people", "projects", "articles", "questions"):
        for text in ("", "acoustic", "speech", "shy", "secrets", "draft", "quiet", "spam", "institution"):
            seen |= set(_uris(await _find(session, config, kind=kind, text=text, limit=100)))
    for key in ("shy", "quiet", "bad", "private", "gone"):
        assert world[key].uri not in seen, key
    assert not any(uri.endswith(("/quiet-call", "/bad-call")) for uri in seen)
    assert not any(uri.endswith("/institution") for uri in seen)  # the Organization is not a person


async def test_blocks_from_the_configuration_count_too(
    session: AsyncSession, config: Config, world: dict
) -> None:
    config = replace(config, federation=replace(config.federation, blocked_domains=(LAB,)))
    found = _uris(await _find(session, config, text="acoustic"))
    assert world["kim"].uri not in found and world["kim_call"].uri not in found
    assert world["ada"].uri in found


async def test_the_results_follow_edits_and_deletions(
    session: AsyncSession, config: Config, world: dict
) -> None:
    ada = world["ada"]
    await posts.edit(
        session,
        config,
        ada,
        world["article"],
        Draft(kind="article", title="Notes on wav2vec", body="Self-supervised speech.", tags=("ASR",)),
    )
    assert world["article"].uri not in _uris(await _find(session, config, text="kaldi", kind="articles"))
    assert _uris(await _find(session, config, text="wav2vec")) == [world["article"].uri]
    await posts.delete(session, config, ada, world["article"])
    assert _uris(await _find(session, config, text="wav2vec")) == []
    await update_profile(session, config, ada, ProfileChanges(headline="Phonology", discoverable=False))
    assert _uris(await _find(session, config, text="phonology")) == []  # opted out since
    await update_profile(session, config, ada, ProfileChanges(discoverable=True))
    assert _uris(await _find(session, config, text="phonology")) == [ada.uri]
    assert world["ada"].uri not in _uris(await _find(session, config, text="modelling"))


async def test_markup_is_not_searchable(session: AsyncSession, config: Config, world: dict) -> None:
    # ada's bio links to https://corpus.example/zebra and is stored as HTML.
    for word in ("href", "zebra", "nofollow", "noopener", "strong", "rel", "https"):
        assert _uris(await _find(session, config, text=word)) == [], word
    assert _uris(await _find(session, config, text="low-resource")) == [world["ada"].uri]
    assert _uris(await _find(session, config, text="corpus", kind="people")) == [world["ada"].uri]


async def test_accents_and_cjk(session: AsyncSession, config: Config) -> None:
    author = _remote("tanaka", "tokyo.example")
    session.add(author)
    await session.flush()
    session.add_all(
        [
            _remote_post(author, "ja", name="機械学習の研究", content="<p>音声認識と自然言語処理</p>"),
            _remote_post(author, "fr", name="Café phonétique", content="<p>Études</p>"),
        ]
    )
    await session.flush()
    assert len(_uris(await _find(session, config, text="cafe phonetique"))) == 1
    assert len(_uris(await _find(session, config, text="CAFÉ études"))) == 1
    assert len(_uris(await _find(session, config, text="機械学習"))) == 1
    assert len(_uris(await _find(session, config, text="音声認識"))) == 1
    assert len(_uris(await _find(session, config, text="自然言語処理 機械学習"))) == 1
    assert len(_uris(await _find(session, config, text="機械学習 cafe"))) == 0
    assert len(_uris(await _find(session, config, text="機械翻訳"))) == 0
    hit = (await _find(session, config, text="音声認識")).hits[0]
    assert hit.snippet == "音声認識と自然言語処理"
    # Two characters: found on PostgreSQL only (trigrams need three; see talentfed.storage.search).
    if session.get_bind().dialect.name == "postgresql":
        assert len(_uris(await _find(session, config, text="研究"))) == 1


async def test_hostile_text_is_just_words(session: AsyncSession, config: Config, world: dict) -> None:
    hostile = '"foo OR (|NEAR*|NEAR(acoustic kaldi)|acoustic AND|*|-acoustic|^acoustic|\'|\\|):* & !|""""|🙂'
    for text in [*hostile.split("|"), "acoustic:*A", "'; DROP TABLE objects; --", "<-> | &"]:
        await _find(session, config, text=text)
    assert _uris(await _find(session, config, text="title:kaldi")) == []  # "title" is a word here
    assert world["question"].uri in _uris(await _find(session, config, text="-acoustic"))
    assert len(_uris(await _find(session, config, text="(((", kind="projects"))) == 3  # no words: a listing


async def test_paging(session: AsyncSession, config: Config, world: dict) -> None:
    everything = _uris(await _find(session, config, text="acoustic", limit=100))
    pages, offset = [], 0
    while offset is not None:
        page = await _find(session, config, text="acoustic", limit=2, offset=offset)
        pages.append(_uris(page))
        offset = page.next_offset
    assert [uri for page in pages for uri in page] == everything
    assert [len(page) for page in pages] == [2, 2, 2]
    assert (await _find(session, config, text="acoustic", limit=2, offset=6)).hits == ()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "persons"}, "kind"),
        ({"kind": ["people"]}, "kind"),
        ({"skill": 3}, "skill"),
        ({"status": "maybe"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": True}, "limit"),
        ({"offset": -1}, "offset"),
        ({"text": "x" * 201}, "text"),
        ({"kind": "people", "status": "open"}, "status"),
        ({"kind": "articles", "deadline_after": date(2030, 1, 1)}, "deadline_after"),
        ({"deadline_after": "2030-01-01"}, "deadline_after"),
        ({"institution": "not a domain"}, "institution"),
    ],
)
async def test_invalid_queries_name_the_field(
    session: AsyncSession, config: Config, fields: dict, field: str
) -> None:
    with pytest.raises(SearchError) as raised:
        await _find(session, config, **fields)
    assert raised.value.field == field and str(raised.value).startswith(f"{field}: ")
    assert isinstance(raised.value, ValueError)


async def test_the_page_carries_the_checked_query(session: AsyncSession, config: Config) -> None:
    page = await _find(session, config, text="  x  ", skill="#MachineLearning", institution=" Lab.Example ")
    assert page.query == SearchQuery(text="x", skill="machine learning", institution="lab.example")
    assert page.hits == () and not page.has_more and page.next_offset is None
    assert (await _find(session, config, text="x" * 200)).hits == ()  # 200 characters are allowed
