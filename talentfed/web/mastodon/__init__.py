"""The Mastodon client API (`/api/v1`, `/api/v2`, `/oauth`), for the apps members already use.

Built on the domain layer like the web pages: no rule is restated here. The modules: `oauth` and
`auth` (apps, tokens, scopes), `instance` (what apps read first), `accounts`, `me`, `profile`,
`search`, `statuses`, `posting`, `relationships`, `notifications`, `follow_lists` (followers,
following, follow requests), `placeholders` (valid empty answers for what we do not do),
`entities`, `paging`, `params`, `errors` (Mastodon's error shape), `cors` (cross-origin access
for browser apps) and `openapi` (the description of all of this, `openapi.yaml`, served at
`/api/v1/openapi.json`).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from talentfed.web.mastodon import (
    accounts,
    follow_lists,
    instance,
    me,
    notifications,
    oauth,
    openapi,
    placeholders,
    posting,
    profile,
    relationships,
    search,
    statuses,
)

# `me`, `profile` and `relationships` before `accounts`: /api/v1/accounts/verify_credentials,
# /update_credentials and /relationships are not account ids. `follow_lists` (/api/v1/accounts/
# {id}/followers, …) stays with them, before `accounts`.
routes: list[BaseRoute] = [
    *oauth.routes,
    *openapi.routes,
    *instance.routes,
    *placeholders.routes,
    *me.routes,
    *profile.routes,
    *search.routes,
    *posting.routes,
    *relationships.routes,
    *follow_lists.routes,
    *notifications.routes,
    *statuses.routes,
    *accounts.routes,
]
