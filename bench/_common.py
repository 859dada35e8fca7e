"""Helpers shared by the benchmarks: throw-away nodes, configs, percentiles and verdicts.

Kept out of `tests/` on purpose: a benchmark must run without the test extras' fixtures,
and `make bench` only runs `bench/bench_*.py`, so this module is never run on its own.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import httpx

from talentfed.config import render_config

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "talentfed" / "config.example.toml"
LOOPBACK = "127.0.0.1"


class BenchError(Exception):
    """The benchmark could not run (as opposed to: it ran and missed its target)."""


def write_config(directory: Path, db_url: str, **overrides: object) -> Path:
    """A dev-mode config in `directory` (as tests/support.py writes it); {"section.key": value}."""
    values: dict[tuple[str, str], object] = {
        ("node", "domain"): f"{LOOPBACK}:8000",
        ("node", "base_url"): f"http://{LOOPBACK}:8000",
        ("federation", "dev_mode"): True,
        ("database", "url"): db_url,
        # A benchmark measures the endpoint, not the client API's limiter, which would answer 429
        # after 300 requests of one token in five minutes.
        ("rate_limits", "enabled"): False,
    }
    for dotted, value in overrides.items():
        section, key = dotted.split(".")
        values[(section, key)] = value
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.toml"
    path.write_text(render_config(TEMPLATE.read_text(), values))
    return path


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def run_cli(*args: str, cwd: Path, timeout: float = 120) -> str:
    """`python -m talentfed ARGS` in `cwd`, as an admin would run it; its stdout, or BenchError."""
    result = subprocess.run(
        [sys.executable, "-m", "talentfed", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "TALENTFED_LOG_LEVEL": "WARNING"},
    )
    if result.returncode != 0:
        raise BenchError(f"talentfed {' '.join(args)} failed in {cwd}:\n{result.stderr}")
    return result.stdout


class ServedNode:
    """One `talentfed serve` process in dev mode on 127.0.0.1, with its own SQLite file (or the
    database at `db_url`)."""

    def __init__(self, name: str, directory: Path, db_url: str | None = None, **overrides: object) -> None:
        self.name = name
        self.directory = directory
        self.port = free_port()
        self.base_url = f"http://{LOOPBACK}:{self.port}"
        self.db_path = directory / "node.db"
        self.log_path = directory / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        write_config(
            directory,
            db_url or sqlite_url(self.db_path),
            **{
                "node.domain": f"{LOOPBACK}:{self.port}",
                "node.base_url": self.base_url,
                "node.name": f"Bench node {name}",
                "server.port": self.port,
                **overrides,
            },
        )

    @property
    def config_path(self) -> Path:
        return self.directory / "config.toml"

    def migrate(self) -> None:
        run_cli("migrate", cwd=self.directory)

    def start(
        self, *, wrapper: Sequence[str] = (), serve_args: Sequence[str] = (), timeout: float = 30.0
    ) -> None:
        """Start `talentfed serve SERVE_ARGS` (optionally under `wrapper`, e.g. cProfile) and wait
        for /healthz."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, *wrapper, "-m", "talentfed", "serve", *serve_args],
                cwd=self.directory,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "TALENTFED_LOG_LEVEL": os.environ.get("TALENTFED_LOG_LEVEL", "INFO")},
                # Its own process group: `kill` reaches every process it started (web workers).
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"node {self.name} exited at start:\n{self.log_tail()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise BenchError(f"node {self.name} did not answer /healthz within {timeout:g} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (uvicorn drains and runs the lifespan shutdown), SIGKILL if it hangs."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def kill(self) -> None:
        """SIGKILL to the node and every process it started: no drain, no shutdown, as in a crash."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


async def postgres(statement: str, database: str = "test") -> None:
    """One statement on the machine's PostgreSQL (127.0.0.1:5432, trust auth)."""
    import asyncpg

    connection = await asyncpg.connect(f"postgresql://postgres@{LOOPBACK}:5432/{database}")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def throwaway_database(prefix: str = "talentfed_bench") -> Iterator[tuple[str, str]]:
    """A new, empty PostgreSQL database for one run: (its name, its talentfed URL); dropped after."""
    import asyncio
    import uuid

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    asyncio.run(postgres(f'CREATE DATABASE "{name}"'))
    try:
        yield name, f"postgresql+asyncpg://postgres@{LOOPBACK}:5432/{name}"
    finally:
        asyncio.run(postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def stopped_on_exit(nodes: Sequence[ServedNode]) -> Iterator[None]:
    """Stop every node however the block ends, so no server outlives the benchmark."""
    try:
        yield
    finally:
        for node in nodes:
            node.stop()


def print_profile(path: Path, limit: int = 25) -> None:
    """The top of a server's cProfile stats (written by `ServedNode.start(wrapper=...)`)."""
    import pstats

    print(f"\n-- server profile ({path}), top {limit} by internal time --")
    pstats.Stats(str(path)).sort_stats("tottime").print_stats(limit)
    print(f"-- top {limit} by cumulative time --")
    pstats.Stats(str(path)).sort_stats("cumulative").print_stats(limit)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (Linux /proc). Unlike latency, it does
    not grow while other work on the machine holds the cores."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of `values`; NaN for an empty list."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def verdict(met: bool) -> str:
    return "target met" if met else "target MISSED"


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def memory_total() -> str:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
    return "RAM unknown"


def load_line() -> str:
    """Other work on the machine skews every figure (see docs/benchmarks.md): say how much there was."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def code_version() -> str:
    """The commit measured, and whether the working tree differed from it (read-only git calls)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "talentfed"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head or 'unknown'}{' + uncommitted changes in talentfed/' if dirty else ''}"


def machine_line() -> str:
    return (
        f"machine: {os.cpu_count()} cores, {cpu_model()}, {memory_total()}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}; code {code_version()}"
    )


def run_in_temp_dir(
    prefix: str, args: argparse.Namespace, run: Callable[[argparse.Namespace, Path], int]
) -> int:
    """Run a benchmark in a fresh temporary directory; report a BenchError as one line, exit 1."""
    args.load_at_start = load_line()
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        return run(args, tmp)
    except BenchError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
