"""Uploads through the client API, on both back-ends: media attachments (upload, read, change,
attach to a status, federated as Documents), avatar and header through update_credentials
(federated as the actor's icon and image), the files the node serves, remote posts' media,
and every hostile upload answered with a clear 4xx."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain import media
from talentfed.federation.post_reader import read_post
from talentfed.federation.post_store import store_post
from talentfed.storage.db import session_factory
from talentfed.storage.models import Activity, Actor, MediaAttachment
from tests.domain.test_media import GPS_IFD, photo_with_gps, picture, png_claiming
from tests.federation.test_post_reader import load
from tests.support import remote_actor
from tests.web.mastodon.test_oauth import bearer, member_token, register

UPLOAD = "/api/v2/media"
UPDATE = "/api/v1/accounts/update_credentials"


async def _auth(client: httpx.AsyncClient, scope: str = "read write") -> dict[str, str]:
    app = await register(client)
    return bearer(str((await member_token(client, app, scope=scope))["access_token"]))


async def _upload(
    client: httpx.AsyncClient, auth: dict[str, str], data: bytes, name: str = "p.png", **fields: str
) -> httpx.Response:
    return await client.post(UPLOAD, files={"file": (name, data, "image/png")}, data=fields, headers=auth)


async def _served(client: httpx.AsyncClient, url: str) -> httpx.Response:
    served = await client.get(url)
    assert served.status_code == 200, url
    return served


async def _actor(engine: AsyncEngine, username: str) -> Actor:
    async with session_factory(engine)() as session:
        found = await session.scalar(select(Actor).where(Actor.username == username, Actor.local.is_(True)))
    assert found is not None
    return found


async def _latest(engine: AsyncEngine, kind: str) -> dict[str, Any]:
    async with session_factory(engine)() as session:
        query = select(Activity).where(Activity.type == kind, Activity.local.is_(True))
        activity = await session.scalar(query.order_by(Activity.id.desc()).limit(1))
    assert activity is not None
    return activity.document


async def test_an_upload_is_cleaned_served_and_described(
    demo_client: httpx.AsyncClient, config: Config
) -> None:
    auth = await _auth(demo_client)
    uploaded = await _upload(
        demo_client,
        auth,
        photo_with_gps(),
        name="holiday.png",
        description="A red and blue flag",
        focus="0.5,-0.25",
    )
    assert uploaded.status_code == 200, uploaded.text
    entity = uploaded.json()
    assert entity["type"] == "image" and entity["description"] == "A red and blue flag"
    assert entity["url"].startswith(f"{config.node.base_url}/media/") and entity["url"].endswith(".jpg")
    assert entity["remote_url"] is None and entity["blurhash"]
    assert entity["meta"]["original"] == {"width": 40, "height": 60, "size": "40x60", "aspect": 40 / 60}
    assert entity["meta"]["focus"] == {"x": 0.5, "y": -0.25} and entity["meta"]["small"]["width"] == 40
    served = await _served(demo_client, entity["url"])
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert (
        "immutable" in served.headers["cache-control"]
        and "sandbox" in served.headers["content-security-policy"]
    )
    stored = Image.open(io.BytesIO(served.content))
    assert not stored.getexif().get_ifd(GPS_IFD) and b"SecretCam" not in served.content

    shown = await demo_client.get(f"/api/v1/media/{entity['id']}", headers=auth)
    assert shown.status_code == 200 and shown.json() == entity
    changed = await demo_client.put(
        f"/api/v1/media/{entity['id']}", json={"description": "", "focus": "0,0"}, headers=auth
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["description"] is None and changed.json()["meta"]["focus"] == {"x": 0.0, "y": 0.0}
    v1 = await demo_client.post("/api/v1/media", files={"file": ("a.webp", picture("WEBP"))}, headers=auth)
    assert v1.status_code == 200 and v1.json()["url"].endswith(".webp")


async def test_a_status_with_pictures_is_federated_with_its_documents(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    auth = await _auth(demo_client)
    ids = [
        (await _upload(demo_client, auth, picture("PNG"), description=f"picture {i}")).json()["id"]
        for i in range(2)
    ]
    created = await demo_client.post(
        "/api/v1/statuses", data={"status": "Our lab", "media_ids[]": list(reversed(ids))}, headers=auth
    )
    assert created.status_code == 200, created.text
    status = created.json()
    assert [m["id"] for m in status["media_attachments"]] == list(reversed(ids))
    assert status["media_attachments"][0]["description"] == "picture 1"
    note = (await _latest(engine, "Create"))["object"]
    first = note["attachment"][0]
    assert first["type"] == "Document" and first["mediaType"] == "image/png" and first["name"] == "picture 1"
    assert first["url"] == status["media_attachments"][0]["url"] and first["blurhash"]
    assert (first["width"], first["height"]) == (64, 48)
    # Attached: no longer the app's to read or change, nor to attach again.
    assert (await demo_client.get(f"/api/v1/media/{ids[0]}", headers=auth)).status_code == 404
    assert (
        await demo_client.put(f"/api/v1/media/{ids[0]}", data={"description": "x"}, headers=auth)
    ).status_code == 404
    again = await demo_client.post(
        "/api/v1/statuses", data={"status": "again", "media_ids[]": ids[0]}, headers=auth
    )
    assert again.status_code == 422 and "already attached" in again.json()["error"]
    # Pictures alone make a status, as on Mastodon; only_media finds the statuses with media.
    alone_id = (await _upload(demo_client, auth, picture("GIF"))).json()["id"]
    alone = await demo_client.post("/api/v1/statuses", json={"media_ids": [alone_id]}, headers=auth)
    assert alone.status_code == 200, alone.text
    ada = await _actor(engine, "ada")
    with_media = await demo_client.get(f"/api/v1/accounts/{ada.id}/statuses", params={"only_media": "true"})
    assert [s["id"] for s in with_media.json()] == [alone.json()["id"], status["id"]]
    # Delete and redraft: the pictures are free again for the new status.
    deleted = await demo_client.delete(f"/api/v1/statuses/{status['id']}", headers=auth)
    assert [m["id"] for m in deleted.json()["media_attachments"]] == list(reversed(ids))
    redraft = await demo_client.post(
        "/api/v1/statuses", data={"status": "Our lab!", "media_ids[]": ids}, headers=auth
    )
    assert redraft.status_code == 200 and len(redraft.json()["media_attachments"]) == 2


async def test_avatar_and_header_are_published_on_the_actor(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    auth = await _auth(demo_client)
    files = {
        "avatar": ("me.jpg", picture("JPEG", (900, 600)), "image/jpeg"),
        "header": ("banner.png", picture("PNG", (3000, 2000)), "image/png"),
    }
    changed = await demo_client.patch(UPDATE, files=files, data={"display_name": "Ada O."}, headers=auth)
    assert changed.status_code == 200, changed.text
    account = changed.json()
    assert account["display_name"] == "Ada O."
    assert account["avatar"].startswith(f"{config.node.base_url}/media/") and account["avatar"].endswith(
        ".jpg"
    )
    assert account["avatar_static"] == account["avatar"] and account["header_static"] == account["header"]
    assert Image.open(io.BytesIO((await _served(demo_client, account["avatar"])).content)).size == (400, 400)
    assert Image.open(io.BytesIO((await _served(demo_client, account["header"])).content)).size == (1500, 500)
    update = await _latest(engine, "Update")
    assert update["object"]["icon"] == {"type": "Image", "mediaType": "image/jpeg", "url": account["avatar"]}
    assert update["object"]["image"] == {"type": "Image", "mediaType": "image/png", "url": account["header"]}
    actor = await demo_client.get("/users/ada", headers={"Accept": "application/activity+json"})
    assert (
        actor.json()["icon"]["url"] == account["avatar"] and actor.json()["image"]["url"] == account["header"]
    )
    shown = await demo_client.get(f"/api/v1/accounts/{account['id']}")
    assert (shown.json()["avatar"], shown.json()["header"]) == (account["avatar"], account["header"])
    page = (await demo_client.get("/@ada")).text
    assert f'src="{account["avatar"]}"' in page
    assert f'class="profile-header" src="{account["header"]}"' in page


async def test_a_remote_posts_attachments_are_shown_by_their_urls(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    document = load("mastodon-note_2.json")
    async with session_factory(engine)() as session, session.begin():
        author = remote_actor("kde", "floss.social", uri=document["attributedTo"])
        session.add(author)
        await session.flush()
        post = await store_post(session, read_post(document), author)
        await session.flush()
        post_id = post.id
    status = (await demo_client.get(f"/api/v1/statuses/{post_id}")).json()
    [shown] = status["media_attachments"]
    assert shown["remote_url"] == shown["url"] == shown["preview_url"] == document["attachment"][0]["url"]
    assert shown["type"] == "image" and shown["blurhash"] == "USQv:h-W-qI-^,W;RPs=^-R%NZxbo#sDobSc"
    assert shown["meta"]["original"]["width"] == 1500 and shown["description"].startswith("The KDE dragons")


# --- refusals ---------------------------------------------------------------------------------


async def _chunks(data: bytes, sent: list[int]) -> AsyncIterator[bytes]:
    """A body sent without a Content-Length, counting what the server asked for."""
    for start in range(0, len(data), 64 * 1024):
        sent.append(64 * 1024)
        yield data[start : start + 64 * 1024]


def _multipart(data: bytes, boundary: str = "talentfed-test") -> tuple[bytes, dict[str, str]]:
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n\r\n'
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


async def test_a_file_over_the_cap_is_refused_without_being_read_to_the_end(
    demo_client: httpx.AsyncClient, config: Config
) -> None:
    auth = await _auth(demo_client)
    body, headers = _multipart(b"\x89PNG\r\n\x1a\n" + b"\0" * (config.media.max_image_bytes * 3))
    declared = await demo_client.post(UPLOAD, content=body, headers={**auth, **headers})
    assert declared.status_code == 422 and "over 16777216 bytes" in declared.json()["error"]
    sent: list[int] = []
    chunked = await demo_client.post(UPLOAD, content=_chunks(body, sent), headers={**auth, **headers})
    assert chunked.status_code == 422 and "over" in chunked.json()["error"]
    assert sum(sent) < len(body) // 2  # the rest was never asked for
    one_too_many = picture("PNG", (10, 10)) + b"\0" * config.media.max_image_bytes
    over = await _upload(demo_client, auth, one_too_many)
    assert over.status_code == 422 and "larger than 16777216 bytes" in over.json()["error"]


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("notes.png", b"just some text, not a picture", "not a picture we accept"),
        ("cut.jpg", picture("JPEG", (300, 200))[:900], "damaged or incomplete"),
        ("bomb.png", png_claiming(20_000, 20_000, rows=100), "larger than 33177600 pixels"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG"),
        ("clip.mp4", b"\0\0\0\x18ftypmp42" + b"\0" * 100, "video and audio are not supported yet"),
        ("empty.png", b"", "can't be blank"),
    ],
)
async def test_what_is_not_an_acceptable_picture_is_a_422(
    demo_client: httpx.AsyncClient, name: str, data: bytes, says: str
) -> None:
    refused = await _upload(demo_client, await _auth(demo_client), data, name=name)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"].startswith("Validation failed: file: ") and says in refused.json()["error"]


async def test_a_polyglot_with_a_wrong_name_is_stored_as_what_it_really_is(
    demo_client: httpx.AsyncClient,
) -> None:
    """A JPEG with a script appended, sent as page.html: stored as a JPEG of its pixels."""
    polyglot = picture("JPEG") + b"<html><script>alert(document.cookie)</script></html>"
    stored = await demo_client.post(
        UPLOAD, files={"file": ("page.html", polyglot, "text/html")}, headers=await _auth(demo_client)
    )
    assert stored.status_code == 200 and stored.json()["url"].endswith(".jpg")
    served = await _served(demo_client, stored.json()["url"])
    assert served.headers["content-type"] == "image/jpeg" and b"<script>" not in served.content


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"description": "alt\x00text"}, "description: a NUL character"),
        ({"description": "a" * 1501}, "description: at most 1500 characters"),
        ({"focus": "2,0"}, "focus: expected two numbers"),
        ({"focus": "left"}, "focus: expected two numbers"),
    ],
)
async def test_descriptions_and_focus_are_checked_on_both_back_ends(
    demo_client: httpx.AsyncClient, fields: dict[str, str], says: str
) -> None:
    auth = await _auth(demo_client)
    refused = await _upload(demo_client, auth, picture("PNG"), **fields)
    assert refused.status_code == 422 and says in refused.json()["error"], refused.text
    media_id = (await _upload(demo_client, auth, picture("PNG"))).json()["id"]
    changed = await demo_client.put(f"/api/v1/media/{media_id}", json=fields, headers=auth)
    assert changed.status_code == 422 and says in changed.json()["error"], changed.text
    surrogate = await demo_client.put(
        f"/api/v1/media/{media_id}",
        content=b'{"description": "\\ud800"}',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert surrogate.status_code == 422 and "surrogate" in surrogate.json()["error"]


async def test_media_ids_must_be_the_members_own_and_at_most_four(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    auth = await _auth(demo_client)
    async with session_factory(engine)() as session, session.begin():
        grace = await session.scalar(select(Actor).where(Actor.username == "grace"))
        assert grace is not None
        theirs = await media.add(session, grace, await media.prepare(config, picture("PNG")))
        theirs_id = str(theirs.id)
    mine = [(await _upload(demo_client, auth, picture("PNG"))).json()["id"] for _ in range(5)]
    cases = [
        ([theirs_id], f"Media {theirs_id} not found or already attached"),
        (mine, "Cannot attach more than 4 files"),
        (["1e3"], "not found"),
        (["9" * 40], "not found"),
    ]
    for ids, says in cases:
        refused = await demo_client.post(
            "/api/v1/statuses", data={"status": "hi", "media_ids[]": ids}, headers=auth
        )
        assert refused.status_code == 422 and says in refused.json()["error"], (ids, refused.text)
    assert (await demo_client.get(f"/api/v1/media/{theirs_id}", headers=auth)).status_code == 404
    assert (await demo_client.get("/api/v1/media/99999999999999999999", headers=auth)).status_code == 404
    async with session_factory(engine)() as session:  # nothing was attached by the refusals
        attached = await session.scalar(
            select(MediaAttachment.id).where(MediaAttachment.object_id.is_not(None))
        )
    assert attached is None


async def test_uploads_need_a_members_token_with_write_media(demo_client: httpx.AsyncClient) -> None:
    files = {"file": ("p.png", picture("PNG"), "image/png")}
    assert (await demo_client.post(UPLOAD, files=files)).status_code == 401
    read_only = await demo_client.post(UPLOAD, files=files, headers=await _auth(demo_client, "read"))
    assert read_only.status_code == 403
    auth = await _auth(demo_client)
    blank = await demo_client.post(UPLOAD, data={"description": "nothing"}, headers=auth)
    assert blank.status_code == 422 and "file: can't be blank" in blank.json()["error"]
    stray = await demo_client.post(
        UPLOAD, files={"file": ("p.png", picture("PNG")), "other": ("x.png", picture("PNG"))}, headers=auth
    )
    assert stray.status_code == 422


async def test_the_media_route_serves_only_names_it_gave(demo_client: httpx.AsyncClient) -> None:
    for path in ("/media/..%2Fconfig.toml", "/media/config.toml", "/media/" + "a" * 32 + ".svg", "/media/x"):
        assert (await demo_client.get(path)).status_code == 404, path
