"""Process roles: `talentfed worker --queues/--concurrency/--metrics-port`, `serve --workers`, and
SQLite's one writer process (storage/process_roles.py)."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from talentfed.config import load_config
from talentfed.jobs.runner import QUEUES, parse_queues
from talentfed.storage.process_roles import DatabaseBusy, sole_writer
from tests.multinode.nodes import free_port, wait_for_health
from tests.support import run_cli, write_config


def test_queues_are_named_from_a_fixed_list() -> None:
    assert parse_queues("delivery, analytics") == {"delivery", "analytics"}
    assert parse_queues(",".join(QUEUES)) == set(QUEUES)
    with pytest.raises(ValueError, match="unknown queue 'mail'"):
        parse_queues("delivery,mail")
    with pytest.raises(ValueError, match="expected some of"):
        parse_queues(" , ")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--queues", "delivery,mail"], "--queues: unknown queue 'mail'"),
        (["--queues", ""], "--queues: expected some of delivery, crawl, analytics"),
        (["--concurrency", "0"], "--concurrency: expected 1 or more"),
        (["--count", "0"], "--concurrency: expected 1 or more"),
        (["--metrics-port", "70000"], "--metrics-port: expected a port number"),
    ],
)
def test_worker_names_the_option_it_refuses(tmp_path: Path, args: list[str], named: str) -> None:
    write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'node.db'}")
    result = run_cli("worker", *args, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith(f"talentfed: {named}"), result.stderr


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("cache.url", "http://127.0.0.1:6379", "[cache] url: expected a Redis URL"),
        ("worker.drain_seconds", -1, "[worker] drain_seconds: expected a number of 0 or more"),
        ("worker.metrics_port", 70000, "[worker] metrics_port: expected a port number"),
        ("server.workers", 0, "[server] workers: expected a number greater than 0"),
        ("federation.delivery_lease_seconds", 0, "[federation] delivery_lease_seconds: expected a number"),
    ],
)
def test_the_new_settings_name_their_key(tmp_path: Path, setting: str, value: object, expected: str) -> None:
    write_config(tmp_path, "sqlite+aiosqlite:///x.db", **{setting: value})
    result = run_cli("worker", cwd=tmp_path)
    assert result.returncode == 2 and expected in result.stderr, result.stderr


# --- SQLite: one writer process -------------------------------------------------------------


@pytest.fixture
def sqlite_node(tmp_path: Path, fresh_database) -> Path:
    write_config(tmp_path, fresh_database("sqlite"), **{"server.port": free_port()})
    assert run_cli("demo", cwd=tmp_path).returncode == 0
    return tmp_path


@pytest.fixture
def running_worker(sqlite_node: Path) -> Iterator[subprocess.Popen[str]]:
    """`talentfed worker` on the SQLite node, once it holds the database."""
    log, port = sqlite_node / "worker.log", free_port()
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "talentfed", "worker", "--metrics-port", str(port)],
            cwd=sqlite_node,
            stderr=output,
            text=True,
        )
    try:
        wait_for_health(process, f"http://127.0.0.1:{port}/metrics", "the worker", log.read_text)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0, log.read_text()


def _metrics_url(log: Path) -> str:
    """The worker's metrics URL, as it logged it."""
    [url] = [line.rsplit(" ", 1)[1] for line in log.read_text().splitlines() if "worker metrics on " in line]
    return url


def test_a_second_long_running_process_on_sqlite_is_refused(
    sqlite_node: Path, running_worker: subprocess.Popen[str]
) -> None:
    for command in (["worker"], ["serve"], ["migrate"]):
        result = run_cli(*command, cwd=sqlite_node, timeout=60)
        assert result.returncode == 1, (command, result.stderr)
        [line] = result.stderr.strip().splitlines()
        assert f"is in use by talentfed worker (pid {running_worker.pid})" in line, line
        assert "on PostgreSQL" in line
    # A one-shot command still writes, through SQLite's busy timeout.
    added = run_cli("user", "add", "kim", "--display-name", "Kim", cwd=sqlite_node)
    assert added.returncode == 0, added.stderr


def test_serve_with_several_web_processes_on_sqlite_is_refused(sqlite_node: Path) -> None:
    result = run_cli("serve", "--workers", "2", cwd=sqlite_node, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "[server] workers (or serve --workers): expected 1" in result.stderr
    assert "PostgreSQL" in result.stderr


def test_several_web_processes_need_one_session_secret(tmp_path: Path, fresh_database) -> None:
    write_config(tmp_path, fresh_database("postgresql"), **{"server.workers": 2})
    result = run_cli("serve", cwd=tmp_path, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "[web] session_secret: expected a secret for the 2 web processes to share" in result.stderr


def test_serve_without_jobs_runs_none(sqlite_node: Path) -> None:
    port = load_config(sqlite_node / "config.toml", environ={}).server.port
    process = subprocess.Popen(
        [sys.executable, "-m", "talentfed", "serve", "--no-jobs"],
        cwd=sqlite_node,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_health(process, f"http://127.0.0.1:{port}/healthz", "serve --no-jobs", lambda: "")
    finally:
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=30)
    assert process.returncode == 0, log
    assert "(1 web process, no background jobs: run `talentfed worker`)" in log
    assert "delivery worker" not in log and "analytics recomputed" not in log


def test_the_writer_lock_goes_with_its_holder(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'n.db'}"), environ={})
    # flock locks belong to the open file, so a second open in this process is refused too
    with (
        sole_writer(config, "serve"),
        pytest.raises(DatabaseBusy, match="talentfed serve"),
        sole_writer(config, "worker"),
    ):
        pass
    with sole_writer(config, "worker"):
        pass  # released when the first holder ended


def test_postgresql_takes_no_writer_lock(tmp_path: Path, fresh_database) -> None:
    config = load_config(write_config(tmp_path, fresh_database("postgresql")), environ={})
    with sole_writer(config, "worker"), sole_writer(config, "worker"):
        pass


# --- the worker's metrics ---------------------------------------------------------------


def test_the_worker_serves_its_metrics_under_the_metrics_rule(
    sqlite_node: Path, running_worker: subprocess.Popen[str]
) -> None:
    url = _metrics_url(sqlite_node / "worker.log")
    scrape = httpx.get(url, timeout=10)
    assert scrape.status_code == 200
    assert 'talentfed_delivery_queue_jobs{state="due"} 0.0' in scrape.text
    assert "talentfed_metrics_database_up 1.0" in scrape.text
    # Behind a trusted proxy (127.0.0.1 by default) a client elsewhere is refused, as on the web.
    refused = httpx.get(url, headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
    assert refused.status_code == 403 and "loopback address only" in refused.text


def test_a_metrics_port_in_use_is_one_line(sqlite_node: Path) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_cli("worker", "--metrics-port", str(port), cwd=sqlite_node, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"[worker] metrics_port (or --metrics-port): cannot listen on 127.0.0.1:{port}" in result.stderr
