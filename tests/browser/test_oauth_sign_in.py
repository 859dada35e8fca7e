"""Signing in to an app the way Elk does it, in a real browser: the app registers itself
(`POST /api/v1/apps`), opens `/oauth/authorize` with PKCE S256, the member signs in, sees the
consent page naming the app and its scopes, approves, and the browser lands on the app's
redirect URI (a page this test serves on 127.0.0.1) with `code` and `state`; the app trades the
code with its verifier and reads `verify_credentials`. Also: denying (`error=access_denied`),
the out-of-band page showing the code, and revoking the app on /settings/apps."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from talentfed.domain.demo import DEMO_PASSWORD
from tests.browser.support import shot
from tests.multinode.nodes import Node

pytestmark = pytest.mark.browser

OOB = "urn:ietf:wg:oauth:2.0:oob"


class _Callback(BaseHTTPRequestHandler):
    """The app's redirect URI: a small page, and nothing else (no favicon to fail)."""

    def do_GET(self) -> None:
        body = b'<!doctype html><html><head><link rel="icon" href="data:,"><title>App</title></head>'
        body += b"<body><h1>Back in the app</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: pytest shows failures
        pass


@pytest.fixture
def callback_url() -> Iterator[str]:
    """http://127.0.0.1:<port>/callback, served while the test runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Callback)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/callback"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _register(node: Node, name: str, redirect_uris: list[str]) -> dict[str, Any]:
    fields = {
        "client_name": name,
        "redirect_uris": redirect_uris,
        "scopes": "read write",
        "website": "https://elk.example",
    }
    answer = httpx.post(f"{node.base_url}/api/v1/apps", json=fields)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _authorize_url(node: Node, app: dict[str, Any], redirect_uri: str, state: str, challenge: str) -> str:
    params = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": redirect_uri,
        "scope": "read write",
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{node.base_url}/oauth/authorize?{urlencode(params)}"


def _trade(node: Node, app: dict[str, Any], code: str, redirect_uri: str, verifier: str) -> str:
    fields = {
        "grant_type": "authorization_code",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    answer = httpx.post(f"{node.base_url}/oauth/token", data=fields)
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == "read write"
    return str(answer.json()["access_token"])


def _verify(node: Node, token: str) -> httpx.Response:
    return httpx.get(
        f"{node.base_url}/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token}"}
    )


def _consent(page: Page, app: dict[str, Any]) -> None:
    """The consent page names the app, the member and the scopes."""
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Authorize {app['name']}?")
    expect(page.get_by_text("@ada@")).to_be_visible()
    expect(page.locator("#scopes code")).to_have_text(["read", "write"])


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def test_an_app_signs_in_with_pkce_and_the_member_can_revoke_it(
    page: Page, node_a: Node, callback_url: str
) -> None:
    app = _register(node_a, "Elk (browser test)", [callback_url, OOB])
    verifier, challenge = _pkce()
    state = secrets.token_urlsafe(12)

    page.goto(_authorize_url(node_a, app, callback_url, state, challenge))
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))  # nobody is signed in yet
    page.get_by_label(re.compile("Your name on")).fill("ada")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/oauth/authorize\?"))
    _consent(page, app)
    shot(page, "consent")

    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{callback_url}?**")
    expect(page.get_by_role("heading", level=1)).to_have_text("Back in the app")
    back = _query(page.url)
    assert back["state"] == state and back["code"]

    token = _trade(node_a, app, back["code"], callback_url, verifier)
    me = _verify(node_a, token)
    assert me.status_code == 200 and me.json()["username"] == "ada"

    page.goto(f"{node_a.base_url}/settings/apps")
    listed = page.locator("#authorized-apps li", has_text=app["name"])
    expect(listed).to_have_count(1)
    expect(listed.locator("code")).to_have_text(["read", "write"])
    shot(page, "apps")
    listed.get_by_role("button", name=re.compile("Revoke access")).click()
    expect(page.get_by_role("status")).to_contain_text("no longer has access")
    expect(page.locator("#authorized-apps li", has_text=app["name"])).to_have_count(0)
    assert _verify(node_a, token).status_code == 401


def test_denying_sends_access_denied_and_oob_shows_the_code(
    page: Page, node_a: Node, callback_url: str
) -> None:
    app = _register(node_a, "Phanpy (browser test)", [callback_url, OOB])
    verifier, challenge = _pkce()
    page.goto(_authorize_url(node_a, app, callback_url, "deny-me", challenge))
    page.get_by_label(re.compile("Your name on")).fill("ada")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    _consent(page, app)
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(f"{callback_url}?**")
    refused = _query(page.url)
    assert refused["error"] == "access_denied" and refused["state"] == "deny-me" and "code" not in refused

    page.goto(_authorize_url(node_a, app, OOB, "oob", challenge))  # signed in already: straight to consent
    _consent(page, app)
    page.get_by_role("button", name="Authorize").click()
    shown = page.locator("#authorization-code")
    expect(shown).to_be_visible()
    shot(page, "oob-code")
    token = _trade(node_a, app, shown.inner_text().strip(), OOB, verifier)
    assert _verify(node_a, token).json()["username"] == "ada"
