"""Exact top-k by dot product over non-negative unit rows, in blocks, without the n × n matrix.

On profile data almost every pair of rows shares some common word, so `Q @ X.T` is nearly dense
(10^10 pairs at 100k profiles) and the work is in producing scores and picking the best of them,
not in skipping zeros. What this does instead, per block of queries:

1. Tail scores, one query at a time: the posting lists of its terms (the columns of the item
   matrix) times its term weights, a scatter-add into n floats that scipy's C loop runs on the
   posting arrays where they are (see `_posting_ranges`); an accumulator that small stays in
   cache, a whole block's would not. In float32 when the item values allow it: half the memory
   traffic, and a rounding error with a known relative bound (`_rounding`) that every bound
   below allows for.
2. The terms in more than max(head_df_fraction · n, head_min_df) items ("head" terms, the common
   ones) are left out of step 1: their contribution to a pair is bounded by Cauchy–Schwarz,
   head(i, j) ≤ ‖q_i,head‖ · ‖x_j,head‖, and is ≥ 0 because TF-IDF is non-negative.
3. Items are stored sorted by head norm and cut into chunks of `chunk` items. Per query: the best
   item of each of the 2k chunks with the highest tail maxima gets a lower bound of its score;
   their k-th best is a lower bound θ of the k-th best score overall. A chunk whose tail maximum
   plus its largest head bound is below θ cannot hold a top-k item and is skipped whole; in the
   others, items whose own bound reaches θ are candidates. A query whose bounds prune too little
   (say, a profile made only of common words) bounds every item's score instead.
4. Every candidate (about 15 per query on profile data) is scored exactly, in float64, from its
   row of the item matrix; the top-k is chosen from those scores.

The result is exact, the same top-k and scores as brute force in float64 (ties broken by the
smaller index), and the memory is the item matrix, its tail postings and one block × n scratch
array. With negative entries the head bounds and the float32 rounding bound do not hold: negative
items make every term a tail term, scored in float64; a query with a negative head weight (or
any negative weight, against float32 tail scores) is scored in full.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

_csc_matvec: Callable[..., None] | None
_csr_row_index: Callable[..., None] | None
try:  # scipy's C loops: y += A x for A in CSC (`_posting_ranges` says how it is used), rows of a CSR
    from scipy.sparse import _sparsetools

    _csc_matvec, _csr_row_index = _sparsetools.csc_matvec, _sparsetools.csr_row_index
except ImportError:  # pragma: no cover - a private module; without it, scipy's public API
    _csc_matvec = _csr_row_index = None

CHUNK = 256  # items per bound
SLACK = 1e-9  # rounding allowance in the bound comparisons (scores are O(1))
TINY, HUGE = 2.0**-100, 2.0**100  # float32 tail scores only for values and products in between
MAX_TERMS32 = 2**21  # and queries with at most this many tail terms (see `_rounding`)
DENSE_FALLBACK_SHARE = 0.25  # a query keeping more than this share of items is scored densely


def ragged_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of range(s, s + l) for each (s, l), without a Python loop."""
    keep = lengths > 0
    starts, lengths = starts[keep], lengths[keep]
    if starts.size == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    steps = np.ones(int(ends[-1]), dtype=np.int64)
    steps[0] = starts[0]
    steps[ends[:-1]] = starts[1:] - (starts[:-1] + lengths[:-1] - 1)
    return np.cumsum(steps)


class Workspace:
    """Scratch space for `BlockedTopK.top_k` on up to n_queries rows, reused across blocks (which
    saves the operating system from handing out, and zeroing, fresh pages for every block)."""

    def __init__(
        self, n_queries: int, n_padded: int, n_terms: int, dtype: type[np.float32] | type[np.float64]
    ) -> None:
        self.n_queries = n_queries
        # tail scores, one row per query
        self.scores: NDArray[np.floating[Any]] = np.empty((n_queries, n_padded), dtype=dtype)
        self.slot = np.zeros(n_terms, dtype=np.intp)  # term -> column of the block's query table


class BlockedTopK:
    """The item side, prepared once: postings of tail terms, dense head part, head-norm order."""

    def __init__(
        self,
        items: sp.csr_matrix,
        *,
        head_df_fraction: float = 1 / 10,
        head_min_df: int = 256,
        chunk: int = CHUNK,
    ) -> None:
        self.chunk = chunk
        items = sp.csr_matrix(items, dtype=np.float64)
        if not items.has_canonical_format:
            items = items.copy()
            items.sum_duplicates()
        self.items = items  # the original rows, for the exact scores of candidates
        self.n_items, self.n_terms = items.shape
        df = np.bincount(items.indices, minlength=self.n_terms)
        non_negative = items.nnz == 0 or items.data.min() >= 0
        self.is_head = (df > max(head_df_fraction * self.n_items, head_min_df)) & non_negative
        head_columns = np.flatnonzero(self.is_head)
        head = items[:, head_columns].toarray()
        # Internal item order: by head norm, descending, so chunk bounds are tight.
        self.order = np.argsort(-np.linalg.norm(head, axis=1), kind="stable")
        self.position = np.empty_like(self.order)
        self.position[self.order] = np.arange(self.n_items)
        self.head = np.ascontiguousarray(head[self.order])
        self.head_sparse = sp.csr_matrix(self.head)
        self.head_norm = np.linalg.norm(self.head, axis=1)
        self.head_columns = head_columns
        self.n_padded = -(-max(self.n_items, 1) // chunk) * chunk
        padded = np.zeros(self.n_padded)
        padded[: self.n_items] = self.head_norm
        self.chunk_head_norms = padded.reshape(-1, chunk)  # the items' head norms, chunk by chunk
        self.chunk_head_norm = self.chunk_head_norms.max(axis=1)
        self.chunk_starts = np.arange(0, self.n_padded, chunk)
        tail = items[self.order]
        tail.data[self.is_head[tail.indices]] = 0.0
        tail.eliminate_zeros()
        # Padding items: empty rows (what an in-place resize does, which scipy-stubs do not allow).
        padding = np.full(self.n_padded - self.n_items, tail.indptr[-1], dtype=tail.indptr.dtype)
        indptr = np.concatenate([tail.indptr, padding])
        tail = sp.csr_matrix((tail.data, tail.indices, indptr), shape=(self.n_padded, self.n_terms))
        # float32 tail scores (half the memory traffic) when their rounding has a relative bound:
        # non-negative values, none so small that a product could leave float32's normal range.
        low, high = (tail.data.min(), tail.data.max()) if tail.nnz else (1.0, 1.0)
        self.dtype = np.float32 if non_negative and low >= TINY and high <= HUGE else np.float64
        self.low, self.high = float(low), float(high)
        columns = tail.tocsc()  # per term: its posting list (internal item, value)
        columns.data = columns.data.astype(self.dtype)
        columns.indices = columns.indices.astype(columns.indptr.dtype)
        self.tail_columns = columns

    def workspace(self, n_queries: int) -> Workspace:
        """Scratch space for `top_k` on up to n_queries rows, to pass to every call."""
        return Workspace(n_queries, self.n_padded, self.n_terms, self.dtype)

    def top_k(
        self,
        queries: sp.csr_matrix,
        k: int,
        excluded: tuple[np.ndarray, np.ndarray] | None = None,
        workspace: Workspace | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k items for each query row: (original item indices, scores), -1 / 0 where fewer.

        `excluded` is (query row, original item index) pairs that must not be returned.
        Only items with a positive score are returned.
        """
        queries = sp.csr_matrix(queries, dtype=np.float64)
        if not queries.has_canonical_format:
            queries = queries.copy()
            queries.sum_duplicates()
        n_queries = queries.shape[0]
        if self.n_items == 0:
            return np.full((n_queries, k), -1, dtype=np.int64), np.zeros((n_queries, k))
        if workspace is None or workspace.n_queries < n_queries:
            workspace = self.workspace(n_queries)
        tail, chunk_max = self._tail_scores(queries, workspace.scores[:n_queries])
        spread = self._rounding(queries)
        excluded_rows, excluded_items = (
            (excluded[0], self.position[excluded[1]])
            if excluded is not None
            else (np.zeros(0, np.int64),) * 2
        )
        if excluded_rows.size:
            rows, items = excluded_rows, excluded_items
            tail[rows, items] = -np.inf
            touched = np.zeros(chunk_max.shape, dtype=bool)
            touched[rows, items // self.chunk] = True
            rows, chunks = np.nonzero(touched)
            chunk_max[rows, chunks] = tail.reshape(n_queries, -1, self.chunk)[rows, chunks].max(axis=1)
        query_head = queries[:, self.head_columns].toarray()
        # The bounds need non-negative head weights and a bounded rounding of the tail scores:
        # other queries are scored in full, in float64.
        full = (query_head < 0).any(axis=1) | ~np.isfinite(spread)
        rows, columns = self._candidates(tail, chunk_max, query_head, spread, ~full, k)
        scores = self._rescore(queries, rows, columns, workspace.slot)
        exact = self._full_candidates(queries, np.flatnonzero(full), excluded_rows, excluded_items, k)
        rows, columns, scores = (np.concatenate(p) for p in zip((rows, columns, scores), exact, strict=True))
        return self._select(rows, columns, scores, n_queries, k)

    def _tail_scores(self, queries: sp.csr_matrix, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tail-term scores (B × n_padded, padding -inf) and their maximum per chunk.

        One query at a time: the posting lists of its tail terms times its term weights, a
        scatter-add into n floats that stay in cache (a whole block's accumulator would not);
        its chunk maxima are taken while they are still there. In float32 they are off by at
        most the relative amount `_rounding` gives.
        """
        chunk_max = np.empty((queries.shape[0], self.n_padded // self.chunk), dtype=self.dtype)
        if _csc_matvec is None:
            return self._tail_scores_sliced(queries, scores, chunk_max)
        ranges, weights, starts, counts = self._posting_ranges(queries)
        postings, values = self.tail_columns.indices, self.tail_columns.data
        for row, (start, count) in enumerate(zip(starts.tolist(), counts.tolist(), strict=True)):
            out = scores[row]
            out[: self.n_items] = 0.0
            if count:  # 2m - 1 "columns": m posting lists and the m - 1 empty gaps between them
                ranges_row = ranges[2 * start : 2 * (start + count)]
                weights_row = weights[2 * start : 2 * (start + count) - 1]
                _csc_matvec(self.n_padded, 2 * count - 1, ranges_row, postings, values, weights_row, out)
            out[self.n_items :] = -np.inf
            np.maximum.reduceat(out, self.chunk_starts, out=chunk_max[row])
        return scores, chunk_max

    def _tail_scores_sliced(
        self, queries: sp.csr_matrix, scores: np.ndarray, chunk_max: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The same through scipy's public API, which copies the posting lists first."""
        for row in range(queries.shape[0]):
            start, stop = queries.indptr[row], queries.indptr[row + 1]
            terms, weights = queries.indices[start:stop], queries.data[start:stop]
            tail = ~self.is_head[terms]
            scores[row] = self.tail_columns[:, terms[tail]] @ weights[tail].astype(self.dtype)
            scores[row, self.n_items :] = -np.inf
            np.maximum.reduceat(scores[row], self.chunk_starts, out=chunk_max[row])
        return scores, chunk_max

    def _posting_ranges(
        self, queries: sp.csr_matrix
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Arguments for scipy's CSC kernel, which then reads the posting lists where they are.

        `csc_matvec` adds column j's entries (positions indptr[j] to indptr[j + 1] of the posting
        arrays) times x[j]. Given the "indptr" s_1, e_1, s_2, e_2, … (start and end of each of a
        query's terms) and x = w_1, 0, w_2, 0, …, column 2i - 1 is term i's posting list and
        column 2i the gap e_i … s_(i+1), which is empty when the terms come in descending order
        (s_(i+1) < e_(i+1) <= s_i <= e_i): the scatter-add of the query's posting lists, with no
        copy of them. Returns those ranges and weights for the whole block, and per query where
        its terms start in them and how many there are (in terms: twice that in the arrays).
        """
        rows = np.repeat(np.arange(queries.shape[0]), np.diff(queries.indptr))
        tail = ~self.is_head[queries.indices]
        # Reversed, the block's rows come last to first, each with its terms in descending order.
        terms, weights, rows = queries.indices[tail][::-1], queries.data[tail][::-1], rows[tail][::-1]
        counts = np.bincount(rows, minlength=queries.shape[0])
        starts = terms.size - np.cumsum(counts)
        indptr = self.tail_columns.indptr
        ranges = np.empty(2 * terms.size, dtype=indptr.dtype)
        ranges[0::2], ranges[1::2] = indptr[terms], indptr[terms + 1]
        spread = np.zeros(2 * terms.size, dtype=self.dtype)
        spread[0::2] = weights
        return ranges, spread, starts, counts

    def _rounding(self, queries: sp.csr_matrix) -> np.ndarray:
        """Per query, ρ such that the exact tail score t of each item is within t̃ (1 ± ρ) of the
        computed t̃; inf where no such bound is known (the query is then scored in full).

        float64 tail scores count as exact (ρ = 0): their rounding is what SLACK allows for. In
        float32 with m tail terms, each item's score is a sum of at most m products of rounded
        non-negative numbers: each product carries at most 3 roundings (the two conversions, the
        product), the sum m - 1 more, so t̃ = Σ w x (1 + θ) with |θ| ≤ γ_(m+2) = (m + 2) u /
        (1 - (m + 2) u), u = 2^-24 (Higham, Accuracy and Stability of Numerical Algorithms, §3.1).
        Then t ≤ t̃ / (1 - γ) and t ≥ t̃ / (1 + γ); ρ = 2 (m + 3) u covers both while m u ≤ 1/8.
        That needs non-negative weights and products in float32's normal range (no underflow,
        no overflow); a query outside that gets inf.
        """
        n_queries = queries.shape[0]
        if self.dtype == np.float64:
            return np.zeros(n_queries)
        rows = np.repeat(np.arange(n_queries), np.diff(queries.indptr))
        tail = ~self.is_head[queries.indices] & (queries.data != 0)
        rows, weights = rows[tail], queries.data[tail]
        counts = np.bincount(rows, minlength=n_queries)
        low = np.full(n_queries, np.inf)
        np.minimum.at(low, rows, weights)
        high = np.zeros(n_queries)
        np.maximum.at(high, rows, np.abs(weights))
        safe = (low >= TINY) & (low * self.low >= TINY) & (high <= HUGE) & (counts <= MAX_TERMS32)
        safe &= high * self.high * np.maximum(counts, 1) <= HUGE
        return np.where(safe, 2.0 * (counts + 3) * 2.0**-24, np.inf)

    def _candidates(
        self,
        tail: np.ndarray,
        chunk_max: np.ndarray,
        query_head: np.ndarray,
        spread: np.ndarray,
        bounded: np.ndarray,
        k: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(query row, internal item) for every item that may be in its row's top-k (rows where
        `bounded` is set; the others have none)."""
        if not bounded.any():
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        spread = np.where(bounded, spread, 0.0)
        query_head_norm = np.linalg.norm(query_head, axis=1)
        threshold = self._threshold(tail, chunk_max, query_head, spread, k)
        bound = chunk_max * (1 + spread[:, None]) + query_head_norm[:, None] * self.chunk_head_norm[None, :]
        live = (bound >= threshold[:, None] - SLACK) & (bound > 0)
        live[~bounded] = False
        dense = live.sum(axis=1) * self.chunk > DENSE_FALLBACK_SHARE * self.n_items
        live[dense] = False
        pruned = self._pruned_candidates(tail, live, query_head_norm, spread, threshold)
        whole = self._dense_candidates(tail, np.flatnonzero(dense), query_head, spread, k)
        return np.concatenate([pruned[0], whole[0]]), np.concatenate([pruned[1], whole[1]])

    def _threshold(
        self, tail: np.ndarray, chunk_max: np.ndarray, query_head: np.ndarray, spread: np.ndarray, k: int
    ) -> np.ndarray:
        """A lower bound of each row's k-th best exact score (0 when it cannot be told).

        The best item of each of the 2k chunks with the highest tail maxima gets a lower bound of
        its exact score (tail rounded down, exact head part); these are distinct real items, so
        the k-th best of those bounds is one, and a much higher one than the tail scores alone.
        """
        n_queries, n_chunks = chunk_max.shape
        if n_chunks < k:
            return np.zeros(n_queries)
        m = min(2 * k, n_chunks)
        top = np.argpartition(-chunk_max, m - 1, axis=1)[:, :m]
        rows = np.repeat(np.arange(n_queries), m)
        blocks = tail.reshape(n_queries, -1, self.chunk)[rows, top.ravel()]
        best = np.argmax(blocks, axis=1)
        values = blocks[np.arange(best.size), best] * (1 - spread[rows])
        columns = np.minimum(top.ravel() * self.chunk + best, self.n_items - 1)
        lower = (values + np.einsum("ij,ij->i", query_head[rows], self.head[columns])).reshape(n_queries, m)
        kth = np.partition(lower, m - k, axis=1)[:, m - k]
        return np.maximum(kth, 0.0)

    def _pruned_candidates(
        self,
        tail: np.ndarray,
        live: np.ndarray,
        query_head_norm: np.ndarray,
        spread: np.ndarray,
        threshold: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """In the live chunks, the items whose own bound reaches their row's threshold."""
        rows, chunks = np.nonzero(live)
        values = tail.reshape(tail.shape[0], -1, self.chunk)[rows, chunks]  # (live chunks) × chunk
        bound = (
            values * (1 + spread[rows, None]) + query_head_norm[rows, None] * self.chunk_head_norms[chunks]
        )
        # bound >= threshold - SLACK and bound > 0 in one comparison; padding is -inf, never kept
        cut = np.maximum(threshold[rows] - SLACK, np.finfo(np.float64).smallest_subnormal)
        which, offset = np.nonzero(bound >= cut[:, None])
        return rows[which], chunks[which] * self.chunk + offset

    def _dense_candidates(
        self, tail: np.ndarray, rows: np.ndarray, query_head: np.ndarray, spread: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Candidates of rows the chunk bounds cannot prune: bounds of every item's score."""
        if rows.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        # Sparse times dense (scipy's own loop), not BLAS: on a busy machine a multi-threaded BLAS
        # call this small can be ten times slower than the single-threaded sparse product.
        head = (self.head_sparse @ query_head[rows].T).T
        values = tail[rows, : self.n_items]
        lower = values * (1 - spread[rows, None]) + head
        upper = values * (1 + spread[rows, None]) + head
        keep = min(k, self.n_items)
        kth = -np.partition(-lower, keep - 1, axis=1)[:, keep - 1]
        threshold = np.maximum(kth, 0.0)
        chosen, columns = np.nonzero((upper >= threshold[:, None] - SLACK) & (upper > 0))
        return rows[chosen], columns

    def _full_candidates(
        self,
        queries: sp.csr_matrix,
        rows: np.ndarray,
        excluded_rows: np.ndarray,
        excluded_items: np.ndarray,
        k: int,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query row, internal item, exact score) of the k best of every item, ties included,
        for rows without bounds (negative weights, say): their scores in full, in float64."""
        if rows.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        exact = np.asarray(self.items @ queries[rows].toarray().T).T[:, self.order]  # internal order
        where = np.full(queries.shape[0], -1)
        where[rows] = np.arange(rows.size)
        hit = where[excluded_rows] >= 0
        exact[where[excluded_rows[hit]], excluded_items[hit]] = -np.inf
        keep = min(k, self.n_items)
        kth = -np.partition(-exact, keep - 1, axis=1)[:, keep - 1]
        chosen, columns = np.nonzero((exact >= kth[:, None]) & (exact > 0))
        return rows[chosen], columns, exact[chosen, columns]

    def _rescore(
        self, queries: sp.csr_matrix, rows: np.ndarray, columns: np.ndarray, slot: np.ndarray
    ) -> np.ndarray:
        """Exact float64 scores of (query row, internal item) pairs: each item's row of the item
        matrix against a small dense table of the block's queries (row × entry of the block)."""
        if rows.size == 0:
            return np.zeros(0)
        width = queries.nnz + 1  # column 0: zeros, for the terms a query lacks
        slot[queries.indices] = np.arange(1, width)  # a term in several rows: one column for all
        try:
            table = np.zeros(queries.shape[0] * width)
            first = np.arange(queries.shape[0]) * width
            table[np.repeat(first, np.diff(queries.indptr)) + slot[queries.indices]] = queries.data
            items = self.order[columns].astype(self.items.indices.dtype)
            starts = self.items.indptr[items]
            lengths = self.items.indptr[items + 1] - starts
            terms, values = self._item_rows(items, int(lengths.sum()))
            products = values * table[np.repeat(first[rows], lengths) + slot[terms]]
            return np.bincount(
                np.repeat(np.arange(rows.size), lengths), weights=products, minlength=rows.size
            )
        finally:
            slot[queries.indices] = 0

    def _item_rows(self, items: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray]:
        """The terms and values of these rows of the item matrix, one after the other."""
        if _csr_row_index is None:
            rows = self.items[items]
            return rows.indices, rows.data
        terms, values = np.empty(total, dtype=self.items.indices.dtype), np.empty(total)
        _csr_row_index(
            items.size, items, self.items.indptr, self.items.indices, self.items.data, terms, values
        )
        return terms, values

    def _select(
        self, rows: np.ndarray, columns: np.ndarray, scores: np.ndarray, n_queries: int, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per row, the k best positive scores; ties broken by the smaller original index."""
        positive = scores > 0
        rows, items, scores = rows[positive], self.order[columns[positive]], scores[positive]
        ordered = np.lexsort((items, -scores, rows))
        rows, items, scores = rows[ordered], items[ordered], scores[ordered]
        first = np.searchsorted(rows, np.arange(n_queries))
        rank = np.arange(rows.size) - first[rows]
        within = rank < k
        indices = np.full((n_queries, k), -1, dtype=np.int64)
        values = np.zeros((n_queries, k))
        indices[rows[within], rank[within]] = items[within]
        values[rows[within], rank[within]] = scores[within]
        return indices, values
