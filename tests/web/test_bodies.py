"""Every POST handler reads its body through web/bodies.py: a body over the cap is refused as
soon as it passes the cap, whether or not it declares a Content-Length."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.domain.members import issue_api_token
from talentfed.storage.db import session_factory

CHUNK = 64 * 1024
FORM = "application/x-www-form-urlencoded"


class Chunks:
    """A chunked request body (no Content-Length) of 64 MB that counts what was read of it."""

    def __init__(self) -> None:
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < 64 * 1024 * 1024:
            self.sent += CHUNK
            yield b"a" * CHUNK


@pytest.mark.parametrize(
    ("path", "content_type", "status"),
    [
        ("/sign-in", FORM, 413),
        ("/users/ada/remote_follow", FORM, 400),  # the profile again, saying the form was too large
        ("/api/talentfed/v1/posts", "application/json", 413),
        ("/inbox", "application/activity+json", 413),
    ],
)
async def test_a_chunked_body_over_the_cap_is_refused_without_reading_it_all(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, path: str, content_type: str, status: int
) -> None:
    async with session_factory(engine)() as session, session.begin():
        token = await issue_api_token(session, "ada")
    body = Chunks()
    headers = {"Content-Type": content_type, "Authorization": f"Bearer {token}"}
    response = await demo_client.post(path, content=body, headers=headers)
    assert response.status_code == status, (path, response.status_code, response.text[:300])
    assert status != 400 or "too large" in response.text
    assert body.sent < 8 * 1024 * 1024, f"{path} read {body.sent} bytes of a body over its cap"
