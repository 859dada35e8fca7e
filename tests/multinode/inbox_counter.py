"""Receiving servers that count what they are POSTed, per inbox and activity id, in a process of
their own (so that receiving thousands of POSTs costs the test's process nothing).

    python -m tests.multinode.inbox_counter HOSTS [ANSWER_DELAY]

listens on HOSTS loopback ports (each port a "host" to the delivery workers), prints the ports
as one JSON line once listening, answers every POST 202 (ANSWER_DELAY seconds after counting it,
0 by default: a slow receiver keeps deliveries in flight), `GET /total` (on any port) with the
number of POSTs so far and any other GET with {"<host><path> <activity id>": number of POSTs}.
It stops on SIGTERM or when stdin closes. Plain HTTP/1.1 with Content-Length bodies, keep-alive:
what the node's fetcher sends. `CountingReceivers` runs it for a test or `make prove`.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

counts: Counter[str] = Counter()
answer_delay = 0.0


def _record(host: str, path: str, body: bytes) -> None:
    try:
        activity_id = json.loads(body).get("id", "?")
    except ValueError:
        activity_id = "unreadable"
    counts[f"{host}{path} {activity_id}"] += 1


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    host = f"127.0.0.1:{writer.get_extra_info('sockname')[1]}"
    try:
        while True:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, path, _ = head[0].split(" ", 2)
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length else b""
            if method == "POST":
                _record(host, path, body)
                await asyncio.sleep(answer_delay)
                answer, kind = b"", b"text/plain"
            elif path == "/total":
                answer, kind = str(counts.total()).encode(), b"text/plain"
            else:
                answer, kind = json.dumps(counts).encode(), b"application/json"
            writer.write(
                b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s"
                % (b"202 Accepted" if method == "POST" else b"200 OK", kind, len(answer), answer)
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def main(hosts: int) -> None:
    servers = []
    for _ in range(hosts):
        servers.append(await asyncio.start_server(_serve, "127.0.0.1", 0, backlog=512))
    ports = [server.sockets[0].getsockname()[1] for server in servers]
    print(json.dumps(ports), flush=True)
    # Until the test closes our stdin (or ends us).
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


class CountingReceivers:
    """This module in a process of its own, serving `hosts` ports; stop it with `close`."""

    def __init__(self, hosts: int, answer_delay: float = 0.0) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.multinode.inbox_counter", str(hosts), str(answer_delay)],
            cwd=Path(__file__).resolve().parents[2],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.ports: list[int] = json.loads(self.process.stdout.readline())

    def counts(self) -> Counter[tuple[str, str]]:
        """(inbox as host and path, activity id) -> POSTs received, over every port."""
        import httpx

        received = httpx.get(f"http://127.0.0.1:{self.ports[0]}/counts", timeout=60).json()
        return Counter({tuple(key.split(" ", 1)): n for key, n in received.items()})

    def total(self) -> int:
        import httpx

        return int(httpx.get(f"http://127.0.0.1:{self.ports[0]}/total", timeout=30).text)

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


if __name__ == "__main__":
    if len(sys.argv) > 2:
        answer_delay = float(sys.argv[2])
    asyncio.run(main(int(sys.argv[1])))
