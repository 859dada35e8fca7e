"""The post reader (`post_reader.read_post`), pure, field by field against real documents.

- every document in the shared fixtures goes through `read_post` (the object of an
  activity when it embeds one): either a post comes out, or `UnsupportedObject` for the
  files listed in NON_POSTS, each with the reason;
- a table pins what is read from each kind of post, with values from the fixtures;
- each field is then read edge by edge (every shape servers send it in);
- talentfed's own terms are read through JSON-LD expansion, whatever the sender's
  @context calls them.

Storing what was read is tested in test_post_store.py.
"""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime
from typing import Any

import pytest

from talentfed.federation.context import LEGACY_CONTEXT_IRI
from talentfed.federation.post_documents import PostContext, post_document
from talentfed.federation.post_reader import (
    IncomingAttachment,
    IncomingPost,
    UnsupportedObject,
    carried_objects,
    read_post,
    visibility_of,
)
from talentfed.federation.uris import LocalURIs
from talentfed.storage.models import Object
from tests.fixtures_path import FIXTURES, fixture
from tests.support.factories import actor_row

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
OBJECT_FILES = sorted(p.name for p in (FIXTURES / "objects").glob("*.json"))


def load(name: str) -> dict[str, Any]:
    return json.loads(fixture("objects", name).read_text(encoding="utf-8"))


def objects_to_read(document: dict[str, Any]) -> list[dict[str, Any]]:
    """What an inbox would hand to read_post: the carried object(s), another activity's
    embedded object, or the document itself."""
    carried = carried_objects(document)
    if carried:
        return carried
    embedded = document.get("object")
    return [embedded] if isinstance(embedded, dict) else [document]


def post_of(name: str) -> IncomingPost:
    return read_post(objects_to_read(load(name))[0])


# --- every fixture ---------------------------------------------------------------------------

ACTIVITY, ACTOR, NOT_POST = "is an activity", "is an actor", "is not a post"
POLL_VOTE, NO_CONTENT = "a poll vote", "has no content"
VISIBILITIES = ("public", "unlisted", "followers", "direct")
KINDS = ("article", "question", "answer", "project", "note", "page", "event", "video", "poll", "other")

# file → (what it is, what UnsupportedObject says). Everything else must read as a post.
NON_POSTS: dict[str, tuple[str, str]] = {
    "activityrelay-accept-follow.json": ("Accept embedding the Follow", ACTIVITY),
    "fep044f-quoterequest.json": ("FEP-044f QuoteRequest", ACTIVITY),
    "friendica-collection-followers.json": ("followers collection", NOT_POST),
    "friendica-delete.json": ("Delete of a Tombstone", NOT_POST),
    "friendica-like_page.json": ("Like of an IRI", ACTIVITY),
    "gnusocial-like_note.json": ("Like of an IRI", ACTIVITY),
    "gotosocial-docs-accept-with-result.json": ("Accept of an IRI", ACTIVITY),
    "gotosocial-docs-accept-with-target.json": ("Accept of an IRI", ACTIVITY),
    "gotosocial-docs-announce-approvedby.json": ("Announce of an IRI: the post must be fetched", ACTIVITY),
    "gotosocial-docs-announceapproval.json": ("interaction-policy approval stamp", NO_CONTENT),
    "gotosocial-docs-collection-followers.json": ("followers collection", NOT_POST),
    "gotosocial-docs-create-poll-vote.json": ("Create of two poll votes", POLL_VOTE),
    "gotosocial-docs-delete-1.json": ("Delete of an IRI", ACTIVITY),
    "gotosocial-docs-delete-2.json": ("Delete of an IRI", ACTIVITY),
    "gotosocial-docs-flag.json": ("report", ACTIVITY),
    "gotosocial-docs-likeapproval.json": ("interaction-policy approval stamp", NO_CONTENT),
    "gotosocial-docs-move.json": ("account move", ACTIVITY),
    "gotosocial-docs-reject-interaction.json": ("Reject of an interaction", ACTIVITY),
    "gotosocial-docs-replyapproval.json": ("interaction-policy approval stamp", NO_CONTENT),
    "gotosocial-impolite-interaction-req-to-as-accept-like.json": ("Accept of an IRI", ACTIVITY),
    "gotosocial-interaction-req-to-as-accept-like-polite.json": ("Accept of a LikeRequest", "an activity"),
    "gotosocial-pinned-statuses-to-as-no-items.json": ("featured collection", NOT_POST),
    "gotosocial-pinned-statuses-to-as-one-item.json": ("featured collection", NOT_POST),
    "gotosocial-pinned-statuses-to-as-some-items.json": ("featured collection", NOT_POST),
    "gotosocial-poll-vote-to-as-create-2.json": ("Create of a poll vote", POLL_VOTE),
    "gotosocial-poll-vote-to-as-create.json": ("Create of a poll vote", POLL_VOTE),
    "gotosocial-report-to-as.json": ("report", ACTIVITY),
    "gotosocial-status-to-as-delete-direct-message.json": ("Delete of an IRI", ACTIVITY),
    "gotosocial-status-to-as-delete-public-reply-original-deleted.json": ("Delete of an IRI", ACTIVITY),
    "gotosocial-status-to-as-delete-public-reply.json": ("Delete of an IRI", ACTIVITY),
    "gotosocial-statuses-to-as-outbox-page.json": ("outbox page", NOT_POST),
    "hubzilla-follow.json": ("Follow", ACTIVITY),
    "lemmy-add_featured_post.json": ("Add (pin) of an IRI", ACTIVITY),
    "lemmy-block_user.json": ("Block", ACTIVITY),
    "lemmy-collection-group_featured_posts.json": ("featured collection", NOT_POST),
    "lemmy-collection-group_followers.json": ("followers collection", NOT_POST),
    "lemmy-collection-group_outbox.json": ("outbox", NOT_POST),
    "lemmy-collection-person_outbox.json": ("outbox", NOT_POST),
    "lemmy-delete_private_message.json": ("Delete of an IRI", ACTIVITY),
    "lemmy-delete_user.json": ("Delete of an IRI", ACTIVITY),
    "lemmy-follow.json": ("Follow", ACTIVITY),
    "lemmy-like_note.json": ("Like of an IRI", ACTIVITY),
    "lemmy-lock_note.json": ("Lock (moderation)", ACTIVITY),
    "lemmy-lock_page.json": ("Lock (moderation)", ACTIVITY),
    "lemmy-remove_mod.json": ("Remove of a moderator", ACTIVITY),
    "lemmy-remove_note.json": ("Delete of an IRI", ACTIVITY),
    "lemmy-resolve_report_page.json": ("Resolve embedding a Flag", ACTIVITY),
    "lemmy-tombstone.json": ("Tombstone", NOT_POST),
    "lemmy-undo_block_user.json": ("Undo embedding a Block", ACTIVITY),
    "lemmy-undo_dislike_page.json": ("Undo embedding a Like", ACTIVITY),
    "lemmy-undo_follow.json": ("Undo embedding a Follow", ACTIVITY),
    "lemmy-undo_like_note.json": ("Undo embedding a Like", ACTIVITY),
    "lemmy-undo_lock_note.json": ("Undo embedding a Lock", ACTIVITY),
    "lemmy-undo_lock_page.json": ("Undo embedding a Lock", ACTIVITY),
    "lemmy-undo_remove_note.json": ("Undo embedding a Delete", ACTIVITY),
    "lemmy-update_community.json": ("Update of a Group actor", ACTOR),
    "lemmy-warn.json": ("Warn (moderation)", ACTIVITY),
    "mastodon-announce-2018.json": ("Announce of an IRI: the post must be fetched", ACTIVITY),
    "mastodon-block.json": ("Block", ACTIVITY),
    "mastodon-collection-featured.json": ("featured collection", NOT_POST),
    "mastodon-collection-followers-page.json": ("followers page", NOT_POST),
    "mastodon-delete-user.json": ("Delete of a Person", ACTOR),
    "mastodon-delete.json": ("Delete of a Tombstone", NOT_POST),
    "mastodon-docs-block.json": ("Block", ACTIVITY),
    "mastodon-docs-flag.json": ("report", ACTIVITY),
    "mastodon-docs-poll-vote.json": ("Create of a poll vote", POLL_VOTE),
    "mastodon-flag.json": ("report", ACTIVITY),
    "mastodon-follow.json": ("Follow", ACTIVITY),
    "mastodon-like.json": ("Like", ACTIVITY),
    "mastodon-like_page.json": ("Like", ACTIVITY),
    "mastodon-reject-follow.json": ("Reject embedding the Follow", ACTIVITY),
    "mastodon-undo-announce.json": ("Undo embedding an Announce", ACTIVITY),
    "mastodon-undo-block.json": ("Undo embedding a Block", ACTIVITY),
    "mastodon-undo-like-iri-object.json": ("Undo of an IRI", ACTIVITY),
    "mastodon-undo-like.json": ("Undo embedding a Like", ACTIVITY),
    "mastodon-undo_follow.json": ("Undo embedding a Follow", ACTIVITY),
    "mastodon-undo_like_page.json": ("Undo embedding a Like", ACTIVITY),
    "mastodon-update-person.json": ("Update of a Person", ACTOR),
    "mbin-flag.json": ("report", ACTIVITY),
    "misskey-like-reaction.json": ("Like with a reaction", ACTIVITY),
    "mitra-accept.json": ("Accept of an IRI", ACTIVITY),
    "osada-follow.json": ("Follow", ACTIVITY),
    "pixelfed-story.json": ("Pixelfed Story: an unknown type, an image and no text", NO_CONTENT),
    "pleroma-delete.json": ("Delete of an IRI", ACTIVITY),
    "pleroma-emojireact-no-emoji.json": ("emoji reaction", ACTIVITY),
    "pleroma-emojireact.json": ("emoji reaction", ACTIVITY),
    "pleroma-follow.json": ("Follow", ACTIVITY),
}


def test_the_fixture_directory_is_there() -> None:
    fixture("objects")
    assert len(OBJECT_FILES) >= 166
    assert set(NON_POSTS) <= set(OBJECT_FILES), "NON_POSTS names files that do not exist"


@pytest.mark.parametrize("name", OBJECT_FILES)
def test_every_fixture_reads_as_a_post_or_is_unsupported(name: str) -> None:
    for document in objects_to_read(load(name)):
        if name in NON_POSTS:
            with pytest.raises(UnsupportedObject) as raised:
                read_post(document)
            assert NON_POSTS[name][1] in raised.value.reason
            continue
        post = read_post(document)
        assert post.uri.startswith(("https://", "http://"))
        assert post.kind in KINDS
        assert post.visibility in ("public", "unlisted", "followers", "direct")
        assert post.content or post.name or post.attachments


def test_the_posts_among_the_fixtures_cover_every_kind_of_source() -> None:
    posts = [name for name in OBJECT_FILES if name not in NON_POSTS]
    assert len(posts) >= 75
    for software in (
        "mastodon",
        "gotosocial",
        "misskey",
        "pleroma",
        "lemmy",
        "peertube",
        "mobilizon",
        "wordpress",
        "plume",
        "ghost",
        "friendica",
        "pixelfed",
        "bookwyrm",
    ):
        assert any(name.startswith(software) for name in posts), software


# --- what is read from each kind --------------------------------------------------------------


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


TABLE: dict[str, dict[str, Any]] = {
    # Mastodon Note with a content warning, a mention and a hashtag, inside its Create.
    "mastodon-create-hashtag.json": {
        "uri": "http://mastodon.example.org/users/admin/statuses/99512778738411822",
        "type": "Note",
        "kind": "note",
        "attributed_to": "http://mastodon.example.org/users/admin",
        "url": "http://mastodon.example.org/@admin/99512778738411822",
        "context": "tag:mastodon.example.org,2018-02-12:objectId=20:objectType=Conversation",
        "summary": "cw",  # a warning is plain text, kept escaped
        "sensitive": True,
        "tags": ("moo",),
        "mentions": ("http://localtesting.pleroma.lol/users/lain",),
        "visibility": "public",
        "published": at(2018, 2, 12, 14, 8, 20),
        "in_reply_to": None,
    },
    # A reply in exactly the shape Mastodon sends it (followers in `to`, Public in `cc`).
    "mastodon-note_1.json": {
        "kind": "note",
        "in_reply_to": "https://mamot.fr/users/retiolus/statuses/107224244380204526",
        "context": "tag:mamot.fr,2021-11-05:objectId=64635960:objectType=Conversation",
        "mentions": ("https://mamot.fr/users/retiolus",),
        "visibility": "unlisted",
        "language": "en",
        "summary": None,
        "published": at(2021, 11, 5, 11, 46, 50),
    },
    "mastodon-create-note-no-context.json": {
        "tags": ("coffee",),
        "language": "en",
        "attachments": (
            IncomingAttachment(
                url="https://files.mastodon.social/media_attachments/files/007/110/573/original/"
                "96a196885a77c9a4.jpg",
                media_type="image/jpeg",
                name=None,
            ),
        ),
    },
    "mastodon-announce-private.json": {
        "content": "this is a private toot",
        "visibility": "followers",
        "attributed_to": "http://mastodon.example.org/users/admin",
    },
    "mastodon-private_message.json": {
        "visibility": "direct",
        "mentions": ("https://ds9.lemmy.ml/u/nutomic",),
    },
    # GoToSocial: `to` as a bare string, alt text in the attachment's `summary`, an Emoji tag.
    "gotosocial-status-with-tags-to-as-from-d-b.json": {
        "uri": "http://localhost:8080/users/admin/statuses/01F8MH75CBF9JFX4ZAD54N0W0R",
        "kind": "note",
        "tags": ("welcome",),
        "language": "en",
        "visibility": "public",
        "summary": None,
        "attachments": (
            IncomingAttachment(
                url="http://localhost:8080/fileserver/01F8MH17FWEB39HZJ76B6VXSKF/attachment/original/"
                "01F8MH6NEM8D7527KZAECTCR76.jpg",
                media_type="image/jpeg",
                name="Black and white image of some 50's style text saying: Welcome On Board",
                blurhash="LIIE|gRj00WB-;j[t7j[4nWBj[Rj",
                focus=(-0.5, 0.5),
            ),
        ),
    },
    "misskey-note-misskey-io.json": {
        "uri": "https://misskey.io/notes/9qarnku54zbc0b9u",
        "attributed_to": "https://misskey.io/users/7rkrarq81i",
        "content": "<p>アライグマ vs ダライラマ</p>",
        "in_reply_to": None,
        "visibility": "public",
        "published": datetime(2024, 2, 29, 12, 28, 49, 85000, tzinfo=UTC),
    },
    # Pleroma: instance-hosted LitePub context, {"@language": "und"}, five mentions, a thread.
    "pleroma-note-sakamoto.json": {
        "in_reply_to": "https://busshi.moe/users/tuxcrafting/statuses/104410921027210069",
        "context": "https://cawfee.club/contexts/ad6c73d8-efc2-4e74-84ea-2dacf1a27a5e",
        "language": None,
        "visibility": "public",
        "summary": None,
        "mentions": (
            "https://blob.cat/users/blobyoumu",
            "https://busshi.moe/users/tuxcrafting",
            "https://cawfee.club/users/grips",
            "https://jaeger.website/users/igel",
            "https://stereophonic.space/users/fixpoint",
        ),
    },
    "pleroma-note.json": {"content": "Have what?", "visibility": "unlisted"},
    # Articles: Plume (attributedTo array), Ghost (as:Public, bare-string cc), WordPress.
    "plume-article.json": {
        "type": "Article",
        "kind": "article",
        "name": "This Month in Plume: June 2018",
        "attributed_to": "https://baptiste.gelez.xyz/@/BaptisteGelez",
        "url": "https://baptiste.gelez.xyz/~/PlumeDevelopment/this-month-in-plume-june-2018/",
        "published": datetime(2018, 7, 10, 20, 16, 24, 87622, tzinfo=UTC),
    },
    "ghost-article.json": {
        "kind": "article",
        "name": "Post title",
        "content": "Post content",
        "url": "https://example.com/post/post-123",
        "visibility": "public",
        "updated": at(2025, 1, 15, 10, 30),
    },
    "wordpress-page.json": {
        "uri": "https://dbzer0.com/?p=27948",
        "kind": "article",
        "name": "An Epic 3D-Printed Fan Expansion for Last Light",
        "url": "https://dbzer0.com/blog/an-epic-3d-printed-fan-expansion-for-last-light/",
        "tags": ("3d printing", "ai", "boardgames", "genai", "last light"),
        "language": "en",
        "context": "https://dbzer0.com/wp-json/activitypub/1.0/posts/27948/context",
        "published": at(2025, 12, 10, 15, 53, 45),
        "updated": at(2025, 12, 10, 18, 23, 32),
    },
    # WordPress announcing an Update of an Article: opened twice.
    "wordpress-announce.json": {"uri": "https://pfefferle.org/lemmy-part-4/", "name": "Lemmy (Part 4)"},
    "prismo-create-article-url-link.json": {
        "url": "https://prismo.news/posts/83",
        "attributed_to": "https://prismo.news/@mxb",
    },
    # Lemmy: a Page (a link post in a community) and a comment on it.
    "lemmy-page.json": {
        "uri": "https://enterprise.lemmy.ml/post/55143",
        "type": "Page",
        "kind": "page",
        "name": "Post title",
        "content": "<p>This is a post in the /c/tenforward community</p>",
        "language": "fr",
        "context": "https://enterprise.lemmy.ml/post/55143/context",
        "mentions": ("https://enterprise.lemmy.ml/c/tenforward",),
        "attachments": (
            IncomingAttachment(
                url="https://enterprise.lemmy.ml/pictrs/image/eOtYb9iEiB.png",
                media_type=None,
                name=None,
            ),
        ),
        "visibility": "public",
    },
    "lemmy-comment.json": {
        "kind": "note",
        "in_reply_to": "https://enterprise.lemmy.ml/post/55143",
        "content": "<p>first comment!</p>",
        "updated": datetime(2021, 3, 1, 13, 43, 3, 955787, tzinfo=UTC),
    },
    "friendica-note_2.json": {
        "tags": ("friendica", "lemmy"),
        "in_reply_to": "https://lemmy.ml/comment/167904",
    },
    # Polls.
    "pleroma-question-original.json": {
        "type": "Question",
        "kind": "poll",
        "content": "can you vote on this poll?",
        "visibility": "public",
    },
    "misskey-question-no-endtime.json": {
        "kind": "poll",
        "mentions": ("https://marchgenso.me/users/march",),
    },
    "mastodon-docs-question-anyof.json": {"kind": "poll", "attributed_to": None, "visibility": "direct"},
    # Mobilizon Event: language from `inLanguage`, a banner attachment.
    "mobilizon-event.json": {
        "type": "Event",
        "kind": "event",
        "name": "Caledonian scottish dance class",
        "attributed_to": "https://rendezvous.nomagic.uk/@devon_caledonian_society",
        "tags": ("dance", "caledonian", "lesson"),
        "language": "en",
        "attachments": (
            IncomingAttachment(
                url="https://rendezvous.nomagic.uk/media/cd75bf2f61b66004fe20af4797f5aa847ae1f9ea1c118f53093d"
                "6fc4e51a6045.jpg?name=devon_caledonian_society%27s%20banner.jpg",
                media_type="image/jpeg",
                name="Banner",
            ),
        ),
    },
    # PeerTube Video: url array of Links, attributedTo [Person, Group], Markdown content.
    "peertube-video.json": {
        "type": "Video",
        "kind": "video",
        "attributed_to": "https://tilvids.com/accounts/thelinuxexperiment",
        "url": "https://tilvids.com/videos/watch/e7946124-7b72-4ad7-9d22-844a84bb2de1",
        "language": "en",
        "published": datetime(2025, 2, 1, 11, 59, 45, 94000, tzinfo=UTC),
    },
    "peertube-create-video.json": {
        "kind": "video",
        "name": "Déframasoftisons Internet [Framasoft]",
        "attributed_to": "https://framatube.org/accounts/framasoft",
        "tags": ("déframasoftisons", "epn23", "framaconf", "framasoft", "pyg"),
    },
    # Unknown types with content are kept as `other`.
    "pleroma-chat_message.json": {
        "type": "ChatMessage",
        "kind": "other",
        "visibility": "direct",
        "content": "Hi!",
    },
}


@pytest.mark.parametrize(("name", "expected"), TABLE.items(), ids=TABLE.keys())
def test_what_is_read_from_each_kind(name: str, expected: dict[str, Any]) -> None:
    post = post_of(name)
    assert {key: getattr(post, key) for key in expected} == expected


def test_mastodon_markup_is_kept_and_links_are_made_safe() -> None:
    content = post_of("mastodon-create-hashtag.json").content or ""
    assert (
        '<span class="h-card"><a href="http://localtesting.pleroma.lol/users/lain" class="u-url mention"'
        in content
    )
    assert 'rel="nofollow noopener noreferrer"' in content


def test_an_article_keeps_its_structure() -> None:
    assert "<h2>Bug Fixes and Security</h2>" in (post_of("plume-article.json").content or "")


def test_markdown_content_is_rendered_and_stays_safe() -> None:
    content = post_of("peertube-video.json").content or ""
    assert content.startswith("<p>Head to https://squarespace.com/thelinuxexperiment")
    post = read_post(_note(content="# Hi <script>x()</script>", mediaType="text/markdown"))
    assert post.content == "<h1>Hi &lt;script&gt;x()&lt;/script&gt;</h1>"


def test_the_raw_document_is_kept() -> None:
    document = load("misskey-note-misskey-io.json")
    post = read_post(document)
    assert dict(post.document) == document
    with pytest.raises(FrozenInstanceError):
        post.kind = "article"  # type: ignore[misc]


# --- reading, edge by edge ------------------------------------------------------------------


def _note(**fields: Any) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": "https://remote.example/notes/1",
        "type": "Note",
        "attributedTo": "https://remote.example/users/bob",
        "content": "<p>hello</p>",
        "to": [PUBLIC],
        **fields,
    }


@pytest.mark.parametrize(
    "public", [PUBLIC, "as:Public", "Public", "http://www.w3.org/ns/activitystreams#Public"]
)
def test_public_in_every_spelling(public: str) -> None:
    assert read_post(_note(to=public)).visibility == "public"
    assert read_post(_note(to=[], cc=[public])).visibility == "unlisted"


def test_followers_and_direct_visibility() -> None:
    followers = "https://remote.example/users/bob/followers"
    assert read_post(_note(to=[followers])).visibility == "followers"
    assert read_post(_note(to=["https://other.example/users/eve"], cc=followers)).visibility == "followers"
    assert read_post(_note(to=["https://other.example/users/eve"])).visibility == "direct"
    # Another host's followers collection is not the author's.
    assert read_post(_note(to=["https://other.example/users/eve/followers"])).visibility == "direct"
    # With the actor's real collection, its name does not matter.
    assert visibility_of(["https://x.example/c/42"], [], "https://x.example/c/42") == "followers"
    assert visibility_of([followers], [], "https://x.example/c/42") == "direct"


@pytest.mark.parametrize(
    "attributed_to",
    [
        "https://remote.example/users/bob",
        {"type": "Person", "id": "https://remote.example/users/bob"},
        [{"type": "Person", "id": "https://remote.example/users/bob"}, "https://remote.example/groups/g"],
        ["https://remote.example/users/bob", {"type": "Group", "id": "https://remote.example/groups/g"}],
    ],
)
def test_attributed_to_in_every_shape(attributed_to: Any) -> None:
    assert read_post(_note(attributedTo=attributed_to)).attributed_to == "https://remote.example/users/bob"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://remote.example/@bob/1", "https://remote.example/@bob/1"),
        ({"type": "Link", "href": "https://remote.example/@bob/1"}, "https://remote.example/@bob/1"),
        (
            [
                {"type": "Link", "mediaType": "video/mp4", "href": "https://remote.example/1.mp4"},
                {"type": "Link", "mediaType": "text/html", "href": "https://remote.example/@bob/1"},
            ],
            "https://remote.example/@bob/1",
        ),
        ("javascript:alert(1)", None),
        ("/relative", None),
    ],
)
def test_url_in_every_shape(url: Any, expected: str | None) -> None:
    assert read_post(_note(url=url)).url == expected


def test_content_map_without_content_prefers_the_declared_language() -> None:
    content_map = {"en": "<p>hello</p>", "de": "<p>hallo</p>"}
    declared = read_post(
        _note(content=None, contentMap=content_map, **{"@context": [AS, {"@language": "de"}]})
    )
    assert (declared.content, declared.language) == ("<p>hallo</p>", "de")
    undeclared = read_post(_note(content=None, contentMap=content_map))
    assert (undeclared.content, undeclared.language) == ("<p>hello</p>", "en")
    both = read_post(_note(content="<p>hallo</p>", contentMap=content_map))
    assert both.language == "de"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-02-29T12:28:49.085Z", datetime(2024, 2, 29, 12, 28, 49, 85000, tzinfo=UTC)),
        ("2021-09-11T11:45:37+02:00", at(2021, 9, 11, 9, 45, 37)),
        ("2019-09-19T00:32:36.785333", datetime(2019, 9, 19, 0, 32, 36, 785333, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        (1700000000, None),
        (None, None),
        ("0001-01-01T00:00:00+14:00", None),
    ],
)
def test_dates_are_aware_and_garbage_is_tolerated(value: Any, expected: datetime | None) -> None:
    assert read_post(_note(published=value, updated=value)).published == expected


def test_hostile_html_is_sanitised_everywhere() -> None:
    post = read_post(
        _note(
            content='<p onclick="x()">hi<script>alert(1)</script><a href="javascript:alert(1)">x</a></p>',
            summary='<img src=x onerror="alert(1)">cw',
            name="Title ",
            attachment=[
                {"type": "Document", "url": "javascript:alert(1)"},
                {"type": "Image", "url": "data:,x"},
            ],
            tag=[{"type": "Mention", "href": "javascript:alert(1)", "name": "@x"}],
        )
    )
    assert post.content == '<p>hi<a rel="nofollow noopener noreferrer">x</a></p>'
    assert post.summary == "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;cw"  # a Note's warning is text
    assert post.name == "Title"
    assert post.attachments == ()
    assert post.mentions == ()


def test_plain_text_content_is_escaped() -> None:
    post = read_post(_note(content="a <b> & c\n\nnext", mediaType="text/plain"))
    assert post.content == "<p>a &lt;b&gt; &amp; c</p><p>next</p>"


def test_a_notes_summary_is_a_warning_in_plain_text_an_articles_is_html() -> None:
    """As Mastodon reads them: a Note's `summary` is its content warning, text ("<b>" in it is
    shown, not applied), on one line; an Article's is its abstract, sanitised HTML."""
    warning = read_post(_note(summary="Spoilers for <Dune>\n & more  "))
    assert warning.summary == "Spoilers for &lt;Dune&gt; &amp; more"
    assert read_post(_note(summary="   ")).summary is None
    abstract = read_post(_note(type="Article", summary="<p>About <b>Dune</b><script>x</script></p>"))
    assert abstract.summary == "<p>About <b>Dune</b></p>"


def test_hashtags_are_normalised_skills() -> None:
    tags = [
        {"type": "Hashtag", "name": "#MachineLearning"},
        {"type": "Hashtag", "name": "machine-learning"},
        {"type": "Hashtag", "name": "#PostgreSQL"},
        {"type": "Emoji", "name": ":blob:"},
        {"type": "Mention", "href": "https://other.example/users/eve", "name": "@eve@other.example"},
    ]
    post = read_post(_note(tag=tags))
    assert post.tags == ("machine learning", "postgresql")
    assert post.mentions == ("https://other.example/users/eve",)
    assert dict(post.mention_names) == {"https://other.example/users/eve": "@eve@other.example"}


def test_a_single_tag_and_attachment_object_are_read() -> None:
    post = read_post(
        _note(
            tag={"type": "Hashtag", "name": "#rust"},
            attachment={
                "type": "Image",
                "url": {"type": "Link", "href": "https://cdn.example/a.png", "mediaType": "image/png"},
                "name": "alt",
            },
        )
    )
    assert post.tags == ("rust",)
    assert post.attachments == (
        IncomingAttachment(url="https://cdn.example/a.png", media_type="image/png", name="alt"),
    )


def test_mastodons_attachment_fields_are_read() -> None:
    """Alt text, BlurHash, size and focal point, as Mastodon sends them (a real post)."""
    [picture] = post_of("mastodon-note_2.json").attachments
    assert picture == IncomingAttachment(
        url="https://cdn.masto.host/floss/media_attachments/files/113/306/826/682/985/891/original/"
        "c8d906a2f2ab2334.jpg",
        media_type="image/jpeg",
        name="The KDE dragons Katie and Konqi stand on either side of a pot filling up with gold coins. "
        "Donate!",
        blurhash="USQv:h-W-qI-^,W;RPs=^-R%NZxbo#sDobSc",
        width=1500,
        height=1095,
        focus=(0.0, 0.0),
    )
    [focused] = post_of("mastodon-docs-note-focalpoint.json").attachments
    assert focused.focus == (-0.55, 0.43)


@pytest.mark.parametrize(
    "odd",
    [
        {"blurhash": "<script>", "width": -5, "height": 10**30, "focalPoint": [2, 0]},
        {"blurhash": 7, "width": True, "height": "100", "focalPoint": ["a", "b"]},
        {"blurhash": "x" * 500, "width": float("inf"), "height": 0, "focalPoint": [0.1]},
        {"mediaType": "image/png; charset=<b>", "focalPoint": [float("nan"), 0]},
    ],
)
def test_odd_attachment_values_are_dropped(odd: dict[str, Any]) -> None:
    picture = {"type": "Document", "mediaType": "text/html<", "url": "https://r.example/a.png", **odd}
    [read] = read_post(_note(attachment=[picture])).attachments
    assert read.url == "https://r.example/a.png"
    assert (read.blurhash, read.width, read.height, read.focus) == (None, None, None, None)
    assert read.media_type in (None, "image/png")


def test_a_long_alt_text_is_cut_to_mastodons_limit() -> None:
    picture = {"type": "Document", "url": "https://r.example/a.png", "name": "a" * 5000}
    [read] = read_post(_note(attachment=[picture])).attachments
    assert read.name == "a" * 1500


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("https://remote.example/notes/1", "not a JSON object"),
        ({"id": "https://remote.example/x", "content": "x"}, "no type"),
        (_note(id=None), "no usable id"),
        (_note(id="https://remote.example/" + "x" * 2048), "no usable id"),
        (_note(id="urn:uuid:1234"), "no usable id"),
        (_note(type="Tombstone"), "is not a post"),
        (_note(type=["Note", "Tombstone"]), "is not a post"),
        (_note(type="Link", href="https://x.example"), "is not a post"),
        (_note(type="Hashtag"), "is not a post"),
        (_note(type="Person"), "is an actor"),
        (_note(type="Create", object="https://remote.example/notes/2"), "is an activity"),
        (_note(type="Story", content=None), "has no content"),
        (_note(type="X" * 40), "too long"),
        (_note(content=None, name="orange", inReplyTo="https://remote.example/polls/1"), "a poll vote"),
    ],
)
def test_what_is_not_a_post(document: Any, reason: str) -> None:
    with pytest.raises(UnsupportedObject) as raised:
        read_post(document)
    assert reason in raised.value.reason


GARBAGE = [
    None,
    5,
    -1.5,
    float("nan"),
    True,
    "",
    "x",
    [],
    {},
    [5],
    [None],
    {"id": 5},
    {"href": []},
    [[["deep"]]],
    {"@id": "_:b0"},
    {"@value": 3},
    {"@list": [1]},
    "javascript:alert(1)",
    "\x00",
]


@pytest.mark.parametrize(
    "name",
    [
        "mastodon-create-hashtag.json",
        "peertube-video.json",
        "lemmy-page.json",
        "misskey-question-no-endtime.json",
        "mobilizon-event.json",
    ],
)
def test_garbage_in_any_field_is_tolerated(name: str) -> None:
    base = objects_to_read(load(name))[0]
    base = {**base, "postKind": "projectCall", "skills": ["a"], "deadline": "2030-01-01T00:00:00Z"}
    refused: set[str] = set()
    for key in base:
        for garbage in GARBAGE:
            # The only acceptable failure is UnsupportedObject, for a garbage `id` or `type`.
            try:
                post = read_post({**base, key: garbage})
            except UnsupportedObject:
                refused.add(key)
                continue
            # Anything else still reads as the post it is, with only http(s) links.
            what = (key, garbage)
            assert post.uri == (garbage if key == "id" else base["id"]), what
            assert post.kind in KINDS and post.visibility in VISIBILITIES, what
            links = [post.url, *(attachment.url for attachment in post.attachments)]
            assert all(link is None or link.startswith(("http://", "https://")) for link in links), what
    assert refused <= {"id", "type"}


def test_the_first_known_type_is_taken() -> None:
    assert read_post(_note(type=["tf:ProjectCall", "Article"])).type == "Article"
    assert read_post(_note(type="Quotation")).kind == "other"


def test_a_question_without_options_is_a_question_not_a_poll() -> None:
    assert read_post(_note(type="Question")).kind == "question"
    assert read_post(_note(type="Question", oneOf=[], anyOf=[])).kind == "question"
    assert read_post(_note(type="Question", oneOf=[{"type": "Note", "name": "a"}])).kind == "poll"


def test_carried_objects_open_nested_activities_and_hand_down_the_context() -> None:
    announce = load("wordpress-announce.json")
    [article] = carried_objects(announce)
    assert article["type"] == "Article"
    assert carried_objects(load("mastodon-announce-2018.json")) == []  # only an IRI
    assert carried_objects(load("mastodon-like.json")) == []
    votes = carried_objects(load("gotosocial-docs-create-poll-vote.json"))
    assert [v["name"] for v in votes] == ["tissues", "financial times"]
    assert all(v["@context"] == AS for v in votes)
    create = {
        "@context": [AS],
        "type": "Create",
        "object": {"@context": {"x": "https://x.example#"}, "id": "y"},
    }
    assert carried_objects(create)[0]["@context"] == [AS, {"x": "https://x.example#"}]


# --- talentfed's terms, through JSON-LD expansion ---------------------------------------------

PROJECT_FIELDS = {
    "kind": "project",
    "skills": ("machine learning", "rust"),
    "status": "open",
    "deadline": at(2030, 1, 31, 12, 0),
    "team_size": 3,
    "contact": "mailto:ada@uni.example",
    "institution": "https://uni.example/users/institution",
}


def _project(context: Any, **terms: Any) -> dict[str, Any]:
    return _note(
        **{
            "@context": context,
            "id": "https://uni.example/objects/p1",
            "attributedTo": "https://uni.example/users/ada",
            **terms,
        }
    )


def test_talentfed_terms_with_our_own_context() -> None:
    document = _project(
        [AS, LEGACY_CONTEXT_IRI],
        postKind="projectCall",
        skills=["#MachineLearning", "Rust"],
        projectStatus="open",
        deadline="2030-01-31T12:00:00Z",
        teamSize=3,
        contact="mailto:ada@uni.example",
        institution="https://uni.example/users/institution",
    )
    post = read_post(document)
    assert {key: getattr(post, key) for key in PROJECT_FIELDS} == PROJECT_FIELDS


def test_talentfed_terms_under_another_prefix_and_other_term_names() -> None:
    context = [
        AS,
        {
            "tf2": "https://w3id.org/talentfed#",
            "neededSkills": {"@id": "tf2:skills", "@container": "@set"},
            "closesAt": {"@id": "tf2:deadline", "@type": "http://www.w3.org/2001/XMLSchema#dateTime"},
            "kindOfPost": {"@id": "tf2:postKind", "@type": "@vocab"},
            "members": {"@id": "tf2:teamSize", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
            "org": {"@id": "tf2:institution", "@type": "@id"},
        },
    ]
    document = _project(
        context,
        kindOfPost="tf2:projectCall",  # an IRI in our namespace, as @vocab typing makes it
        neededSkills=["machine-learning", "#Rust"],
        closesAt="2030-01-31T13:00:00+01:00",
        members="3",
        org="https://uni.example/users/institution",
        **{"tf2:projectStatus": "Open", "tf2:contact": "mailto:ada@uni.example"},
    )
    post = read_post(document)
    assert {key: getattr(post, key) for key in PROJECT_FIELDS} == PROJECT_FIELDS


def test_talentfed_terms_as_full_iris_without_any_context_term() -> None:
    tf = "https://w3id.org/talentfed#"
    document = _project(
        AS,
        **{
            f"{tf}postKind": "question",
            f"{tf}acceptedAnswer": {"id": "https://other.example/notes/9"},
            f"{tf}skills": "Rust",
        },
    )
    post = read_post(document)
    assert (post.kind, post.accepted_answer, post.skills) == (
        "question",
        "https://other.example/notes/9",
        ("rust",),
    )


def test_same_names_in_another_namespace_are_not_ours() -> None:
    document = _project(
        [AS, {"skills": "https://elsewhere.example/ns#skills", "postKind": "https://elsewhere.example/ns#k"}],
        postKind="projectCall",
        skills=["rust"],
        projectStatus="open",  # not defined at all: the AS context makes it a blank-node term
    )
    post = read_post(document)
    assert (post.kind, post.skills, post.status) == ("note", (), None)


def test_talentfed_terms_of_an_embedded_object_use_the_activity_context() -> None:
    create = {
        "@context": [AS, LEGACY_CONTEXT_IRI],
        "type": "Create",
        "actor": "https://uni.example/users/ada",
        "object": {
            key: value for key, value in _project(None, postKind="answer").items() if key != "@context"
        },
    }
    [note] = carried_objects(create)
    assert read_post(note).kind == "answer"


def test_what_a_talentfed_node_publishes_reads_back_in_full() -> None:
    """Writer (post_documents) and reader agree: a project call keeps every structured field."""
    author = actor_row("ada", "a.example")
    institution = actor_row("institution", "a.example", type="Organization")
    local = Object(
        uri="https://a.example/objects/1",
        type="Note",
        kind="project",
        name="Build a thing",
        content="<p>body</p>",
        language="en",
        visibility="public",
        tags=["rust"],
        skills=["machine learning", "rust"],
        status="open",
        deadline=at(2030, 1, 31),
        extra={"teamSize": 3, "contact": "ada@a.example"},
        published=at(2025, 1, 1),
        sensitive=False,
    )
    context = PostContext(author=author, uris=LocalURIs("https://a.example"), institution=institution)
    post = read_post(post_document(local, context))
    assert (post.kind, post.name, post.language, post.visibility) == (
        "project",
        "Build a thing",
        "en",
        "public",
    )
    assert (post.skills, post.status, post.deadline) == (
        ("machine learning", "rust"),
        "open",
        at(2030, 1, 31),
    )
    assert (post.team_size, post.contact, post.institution) == (3, "ada@a.example", institution.uri)


def test_garbage_talentfed_values_are_dropped() -> None:
    document = _project(
        [AS, LEGACY_CONTEXT_IRI],
        postKind="something-else",
        projectStatus="maybe",
        deadline="soon",
        teamSize=-3,
        skills=[1, {"x": 1}, "  "],
        institution="not a url",
    )
    post = read_post(document)
    assert (post.kind, post.status, post.deadline, post.team_size, post.skills, post.institution) == (
        "note",
        None,
        None,
        None,
        (),
        None,
    )


def test_a_document_that_cannot_be_expanded_still_reads() -> None:
    post = read_post(_note(**{"@context": [AS, {"bad": {"@id": 5}}]}))
    assert (post.kind, post.content) == ("note", "<p>hello</p>")
