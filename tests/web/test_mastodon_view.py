"""What a Mastodon reader sees of each of our post kinds (FEDERATION.md, "Posts").

Mastodon reads compact keys by name and ignores what it does not know. It refuses a fetched
document whose `@context` does not include the ActivityStreams IRI, shows a Note's `content`
(a `summary` on a Note becomes a content warning), turns a `Question` with options into a poll,
and converts an Article into its `name` as a heading, its `summary` and a link to its `url`.
`mastodon_view` applies those rules, so these tests pin what Mastodon users see of each kind
whatever else (the JSON-LD context, talentfed terms) the documents carry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from talentfed.storage.models import utcnow

ACTIVITYSTREAMS = "https://www.w3.org/ns/activitystreams"
PUBLIC = ACTIVITYSTREAMS + "#Public"
CONVERTED_TYPES = {"Article", "Page", "Image", "Audio", "Video", "Event"}
AS_JSON = {"Accept": "application/activity+json"}


@dataclass
class MastodonStatus:
    text: str
    content_warning: str
    hashtags: list[str]
    poll: bool
    in_reply_to: str | None
    public: bool


def mastodon_view(document: dict[str, Any]) -> MastodonStatus:
    context = document["@context"]
    assert ACTIVITYSTREAMS in (context if isinstance(context, list) else [context]), "Mastodon drops it"
    kind = document["type"]
    assert kind in {"Note", "Question"} | CONVERTED_TYPES, f"Mastodon ignores a {kind}"
    if kind in CONVERTED_TYPES:
        heading = f"<h2>{document['name']}</h2>" if document.get("name") else ""
        text, warning = heading + document.get("summary", "") + document["url"], ""
    else:
        text, warning = document.get("content", ""), document.get("summary", "")
    tags = [tag["name"] for tag in document.get("tag", []) if tag.get("type") == "Hashtag"]
    return MastodonStatus(
        text=text,
        content_warning=warning,
        hashtags=tags,
        poll=kind == "Question" and bool(document.get("oneOf") or document.get("anyOf")),
        in_reply_to=document.get("inReplyTo"),
        public=PUBLIC in document.get("to", []) + document.get("cc", []),
    )


async def _status(client: httpx.AsyncClient, slug: str) -> MastodonStatus:
    response = await client.get(f"/objects/{slug}", headers=AS_JSON)
    assert response.status_code == 200
    return mastodon_view(response.json())


async def test_an_article_shows_its_title_excerpt_and_link(demo_client: httpx.AsyncClient) -> None:
    status = await _status(demo_client, "demo-article")
    assert status.text == (
        "<h2>Speech recognition for languages with little data</h2>"
        "<p>What worked for us when we had ten hours of transcribed audio.</p>"
        f"{demo_client.base_url}/objects/demo-article"
    )
    assert status.content_warning == "" and status.public and not status.poll
    assert status.hashtags == ["#SpeechRecognition", "#MachineLearning"]


async def test_a_question_shows_its_title_body_and_hashtags_and_is_no_poll(
    demo_client: httpx.AsyncClient,
) -> None:
    status = await _status(demo_client, "demo-question")
    assert status.text.startswith(
        "<p><strong>How do you evaluate a multilingual model fairly?</strong></p>"
        "<p>Averages over languages hide the weakest ones. What do you report?</p>"
    )
    # Tags are stored normalised, so the case the author typed is not kept (#Nlp for #NLP);
    # Mastodon matches hashtags without regard to case.
    assert status.text.lower().endswith("<p>#nlp #evaluation</p>")
    assert [tag.lower() for tag in status.hashtags] == ["#nlp", "#evaluation"]
    assert not status.poll and status.content_warning == ""


async def test_an_answer_shows_in_the_question_thread(demo_client: httpx.AsyncClient) -> None:
    status = await _status(demo_client, "demo-answer")
    assert status.in_reply_to == f"{demo_client.base_url}/objects/demo-question"
    assert status.text == "<p>Report the worst language next to the mean, and the spread across seeds.</p>"


async def test_a_project_call_shows_its_skills_deadline_status_and_team(
    demo_client: httpx.AsyncClient,
) -> None:
    status = await _status(demo_client, "demo-project")
    deadline = (utcnow() + timedelta(days=60)).strftime("%Y-%m-%d")
    assert status.text == (
        "<p><strong>Project call: Collaborators wanted: speech corpus for Swahili</strong></p>"
        "<p>We are collecting and transcribing a Swahili speech corpus.</p>"
        "<p>Skills: #SpeechRecognition #Swahili #DataEngineering</p>"
        f"<p>Deadline: {deadline} · Status: open · Team size: 4</p>"
    )
    assert status.hashtags == ["#SpeechRecognition", "#Swahili", "#DataEngineering"]
    assert status.content_warning == "" and status.public


async def test_the_create_in_the_outbox_carries_the_same_status(demo_client: httpx.AsyncClient) -> None:
    page = (await demo_client.get("/users/ada/outbox?page=1", headers=AS_JSON)).json()
    project = next(i for i in page["orderedItems"] if i["object"]["id"].endswith("/demo-project"))
    # Mastodon reads the embedded object in the activity's context.
    embedded = mastodon_view({"@context": page["@context"], **project["object"]})
    assert embedded == await _status(demo_client, "demo-project")
