"""The Mastodon client API (`/api/v1`, `/api/v2`, `/oauth`), for the apps members already use.

Built on the domain layer like the web pages: no rule is restated here. The modules: `oauth` and
`auth` (apps, tokens, scopes), `instance` (what apps read first), `accounts`, `me`, `profile`,
`search`, `statuses`, `posting`, `edits` (edit, history, source), `bookmarks`, `favourites` (who
favourited or reblogged a status, the member's favourites), `reblogs` (the ids of reblogs),
`media` (uploads), `relationships`, `blocks_and_mutes`, `notifications` (and `grouped_notifications`, API v2),
`notification_policy`, `markers`, `follow_lists` (followers, following, follow requests), `placeholders`
(valid empty answers for what we do not do, Web Push among them), `entities`, `paging`,
`params`, `errors` (Mastodon's error shape), `cors` (cross-origin access for browser apps) and
`throttling` (rate limits' headers and 429s; the rules are `web/rate_limits`) and `openapi`
(the description of all of this, `openapi.yaml`, served at `/api/v1/openapi.json`).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from talentfed.web.mastodon import (
    accounts,
    blocks_and_mutes,
    bookmarks,
    edits,
    favourites,
    follow_lists,
    grouped_notifications,
    instance,
    markers,
    me,
    media,
    notification_policy,
    notifications,
    oauth,
    openapi,
    placeholders,
    posting,
    profile,
    relationships,
    reports,
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
    *media.routes,
    *edits.routes,
    *bookmarks.routes,
    *favourites.routes,
    *relationships.routes,
    *blocks_and_mutes.routes,
    *reports.routes,
    *follow_lists.routes,
    *notifications.routes,
    *notification_policy.routes,  # before /api/v2/notifications/{group_key}
    *grouped_notifications.routes,
    *markers.routes,
    *statuses.routes,
    *accounts.routes,
]
