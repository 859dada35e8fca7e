"""`talentfed serve` as a real process: answers, logs with request ids, stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support import run_cli, self_signed_certificate, write_config


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, deadline: float = 30.0) -> httpx.Response:
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {deadline} s")


def test_serve_answers_and_stops_on_sigterm(tmp_path: Path, db_url: str) -> None:
    port = _free_port()
    write_config(tmp_path, db_url, **{"server.port": port})
    assert run_cli("demo", cwd=tmp_path).returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "talentfed", "serve"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        response = _wait_for(f"http://127.0.0.1:{port}/healthz", process)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        request_id = response.headers["x-request-id"]
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert f"talentfed.access [{request_id}]: GET /healthz 200" in stderr
    assert "Application shutdown complete" in stderr
    assert "Traceback" not in stderr


def test_serve_names_a_tls_file_it_cannot_use(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first, _ = self_signed_certificate(tmp_path / "one", "127.0.0.1")
    _, other_key = self_signed_certificate(tmp_path / "two", "127.0.0.1")
    db = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    cases = {
        "missing": {"server.tls_certificate": "no/cert.pem", "server.tls_private_key": "no/key.pem"},
        "mismatched": {"server.tls_certificate": str(first), "server.tls_private_key": str(other_key)},
    }
    for name, settings in cases.items():
        directory = tmp_path / name
        directory.mkdir()
        write_config(directory, db, **settings)
        result = run_cli("serve", cwd=directory, timeout=60)
        assert result.returncode == 2, (name, result.stderr)
        [line] = result.stderr.strip().splitlines()
        assert "[server] tls_certificate: cannot use" in line and "Traceback" not in result.stderr, line


def test_serve_counts_clients_behind_its_trusted_proxy(tmp_path: Path) -> None:
    """The real server, as behind nginx on 127.0.0.1: X-Forwarded-For names the client counted."""
    port = _free_port()
    limits = {"rate_limits.enabled": True, "rate_limits.api_per_address": 2}
    write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'node.db'}", **{"server.port": port, **limits})
    assert run_cli("migrate", cwd=tmp_path).returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "talentfed", "serve"], cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}/api/v1/instance"
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process)
        first, second, third = (httpx.get(url, headers={"X-Forwarded-For": "203.0.113.5"}) for _ in range(3))
        other = httpx.get(url, headers={"X-Forwarded-For": "203.0.113.6"})
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    assert [first.headers["x-ratelimit-remaining"], second.headers["x-ratelimit-remaining"]] == ["1", "0"]
    assert third.status_code == 429 and third.json() == {"error": "Too many requests"}
    assert other.status_code == 200 and other.headers["x-ratelimit-remaining"] == "1"
    assert "Traceback" not in stderr


async def test_serve_logs_json_and_one_request_id_leads_from_the_inbox_to_the_delivery(
    tmp_path: Path, db_url: str
) -> None:
    """A real `talentfed serve` with `[log] format = "json"` and prometheus-client's multiprocess
    mode: a Follow POSTed with an X-Request-Id is accepted, the Accept is delivered by the delivery
    worker inside the process, and grepping stderr for the id finds the POST, the Accept queued
    and its delivery; /metrics (summing the process's files) counts the delivery."""
    import asyncio
    import json

    from tests.federation.remote_server import RemoteServer
    from tests.support.factories import follow_doc
    from tests.support.metrics import Scrape
    from tests.support.waiting import eventually

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    settings = {"server.port": port, "node.domain": f"127.0.0.1:{port}", "node.base_url": base}
    write_config(tmp_path, db_url, **settings, **{"log.format": "json", "federation.delivery_workers": 1})
    assert run_cli("demo", cwd=tmp_path).returncode == 0
    multiprocess_dir = tmp_path / "prometheus"
    multiprocess_dir.mkdir()
    stderr_path = tmp_path / "serve.log"
    async with RemoteServer() as remote, httpx.AsyncClient(base_url=base) as client:
        alice = remote.add_user("alice")
        with stderr_path.open("w") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "talentfed",
                "serve",
                cwd=tmp_path,
                stderr=stderr,
                env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(multiprocess_dir)},
            )
        try:

            async def up() -> bool:
                assert process.returncode is None, stderr_path.read_text()
                try:
                    return (await client.get("/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(up, timeout=30, interval=0.2, what="the node to answer")
            body = json.dumps(follow_doc(alice.uri, f"{base}/users/ada")).encode()
            headers = alice.signed_headers(f"{base}/users/ada/inbox", body)
            posted = await client.post(
                "/users/ada/inbox", content=body, headers={**headers, "X-Request-Id": "follow-from-alice"}
            )
            assert posted.status_code == 202, posted.text
            await eventually(lambda: remote.received, timeout=20, what="the Accept at alice's inbox")

            async def delivered() -> Scrape | None:
                scraped = Scrape((await client.get("/metrics")).text)
                return scraped if scraped.value("talentfed_delivery_attempts_total", outcome="done") else None

            # alice's server has the Accept; the node counts it once it has her answer.
            scraped = await eventually(delivered, timeout=10, what="the delivery counted")
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 20)
    assert process.returncode == 0, stderr_path.read_text()
    [accept] = remote.received
    assert accept.json()["type"] == "Accept"
    assert scraped.value("talentfed_delivery_attempts_total", outcome="done") == 1
    assert scraped.value("talentfed_inbox_activities_total", outcome="accepted", reason="applied") == 1
    inbox_posts = {"method": "POST", "route": "/users/{username}/inbox", "status": "202"}
    assert scraped.value("talentfed_http_requests_total", **inbox_posts) == 1
    assert any(name.endswith(".db") for name in os.listdir(multiprocess_dir))  # multiprocess mode it was

    lines = [json.loads(line) for line in stderr_path.read_text().splitlines()]  # every line is JSON
    grepped = [line for line in lines if "follow-from-alice" in json.dumps(line)]
    assert all(line["request_id"] == "follow-from-alice" for line in grepped)
    by_logger = {line["logger"]: line for line in grepped}
    assert by_logger["talentfed.access"]["path"] == "/users/ada/inbox"
    assert by_logger["talentfed.outbox"]["activity"] == accept.json()["id"]
    assert by_logger["talentfed.delivery"]["outcome"] == "done"
    assert by_logger["talentfed.delivery"]["inbox"] == alice.inbox
    assert all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in lines)
    assert not any("Traceback" in json.dumps(line) for line in lines)
