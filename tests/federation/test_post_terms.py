"""Where a post's term values live on its row (federation/post_terms.py): every field of the
vocabulary has a place, and writing then reading gives the values back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from talentfed.federation.post_terms import EXTRA_KEYS, FIELDS, set_term_values, term_values
from talentfed.storage.models import Object


def test_every_post_field_of_the_vocabulary_has_a_place_on_the_row() -> None:
    row = Object(uri="https://uni.example/objects/1", type="Note", kind="project", extra={})
    assert set(term_values(row)) == {"kind", *FIELDS}


def test_written_values_read_back_and_other_extra_keys_stay() -> None:
    row = Object(uri="https://uni.example/objects/1", type="Note", kind="project", extra={"mentions": []})
    values = {
        "skills": ("rust",),
        "accepted_answer": None,
        "deadline": datetime(2027, 1, 1, tzinfo=UTC),
        "status": "open",
        "team_size": 3,
        "contact": "ada",
        "institution": "https://uni.example/users/institution",
    }
    set_term_values(row, values)
    assert term_values(row) == {"kind": "project", **values, "skills": ["rust"]}
    assert row.extra == {
        "mentions": [],
        "teamSize": 3,
        "contact": "ada",
        "institution": values["institution"],
    }

    set_term_values(row, {"team_size": None})
    assert EXTRA_KEYS["team_size"] not in row.extra and term_values(row)["contact"] == "ada"


def test_an_unknown_field_is_refused() -> None:
    row = Object(uri="https://uni.example/objects/1", type="Note", kind="note", extra={})
    with pytest.raises(KeyError, match="budget"):
        set_term_values(row, {"budget": 10})
