"""Where a post's values of talentfed's terms live on its `Object` row, said once.

Terms that every node's queries need have columns (skills, status, deadline, accepted answer);
the rest are keys of the row's `extra`. Values are keyed by the term's `field`
(federation/vocabulary/terms.toml), as the reader, the writer and the JSON API name them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from talentfed.federation.vocabulary import POST_CARRIERS, terms_of
from talentfed.storage.models import Object

# The fields of the terms posts carry, but the kind (the row's own column).
FIELDS = tuple(dict.fromkeys(t.field for kind in POST_CARRIERS for t in terms_of(kind) if t.field != "kind"))
_COLUMNS = {
    "skills": "skills",
    "status": "status",
    "deadline": "deadline",
    "accepted_answer": "accepted_answer_uri",
}
# The other fields' keys in Object.extra.
EXTRA_KEYS = {"team_size": "teamSize", "contact": "contact", "institution": "institution"}


def term_values(post: Object) -> dict[str, Any]:
    """The row's values by field; None (or an empty list) where it has none."""
    extra = post.extra or {}
    return {
        "kind": post.kind,
        **{name: getattr(post, column) for name, column in _COLUMNS.items()},
        **{name: extra.get(key) or None for name, key in EXTRA_KEYS.items()},
    }


def set_term_values(post: Object, values: Mapping[str, Any]) -> None:
    """Write the values given (by field) to the row; the kind is not one of them (it is the
    row's own). A value of None clears the field; fields not given are left as they are."""
    for name, value in values.items():
        if name in _COLUMNS:
            setattr(post, _COLUMNS[name], list(value) if name == "skills" else value)
        elif name in EXTRA_KEYS:
            extra = dict(post.extra or {})
            extra.pop(EXTRA_KEYS[name], None)
            if value is not None:
                extra[EXTRA_KEYS[name]] = value
            post.extra = extra
        else:
            raise KeyError(f"{name!r} is not a field of talentfed's post terms")
