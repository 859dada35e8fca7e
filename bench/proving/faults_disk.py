"""Disk full under the SQLite database: the node's database on a small tmpfs volume of its own,
filled up while signed activities arrive. While it is full the inbox answers 503 with
Retry-After (never a 500); nothing is half-written (every stored Create has its post, the file
passes SQLite's integrity check, every 202 is stored); once space returns, it accepts again by
itself. Needs root (mount); skipped, saying so, without it."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
from _common import ServedNode, sqlite_url

from proving.harness import Report, seconds, sqlite_rows
from proving.senders import SignedSenders, stored_counts
from talentfed.federation.connection_pool import pooled_transport

VOLUME = "32m"  # the tmpfs: the migrated database takes a few MB
LEFT_FREE = 256 * 1024  # bytes left when the volume is filled: a few activities' worth
RECOVERY_BUDGET = 60.0  # seconds to get a 202 again once space returns


@dataclass(frozen=True)
class Size:
    before: int  # activities accepted before the disk fills
    while_full: int  # activities POSTed while it is full (each until a 503 or a 202)


FULL = Size(before=200, while_full=300)
QUICK = Size(before=50, while_full=100)


def run(size: Size, tmp: Path, report: Report) -> None:
    report.start("faults_disk", f"the SQLite volume ({VOLUME} tmpfs) filled while activities arrive")
    volume = tmp / "volume"
    volume.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={VOLUME}", "tmpfs", str(volume)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        report.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
        return
    db_path = volume / "node.db"
    receiver = ServedNode("receiver", tmp / "receiver", db_url=sqlite_url(db_path))
    sender = ServedNode("sender", tmp / "sender")
    try:
        receiver.migrate()
        sender.migrate()
        senders = SignedSenders.made(sender, receiver, 4)
        sender.start(timeout=90)
        receiver.start(timeout=90)
        statuses = asyncio.run(_fill_and_free(senders, volume, size))
        receiver.stop()
        _judge(report, db_path, senders, statuses)
    finally:
        receiver.kill()
        sender.kill()
        subprocess.run(["umount", "-l", str(volume)], capture_output=True)


@dataclass
class Phases:
    before: Counter[str]
    full: Counter[str]
    full_without_retry_after: int
    recovery: float  # seconds from freeing space to the first 202
    accepted: set[str]


async def _fill_and_free(senders: SignedSenders, volume: Path, size: Size) -> Phases:
    accepted: set[str] = set()
    async with httpx.AsyncClient(transport=pooled_transport(limits=httpx.Limits()), timeout=30) as client:

        async def send(indexes: range) -> tuple[Counter[str], int]:
            statuses, missing_retry_after = Counter[str](), 0
            for index in indexes:
                status, response = await senders.post(client, index)
                statuses[status] += 1
                if status == "202":
                    accepted.add(senders.activity_id(index))
                elif status == "503" and response is not None and "retry-after" not in response.headers:
                    missing_retry_after += 1
            return statuses, missing_retry_after

        before, _ = await send(range(size.before))
        filler = volume / "filler"
        _fill(filler)
        full, without = await send(range(size.before, size.before + size.while_full))
        filler.unlink()
        freed = time.monotonic()
        recovery = float("inf")
        first = size.before + size.while_full
        for index in range(first, first + int(RECOVERY_BUDGET / 0.5)):  # bounded: RECOVERY_BUDGET
            status, _ = await senders.post(client, index)
            if status == "202":
                accepted.add(senders.activity_id(index))
                recovery = time.monotonic() - freed
                break
            await asyncio.sleep(0.5)
    return Phases(before, full, without, recovery, accepted)


def _fill(filler: Path) -> None:
    """Write zeros until the volume is full, then give back LEFT_FREE bytes."""
    chunk = b"\0" * (1 << 20)
    with filler.open("wb") as out:
        with contextlib.suppress(OSError):
            while True:
                out.write(chunk)
                out.flush()
        with contextlib.suppress(OSError):
            out.flush()
    stat = os.statvfs(filler.parent)
    if stat.f_bavail * stat.f_frsize > LEFT_FREE:
        raise OSError(errno.EIO, "the volume did not fill up")
    os.truncate(filler, max(filler.stat().st_size - LEFT_FREE, 0))


def _judge(report: Report, db_path: Path, senders: SignedSenders, phases: Phases) -> None:
    stored = stored_counts(db_path, senders.prefix)
    stored_ids = {
        uri
        for (uri,) in sqlite_rows(
            db_path, "SELECT uri FROM activities WHERE uri LIKE ? || '%'", senders.prefix
        )
    }
    [(integrity,)] = sqlite_rows(db_path, "PRAGMA integrity_check")
    report.info("answers before the disk filled", _counts(phases.before))
    report.check(
        "answers while the disk is full",
        f"{_counts(phases.full)}; 503 without Retry-After {phases.full_without_retry_after}",
        "503 with Retry-After once full (202 while the last free pages last); no 500",
        "503" in phases.full and set(phases.full) <= {"202", "503"} and phases.full_without_retry_after == 0,
    )
    report.check(
        "accepted again once space returned",
        seconds(phases.recovery),
        f"within {RECOVERY_BUDGET:g} s, no restart",
        phases.recovery <= RECOVERY_BUDGET,
    )
    report.check(
        "nothing half-written",
        f"integrity_check {integrity}; {stored.rows} activities stored, {stored.distinct} distinct, "
        f"{stored.posts} posts; "
        f"accepted but not stored {len(phases.accepted - stored_ids)}",
        "ok; one post per activity; every 202 stored",
        integrity == "ok"
        and stored.rows == stored.distinct == stored.posts
        and phases.accepted <= stored_ids,
    )


def _counts(counts: Counter[str]) -> str:
    return ", ".join(f"{status} x{n}" for status, n in sorted(counts.items())) or "none"
