"""One web process of `talentfed serve`: what each one sets up, alone or as one of N.

With `--workers N` uvicorn's supervisor binds the port once and starts N processes that
accept on that one socket (uvicorn's multiprocess mode); each imports `app` below by name and
builds its own app from the configuration `serve` names in TALENTFED_CONFIG. Such processes
never run the background jobs: that is `talentfed worker`'s role.
"""

from __future__ import annotations

import atexit
import gc
import logging
from logging.handlers import QueueListener
from queue import SimpleQueue

from starlette.applications import Starlette

from talentfed.config import load_config
from talentfed.observability import logs
from talentfed.web.app import create_app

APP_FACTORY = f"{__name__}:app"


def log_off_the_event_loop() -> QueueListener:
    """Log lines are formatted and written by a thread; the event loop only queues them.

    Every request logs a line, and formatting its time and writing it cost the event loop
    about 8 % of an inbox POST (docs/benchmarks.md).
    """
    root = logging.getLogger()
    queue: SimpleQueue[logging.LogRecord] = SimpleQueue()
    listener = QueueListener(queue, *root.handlers, respect_handler_level=True)
    root.handlers = [logs.RecordQueueHandler(queue)]
    listener.start()
    return listener


def freeze_what_lives_forever() -> None:
    """What is imported and built by now lives as long as the process. Moved out of the
    collector's reach, it is no longer rescanned by every full collection, which otherwise
    paused a request for 60-90 ms (the home timeline's p99; docs/benchmarks.md section 3)."""
    gc.freeze()


def app() -> Starlette:
    """The app of one of several web processes (called by uvicorn in each of them)."""
    config = load_config()
    logs.configure(config.log.level, config.log.format)
    web = create_app(config, run_workers=False)
    atexit.register(log_off_the_event_loop().stop)  # writes what is still queued
    freeze_what_lives_forever()
    return web
