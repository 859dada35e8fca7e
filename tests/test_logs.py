"""Log lines as text or JSON, with the request id of the work they were logged for."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from logging.handlers import QueueListener
from queue import SimpleQueue

from talentfed.observability import logs


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _logger_into(stream: io.StringIO, formatter: logging.Formatter) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"talentfed.test.{id(stream)}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger


def test_a_json_line_has_the_fields_the_request_id_and_the_extras() -> None:
    stream = io.StringIO()
    logger = _logger_into(stream, logs.JsonFormatter())
    with logs.request_scope("req-42"):
        logger.info(
            "delivered %s to\n%s", "an Accept", "an inbox", extra={"inbox": "https://x.example/inbox", "n": 3}
        )
    logger.warning("outside any request")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "delivered an Accept to\nan inbox"  # one line, newline escaped
    assert (first["level"], first["logger"], first["request_id"]) == ("INFO", logger.name, "req-42")
    assert (first["inbox"], first["n"]) == ("https://x.example/inbox", 3)
    assert first["time"].endswith("+00:00") and "T" in first["time"]
    assert second["request_id"] is None and "inbox" not in second
    assert set(first) == {"time", "level", "logger", "message", "request_id", "inbox", "n"}


def test_a_json_line_keeps_the_traceback_as_its_own_field() -> None:
    stream = io.StringIO()
    logger = _logger_into(stream, logs.JsonFormatter())
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("it failed")
    [line] = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["message"] == "it failed"
    assert entry["exception"].startswith("Traceback") and "ValueError: boom" in entry["exception"]


def test_a_text_line_names_the_request_when_there_is_one() -> None:
    stream = io.StringIO()
    logger = _logger_into(stream, logs.TextFormatter())
    with logs.request_scope("req-7"):
        logger.info("inside")
    logger.info("outside")
    inside, outside = stream.getvalue().splitlines()
    assert inside.endswith(f"INFO {logger.name} [req-7]: inside")
    assert outside.endswith(f"INFO {logger.name}: outside")


async def test_each_task_logs_under_its_own_request() -> None:
    handler = _Kept()
    logger = logging.getLogger("talentfed.test.tasks")
    logger.handlers, logger.propagate, logger.level = [handler], False, logging.INFO

    async def work(request_id: str) -> None:
        with logs.request_scope(request_id):
            await asyncio.sleep(0)
            logger.info("working")
            await asyncio.sleep(0)
            logger.info("done")

    await asyncio.gather(work("a"), work("b"), work("c"))
    logger.info("after")
    seen = [(record.getMessage(), getattr(record, "request_id", "absent")) for record in handler.records]
    assert sorted(seen[:-1]) == sorted((m, r) for r in "abc" for m in ("working", "done"))
    assert seen[-1] == ("after", None)


def test_records_written_by_the_listener_thread_keep_request_id_and_traceback() -> None:
    """`talentfed serve` formats lines in a thread (cli/node.py): what the event loop knew when it
    logged (the request, the exception) must reach that thread."""
    stream = io.StringIO()
    target = logging.StreamHandler(stream)
    target.setFormatter(logs.JsonFormatter())
    queue: SimpleQueue[logging.LogRecord] = SimpleQueue()
    listener = QueueListener(queue, target)
    logger = logging.getLogger("talentfed.test.queued")
    logger.handlers, logger.propagate, logger.level = [logs.RecordQueueHandler(queue)], False, logging.INFO
    listener.start()
    try:
        with logs.request_scope("req-q"):
            try:
                {}["missing"]
            except KeyError:
                logger.exception("lookup of %s failed", "missing")
    finally:
        listener.stop()
    [line] = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert (entry["message"], entry["request_id"]) == ("lookup of missing failed", "req-q")
    assert "KeyError" in entry["exception"] and "Traceback" not in entry["message"]


def test_httpx_request_lines_are_shown_only_when_debugging() -> None:
    root = logging.getLogger()
    saved = root.handlers, root.level, logging.getLogger("httpx").level
    try:
        logs.configure("INFO")
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)  # a line per delivery
        assert logging.getLogger("httpx").isEnabledFor(logging.WARNING)
        assert logging.getLogger("talentfed.delivery").isEnabledFor(logging.INFO)
        logs.configure("DEBUG")
        assert logging.getLogger("httpx").isEnabledFor(logging.INFO)
    finally:
        root.handlers, _, _ = saved
        root.setLevel(saved[1])
        logging.getLogger("httpx").setLevel(saved[2])
