"""Exact top-k by dot product over non-negative unit rows, in blocks, without the n × n matrix.

On profile data almost every pair of rows shares some common word, so `Q @ X.T` is nearly dense
(10^10 pairs at 100k profiles) and the work is in producing scores and picking the best of them,
not in skipping zeros. What this does instead, per block of queries:

1. Tail scores, one query at a time: the posting lists of its terms (the columns of the item
   matrix) times its term weights, a scatter-add that scipy runs in C into n floats; an
   accumulator that small stays in cache, a whole block's would not.
2. The terms in more than max(head_df_fraction · n, head_min_df) items ("head" terms, the common
   ones) are left out of step 1: their contribution to a pair is bounded by Cauchy–Schwarz,
   head(i, j) ≤ ‖q_i,head‖ · ‖x_j,head‖, and is ≥ 0 because TF-IDF is non-negative.
3. Items are stored sorted by head norm and cut into chunks of `chunk` items. Per query: the best
   item of each of the 2k chunks with the highest tail maxima is scored exactly; their k-th best
   score θ is a lower bound of the k-th best overall. A chunk whose tail maximum plus its largest
   head bound is below θ cannot hold a top-k item and is skipped whole; in the others, items whose
   own bound reaches θ get their exact score (tail + head part from a small dense matrix).
   A query whose bounds prune too little (say, a profile made only of common words) is scored
   exactly in full instead.

The result is exact, the same top-k as brute force (ties broken by the smaller index), and the
memory is the item matrix plus one block × n scratch array. With negative entries the bounds do
not hold: negative items make every term a tail term, a negative query is scored in full.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

CHUNK = 256  # items per bound
SLACK = 1e-9  # rounding allowance in the bound comparisons (scores are O(1))
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
        self.chunk_head_norm = padded.reshape(-1, chunk).max(axis=1)
        tail = items[self.order]
        tail.data[self.is_head[tail.indices]] = 0.0
        tail.eliminate_zeros()
        tail.resize((self.n_padded, self.n_terms))  # padding items: empty rows
        self.tail_columns = tail.tocsc()  # per term: its posting list (internal item, value)

    def workspace(self, n_queries: int) -> np.ndarray:
        """Scratch space for `top_k` on up to n_queries rows; reusing it across blocks saves the
        operating system from handing out (and zeroing) fresh pages for every block."""
        return np.empty((n_queries, self.n_padded))

    def top_k(
        self,
        queries: sp.csr_matrix,
        k: int,
        excluded: tuple[np.ndarray, np.ndarray] | None = None,
        workspace: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k items for each query row: (original item indices, scores), -1 / 0 where fewer.

        `excluded` is (query row, original item index) pairs that must not be returned.
        Only items with a positive score are returned.
        """
        queries = sp.csr_matrix(queries, dtype=np.float64)
        if self.n_items == 0:
            return np.full((queries.shape[0], k), -1, dtype=np.int64), np.zeros((queries.shape[0], k))
        if workspace is None or workspace.shape[0] < queries.shape[0]:
            workspace = self.workspace(queries.shape[0])
        tail, chunk_max = self._tail_scores(queries, workspace[: queries.shape[0]])
        if excluded is not None and excluded[0].size:
            rows, items = excluded[0], self.position[excluded[1]]
            tail[rows, items] = -np.inf
            touched = np.zeros(chunk_max.shape, dtype=bool)
            touched[rows, items // self.chunk] = True
            rows, chunks = np.nonzero(touched)
            chunk_max[rows, chunks] = tail.reshape(tail.shape[0], -1, self.chunk)[rows, chunks].max(axis=1)
        query_head = queries[:, self.head_columns].toarray()
        if (query_head < 0).any():  # the bounds need non-negative weights: score in full
            rows, columns, scores = self._dense_candidates(tail, np.arange(queries.shape[0]), query_head, k)
        else:
            rows, columns, scores = self._candidates(tail, chunk_max, query_head, k)
        return self._select(rows, columns, scores, queries.shape[0], k)

    def _tail_scores(self, queries: sp.csr_matrix, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact tail-term scores (B × n_padded, padding -inf) and their maximum per chunk.

        One query at a time: the columns of its terms times its term weights, a scatter-add of
        their posting lists that scipy runs in C into n floats, small enough to stay in cache (a
        whole block's accumulator would not); its chunk maxima are taken while it is still there.
        """
        chunk_max = np.empty((queries.shape[0], self.n_padded // self.chunk))
        for row in range(queries.shape[0]):  # the queries of one block
            start, stop = queries.indptr[row], queries.indptr[row + 1]
            terms, weights = queries.indices[start:stop], queries.data[start:stop]
            tail = ~self.is_head[terms]
            scores[row] = self.tail_columns[:, terms[tail]] @ weights[tail]
            scores[row, self.n_items :] = -np.inf
            np.max(scores[row].reshape(-1, self.chunk), axis=1, out=chunk_max[row])
        return scores, chunk_max

    def _candidates(
        self, tail: np.ndarray, chunk_max: np.ndarray, query_head: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query row, internal item, exact score) for every item that may be in its row's top-k."""
        query_head_norm = np.linalg.norm(query_head, axis=1)
        threshold = self._threshold(tail, chunk_max, query_head, k)
        bound = chunk_max + query_head_norm[:, None] * self.chunk_head_norm[None, :]
        live = (bound >= threshold[:, None] - SLACK) & (bound > 0)
        dense = live.sum(axis=1) * self.chunk > DENSE_FALLBACK_SHARE * self.n_items
        live[dense] = False
        pruned = self._pruned_candidates(tail, live, query_head, query_head_norm, threshold)
        exact = self._dense_candidates(tail, np.flatnonzero(dense), query_head, k)
        return tuple(np.concatenate(parts) for parts in zip(pruned, exact, strict=True))  # type: ignore[return-value]

    def _threshold(
        self, tail: np.ndarray, chunk_max: np.ndarray, query_head: np.ndarray, k: int
    ) -> np.ndarray:
        """A lower bound of each row's k-th best exact score (0 when it cannot be told).

        The best item of each of the 2k chunks with the highest tail maxima is scored exactly;
        these are distinct real items, so their k-th best exact score is such a bound, and a
        much higher one than the tail scores alone give.
        """
        n_queries, n_chunks = chunk_max.shape
        if n_chunks < k:
            return np.zeros(n_queries)
        m = min(2 * k, n_chunks)
        top = np.argpartition(-chunk_max, m - 1, axis=1)[:, :m]
        rows = np.repeat(np.arange(n_queries), m)
        blocks = tail.reshape(n_queries, -1, self.chunk)[rows, top.ravel()]
        best = np.argmax(blocks, axis=1)
        values = blocks[np.arange(best.size), best]
        columns = np.minimum(top.ravel() * self.chunk + best, self.n_items - 1)
        exact = (values + np.einsum("ij,ij->i", query_head[rows], self.head[columns])).reshape(n_queries, m)
        kth = np.partition(exact, m - k, axis=1)[:, m - k]
        return np.maximum(kth, 0.0)

    def _pruned_candidates(
        self,
        tail: np.ndarray,
        live: np.ndarray,
        query_head: np.ndarray,
        query_head_norm: np.ndarray,
        threshold: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows, chunks = np.nonzero(live)
        values = tail.reshape(tail.shape[0], -1, self.chunk)[rows, chunks]  # (live chunks) × chunk
        columns = chunks[:, None] * self.chunk + np.arange(self.chunk)
        columns = np.minimum(columns, self.n_items - 1)  # padding: value is -inf, any index will do
        bound = values + query_head_norm[rows, None] * self.head_norm[columns]
        keep = (bound >= threshold[rows, None] - SLACK) & (values > -np.inf)
        rows = np.broadcast_to(rows[:, None], keep.shape)[keep]
        columns, values = columns[keep], values[keep]
        exact = values + np.einsum("ij,ij->i", query_head[rows], self.head[columns])
        return rows, columns, exact

    def _dense_candidates(
        self, tail: np.ndarray, rows: np.ndarray, query_head: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact scores of whole rows (for queries the bound cannot prune), reduced to k each."""
        if rows.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        # Sparse times dense (scipy's own loop), not BLAS: on a busy machine a multi-threaded BLAS
        # call this small can be ten times slower than the single-threaded sparse product.
        exact = tail[rows, : self.n_items] + (self.head_sparse @ query_head[rows].T).T
        keep = min(k, self.n_items)
        best = np.argpartition(-exact, keep - 1, axis=1)[:, :keep]
        return np.repeat(rows, keep), best.ravel(), np.take_along_axis(exact, best, axis=1).ravel()

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
