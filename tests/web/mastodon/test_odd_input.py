"""Odd input to the client API is a 4xx on both back-ends, never a 500: what schemathesis found
(tests/web/mastodon/test_openapi_fuzz.py), each kept here as a plain regression test.

PostgreSQL refuses what SQLite lets through: an id beyond its 32-bit `integer` columns, a NUL
character, an unpaired surrogate. And `str.isdigit` takes "²", which `int()` does not.
"""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.web.mastodon.test_oauth import bearer, member_token, register

BEYOND_ROWS = str(2**31)  # one more than PostgreSQL's integer holds
NOT_ASCII_DIGITS = ("²", "١٢")  # isdigit() says yes; int() refuses the first, reads 12 from the second
ODD_IDS = (BEYOND_ROWS, "99999999999", *NOT_ASCII_DIGITS)
NOT_FOUND = {"error": "Record not found"}


async def _auth(client: httpx.AsyncClient) -> dict[str, str]:
    app = await register(client, scopes="read write follow")
    return bearer(str((await member_token(client, app, scope="read write follow"))["access_token"]))


async def _account_id(client: httpx.AsyncClient, acct: str) -> str:
    return str((await client.get("/api/v1/accounts/lookup", params={"acct": acct})).json()["id"])


# --- ids: params.row_id ------------------------------------------------------------------------


@pytest.mark.parametrize("odd", ODD_IDS)
async def test_an_odd_id_in_a_path_names_nothing(demo_client: httpx.AsyncClient, odd: str) -> None:
    auth = await _auth(demo_client)
    for method, path in (
        ("GET", f"/api/v1/accounts/{odd}"),
        ("GET", f"/api/v1/accounts/{odd}/statuses"),
        ("GET", f"/api/v1/accounts/{odd}/followers"),
        ("POST", f"/api/v1/accounts/{odd}/follow"),
        ("POST", f"/api/v1/follow_requests/{odd}/authorize"),
        ("GET", f"/api/v1/statuses/{odd}"),
        ("GET", f"/api/v1/statuses/{odd}/context"),
        ("POST", f"/api/v1/statuses/{odd}/favourite"),
        ("DELETE", f"/api/v1/statuses/{odd}"),
    ):
        response = await demo_client.request(method, path, headers=auth)
        assert (response.status_code, response.json()) == (404, NOT_FOUND), f"{method} {path}"


@pytest.mark.parametrize("odd", ODD_IDS)
async def test_an_odd_id_in_a_parameter_names_nothing(demo_client: httpx.AsyncClient, odd: str) -> None:
    auth = await _auth(demo_client)
    grace = await _account_id(demo_client, "grace")
    relationships = await demo_client.get(
        "/api/v1/accounts/relationships", params=[("id[]", odd), ("id[]", grace)], headers=auth
    )
    assert [found["id"] for found in relationships.json()] == [grace]
    reply = await demo_client.post(
        "/api/v1/statuses", json={"status": "hi", "in_reply_to_id": odd}, headers=auth
    )
    assert (reply.status_code, reply.json()) == (404, NOT_FOUND)
    search = await demo_client.get(
        "/api/v2/search", params={"q": "speech", "type": "statuses", "account_id": odd}, headers=auth
    )
    assert (search.status_code, search.json()) == (404, NOT_FOUND)
    notifications = await demo_client.get("/api/v1/notifications", params={"account_id": odd}, headers=auth)
    assert (notifications.status_code, notifications.json()) == (200, [])


async def test_a_notification_id_beyond_every_row_is_none(demo_client: httpx.AsyncClient) -> None:
    """notifications.NotificationKey.parse: time, source, then a row id PostgreSQL can compare."""
    auth = await _auth(demo_client)
    beyond = f"{'1' * 18}1{2**63}"  # a well-formed time and source; the row id is beyond any
    for name in ("max_id", "since_id", "min_id"):
        listed = await demo_client.get("/api/v1/notifications", params={name: beyond}, headers=auth)
        assert listed.status_code == 422 and listed.json()["error"], name
    shown = await demo_client.get(f"/api/v1/notifications/{beyond}", headers=auth)
    dismissed = await demo_client.post(f"/api/v1/notifications/{beyond}/dismiss", headers=auth)
    assert shown.json() == dismissed.json() == NOT_FOUND


# --- paging: params.digits_only and Page.asked -------------------------------------------------


async def test_paging_beyond_every_row_id(demo_client: httpx.AsyncClient) -> None:
    """A max_id beyond every row bounds nothing; nothing is newer than a since_id or min_id there."""
    auth = await _auth(demo_client)
    ada = await _account_id(demo_client, "ada")
    for path in ("/api/v1/timelines/public", "/api/v1/timelines/home", f"/api/v1/accounts/{ada}/statuses"):
        everything = await demo_client.get(path, headers=auth)
        older = await demo_client.get(path, params={"max_id": BEYOND_ROWS}, headers=auth)
        assert older.status_code == 200 and older.json() == everything.json() != [], path
        for newer in ("since_id", "min_id"):
            nothing = await demo_client.get(path, params={newer: BEYOND_ROWS}, headers=auth)
            assert (nothing.status_code, nothing.json()) == (200, []), f"{path}?{newer}"
    followers = await demo_client.get(f"/api/v1/accounts/{ada}/followers", params={"max_id": "99999999999"})
    assert followers.status_code == 200


@pytest.mark.parametrize("odd", NOT_ASCII_DIGITS)
async def test_paging_numbers_are_ascii_digits(demo_client: httpx.AsyncClient, odd: str) -> None:
    for name in ("max_id", "since_id", "min_id", "limit"):
        response = await demo_client.get("/api/v1/timelines/public", params={name: odd})
        assert response.status_code == 422 and response.json()["error"], name
    for name in ("limit", "offset"):
        search = await demo_client.get(
            "/api/v2/search", params={"q": "speech", "type": "accounts", name: odd}
        )
        assert search.status_code == 400 and search.json()["error"], name


# --- text PostgreSQL refuses: params (federation/limits), handles, skills, client ids ---------


FORM, JSON = "application/x-www-form-urlencoded", "application/json"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (FORM, b"status=a%00b"),
        (JSON, b'{"status": "a\\u0000b"}'),
        (JSON, b'{"status": "fine", "language": "e\\u0000n"}'),
        (JSON, b'{"status": "\\ud800"}'),
        (JSON, b"[" * 5000 + b"]" * 5000),
    ],
    ids=["form NUL", "JSON NUL", "NUL elsewhere", "unpaired surrogate", "deep JSON"],
)
async def test_a_body_with_text_no_back_end_stores_is_refused(
    demo_client: httpx.AsyncClient, content_type: str, body: bytes
) -> None:
    headers = {**await _auth(demo_client), "Content-Type": content_type}
    response = await demo_client.post("/api/v1/statuses", content=body, headers=headers)
    assert response.status_code == 422 and response.json()["error"].startswith("Validation failed")


async def test_a_language_is_a_tag_that_fits_its_column(demo_client: httpx.AsyncClient) -> None:
    """posts.check_draft: Object.language is 16 characters, which PostgreSQL enforces."""
    auth = await _auth(demo_client)
    for odd in ("e" * 17, "en us", "𝓣𝓱𝓮"):
        refused = await demo_client.post(
            "/api/v1/statuses", json={"status": "hi", "language": odd}, headers=auth
        )
        assert refused.status_code == 422 and "language" in refused.json()["error"], odd
    tagged = await demo_client.post(
        "/api/v1/statuses", json={"status": "olá", "language": "pt-BR"}, headers=auth
    )
    assert tagged.status_code == 200 and tagged.json()["language"] == "pt-BR"


async def test_profile_fields_and_apps_with_a_nul_are_refused(demo_client: httpx.AsyncClient) -> None:
    auth = await _auth(demo_client)
    for fields in (
        {"display_name": "Ada\x00"},
        {"fields_attributes[0][name]": "a\x00", "fields_attributes[0][value]": "b"},
    ):
        profile = await demo_client.patch("/api/v1/accounts/update_credentials", data=fields, headers=auth)
        assert profile.status_code == 422, fields
    app = await demo_client.post("/api/v1/apps", data={"client_name": "a\x00", "redirect_uris": "urn:x:y"})
    assert app.status_code == 422 and app.json()["error"].startswith("Validation failed")


async def test_a_handle_with_a_nul_is_no_handle(demo_client: httpx.AsyncClient) -> None:
    for acct in ("ada\x00", "ada@127.0.0.1:8000\x00", "\x00"):
        lookup = await demo_client.get("/api/v1/accounts/lookup", params={"acct": acct})
        assert (lookup.status_code, lookup.json()) == (404, NOT_FOUND), repr(acct)


async def test_a_control_character_in_a_hashtag_separates_words(demo_client: httpx.AsyncClient) -> None:
    tagged = await demo_client.get("/api/v1/timelines/tag/machine%00learning")
    assert tagged.status_code == 200
    assert tagged.json() == (await demo_client.get("/api/v1/timelines/tag/MachineLearning")).json() != []


async def test_a_client_id_we_never_drew_is_an_unknown_client(demo_client: httpx.AsyncClient) -> None:
    page = await demo_client.get("/oauth/authorize", params={"client_id": "a\x00b", "response_type": "code"})
    assert page.status_code == 400 and "unknown client_id" in page.text
    basic = base64.b64encode(b"a%00b:secret").decode()
    token = await demo_client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert token.status_code == 401 and token.json()["error"] == "invalid_client"
    nul = await demo_client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": "\x00"}
    )
    assert nul.status_code == 400 and nul.json()["error"] == "invalid_request"
