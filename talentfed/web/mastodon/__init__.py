"""The Mastodon client API (`/api/v1`, `/api/v2`, `/oauth`), for the apps members already use.

Built on the domain layer like the web pages: no rule is restated here. The modules: `instance`
(what apps read first), `placeholders` (valid empty answers for what we do not do), `errors`
(Mastodon's error shape), `cors` (cross-origin access for browser apps).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from talentfed.web.mastodon import accounts, instance, placeholders, statuses

routes: list[BaseRoute] = [*instance.routes, *placeholders.routes, *statuses.routes, *accounts.routes]
