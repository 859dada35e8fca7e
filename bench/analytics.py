"""Analytics: influence, PageRank and cosine top-k on synthetic data, against networkx and scikit-learn.

Targets (issue 5), each printed as "target met" or "target MISSED":

1. influence, end to end (edge arrays in, I out), >= 100x faster than a plain networkx version
   of the same formula, at 100k actors / 1M follows and at 1M actors / 10M follows;
2. after new follows arrive, an update that does not rebuild the graph and equals a full recompute;
3. top-10 similar profiles for all 100k profiles (20k-term vocabulary) >= 10x faster than
   scikit-learn `NearestNeighbors(metric="cosine", algorithm="brute")`, peak memory < 500 MB;
4. one top-10 query <= 2 ms (median).

The data (seeded, so every run sees the same):

- follow graphs: followers drawn uniformly, followed accounts with popularity ∝ 1/(rank + 10)^0.8
  (a few accounts followed by very many), 10% of follows reciprocated (mutual follows, which the
  formula counts once), duplicates and self-follows left in as crawled data has them;
- profiles: each has a main research field (of 300; 30% also a second), 4-10 skills (80% from
  its fields' 40 characteristic skills, 20% by overall popularity, Zipf) and 30-80 words (half
  from its fields' 400 characteristic words, half from a Zipf-distributed general vocabulary:
  common words that survive stop-word removal), over 2,000 skill terms + 18,000 words; weighted
  exactly as `talentfed.analytics.features` weighs (sublinear tf, smooth idf, skills x3, unit rows).
  Common words make nearly every pair of profiles share something, so a plain sparse product is
  close to dense: the hard case, not the easy one.

Times are wall-clock; the machine may be shared, so the similarity comparison also shows CPU
time (ours: all its workers, `default_workers()` forked processes on Linux, threads elsewhere;
scikit-learn: one thread plus BLAS). Each similarity measurement runs in a fresh process so its
peak memory is its own: that process's RSS (sampled every 5 ms: interpreter, input matrix, index
and all) plus its worker processes' unique set size (sampled every 50 ms; the pages they share
with it copy-on-write are counted once, in its RSS). scikit-learn on all 100k profiles takes
many minutes, so by default it runs 5,000 queries and its time is scaled to 100k (its cost is
linear in the number of queries: it works through them in chunks); --full-sklearn runs all.

    .venv/bin/python bench/analytics.py [--quick] [--skip-slow-baselines] [--full-sklearn] [--no-baselines]

The baselines need the bench extra: pip install -e '.[bench]'. With --no-baselines nothing beyond
talentfed's own dependencies is needed: our results are checked against references computed with
numpy and scipy straight from the definitions instead, the speed-up targets are not judged, and
without psutil the peak memory is this process's own (getrusage), workers not counted. The test
suite runs `--quick --no-baselines` (tests/test_benchmarks_run.py). Exits 0 whether targets are
met or missed.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import math
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from talentfed.analytics.features import Document, build_features, smooth_idf, weigh
from talentfed.analytics.influence import InfluenceGraph, influence
from talentfed.analytics.pagerank import pagerank
from talentfed.analytics.similarity import SimilarityIndex, can_fork, default_workers

INFLUENCE_RATIO = 100.0
TOP_K_RATIO = 10.0
MEMORY_LIMIT_MB = 500.0
QUERY_LIMIT_MS = 2.0
K = 10


@dataclass(frozen=True)
class Sizes:
    graphs: tuple[tuple[int, int], ...]  # (actors, follows)
    profiles: int
    skills: int
    words: int
    fields: int
    sklearn_queries: int  # queries scikit-learn runs before its time is scaled up
    new_follows: int
    documents: int  # for the (informational) feature-building timing


FULL = Sizes(
    ((100_000, 1_000_000), (1_000_000, 10_000_000)), 100_000, 2_000, 18_000, 300, 5_000, 1_000, 10_000
)
QUICK = Sizes(((5_000, 50_000), (20_000, 200_000)), 4_000, 200, 1_800, 30, 4_000, 100, 500)


def verdict(met: bool) -> str:
    return "target met" if met else "target MISSED"


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def median_time(function: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    runs = [timed(function) for _ in range(repeats)]
    return statistics.median(run[0] for run in runs), runs[-1][1]


# --- data -------------------------------------------------------------------------------


def follow_graph(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    popularity = 1.0 / (np.arange(n) + 10.0) ** 0.8
    cumulative = np.cumsum(popularity / popularity.sum())
    accounts = rng.permutation(n)
    base = m - m // 10
    src = rng.integers(0, n, base)
    dst = accounts[np.minimum(np.searchsorted(cumulative, rng.random(base)), n - 1)]
    back = rng.integers(0, base, m - base)  # reciprocated follows
    return np.concatenate([src, dst[back]]), np.concatenate([dst, src[back]])


def zipf(size: int, offset: float) -> np.ndarray:
    weights = 1.0 / (np.arange(size) + offset)
    return weights / weights.sum()


def profiles(sizes: Sizes, seed: int = 1) -> sp.csr_matrix:
    return profiles_with_fields(sizes, seed)[0]


def profiles_with_fields(sizes: Sizes, seed: int = 1) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """The weighted profiles, and each profile's main and second field (the same when it has one)."""
    rng = np.random.default_rng(seed)
    n, n_skills, n_words, n_fields = sizes.profiles, sizes.skills, sizes.words, sizes.fields
    skill_popularity = zipf(n_skills, 5)
    field_skills = np.stack(
        [rng.choice(n_skills, 40, replace=False, p=skill_popularity) for _ in range(n_fields)]
    )
    field_words = np.stack([rng.choice(n_words, 400, replace=False) for _ in range(n_fields)])
    first = rng.integers(0, n_fields, n)
    second = np.where(rng.random(n) < 0.3, rng.integers(0, n_fields, n), first)

    def draw(per_profile: np.ndarray, own_share: float, own: np.ndarray, general: np.ndarray) -> tuple:
        rows = np.repeat(np.arange(n), per_profile)
        field = np.where(rng.random(rows.size) < 0.7, first[rows], second[rows])
        mine = own[field, rng.integers(0, own.shape[1], rows.size)]
        other = rng.choice(general.size, rows.size, p=general)
        return rows, np.where(rng.random(rows.size) < own_share, mine, other)

    skill_rows, skills = draw(rng.integers(4, 11, n), 0.8, field_skills, skill_popularity)
    word_rows, words = draw(rng.integers(30, 81, n), 0.5, field_words, zipf(n_words, 30))
    rows = np.concatenate([skill_rows, word_rows])
    columns = np.concatenate([skills, n_skills + words])
    counts = sp.csr_matrix((np.ones(rows.size), (rows, columns)), shape=(n, n_skills + n_words))
    is_skill = np.arange(n_skills + n_words) < n_skills
    counts.data[is_skill[counts.indices]] = 1.0  # a skill counts once
    scale = smooth_idf(np.bincount(counts.indices, minlength=counts.shape[1]), n)
    scale[is_skill] *= 3.0
    return weigh(counts, scale), first, second


# --- memory --------------------------------------------------------------------------------


class PeakRss:
    """The highest memory of this process and its child processes while the block runs (sampled).

    This process's resident set size every `interval`, plus its children's unique set size (the
    pages only they hold) every `children_interval`: what a forked worker shares with this process
    (the index, copy-on-write) is counted once, in this process's RSS.
    """

    def __init__(self, interval: float = 0.005, children_interval: float = 0.05) -> None:
        try:
            import psutil
        except ImportError:  # --no-baselines without the bench extra: see __enter__
            psutil = None
        self._process = psutil.Process() if psutil is not None else None
        self._interval = interval
        self._children_interval = children_interval
        self.peak = 0
        self.peak_children = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakRss:
        if self._process is None:  # no sampling: the kernel's record of this process's peak
            return self
        self.peak = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        children, sampled = 0, 0.0
        while not self._stop.wait(self._interval):
            if time.monotonic() - sampled >= self._children_interval:
                children, sampled = self._children(), time.monotonic()
                self.peak_children = max(self.peak_children, children)
            self.peak = max(self.peak, self._process.memory_info().rss + children)

    def _children(self) -> int:
        import psutil

        total = 0
        for pid in _descendants(self._process.pid):
            with contextlib.suppress(psutil.Error):  # ended meanwhile
                total += psutil.Process(pid).memory_full_info().uss
        return total

    def __exit__(self, *exc: object) -> None:
        if self._process is None:
            self.peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
            return
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss + self._children())

    @property
    def mb(self) -> float:
        return self.peak / 2**20

    @property
    def sampled(self) -> bool:
        """Whether workers were counted (psutil is there), rather than this process alone."""
        return self._process is not None


def _descendants(pid: int) -> list[int]:
    """Child processes, their children and so on: from /proc/PID/task/TID/children on Linux (much
    cheaper than psutil's scan of every process), else psutil."""
    import psutil

    try:
        children = []
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as listed:
                children += [int(child) for child in listed.read().split()]
    except OSError:
        with contextlib.suppress(psutil.Error):
            return [child.pid for child in psutil.Process(pid).children(recursive=True)]
        return []
    return children + [grandchild for child in children for grandchild in _descendants(child)]


def cpu_seconds() -> float:
    """CPU time of this process (all threads) and of its child processes that have ended."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


# --- influence -----------------------------------------------------------------------------


def networkx_influence(src: np.ndarray, dst: np.ndarray, n: int) -> np.ndarray:
    """The formula in plain networkx: build the undirected graph, then sum over neighbours."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(zip(src.tolist(), dst.tolist(), strict=True))
    graph.remove_edges_from(list(nx.selfloop_edges(graph)))
    degree = dict(graph.degree())
    result = np.zeros(n)
    for u in graph:
        if degree[u]:
            result[u] = sum(1.0 / math.sqrt(degree[v]) for v in graph[u]) / degree[u]
    return result


def reference_influence(src: np.ndarray, dst: np.ndarray, n: int) -> np.ndarray:
    """The formula from its definition with scipy (no networkx): on the undirected graph without
    self-loops, I(u) = (sum over neighbours v of 1 / sqrt(deg v)) / deg u, 0 for a lone vertex."""
    keep = src != dst
    ones = np.ones(int(keep.sum()))
    directed = sp.csr_matrix((ones, (src[keep], dst[keep])), shape=(n, n))
    adjacency = ((directed + directed.T) > 0).astype(np.float64)
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    inverse_root = np.divide(1.0, np.sqrt(degree), out=np.zeros(n), where=degree > 0)
    return np.divide(adjacency @ inverse_root, degree, out=np.zeros(n), where=degree > 0)


def agreement(difference: float, tolerance: float = 1e-9) -> str:
    agrees = "yes" if difference <= tolerance else "NO"
    return f"max |difference| {difference:.1e} (agrees with the reference: {agrees})"


def bench_graph(n: int, m: int, sizes: Sizes, args: argparse.Namespace, large: bool) -> None:
    print(f"\n== follow graph: {n:,} actors, {m:,} follows")
    src, dst = follow_graph(n, m, seed=n)
    ours, values = median_time(lambda: influence(src, dst, n), repeats=3)
    print(f"influence, ours (edge arrays -> I, median of 3):  {ours:8.3f} s")
    if args.no_baselines:
        difference = float(np.max(np.abs(reference_influence(src, dst, n) - values)))
        print(f"influence, scipy reference from the formula:     {agreement(difference)}")
        print(f"  >= {INFLUENCE_RATIO:.0f}x faster than networkx: target not checked (--no-baselines)")
    elif args.skip_slow_baselines and large:
        print("influence, networkx:                              skipped (--skip-slow-baselines)")
        print(f"  >= {INFLUENCE_RATIO:.0f}x faster than networkx: target not checked (baseline skipped)")
    else:
        theirs, expected = timed(lambda: networkx_influence(src, dst, n))
        difference = float(np.max(np.abs(expected - values)))
        ratio = theirs / ours
        print(f"influence, networkx (build + compute):           {theirs:8.3f} s", end="")
        print(f"   max |difference| {difference:.1e}")
        met = verdict(ratio >= INFLUENCE_RATIO)
        print(f"  ratio {ratio:,.0f}x  (>= {INFLUENCE_RATIO:.0f}x faster than networkx: {met})")
    bench_incremental(src, dst, n, sizes.new_follows)
    seconds, result = timed(lambda: pagerank(src, dst, n, tol=1e-10))
    print(
        f"PageRank (info, no target):                       {seconds:8.3f} s   "
        f"{result.iterations} iterations, converged {result.converged}"
    )


def bench_incremental(src: np.ndarray, dst: np.ndarray, n: int, count: int) -> None:
    rng = np.random.default_rng(7)
    build, graph = timed(lambda: InfluenceGraph(src, dst, n))
    new_src, new_dst = rng.integers(0, n + count // 10, count), rng.integers(0, n, count)
    update, touched = timed(lambda: graph.add_edges(new_src, new_dst))
    all_src, all_dst = np.concatenate([src, new_src]), np.concatenate([dst, new_dst])
    full, expected = timed(lambda: influence(all_src, all_dst, graph.n))
    equal = bool(np.allclose(graph.influence, expected, rtol=1e-12, atol=1e-12))
    print(f"incremental: graph kept in memory, built once in   {build:8.3f} s")
    print(
        f"  {count:,} new follows (some from new actors): update {update * 1000:8.1f} ms, "
        f"{touched.size:,} of {graph.n:,} vertices touched; full recompute {full * 1000:,.0f} ms"
    )
    met = equal and update < full and touched.size < graph.n
    print(f"  update equals full recompute: {equal}; no rebuild, faster than recomputing: {verdict(met)}")


# --- similarity (each in its own process) ---------------------------------------------------


def ours_similarity(sizes: Sizes, sample: np.ndarray) -> dict[str, Any]:
    matrix = profiles(sizes)
    with PeakRss() as memory:
        build, index = timed(lambda: SimilarityIndex(matrix))
        cpu = cpu_seconds()
        # forked workers: the bench is a batch job, as `talentfed analytics run` would be
        search, found = timed(lambda: index.search_all(k=K, processes=True))
        cpu = cpu_seconds() - cpu
    rng = np.random.default_rng(3)
    queries = rng.integers(0, matrix.shape[0], 300)
    single = [timed(lambda q=q: index.search(matrix[q], K, exclude=[q], explain_limit=0))[0] for q in queries]
    return {
        "build": build,
        "search": search,
        "search_cpu": cpu,
        "peak_mb": memory.mb,
        "children_mb": memory.peak_children / 2**20,
        "memory_sampled": memory.sampled,
        "workers": default_workers(),
        "processes": can_fork(),
        "single_ms": [s * 1000 for s in single],
        "sample_scores": found.scores[sample],
        "nnz": matrix.nnz,
    }


def sklearn_similarity(sizes: Sizes, sample: np.ndarray, queries: int) -> dict[str, Any]:
    from sklearn.neighbors import NearestNeighbors

    matrix = profiles(sizes)
    with PeakRss() as memory:
        fit, model = timed(
            lambda: NearestNeighbors(n_neighbors=K + 1, metric="cosine", algorithm="brute").fit(matrix)
        )
        cpu = cpu_seconds()
        search, (distances, _) = timed(lambda: model.kneighbors(matrix[:queries]))
        cpu = cpu_seconds() - cpu
    rng = np.random.default_rng(3)
    single = [timed(lambda q=q: model.kneighbors(matrix[q]))[0] for q in rng.integers(0, matrix.shape[0], 20)]
    similarity = 1.0 - distances[:, 1:]  # the first neighbour is the profile itself
    return {
        "fit": fit,
        "search": search,
        "search_cpu": cpu,
        "queries": queries,
        "peak_mb": memory.mb,
        "single_ms": [s * 1000 for s in single],
        "sample_scores": similarity[sample[sample < queries]],
    }


def reference_top_scores(matrix: sp.csr_matrix, sample: np.ndarray, k: int) -> np.ndarray:
    """The exact top-k cosine scores of the `sample` rows against all others, by brute force with
    numpy and scipy (no scikit-learn), a few rows at a time."""
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    scores = []
    for start in range(0, sample.size, 64):
        rows = sample[start : start + 64]
        similarity = (matrix[rows] @ matrix.T).toarray()
        similarity /= np.maximum(np.outer(norms[rows], norms), np.finfo(float).tiny)
        similarity[np.arange(rows.size), rows] = -np.inf  # not the profile itself
        scores.append(-np.sort(-similarity, axis=1)[:, :k])
    return np.vstack(scores)


def in_fresh_process(function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *args).result()


def bench_similarity(sizes: Sizes, args: argparse.Namespace) -> None:
    n = sizes.profiles
    print(f"\n== profiles: {n:,} x {sizes.skills + sizes.words:,} terms, top-{K} for every profile")
    sample = np.arange(0, min(n, sizes.sklearn_queries), 97)
    ours = in_fresh_process(ours_similarity, sizes, sample)
    print(f"({ours['nnz']:,} non-zeros)")
    workers = f"{ours['workers']} {'processes' if ours['processes'] else 'threads'}"
    print(f"ours: index {ours['build']:.2f} s, all {n:,} top-{K} {ours['search']:.2f} s", end="")
    print(f" with {workers} (CPU {ours['search_cpu']:.2f} s),", end="")
    print(f" peak memory {ours['peak_mb']:.0f} MB", end="")
    if ours["memory_sampled"]:
        print(f" (of which worker processes {ours['children_mb']:.0f} MB)")
    else:
        print(" (this process only: psutil is not installed)")
    if args.no_baselines:
        expected = reference_top_scores(profiles(sizes), sample, K)
        difference = float(np.max(np.abs(ours["sample_scores"] - expected)))
        print(f"  same top-{K} scores as a numpy reference on {sample.size} sampled profiles: ", end="")
        print(agreement(difference))
        print(f"  >= {TOP_K_RATIO:.0f}x faster than scikit-learn: target not checked (--no-baselines)")
        judge_ours(ours, n)
        return
    queries = n if args.full_sklearn or args.quick else min(n, sizes.sklearn_queries)
    theirs = in_fresh_process(sklearn_similarity, sizes, sample, queries)
    scaled = theirs["search"] * n / queries
    how = "measured" if queries == n else f"{queries:,} queries in {theirs['search']:.1f} s, scaled to {n:,}"
    print(
        f"scikit-learn brute cosine: fit {theirs['fit']:.2f} s, all top-{K} {scaled:.1f} s ({how}), "
        f"peak RSS {theirs['peak_mb']:.0f} MB"
    )
    agree = float(
        np.max(np.abs(ours["sample_scores"][: len(theirs["sample_scores"])] - theirs["sample_scores"]))
    )
    compared = len(theirs["sample_scores"])
    print(f"  same top-{K} scores on {compared} sampled profiles: max |difference| {agree:.1e}")
    ratio = scaled / ours["search"]
    cpu_ratio = theirs["search_cpu"] * n / queries / ours["search_cpu"]
    met = verdict(ratio >= TOP_K_RATIO)
    print(
        f"  ratio {ratio:.1f}x wall, {cpu_ratio:.1f}x CPU"
        f"  (>= {TOP_K_RATIO:.0f}x faster than scikit-learn: {met})"
    )
    judge_ours(ours, n, their_single_ms=statistics.median(theirs["single_ms"]))


def judge_ours(ours: dict[str, Any], n: int, their_single_ms: float | None = None) -> None:
    """The targets that need no baseline: peak memory and the time of one query."""
    whose = "whole process and its workers" if ours["memory_sampled"] else "this process"
    print(
        f"  peak memory {ours['peak_mb']:.0f} MB, {whose}  "
        f"(< {MEMORY_LIMIT_MB:.0f} MB: {verdict(ours['peak_mb'] < MEMORY_LIMIT_MB)})"
    )
    single = ours["single_ms"]
    median, p95 = statistics.median(single), float(np.percentile(single, 95))
    print(f"one query (top-{K} of {n:,}): ours median {median:.2f} ms, p95 {p95:.2f} ms", end="")
    print("" if their_single_ms is None else f"; scikit-learn {their_single_ms:.1f} ms")
    print(f"  median <= {QUERY_LIMIT_MS:.0f} ms: {verdict(median <= QUERY_LIMIT_MS)}")


def bench_features(sizes: Sizes) -> None:
    rng = np.random.default_rng(5)
    words = [f"term{i}" for i in range(sizes.words)]
    documents = [
        Document(
            skills=[f"Skill{i}" for i in rng.integers(0, sizes.skills, 6)],
            texts=[(" ".join(rng.choice(words, 60)), 1.0), ("深層学習と自然言語処理 #MachineLearning", 0.5)],
        )
        for _ in range(sizes.documents)
    ]
    seconds, space = timed(lambda: build_features(documents))
    print(
        f"\n== features (info, no target): {sizes.documents:,} documents -> "
        f"{len(space.vocabulary):,} terms in {seconds:.2f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes that run in seconds (CI)")
    parser.add_argument("--skip-slow-baselines", action="store_true", help="no networkx at the largest graph")
    parser.add_argument(
        "--full-sklearn", action="store_true", help="scikit-learn on every profile, not scaled"
    )
    parser.add_argument(
        "--no-baselines",
        action="store_true",
        help="check against numpy/scipy references instead of networkx and scikit-learn (no bench extra)",
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    if args.quick:
        print("quick mode: small sizes, so the verdicts below only show that the benchmark works")
    for position, (n, m) in enumerate(sizes.graphs):
        bench_graph(n, m, sizes, args, large=position == len(sizes.graphs) - 1)
    bench_similarity(sizes, args)
    bench_features(sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
