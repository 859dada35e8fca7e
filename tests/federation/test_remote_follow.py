"""The remote-follow box: a visitor's handle is resolved with WebFinger on their own server, and
they are sent to its subscribe template with our actor's id."""

from __future__ import annotations

from urllib.parse import quote

from tests.federation.local_node import Node
from tests.federation.remote_server import RemoteServer


async def test_visitor_is_sent_to_their_server(node: Node, remote: RemoteServer) -> None:
    remote.add_user("vera")
    page = await node.client.get("/users/bob", headers={"Accept": "text/html"})
    assert 'action="/users/bob/remote_follow"' in page.text and 'for="remote-follow-handle"' in page.text
    response = await node.client.post("/users/bob/remote_follow", data={"handle": f"@vera@{remote.netloc}"})
    assert response.status_code == 303
    expected = f"{remote.base}/authorize_interaction?uri={quote(node.actor_uri('bob'), safe='')}"
    assert response.headers["location"] == expected


async def test_bad_handles_get_a_message_and_keep_what_was_typed(node: Node, remote: RemoteServer) -> None:
    malformed = await node.client.post("/users/bob/remote_follow", data={"handle": "not a handle <b>"})
    assert malformed.status_code == 400
    assert "Type your handle like @you@your.server." in malformed.text
    assert 'value="not a handle &lt;b&gt;"' in malformed.text
    unknown = await node.client.post("/users/bob/remote_follow", data={"handle": f"@nobody@{remote.netloc}"})
    assert unknown.status_code == 400 and "could not be asked" in unknown.text
    huge = await node.client.post(
        "/users/bob/remote_follow",
        content=b"handle=" + b"x" * 10_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 400 and "too large" in huge.text
    assert (
        await node.client.post("/users/nobody/remote_follow", data={"handle": "@a@b.example"})
    ).status_code == 404
