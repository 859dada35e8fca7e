"""WebFinger, host-meta and NodeInfo as remote servers query them."""

from __future__ import annotations

import json

import httpx
import jsonschema
import pytest

from tests.fixtures_path import fixture

AS_JSON = {"Accept": "application/activity+json"}


async def test_webfinger_by_acct(demo_client: httpx.AsyncClient) -> None:
    response = await demo_client.get("/.well-known/webfinger", params={"resource": "acct:ada@127.0.0.1:8000"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jrd+json")
    assert response.headers["access-control-allow-origin"] == "*"
    jrd = response.json()
    assert jrd["subject"] == "acct:ada@127.0.0.1:8000"
    assert "http://127.0.0.1:8000/users/ada" in jrd["aliases"]
    links = {link["rel"]: link for link in jrd["links"]}
    assert links["self"] == {
        "rel": "self",
        "type": "application/activity+json",
        "href": "http://127.0.0.1:8000/users/ada",
    }
    assert links["http://webfinger.net/rel/profile-page"]["href"] == "http://127.0.0.1:8000/@ada"
    assert "{uri}" in links["http://ostatus.org/schema/1.0/subscribe"]["template"]


@pytest.mark.parametrize(
    "resource",
    [
        "acct:ADA@127.0.0.1:8000",
        "ada@127.0.0.1:8000",
        "http://127.0.0.1:8000/users/ada",
        "http://127.0.0.1:8000/@ada",
    ],
)
async def test_webfinger_other_spellings(demo_client: httpx.AsyncClient, resource: str) -> None:
    response = await demo_client.get("/.well-known/webfinger", params={"resource": resource})
    assert response.status_code == 200, response.text
    assert response.json()["subject"] == "acct:ada@127.0.0.1:8000"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 400),
        ({"resource": ""}, 400),
        ({"resource": "acct:nobody"}, 400),
        ({"resource": "acct:@"}, 400),
        ({"resource": "acct:nobody@127.0.0.1:8000"}, 404),
        ({"resource": "acct:ada@elsewhere.example"}, 404),
        ({"resource": "https://elsewhere.example/users/ada"}, 404),
        ({"resource": "http://127.0.0.1:8000/objects/demo-article"}, 404),
    ],
)
async def test_webfinger_errors(demo_client: httpx.AsyncClient, params: dict, status: int) -> None:
    response = await demo_client.get("/.well-known/webfinger", params=params)
    assert response.status_code == status
    assert response.text  # a reason, not an empty body


async def test_host_meta_points_at_webfinger(demo_client: httpx.AsyncClient) -> None:
    xrd = await demo_client.get("/.well-known/host-meta")
    assert xrd.headers["content-type"].startswith("application/xrd+xml")
    assert 'template="http://127.0.0.1:8000/.well-known/webfinger?resource={uri}"' in xrd.text
    as_json = (await demo_client.get("/.well-known/host-meta.json")).json()
    assert as_json["links"][0]["rel"] == "lrdd"


async def test_nodeinfo_documents_follow_the_schema(demo_client: httpx.AsyncClient) -> None:
    links = (await demo_client.get("/.well-known/nodeinfo")).json()["links"]
    hrefs = {link["rel"].rsplit("/", 1)[1]: link["href"] for link in links}
    assert set(hrefs) == {"2.0", "2.1"}
    schema = json.loads(fixture("nodeinfo", "nodeinfo-2.0.schema.json").read_text())
    for version, href in hrefs.items():
        response = await demo_client.get(href)
        assert response.status_code == 200
        assert f"schema/{version}#" in response.headers["content-type"]
        document = response.json()
        if version == "2.0":
            jsonschema.validate(document, schema)
        assert document["software"]["name"] == "talentfed"
        assert document["protocols"] == ["activitypub"]
        assert document["usage"]["users"]["total"] == 3  # the demo's members
        assert document["usage"]["localPosts"] == 4
        assert document["metadata"]["nodeName"]
        # megalodon (Whalebird, Fedistar) picks its API by nodeinfo: `upstream` says "Mastodon's".
        assert document["metadata"]["upstream"] == {"name": "mastodon", "version": "4.3.0"}
        assert document["openRegistrations"] is False
    assert (await demo_client.get("/nodeinfo/1.0")).status_code == 404


async def test_the_subscribe_template_answers(demo_client: httpx.AsyncClient) -> None:
    jrd = (
        await demo_client.get("/.well-known/webfinger", params={"resource": "acct:ada@127.0.0.1:8000"})
    ).json()
    template = next(link["template"] for link in jrd["links"] if link["rel"].endswith("subscribe"))
    url = template.replace("{uri}", "acct:someone@mastodon.example").removeprefix("http://127.0.0.1:8000")
    page = await demo_client.get(url)
    assert page.status_code == 200 and "someone@mastodon.example" in page.text
    assert "<script" not in (await demo_client.get("/authorize_interaction?uri=<script>x</script>")).text
    assert (await demo_client.get("/authorize_interaction")).status_code == 400
