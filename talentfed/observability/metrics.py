"""Every Prometheus metric of the node, declared once; `GET /metrics` (web/metrics.py) serves them.

Counters and histograms count in the process that records them: the web process counts its
requests and inbox activities, whichever process runs a delivery worker counts its attempts. A
node of several processes is scraped process by process, or, with `PROMETHEUS_MULTIPROC_DIR`
set in the environment of every process (on one machine, before they start), each process writes
its values to files in that directory and any one of them serves the sum (prometheus-client's
multiprocess mode, see docs/deploy.md, "Monitoring").

What only the database knows (the delivery queue, the hosts marked unreachable) is not counted
here: `database_metrics` turns what a scrape has just read into metrics, so every process
answers the same, however many there are.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client reads it when it is imported
MULTIPROCESS = bool(os.environ.get(MULTIPROCESS_DIR))
if MULTIPROCESS and not os.path.isdir(os.environ[MULTIPROCESS_DIR]):
    # Else the first metric below fails to open its file, with a less helpful traceback.
    raise RuntimeError(
        f"{MULTIPROCESS_DIR}={os.environ[MULTIPROCESS_DIR]}: no such directory "
        "(create it, empty, before the node's processes start; see docs/deploy.md, Monitoring)"
    )

# Each counter would otherwise carry a `_created` series (the time it was first used) as well.
disable_created_metrics()

REGISTRY = CollectorRegistry()
if not MULTIPROCESS:
    # Memory, CPU, open files, the collector's pauses: of this process only, so not in the
    # sum that multiprocess mode serves.
    for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        REGISTRY.register(collector)

# HTTP methods we name; any other is counted as "other", so a client cannot add label values.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # the route label of a request no route matched (a 404)

HTTP_REQUESTS = Counter(
    "talentfed_http_requests",
    "HTTP requests answered, by method, route template (not the raw path) and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "talentfed_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template",
    ["method", "route"],
    registry=REGISTRY,
)
INBOX_ACTIVITIES = Counter(
    "talentfed_inbox_activities",
    "Activities POSTed to our inboxes, by outcome (accepted or refused) and reason",
    ["outcome", "reason"],
    registry=REGISTRY,
)
SIGNATURE_FAILURES = Counter(
    "talentfed_signature_failures",
    "HTTP signatures refused (inbox POSTs and signed GETs), by reason",
    ["reason"],
    registry=REGISTRY,
)
DELIVERY_ATTEMPTS = Counter(
    "talentfed_delivery_attempts",
    "POSTs of queued activities to remote inboxes, by outcome: done, retry (tried again later) "
    "or failed (refused for good)",
    ["outcome"],
    registry=REGISTRY,
)
HOSTS_MARKED_UNREACHABLE = Counter(
    "talentfed_hosts_marked_unreachable",
    "Remote hosts marked unreachable: a delivery to them was given up after retrying",
    registry=REGISTRY,
)
CRAWL_DURATION = Histogram(
    "talentfed_crawl_duration_seconds",
    "Duration of each completed crawl of the followers/following collections",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, float("inf")),
    registry=REGISTRY,
)
ANALYTICS_DURATION = Histogram(
    "talentfed_analytics_run_duration_seconds",
    "Duration of each analytics run, by kind: full (similarity and influence) or catch_up "
    "(influence brought up to date with new follows)",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, float("inf")),
    registry=REGISTRY,
)


# `labels()` costs more than the increment itself (it takes a lock and builds a key): the series
# each call site uses are kept here, a bounded number since every label value is.
_series: dict[tuple[int, tuple[str, ...]], Any] = {}
M = TypeVar("M", Counter, Histogram)


def _series_of(metric: M, *labels: str) -> M:
    key = (id(metric), labels)
    series = _series.get(key)
    if series is None:
        series = _series[key] = metric.labels(*labels)
    return cast(M, series)


def count_request(method: str, route: str, status: int, seconds: float) -> None:
    """One HTTP request answered; `route` is its template (`/users/{username}`), or UNMATCHED."""
    method = method if method in METHODS else "other"
    _series_of(HTTP_REQUESTS, method, route, str(status)).inc()
    _series_of(HTTP_DURATION, method, route).observe(seconds)


def count_inbox_activity(status: int, reason: str) -> None:
    """One POST to an inbox answered with `status`; `reason` is a short code (`signature`,
    `blocked_domain`, `applied`, ...), never the free text of the answer's body."""
    _series_of(INBOX_ACTIVITIES, "accepted" if status < 300 else "refused", reason).inc()


def count_signature_failure(reason: str) -> None:
    _series_of(SIGNATURE_FAILURES, reason).inc()


def count_delivery_attempt(outcome: str) -> None:
    _series_of(DELIVERY_ATTEMPTS, outcome).inc()


def count_host_marked_unreachable() -> None:
    HOSTS_MARKED_UNREACHABLE.inc()


def observe_crawl(seconds: float) -> None:
    CRAWL_DURATION.observe(seconds)


def observe_analytics_run(kind: str, seconds: float) -> None:
    _series_of(ANALYTICS_DURATION, kind).observe(seconds)


# --- read from the database at each scrape ------------------------------------------------


@dataclass(frozen=True)
class DeliveryBacklog:
    """Delivery jobs not finished, as the database holds them now."""

    due: int  # queued, and their time has come
    deferred: int  # queued for later: retries waiting out their backoff, paused hosts
    running: int  # leased by a worker
    unreachable_hosts: int  # hosts marked unreachable (cleared by their next success)


def database_metrics(backlog: DeliveryBacklog | None) -> list[Metric]:
    """Metrics of what a scrape read from the database; None: the database did not answer."""
    reachable = GaugeMetricFamily(
        "talentfed_metrics_database_up", "1 if this scrape could read the database, else 0"
    )
    reachable.add_metric([], 0 if backlog is None else 1)
    if backlog is None:
        return [reachable]
    queue = GaugeMetricFamily(
        "talentfed_delivery_queue_jobs",
        "Delivery jobs not finished, by state: due, deferred (waiting to be retried) or running",
        labels=["state"],
    )
    for state, count in (("due", backlog.due), ("deferred", backlog.deferred), ("running", backlog.running)):
        queue.add_metric([state], count)
    unreachable = GaugeMetricFamily(
        "talentfed_unreachable_hosts", "Remote hosts currently marked unreachable"
    )
    unreachable.add_metric([], backlog.unreachable_hosts)
    return [reachable, queue, unreachable]


class _Fixed(Collector):
    def __init__(self, metrics: Sequence[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self.metrics


def exposition(accept: str, scraped: Sequence[Metric] = ()) -> tuple[bytes, str]:
    """The body and Content-Type of a scrape: this process's metrics (or, in multiprocess mode,
    every process's), then `scraped`, in the format the scraper's Accept header asks for."""
    registry = CollectorRegistry()
    registry.register(MultiProcessCollector(None) if MULTIPROCESS else REGISTRY)
    registry.register(_Fixed(scraped))
    encode, content_type = choose_encoder(accept)
    return encode(registry), content_type
