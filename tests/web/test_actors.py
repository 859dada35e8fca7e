"""Actor documents and collections, as Mastodon and other servers fetch them."""

from __future__ import annotations

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from talentfed.federation.actor_documents import parse_actor
from talentfed.federation.jsonld import expand

AS_JSON = {"Accept": "application/activity+json"}
LD_JSON = {"Accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}
BASE = "http://127.0.0.1:8000"


@pytest.mark.parametrize("accept", [AS_JSON, LD_JSON])
async def test_member_actor_has_what_mastodon_reads(demo_client: httpx.AsyncClient, accept: dict) -> None:
    response = await demo_client.get("/users/ada", headers=accept)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/activity+json")
    assert "Accept" in response.headers["vary"]
    actor = response.json()
    assert actor["@context"][:2] == ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
    assert actor["id"] == f"{BASE}/users/ada"
    assert actor["type"] == "Person"
    assert actor["preferredUsername"] == "ada"
    assert actor["name"] == "Ada Okafor"
    assert "<strong>speech recognition</strong>" in actor["summary"]
    assert actor["url"] == f"{BASE}/@ada"
    for key, suffix in (
        ("inbox", "/inbox"),
        ("outbox", "/outbox"),
        ("followers", "/followers"),
        ("following", "/following"),
        ("featured", "/collections/featured"),
    ):
        assert actor[key] == f"{BASE}/users/ada{suffix}"
    assert actor["endpoints"] == {"sharedInbox": f"{BASE}/inbox"}
    key = actor["publicKey"]
    assert key["id"] == f"{BASE}/users/ada#main-key"
    assert key["owner"] == actor["id"]
    assert load_pem_public_key(key["publicKeyPem"].encode()).key_size == 2048
    assert actor["manuallyApprovesFollowers"] is False
    assert actor["discoverable"] is True and actor["indexable"] is True
    assert actor["published"].endswith("Z")
    assert actor["affiliation"] == f"{BASE}/users/institution"
    assert actor["skills"] == ["machine learning", "speech recognition", "python"]
    assert "privateKeyPem" not in response.text and "PRIVATE KEY" not in response.text


async def test_institution_is_an_organization(demo_client: httpx.AsyncClient) -> None:
    actor = (await demo_client.get("/users/institution", headers=AS_JSON)).json()
    assert actor["type"] == "Organization"
    assert actor["name"] == "Example University"
    assert "affiliation" not in actor


async def test_manual_approval_is_published(demo_client: httpx.AsyncClient) -> None:
    actor = (await demo_client.get("/users/alan", headers=AS_JSON)).json()
    assert actor["manuallyApprovesFollowers"] is True


async def test_browser_gets_html_on_the_same_url(demo_client: httpx.AsyncClient) -> None:
    response = await demo_client.get("/users/ada", headers={"Accept": "text/html,application/xhtml+xml"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Ada Okafor" in response.text
    assert f'<link rel="alternate" type="application/activity+json" href="{BASE}/users/ada">' in response.text
    profile = await demo_client.get("/@ada")
    assert "Ada Okafor" in profile.text
    redirect = await demo_client.get("/@ada", headers=AS_JSON)
    assert redirect.status_code == 302 and redirect.headers["location"] == f"{BASE}/users/ada"


async def test_unknown_actor_is_404_in_both_forms(demo_client: httpx.AsyncClient) -> None:
    assert (await demo_client.get("/users/nobody", headers=AS_JSON)).status_code == 404
    assert (await demo_client.get("/users/nobody")).status_code == 404


async def test_empty_collections(demo_client: httpx.AsyncClient) -> None:
    for path in ("followers", "following"):
        collection = (await demo_client.get(f"/users/ada/{path}", headers=AS_JSON)).json()
        assert collection["type"] == "OrderedCollection"
        assert collection["id"] == f"{BASE}/users/ada/{path}"
        assert collection["totalItems"] == 0
        page = (await demo_client.get(f"/users/ada/{path}?page=1", headers=AS_JSON)).json()
        assert page["type"] == "OrderedCollectionPage" and page["orderedItems"] == []
        assert "next" not in page
    featured = (await demo_client.get("/users/ada/collections/featured", headers=AS_JSON)).json()
    assert featured["orderedItems"] == []


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5"])
async def test_bad_page_numbers_are_400(demo_client: httpx.AsyncClient, page: str) -> None:
    response = await demo_client.get(f"/users/ada/followers?page={page}", headers=AS_JSON)
    assert response.status_code == 400
    assert "page: expected a positive integer" in response.text


async def test_talentfed_context_is_served(demo_client: httpx.AsyncClient) -> None:
    context = (await demo_client.get("/ns/v1")).json()
    assert context["@context"]["tf"] == "https://w3id.org/talentfed#"


async def test_actor_expands_with_talentfed_terms(demo_client: httpx.AsyncClient) -> None:
    """A receiving node reads our terms through JSON-LD expansion, whatever the prefixes."""

    actor = (await demo_client.get("/users/ada", headers=AS_JSON)).json()
    expanded = expand(actor)[0]
    skills = [item["@value"] for item in expanded["https://w3id.org/talentfed#skills"]]
    assert skills == ["machine learning", "speech recognition", "python"]
    assert expanded["https://w3id.org/talentfed#affiliation"] == [{"@id": f"{BASE}/users/institution"}]
    assert expanded["http://joinmastodon.org/ns#discoverable"][0]["@value"] is True
    # The same terms under another prefix of the sender's choosing mean the same thing.
    renamed = dict(actor)
    renamed["@context"] = [
        *actor["@context"][:2],
        {"x": "https://w3id.org/talentfed#", "abilities": "x:skills"},
    ]
    renamed["abilities"] = renamed.pop("skills")
    again = expand(renamed)[0]
    assert [i["@value"] for i in again["https://w3id.org/talentfed#skills"]] == skills


async def test_our_actor_parses_as_a_remote_actor(demo_client: httpx.AsyncClient) -> None:

    actor = parse_actor((await demo_client.get("/users/alan", headers=AS_JSON)).json())
    assert actor.preferred_username == "alan"
    assert actor.shared_inbox == f"{BASE}/inbox"
    assert actor.manually_approves_followers is True
    assert actor.public_keys[0].id == f"{BASE}/users/alan#main-key"


async def test_outbox_lists_the_creates_of_the_members_posts(demo_client: httpx.AsyncClient) -> None:
    outbox = (await demo_client.get("/users/ada/outbox", headers=AS_JSON)).json()
    assert outbox["totalItems"] == 3  # the demo article, answer and project call
    page = (await demo_client.get("/users/ada/outbox?page=1", headers=AS_JSON)).json()
    assert {item["type"] for item in page["orderedItems"]} == {"Create"}
    kinds = sorted(item["object"]["postKind"] for item in page["orderedItems"])
    assert kinds == ["answer", "article", "projectCall"]
