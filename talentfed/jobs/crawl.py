"""The crawl job: widen the observed graph on a schedule, as `talentfed crawl` does by hand.

Off unless `[federation] crawl_interval_minutes` is set: crawling reads other servers'
collections, which an admin chooses to do. A crawl resumes where the previous one stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time

from talentfed.federation.crawler import Crawler
from talentfed.federation.runtime import Federation
from talentfed.jobs.pause import pause
from talentfed.observability import metrics

logger = logging.getLogger("talentfed.crawler")


async def crawl_now(federation: Federation, stop: asyncio.Event) -> None:
    """One crawl with the default policy; abandoned (and resumed next time) when `stop` is set."""
    crawler = Crawler(federation.sessions, federation.fetcher, federation.actors, federation.config)
    started = time.perf_counter()
    crawl = asyncio.create_task(crawler.run())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({crawl, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not crawl.done():
        crawl.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await crawl
        return
    result = crawl.result()  # a failed crawl raises here, and is not timed
    metrics.observe_crawl(time.perf_counter() - started)
    logger.info("crawl done: %s", dataclasses.asdict(result))


async def crawl(federation: Federation, stop: asyncio.Event) -> None:
    """Crawl every `crawl_interval_minutes`, the first time one interval after the start."""
    every = federation.config.federation.crawl_interval_minutes * 60
    while not await pause(stop, every):
        try:
            await crawl_now(federation, stop)
        except Exception:  # a failed crawl is logged and tried again at the next interval
            logger.exception("crawl failed")
