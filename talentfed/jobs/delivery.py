"""The delivery jobs: workers that POST queued activities, and the refresh of the remote actors
on either side of a follow. Both delegate to the federation runtime (`federation/runtime.py`)."""

from __future__ import annotations

import asyncio
import logging

from talentfed.federation.remote_actors import ActorUnavailable
from talentfed.federation.runtime import Federation, stale_followed_actors
from talentfed.jobs.pause import pause

logger = logging.getLogger("talentfed.federation")


async def deliver(federation: Federation, stop: asyncio.Event) -> None:
    """One delivery worker: lease due jobs and POST them until `stop` is set."""
    await federation.new_worker().run(stop)


async def refresh_actors(
    federation: Federation, stop: asyncio.Event, every: float = 3600.0, batch: int = 50
) -> None:
    """Refetch the stalest remote actors we follow or who follow us, a batch an hour."""
    while not await pause(stop, every):
        for uri in await stale_followed_actors(federation.sessions, batch):
            try:
                await federation.actors.fetch(uri)
            except ActorUnavailable as exc:
                logger.info("could not refresh %s: %s", uri, exc)
