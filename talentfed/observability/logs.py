"""Request ids, and log lines as text or as JSON (`[log] format`).

Every request gets an id (web/request_log.py: the proxy's X-Request-Id, or a new one) and the
work it causes carries that id: the inbox's shared transactions run each activity under the
id of the POST that brought it, `federation/outbox.send` stores it on the delivery jobs it
queues, and a delivery worker attempts each job under it again. Every log record made meanwhile
carries it as `record.request_id` (set when the record is made, so in the right task and thread),
so one grep of a request id shows an inbox POST, the activities it queued and their deliveries.

Text lines read `time LEVEL logger [request id]: message`; JSON lines are one object each, with
time, level, logger, message, request_id and whatever the call passed in `extra`.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from logging.handlers import QueueHandler
from typing import Any

TEXT = "text"
JSON = "json"
FORMATS = (TEXT, JSON)  # `[log] format` (config.py checks it)

_request_id: ContextVar[str | None] = ContextVar("talentfed_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request whose work is running now; None outside of any."""
    return _request_id.get()


@contextlib.contextmanager
def request_scope(request_id: str | None) -> Iterator[None]:
    """Run the block as work of the request `request_id` (None: of no request)."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


# --- every record carries the request id ---------------------------------------------------

_make_record = logging.getLogRecordFactory()


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _make_record(*args, **kwargs)
    record.request_id = _request_id.get()
    return record


if getattr(_make_record, "__name__", "") != _record_with_request_id.__name__:  # not twice on reload
    logging.setLogRecordFactory(_record_with_request_id)


# --- formats -----------------------------------------------------------------------------

# What every LogRecord has: anything else on a record came from the call's `extra`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}


class TextFormatter(logging.Formatter):
    """`2026-12-07 10:00:00,123 INFO talentfed.delivery [3f2a…]: message` (no brackets without an id)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        record.request_tag = f" [{request_id}]" if request_id else ""
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id,
    the call's `extra` fields, and the exception's traceback as `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key != "request_tag":
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter(style: str) -> logging.Formatter:
    return JsonFormatter() if style == JSON else TextFormatter()


def configure(level: str | int, style: str = TEXT) -> None:
    """Log records of `level` and above to stderr, as `style` lines (the root logger's only handler)."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(style))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # httpx writes a line for every request at INFO: one per delivery POST and key fetch, which
    # /metrics counts and our own lines report when they fail. Shown when debugging.
    chatty = logging.getLogger("httpx")
    chatty.setLevel(logging.NOTSET if root.getEffectiveLevel() <= logging.DEBUG else logging.WARNING)


class RecordQueueHandler(QueueHandler):
    """Queues records for a `QueueListener` thread to format and write.

    The standard QueueHandler merges the traceback into the message; this one keeps it apart
    (`exc_text`), so that a JSON line still has it as its own `exception` field.
    """

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record = copy.copy(record)
        record.message = record.getMessage()
        record.msg, record.args = record.message, None
        if record.exc_info:
            record.exc_text = record.exc_text or _TRACEBACKS.formatException(record.exc_info)
            record.exc_info = None
        return record


_TRACEBACKS = logging.Formatter()
