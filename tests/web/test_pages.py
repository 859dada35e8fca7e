"""The web interface in process: pages, signing in, forms, CSRF, authoring."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, timedelta
from html import unescape

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain.demo import DEMO_PASSWORD
from talentfed.domain.invitations import create_invitation
from talentfed.storage.db import session_factory
from talentfed.storage.models import Object, User

BASE = "http://127.0.0.1:8000"
AUTHORING_PAGES = [
    ("GET", "/write"),
    ("GET", "/write/project"),
    ("POST", "/write/project"),
    ("GET", "/write/edit?uri=x"),
    ("POST", "/posts/reply"),
    ("POST", "/posts/accept"),
    ("POST", "/posts/status"),
    ("POST", "/posts/delete"),
    ("GET", "/settings/profile"),
    ("POST", "/settings/profile"),
    ("GET", "/settings/password"),
    ("GET", "/follows"),
    ("POST", "/follows"),
    ("POST", "/follows/requests"),
    ("GET", "/notifications"),
]


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', html)
    return unescape(match.group(1)) if match else ""


async def sign_in(client: httpx.AsyncClient, username: str = "ada", password: str = DEMO_PASSWORD):
    page = await client.get("/sign-in")
    return await client.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text), "next": "/"},
    )


async def form_post(client: httpx.AsyncClient, page_url: str, url: str, data: dict) -> httpx.Response:
    """POST `data` to `url` with the CSRF token of the form on `page_url`, as a browser would."""
    page = await client.get(page_url)
    return await client.post(url, data={**data, "csrf_token": csrf_of(page.text)})


async def test_home_lists_members_posts_and_the_institution(demo_client: httpx.AsyncClient) -> None:
    page = await demo_client.get("/")
    assert page.status_code == 200
    assert "Collaborators wanted: speech corpus for Swahili" in page.text
    assert "Ada Okafor" in page.text and "Grace Lindqvist" in page.text
    assert (
        f'<link rel="alternate" type="application/activity+json" href="{BASE}/users/institution">'
        in page.text
    )
    assert 'action="/users/institution/remote_follow"' in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    filtered = (await demo_client.get("/?skill=Rust")).text
    members = filtered[filtered.index('id="members-heading"') : filtered.index('id="articles"')]
    assert "Alan Mwangi" in members and "Grace Lindqvist" not in members


async def test_profile_and_post_pages_carry_alternate_creator_and_opengraph(
    demo_client: httpx.AsyncClient,
) -> None:
    profile = (await demo_client.get("/users/ada")).text
    assert '<meta name="fediverse:creator" content="@ada@127.0.0.1:8000">' in profile
    assert f'href="{BASE}/users/ada"' in profile
    assert '<meta property="og:title" content="Ada Okafor (@ada@127.0.0.1:8000)">' in profile
    assert "#speech recognition" in profile and "Neighbourhood" in profile
    connections = profile[profile.index("The same as a list") :]
    assert "Grace Lindqvist" in connections and "1 interaction" in connections  # grace's answered question
    question = (await demo_client.get("/objects/demo-question")).text
    assert '<meta property="og:type" content="article">' in question
    assert '<meta name="fediverse:creator" content="@grace@127.0.0.1:8000">' in question
    assert "1 answer" in question and "Report the worst language" in question


async def test_a_visitor_who_is_not_signed_in_reaches_no_authoring_page(
    demo_client: httpx.AsyncClient,
) -> None:
    for method, url in AUTHORING_PAGES:
        response = await demo_client.request(method, url)
        assert response.status_code == 303, (method, url)
        assert response.headers["location"].startswith("/sign-in?next="), (method, url)


async def test_sign_in_sets_a_protected_cookie_and_sign_out_ends_it(demo_client: httpx.AsyncClient) -> None:
    response = await sign_in(demo_client)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Sign out" in (await demo_client.get("/")).text
    assert (await demo_client.get("/write")).status_code == 200
    out = await form_post(demo_client, "/", "/sign-out", {})
    assert out.status_code == 303
    assert (await demo_client.get("/write")).status_code == 303


async def test_a_wrong_password_is_refused_and_repeated_failures_are_rate_limited(
    demo_client: httpx.AsyncClient,
) -> None:
    for _ in range(5):
        refused = await sign_in(demo_client, "grace", "not the password")
        assert refused.status_code == 401
        assert "do not match an account" in refused.text
    limited = await sign_in(demo_client, "grace", DEMO_PASSWORD)  # even the right one, for now
    assert limited.status_code == 429 and "Too many failed sign-ins" in limited.text
    assert int(limited.headers["retry-after"]) > 0
    assert (await demo_client.get("/write")).status_code == 303


async def test_a_forged_or_missing_csrf_token_gets_403(demo_client: httpx.AsyncClient) -> None:
    await sign_in(demo_client)
    form = {"title": "Forged", "body": "text", "skills": "Rust", "visibility": "public", "action": "publish"}
    forged = await demo_client.post("/write/project", data={**form, "csrf_token": "forged"})
    assert forged.status_code == 403 and "security token did not match" in forged.text
    missing = await demo_client.post("/write/project", data=form)
    assert missing.status_code == 403
    wrong_sign_in = await demo_client.post("/sign-in", data={"username": "ada", "password": DEMO_PASSWORD})
    assert wrong_sign_in.status_code == 403


def _project(**changes: str) -> dict[str, str]:
    fields = {
        "title": "Annotators for a Swahili corpus",
        "body": "We need **two** people who know Swahili.",
        "skills": "Swahili, Data Engineering",
        "deadline": (date.today() + timedelta(days=30)).isoformat(),
        "team_size": "2",
        "tags": "",
        "visibility": "public",
        "action": "publish",
    }
    return {**fields, **changes}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "a title is required"),
        ({"deadline": "2020-01-01"}, "deadline", "the deadline is in the past"),
        ({"deadline": "31/12/2030"}, "deadline", "expected a date such as 2027-03-31"),
        ({"body": "x" * 1_000_000}, "body", "at most 100000 characters"),
        ({"team_size": "many"}, "team_size", "expected a whole number from 1 to 1000"),
        ({"visibility": "everyone"}, "visibility", "expected one of public, unlisted, followers"),
    ],
)
async def test_a_refused_field_is_explained_next_to_it_and_the_form_keeps_what_was_typed(
    demo_client: httpx.AsyncClient, changes: dict[str, str], field: str, message: str
) -> None:
    await sign_in(demo_client)
    response = await form_post(demo_client, "/write/project", "/write/project", _project(**changes))
    assert response.status_code == 400
    assert field_error(response.text, field) == message
    assert f'aria-describedby="{field}-error"' in response.text
    kept = _project(**changes)
    if field != "title":
        assert 'value="Annotators for a Swahili corpus"' in response.text
    if field != "body":
        assert "We need **two** people who know Swahili." in response.text
    if field == "body":
        assert kept["body"] in response.text  # all of it, so nothing typed is lost


async def test_preview_publishes_nothing_and_publish_federates(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await sign_in(demo_client)
    preview = await form_post(demo_client, "/write/project", "/write/project", _project(action="preview"))
    assert preview.status_code == 200
    assert (
        "<strong>two</strong>" in preview.text and 'value="Annotators for a Swahili corpus"' in preview.text
    )
    async with session_factory(engine)() as session:
        titles = set(await session.scalars(select(Object.name).where(Object.kind == "project")))
    assert "Annotators for a Swahili corpus" not in titles
    published = await form_post(demo_client, "/write/project", "/write/project", _project())
    assert published.status_code == 303
    page = await demo_client.get(published.headers["location"])
    assert "Annotators for a Swahili corpus" in page.text and "Published." in page.text
    assert "#swahili" in page.text and 'id="federation-status"' in page.text
    async with session_factory(engine)() as session:
        post = await session.scalar(select(Object).where(Object.name == "Annotators for a Swahili corpus"))
    assert post is not None and post.skills == ["swahili", "data engineering"] and post.extra["teamSize"] == 2


async def test_answer_then_accept_it(demo_client: httpx.AsyncClient) -> None:
    await sign_in(demo_client, "alan")
    answered = await form_post(
        demo_client,
        "/objects/demo-question",
        "/posts/reply",
        {"in_reply_to": f"{BASE}/objects/demo-question", "body": "Per-language confidence intervals."},
    )
    assert answered.status_code == 303
    empty = await form_post(
        demo_client,
        "/objects/demo-question",
        "/posts/reply",
        {"in_reply_to": f"{BASE}/objects/demo-question"},
    )
    assert empty.status_code == 400 and field_error(empty.text, "body") == "the text is empty"
    await form_post(demo_client, "/", "/sign-out", {})
    await sign_in(demo_client, "grace")
    page = (await demo_client.get("/objects/demo-question")).text
    assert "2 answers" in page and "Accept this answer" in page
    assert re.search(r'<span class="badge" aria-label="(\d+) new">', page), "no unread notifications shown"
    notifications = (await demo_client.get("/notifications")).text
    assert "Alan Mwangi" in notifications and "answered" in notifications
    assert 'class="badge" aria-label' not in (await demo_client.get("/")).text  # seen now
    answer_uri = re.findall(r'name="answer" value="([^"]+)"', page)
    accepted = await form_post(
        demo_client,
        "/objects/demo-question",
        "/posts/accept",
        {"uri": f"{BASE}/objects/demo-question", "answer": answer_uri[0]},
    )
    assert accepted.status_code == 303
    after = (await demo_client.get("/objects/demo-question")).text
    assert "Accepted answer" in after


async def test_someone_else_cannot_change_my_post(demo_client: httpx.AsyncClient) -> None:
    await sign_in(demo_client, "grace")
    response = await form_post(
        demo_client, "/", "/posts/status", {"uri": f"{BASE}/objects/demo-project", "status": "closed"}
    )
    assert response.status_code == 404
    edit = await demo_client.get(f"/write/edit?uri={BASE}/objects/demo-project")
    assert edit.status_code == 404


async def test_an_invitation_works_once(demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config):
    async with session_factory(engine)() as session, session.begin():
        token = await create_invitation(session, config, created_by=None)
    join_url = f"/join?invitation={token}"
    fields = {
        "username": "noor",
        "display_name": "Noor Haddad",
        "skills": "Speech Recognition",
        "password": "a long enough password",
        "password_again": "a long enough password",
    }
    short = await form_post(demo_client, join_url, join_url, {**fields, "password": "short"})
    assert (
        short.status_code == 400 and field_error(short.text, "password_again") == "The two passwords differ."
    )
    joined = await form_post(demo_client, join_url, join_url, fields)
    assert joined.status_code == 303 and joined.headers["location"] == "/users/noor"
    assert "Welcome, Noor Haddad" in (await demo_client.get("/users/noor")).text
    again = await demo_client.get(join_url)
    assert again.status_code == 403 and "expired or was already used" in again.text
    closed = await demo_client.get("/join")
    assert closed.status_code == 403 and "invitation only" in closed.text
    async with session_factory(engine)() as session:
        user = await session.scalar(select(User).where(User.username == "noor"))
    assert user is not None and user.password_hash.startswith("$argon2id$")


async def test_changing_the_password_ends_other_sessions(demo_client: httpx.AsyncClient, config: Config):
    await sign_in(demo_client, "grace")
    other = httpx.AsyncClient(transport=demo_client._transport, base_url=BASE)
    async with other:
        await sign_in(other, "grace")
        changed = await form_post(
            demo_client,
            "/settings/password",
            "/settings/password",
            {
                "current": DEMO_PASSWORD,
                "password": "another long password",
                "password_again": "another long password",
            },
        )
        assert changed.status_code == 303
        assert (await demo_client.get("/write")).status_code == 200  # this browser stays signed in
        assert (await other.get("/write")).status_code == 303  # the other one is signed out


async def test_profile_settings_explain_a_bad_link_and_save_good_ones(demo_client: httpx.AsyncClient):
    await sign_in(demo_client, "grace")
    form = await demo_client.get("/settings/profile")
    assert 'value="Grace Lindqvist"' in form.text
    fields = {
        "display_name": "Grace L.",
        "headline": "NLP",
        "skills": "NLP, Speech Recognition",
        "links": "no colon here",
        "discoverable": "on",
        "indexable": "on",
    }
    bad = await form_post(demo_client, "/settings/profile", "/settings/profile", fields)
    assert bad.status_code == 400 and "write each link as" in field_error(bad.text, "links")
    assert "no colon here" in bad.text
    good = await form_post(
        demo_client,
        "/settings/profile",
        "/settings/profile",
        {**fields, "links": "ORCID: https://orcid.org/1"},
    )
    assert good.status_code == 303
    profile = (await demo_client.get("/users/grace")).text
    assert (
        "Grace L." in profile and 'href="https://orcid.org/1"' in profile and "#speech recognition" in profile
    )


async def test_only_an_admin_opens_the_admin_page(demo_client: httpx.AsyncClient) -> None:
    await sign_in(demo_client, "grace")
    assert (await demo_client.get("/admin")).status_code == 403
    refused = await form_post(demo_client, "/", "/admin/blocks", {"domain": "spam.example"})
    assert refused.status_code == 403


async def test_admin_invites_blocks_disables_and_edits_the_institution(
    demo_client: httpx.AsyncClient,
) -> None:
    await sign_in(demo_client, "ada")
    invited = await form_post(demo_client, "/admin", "/admin/invitations", {"note": "Noor", "role": "member"})
    link = re.search(r'id="new-invitation" readonly value="([^"]+)"', invited.text)
    assert invited.status_code == 200 and link and "/join?invitation=" in link.group(1)
    bad_role = await form_post(demo_client, "/admin", "/admin/invitations", {"role": "owner"})
    assert bad_role.status_code == 400 and "expected one of member, admin" in field_error(
        bad_role.text, "role"
    )

    bad = await form_post(demo_client, "/admin", "/admin/blocks", {"domain": "not a domain!", "reason": "x"})
    assert bad.status_code == 400 and field_error(bad.text, "domain").startswith("expected a domain name")
    assert 'value="not a domain!"' in bad.text
    own = await form_post(demo_client, "/admin", "/admin/blocks", {"domain": "127.0.0.1:8000"})
    assert field_error(own.text, "domain") == "this is the node's own domain"
    blocked = await form_post(demo_client, "/admin", "/admin/blocks", {"domain": "https://Spam.Example/"})
    assert blocked.status_code == 303
    page = (await demo_client.get("/admin")).text
    assert "<strong>spam.example</strong>" in page and "spam.example is blocked (suspend)." in page
    await form_post(demo_client, "/admin", "/admin/blocks", {"domain": "spam.example", "action": "unblock"})
    assert "<strong>spam.example</strong>" not in (await demo_client.get("/admin")).text

    page = (await demo_client.get("/admin")).text
    alan_id = re.search(r'name="user" value="(\d+)">\s*<input type="hidden" name="disabled"', page)
    assert alan_id
    await form_post(demo_client, "/admin", "/admin/members", {"user": alan_id.group(1), "disabled": "on"})
    renamed = await form_post(
        demo_client, "/admin", "/admin/institution", {"display_name": "Demo Institute", "bio": "We research."}
    )
    assert renamed.status_code == 303
    institution = (await demo_client.get("/users/institution")).text
    assert "Demo Institute" in institution and "We research." in institution
    await form_post(demo_client, "/", "/sign-out", {})
    assert (await sign_in(demo_client, "alan")).status_code == 401  # members are listed by name: alan first
    assert (await sign_in(demo_client, "grace")).status_code == 303


async def test_discover_searches_the_full_text_index_with_filters(demo_client: httpx.AsyncClient) -> None:
    found = await demo_client.get("/discover", params={"q": "swahili corpus"})
    assert found.status_code == 200
    results = found.text[found.text.index('id="results-heading"') :]
    assert "Collaborators wanted: speech corpus for Swahili" in results
    assert "result-project" in results and "status-open" in results
    people = (await demo_client.get("/discover", params={"kind": "people", "skill": "Rust"})).text
    results = people[people.index('id="results-heading"') :]
    assert "Alan Mwangi" in results and "Grace Lindqvist" not in results
    nothing = (await demo_client.get("/discover", params={"q": "xylophone"})).text
    assert "Nothing found for “xylophone”" in nothing
    hostile = await demo_client.get("/discover", params={"q": '"foo OR ( NEAR*'})
    assert hostile.status_code == 200


async def test_discover_explains_a_bad_filter_next_to_it(demo_client: httpx.AsyncClient) -> None:
    bad = await demo_client.get("/discover", params={"deadline_after": "soon", "q": "corpus"})
    assert bad.status_code == 400
    assert field_error(bad.text, "deadline_after") == "expected a date such as 2027-03-31"
    assert 'value="corpus"' in bad.text and 'value="soon"' in bad.text
    long = await demo_client.get("/discover", params={"q": "x" * 201})
    assert long.status_code == 400 and field_error(long.text, "q") == "at most 200 characters"
    kind = await demo_client.get("/discover", params={"kind": "robots"})
    assert kind.status_code == 400 and field_error(kind.text, "kind").startswith("expected one of")


async def test_discover_shows_a_signed_in_member_recommendations_and_influence(
    demo_client: httpx.AsyncClient,
) -> None:
    anonymous = (await demo_client.get("/discover")).text
    assert 'id="for-you"' not in anonymous and 'id="influence-heading"' in anonymous
    await sign_in(demo_client, "grace")
    page = (await demo_client.get("/discover")).text
    assert 'id="for-you"' in page and "Open project calls that fit you" in page
    by_skill = (await demo_client.get("/discover", params={"skill": "Machine Learning"})).text
    assert "Whose voice carries in #machine learning" in by_skill


async def test_collections_read_as_pages_in_a_browser(demo_client: httpx.AsyncClient) -> None:
    await sign_in(demo_client, "grace")
    await form_post(
        demo_client, "/users/ada", "/follows", {"handle": "ada@127.0.0.1:8000", "action": "follow"}
    )
    followers = await demo_client.get("/users/ada/followers")
    assert followers.status_code == 200 and followers.headers["content-type"].startswith("text/html")
    assert "Followers of" in followers.text and "Grace Lindqvist" in followers.text
    assert f'type="application/activity+json" href="{BASE}/users/ada/followers"' in followers.text
    as_json = await demo_client.get("/users/ada/followers", headers={"Accept": "application/activity+json"})
    assert as_json.json()["totalItems"] == 1
    for path, target in (("/users/ada/outbox", f"{BASE}/@ada"), ("/objects/demo-question/replies", None)):
        response = await demo_client.get(path)
        assert response.status_code == 303, path
        if target:
            assert response.headers["location"] in (target, f"{BASE}/users/ada"), response.headers["location"]


async def test_a_follow_request_is_approved_in_the_browser(demo_client: httpx.AsyncClient) -> None:
    await sign_in(demo_client, "grace")
    asked = await form_post(demo_client, "/follows", "/follows", {"handle": "@alan@127.0.0.1:8000"})
    assert asked.status_code == 303
    assert "<td>pending</td>" in (await demo_client.get("/follows")).text
    unknown = await form_post(demo_client, "/follows", "/follows", {"handle": "not a handle"})
    assert unknown.status_code == 400 and field_error(unknown.text, "handle")
    assert 'value="not a handle"' in unknown.text
    await form_post(demo_client, "/", "/sign-out", {})

    await sign_in(demo_client, "alan")
    page = (await demo_client.get("/follows")).text
    assert "Follow requests (1)" in page
    follower = re.search(r'name="follower" value="(\d+)"', page)
    assert follower
    approved = await form_post(
        demo_client, "/follows", "/follows/requests", {"follower": follower.group(1), "answer": "accept"}
    )
    assert approved.status_code == 303
    page = (await demo_client.get("/follows")).text
    assert "Follow requests (0)" in page and "Followers (1)" in page
    notifications = (await demo_client.get("/notifications")).text
    assert "Grace Lindqvist" in notifications and "followed you" in notifications


async def test_edit_and_delete_my_post(demo_client: httpx.AsyncClient) -> None:
    await sign_in(demo_client, "ada")
    edit_url = f"/write/edit?uri={BASE}/objects/demo-article"
    form = await demo_client.get(edit_url)
    assert (
        form.status_code == 200 and 'value="Speech recognition for languages with little data"' in form.text
    )
    fields = {
        "title": "Speech recognition with little data",
        "summary": "",
        "body": "We trained on *ten* hours.",
        "tags": "SpeechRecognition",
        "visibility": "public",
    }
    preview = await form_post(demo_client, edit_url, edit_url, {**fields, "action": "preview"})
    assert preview.status_code == 200 and "<em>ten</em>" in preview.text
    saved = await form_post(demo_client, edit_url, edit_url, {**fields, "action": "publish"})
    assert saved.status_code == 303
    page = (await demo_client.get("/objects/demo-article")).text
    assert "Speech recognition with little data" in page and "edited" in page
    gone = await form_post(
        demo_client, "/objects/demo-article", "/posts/delete", {"uri": f"{BASE}/objects/demo-article"}
    )
    assert gone.status_code == 303
    assert (await demo_client.get("/objects/demo-article")).status_code == 410


async def test_other_servers_send_a_signed_in_member_to_a_follow_confirmation(
    demo_client: httpx.AsyncClient,
) -> None:
    anonymous = await demo_client.get("/authorize_interaction", params={"uri": "acct:alan@127.0.0.1:8000"})
    assert anonymous.status_code == 200 and "/sign-in?next=" in anonymous.text
    await sign_in(demo_client, "grace")
    page = await demo_client.get("/authorize_interaction", params={"uri": "acct:alan@127.0.0.1:8000"})
    assert page.status_code == 200 and "Follow Alan Mwangi?" in page.text
    confirmed = await form_post(
        demo_client,
        "/authorize_interaction?uri=acct:alan@127.0.0.1:8000",
        "/follows",
        {"handle": f"{BASE}/users/alan", "action": "follow"},
    )
    assert confirmed.status_code == 303


async def test_open_registration_lets_anyone_join(demo_client: httpx.AsyncClient, config: Config) -> None:
    demo_client._transport.app.state.config = dataclasses.replace(  # type: ignore[attr-defined]
        config, web=dataclasses.replace(config.web, open_registrations=True)
    )
    fields = {
        "username": "sam",
        "display_name": "Sam Ode",
        "password": "a long enough password",
        "password_again": "a long enough password",
    }
    taken = await form_post(demo_client, "/join", "/join", {**fields, "username": "ada"})
    assert taken.status_code == 400 and "already exists" in field_error(taken.text, "username")
    joined = await form_post(demo_client, "/join", "/join", fields)
    assert joined.status_code == 303 and joined.headers["location"] == "/users/sam"


async def test_a_page_without_a_form_sets_no_cookie(demo_client: httpx.AsyncClient) -> None:
    article = await demo_client.get("/objects/demo-article")
    assert article.status_code == 200 and "set-cookie" not in article.headers
    sign_in_page = await demo_client.get("/sign-in")
    assert "talentfed_session=" in sign_in_page.headers["set-cookie"]  # its form needs the token


async def test_a_signed_in_member_follows_the_institution_from_the_home_page(demo_client: httpx.AsyncClient):
    await sign_in(demo_client, "grace")
    home = (await demo_client.get("/")).text
    assert "Follow this institution" in home and 'action="/users/institution/remote_follow"' not in home
    followed = await form_post(
        demo_client, "/", "/follows", {"handle": f"{BASE}/users/institution", "back": "/"}
    )
    assert followed.status_code == 303 and followed.headers["location"] == "/"
    assert "You follow @institution@127.0.0.1:8000." in (await demo_client.get("/")).text


async def test_notifications_page_back_and_refuse_a_bad_cursor(demo_client: httpx.AsyncClient) -> None:
    await sign_in(demo_client, "grace")
    bad = await demo_client.get("/notifications", params={"before": "yesterday"})
    assert bad.status_code == 400 and "before= must be a date and time" in bad.text
    first = (await demo_client.get("/notifications")).text
    assert "Ada Okafor" in first and "answered" in first  # the demo answer to grace's question
    earlier = await demo_client.get("/notifications", params={"before": "2000-01-01T00:00:00+00:00"})
    assert earlier.status_code == 200 and "Nothing yet" in earlier.text


async def test_my_profile_shows_how_each_of_my_posts_went_out(demo_client: httpx.AsyncClient) -> None:
    assert "Delivered to" not in (await demo_client.get("/users/ada")).text  # only the author sees it
    await sign_in(demo_client, "ada")
    own = (await demo_client.get("/users/ada")).text
    assert own.count('class="meta delivery"') == 3  # her project call, article and answer
    assert "Not sent to other servers" in own  # the demo has no followers elsewhere


@pytest.mark.parametrize(
    ("url", "field", "signed_in_as"),
    [
        ("/admin/members", "user", "ada"),
        ("/admin/invitations/revoke", "invitation", "ada"),
        ("/follows/requests", "follower", "alan"),
    ],
)
@pytest.mark.parametrize("value", ["99999999999999999999", "-1", "x", ""])
async def test_a_bad_row_id_in_a_form_is_refused_with_a_reason(
    demo_client: httpx.AsyncClient, url: str, field: str, signed_in_as: str, value: str
) -> None:
    await sign_in(demo_client, signed_in_as)
    refused = await form_post(demo_client, "/", url, {field: value, "answer": "accept"})
    assert refused.status_code == 400
    assert re.search(r'class="field-error" id="(members|invitations|requests)-error">[^<]+<', refused.text)


async def test_back_after_a_follow_never_leaves_the_site(demo_client: httpx.AsyncClient) -> None:
    await sign_in(demo_client, "grace")
    for back in ("//evil.example/", "/\\evil.example", "https://evil.example/"):
        followed = await form_post(
            demo_client, "/", "/follows", {"handle": f"{BASE}/users/alan", "back": back}
        )
        assert followed.headers["location"] == "/follows", back

