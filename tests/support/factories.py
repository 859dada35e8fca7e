"""Factories for what the tests build again and again: actors and posts, as documents (what a
remote server sends) and as rows (what our database holds).

Every factory takes keyword overrides: pass what the test is about, let the rest default. A test
that deliberately builds an odd document (hostile input, a fixture's exact shape) spells it out
instead.

    actor_row("kim", "lab.example", skills=["nlp"])      # a remote Person, as ingest stores it
    local_actor_row("ada")                                # a member of https://uni.example
    post_row(kim, "p1", kind="project", status="open")    # a remote project call row
    post_doc("question", author_uri, name="Why?")         # a question as a talentfed node sends it
    create_doc(actor_uri, post_doc("note", actor_uri))    # a Create carrying it
"""

from __future__ import annotations

import copy
import uuid
from typing import Any
from urllib.parse import urlsplit

from talentfed.federation.context import PUBLISHED_CONTEXT
from talentfed.storage.models import Actor, Object

AS = "https://www.w3.org/ns/activitystreams"
SECURITY = "https://w3id.org/security/v1"
PUBLIC = f"{AS}#Public"
AS_JSON = "application/activity+json"
ACTOR_CONTEXT = [AS, SECURITY]

# A post's kind (as stored) -> its ActivityStreams type and its talentfed `postKind` term, as
# talentfed/federation/post_documents.py publishes them. A note carries no postKind.
POST_KINDS: dict[str, tuple[str, str | None]] = {
    "note": ("Note", None),
    "article": ("Article", "article"),
    "question": ("Note", "question"),
    "answer": ("Note", "answer"),
    "project": ("Note", "projectCall"),
}


def base_of(uri: str) -> str:
    """scheme://host[:port] of a URI."""
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def actor_uri(name: str, host: str, *, scheme: str = "https") -> str:
    return f"{scheme}://{host}/users/{name}"


def new_id(base: str, kind: str = "activities") -> str:
    """A fresh id on the server at `base` (https://host), e.g. https://host/activities/<hex>."""
    return f"{base}/{kind}/{uuid.uuid4().hex}"


# --- actors ------------------------------------------------------------------------------------


def actor_row(
    name: str,
    host: str = "remote.example",
    *,
    local: bool = False,
    shared: bool = True,
    scheme: str = "https",
    **fields: Any,
) -> Actor:
    """An actor row at SCHEME://HOST/users/NAME: a remote Person as ingest stores it (with a
    shared inbox unless `shared=False`), or with `local=True` one of ours (no shared inbox of its
    own). `fields` override any column."""
    uri = actor_uri(name, host, scheme=scheme)
    values: dict[str, Any] = {
        "uri": uri,
        "type": "Person",
        "username": name,
        "domain": host,
        "local": local,
        "inbox_url": f"{uri}/inbox",
        "shared_inbox_url": f"{scheme}://{host}/inbox" if shared and not local else None,
        "followers_url": f"{uri}/followers",
        "skills": [],
        "fields": [],
    }
    return Actor(**(values | fields))


def actor_row_at(uri: str, **fields: Any) -> Actor:
    """`actor_row` for an actor whose id is `uri`, whatever its path: its inbox is <uri>/inbox,
    its followers <uri>/followers, its name the last part of the path."""
    parts = urlsplit(uri)
    name = parts.path.rstrip("/").rsplit("/", 1)[-1]
    values = {"uri": uri, "inbox_url": f"{uri}/inbox", "followers_url": f"{uri}/followers"}
    return actor_row(name, parts.netloc, scheme=parts.scheme, **(values | fields))


def remote_actor(name: str, host: str, *, shared: bool = True, **fields: Any) -> Actor:
    """A remote Person row at https://HOST/users/NAME, as ingest would store it."""
    return actor_row(name, host, shared=shared, **fields)


def local_actor_row(name: str, host: str = "uni.example", **fields: Any) -> Actor:
    """A local member's row, without keys or a login (domain.members.add_member makes real ones)."""
    return actor_row(name, host, local=True, **fields)


def actor_doc(
    uri: str,
    *,
    public_pem: str | None = None,
    key_id: str | None = None,
    shared_inbox: str | None = None,
    name: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """An actor document as Mastodon serves one: inbox, outbox, followers, a key if given."""
    username = urlsplit(uri).path.rstrip("/").rsplit("/", 1)[-1]
    document: dict[str, Any] = {
        "@context": copy.deepcopy(ACTOR_CONTEXT),
        "id": uri,
        "type": "Person",
        "preferredUsername": username,
        "name": name if name is not None else username.title(),
        "inbox": f"{uri}/inbox",
        "outbox": f"{uri}/outbox",
        "followers": f"{uri}/followers",
        "manuallyApprovesFollowers": False,
    }
    if public_pem is not None:
        key = key_id or f"{uri}#main-key"
        document["publicKey"] = {"id": key, "owner": uri, "publicKeyPem": public_pem}
    if shared_inbox is not None:
        document["endpoints"] = {"sharedInbox": shared_inbox}
    document.update(fields)
    return document


# --- posts ---------------------------------------------------------------------------------------


def post_row(author: Actor, slug: str, kind: str = "note", **fields: Any) -> Object:
    """A post row by `author` at <author's server>/objects/SLUG; `author` must have an id
    (flushed). Remote unless `local=True` is passed; `fields` override any column."""
    object_type, _ = POST_KINDS[kind]
    values: dict[str, Any] = {
        "uri": f"{base_of(author.uri)}/objects/{slug}",
        "type": object_type,
        "kind": kind,
        "author_id": author.id,
        "local": False,
        "extra": {},
        "skills": [],
        "tags": [],
    }
    return Object(**(values | fields))


def note_doc(author_uri: str, **fields: Any) -> dict[str, Any]:
    """A public Note as Mastodon sends one (with its own @context)."""
    document = {
        "@context": AS,
        "id": new_id(base_of(author_uri), "notes"),
        "type": "Note",
        "attributedTo": author_uri,
        "content": "<p>hello</p>",
        "to": [PUBLIC],
    }
    return document | fields


def post_doc(kind: str, author_uri: str, **fields: Any) -> dict[str, Any]:
    """A post of `kind` (note, article, question, answer, project) as a talentfed node publishes
    it: the talentfed context, the `postKind` term, and what each kind needs (an answer's
    `inReplyTo` defaults to a question on the author's server, a project call is open)."""
    if kind == "note":
        return note_doc(author_uri, **fields)
    object_type, post_kind = POST_KINDS[kind]
    base = base_of(author_uri)
    document: dict[str, Any] = {
        "@context": copy.deepcopy(PUBLISHED_CONTEXT),
        "id": new_id(base, "objects"),
        "type": object_type,
        "attributedTo": author_uri,
        "to": [PUBLIC],
        "cc": [f"{author_uri}/followers"],
        "content": f"<p>A {kind}</p>",
        "postKind": post_kind,
    }
    if kind in ("article", "question", "project"):
        document["name"] = f"A {kind}"
    if kind == "article":
        document["summary"] = document["content"]
    if kind == "answer":
        document["inReplyTo"] = f"{base}/objects/question"
    if kind == "project":
        document["projectStatus"] = "open"
    return document | fields


# --- activities --------------------------------------------------------------------------------


def activity_doc(actor: str, kind: str, obj: Any, **fields: Any) -> dict[str, Any]:
    """An activity of type `kind` by the actor `actor` (its id) with a fresh id on its server."""
    return {
        "@context": AS,
        "id": new_id(base_of(actor)),
        "type": kind,
        "actor": actor,
        "object": obj,
    } | fields


def create_doc(actor: str, obj: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A Create of `obj`, addressed as the object is; the object's @context moves up to it."""
    embedded = {key: value for key, value in obj.items() if key != "@context"}
    addressing = {key: obj[key] for key in ("to", "cc") if key in obj}
    fields = {"@context": copy.deepcopy(obj.get("@context", AS)), **addressing, **fields}
    return activity_doc(actor, "Create", embedded, **fields)


def follow_doc(actor: str, target: str, **fields: Any) -> dict[str, Any]:
    return activity_doc(actor, "Follow", target, **fields)
