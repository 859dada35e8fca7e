"""The kinds of post a node holds, and the rules between them: one home for each.

A post's kind says what it is here, whoever wrote it and whatever ActivityStreams type carried
it. Members write the first four; the others are what arrives from other servers. Both the
protocol layer (reading remote posts) and the domain layer (publishing) follow these rules, so
they live below both.
"""

from __future__ import annotations

# What members publish here (also talentfed's postKind values, federation/vocabulary/terms.toml).
ARTICLE, QUESTION, ANSWER, PROJECT = "article", "question", "answer", "project"
# A reply that is not an answer (to an article, a project call, or anything remote).
NOTE = "note"
# Other servers' posts: a poll (a Question with options), Lemmy's and WordPress's pages,
# Mobilizon's events, PeerTube's videos, and the rest.
POLL, PAGE, EVENT, VIDEO, OTHER = "poll", "page", "event", "video", "other"

AUTHORED_KINDS = (ARTICLE, QUESTION, PROJECT)  # what a member writes with a title
ALL_KINDS = (ARTICLE, QUESTION, ANSWER, PROJECT, NOTE, POLL, PAGE, EVENT, VIDEO, OTHER)

# Kinds that keep their own shape even when they reply to a question.
STRUCTURED_KINDS = frozenset({QUESTION, PROJECT, POLL, EVENT})

# Kinds whose AS2 `summary` is a content warning (Mastodon's `spoiler_text`): what travels as a
# Note or a poll. An article's summary is its abstract, and so are the descriptions of pages,
# events and videos: Mastodon too shows those types by their name and link, with no warning.
WARNED_KINDS = frozenset({NOTE, QUESTION, ANSWER, PROJECT, POLL})


def summary_is_warning(kind: str) -> bool:
    """Whether a post of `kind` shows its summary as a content warning (hiding the text behind
    it), rather than as what the post is about."""
    return kind in WARNED_KINDS


def kind_of_reply(own_kind: str, parent_kind: str | None) -> str:
    """A reply to a question is an answer — from here or from any server (a plain Mastodon
    reply counts) — unless it has a structure of its own."""
    if parent_kind == QUESTION and own_kind not in STRUCTURED_KINDS:
        return ANSWER
    return own_kind
