"""Helpers shared by tests (fixtures live in conftest.py).

- `environment`: the repository, config files, the CLI in a subprocess, TLS certificates;
- `factories`: actors and posts as documents and as rows, activities;
- `signing`: signed requests in either signature scheme, with our own signer;
- `waiting`: waiting for a condition or an event instead of sleeping.
"""

from tests.support.environment import IN_CI, REPO, run_cli, self_signed_certificate, write_config
from tests.support.factories import (
    AS,
    AS_JSON,
    PUBLIC,
    activity_doc,
    actor_doc,
    actor_row,
    create_doc,
    follow_doc,
    local_actor_row,
    note_doc,
    post_doc,
    post_row,
    remote_actor,
)
from tests.support.signing import SCHEMES, signed_headers, signed_post
from tests.support.waiting import event_set, eventually, wait_until

__all__ = [
    "AS",
    "AS_JSON",
    "IN_CI",
    "PUBLIC",
    "REPO",
    "SCHEMES",
    "activity_doc",
    "actor_doc",
    "actor_row",
    "create_doc",
    "event_set",
    "eventually",
    "follow_doc",
    "local_actor_row",
    "note_doc",
    "post_doc",
    "post_row",
    "remote_actor",
    "run_cli",
    "self_signed_certificate",
    "signed_headers",
    "signed_post",
    "wait_until",
    "write_config",
]
