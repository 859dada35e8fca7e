"""Soak: a steady mix of reads and signed inbox POSTs for a long while; the node's memory and
file descriptors sampled every few seconds. After a warm-up, memory must stay flat (no more
than 10 % above what it was at the end of the warm-up) and the descriptors must not grow."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from proving.harness import Report, open_fds, rss_mib
from proving.load import Size as Load
from proving.load import Traffic as Seen
from proving.load import drive, start_nodes

GROWTH = 0.10  # the most RSS may grow after the warm-up
FD_SLACK = 5  # descriptors that may come and go (a pooled connection, a log rotation)


@dataclass(frozen=True)
class Size:
    readers: int
    senders: int
    seconds: float
    warm_up: float  # seconds before the reference reading
    every: float  # seconds between readings


FULL = Size(readers=20, senders=5, seconds=600, warm_up=120, every=10)
QUICK = Size(readers=10, senders=2, seconds=60, warm_up=20, every=5)


def run(size: Size, tmp: Path, report: Report) -> None:
    report.start(
        "soak",
        f"{size.readers} readers and {size.senders} senders for {size.seconds / 60:g} min, "
        f"memory and fds read every {size.every:g} s",
    )
    node, sender, senders = start_nodes(tmp, size.senders)
    readings: list[tuple[float, float, int]] = []
    try:
        pid = node.pid
        assert pid is not None
        began = time.monotonic()

        def sample() -> None:
            readings.append((time.monotonic() - began, rss_mib(pid), open_fds(pid)))

        traffic = asyncio.run(
            drive(node, senders, Load(size.readers, size.senders, size.seconds), size.every, sample)
        )
        sample()
    finally:
        node.kill()
        sender.kill()
    _judge(report, size, readings, traffic)


def _judge(report: Report, size: Size, readings: list[tuple[float, float, int]], traffic: Seen) -> None:
    warm = [r for r in readings if r[0] >= size.warm_up]
    if len(warm) < 2:
        report.fail(f"only {len(warm)} readings after the warm-up")
        return
    _, reference_rss, reference_fds = warm[0]
    peak_rss = max(rss for _, rss, _ in warm)
    last_rss, last_fds = warm[-1][1], warm[-1][2]
    peak_fds = max(fds for _, _, fds in warm)
    requests = sum(len(v) for v in traffic.latencies.values())
    errors = sum(traffic.errors(kind) for kind in traffic.statuses)
    report.info("requests", f"{requests} in {size.seconds:g} s, errors {errors}")
    report.info("RSS readings (MiB)", " ".join(f"{rss:.0f}" for _, rss, _ in readings))
    report.check(
        "memory after the warm-up",
        f"{reference_rss:.0f} MiB at {warm[0][0]:.0f} s, peak {peak_rss:.0f}, last {last_rss:.0f} "
        f"(+{(peak_rss / reference_rss - 1) * 100:.1f} % at the peak)",
        f"<= +{GROWTH * 100:g} %",
        peak_rss <= reference_rss * (1 + GROWTH),
    )
    report.check(
        "file descriptors after the warm-up",
        f"{reference_fds} at {warm[0][0]:.0f} s, peak {peak_fds}, last {last_fds}",
        f"no growth (last <= first + {FD_SLACK})",
        last_fds <= reference_fds + FD_SLACK,
    )
    report.check("errors during the soak", str(errors), "0", errors == 0)
