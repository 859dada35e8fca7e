"""A member's browser on a real node: signing in through `/oauth/authorize` as a client app
sends its member there, consenting, and the app trading the code for a token.

Every client library test (Mastodon.py, masto.js, megalodon) signs ada in through these, whoever
built the authorize URL.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

from talentfed.domain.demo import DEMO_PASSWORD
from tests.multinode.nodes import Node
from tests.web.mastodon.test_oauth import hidden_fields, pkce_pair


def consent(node: Node, authorize_url: str, username: str = "ada") -> httpx.Response:
    """Open the authorize URL as the member's browser, sign in, approve; the answer to the approval."""
    with httpx.Client(base_url=node.base_url, timeout=10) as browser:
        page = browser.get(authorize_url)
        assert page.status_code == 303 and page.headers["location"].startswith("/sign-in?next="), page.text
        sign_in = browser.get(page.headers["location"])
        back = browser.post(
            "/sign-in",
            data={**hidden_fields(sign_in.text), "username": username, "password": DEMO_PASSWORD},
        )
        assert back.status_code == 303, back.text
        consent = browser.get(urljoin(node.base_url, back.headers["location"]))
        assert consent.status_code == 200 and username in consent.text, consent.text
        return browser.post("/oauth/authorize", data={**hidden_fields(consent.text), "decision": "approve"})


def code_shown_out_of_band(node: Node, authorize_url: str) -> str:
    """Consent to an authorize URL whose redirect_uri is `urn:ietf:wg:oauth:2.0:oob`: the code
    the page shows, which the member copies into the app."""
    shown = consent(node, authorize_url)
    assert shown.status_code == 200, shown.text
    code = re.search(r'<code id="authorization-code">([^<]+)</code>', shown.text)
    assert code, shown.text
    return unescape(code.group(1)).strip()


def with_pkce(authorize_url: str) -> tuple[str, str]:
    """The authorize URL with an S256 challenge added, and its verifier."""
    verifier, challenge = pkce_pair()
    pkce = urlencode({"code_challenge": challenge, "code_challenge_method": "S256"})
    return f"{authorize_url}&{pkce}", verifier


def code_sent_back(node: Node, authorize_url: str, redirect_uri: str, state: str) -> str:
    """Consent; the approval sends the browser back to `redirect_uri` with the code and `state`."""
    approved = consent(node, authorize_url)
    assert approved.status_code == 303, approved.text
    assert approved.headers["location"].startswith(redirect_uri + "?"), approved.headers["location"]
    answer = {k: v[0] for k, v in parse_qs(urlsplit(approved.headers["location"]).query).items()}
    assert answer["state"] == state
    return answer["code"]


def trade_code(node: Node, **fields: str) -> dict[str, Any]:
    """`POST /oauth/token` with the authorization code (form-encoded, as Mastodon.py would)."""
    token = httpx.post(
        f"{node.base_url}/oauth/token", data={"grant_type": "authorization_code", **fields}, timeout=10
    )
    assert token.status_code == 200, token.text
    return token.json()
