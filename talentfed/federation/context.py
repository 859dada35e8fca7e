"""JSON-LD contexts of the documents we publish, including talentfed's own vocabulary.

talentfed's terms live under one namespace and are published as a context document at a
stable IRI (bundled in the package and served by every node at /ns/v1). A receiving node
reads them through JSON-LD expansion, so it understands them whatever prefix a sender uses.
"""

from __future__ import annotations

ACTIVITYSTREAMS = "https://www.w3.org/ns/activitystreams"
SECURITY_V1 = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

TALENTFED_CONTEXT_IRI = "https://w3id.org/talentfed/v1"
TALENTFED_NAMESPACE = "https://w3id.org/talentfed#"

# The context document served at TALENTFED_CONTEXT_IRI.
TALENTFED_CONTEXT: dict = {
    "@context": {
        "tf": TALENTFED_NAMESPACE,
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "headline": "tf:headline",
        "department": "tf:department",
        "affiliation": {"@id": "tf:affiliation", "@type": "@id"},
        "skills": {"@id": "tf:skills", "@container": "@set"},
        "openToCollaboration": {"@id": "tf:openToCollaboration", "@type": "xsd:boolean"},
        # Posts: which talentfed kind an object is (article, question, answer, projectCall).
        "postKind": "tf:postKind",
        # Q&A: the answer the asker accepted.
        "acceptedAnswer": {"@id": "tf:acceptedAnswer", "@type": "@id"},
        # Project calls.
        "deadline": {"@id": "tf:deadline", "@type": "xsd:dateTime"},
        "projectStatus": "tf:projectStatus",
        "teamSize": {"@id": "tf:teamSize", "@type": "xsd:integer"},
        "contact": "tf:contact",
        "institution": {"@id": "tf:institution", "@type": "@id"},
    }
}

# Values of postKind, and the kind each maps to in our storage.
POST_KINDS = {"article": "article", "question": "question", "answer": "answer", "projectCall": "project"}

# Terms Mastodon reads on actors, declared inline the way Mastodon itself does.
_MASTODON_TERMS: dict = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "toot": "http://joinmastodon.org/ns#",
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
}

ACTOR_CONTEXT: list = [ACTIVITYSTREAMS, SECURITY_V1, TALENTFED_CONTEXT_IRI, _MASTODON_TERMS]
ACTIVITY_CONTEXT: list = [ACTIVITYSTREAMS]
