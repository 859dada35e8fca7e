"""Cosine similarity between people and project calls, with the shared terms that explain it.

The measure is exactly `sim(i, j) = dot(P_i, P_j) / (‖P_i‖ ‖P_j‖)`. A zero vector (someone with no
skills and no text) has similarity 0 with everything, itself included: there is nothing to
compare, and 0 keeps it out of every ranking instead of raising. Only positive similarities count
as a match, so a ranking may hold fewer than k results.

`SimilarityIndex` normalises its rows once, after which cosine is a dot product; search is exact
(the same top-k as brute force) and blocked: see `_topk.py` for how it avoids the dense
n × n matrix and most of the work.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from talentfed.analytics._topk import BlockedTopK, ragged_ranges
from talentfed.analytics.features import SKILL_PREFIX, l2_normalize_rows

DEFAULT_BLOCK_SIZE = 32  # queries per block: the scratch array is block × items × 8 bytes


if TYPE_CHECKING:
    from scipy.sparse._base import _spbase

    #: Any scipy sparse matrix or array: scipy-stubs type them all as `_spbase`.
    Sparse: TypeAlias = _spbase[Any, Any]
    Vector: TypeAlias = NDArray[Any] | Sequence[float] | Sparse


def cosine(a: Vector, b: Vector) -> float:
    """dot(a, b) / (‖a‖ ‖b‖) for two vectors (dense or 1 × n sparse); 0 if either is all zeros."""
    a, b = _dense_vector(a), _dense_vector(b)
    if a.shape != b.shape:
        raise ValueError(f"vectors differ in length: {a.shape[0]} and {b.shape[0]}")
    norms = float(np.linalg.norm(a)) * float(np.linalg.norm(b))
    return float(np.dot(a, b)) / norms if norms > 0 else 0.0


def _dense_vector(vector: Vector) -> NDArray[np.float64]:
    if not isinstance(vector, np.ndarray | Sequence):  # sparse
        vector = vector.toarray()
    return np.asarray(vector, dtype=np.float64).ravel()


@dataclass(frozen=True)
class SharedTerm:
    """One term both sides carry, and how much of the similarity it accounts for."""

    term: str  # readable: "machine learning", not "skill:machine learning"
    is_skill: bool
    contribution: float  # q_t · x_t / (‖q‖ ‖x‖); the contributions of all shared terms sum to the score


@dataclass(frozen=True)
class Match:
    """One result: the item's row index, its cosine similarity, and why."""

    index: int
    score: float
    shared: tuple[SharedTerm, ...] = ()

    def describe(self) -> str:
        """A line a person can read: 'shared skills: a, b; shared terms: c'."""
        skills = [term.term for term in self.shared if term.is_skill]
        words = [term.term for term in self.shared if not term.is_skill]
        parts = [f"shared skills: {', '.join(skills)}"] if skills else []
        parts += [f"shared terms: {', '.join(words)}"] if words else []
        return "; ".join(parts) or "nothing shared"


@dataclass(frozen=True)
class TopK:
    """Top-k of many queries at once: row q holds its item indices (-1 pads) and scores (0 pads)."""

    indices: NDArray[np.int64]  # (n_queries, k), best first
    scores: NDArray[np.float64]  # (n_queries, k)

    def row(self, query: int) -> list[tuple[int, float]]:
        found = self.indices[query] >= 0
        return list(zip(self.indices[query][found].tolist(), self.scores[query][found].tolist(), strict=True))


class _Tuning(TypedDict):
    head_df_fraction: float
    head_min_df: int
    chunk: int


class SimilarityIndex:
    """Items (people or project calls: rows of one feature matrix) searchable by cosine similarity.

    Give it the vocabulary and the skill mask of the feature space (`FeatureSpace.vocabulary`,
    `FeatureSpace.is_skill`) to get explanations; without them, matches carry none.
    `head_df_fraction`, `head_min_df` and `chunk` only tune speed (which terms count as common,
    how many items share a bound; see `_topk.py`); results do not depend on them.
    """

    def __init__(
        self,
        items: Sparse,
        *,
        vocabulary: Sequence[str] | None = None,
        is_skill: np.ndarray | None = None,
        head_df_fraction: float = 1 / 10,
        head_min_df: int = 256,
        chunk: int = 256,
    ) -> None:
        self.items = l2_normalize_rows(sp.csr_matrix(items))
        self.vocabulary = tuple(vocabulary) if vocabulary is not None else None
        self.is_skill = (
            np.asarray(is_skill, dtype=bool) if is_skill is not None else np.zeros(self.items.shape[1], bool)
        )
        self._tuning = _Tuning(head_df_fraction=head_df_fraction, head_min_df=head_min_df, chunk=chunk)
        self._kernel = BlockedTopK(self.items, **self._tuning)

    @property
    def n_items(self) -> int:
        return self.items.shape[0]

    def search(
        self,
        query: Sparse | np.ndarray,
        k: int = 10,
        *,
        exclude: Sequence[int] | np.ndarray = (),
        allowed: Sequence[int] | np.ndarray | None = None,
        explain_limit: int = 5,
    ) -> list[Match]:
        """The k items most similar to one query vector, best first, each with its explanation.

        `exclude`: item indices never returned (the person themself, someone already contacted).
        `allowed`: if given, only these item indices are candidates (e.g. open project calls).
        """
        query_row = self._as_rows(query)
        banned = np.zeros(self.n_items, dtype=bool)
        if allowed is not None:  # one query: masking the others is cheaper than a smaller index
            banned[:] = True
            banned[np.asarray(allowed, dtype=np.int64)] = False
        banned[np.asarray(exclude, dtype=np.int64)] = True
        excluded = np.flatnonzero(banned)
        found = self._kernel.top_k(query_row, k, (np.zeros_like(excluded), excluded))
        return self._matches(query_row, TopK(*found), explain_limit)

    def search_team(
        self,
        members: Sparse | np.ndarray,
        k: int = 10,
        *,
        exclude: Sequence[int] | np.ndarray = (),
        allowed: Sequence[int] | np.ndarray | None = None,
        explain_limit: int = 5,
    ) -> list[Match]:
        """The k items that fit a set of people best: cosine against the team's centroid.

        See `team_vector` for why the centroid. Pass the members' own indices in `exclude` when the
        items are people.
        """
        centroid = team_vector(members)
        return self.search(centroid, k, exclude=exclude, allowed=allowed, explain_limit=explain_limit)

    def search_all(
        self,
        queries: Sparse | None = None,
        k: int = 10,
        *,
        exclude_self: bool | None = None,
        query_groups: np.ndarray | None = None,
        item_groups: np.ndarray | None = None,
        allowed: Sequence[int] | np.ndarray | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        workers: int | None = None,
        processes: bool = False,
    ) -> TopK:
        """Top-k items for every query row, computed block by block (memory stays small).

        `queries` defaults to the items themselves (everyone's similar people); then
        `exclude_self` defaults to True. With `query_groups` and `item_groups` (e.g. institution
        ids; negative means none), an item in the query's own group is never returned.
        `allowed` restricts the candidates as in `search`. Explanations are not computed here (a
        person reads a handful of them, not millions): call `explain` for the pairs shown.
        `workers` share the blocks (default: `default_workers()`), as threads; `processes=True`
        forks processes instead where `can_fork()` (faster: part of each block holds the GIL).
        Opt-in, because forking a process that runs other threads (a server's database
        connections, its event loop) copies them in an unknown state: batch jobs and the
        benchmark ask for it, a web request should not.
        """
        same = queries is None
        query_rows = self.items if queries is None else self._as_rows(queries)
        exclude_self = same if exclude_self is None else exclude_self
        if exclude_self and query_rows.shape[0] != self.n_items:
            raise ValueError("exclude_self needs one query row per item")
        sub, chosen = self._subindex(allowed) if allowed is not None else (self, np.arange(self.n_items))
        # Excluding oneself is a group rule too: each query and each item in a group of its own.
        rules = [(query_groups, item_groups)]
        if exclude_self:
            rules.append((np.arange(self.n_items), np.arange(self.n_items)))
        workers = default_workers() if workers is None else workers
        processes = processes and can_fork()
        found = _blocked_search(sub._kernel, query_rows, k, rules, chosen, block_size, workers, processes)
        indices = np.full(found.indices.shape, -1, dtype=np.int64)
        hit = found.indices >= 0
        indices[hit] = chosen[found.indices[hit]]
        return TopK(indices, found.scores)

    def explain(self, query: Sparse | np.ndarray, item: int, limit: int = 5) -> tuple[SharedTerm, ...]:
        """The shared terms of a query and an item that contribute most to their similarity."""
        if self.vocabulary is None:
            return ()
        return explain(self._as_rows(query), self.items[item], self.vocabulary, self.is_skill, limit)

    def _as_rows(self, query: Sparse | np.ndarray) -> sp.csr_matrix:
        rows = sp.csr_matrix(
            np.atleast_2d(query) if isinstance(query, np.ndarray) else query, dtype=np.float64
        )
        if rows.shape[1] != self.items.shape[1]:
            raise ValueError(f"query has {rows.shape[1]} features, the index {self.items.shape[1]}")
        return l2_normalize_rows(rows)

    def _matches(self, query_row: sp.csr_matrix, found: TopK, explain_limit: int) -> list[Match]:
        return [
            Match(index, score, self.explain(query_row, index, explain_limit) if explain_limit else ())
            for index, score in found.row(0)
        ]

    def _subindex(self, allowed: Sequence[int] | np.ndarray) -> tuple[SimilarityIndex, np.ndarray]:
        """An index over the allowed items only, and the map from its rows to ours."""
        chosen = np.unique(np.asarray(allowed, dtype=np.int64))
        sub = SimilarityIndex(
            self.items[chosen],
            vocabulary=self.vocabulary,
            is_skill=self.is_skill,
            **self._tuning,
        )
        return sub, chosen


def _blocked_search(
    kernel: BlockedTopK,
    query_rows: sp.csr_matrix,
    k: int,
    rules: list[tuple[np.ndarray | None, np.ndarray | None]],
    chosen: np.ndarray,
    block_size: int,
    workers: int = 1,
    processes: bool = False,
) -> TopK:
    """Top-k per query, block by block; `chosen[j]` is the full-index item of kernel item j.

    With `workers` > 1, each worker takes the next block not yet taken, with its own scratch
    space: forked processes (`processes`; the item side is shared copy-on-write, each sends its
    blocks' results back) or threads (most of a block's time is in numpy and scipy calls that
    release the GIL, but not all of it: on two cores threads reach about 1.5x, processes 1.8x).
    """
    exclusions = [_GroupExclusion(q, None if i is None else np.asarray(i)[chosen]) for q, i in rules]
    starts = list(range(0, query_rows.shape[0], block_size))
    empty = (np.full((0, k), -1, dtype=np.int64), np.zeros((0, k)))  # what no queries give

    def run(take: Callable[[], int]) -> list[tuple[int, tuple[np.ndarray, np.ndarray]]]:
        """The blocks `take` hands out, until there are none left: [(block, its result)]."""
        workspace = kernel.workspace(min(block_size, query_rows.shape[0]))
        done = []
        while (block := take()) < len(starts):
            start = starts[block]
            stop = min(start + block_size, query_rows.shape[0])
            pairs = [exclusion.pairs(start, stop) for exclusion in exclusions]
            excluded = (np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs]))
            done.append((block, kernel.top_k(query_rows[start:stop], k, excluded, workspace)))
        return done

    workers = max(1, min(workers, len(starts)))
    if workers == 1:
        shares = [run(itertools.count().__next__)]
    elif processes:
        shares = _in_processes(run, workers)
    else:
        shares = _in_threads(run, workers)
    results = [empty] * len(starts)
    for block, result in itertools.chain.from_iterable(shares):
        results[block] = result
    indices, scores = zip(empty, *results, strict=False)
    return TopK(np.vstack(indices), np.vstack(scores))


Share = list[tuple[int, tuple[np.ndarray, np.ndarray]]]


def _in_threads(run: Callable[[Callable[[], int]], Share], workers: int) -> list[Share]:
    counter, lock = itertools.count(), threading.Lock()

    def take() -> int:
        with lock:
            return next(counter)

    with ThreadPoolExecutor(workers, thread_name_prefix="topk") as pool:
        return [done.result() for done in [pool.submit(run, take) for _ in range(workers)]]


def _in_processes(run: Callable[[Callable[[], int]], Share], workers: int) -> list[Share]:
    """`run` in this process and in workers - 1 forked ones, which share a block counter and
    send their results back through a pipe. A failed or killed worker fails the search."""
    context = multiprocessing.get_context("fork")
    counter = context.Value("q", 0)

    def take() -> int:
        with counter.get_lock():
            block: int = counter.value
            counter.value += 1
        return block

    children, finished = [], False
    try:
        for _ in range(workers - 1):
            receive, send = context.Pipe(duplex=False)
            child = context.Process(target=_child, args=(run, take, send), name="topk", daemon=True)
            child.start()
            send.close()
            children.append((child, receive))
        shares = [run(take)]
        for child, receive in children:
            try:
                status, payload = receive.recv()
            except EOFError:
                child.join()
                message = f"a search process ended without its results (exit code {child.exitcode})"
                raise RuntimeError(message) from None
            if status != "ok":
                raise RuntimeError(f"a search process failed:\n{payload}")
            shares.append(payload)
        finished = True
        return shares
    finally:
        for child, receive in children:
            receive.close()
            child.join(None if finished else 0)  # done: it is exiting; else stop it
            if child.is_alive():
                child.terminate()
                child.join()


def _child(run: Callable[[Callable[[], int]], Share], take: Callable[[], int], send: Connection) -> None:
    result: tuple[str, Share | str]
    try:
        result = ("ok", run(take))
    except BaseException:  # reported to the parent, which raises it
        result = ("error", traceback.format_exc())
    send.send(result)
    send.close()


def can_fork() -> bool:
    """Whether `search_all` can share its blocks among forked processes: on Linux (fork is
    unsafe on macOS and absent on Windows), and not from a daemonic process (which may not
    have children)."""
    return sys.platform.startswith("linux") and not multiprocessing.current_process().daemon


def default_workers() -> int:
    """Workers for a whole-index search: the cores there are, up to four."""
    return max(1, min(os.cpu_count() or 1, 4))


class _GroupExclusion:
    """Which (query, item) pairs share a group, per block of queries, without an n × n mask."""

    def __init__(self, query_groups: np.ndarray | None, item_groups: np.ndarray | None) -> None:
        self.active = query_groups is not None and item_groups is not None
        if not self.active:
            return
        self.query_groups = np.asarray(query_groups, dtype=np.int64)
        items = np.asarray(item_groups, dtype=np.int64)
        self.members = np.argsort(items, kind="stable")  # items, grouped
        self.sorted_groups = items[self.members]

    def pairs(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """(row within the block, item) pairs to exclude for queries start..stop."""
        if not self.active:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        groups = self.query_groups[start:stop]
        first = np.searchsorted(self.sorted_groups, groups, side="left")
        last = np.searchsorted(self.sorted_groups, groups, side="right")
        counts = np.where(groups >= 0, last - first, 0)
        rows = np.repeat(np.arange(stop - start, dtype=np.int64), counts)
        return rows, self.members[ragged_ranges(first, counts)]


def team_vector(members: Sparse | np.ndarray) -> sp.csr_matrix:
    """The direction a team points to: the mean of its members' unit vectors (1 × n_terms).

    Each member is normalised first so that everyone counts equally, however much they have
    written. Mean or sum makes no difference after that (cosine ignores length); what the centroid
    means is "good for the team as a whole": an item scores by its average similarity to the
    members (cosine with the centroid is that average, divided by the centroid's norm, which is the
    same for every item). A maximum over members would instead favour items that fit one member.
    """
    rows = l2_normalize_rows(sp.csr_matrix(members, dtype=np.float64))
    return sp.csr_matrix(rows.mean(axis=0))


def explain(
    query: Sparse,
    item: Sparse,
    vocabulary: Sequence[str],
    is_skill: np.ndarray,
    limit: int = 5,
) -> tuple[SharedTerm, ...]:
    """The shared terms with the largest contributions to cos(query, item): skills first.

    Skills come first because they are what a person says they do on purpose; within each kind,
    the larger contribution first. At most `limit` of each kind.
    """
    query, item = sp.csr_matrix(query), sp.csr_matrix(item)
    norms = float(np.sqrt(query.multiply(query).sum() * item.multiply(item).sum()))
    if norms == 0:
        return ()
    product = query.multiply(item).tocsr()
    product.eliminate_zeros()
    columns, values = product.indices, product.data / norms
    result: list[SharedTerm] = []
    for skill in (True, False):
        kind = is_skill[columns] == skill
        ordered = np.lexsort((columns[kind], -values[kind]))[:limit]
        result += [
            SharedTerm(_readable(vocabulary[c]), skill, float(v))
            for c, v in zip(columns[kind][ordered], values[kind][ordered], strict=True)
        ]
    return tuple(result)


def _readable(term: str) -> str:
    return term.removeprefix(SKILL_PREFIX)
