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
    assert f"{request_id} GET /healthz 200" in stderr
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
