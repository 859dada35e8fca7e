"""The client libraries real apps are built on, against two real nodes: masto.js (Elk, Phanpy)
and megalodon (Whalebird, Fedistar), both independent implementations of the client side of the
Mastodon API, run by tests/interop/client_apps/drive.mjs on the Node.js its lockfile pins.

Each signs ada in on node A the way its app does (Elk: its own authorize URL with PKCE, the code
traded by masto's OAuth client; Whalebird: nodeinfo detection, megalodon's registerApp and the
out-of-band code), then drives the API; the test asserts on what the library parsed.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.interop.masto_types import problems
from tests.interop.npm_projects import CLIENT_APPS
from tests.multinode.nodes import Node, demo_and_bob
from tests.multinode.signin import code_sent_back, code_shown_out_of_band, with_pkce
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.interop, pytest.mark.multinode]

ELK_CALLBACK = "https://elk.zone/api/oauth/callback"  # never opened: the test reads the redirect

# Where masto.js 8's declarations of the entities (which follow Mastodon 4.5 and later) ask for
# more than we answer, and why. Every other attribute they declare, our answers carry.
DIFFERS_FROM_MASTO = {
    "Status.quotesCount": "quote posts are newer than Mastodon 4.3, the API we follow",
    "Status.quoteApproval": "quote posts are newer than Mastodon 4.3",
    "Status.application": "null: we keep no app with a post (Mastodon leaves it out for many)",
    "Tag.id": "a status's tags are Mastodon's Status::Tag, {name, url}; masto.js reuses its Tag",
    "Account.featureApproval": "newer than Mastodon 4.3",
    "Account.lastStatusAt": "null, which Mastodon's docs allow; not computed yet",
    "AccountSource.attributionDomains": "newer than Mastodon 4.3",
    "AccountSource.quotePolicy": "quote posts are newer than Mastodon 4.3",
    "AccountSource.role": "masto.js's own: Mastodon has `role` on CredentialAccount, as we do",
    "PreviewCard.blurhash": "null, which Mastodon's docs allow: our cards have no image",
    "Relationship.languages": "null, as Mastodon answers when no languages were chosen",
    "InstanceUrls.streaming": "null: there is no streaming API here; apps poll",
    "InstanceContact.account": "null: the node names no contact account",
    "InstanceThumbnail.blurhash": "optional in Mastodon's docs",
    "InstanceThumbnail.description": "optional in Mastodon's docs",
    "InstanceThumbnail.versions": "optional in Mastodon's docs",
    **{
        f"Role.{attribute}": "masto.js's Role is the admin API's; a CredentialAccount's has five attributes"
        for attribute in ("position", "createdAt", "updatedAt", "collectionLimit")
    },
    **{
        f"InstanceAccountsConfiguration.{limit}": "profile limits newer than Mastodon 4.3"
        for limit in (
            "maxDisplayNameLength",
            "maxNoteLength",
            "maxAvatarDescriptionLength",
            "maxHeaderDescriptionLength",
            "maxProfileFields",
            "profileFieldNameLimit",
            "profileFieldValueLimit",
        )
    },
}
ONE = {
    "instanceV2": "Instance",
    "me": "CredentialAccount",
    "note": "Status",
    "reply": "Status",
    "fetched": "Status",
    "context": "Context",
    "favourited": "Status",
    "reblogged": "Status",
    "follow": "Relationship",
    "lookup": "Account",
    "search": "Search",
}
MANY = {
    "publicLocal": "Status",
    "homeFirstPage": "Status",
    "ownStatuses": "Status",
    "relationships": "Relationship",
    "notifications": "BaseNotification",
}


@pytest.fixture
def node_js() -> str:
    return CLIENT_APPS.require()


@pytest.fixture
def nodes(tmp_path: Path, fresh_database) -> Iterator[tuple[Node, Node]]:
    with demo_and_bob(tmp_path, fresh_database) as both:
        yield both


def drive(node_js: str, *args: str) -> Any:
    """Run one command of drive.mjs; what it printed, parsed."""
    result = subprocess.run(
        [node_js, "drive.mjs", *args],
        cwd=CLIENT_APPS.directory,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"drive.mjs {args[0]} failed:\n{result.stderr}"
    return json.loads(result.stdout)


def _bob_follows_ada(a: Node, b: Node) -> None:
    """bob (node B) follows ada, so that a notification reaches her on node A."""
    b.cli_ok("follow", "bob", a.handle("ada"))


def _elk_sign_in(node_js: str, a: Node) -> str:
    """Elk's sign-in: masto registers the app; Elk builds the authorize URL (with PKCE); the
    member consents; masto's OAuth client trades the code (a JSON body with code_verifier)."""
    app = drive(node_js, "masto-register", a.base_url, ELK_CALLBACK)
    query = {
        "client_id": app["clientId"],
        "redirect_uri": ELK_CALLBACK,
        "response_type": "code",
        "scope": app["scopes"],
        "state": "elk-1",
    }
    url, verifier = with_pkce(f"{a.base_url}/oauth/authorize?{urlencode(query)}")
    code = code_sent_back(a, url, ELK_CALLBACK, "elk-1")
    token = drive(
        node_js, "masto-token", a.base_url, app["clientId"], app["clientSecret"], ELK_CALLBACK, code, verifier
    )
    assert token["acct"] == "ada" and token["tokenType"] == "Bearer"
    assert set(token["scope"].split()) == {"read", "write", "follow", "push"}
    return token["accessToken"]


def test_masto_js_elk_and_phanpy(node_js: str, nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    token = _elk_sign_in(node_js, a)
    _bob_follows_ada(a, b)
    bob = f"bob@{b.domain}"
    out = drive(node_js, "masto", a.base_url, token, bob)
    assert _unlike_mastos_declarations(out) == []

    # What the apps read first.
    assert out["instanceV1"]["version"].startswith("4.3.0 (compatible; talentfed")
    assert out["instanceV2"]["domain"] == a.domain
    assert out["instanceV2"]["configuration"]["statuses"]["maxCharacters"] > 500
    me = out["me"]
    assert me["acct"] == "ada" and me["username"] == "ada" and me["source"]["privacy"] == "public"
    for empty in ("customEmojis", "filtersV1", "filtersV2", "lists", "trendingTags", "announcements"):
        assert out[empty] == [], empty
    assert out["markers"] == {}

    # Posting and the thread: ids are strings, keys camelCased by masto.
    note, reply = out["note"], out["reply"]
    assert isinstance(note["id"], str) and note["account"]["id"] == me["id"]
    assert "Hello from masto.js" in note["content"] and note["visibility"] == "public"
    assert reply["inReplyToId"] == note["id"] and reply["inReplyToAccountId"] == me["id"]
    assert out["fetched"]["id"] == note["id"]
    assert [s["id"] for s in out["context"]["descendants"]] == [reply["id"]]
    assert out["context"]["ancestors"] == []

    # Favourite and reblog another member's post.
    assert out["favourited"]["favourited"] is True
    assert (out["reblogged"]["reblog"] or out["reblogged"])["reblogged"] is True

    # The home timeline through masto's async iterator: every page reached by the Link header,
    # two statuses a page, newest first, none twice, and it ends.
    pages = out["homePages"]
    assert len(pages) >= 2 and all(len(page) <= 2 for page in pages)
    ids = [status_id for page in pages for status_id in page]
    assert len(ids) == len(set(ids)) and ids == sorted(ids, key=int, reverse=True)
    assert [s["id"] for s in out["homeFirstPage"]] == pages[0]
    assert {note["id"], reply["id"]} <= set(ids)
    assert all(not s["inReplyToId"] for s in out["ownStatuses"])

    # bob on node B: resolved by search, followed, the follow accepted, looked up, heard from.
    found = next(acct for acct in out["search"]["accounts"] if acct["acct"] == bob)
    assert out["follow"]["id"] == found["id"]
    assert out["relationships"][0]["id"] == found["id"] and out["relationships"][0]["following"] is True
    assert out["lookup"]["id"] == found["id"]
    heard = [n for n in out["notifications"] if n["account"]["acct"] == bob]
    assert heard and heard[0]["type"] in ("follow", "follow_request")

    # Errors: masto raises MastoHttpError with our `error` text.
    assert out["notFound"] == {"kind": "MastoHttpError", "statusCode": 404, "message": "Record not found"}
    assert out["invalid"]["statusCode"] == 422 and out["invalid"]["message"].startswith("Validation failed")


def test_megalodon_whalebird(node_js: str, nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    # Whalebird's sign-in: nodeinfo must say "a Mastodon API" (else Whalebird stops here).
    app = drive(node_js, "megalodon-register", a.base_url)
    assert app["sns"] == "mastodon"
    code = code_shown_out_of_band(a, app["url"])
    token = drive(
        node_js, "megalodon-token", a.base_url, app["sns"], app["clientId"], app["clientSecret"], code
    )
    assert token["acct"] == "ada" and set(token["scope"].split()) == {"read", "write", "follow"}

    _bob_follows_ada(a, b)
    wait_until(lambda: _notified(a, token["accessToken"]), what="bob's follow to reach ada")
    bob = f"bob@{b.domain}"
    out = drive(node_js, "megalodon", a.base_url, token["accessToken"], bob)

    assert out["detected"] == "mastodon"
    assert out["me"]["acct"] == "ada"
    assert out["instance"]["version"].startswith("4.3.0")
    posted = out["posted"]
    assert "Hello from megalodon" in posted["content"] and posted["visibility"] == "unlisted"
    first, second = out["homeFirstPage"], out["homeSecondPage"]
    assert len(first) == 2 and first[0]["id"] == posted["id"]
    assert second and int(second[0]["id"]) < int(first[-1]["id"])
    assert 'rel="next"' in out["homeLink"]
    assert any(n["account"]["acct"] == bob for n in out["notifications"])
    assert [acct["acct"] for acct in out["search"]["accounts"]] == [bob]
    assert out["notFound"]["status"] == 404 and out["notFound"]["data"] == {"error": "Record not found"}


def _unlike_mastos_declarations(out: dict[str, Any]) -> list[str]:
    """What the answers masto.js parsed lack of its declarations, beyond DIFFERS_FROM_MASTO."""
    found = [p for key, entity in ONE.items() for p in problems(out[key], entity, DIFFERS_FROM_MASTO, key)]
    for key, entity in MANY.items():
        assert out[key], f"{key} is empty: nothing to check"
        for i, value in enumerate(out[key]):
            found += problems(value, entity, DIFFERS_FROM_MASTO, f"{key}[{i}]")
    return found


def _notified(a: Node, token: str) -> bool:
    response = httpx.get(
        f"{a.base_url}/api/v1/notifications", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    return any(n["account"]["acct"].startswith("bob@") for n in response.json())
