"""What an ActivityStreams type names: an actor, an activity, a post (and which kind), or
something else. The one classification that the post reader, the actor reader and the
inbox's handlers share."""

from __future__ import annotations

from talentfed import kinds

ACTOR_TYPES = frozenset({"Person", "Service", "Group", "Organization", "Application"})
# ActivityStreams activities (Question, an IntransitiveActivity in the spec, is a post in
# practice) and the extension activities seen in the wild.
ACTIVITY_TYPES = frozenset(
    {
        "Accept", "Add", "Announce", "Arrive", "Block", "Create", "Delete", "Dislike", "Flag",
        "Follow", "Ignore", "Invite", "Join", "Leave", "Like", "Listen", "Move", "Offer", "Read",
        "Reject", "Remove", "TentativeAccept", "TentativeReject", "Travel", "Undo", "Update", "View",
        "EmojiReact", "EmojiReaction", "QuoteRequest", "Lock", "Warn", "Resolve",
    }
)  # fmt: skip
# Activities that carry a post embedded in `object`.
CARRIER_TYPES = frozenset({"Create", "Update", "Announce"})
# Types that are neither actors, activities nor posts.
OTHER_NON_POSTS = frozenset(
    {
        "Tombstone", "Collection", "OrderedCollection", "CollectionPage", "OrderedCollectionPage",
        "Link", "Mention", "Hashtag", "Emoji", "Place", "Profile", "Relationship", "PropertyValue",
        "CryptographicKey", "Key", "Multikey",
    }
)  # fmt: skip

# Object types read as posts, and the kind each is here when it does not say (postKind).
# A Question is a poll when it has options and an open question otherwise (post_reader._kind).
POST_TYPES: dict[str, str] = {
    "Note": kinds.NOTE,
    "Article": kinds.ARTICLE,
    "Page": kinds.PAGE,
    "Question": kinds.QUESTION,
    "Event": kinds.EVENT,
    "Video": kinds.VIDEO,
    "Audio": kinds.OTHER,
    "Image": kinds.OTHER,
    "Document": kinds.OTHER,
}
